"""Darkroom's Dramatiq middleware: the event loop and what the app starts on it, job outcome on
give-up, metrics, retries, shutdown, worker processes that die with their pool, and the memory
budget. They know nothing of the app: :mod:`worker.app` hands each what it needs."""

from worker.middleware.die_with_pool import DieWithPool
from worker.middleware.lifecycle import Lifecycle
from worker.middleware.memory import MemoryBudget
from worker.middleware.metrics import Metrics
from worker.middleware.outcome import FailOnGiveUp
from worker.middleware.retries import DurableRetries
from worker.middleware.shutdown import PromptShutdown, RequeueOnShutdown
from worker.middleware.trends import Trends

__all__ = [
    "DieWithPool",
    "DurableRetries",
    "FailOnGiveUp",
    "Lifecycle",
    "MemoryBudget",
    "Metrics",
    "PromptShutdown",
    "RequeueOnShutdown",
    "Trends",
]
