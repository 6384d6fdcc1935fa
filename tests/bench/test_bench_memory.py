"""The memory-budget benchmark's code path runs (defaults only: the hostile jobs are refused)."""

from __future__ import annotations

from bench import memory
from bench.stack import bench_stack


def test_the_memory_section_runs_the_repro_and_reports_each_worker_process() -> None:
    with bench_stack() as stack:
        result = memory.repro(stack, rounds=1)
    assert result["outcomes"] == "resize:too_large text:ready"
    assert (
        len(str(result["peak_mb"]).split("/")) == len(str(result["after_round_mb"]).split("/")) == 2
    )  # one figure per worker process
    table = memory.table([("defaults", result)])
    assert "| defaults |" in table and "| yes |" in table  # back under the budget after the jobs
