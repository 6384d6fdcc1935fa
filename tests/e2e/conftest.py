"""End-to-end fixtures: the real API and worker processes over a private Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs.contract.settings import Settings
from tests.support.e2e import Stack, start_stack, stop_stack

pytestmark = pytest.mark.e2e


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


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
