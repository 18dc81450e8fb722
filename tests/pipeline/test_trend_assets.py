"""The trend assets wired into the graph: windows read across partitions, weekly training, predictions."""

from datetime import date, timedelta

import dagster as dg
import numpy as np
import psycopg
import pytest
from demo_resources import demo_resources

from assets.common.runs import range_tags
from kedah_analytics.definitions import defs
from kedah_analytics.places import load_places
from kedah_analytics.trends.counts import aliases_of
from kedah_analytics.warehouse import read_table

WEEK = "2026-11-09"  # Monday; the week ends on Sunday 2026-11-15


def upstream_keys(child: str, parent: str, key: str) -> list[str]:
    graph = defs.resolve_asset_graph()
    result = graph.get_parent_partition_keys_for_child(
        key, parent_asset_key=dg.AssetKey(parent), child_asset_key=dg.AssetKey(child)
    )
    return sorted(result.partitions_subset.get_partition_keys())


def test_a_weekly_model_reads_exactly_its_training_window_across_date_by_platform_parents():
    days = upstream_keys("trend_model", "term_daily_counts", WEEK)
    assert days[0] == "2026-07-20" and days[-1] == "2026-11-15" and len(days) == 119
    # ... and each of those days reads every platform's classified posts of that day
    assert upstream_keys("term_daily_counts", "classified_posts", days[0]) == [
        f"2026-07-20|{p}" for p in ("facebook", "instagram", "twitter", "youtube")
    ]


def test_predictions_read_the_days_before_and_the_hours_up_to_their_day():
    days = upstream_keys("trend_predictions", "term_daily_counts", "2026-11-20")
    assert days[0] == "2026-09-25" and days[-1] == "2026-11-19" and len(days) == 56
    hours = upstream_keys("trend_predictions", "term_hourly_counts", "2026-11-20")
    assert hours[0] == "2026-10-23" and hours[-1] == "2026-11-20"


@pytest.fixture
def bound(warehouse_url):
    resources = demo_resources(warehouse_url)
    return dg.Definitions(
        assets=list(defs.assets),
        asset_checks=list(defs.asset_checks),
        jobs=list(defs.jobs),
        resources=resources,
    )


def test_weekly_training_then_hourly_predictions_end_to_end(bound, warehouse_url):
    start, end = date(2026, 9, 25), date(2026, 11, 16)
    with dg.DagsterInstance.ephemeral() as instance:
        assert bound.resolve_job_def("refresh_places").execute_in_process(instance=instance).success
        for platform in ("twitter", "instagram"):
            tags = range_tags(f"{start}|{platform}", f"{end}|{platform}")
            assert (
                bound.resolve_job_def("collect_posts")
                .execute_in_process(instance=instance, tags=tags)
                .success
            )
        tags = range_tags(str(start), str(end))
        assert bound.resolve_job_def("daily_metrics").execute_in_process(instance=instance, tags=tags).success
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            # Counts after the week must not reach its model: a huge spike on the Monday after.
            conn.execute(
                """INSERT INTO kedah.term_daily_counts VALUES ('2026-11-16', 'twitter', 'future spike', 'keyword',
                   100000, 0, 0, 0, 0, 0) ON CONFLICT DO NOTHING"""
            )
        trained = bound.resolve_job_def("train_trend_model").execute_in_process(
            instance=instance, partition_key=WEEK
        )
        assert trained.success
        meta = trained.get_asset_materialization_events()[0].materialization.metadata
        assert meta["training_window"].value == "2026-07-20..2026-11-15"
        assert meta["days_of_counts"].value == (date(2026, 11, 15) - start).days + 1
        assert meta["mase_seasonal_naive"].value > 0
        predicted = bound.resolve_job_def("predict_trends").execute_in_process(
            instance=instance, partition_key="2026-11-16"
        )
        assert predicted.success
    with psycopg.connect(warehouse_url) as conn:
        model = read_table(
            conn, "trend_model", columns=["week_start", "promoted", "serving_version", "reason"]
        )
        predictions = read_table(conn, "trend_predictions")
    assert model["week_start"].tolist() == [date(2026, 11, 9)]
    assert model["reason"].iloc[0]
    assert len(predictions) == 20 and (predictions["target_date"] == date(2026, 11, 16)).all()
    assert set(predictions["model_version"]) == {model["serving_version"].iloc[0]}
    assert predictions["confidence"].between(0, 1).all()
    assert "future spike" not in " ".join(predictions["term"])
    # One entity, one row: no keyword that names a place beside the place itself.
    assert not set(predictions["term"]) & set(aliases_of(load_places()))
    assert predictions["term"].is_unique
    # A missing burst score is NULL with its reason, never NaN.
    scored = predictions["burst_score"].notna()
    assert (scored == predictions["burst_score_reason"].isna()).all()
    assert not np.isnan(predictions.loc[scored, "burst_score"].astype(float)).any()
    assert predictions["date"].iloc[0] == date(2026, 11, 16) - timedelta(days=0)
