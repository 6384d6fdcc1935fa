"""``darkroom run``'s process supervisor: its children live and die together.

* Each child runs in a session of its own (a Ctrl-C in the terminal reaches only the
  supervisor, which stops the children in order) and gets SIGTERM from the kernel if the
  supervisor itself is killed (:func:`jobs.runtime.parent_death.exec_dies_with_us`).
* SIGTERM, SIGINT or SIGHUP to the supervisor stops every child, last started first (the API,
  then the worker pool, then Redis, which the others need until they are gone): the child's
  own stop signal, then SIGKILL to its whole process group once its grace period is over. A
  second signal skips the waiting.
* A child that exits on its own takes the others down the same way, after one line saying
  which child it was and how it ended; the supervisor then exits 1.

A child's stop ends only when its process *group* is empty, so what it forked (the pool's
worker processes) is gone too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from types import FrameType

from jobs.runtime.parent_death import exec_dies_with_us

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
POLL_S = 0.1


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with suppress(ValueError):
            return f"code {returncode} ({signal.Signals(-returncode).name})"
    return f"code {returncode}"


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    grace_s: float  # from its stop signal to SIGKILL

    @property
    def pid(self) -> int:
        return self.proc.pid

    def group_alive(self) -> bool:
        """The child or anything left in its process group (its forks) still runs."""
        if self.proc.poll() is None:
            return True
        try:
            os.killpg(self.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def kill_group(self) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


class Supervisor:
    def __init__(self, say: Callable[[str], None]) -> None:
        self.children: list[Child] = []
        self.signals: list[int] = []
        self._say = say
        self._previous: dict[int, object] = {}
        self._calm_signals = 0  # signals beyond this many, while stopping, skip the grace periods

    def __enter__(self) -> Supervisor:
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals.append(signum)  # acted on by the loops below, not in the handler

    def start(self, name: str, argv: Sequence[str], *, env: dict[str, str], grace_s: float) -> Child:
        proc = subprocess.Popen(list(argv), env=env, start_new_session=True, preexec_fn=exec_dies_with_us())
        return self.adopt(name, proc, grace_s)

    def adopt(self, name: str, proc: subprocess.Popen[bytes], grace_s: float) -> Child:
        """Supervise a child started elsewhere (in a session of its own)."""
        child = Child(name, proc, grace_s)
        self.children.append(child)
        return child

    def wait(self) -> int:
        """Until a stop signal (→ 0) or a child's exit (→ 1); then stop every child."""
        while not self.signals:
            for child in self.children:
                code = child.proc.poll()
                if code is not None:
                    self._say(
                        f"darkroom run: {child.name} (pid {child.pid}) exited with {describe_exit(code)}; "
                        "stopping the others"
                    )
                    self.stop_all()
                    return 1
            time.sleep(POLL_S)
        self._say(f"darkroom run: {signal.Signals(self.signals[0]).name} received, stopping")
        self.stop_all()
        return 0

    def stop_all(self) -> None:
        self._calm_signals = len(self.signals)
        while self.children:
            self._stop(self.children.pop())

    def _stop(self, child: Child) -> None:
        if child.proc.poll() is None:
            with suppress(ProcessLookupError):
                child.proc.send_signal(signal.SIGTERM)  # the pool's master forwards it, once
        deadline = time.monotonic() + child.grace_s
        while child.group_alive():
            if time.monotonic() >= deadline or len(self.signals) > self._calm_signals:
                self._say(f"darkroom run: {child.name} (pid {child.pid}) did not stop in time, killed")
                child.kill_group()
                child.proc.wait()
                break
            time.sleep(POLL_S)
