"""Peak memory of a ranged classified_posts run: 30 days against 365 days, each in a fresh process.

The project's layout reads, classifies and writes one day at a time (ReplaceChunks over DailyRows),
so a year should cost about what a month costs; the old layout (the whole range as one DataFrame)
is measured beside it, in the same process kind, on the same rows.

Run: .venv/bin/python bench/bench_memory.py [--posts-per-day 300]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import scratch_database  # noqa: E402

from kedah_analytics.config import resolve_pg_url  # noqa: E402

START = date(2026, 1, 1)
TEXTS = ["Sunset at Pantai Cenang was beautiful tonight #langkawi", "Traffic jam near Alor Setar again",
         "Gunung Jerai view from the top, worth the climb", "Nasi lemak in Sungai Petani sedap gila"]  # fmt: skip


def seed(url: str, days: int, per_day: int) -> None:
    import psycopg

    from kedah_analytics.places import load_places
    from kedah_analytics.warehouse import replace_partitions

    now = datetime(2027, 1, 10, tzinfo=UTC)
    with psycopg.connect(url) as conn:
        replace_partitions(conn, "places", load_places(), None)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY kedah.raw_posts (platform, post_id, date, created_at, text, author_id, like_count, provider, "
            "first_seen_at, fetched_at, payload) FROM STDIN"
        ) as copy:
            for d in range(days):
                day = START + timedelta(days=d)
                for i in range(per_day):
                    created = datetime(day.year, day.month, day.day, i % 16, tzinfo=UTC)
                    payload = json.dumps(
                        {"id": f"{d}-{i}", "text": TEXTS[i % 4] * 8, "public_metrics": {"like_count": i}}
                    )
                    copy.write_row(("twitter", f"{d}-{i}", day, created, f"{TEXTS[i % 4]} {i}", f"a{i % 50}", i,
                                    "demo", now, now, payload))  # fmt: skip


def measure(url: str, days: int, layout: str) -> None:
    """In a child process: run one layout and print its peak resident memory (MiB)."""
    import dagster as dg

    from kedah_analytics.definitions import defs
    from resources import PostgresIOManager, PostgresWarehouse, SentimentResource
    from sensors.schedules import range_tags

    end = START + timedelta(days=days - 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if layout == "by day":
        result = dg.materialize(
            list(defs.assets), selection=["classified_posts"], instance=dg.DagsterInstance.ephemeral(),
            resources={"io_manager": PostgresIOManager(url=url), "warehouse": PostgresWarehouse(url=url),
                       "sentiment": SentimentResource(), **_unused()},
            tags=range_tags(f"{START}|twitter", f"{end}|twitter"),
        )  # fmt: skip
        assert result.success
    else:  # the old layout: the whole range in one DataFrame, classified at once
        import psycopg

        from kedah_analytics.classify.posts import classify_posts
        from kedah_analytics.classify.registry import build_classifier
        from kedah_analytics.places import PlaceLinker, load_places
        from kedah_analytics.warehouse import read_table

        with psycopg.connect(url) as conn:
            raw = read_table(conn, "raw_posts")
        classify_posts(raw, PlaceLinker(load_places()), build_classifier("offline"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mib": round(peak), "baseline_mib": round(before)}))


def _unused() -> dict:
    from resources import AccountMetricSources, PostSources, SearchInterestSource

    return {"post_sources": PostSources(mode="demo"), "account_metric_sources": AccountMetricSources(mode="demo"),
            "search_interest_source": SearchInterestSource(mode="demo")}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts-per-day", type=int, default=300)
    parser.add_argument("--child", nargs=3, metavar=("URL", "DAYS", "LAYOUT"))
    args = parser.parse_args()
    if args.child:
        measure(args.child[0], int(args.child[1]), args.child[2])
        return
    server = resolve_pg_url()
    print(
        f"peak resident memory of a ranged classified_posts run ({args.posts_per_day} posts a day, twitter)"
    )
    for days in (30, 365):
        with scratch_database(server=server) as url:
            from kedah_analytics.warehouse import apply_migrations

            apply_migrations(url)
            seed(url, days, args.posts_per_day)
            figures = {}
            for layout in ("by day", "whole range"):
                out = subprocess.run([sys.executable, __file__, "--child", url, str(days), layout],
                                     capture_output=True, text=True)  # fmt: skip
                if out.returncode:
                    raise SystemExit(out.stderr[-3000:])
                figures[layout] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{days:>4} days, {days * args.posts_per_day:>7,} posts: by day {figures['by day']['peak_mib']} MiB, "
                  f"whole range in one DataFrame {figures['whole range']['peak_mib']} MiB "
                  f"(process after imports: {figures['by day']['baseline_mib']} MiB)")  # fmt: skip


if __name__ == "__main__":
    main()
