"""The project's code location with its sensors evaluated every few seconds: what the daemon tests
load (tests/short_intervals_workspace.yaml), so that they wait for the daemon's decisions rather
than for its clock. The shipped intervals (30 s to 5 min) are the only difference: the same
assets, checks, jobs, schedules, sensors and resources (tests/test_short_intervals.py checks it).
"""

from __future__ import annotations

import copy

import dagster as dg

from kedah_analytics import definitions as project  # a module: one Definitions here, not two

# The daemon looks at its sensors every 5 s whatever they ask for: shorter would change nothing.
INTERVAL_S = 5


def shortened(sensor: dg.SensorDefinition) -> dg.SensorDefinition:
    """``sensor`` as it is, evaluated at most every ``INTERVAL_S`` seconds."""
    quick = copy.copy(sensor)
    quick._min_interval = min(INTERVAL_S, sensor.minimum_interval_seconds or INTERVAL_S)  # noqa: SLF001
    return quick


def with_short_intervals(definitions: dg.Definitions) -> dg.Definitions:
    from dagster._record import copy as copy_record

    return copy_record(definitions, sensors=[shortened(s) for s in definitions.sensors or []])


defs = with_short_intervals(project.defs)
