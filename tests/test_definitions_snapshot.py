"""The code location's graph against a checked-in snapshot: an unintended change fails with a diff.

The snapshot (``tests/snapshots/definitions.json``) holds what a data engineer sees of the graph:
each asset's group, kinds, partitions, backfill policy, automation condition (as a tree of its
conditions and labels), dependencies with their partition mappings, freshness, retry policy and
pool, the asset checks, the jobs with what they select, the schedules and the sensors.

An intended change: regenerate the snapshot and commit it with the change, so the review shows it::

    KEDAH_SNAPSHOT_UPDATE=1 .venv/bin/python -m pytest tests/test_definitions_snapshot.py

The graph is read in a child process whose environment holds no ``KEDAH_*`` setting except the
database URL, so a developer's ``KEDAH_START_DATE`` or ``KEDAH_EXECUTOR`` does not move it.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "definitions.json"
UPDATE_VARIABLE = "KEDAH_SNAPSHOT_UPDATE"
ROOT = Path(__file__).resolve().parents[1]


def _partitions(partitions_def: Any) -> Any:
    import dagster as dg

    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return {"multi": {d.name: _partitions(d.partitions_def) for d in partitions_def.partitions_defs}}
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return {
            "time_window": {
                "cron": partitions_def.cron_schedule,
                "start": partitions_def.start.isoformat(),
                "end": partitions_def.end.isoformat() if partitions_def.end else None,
                "timezone": partitions_def.timezone,
                "fmt": partitions_def.fmt,
                "end_offset": partitions_def.end_offset,
            }
        }
    if isinstance(partitions_def, dg.StaticPartitionsDefinition):
        return {"static": list(partitions_def.get_partition_keys())}
    return {type(partitions_def).__name__: str(partitions_def)}


def _value(serialized: Any) -> str:
    """A serialized value that is not a condition, on one line (an AssetKey as its path)."""
    if isinstance(serialized, list):
        return "[" + ", ".join(_value(v) for v in serialized) + "]"
    if not isinstance(serialized, dict):
        return json.dumps(serialized)
    if serialized.get("__class__") == "AssetKey":
        return "/".join(serialized["path"])
    fields = ", ".join(
        f"{k}={_value(v)}" for k, v in sorted(serialized.items()) if k != "__class__" and v is not None
    )
    return f"{serialized.get('__class__', '')}({fields})"


def _is_condition(serialized: Any) -> bool:
    return isinstance(serialized, dict) and str(serialized.get("__class__", "")).endswith("Condition")


def _condition(serialized: dict[str, Any], depth: int = 0, field: str = "") -> list[str]:
    """An automation condition as indented lines, one a condition: its class, its label in quotes,
    its other fields, and the conditions it is made of below it."""
    head = f"{'  ' * depth}{field + ': ' if field else ''}{serialized['__class__']}"
    if serialized.get("label"):
        head += f" '{serialized['label']}'"
    lines: list[str] = []
    for name, value in sorted(serialized.items()):
        if name in ("__class__", "label") or value is None:
            continue
        operands = value if isinstance(value, list) else [value]
        if operands and all(_is_condition(v) for v in operands):
            for operand in operands:
                lines += _condition(operand, depth + 1, name)
        else:
            head += f" {name}={_value(value)}"
    return [head, *lines]


def snapshot(defs: Any) -> dict[str, Any]:
    """The graph of a ``dg.Definitions`` as plain JSON values."""
    import dagster as dg

    graph = defs.resolve_asset_graph()
    repository = defs.get_repository_def()
    assets: dict[str, Any] = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        op = node.assets_def.op if node.assets_def.is_executable else None
        condition = node.automation_condition
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "description": node.description,
            "kinds": sorted(node.kinds),
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": repr(node.backfill_policy) if node.backfill_policy else None,
            "automation_condition": _condition(json.loads(dg.serialize_value(condition)))
            if condition
            else None,
            "deps": {
                parent.to_user_string(): repr(graph.get_partition_mapping(key, parent))
                for parent in sorted(node.parent_keys, key=lambda k: k.to_user_string())
            },
            "freshness_policy": repr(node.freshness_policy) if node.freshness_policy else None,
            "retry_policy": repr(op.retry_policy) if op is not None and op.retry_policy else None,
            "pools": sorted(node.pools),
            "metadata_keys": sorted(k for k in node.metadata if not k.startswith("dagster/column_schema")),
            "checks": sorted(c.name for c in node.check_keys),
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        spec = graph.get_check_spec(check_key)
        checks[f"{check_key.asset_key.to_user_string()}:{check_key.name}"] = {
            "blocking": spec.blocking,
            "partitioned": spec.partitions_def is not None,
            "description": spec.description,
        }
    jobs = {}
    for job in sorted(repository.get_all_jobs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        jobs[job.name] = {
            "selection": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
            "partitioned": job.partitions_def is not None,
            "description": job.description,
        }
    schedules = {
        s.name: {
            "cron": s.cron_schedule,
            "timezone": s.execution_timezone,
            "default_status": s.default_status.value,
            "job": s.job_name,
            "description": s.description,
        }
        for s in sorted(repository.schedule_defs, key=lambda s: s.name)
    }
    sensors = {
        s.name: {
            "type": type(s).__name__,
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "default_status": s.default_status.value,
            "target": str(s.asset_selection) if s.asset_selection is not None else None,
            "jobs": sorted(j.name for j in s.jobs) if s.has_jobs else [],
            "description": s.description,
        }
        for s in sorted(repository.sensor_defs, key=lambda s: s.name)
    }
    return {"assets": assets, "checks": checks, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def _render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _current() -> str:
    """The snapshot as a child process with no KEDAH_* setting but the database sees it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEDAH_") or k == "KEDAH_PG_URL"}
    out = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_the_definitions_match_the_snapshot():
    current = _current()
    if os.environ.get(UPDATE_VARIABLE):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current)
    expected = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True), current.splitlines(keepends=True),
            "tests/snapshots/definitions.json", "the definitions now",
        )
    )  # fmt: skip
    assert not diff, (
        f"the Dagster graph changed; if that is intended, run `{UPDATE_VARIABLE}=1 .venv/bin/python -m "
        f"pytest {Path(__file__).relative_to(ROOT)}` and commit the snapshot with the change:\n{diff}"
    )


def _small_graph(cron: str, with_dep: bool, eager: bool) -> Any:
    import dagster as dg

    days = dg.DailyPartitionsDefinition(start_date="2026-01-01")

    @dg.asset(partitions_def=days)
    def upstream() -> None: ...

    @dg.asset(
        partitions_def=days,
        deps=[upstream] if with_dep else [],
        automation_condition=dg.AutomationCondition.eager()
        if eager
        else dg.AutomationCondition.on_cron(cron),
    )
    def downstream() -> None: ...

    job = dg.define_asset_job("both", selection=[upstream, downstream])
    return dg.Definitions(
        assets=[upstream, downstream],
        jobs=[job],
        schedules=[dg.ScheduleDefinition(job=job, cron_schedule=cron)],
    )


def test_the_snapshot_sees_what_a_graph_change_changes():
    """The serializer itself: a changed cron, a dropped dependency and another automation condition
    each change the snapshot, where the engineer looks for them."""
    base = snapshot(_small_graph("5 * * * *", with_dep=True, eager=True))
    assert base == snapshot(_small_graph("5 * * * *", with_dep=True, eager=True))
    assert (
        snapshot(_small_graph("0 * * * *", True, True))["schedules"]["both_schedule"]["cron"] == "0 * * * *"
    )
    assert "upstream" not in snapshot(_small_graph("5 * * * *", False, True))["assets"]["downstream"]["deps"]
    assert base["assets"]["downstream"]["deps"] == {
        "upstream": "TimeWindowPartitionMapping(start_offset=0, "
        "end_offset=0, allow_nonexistent_upstream_partitions=False)"
    }
    on_cron = snapshot(_small_graph("5 * * * *", True, False))["assets"]["downstream"]["automation_condition"]
    assert on_cron != base["assets"]["downstream"]["automation_condition"]
    assert "'eager'" in json.dumps(base["assets"]["downstream"]["automation_condition"])


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore")
    from kedah_analytics.definitions import defs

    sys.stdout.write(_render(snapshot(defs)))
