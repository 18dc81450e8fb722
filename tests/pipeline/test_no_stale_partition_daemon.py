"""After backfills and re-runs settle, no derived partition is older than a parent partition it
reads: the real dagster-daemon's automation rebuilds what a later parent write made stale."""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg

from assets.common.runs import range_tags
from assets.common.staleness import stale_partitions
from kedah_analytics.definitions import defs
from kedah_analytics.domain import KEDAH_TZ
from tests.pipeline.test_automation_daemon import (  # noqa: F401  (fixture)
    SHORT_INTERVALS_WORKSPACE,
    _wait,
    daemon_home,
    running_daemon,
)


def _ticks(instance: dg.DagsterInstance, sensor: str) -> int:
    for state in instance.all_instigator_state():
        if state.instigator_name == sensor:
            return len(instance.get_ticks(state.instigator_origin_id, state.selector_id))
    return 0


def _run(instance: dg.DagsterInstance, job: str, **kwargs) -> None:
    assert defs.resolve_job_def(job).execute_in_process(instance=instance, **kwargs).success


def test_marts_follow_parents_rewritten_after_them(pg_url, daemon_home):  # noqa: F811
    graph = defs.resolve_asset_graph()
    # Automation every 5 s rather than 60 (tests/short_intervals.py): the test waits for what it
    # decides, not for its clock.
    quick = SHORT_INTERVALS_WORKSPACE
    with running_daemon(pg_url, daemon_home, quick) as daemon, dg.DagsterInstance.get() as instance:
        _wait(lambda: _ticks(instance, "marts_automation") >= 1, 180, "the marts sensor's first tick", daemon)
        today = datetime.now(KEDAH_TZ).date()
        first, last = str(today - timedelta(days=6)), str(today - timedelta(days=5))
        _run(instance, "refresh_places")
        _run(instance, "collect_posts", tags=range_tags(f"{first}|twitter", f"{last}|twitter"))
        for _ in range(2):  # the marts of the first pass, then parents rewritten after them
            _run(instance, "daily_metrics", tags=range_tags(first, last))
            _run(instance, "build_marts", tags=range_tags(first, last))
        _run(instance, "daily_metrics", tags=range_tags(first, last))
        assert stale_partitions(instance, graph)  # the marts are now older than their parents
        _wait(
            lambda: not stale_partitions(instance, graph),
            420,
            "automation to rebuild the stale marts",
            daemon,
        )
