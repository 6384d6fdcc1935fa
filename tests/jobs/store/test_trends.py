"""Per-queue, per-minute job trends in Redis: counts, p50/p95 from the duration buckets, the
60-minute window, keys that expire, and the worker middleware that records them."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import redis
from redis.asyncio import Redis

from jobs.contract.constants import Queue
from jobs.plumbing.store.trends import BOUNDS_S, KEEP_S, record_job, stats_key
from jobs.services.admin.trends import WINDOW_MINUTES, read_trends
from tests.support.servers import free_port
from worker.middleware.trends import Trends

NOW_S = 1_800_000_000.0  # a fixed instant: the minutes under test never straddle a real boundary
NOW_MIN = int(NOW_S // 60)


async def test_counts_and_percentiles_come_from_known_durations(redis_url: str) -> None:
    sync = redis.Redis.from_url(redis_url)
    for i in range(1, 101):  # 10 ms .. 1 s: the true p50 is 0.5 s, the true p95 0.95 s
        record_job(sync, Queue.UPLOAD.value, NOW_S, "done", i / 100)
    for _ in range(3):
        record_job(sync, Queue.UPLOAD.value, NOW_S - 120, "failed", 0.05)
    record_job(sync, Queue.TRANSFORM.value, NOW_S, "done", 30.0)
    sync.close()

    client = Redis.from_url(redis_url)
    trends = await read_trends(client, NOW_S)
    await client.aclose()
    upload = next(t for t in trends.queues if t.queue == Queue.UPLOAD.value)
    assert len(upload.minutes) == WINDOW_MINUTES and upload.minutes[-1].minute == NOW_MIN
    assert (upload.done, upload.failed) == (100, 3)
    assert (upload.minutes[-1].done, upload.minutes[-1].failed) == (100, 0)
    assert (upload.minutes[-3].done, upload.minutes[-3].failed) == (0, 3)
    p50, p95 = upload.minutes[-1].quantile(0.5), upload.minutes[-1].quantile(0.95)
    assert p50 is not None and p95 is not None
    # buckets are 1.36x apart: an estimate is within one bucket of the truth
    assert 0.5 / 1.36 <= p50 <= 0.5 * 1.36 and 0.95 / 1.36 <= p95 <= 0.95 * 1.36
    assert upload.minutes[0].quantile(0.5) is None  # no job that minute
    transform = next(t for t in trends.queues if t.queue == Queue.TRANSFORM.value)
    assert transform.done == 1 and 30 / 1.36 <= (transform.hour_quantile(0.5) or 0) <= 30 * 1.36
    assert {t.queue for t in trends.queues} == {q.value for q in Queue}
    body = trends.as_dict()
    assert body["window_minutes"] == 60 and isinstance(body["queues"], list)


async def test_the_window_is_the_last_sixty_minutes_and_keys_expire(redis_url: str) -> None:
    sync = redis.Redis.from_url(redis_url)
    record_job(sync, Queue.PUBLISH.value, NOW_S - 60 * 60, "done", 0.1)  # 60 minutes ago: outside
    record_job(sync, Queue.PUBLISH.value, NOW_S - 59 * 60, "done", 0.1)  # 59 minutes ago: inside
    ttl = sync.ttl(stats_key(Queue.PUBLISH.value, NOW_MIN - 59))
    fields = sync.hkeys(stats_key(Queue.PUBLISH.value, NOW_MIN - 59))
    sync.close()
    assert 0 < ttl <= KEEP_S  # memory is bounded: every minute's hash goes away on its own
    assert len(fields) <= 2 + len(BOUNDS_S) + 1

    client = Redis.from_url(redis_url)
    trends = await read_trends(client, NOW_S)
    await client.aclose()
    publish = next(t for t in trends.queues if t.queue == Queue.PUBLISH.value)
    assert publish.done == 1 and publish.minutes[0].done == 1


def message(queue: str, **attrs: Any) -> Any:
    return SimpleNamespace(message_id="m1", queue_name=queue, failed=False, **attrs)


async def test_the_middleware_counts_finished_jobs_not_retries(redis_url: str) -> None:
    sync = redis.Redis.from_url(redis_url)
    broker = SimpleNamespace(client=sync)
    trends = Trends()
    for outcome in ("ok", "retry", "failed", "skipped"):
        msg = message(f"{Queue.UPLOAD.value}.DQ")  # a delayed message counts on its canonical queue
        trends.before_process_message(broker, msg)
        if outcome == "ok":
            trends.after_process_message(broker, msg)
        elif outcome == "skipped":
            trends.after_skip_message(broker, msg)
        else:
            msg.failed = outcome == "failed"
            trends.after_process_message(broker, msg, exception=RuntimeError("boom"))
    stored: dict[str, int] = {}
    now_min = int(time.time() // 60)
    for minute in (now_min - 1, now_min):  # the jobs may have straddled a minute boundary
        for k, v in sync.hgetall(stats_key(Queue.UPLOAD.value, minute)).items():
            stored[k.decode()] = stored.get(k.decode(), 0) + int(v)
    sync.close()
    # the retry was not counted; the given-up and the skipped message were failures
    assert stored.get("done") == 1 and stored.get("failed") == 2
    assert sum(v for k, v in stored.items() if k.startswith("d:")) == 3


def test_a_redis_outage_never_fails_the_job() -> None:
    down = redis.Redis(port=free_port(), socket_connect_timeout=0.5)
    broker = SimpleNamespace(client=down)
    trends = Trends()
    msg = message(Queue.UPLOAD.value)
    trends.before_process_message(broker, msg)
    trends.after_process_message(broker, msg)  # must not raise
    down.close()
