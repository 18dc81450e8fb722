"""Checks look at the partitions their run materialized, not at the whole table."""

from datetime import date

import dagster as dg
import psycopg

from kedah_analytics.definitions import defs
from kedah_analytics.quality import tables
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
        asset_partitions = graph.get(key.asset_key).partitions_def
        if key.asset_key.path[0] not in MART_ASSETS:
            assert graph.get(key).partitions_def == asset_partitions, key


MART_ASSETS = {"city_daily_overview", "place_rankings", "sentiment_by_category", "top_posts", "alerts"}


def test_a_failing_predictions_check_reports_its_partition(warehouse_url):
    """A day without predictions (too little history) fails its own partition's check."""
    early = date(2026, 6, 10)  # days after the partitions start: no counts before it anywhere
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("DELETE FROM kedah.term_daily_counts WHERE date < %s", (early,))
        conn.execute("DELETE FROM kedah.trend_predictions WHERE date = %s", (early,))
    with dg.instance_for_test() as instance:
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
