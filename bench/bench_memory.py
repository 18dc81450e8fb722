"""Peak memory of ranged classified_posts and raw_posts runs: 30 days against 365 days, each in a
fresh process.

The project's layout reads, classifies and writes classified_posts one day at a time (ReplaceChunks
over DailyRows), and fetches and merges raw_posts a platform and a week at a time (MergeChunks), so
a year should cost about what a month costs; the old layout (the whole range as one DataFrame) is
measured beside each, in the same process kind, on the same rows (raw_posts: the demo sources'
posts on every platform).

Run: .venv/bin/python bench/bench_memory.py [--posts-per-day 300] [--assets classified_posts raw_posts]
[--days 30 365] (a short check: --days 3 7 --posts-per-day 20)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dagster as dg  # noqa: E402
import pandas as pd  # noqa: E402
from _db import scratch_database  # noqa: E402

from assets.ingest.assets import RAW_POSTS_KEY  # noqa: E402
from kedah_analytics.config.paths import resolve_pg_url  # noqa: E402
from kedah_analytics.ingest import PostCollection  # noqa: E402
from kedah_analytics.warehouse import MergeChunk, MergeChunks  # noqa: E402
from resources import PostgresWarehouse, PostSources  # noqa: E402
from resources.run_scope import run_scope  # noqa: E402

START = date(2026, 1, 1)
# raw_posts comes from the demo sources, which give nothing for days not yet begun: a year that ended.
RAW_START = date(2025, 11, 1)
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

    from assets.common.runs import range_tags
    from kedah_analytics.definitions import defs
    from resources import PostgresIOManager, PostgresWarehouse, SentimentResource

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


def measure_raw(url: str, days: int, layout: str) -> None:
    """In a child process: a ranged raw_posts run over every platform; its peak resident memory (MiB)."""
    import time

    import dagster as dg

    from assets.common.partitions import date_platform_partitions
    from assets.common.runs import range_tags
    from assets.ingest.assets import raw_posts
    from kedah_analytics.domain import PLATFORMS
    from resources import PostgresIOManager, PostgresWarehouse, PostSources

    end = RAW_START + timedelta(days=days - 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The peak once every chunk is written, before Dagster records each partition's materialization
    # (that part costs the same in both layouts: it grows with the partitions, not with the posts).
    written: dict[str, float] = {}
    run_figures = PostCollection.run_figures

    def noting_peak(self: PostCollection) -> dict:
        written["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return run_figures(self)

    PostCollection.run_figures = noting_peak  # type: ignore[method-assign]
    import resources.io_manager as io_manager

    merge = io_manager._merge_chunk

    def merge_noting_peak(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the baseline's merges
        summary = merge(*args, **kwargs)
        written["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return summary

    io_manager._merge_chunk = merge_noting_peak
    asset = raw_posts if layout == "by chunk" else _whole_range_raw_posts(date_platform_partitions)
    started = time.monotonic()
    result = dg.materialize(
        [asset], instance=dg.DagsterInstance.ephemeral(),
        resources={"io_manager": PostgresIOManager(url=url), "warehouse": PostgresWarehouse(url=url),
                   "post_sources": PostSources(mode="demo")},
        tags=range_tags(f"{RAW_START}|{PLATFORMS[0]}", f"{end}|{PLATFORMS[-1]}"),
    )  # fmt: skip
    assert result.success
    (event, *_) = result.get_asset_materialization_events()
    posts = event.materialization.metadata["run_rows_written"].value
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mib": round(peak), "written_mib": round(written["peak"]), "baseline_mib": round(before),
                      "posts": posts, "seconds": round(time.monotonic() - started)}))  # fmt: skip


def _whole_range_raw_posts(partitions_def):  # noqa: ANN001, ANN202 - a bench-only asset
    """The old layout of raw_posts: each platform's whole range fetched before anything is written,
    every platform's posts in one DataFrame, then merged a platform at a time (each platform's
    slice of that DataFrame, the run's whole range, as one chunk)."""

    @dg.asset(name="raw_posts", partitions_def=partitions_def, backfill_policy=dg.BackfillPolicy.single_run())
    def whole_range(context, post_sources: PostSources, warehouse: PostgresWarehouse):  # noqa: ANN001, ANN202
        scope = run_scope(context)
        days = scope.days_by_platform()
        longest = max(len(d) for d in days.values())
        collection = PostCollection(days, post_sources, warehouse.quarantine, context.log, chunk_days=longest)
        fetched = list(collection.chunks())
        rows = pd.concat([c.rows for c in fetched], ignore_index=True)
        chunks = [MergeChunk(c.platform, c.days, rows[rows["platform"] == c.platform], c.provider, c.cursors)
                  for c in fetched]  # fmt: skip
        return MergeChunks(chunks, key=RAW_POSTS_KEY, scope=scope)

    return whole_range


def _unused() -> dict:
    from resources import AccountMetricSources, PostSources, SearchInterestSource

    return {"post_sources": PostSources(mode="demo"), "account_metric_sources": AccountMetricSources(mode="demo"),
            "search_interest_source": SearchInterestSource(mode="demo")}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts-per-day", type=int, default=300)
    parser.add_argument("--assets", nargs="+", default=["classified_posts", "raw_posts"],
                        choices=["classified_posts", "raw_posts"])  # fmt: skip
    parser.add_argument("--days", nargs="+", type=int, default=[30, 365], help="ranges to compare, in days")
    parser.add_argument("--child", nargs=4, metavar=("ASSET", "URL", "DAYS", "LAYOUT"))
    args = parser.parse_args()
    if args.child:
        asset, url, days, layout = args.child
        (measure if asset == "classified_posts" else measure_raw)(url, int(days), layout)
        return
    server = resolve_pg_url()
    if "classified_posts" in args.assets:
        print(
            f"peak resident memory of a ranged classified_posts run ({args.posts_per_day} posts a day, twitter)"
        )
        for days in args.days:
            with scratch_database(server=server) as url:
                seed(url, days, args.posts_per_day)
                figures = {
                    layout: _child("classified_posts", url, days, layout)
                    for layout in ("by day", "whole range")
                }
                print(f"{days:>4} days, {days * args.posts_per_day:>7,} posts: by day {figures['by day']['peak_mib']} MiB, "
                      f"whole range in one DataFrame {figures['whole range']['peak_mib']} MiB "
                      f"(process after imports: {figures['by day']['baseline_mib']} MiB)")  # fmt: skip
    if "raw_posts" in args.assets:
        print("peak resident memory of a ranged raw_posts run (demo sources, every platform)")
        for days in args.days:
            figures = {}
            for layout in ("by chunk", "whole range"):
                with scratch_database(server=server) as url:  # each layout into an empty table
                    figures[layout] = _child("raw_posts", url, days, layout)
            chunked, whole = figures["by chunk"], figures["whole range"]
            print(f"{days:>4} days, {chunked['posts']:>7,} posts: a platform and a week at a time "
                  f"{chunked['written_mib']} MiB once written, {chunked['peak_mib']} MiB with the materializations "
                  f"({chunked['seconds']} s); whole range in one DataFrame {whole['written_mib']} MiB, "
                  f"{whole['peak_mib']} MiB ({whole['seconds']} s) "
                  f"(process after imports: {chunked['baseline_mib']} MiB)")  # fmt: skip


def _child(asset: str, url: str, days: int, layout: str) -> dict:
    from kedah_analytics.config.settings import START_DATE

    # The partitions begin on the first day either bench asks for.
    env = {**os.environ, START_DATE.name: min(START, RAW_START).isoformat()}
    out = subprocess.run([sys.executable, __file__, "--child", asset, url, str(days), layout],
                         capture_output=True, text=True, env=env)  # fmt: skip
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
