"""A derived partition older than a parent partition it reads is reported as stale."""

from datetime import datetime, timedelta

import dagster as dg

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
    with dg.instance_for_test() as instance:
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
        said = str(stale_partitions_sensor(sensor_context).skip_message)
        assert "stale partition(s)" in said and f"city_daily_overview {day}" in said
        _run(instance, "build_marts", partition_key=day)
        assert stale_partitions(instance, graph) == []
