"""The running end-to-end stack (real API and worker processes over a private Redis): start it, stop it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from jobs.client import Client
from jobs.contract.settings import Settings
from tests.support.stack import Proc, start_api, start_worker, with_free_http_port


@dataclass
class Stack:
    settings: Settings
    base_url: str
    api: Proc
    worker: Proc
    client: Client  # account "acme" (key k1)
    log_dir: Path

    def other_client(self, key: str = "k2") -> Client:
        return Client(self.base_url, key)


def start_stack(settings: Settings, log_dir: Path) -> Stack:
    settings = with_free_http_port(settings)
    worker = start_worker(settings, log_dir)
    api, base_url = start_api(settings, log_dir)
    return Stack(settings, base_url, api, worker, Client(base_url, "k1", timeout=60), log_dir)


def stop_stack(stack: Stack, request: pytest.FixtureRequest) -> None:
    stack.client.close()
    stack.worker.stop()
    stack.api.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for proc in (stack.worker, stack.api):
            print(f"----- {proc.log_path.name} -----\n{proc.output()[-8000:]}")
