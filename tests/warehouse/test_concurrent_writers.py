"""Two processes writing overlapping partitions at the same moment, round after round: both
succeed, and the rows are those of running them one after the other.

Without the advisory locks both writers DELETE (seeing nothing of the other's uncommitted rows)
and both COPY, and the second COPY fails on the primary key (the UniqueViolation operators saw on
term_daily_counts_pkey and classified_posts_pkey).
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import psycopg

from kedah_analytics.warehouse import PartitionFilter, merge_rows, replace_partitions
from kedah_analytics.warehouse.state import save_cursors

ROUNDS = 6
DAYS = [date(2026, 11, 1) + timedelta(days=i) for i in range(4)]
TERMS = [f"term{i}" for i in range(300)]


def counts_for(days: list[date]) -> pd.DataFrame:
    """The rows a derived write gives for ``days``: a pure function of the day, like a real one."""
    return pd.DataFrame(
        [
            {
                "date": d,
                "platform": "twitter",
                "term": t,
                "term_type": "keyword",
                "posts": d.day + i,
                "likes": i,
                "comments": 0,
                "shares": 0,
                "views": 0,
                "engagement": i,
            }  # fmt: skip
            for d in days
            for i, t in enumerate(TERMS)
        ]
    )


def raw_for(days: list[date]) -> pd.DataFrame:
    now = datetime(2026, 11, 10, tzinfo=UTC)
    return pd.DataFrame(
        [
            {
                "platform": "twitter",
                "post_id": f"{d.isoformat()}-{i}",
                "date": d,
                "created_at": datetime(d.year, d.month, d.day, 3, tzinfo=UTC),
                "text": f"post {i}",
                "hashtags": [],
                "provider": "x_api_v2",
                "first_seen_at": now,
                "fetched_at": now,
                "payload": {"i": i},
                "like_count": i,
            }  # fmt: skip
            for d in days
            for i in range(100)
        ]
    )


def writer(url: str, days: list[date], barrier: mp.synchronize.Barrier, errors: mp.Queue) -> None:
    try:
        with psycopg.connect(url) as conn:
            for _ in range(ROUNDS):
                barrier.wait(timeout=60)
                partitions = PartitionFilter(("date",), tuple((d,) for d in days))
                replace_partitions(conn, "term_daily_counts", counts_for(days), partitions)
                merge_rows(
                    conn,
                    "raw_posts",
                    raw_for(days),
                    key=("platform", "post_id"),
                    partitions=PartitionFilter(("date", "platform"), tuple((d, "twitter") for d in days)),
                    provider="x_api_v2",
                )
                with conn.transaction():
                    save_cursors(conn, "x_api_v2", {"q1": str(days[-1].toordinal()), "q0": "1"})
    except BaseException as err:  # reported to the parent, which fails the test
        errors.put(f"{type(err).__name__}: {err}")


def test_two_processes_writing_overlapping_partitions_both_succeed_with_serial_rows(warehouse_url):
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    errors: mp.Queue = ctx.Queue()
    ranges = [DAYS[:3], DAYS[1:]]  # overlapping on two days
    processes = [ctx.Process(target=writer, args=(warehouse_url, r, barrier, errors)) for r in ranges]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=300)
    failures = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert failures == []
    assert [p.exitcode for p in processes] == [0, 0]

    with psycopg.connect(warehouse_url) as conn:
        stored = pd.read_sql(
            "SELECT date, term, posts FROM kedah.term_daily_counts ORDER BY date, term", conn
        )
        raw = conn.execute(
            "SELECT date, count(*) FROM kedah.raw_posts GROUP BY date ORDER BY date"
        ).fetchall()
        cursor = conn.execute("SELECT value FROM kedah.source_cursors WHERE cursor_key = 'q1'").fetchone()
    expected = counts_for(DAYS)[["date", "term", "posts"]].sort_values(["date", "term"], ignore_index=True)
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False)
    assert raw == [(d, 100) for d in DAYS]
    assert cursor == (str(DAYS[-1].toordinal()),)  # numeric cursors only move forward
