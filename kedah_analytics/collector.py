"""The garbage collector's settings in a process that loads this code location.

A step builds and drops hundreds of thousands of small objects a chunk (payload dicts, records,
row tuples, lists of terms), almost none of them in reference cycles: reference counting frees
them. CPython's default thresholds (700, 10, 10) still run a young collection every 700 new
objects, and every so often a full one, which walks every tracked object in the process: the code
location's own (about 175,000 once Dagster, pandas and the assets are loaded) and the chunk's. In
``bench/bench_year.py --days 30 --workers 1`` that was 35 full collections taking 5.6 s of a 26 s
run (counted by a ``gc.callbacks`` probe, not kept); ``bench_year.py --default-collector`` runs with
CPython's settings, the baseline.

:func:`tune_collector` (called once the code location is loaded) moves what is loaded so far out
of the collector's sight for good (:func:`gc.freeze`: modules, definitions and the like live as
long as the process) and collects the young generation every :data:`YOUNG_THRESHOLD` new objects.
Cycles are still collected, later; peak memory of that 30-day run stayed where it was.
"""

from __future__ import annotations

import gc

# New container objects between young collections (CPython's default: 700); then a middle-aged
# collection every MIDDLE_THRESHOLD young ones, and a full one every OLD_THRESHOLD middle-aged ones
# (and only once a quarter more objects than the last full one found have survived since).
YOUNG_THRESHOLD = 50_000
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 20


def tune_collector() -> None:
    """Freeze the objects alive now and raise the thresholds."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
