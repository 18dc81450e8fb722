"""The garbage collector's settings in a process that loads the code location
(kedah_analytics/collector.py)."""

import json
import subprocess
import sys
from pathlib import Path

from kedah_analytics import collector

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc, json, weakref
before = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
import kedah_analytics.definitions  # noqa: F401

class Node:
    pass

# A cycle made after the code location loaded is still found and freed.
a, b = Node(), Node()
a.other, b.other = b, a
alive = weakref.ref(a)
del a, b
gc.collect()
print(json.dumps({"before": before, "threshold": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                  "enabled": gc.isenabled(), "cycle_freed": alive() is None}))
"""


def test_loading_the_code_location_freezes_what_it_loaded_and_raises_the_thresholds() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["before"] == {"threshold": [700, 10, 10], "frozen": 0}
    assert found["threshold"] == [
        collector.YOUNG_THRESHOLD,
        collector.MIDDLE_THRESHOLD,
        collector.OLD_THRESHOLD,
    ]
    # Dagster, pandas and the assets: well over a hundred thousand objects the collector now skips.
    assert found["frozen"] > 100_000
    assert found["enabled"] and found["cycle_freed"]
