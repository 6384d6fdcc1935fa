"""The worker's assembly: its middleware know nothing of the app, and its storage is metered once,
before anything (the image store included) uses it."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import structlog

from jobs.contract.ids import new_image_id
from jobs.contract.models import Image
from jobs.contract.settings import Settings
from jobs.plumbing.store import Record
from jobs.services.admin import metrics
from worker import context
from worker.app import build_broker
from worker.middleware import Metrics
from worker.runner import run_on_loop

MIDDLEWARE = Path(__file__).resolve().parents[2] / "worker" / "middleware"
THE_APP = ("worker.runner", "worker.pipeline", "worker.context", "worker.app")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (``from worker import context`` counts as ``worker.context``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_middleware_imports_the_app() -> None:
    modules = sorted(MIDDLEWARE.glob("*.py"))
    assert len(modules) >= 7  # the scan really reads the package
    offending = {
        f"{path.name}: {name}"
        for path in modules
        for name in imported_modules(path)
        if any(name == app or name.startswith(app + ".") for app in THE_APP)
    }
    assert offending == set()


def bytes_out(kind: str) -> float:
    return metrics.REGISTRY.get_sample_value("darkroom_bytes_out_total", {"kind": kind}) or 0.0


def test_a_record_sidecar_written_through_the_store_is_metered(settings: Settings) -> None:
    """The store is built on the metered storage, not on the raw one it wrapped later."""
    broker = build_broker(settings)
    meter = next(m for m in broker.middleware if isinstance(m, Metrics))
    meter.metrics = metrics  # what after_process_boot does once the metrics directory is set
    worker = SimpleNamespace(consumer_whitelist=None, worker_threads=1)
    kind = "assembly-test"
    record = Record(image=Image(id=new_image_id(), name="cat", filename="cat.jpg"), account="acme")

    async def create_in_a_job() -> int:
        ctx = context.current()
        with structlog.contextvars.bound_contextvars(job=kind):
            stored = await ctx.store.create(record)
        return len(stored.to_sidecar())

    before = bytes_out(kind)
    broker.emit_before("worker_boot", worker)  # Lifecycle opens the ctx on its loop
    try:
        written = run_on_loop(create_in_a_job())
    finally:
        broker.emit_after("worker_shutdown", worker)
        broker.close()
    assert written > 0
    assert bytes_out(kind) - before == written
