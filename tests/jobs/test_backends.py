"""Backends: Redis, storage, store and queue opened in one place, for the API, the worker and the CLI."""

from __future__ import annotations

import argparse
import json

import pytest
import redis

from jobs.cli.ops import cmd_block, cmd_unblock
from jobs.contract.constants import BLOCKLIST_KEY, Queue
from jobs.contract.payloads import BlockJob, parse_payload
from jobs.contract.settings import Settings
from jobs.plumbing.backends import Backends
from jobs.plumbing.queue import redis_broker
from jobs.plumbing.storage import Storage
from jobs.plumbing.storage.memory import MemoryStorage
from jobs.services.producer import Producer


class Wrapper(MemoryStorage):
    """A storage wrapper that remembers what it wrapped (and stores in memory itself)."""

    def __init__(self, inner: Storage) -> None:
        super().__init__()
        self.inner = inner


async def test_the_store_is_built_on_the_wrapped_storage_and_a_given_broker_stays_open(
    settings: Settings,
) -> None:
    broker = redis_broker(settings)

    async def scenario() -> None:
        backends = await Backends.open(settings, broker=broker, wrap_storage=Wrapper)
        try:
            assert isinstance(backends.storage, Wrapper) and backends.storage.inner is not None
            assert backends.store.storage is backends.storage  # every store write goes through it
            assert backends.queue.broker is broker
            assert await backends.redis.ping()
        finally:
            await backends.close()
        assert not backends.owns_broker

    try:
        await scenario()
        assert broker.client.ping()  # not closed with the backends: it is the worker's own
    finally:
        broker.close()


async def test_the_producer_embeds_the_backends(settings: Settings) -> None:
    async with Producer.connect(settings) as producer:
        backends = producer.backends
        assert backends.owns_broker
        assert (producer.redis, producer.storage, producer.store, producer.queue) == (
            backends.redis,
            backends.storage,
            backends.store,
            backends.queue,
        )
        assert producer.settings is settings


def queued(settings: Settings, queue: Queue) -> list[object]:
    client = redis.Redis.from_url(settings.redis_url)
    try:
        raw = client.hvals(f"darkroom:{queue.value}.msgs")
        members = client.smembers(BLOCKLIST_KEY)
    finally:
        client.close()
    return [parse_payload(json.loads(message)["args"][0]) for message in raw] + sorted(members)


def test_block_and_unblock_through_the_cli_backends(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    checksum = "ab" * 32
    assert cmd_block(settings, argparse.Namespace(checksum=f"sha256:{checksum}")) == 0
    assert json.loads(capsys.readouterr().out) == {"checksum": checksum, "blocked": True, "new": True}
    job, member = queued(settings, Queue.PURGE)
    assert isinstance(job, BlockJob) and job.checksum == checksum and member == checksum.encode()

    assert cmd_unblock(settings, argparse.Namespace(checksum=checksum.upper())) == 0
    assert json.loads(capsys.readouterr().out) == {
        "checksum": checksum,
        "blocked": False,
        "was_blocked": True,
    }
    assert cmd_unblock(settings, argparse.Namespace(checksum=checksum)) == 0
    assert json.loads(capsys.readouterr().out)["was_blocked"] is False
