"""The code location the daemon tests load (tests/short_intervals.py) is the project's, with only
its sensors' intervals shortened: what those tests show holds for the shipped definitions."""

from __future__ import annotations

import dagster as dg
from short_intervals import INTERVAL_S, defs

from kedah_analytics.definitions import defs as project_defs


def _sensor_facts(sensor: dg.SensorDefinition) -> tuple:
    return (
        type(sensor),
        sensor.name,
        sensor.default_status,
        sensor.description,
        repr(sensor.asset_selection),
        tuple(sorted(job.name for job in sensor.jobs)) if sensor.has_jobs else (),
    )


def test_only_the_sensor_intervals_differ_from_the_project_definitions():
    quick = {s.name: s for s in defs.sensors or []}
    shipped = {s.name: s for s in project_defs.sensors or []}
    assert set(quick) == set(shipped) and shipped
    for name, sensor in shipped.items():
        assert _sensor_facts(quick[name]) == _sensor_facts(sensor), name
        assert quick[name].minimum_interval_seconds == INTERVAL_S < (sensor.minimum_interval_seconds or 30)
        assert quick[name]._raw_fn is sensor._raw_fn  # noqa: SLF001  (the same evaluation)
    assert defs.assets is project_defs.assets and defs.asset_checks is project_defs.asset_checks
    assert defs.jobs is project_defs.jobs and defs.schedules is project_defs.schedules
    assert defs.resources is project_defs.resources and defs.executor is project_defs.executor
    dg.Definitions.validate_loadable(defs)
