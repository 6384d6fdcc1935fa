"""Every Redis error is translated at the edge, by one function, for the store and the queue alike.

A Redis failover makes the old primary a replica: writes answer ``READONLY``. Here a private
``redis-server`` is turned into a replica of a port nobody listens on (it keeps its data and
serves reads, but refuses every write), which is exactly that reply, from a real server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from redis.asyncio import Redis as AsyncRedis

from jobs.api import create_app
from jobs.contract.errors import BrokerUnavailable, Internal
from jobs.contract.ids import new_image_id, new_token
from jobs.contract.payloads import UploadJob
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.queue import JobQueue, redis_broker
from jobs.plumbing.store import ImageStore
from jobs.plumbing.store.errors import redis_errors, translate_redis_error
from tests.support.servers import RedisServer, free_port, start_redis_server

K1 = {"x-api-key": "k1"}  # account acme


@pytest.fixture(scope="module")
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of this module's own: the tests demote it to a replica."""
    server = start_redis_server()
    yield server
    server.stop()


@pytest.fixture
def replica_switch(private_redis: RedisServer) -> Iterator[Callable[[], None]]:
    """Empty primary now; calling the result makes it a read-only replica (undone afterwards)."""
    client = redis.Redis.from_url(private_redis.url)
    client.replicaof("NO", "ONE")
    client.flushall()

    def demote() -> None:
        client.replicaof("127.0.0.1", free_port())  # a dead primary: the link never comes up
        with pytest.raises(redis.exceptions.ReadOnlyError):
            client.set("darkroom:probe", 1)

    yield demote
    client.replicaof("NO", "ONE")
    client.close()


def job() -> UploadJob:
    return UploadJob(image_id=new_image_id(), account="acme", job_id=new_token())


# --- the translation itself, on real server replies --------------------------------------------------


def test_readonly_wrongtype_and_connection_errors_translate(
    private_redis: RedisServer, replica_switch: Callable[[], None]
) -> None:
    client = redis.Redis.from_url(private_redis.url)
    client.rpush("a-list", 1)
    with pytest.raises(Internal), redis_errors():  # a bug, not an outage: permanent
        client.get("a-list")  # WRONGTYPE
    replica_switch()
    with pytest.raises(BrokerUnavailable) as caught, redis_errors():
        client.set("x", 1)
    assert caught.value.transient and caught.value.status == 503
    dead = redis.Redis(port=free_port(), socket_connect_timeout=1)
    with pytest.raises(BrokerUnavailable), redis_errors():
        dead.ping()
    client.close()


@pytest.mark.parametrize(
    "reply",
    [
        "READONLY You can't write against a read only replica.",
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        "LOADING Redis is loading the dataset in memory",
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.",
        "NOREPLICAS Not enough good replicas to write.",
        "OOM command not allowed when used memory > 'maxmemory'.",
    ],
)
def test_the_not_now_replies_are_unavailable(reply: str) -> None:
    parsed = redis.connection.DefaultParser.parse_error(reply)  # as redis-py raises it
    translated = translate_redis_error(parsed)
    assert isinstance(translated, BrokerUnavailable)


def test_other_replies_are_internal() -> None:
    for reply in ("WRONGTYPE Operation against a key holding the wrong kind of value", "BUSYKEY Target"):
        assert type(translate_redis_error(redis.connection.DefaultParser.parse_error(reply))) is Internal


# --- JobQueue: both enqueue paths ----------------------------------------------------------------------


async def test_job_queue_translates_readonly_on_both_enqueue_paths(
    private_redis: RedisServer, replica_switch: Callable[[], None], make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(redis_url=private_redis.url)
    broker = redis_broker(settings)
    replica_switch()

    with pytest.raises(BrokerUnavailable):
        JobQueue(broker).send(job())  # the broker's own enqueue

    client = AsyncRedis.from_url(settings.redis_url)
    try:
        with pytest.raises(BrokerUnavailable):
            await JobQueue(broker, client).asend(job())  # the pipelined asyncio enqueue
    finally:
        await client.aclose()
    broker.close()


# --- the API: a READONLY reply on enqueue answers 503 -------------------------------------------------


async def test_a_readonly_reply_on_enqueue_answers_503_not_500(
    private_redis: RedisServer, replica_switch: Callable[[], None], make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(redis_url=private_redis.url, rate_limit_per_second=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        created = api.post("/v1/images", json={"url": "http://127.0.0.1:9/a.jpg"}, headers=K1)
        assert created.status_code == 202, created.text
        image_id = created.json()["id"]

        async def fail_it() -> None:  # refresh needs an image that is not processing
            client = AsyncRedis.from_url(settings.redis_url)
            try:
                await ImageStore(client, None).update(image_id, lambda r: r.evolve(status=Status.FAILED))
            finally:
                await client.aclose()

        await fail_it()
        replica_switch()
        # refresh reads the record (a replica serves reads) and enqueues: only the enqueue fails
        answer = api.post(f"/v1/images/{image_id}/refresh", headers=K1)

    assert answer.status_code == 503, answer.text
    assert answer.json() == {
        "status": 503,
        "error": "unavailable",
        "message": BrokerUnavailable.default_message,
    }
