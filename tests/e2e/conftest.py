"""End-to-end fixtures: the real API and worker processes over a private Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jobs.client import Client
from jobs.settings import Settings
from tests.support.stack import Proc, start_api, start_worker, with_free_http_port

pytestmark = pytest.mark.e2e


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


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


@pytest.fixture
def make_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[Settings], Stack]]:
    stacks: list[Stack] = []

    def build(settings: Settings) -> Stack:
        stack = start_stack(settings, tmp_path)
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        stop_stack(stack, request)


@pytest.fixture
def stack(make_stack: Callable[[Settings], Stack], settings: Settings) -> Stack:
    """API + one worker process, local storage."""
    return make_stack(settings)


@pytest.fixture
def any_storage_stack(make_stack: Callable[[Settings], Stack], storage_settings: Settings) -> Stack:
    """API + one worker process; parametrised over local storage and S3 (moto server)."""
    return make_stack(storage_settings)
