"""The collector tuning every Darkroom process applies once it has started up."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from jobs.runtime.gc_tuning import OLDER_THRESHOLDS, YOUNG_THRESHOLD

PROBE = textwrap.dedent(
    """
    import gc, json, weakref
    import fastapi, pydantic  # start-up imports: the objects a service keeps for its lifetime
    from jobs.runtime.gc_tuning import tune_gc

    before = gc.get_freeze_count()
    tune_gc()
    frozen = gc.get_freeze_count()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a reference cycle, which only the collector can free
    alive = weakref.ref(a)
    del a, b
    # live container allocations (the collector counts allocations minus frees): enough for a few
    kept = [{} for _ in range(3 * %(young)d)]
    print(json.dumps({"before": before, "frozen": frozen, "threshold": gc.get_threshold(),
                      "cycle_freed": alive() is None}))
    """
) % {"young": YOUNG_THRESHOLD}


def test_start_up_objects_are_frozen_and_cycles_still_collected() -> None:
    import json

    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    result = json.loads(out)

    assert result["before"] == 0
    assert result["frozen"] > 10_000  # the imported libraries left the collector's view
    assert tuple(result["threshold"]) == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    assert result["cycle_freed"] is True  # garbage cycles are still found, in bigger batches
