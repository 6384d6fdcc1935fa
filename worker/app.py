"""Worker process start-up: the callable the Dramatiq CLI runs in every worker process.

``dramatiq worker.app:setup`` → Settings from the environment (once), structlog, the broker
with Darkroom's middleware, and the actors.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from jobs.gc_tuning import tune_gc
from jobs.logs import configure_logging
from jobs.malloc import retain_freed_memory
from jobs.settings import MiB, load_settings
from worker.actors import declare_actors
from worker.broker import build_broker

BROKER_REF = "worker.app:setup"


def setup() -> RedisBroker:
    settings = load_settings()
    configure_logging(settings, process="worker")
    retain_freed_memory(settings.malloc_retain_mb * MiB)  # before the worker threads start
    broker = build_broker(settings)
    declare_actors(broker, settings)
    dramatiq.set_broker(broker)
    tune_gc()
    return broker
