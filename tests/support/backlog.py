"""Worker pools under fault tests: restart one, queue a backlog for the faults to land on."""

from __future__ import annotations

from tests.support.e2e import Stack
from tests.support.faults import upload_all
from tests.support.stack import start_worker


def restart_worker(stack: Stack, name: str) -> None:
    """A new pool with the same arguments as the last one (which must be down)."""
    assert not stack.worker.alive()
    stack.worker = start_worker(stack.settings, stack.log_dir, *stack.worker.argv[3:], name=name)


def queue_backlog(stack: Stack, count: int) -> list[str]:
    """``count`` uploads queued while no worker runs, then a fresh pool: the faults land mid-run."""
    stack.worker.stop()
    ids = upload_all(stack.base_url, count)
    restart_worker(stack, "worker-backlog")
    return ids
