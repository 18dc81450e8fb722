"""Rows/s of the project's load path (COPY, one transaction) against DataFrame.to_sql, same data.

Run: .venv/bin/python bench/bench_load.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import scratch_database  # noqa: E402

from kedah_analytics.warehouse import PartitionFilter, replace_partitions  # noqa: E402

COLUMNS_SQL = """platform text NOT NULL, post_id text NOT NULL, date date NOT NULL, created_at timestamptz NOT NULL,
    text text NOT NULL, like_count bigint, comment_count bigint, share_count bigint, sentiment_score double precision,
    is_spam boolean NOT NULL"""


def make_rows(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    days = rng.integers(0, 90, n)
    platforms = np.array(["facebook", "instagram", "twitter", "youtube"])[rng.integers(0, 4, n)]
    return pd.DataFrame(
        {
            "platform": platforms,
            "post_id": [f"p{i}" for i in range(n)],
            "date": [date(2026, 1, 1) + timedelta(days=int(d)) for d in days],
            "created_at": [start + timedelta(days=int(d), seconds=int(s)) for d, s in zip(days, rng.integers(0, 86400, n), strict=True)],
            "text": [f"Sunset at Pantai Cenang number {i} was beautiful" for i in range(n)],
            "like_count": rng.pareto(1.3, n).astype("int64"),
            "comment_count": rng.poisson(2, n),
            "share_count": rng.poisson(1, n),
            "sentiment_score": rng.uniform(-1, 1, n),
            "is_spam": rng.random(n) < 0.05,
        }
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    df = make_rows(args.rows)
    partitions = PartitionFilter(
        ("date", "platform"),
        tuple(df[["date", "platform"]].drop_duplicates().itertuples(index=False, name=None)),
    )
    with scratch_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            for table in ("bench_copy", "bench_to_sql"):
                conn.execute(f"CREATE TABLE kedah.{table} ({COLUMNS_SQL})")
            started = time.perf_counter()
            summary = replace_partitions(conn, "bench_copy", df, partitions)
            copy_s = time.perf_counter() - started
        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        started = time.perf_counter()
        df.to_sql("bench_to_sql", engine, schema="kedah", if_exists="append", index=False, chunksize=10_000)
        to_sql_s = time.perf_counter() - started
        engine.dispose()
        with psycopg.connect(url) as conn:
            assert (
                conn.execute("SELECT count(*) FROM kedah.bench_copy").fetchone()[0]
                == len(df)
                == summary.rows_written
            )
            assert conn.execute("SELECT count(*) FROM kedah.bench_to_sql").fetchone()[0] == len(df)
    print(f"rows: {len(df)}")
    print(f"partitions: {len(partitions)}")
    print(
        f"project_load_rows_per_s: {len(df) / copy_s:,.0f}   ({copy_s:.2f} s, replace_partitions: DELETE + binary COPY, one transaction)"
    )
    print(
        f"to_sql_rows_per_s: {len(df) / to_sql_s:,.0f}   ({to_sql_s:.2f} s, DataFrame.to_sql via SQLAlchemy + psycopg 3, chunksize 10000)"
    )
    print(f"speedup: {to_sql_s / copy_s:.1f}x")


if __name__ == "__main__":
    main()
