"""Child processes that die with their parent.

A parent that is SIGKILLed (the OOM killer, a supervisor's last resort) cannot stop its
children: they keep running, reparented to init, beside whatever replaces the parent. For a
worker pool that means two pools consuming, possibly with different code or settings (the
same is open upstream as Dramatiq #788). On Linux the child asks the kernel for a signal
when its parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread watches
``getppid()``. The request is made after the fork, so the parent may already be gone by
then: the child then checks that its parent is still the expected one and acts at once.

``PR_SET_PDEATHSIG`` fires when the *thread* that forked the child ends, not the process:
fork from the main thread (Dramatiq's CLI and ``darkroom run`` do).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCHDOG_INTERVAL_S = 1.0


@cache
def _prctl() -> Any | None:
    """libc's ``prctl``, looked up once (not in a child between fork and exec)."""
    if not sys.platform.startswith("linux"):
        return None
    return ctypes.CDLL(None, use_errno=True).prctl


def request_parent_death_signal(sig: int) -> bool:
    """Linux: have the kernel send ``sig`` to this process when its parent dies."""
    prctl = _prctl()
    if prctl is None:
        return False
    if prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    return True


def _watch_parent(parent_pid: int, sig: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCHDOG_INTERVAL_S)
    os.kill(os.getpid(), sig)


def die_with_parent(parent_pid: int, sig: int = signal.SIGTERM) -> None:
    """In a forked child: receive ``sig`` (by default a clean shutdown) when ``parent_pid`` dies."""
    if not request_parent_death_signal(sig):
        threading.Thread(
            target=_watch_parent, args=(parent_pid, sig), name="parent-watch", daemon=True
        ).start()
    if os.getppid() != parent_pid:  # it died before the request: nobody else will tell us
        os.kill(os.getpid(), sig)


def exec_dies_with_us(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn`` for ``subprocess.Popen``: the program gets ``sig`` when we die (Linux).

    Runs between fork and exec, so it does only the ``prctl`` (looked up here, beforehand)
    and, if we are already gone, exits instead of running the program.
    """
    parent_pid = os.getpid()
    _prctl()

    def preexec() -> None:
        request_parent_death_signal(sig)
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec
