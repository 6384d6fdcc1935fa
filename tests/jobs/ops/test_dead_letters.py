"""Dead letters: listed with their reason, replayed once; image-owning jobs retried via the state machine."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jobs.contract.constants import Queue
from jobs.contract.payloads import PublishJob, UploadJob
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.queue import JobQueue, redis_broker
from jobs.services.admin.dead_letters import Replayer, list_dead
from jobs.services.admin.keys import dead_key, dead_messages_key, messages_key, queue_key
from tests.support.dead_letters import kill
from tests.support.records import Env

TRACEBACK = (
    "Traceback (most recent call last):\n  ...\njobs.contract.errors.StorageUnavailable: storage is down"
)


async def ready_payloads(env: Env, queue: Queue) -> list[dict[str, Any]]:
    ids = await env.redis.lrange(queue_key(queue), 0, -1)
    bodies = [await env.redis.hget(messages_key(queue), i) for i in ids]
    return [json.loads(b) for b in bodies if b is not None]


async def test_list_shows_the_job_image_and_last_error(env: Env, settings: Settings) -> None:
    broker = redis_broker(settings)
    job = UploadJob(image_id="image_" + "a" * 24, account="acme", job_id="j1")
    kill(broker, job, retries=5, traceback=TRACEBACK)
    broker.close()

    (dead,) = await list_dead(env.redis, Queue.UPLOAD)
    assert (dead.actor, dead.image_id, dead.account, dead.retries) == ("upload", job.image_id, "acme", 5)
    assert dead.reason == "jobs.contract.errors.StorageUnavailable: storage is down"
    assert await list_dead(env.redis, Queue.TRANSFORM) == []


async def test_failed_upload_is_retried_under_a_new_job_id(env: Env, settings: Settings) -> None:
    broker = redis_broker(settings)

    record = await env.add(Status.FAILED, job={"job_id": "old", "kind": "upload"})
    job = UploadJob(image_id=record.id, account="acme", job_id="old", callback_url="https://example.com/h")
    kill(broker, job, retries=5)
    report = await Replayer(settings, env.redis, env.storage, JobQueue(broker)).requeue([Queue.UPLOAD])
    assert report.as_dict() == {"requeued": {"upload": 1}, "dropped": {}, "errors": []}

    after = await env.store.load(record.id)
    assert after.status == Status.PROCESSING and after.image.error is None
    assert after.job_id not in (None, "old") and after.deadline is not None
    (sent,) = await ready_payloads(env, Queue.UPLOAD)
    assert sent["args"][0]["job_id"] == after.job_id  # the new owner is what runs
    assert sent["args"][0]["callback_url"] == "https://example.com/h"
    assert "retries" not in sent["options"]  # a fresh retry budget
    assert await env.redis.zcard(dead_key(Queue.UPLOAD)) == 0
    assert await env.redis.hlen(dead_messages_key(Queue.UPLOAD)) == 0
    broker.close()


async def test_newer_state_wins_and_unrecorded_give_ups_are_resent(env: Env, settings: Settings) -> None:
    broker = redis_broker(settings)

    ready = await env.add(Status.READY)
    kill(broker, UploadJob(image_id=ready.id, account="acme", job_id="stale"))
    stuck = await env.add(Status.PROCESSING, job={"job_id": "mine", "kind": "upload"})
    kill(broker, UploadJob(image_id=stuck.id, account="acme", job_id="mine"))
    kill(broker, UploadJob(image_id="image_" + "b" * 24, account="acme", job_id="gone"))

    report = await Replayer(settings, env.redis, env.storage, JobQueue(broker)).requeue([Queue.UPLOAD])
    assert (report.requeued, report.dropped) == ({"upload": 1}, {"upload": 2})
    assert (await env.store.load(ready.id)).status == Status.READY  # never moved backwards
    (sent,) = await ready_payloads(env, Queue.UPLOAD)
    assert (sent["args"][0]["image_id"], sent["args"][0]["job_id"]) == (stuck.id, "mine")
    broker.close()


async def test_other_jobs_are_sent_again_as_they_were(env: Env, settings: Settings) -> None:
    broker = redis_broker(settings)
    job = PublishJob(image_id="image_" + "c" * 24, account="globex", job_id="p1")
    kill(broker, job, retries=3, traceback=TRACEBACK)

    report = await Replayer(settings, env.redis, env.storage, JobQueue(broker)).requeue(list(Queue))
    assert report.total_requeued == 1 and report.requeued == {"publish": 1}
    (sent,) = await ready_payloads(env, Queue.PUBLISH)
    assert sent["actor_name"] == "publish" and sent["queue_name"] == Queue.PUBLISH.value
    assert sent["args"] == [job.to_message_args()]
    assert "retries" not in sent["options"] and "traceback" not in sent["options"]
    broker.close()


async def test_concurrent_replays_send_each_dead_letter_once(env: Env, settings: Settings) -> None:
    broker = redis_broker(settings)
    for n in range(6):
        kill(broker, PublishJob(image_id="image_" + "d" * 24, account="acme", job_id=f"p{n}"))

    replayers = [Replayer(settings, env.redis, env.storage, JobQueue(broker)) for _ in range(3)]
    reports = await asyncio.gather(*(r.requeue([Queue.PUBLISH]) for r in replayers))
    assert sum(r.total_requeued for r in reports) == 6
    sent = await ready_payloads(env, Queue.PUBLISH)
    assert sorted(m["args"][0]["job_id"] for m in sent) == [f"p{n}" for n in range(6)]
    broker.close()
