"""Checks look at the partitions their run materialized, not at the whole table."""

from datetime import date

import dagster as dg
import psycopg

from assets.common.runs import range_tags
from kedah_analytics.definitions import defs
from kedah_analytics.quality import tables
from kedah_analytics.quality.marts import mart_checks
from kedah_analytics.warehouse import PartitionFilter

D1, D2 = date(2026, 11, 18), date(2026, 11, 19)


def _metric_row(conn: psycopg.Connection, day: date, posts: int, positive: int) -> None:
    conn.execute(
        """INSERT INTO kedah.place_daily_metrics (date, place_id, place_name, city, platform, provider, posts,
               spam_posts, likes, comments, shares, views, engagement, positive, neutral, negative,
               sentiment_mean)
           VALUES (%s, 'langkawi', 'Langkawi', 'Langkawi', 'twitter', 'demo', %s, 0, 0, 0, 0, 0, 0, %s, 0, 0, 0.5)""",
        (day, posts, positive),
    )


def test_a_check_scoped_to_a_partition_ignores_bad_rows_of_other_partitions(conn):
    _metric_row(conn, D1, posts=3, positive=3)
    _metric_row(conn, D2, posts=3, positive=1)  # counts that do not add up, on another day
    day1 = PartitionFilter(("date",), ((D1,),))
    assert tables.place_metrics_consistent(conn, partitions=day1).passed
    assert not tables.place_metrics_consistent(conn, partitions=PartitionFilter(("date",), ((D2,),))).passed
    assert not tables.place_metrics_consistent(conn).passed  # the whole table sees it


def test_rows_present_names_the_empty_partitions_and_why(conn):
    _metric_row(conn, D1, posts=1, positive=1)
    outcome = tables.rows_present(
        conn, "place_daily_metrics", PartitionFilter(("date",), ((D1,), (D2,))), why_empty="no posts"
    )
    assert not outcome.passed
    assert outcome.details["empty_partitions"] == [str(D2)] and outcome.details["why"] == "no posts"


def test_every_asset_has_a_check_and_partitioned_assets_have_partitioned_checks():
    graph = defs.resolve_asset_graph()
    assert set(graph.get_all_asset_keys()) <= {key.asset_key for key in graph.asset_check_keys}
    for key in graph.asset_check_keys:
        assert graph.get(key).partitions_def == graph.get(key.asset_key).partitions_def, key


def test_a_mart_check_looks_at_its_days_only(conn):
    conn.execute(
        """INSERT INTO kedah.alerts (date, alert_id, kind, subject, subject_type, subject_name, provider,
               observed, baseline, score, posts, platforms, top_posts, message)
           VALUES (%s, 'unexplained', 'burst', 'x', 'keyword', 'x', 'demo', 1, 1, 1, 0, '{}', '[]', '')""",
        (D2,),
    )
    try:
        assert mart_checks["alerts_explained"](conn, PartitionFilter(("date",), ((D1,),))).passed
        assert not mart_checks["alerts_explained"](conn, PartitionFilter(("date",), ((D2,),))).passed
        assert not mart_checks["alerts_explained"](conn).passed
    finally:
        conn.execute("DELETE FROM kedah.alerts WHERE alert_id = 'unexplained'")


def _evaluations(result: dg.ExecuteInProcessResult, check: str) -> list[dg.AssetCheckEvaluation]:
    return [e for e in result.get_asset_check_evaluations() if e.check_name == check]


def test_a_ranged_run_reports_each_partition_of_each_check(warehouse_url):
    """Dagster 1.13 records a ranged run's AssetCheckResult without a partition (the UI shows every
    partition Skipped): each partition gets its own evaluation, pointing at its materialization."""
    days = [date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)]
    keys = [f"{d}|facebook" for d in days]
    with dg.DagsterInstance.ephemeral() as instance:
        defs.resolve_job_def("refresh_places").execute_in_process(instance=instance)
        result = defs.resolve_job_def("collect_posts").execute_in_process(
            instance=instance, tags=range_tags(keys[0], keys[-1])
        )
        assert result.success
        # raw_posts' two checks, the second reading the targets the first fetched (checks.py).
        for check in ("raw_posts_required_fields", "raw_posts_keys_unique"):
            evaluations = _evaluations(result, check)
            assert sorted(e.partition for e in evaluations) == keys and all(e.passed for e in evaluations)
            assert all(e.blocking for e in evaluations)
            for evaluation in evaluations:
                target = evaluation.target_materialization_data
                latest = instance.fetch_materializations(
                    dg.AssetRecordsFilter(dg.AssetKey("raw_posts"), asset_partitions=[evaluation.partition]),
                    limit=1,
                ).records[0]
                assert target is not None and target.storage_id == latest.storage_id
                assert (target.run_id, target.timestamp) == (result.run_id, latest.timestamp)
        assert all(e.partition is not None for e in result.get_asset_check_evaluations())


def test_a_failed_blocking_check_of_one_partition_fails_that_partition_and_stops_downstream(warehouse_url):
    days = [date(2026, 11, 10), date(2026, 11, 11)]
    keys = [f"{d}|facebook" for d in days]
    with dg.DagsterInstance.ephemeral() as instance, psycopg.connect(warehouse_url, autocommit=True) as conn:
        defs.resolve_job_def("refresh_places").execute_in_process(instance=instance)
        # A post of another day already filed under the first day: that partition's check fails.
        conn.execute(
            """INSERT INTO kedah.raw_posts (platform, post_id, date, created_at, text, provider,
                   first_seen_at, fetched_at, payload)
               VALUES ('facebook', 'misfiled', %s, %s::timestamptz, 'x', 'demo', now(), now(), '{}')""",
            (days[0], "2026-11-01T12:00:00+08:00"),
        )
        result = defs.resolve_job_def("collect_posts").execute_in_process(
            instance=instance, tags=range_tags(keys[0], keys[-1]), raise_on_error=False
        )
    assert not result.success
    evaluations = {e.partition: e.passed for e in _evaluations(result, "raw_posts_required_fields")}
    assert evaluations == {keys[0]: False, keys[1]: True}
    assert not any(
        e.asset_key.path == ["classified_posts"] for e in result.get_asset_materialization_events()
    )


def test_a_failing_predictions_check_reports_its_partition(warehouse_url):
    """A day without predictions (too little history) fails its own partition's check."""
    early = date(2026, 6, 10)  # days after the partitions start: no counts before it anywhere
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("DELETE FROM kedah.term_daily_counts WHERE date < %s", (early,))
        conn.execute("DELETE FROM kedah.trend_predictions WHERE date = %s", (early,))
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("predict_trends").execute_in_process(
            instance=instance, partition_key=str(early), raise_on_error=False
        )
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and e.asset_check_evaluation_data.check_name == "trend_predictions_present"
    ]
    assert len(evaluations) == 1 and not evaluations[0].passed
    assert evaluations[0].partition == str(early)
    assert "14 days" in evaluations[0].metadata["why"].value
