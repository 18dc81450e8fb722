"""After backfills and re-runs settle, no derived partition is older than a parent partition it
reads: the real dagster-daemon's automation rebuilds what a later parent write made stale."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg

from assets.common.runs import range_tags
from assets.common.staleness import stale_partitions
from kedah_analytics.definitions import defs
from kedah_analytics.domain import KEDAH_TZ
from tests.pipeline.test_automation_daemon import ROOT, _wait, daemon_home  # noqa: F401  (fixture)


def _ticks(instance: dg.DagsterInstance, sensor: str) -> int:
    for state in instance.all_instigator_state():
        if state.instigator_name == sensor:
            return len(instance.get_ticks(state.instigator_origin_id, state.selector_id))
    return 0


def test_marts_follow_parents_rewritten_after_them(pg_url, daemon_home):  # noqa: F811
    env = {
        **os.environ,
        "DAGSTER_HOME": str(daemon_home),
        "KEDAH_PG_URL": pg_url,
        "KEDAH_SOURCE_MODE": "demo",
    }
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
        cwd=daemon_home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    graph = defs.resolve_asset_graph()
    try:
        with dg.DagsterInstance.get() as instance:
            _wait(
                lambda: _ticks(instance, "marts_automation") >= 1,
                180,
                "the marts sensor's first tick",
                daemon,
            )
            today = datetime.now(KEDAH_TZ).date()
            first, last = str(today - timedelta(days=6)), str(today - timedelta(days=5))
            run = defs.resolve_job_def
            assert run("refresh_places").execute_in_process(instance=instance).success
            assert (
                run("collect_posts")
                .execute_in_process(instance=instance, tags=range_tags(f"{first}|twitter", f"{last}|twitter"))
                .success
            )
            for _ in range(2):  # the marts of the first pass, then parents rewritten after them
                assert (
                    run("daily_metrics")
                    .execute_in_process(instance=instance, tags=range_tags(first, last))
                    .success
                )
                assert (
                    run("build_marts")
                    .execute_in_process(instance=instance, tags=range_tags(first, last))
                    .success
                )
            assert (
                run("daily_metrics")
                .execute_in_process(instance=instance, tags=range_tags(first, last))
                .success
            )
            assert stale_partitions(instance, graph)  # the marts are now older than their parents
            _wait(
                lambda: not stale_partitions(instance, graph),
                420,
                "automation to rebuild the stale marts",
                daemon,
            )
    finally:
        os.killpg(daemon.pid, 15)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, 9)
