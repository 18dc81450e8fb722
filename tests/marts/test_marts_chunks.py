"""A ranged mart run reads and replaces a week at a time (each week with its look-back window):
the rows it stores are the ones a whole-range computation gives, and the rows it holds at once do
not grow with the range.

Nine weeks of demo posts of two platforms go through the real jobs; the marts are then built by
ranged runs with rows counted at every warehouse read, and compared, hash for hash, with the
mart functions applied to the whole range at once (the layout before chunking), written through
the same replace path and read back. The range shared by two runs (as a backfill on two workers
shares it) stores the same rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import pandas as pd
import psycopg
import pytest
from databases import new_database

import resources.io_manager
from assets.common.runs import range_tags
from assets.marts.assets import RANKING_DAYS
from kedah_analytics.definitions import ranged_runs
from kedah_analytics.marts import build
from kedah_analytics.marts.alert_rules import AlertConfig
from kedah_analytics.marts.alerts import AlertInputs, build_alerts
from kedah_analytics.warehouse import read as warehouse_read
from kedah_analytics.warehouse import read_table, replace_partitions, table_columns
from kedah_analytics.warehouse.scope import PartitionFilter
from tests.marts.conftest import bound_defs, run_job

FIRST, LAST = date(2026, 9, 14), date(2026, 11, 15)  # nine whole weeks, Monday to Sunday
DAYS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
PLATFORMS = ("twitter", "youtube")
MARTS = ("city_daily_overview", "place_rankings", "sentiment_by_category", "top_posts", "alerts")


@pytest.fixture(scope="module")
def seeded(pg_server_url: str) -> Iterator[tuple[str, dg.Definitions, dg.DagsterInstance]]:
    """Nine weeks of demo posts, classified and aggregated; no marts yet."""
    with new_database(pg_server_url, "kedah_chunks") as url, dg.DagsterInstance.ephemeral() as instance:
        bound = bound_defs(url)
        run_job(bound, "refresh_places", instance)
        for platform in PLATFORMS:
            run_job(bound, "collect_posts", instance,
                    tags=range_tags(f"{FIRST}|{platform}", f"{LAST}|{platform}"))  # fmt: skip
        run_job(bound, "daily_metrics", instance, tags=range_tags(str(FIRST), str(LAST)))
        with psycopg.connect(url) as conn:
            stir_up(conn)
        yield url, bound, instance


# Days of the range (by index) whose inputs are stirred up so that alerts fire: inside a week,
# on the last day of a week and the first of the next (the cooldown reaches across the chunks).
BURST_DAYS = (24, 41, 42, 55)
DIP_DAYS = (34, 48)


def stir_up(conn: psycopg.Connection) -> None:
    """Bursts of the busiest term and sentiment dips of the busiest place on a few days: demo
    posts are too even for the alerts to fire, and a comparison of empty tables proves nothing."""
    term = conn.execute(
        "SELECT term, term_type FROM kedah.term_hourly_counts GROUP BY 1, 2 ORDER BY sum(posts) DESC LIMIT 1"
    ).fetchone()
    for i in BURST_DAYS:
        conn.execute(
            "UPDATE kedah.term_hourly_counts SET posts = posts * 40 + 30 "
            "WHERE term = %s AND term_type = %s AND date = %s",
            (*term, DAYS[i]),  # type: ignore[misc]
        )
    for i in DIP_DAYS:
        conn.execute(
            "UPDATE kedah.place_daily_metrics SET sentiment_mean = -0.9, negative = posts, positive = 0, "
            "neutral = 0 WHERE date = %s AND place_id = (SELECT place_id FROM kedah.place_daily_metrics "
            "WHERE date = %s GROUP BY 1 ORDER BY sum(posts) DESC, 1 LIMIT 1)",
            (DAYS[i], DAYS[i]),
        )


def build_marts(
    bound: dg.Definitions,
    instance: dg.DagsterInstance,
    first: date,
    last: date,
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    """Build the marts of ``first``..``last`` in one ranged run; the most rows one read returned."""
    largest = 0
    original = warehouse_read.read_table

    def counted(*args, **kwargs) -> pd.DataFrame:  # type: ignore[no-untyped-def]
        nonlocal largest
        rows = original(*args, **kwargs)
        largest = max(largest, len(rows))
        return rows

    with monkeypatch.context() as patch:
        # Every read of a mart's inputs: a chunk's (DailyRows) and a whole input's (the IO manager).
        patch.setattr(warehouse_read, "read_table", counted)
        patch.setattr(resources.io_manager, "read_table", counted)
        run_job(bound, "build_marts", instance, tags=range_tags(str(first), str(last)))
    return largest


def table_hash(url: str, table: str) -> tuple[int, str]:
    """Rows and a hash of ``kedah.<table>`` that ignores row order."""
    with psycopg.connect(url) as conn:
        frame = read_table(conn, table)
    lines = sorted(json.dumps(row, default=str, sort_keys=True) for row in frame.to_dict("records"))
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


ALERT_INPUTS = ("term_hourly_counts", "place_daily_metrics")


def read_window(conn: psycopg.Connection, table: str, day: date, look_back: int) -> pd.DataFrame:
    names = [c.name for c in table_columns(conn, table)]
    return warehouse_read.read_days(conn, table, day - timedelta(days=look_back), day, names)


def alerts_day_by_day(
    conn: psycopg.Connection, days: list[date], places: pd.DataFrame, history: int
) -> pd.DataFrame:
    """Each day's alerts from its own days before, as a run of that day gives them (the burst
    detector's running sums start where its input does: the whole range at once would judge a
    late day on months of history, and differ from that day's own run)."""
    frames = [
        build_alerts(
            conn, [day], AlertInputs(*(read_window(conn, t, day, history) for t in ALERT_INPUTS), places)
        )
        for day in days
    ]
    return pd.concat([f for f in frames if len(f)], ignore_index=True)


def whole_range_marts(conn: psycopg.Connection, days: list[date]) -> dict[str, pd.DataFrame]:
    """Every mart of ``days`` computed from the whole range's rows at once (with the look-back)."""

    def rows(table: str, look_back: int = 0) -> pd.DataFrame:
        names = [c.name for c in table_columns(conn, table)]
        return warehouse_read.read_days(conn, table, days[0] - timedelta(days=look_back), days[-1], names)

    places = read_table(conn, "places")
    history = AlertConfig().history_days
    metrics = rows("place_daily_metrics")
    return {
        "city_daily_overview": build.city_daily_overview(metrics),
        "place_rankings": build.place_rankings(rows("place_daily_metrics", RANKING_DAYS), places, days),
        "sentiment_by_category": build.sentiment_by_category(metrics, places),
        "top_posts": build.top_posts(rows("classified_posts"), rows("raw_posts"), places),
        "alerts": alerts_day_by_day(conn, days, places, history),
    }


def test_a_ranged_mart_run_stores_what_the_whole_range_gives_holding_a_bounded_chunk(seeded, monkeypatch):
    url, bound, instance = seeded
    # One chunk of each mart: a week, or as long as its look-back (28 days: rankings and alerts).
    chunk = build_marts(bound, instance, LAST - timedelta(days=27), LAST, monkeypatch)
    whole = build_marts(bound, instance, FIRST, LAST, monkeypatch)
    chunked = {table: table_hash(url, table) for table in MARTS}

    with psycopg.connect(url) as conn:
        biggest_input = max(
            len(warehouse_read.read_days(conn, table, FIRST, LAST, ["date"]))
            for table in ("classified_posts", "raw_posts", "term_hourly_counts", "place_daily_metrics")
        )
        partitions = PartitionFilter(("date",), tuple((d,) for d in DAYS))
        for table, frame in whole_range_marts(conn, DAYS).items():
            replace_partitions(conn, table, frame, partitions)
    reference = {table: table_hash(url, table) for table in MARTS}

    assert chunked == reference
    for table in ("city_daily_overview", "place_rankings", "sentiment_by_category", "top_posts", "alerts"):
        assert chunked[table][0] > 0, f"{table} is empty: nothing was compared"

    # The range shared by runs side by side (`kedah-analytics backfill`, bench_year.py on two
    # workers), the later span first and the marts emptied: a day's rows depend on stored inputs
    # only, never on a day another run writes.
    with psycopg.connect(url) as conn:
        for table in MARTS:
            conn.execute(f"DELETE FROM kedah.{table}")
    spans = ranged_runs("build_marts", FIRST, LAST, 2)
    assert len(spans) == 2
    for run in reversed(spans):
        run_job(bound, run.job, instance, tags=run.tags)
    assert {table: table_hash(url, table) for table in MARTS} == reference
    # Nine weeks (three chunks of the marts that look back 28 days) hold no more rows at once than
    # one chunk with its look-back (the busiest days may differ a little): what a run holds does
    # not grow with its range. (At demo volume a chunk of hourly counts and its look-back, 56 days,
    # is about as many rows as the range's raw posts: the range is too short to show more.)
    assert whole <= 1.15 * chunk, (whole, chunk)
    assert whole <= biggest_input, (whole, biggest_input)
