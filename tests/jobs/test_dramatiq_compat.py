"""jobs.plumbing.dramatiq_compat against the installed Dramatiq: fails loudly if an internal changed shape.

Each test pins one thing the compat layer assumes: a private attribute exists and is
callable, the ``dispatch.lua`` argument layout, the keys the broker really writes on a real
Redis, the message options ``Retries`` writes, the worker's and consumer's attributes.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import compute_backoff
from dramatiq.middleware import AsyncIO, Retries
from dramatiq.middleware import prometheus as dramatiq_prometheus

from jobs.plumbing import dramatiq_compat as compat

NS = "compat"
QUEUE = "compat.q"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def broker(client: redis.Redis) -> Iterator[RedisBroker]:
    broker = RedisBroker(client=client, namespace=NS, middleware=[])
    broker.declare_queue(QUEUE)
    yield broker
    broker.close()


def message(queue_name: str = QUEUE) -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name=queue_name, actor_name="a", args=(1,), kwargs={}, options={})


def members(client: redis.Redis, key: str) -> set[str]:
    kind = client.type(key)
    if kind == b"list":
        raw = client.lrange(key, 0, -1)
    elif kind == b"hash":
        raw = client.hkeys(key)
    elif kind == b"set":
        raw = client.smembers(key)
    elif kind == b"zset":
        raw = client.zrange(key, 0, -1)
    else:
        raise AssertionError(f"{key!r} is {kind!r}, not a key the broker wrote")
    return {item.decode() for item in raw}


# --- private attributes and the script's shape --------------------------------------------------------


def test_the_private_broker_helpers_exist_and_are_callable(broker: RedisBroker) -> None:
    assert set(broker.scripts) >= {"dispatch", "maxstack"}
    assert callable(broker.scripts["dispatch"])
    assert isinstance(compat.dispatch_source(broker), bytes)
    assert list(inspect.signature(broker._should_do_maintenance).parameters) == ["command"]
    assert broker._should_do_maintenance("ack") == 0  # a blacklisted command never maintains
    assert compat.max_unpack_size(broker) > 100  # a script call: Redis answered
    assert callable(broker.do_requeue)  # the broker's __getattr__ turns do_<command> into a dispatch
    for attribute in ("broker_id", "namespace", "heartbeat_timeout", "dead_message_ttl"):
        assert hasattr(broker, attribute), attribute
    assert compat.broker_id(broker) == broker.broker_id


def test_dispatch_lua_takes_the_arguments_in_the_order_the_compat_layer_sends(broker: RedisBroker) -> None:
    source = compat.dispatch_source(broker).decode()
    argv = dict(re.findall(r"^local (\w+) = ARGV\[(\d+)\]$", source, re.MULTILINE))
    by_position = sorted(argv, key=lambda name: int(argv[name]))
    assert [int(argv[name]) for name in by_position] == list(range(1, len(compat.DISPATCH_ARGS) + 1))
    assert tuple(by_position) == compat.DISPATCH_ARGS
    assert "for i=9,#ARGV do" in source  # the command's own arguments follow the eight above


def test_dispatch_call_builds_what_the_broker_itself_sends(
    broker: RedisBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[list[Any], list[Any]]] = []

    def record(*, keys: list[Any], args: list[Any]) -> int:
        sent.append((keys, args))
        return 0

    unpack = compat.max_unpack_size(broker)
    monkeypatch.setitem(broker.scripts, "dispatch", record)
    monkeypatch.setattr(broker, "maintenance_chance", 0)  # the broker's dice: never
    broker.do_requeue(QUEUE, "id-1", "id-2")
    keys, args = compat.dispatch_call(broker, "requeue", QUEUE, "id-1", "id-2", unpack_size=unpack)

    (broker_keys, broker_args) = sent[0]
    assert broker_keys == keys
    timestamp = compat.DISPATCH_ARGS.index("timestamp")
    assert abs(int(broker_args[timestamp]) - int(args[timestamp])) < 60_000
    assert broker_args[:timestamp] + broker_args[timestamp + 1 :] == args[:timestamp] + args[timestamp + 1 :]


# --- the key layout, as the installed broker writes it ----------------------------------------------


def test_enqueue_writes_the_queue_and_message_keys_the_compat_layer_names(
    broker: RedisBroker, client: redis.Redis
) -> None:
    now = broker.enqueue(message())
    later = broker.enqueue(message(), delay=60_000)
    now_id, later_id = compat.redis_message_id(now), compat.redis_message_id(later)
    assert now_id is not None and later_id is not None

    assert members(client, compat.queue_key(NS, QUEUE)) == {now_id}
    assert members(client, compat.messages_key(NS, QUEUE)) == {now_id}
    delayed = compat.delay_queue_name(QUEUE)
    assert later.queue_name == delayed
    assert members(client, compat.queue_key(NS, delayed)) == {later_id}
    assert members(client, compat.messages_key(NS, delayed)) == {later_id}
    assert broker.broker_id in members(client, compat.heartbeats_key(NS))


def test_fetch_ack_set_requeue_and_dead_letter_keys(broker: RedisBroker, client: redis.Redis) -> None:
    sent = broker.enqueue(message())
    redis_id = compat.redis_message_id(sent)
    assert redis_id is not None
    consumer = broker.consume(QUEUE, prefetch=1, timeout=100)
    assert not compat.consumer_saturated(consumer)
    fetched = next(consumer)
    assert fetched is not None and compat.redis_message_id(fetched) == redis_id
    assert compat.consumer_saturated(consumer)  # prefetch 1, one unacked: it would not poll

    acks = compat.acks_key(NS, compat.broker_id(broker), QUEUE)
    assert members(client, acks) == {redis_id}
    assert client.llen(compat.queue_key(NS, QUEUE)) == 0

    compat.requeue(broker, QUEUE, [redis_id])
    assert members(client, compat.queue_key(NS, QUEUE)) == {redis_id}
    assert client.scard(acks) == 0

    consumer.close()
    consumer = broker.consume(QUEUE, prefetch=1, timeout=100)  # the old one still counts it as its own
    again = next(consumer)
    assert again is not None
    consumer.nack(again)  # Dramatiq dead-letters a nacked message
    assert members(client, compat.dead_key(NS, QUEUE)) == {redis_id}
    assert members(client, compat.dead_messages_key(NS, QUEUE)) == {redis_id}
    assert compat.dead_key(NS, compat.delay_queue_name(QUEUE)) == compat.dead_key(NS, QUEUE)
    consumer.close()


def test_maintenance_requeues_what_a_dead_broker_fetched(broker: RedisBroker, client: redis.Redis) -> None:
    sent = broker.enqueue(message())
    consumer = broker.consume(QUEUE, prefetch=1, timeout=100)
    assert next(consumer) is not None
    client.zadd(compat.heartbeats_key(NS), {broker.broker_id: 1})  # its last beat: long ago

    alive = RedisBroker(client=client, namespace=NS, middleware=[])
    compat.run_maintenance(alive, QUEUE)

    assert members(client, compat.queue_key(NS, QUEUE)) == {compat.redis_message_id(sent)}
    assert client.exists(compat.acks_key(NS, broker.broker_id, QUEUE)) == 0
    consumer.close()


def test_message_for_enqueue_copies_as_the_broker_does() -> None:
    queue_name, now = compat.message_for_enqueue(message(), None)
    assert queue_name == QUEUE and set(now.options) == {compat.REDIS_MESSAGE_ID}
    queue_name, later = compat.message_for_enqueue(message(), 5_000)
    assert queue_name == later.queue_name == compat.delay_queue_name(QUEUE)
    assert set(later.options) == {compat.REDIS_MESSAGE_ID, "eta"}
    assert compat.redis_message_id(now) != compat.redis_message_id(later)


# --- Retries, backoff, worker and Prometheus internals ------------------------------------------------


def test_retries_writes_the_options_the_compat_layer_reads() -> None:
    broker = StubBroker(middleware=[])

    @dramatiq.actor(broker=broker, queue_name="q")
    def fails() -> None:  # pragma: no cover - never runs
        pass

    proxy = dramatiq.MessageProxy(fails.message())
    retries = Retries(max_retries=3, min_backoff=10)
    try:
        raise ValueError("boom")
    except ValueError as exc:
        retries.after_process_message(broker, proxy, exception=exc)
    assert compat.retries_so_far(proxy.options) == 1
    assert (compat.last_traceback(proxy.options) or "").splitlines()[-1] == "ValueError: boom"


def test_backoff_constants_match_dramatiq() -> None:
    parameters = inspect.signature(compute_backoff).parameters
    assert parameters["max_exponent"].default == compat.BACKOFF_MAX_EXPONENT
    assert "max_backoff" in parameters and "factor" in parameters
    attempts, delay = compat.compute_backoff(0, factor=100, jitter=False, max_backoff=10_000)
    assert (attempts, delay) == (1, 100)
    assert Retries().max_backoff == compat.RETRIES_MAX_BACKOFF_MS


def test_retries_caps_every_delay_at_the_compat_maximum() -> None:
    delays: list[int | None] = []

    class Recording(StubBroker):
        def enqueue(self, message: Any, *, delay: int | None = None) -> Any:
            delays.append(delay)
            return message

    broker = Recording(middleware=[])

    @dramatiq.actor(broker=broker, queue_name="q")
    def slow() -> None:  # pragma: no cover - never runs
        pass

    huge = 100 * compat.RETRIES_MAX_BACKOFF_MS
    retries = Retries(max_retries=50, min_backoff=huge, max_backoff=huge)
    for _ in range(5):
        proxy = dramatiq.MessageProxy(slow.message())
        try:
            raise ValueError("again")
        except ValueError as exc:
            retries.after_process_message(broker, proxy, exception=exc)
    assert len(delays) == 5
    assert all(
        d is not None and compat.RETRIES_MAX_BACKOFF_MS / 2 <= d <= compat.RETRIES_MAX_BACKOFF_MS
        for d in delays
    )


def test_worker_attributes_the_compat_layer_reads() -> None:
    broker = StubBroker(middleware=[])
    broker.declare_queue("a")
    worker = dramatiq.Worker(broker, worker_threads=2, queues=["a"], worker_timeout=1000)
    assert compat.worker_threads(worker) == 2
    assert compat.worker_queues(worker) == {"a"}
    assert compat.worker_queues(dramatiq.Worker(broker, worker_threads=1)) is None
    worker.start()
    try:
        compat.shorten_worker_polls(worker, 0.1)
        assert len(worker.workers) == 2
        assert all(thread.timeout == 0.1 for thread in worker.workers)
    finally:
        worker.stop()


def test_the_prometheus_middleware_reads_the_db_path_global(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dramatiq_prometheus, "DB_PATH", dramatiq_prometheus.DB_PATH)  # restored after
    compat.set_prometheus_db_path("/tmp/elsewhere")
    assert dramatiq_prometheus.DB_PATH == "/tmp/elsewhere"
    assert "DB_PATH" in inspect.getsource(dramatiq_prometheus.Prometheus.after_process_boot)


def test_the_asyncio_middleware_publishes_its_loop_thread() -> None:
    broker = StubBroker(middleware=[])
    middleware = AsyncIO()
    assert compat.get_event_loop_thread() is None
    middleware.before_worker_boot(broker, None)
    try:
        loop_thread = compat.get_event_loop_thread()
        assert isinstance(loop_thread, compat.EventLoopThread)

        async def answer() -> int:
            return 42

        assert loop_thread.run_coroutine(answer()) == 42
    finally:
        middleware.after_worker_shutdown(broker, None)
    assert compat.get_event_loop_thread() is None
