"""Retry policy: transient errors retry with backoff; permanent ones and time-outs do not."""

from __future__ import annotations

from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries, TimeLimit
from dramatiq.middleware.time_limit import TimeLimitExceeded

from jobs.contract.constants import NAMESPACE
from jobs.contract.errors import MediaFailed, StorageUnavailable
from jobs.contract.ids import new_image_id
from jobs.contract.settings import Settings
from worker.actors import declare_actors
from worker.app import build_broker
from worker.middleware import DurableRetries, FailOnGiveUp, Lifecycle, Metrics
from worker.middleware import retries as durable
from worker.results import should_retry


def test_retry_policy() -> None:
    retry = should_retry(3)
    assert retry(0, StorageUnavailable()) is True
    assert retry(2, StorageUnavailable()) is True
    assert retry(3, StorageUnavailable()) is False  # exhausted
    assert retry(0, MediaFailed()) is False
    assert retry(0, TimeLimitExceeded()) is False
    assert retry(0, RuntimeError("bug or unknown network error")) is True


def test_broker_wiring(settings: Settings) -> None:
    broker = build_broker(settings)
    try:
        kinds = [type(m) for m in broker.middleware]
        assert broker.namespace == NAMESPACE
        assert kinds[0] is Lifecycle  # event loop + ctx before anything runs
        # after_* hooks run in reverse list order: Retries decides, then FailOnGiveUp, then Metrics
        assert kinds.index(Metrics) < kinds.index(FailOnGiveUp) < kinds.index(DurableRetries)
        assert kinds[-1] is DurableRetries
        time_limit = next(m for m in broker.middleware if isinstance(m, TimeLimit))
        assert time_limit.time_limit == int(settings.job_time_limit * 1000)
        assert broker.heartbeat_timeout == settings.heartbeat_timeout_ms
    finally:
        broker.close()


def test_a_retry_enqueued_while_redis_is_down_waits_for_redis_instead_of_vanishing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dramatiq's Retries only logs a failed re-enqueue and the original is acked: the job is gone."""
    retries = DurableRetries(max_retries=3, min_backoff=100, max_backoff=200)
    assert isinstance(retries, Retries)
    broker = StubBroker(middleware=[retries])
    broker.emit_after("process_boot")
    dramatiq.actor(broker=broker, actor_name="upload", queue_name="q")(lambda: None)
    message = dramatiq.MessageProxy(
        dramatiq.Message(queue_name="q", actor_name="upload", args=(), kwargs={}, options={})
    )
    real_enqueue, delays = broker.enqueue, []

    def enqueue_during_outage(
        msg: dramatiq.Message[Any], *, delay: int | None = None
    ) -> dramatiq.Message[Any]:
        delays.append(delay)
        if len(delays) < 3:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return real_enqueue(msg, delay=delay)

    monkeypatch.setattr(broker, "enqueue", enqueue_during_outage)
    monkeypatch.setattr("worker.middleware.retries.time.sleep", lambda s: None)
    retries.after_process_message(broker, message, exception=StorageUnavailable())

    assert len(delays) == 3 and delays[0] is not None and len(set(delays)) == 1  # same backoff each try
    assert broker.queues["q.DQ"].qsize() == 1  # the retry is queued, once
    assert message.options["retries"] == 1 and not message.failed


@pytest.mark.parametrize(
    ("exception", "retries", "failed_with"),
    [
        (TimeLimitExceeded(), 0, ("timeout", "The job ran out of time.")),  # never retried
        (StorageUnavailable("S3 is down"), 3, ("unavailable", "S3 is down (gave up after 4 attempts)")),
        (StorageUnavailable(), 0, None),  # will be retried: the image stays processing
    ],
)
def test_the_image_fails_when_the_same_hook_gives_up_on_its_job(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    exception: BaseException,
    retries: int,
    failed_with: tuple[str, str] | None,
) -> None:
    broker = build_broker(settings.model_copy(update={"max_retries": 3}))
    declare_actors(broker, settings)
    failures: list[tuple[str, str, str, str]] = []

    def fail_image(image_id: str, job_id: str, code: str, text: str) -> None:
        failures.append((image_id, job_id, code, text))

    give_up = next(m for m in broker.middleware if isinstance(m, FailOnGiveUp))
    monkeypatch.setattr(give_up, "fail_image", fail_image)  # what worker.app hands it, recorded
    monkeypatch.setattr(durable.PatientEnqueue, "enqueue", lambda self, message, *, delay=None: message)
    image_id = new_image_id()
    payload = {"kind": "upload", "job_id": "j1", "image_id": image_id, "account": "acme"}
    message = dramatiq.MessageProxy(
        dramatiq.Message(
            queue_name="darkroom.upload",
            actor_name="upload",
            args=(payload,),
            kwargs={},
            options={"retries": retries},
        )
    )
    try:
        broker.emit_after("process_message", message, exception=exception)
    finally:
        broker.close()
    assert failures == ([(image_id, "j1", *failed_with)] if failed_with else [])


def test_a_time_limit_expiring_while_the_retry_waits_for_redis_does_not_cost_the_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enqueued: list[int | None] = []
    sleeps: list[float] = []

    class Broker:
        def enqueue(self, message: object, *, delay: int | None = None) -> object:
            if len(sleeps) < 2:
                raise redis.ConnectionError("Connection refused.")
            enqueued.append(delay)
            return message

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            raise TimeLimitExceeded()  # what dramatiq's TimeLimit raises into the worker thread

    monkeypatch.setattr("worker.middleware.retries.time.sleep", sleep)
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name="q", actor_name="upload", args=(), kwargs={}, options={}
    )
    durable.PatientEnqueue(Broker()).enqueue(message, delay=500)
    assert enqueued == [500] and len(sleeps) == 2
