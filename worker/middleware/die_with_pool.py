"""Worker processes die when their pool's master dies, however it dies.

Dramatiq's CLI forks the worker processes and stops them when *it* is signalled; a master
that is SIGKILLed (the OOM killer, a supervisor's last resort) leaves them consuming,
orphaned, while the supervisor starts a new pool beside them (Dramatiq #788).
``after_process_boot`` is the first hook Dramatiq runs in a freshly forked worker process:
there each process asks the kernel for SIGKILL when the master dies. The metrics exporter (a
Dramatiq *fork* process, no broker) does the same in :func:`worker.exporter.serve_metrics`.

SIGKILL, not a graceful SIGTERM: an orphan's stdout, stderr and logging all go to pipes the
dead master read, so its shutdown would be invisible, and a write that fails inside
Dramatiq's SIGTERM handler ends the process's main thread while its consumer threads keep
it alive (seen in ``tests/faults/test_pool_master_kill.py``). The pool dies as one unit,
as if its master's group had been killed: its unacked messages are requeued by another
pool's maintenance after ``HEARTBEAT_TIMEOUT_MS``, as for any dead pool.
"""

from __future__ import annotations

import multiprocessing
import signal
from typing import Any

from dramatiq.middleware import Middleware

from jobs.runtime.parent_death import die_with_parent


def die_with_pool_master() -> None:
    """In a process the Dramatiq CLI started: SIGKILL when the master dies (no-op elsewhere)."""
    master = multiprocessing.parent_process()
    if master is not None and master.pid is not None:
        die_with_parent(master.pid, signal.SIGKILL)


class DieWithPool(Middleware):
    def after_process_boot(self, broker: Any) -> None:
        die_with_pool_master()
