"""Darkroom's Dramatiq middleware: lifecycle of the async ctx, job outcome on give-up, metrics,
retries, shutdown, and worker processes that die with their pool."""

from worker.middleware.die_with_pool import DieWithPool
from worker.middleware.lifecycle import Lifecycle
from worker.middleware.metrics import Metrics
from worker.middleware.outcome import FailOnGiveUp
from worker.middleware.retries import DurableRetries
from worker.middleware.shutdown import PromptShutdown, RequeueOnShutdown

__all__ = [
    "DieWithPool",
    "DurableRetries",
    "FailOnGiveUp",
    "Lifecycle",
    "Metrics",
    "PromptShutdown",
    "RequeueOnShutdown",
]
