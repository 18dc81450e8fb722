"""The year's ceilings, measured after its backfill on the same rows (bench_year.py): the classifier
alone on the posts' texts, COPY alone on the stored rows; and PostgreSQL's CPU over a stretch."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import psycopg


def postgres_cpu() -> float:
    """CPU seconds of this machine's PostgreSQL processes so far: each live process's own, and the
    backends that have exited (their postmaster's children's time). The warehouse and the Dagster
    instance share the server; its work is the other half of every read and write."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone since the listing
            continue
        if text[text.index("(") + 1 : text.rindex(")")] == "postgres":
            total += sum(int(f) for f in text[text.rindex(")") + 2 :].split()[11:15])  # utime..cstime
    return total / tick


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute(f"SELECT count(*) FROM kedah.{table}").fetchone()[0])  # type: ignore[index]


def classifier_ceiling(url: str, days: list[date]) -> tuple[float, int]:
    """Seconds the classifier alone takes on every raw post's text, a month at a time."""
    from kedah_analytics.classify.normalize import post_text
    from kedah_analytics.definitions import SETTINGS
    from resources import sentiment_from_settings

    classifier = sentiment_from_settings(SETTINGS).get_classifier()
    seconds, posts = 0.0, 0
    for i in range(0, len(days), 30):
        first, last = days[i], days[min(i + 29, len(days) - 1)]
        with psycopg.connect(url) as conn:
            texts = [
                post_text(t)
                for (t,) in conn.execute(
                    "SELECT text FROM kedah.raw_posts WHERE date BETWEEN %s AND %s", (first, last)
                )
            ]
        started = time.perf_counter()
        classifier.predict(texts)
        seconds += time.perf_counter() - started
        posts += len(texts)
    return seconds, posts


def copy_ceiling(url: str, tables: list[str]) -> tuple[float, int]:
    """Seconds to COPY every row of ``tables`` into empty copies of them (indexes included)."""
    seconds, rows = 0.0, 0
    with psycopg.connect(url, autocommit=True) as source, psycopg.connect(url, autocommit=True) as target:
        target.execute("CREATE SCHEMA IF NOT EXISTS copy_ceiling")
        for table in tables:
            target.execute(f"CREATE TABLE copy_ceiling.{table} (LIKE kedah.{table} INCLUDING ALL)")
            started = time.perf_counter()
            with source.cursor().copy(f"COPY kedah.{table} TO STDOUT (FORMAT binary)") as out:
                with target.cursor().copy(f"COPY copy_ceiling.{table} FROM STDIN (FORMAT binary)") as into:
                    for block in out:
                        into.write(block)
            seconds += time.perf_counter() - started
            rows += count(url, table)
            target.execute(f"DROP TABLE copy_ceiling.{table}")
    return seconds, rows
