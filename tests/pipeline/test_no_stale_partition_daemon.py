"""After backfills and re-runs settle, no derived partition is older than a parent partition it
reads: the real dagster-daemon's automation rebuilds what a later parent write made stale."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES
from dagster_ui import graphql, running_webserver, stop_instigators

from assets.common import staleness
from assets.common.runs import range_tags
from assets.common.staleness import stale_partitions, stale_partitions_sensor
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


LAUNCH_BACKFILL = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status } ... on PythonError { message } } }"""
DAILY_PARENTS = ("place_daily_metrics", "term_hourly_counts")
AUTOMATION = ("metrics_automation", "marts_automation")


def _launch_backfill(url: str, first: date, last: date) -> str:
    """A ranged backfill of the marts' daily parents, as the UI's Materialize dialog launches it."""
    days = [str(first + timedelta(days=n)) for n in range((last - first).days + 1)]
    answer = graphql(
        url,
        LAUNCH_BACKFILL,
        {
            "p": {
                "assetSelection": [{"path": [a]} for a in DAILY_PARENTS],
                "partitionNames": days,
                "fromFailure": False,
            }
        },
    )["launchPartitionBackfill"]
    assert answer["__typename"] == "LaunchBackfillSuccess", answer
    return answer["backfillId"]


def _tick_times(instance: dg.DagsterInstance, sensor: str) -> list[float]:
    for state in instance.all_instigator_state():
        if state.instigator_name == sensor:
            return [t.timestamp for t in instance.get_ticks(state.instigator_origin_id, state.selector_id)]
    return []


def _mart_run_started(instance: dg.DagsterInstance) -> bool:
    marts = {dg.AssetKey(k) for k in ("alerts", "place_rankings", "city_daily_overview")}
    """A run of the marts is going (only automation builds them here, directly or as a backfill)."""
    running = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    return any(marts & set(run.asset_selection or ()) for run in running)


def _settled(instance: dg.DagsterInstance, url: str, backfills: list[str]) -> bool:
    """Both backfills done, no run queued or running, and each automation sensor has evaluated
    twice since the last run ended (it had its chance to ask for what is stale), with no backfill of
    its own still to launch."""
    statuses = [graphql(url, BACKFILL, {"id": b})["partitionBackfillOrError"]["status"] for b in backfills]
    if any(s in ("REQUESTED", "CANCELING", "FAILING") for s in statuses):
        return False
    assert all(s in ("COMPLETED", "COMPLETED_SUCCESS") for s in statuses), statuses
    if instance.get_runs(filters=dg.RunsFilter(statuses=list(IN_PROGRESS_RUN_STATUSES))):
        return False
    # Automation asks for several partitions of an asset as a backfill of its own (emit_backfills),
    # whose runs the backfill daemon launches later: settled means none of those is pending either.
    if any(
        instance.get_backfills(status=s) for s in (BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING)
    ):
        return False
    ended = max(r.end_time or 0.0 for r in instance.get_run_records())
    return all(sum(t > ended for t in _tick_times(instance, s)) >= 2 for s in AUTOMATION)


@pytest.mark.timeout(1500)
def test_no_stale_partition_after_overlapping_backfills_launched_from_the_ui(
    pg_url,
    daemon_home,  # noqa: F811
    monkeypatch,
):
    """Two overlapping ranged backfills of the marts' parents, launched through the webserver's
    GraphQL as the Materialize dialog does, the second while automation rebuilds the marts behind
    the first (the race of issue 20: a mart written just before its parents' rewrite): once
    everything settles, every derived partition is newer than each parent partition it reads
    (the marts' 28-day windows included), and the stale-partitions sensor says so."""
    graph = defs.resolve_asset_graph()
    today = datetime.now(KEDAH_TZ).date()
    first, last = today - timedelta(days=6), today - timedelta(days=2)
    with dg.DagsterInstance.get() as instance:  # the days as seeding leaves them: marts current
        _run(instance, "refresh_places")
        _run(instance, "collect_posts", tags=range_tags(f"{first}|twitter", f"{last}|twitter"))
        _run(instance, "daily_metrics", tags=range_tags(str(first), str(last)))
        _run(instance, "build_marts", tags=range_tags(str(first), str(last)))
        # These days' marts are current (the module's first test may leave later days to the
        # daemon's automation, which the check after settling covers too).
        days = {str(first + timedelta(days=n)) for n in range((last - first).days + 1)}
        assert [s for s in stale_partitions(instance, graph) if s.partition in days] == []
        marts_before = {
            key: instance.get_latest_materialization_event(dg.AssetKey(key)).timestamp  # type: ignore[union-attr]
            for key in ("alerts", "place_rankings")
        }
    with (
        running_daemon(pg_url, daemon_home, SHORT_INTERVALS_WORKSPACE) as daemon,
        running_webserver(pg_url, daemon_home) as url,
        dg.DagsterInstance.get() as instance,
    ):
        stop_instigators(url, keep=frozenset(AUTOMATION))  # no collection schedule adds its own days
        _wait(
            lambda: all(_tick_times(instance, s) for s in AUTOMATION),
            240,
            "the automation sensors' first ticks",
            daemon,
        )
        backfills = [_launch_backfill(url, first, last - timedelta(days=1))]
        # The second backfill overlaps the first one's days and starts while automation is
        # rebuilding the marts behind the first: its parents land just after those marts.
        _wait(
            lambda: _mart_run_started(instance), 600, "automation's mart run after the first backfill", daemon
        )
        backfills.append(_launch_backfill(url, first + timedelta(days=1), last))
        _wait(
            lambda: _settled(instance, url, backfills), 900, "the backfills and automation to settle", daemon
        )
        stale = stale_partitions(instance, graph)
        assert stale == [], [s.describe() for s in stale]
        # The backfills rewrote the parents after the marts, and automation rebuilt the marts.
        for key, before in marts_before.items():
            latest = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert latest is not None and latest.timestamp > before, key
        monkeypatch.setattr(staleness, "SETTLED_S", 0)  # every parent write counts, however recent
        said = str(
            stale_partitions_sensor(dg.build_sensor_context(instance=instance, definitions=defs)).skip_message
        )
        assert "no stale partition" in said, said
