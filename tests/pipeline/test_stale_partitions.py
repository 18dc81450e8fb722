"""A derived partition older than a parent partition it reads is reported as stale."""

from datetime import datetime, timedelta

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from assets.common import staleness
from assets.common.runs import range_tags
from assets.common.staleness import stale_partitions, stale_partitions_sensor
from kedah_analytics.definitions import defs
from kedah_analytics.domain import KEDAH_TZ


def _run(instance: dg.DagsterInstance, job: str, **kwargs) -> None:
    assert defs.resolve_job_def(job).execute_in_process(instance=instance, **kwargs).success


def test_a_mart_built_before_its_parents_were_rewritten_is_stale_until_rebuilt(warehouse_url, monkeypatch):
    day = str(datetime.now(KEDAH_TZ).date() - timedelta(days=2))
    graph = defs.resolve_asset_graph()
    with dg.DagsterInstance.ephemeral() as instance:
        _run(instance, "refresh_places")
        _run(instance, "collect_posts", partition_key=f"{day}|twitter")
        _run(instance, "daily_metrics", partition_key=day)
        _run(instance, "build_marts", partition_key=day)
        assert stale_partitions(instance, graph) == []
        _run(instance, "daily_metrics", tags=range_tags(day, day))  # the parents rewritten after the marts
        stale = stale_partitions(instance, graph)
        assert {(s.asset, s.partition, s.parent) for s in stale} >= {
            ("city_daily_overview", day, "place_daily_metrics"),
            ("alerts", day, "term_hourly_counts"),
        }
        assert all(s.behind_s > 0 for s in stale) and "rewritten" in stale[0].describe()
        assert stale_partitions(instance, graph, settled_s=3600) == []  # too recent to blame automation
        sensor_context = dg.build_sensor_context(instance=instance, definitions=defs)
        assert "no stale partition" in str(stale_partitions_sensor(sensor_context).skip_message)
        monkeypatch.setattr(staleness, "SETTLED_S", 0)
        result = stale_partitions_sensor(sensor_context)
        requests = result.run_requests
        # A run per stale asset (the marts here), each over its stale days, with the reason.
        assert {tuple(r.asset_selection) for r in requests} == {
            (dg.AssetKey(s.asset),) for s in stale if s.asset != "place_daily_metrics"
        }
        assert all(r.tags["kedah/reason"].startswith("stale: ") for r in requests)
        for request in requests:  # as the daemon would launch them
            _run(instance, "build_marts", asset_selection=request.asset_selection, tags=request.tags)
        assert stale_partitions(instance, graph) == []
        assert "no stale partition" in str(stale_partitions_sensor(sensor_context).skip_message)


def test_repairs_are_ranges_of_consecutive_days_per_asset():
    def stale(asset: str, day: str, written: float) -> staleness.StalePartition:
        return staleness.StalePartition(asset, day, "place_daily_metrics", day, 5.0, written)

    requests = staleness.repair_requests(
        [stale("alerts", "2026-11-02", 1.0), stale("alerts", "2026-11-01", 2.0),
         stale("alerts", "2026-11-04", 3.0), stale("top_posts", "2026-11-01", 4.0),
         stale("classified_posts", "2026-11-01", 5.0)],
        repairable={"alerts", "top_posts"},
    )  # fmt: skip
    assert [(r.asset_selection, r.tags[ASSET_PARTITION_RANGE_START_TAG], r.tags[ASSET_PARTITION_RANGE_END_TAG])
            for r in requests] == [
        ([dg.AssetKey("alerts")], "2026-11-01", "2026-11-02"),
        ([dg.AssetKey("alerts")], "2026-11-04", "2026-11-04"),
        ([dg.AssetKey("top_posts")], "2026-11-01", "2026-11-01"),
    ]  # fmt: skip
    assert requests[0].run_key == "repair-alerts-2026-11-01..2026-11-02-2.000"
