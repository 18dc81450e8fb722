"""Seconds of ``classify_days`` on one chunk of a backfill (issue 21), the current code against the
reference (the per-day, per-row implementation it replaced, tests/classify/classify_reference.py),
in the same process on the same rows, and a check that both give the same frame.

The rows are the demo source's, stored in a scratch database the way the ``raw_posts`` asset
stores them and read back the way the ``classified_posts`` asset reads them (a chunk of days
without the payload, and the spam window from ``read_days``), so dtypes are the asset's own.
The classifier is the project's default (``SentimentResource``: the offline model).

    KEDAH_PG_URL=... .venv/bin/python bench/bench_classify_posts.py [--days 7] [--posts-per-day 2000]
        [--repeat 3] [--only new|reference]

Ends with ``name: value`` lines. The model remembers the character n-grams of the words it has
seen, so one untimed pass warms it before old and new take turns.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FIRST_DAY = date(2025, 6, 2)
WINDOW_DAYS = 1  # assets.classify.assets.DUPLICATE_WINDOW_DAYS


def load_demo_rows(url: str, days: list[date]) -> int:
    """The demo posts of ``days`` on every platform, merged into kedah.raw_posts as the asset does."""
    from kedah_analytics.domain import PLATFORMS
    from kedah_analytics.sources.common.frames import posts_frame
    from kedah_analytics.sources.demo.posts import DemoSource
    from kedah_analytics.warehouse import merge_rows
    from kedah_analytics.warehouse.connection import connect
    from kedah_analytics.warehouse.sanitize import screen_posts

    fetched_at = datetime.now(UTC)
    source = DemoSource(clock=lambda: fetched_at)
    written = 0
    for platform in PLATFORMS:
        result = source.fetch_posts(platform, days)
        screened = screen_posts(result.posts, platform, result.provider, now=fetched_at)
        frame, _ = posts_frame(screened.posts, fetched_at, days)
        with connect(url) as conn:
            merge_rows(conn, "raw_posts", frame, key=("platform", "post_id"),
                       partitions=_partitions(days, [platform]), provider=result.provider)  # fmt: skip
        written += len(frame)
    return written


def _partitions(days, platforms):  # noqa: ANN001, ANN202 - a PartitionFilter
    from kedah_analytics.warehouse.scope import PartitionFilter

    return PartitionFilter(("date", "platform"), tuple((d, p) for d in days for p in platforms))


def read_chunk(url: str, days: tuple[date, ...]):  # noqa: ANN201 - ({platform: raw}, window)
    """Each platform's rows of the chunk (no payload: one ranged run per platform reads its own) and
    the spam window (every platform), as the asset reads them."""
    from kedah_analytics.domain import PLATFORMS
    from kedah_analytics.warehouse.columns import table_columns
    from kedah_analytics.warehouse.connection import connect
    from kedah_analytics.warehouse.read import read_days, read_table

    with connect(url) as conn:
        names = [c.name for c in table_columns(conn, "raw_posts") if c.name != "payload"]
        raws = {p: read_table(conn, "raw_posts", _partitions(days, [p]), names) for p in PLATFORMS}
        window = read_days(conn, "raw_posts", days[0] - timedelta(days=WINDOW_DAYS), days[-1],
                           ("date", "text", "author_id"))  # fmt: skip
    return raws, window


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--posts-per-day", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("new", "reference"), help="time one side (for a profiler)")
    args = parser.parse_args()
    os.environ["KEDAH_DEMO_POSTS_PER_DAY"] = str(args.posts_per_day)

    import pandas as pd
    from _db import scratch_database

    from kedah_analytics.classify import posts as current
    from kedah_analytics.config.settings import Settings
    from kedah_analytics.places import PlaceLinker, load_places
    from resources.classifier import sentiment_from_settings
    from tests.classify import classify_reference as reference

    days = tuple(FIRST_DAY + timedelta(days=i) for i in range(args.days))
    with scratch_database("kedah_bench_classify") as url:
        started = time.perf_counter()
        stored = load_demo_rows(url, [days[0] - timedelta(days=WINDOW_DAYS), *days])
        raws, window = read_chunk(url, days)
        print(f"setup: {stored} demo rows stored and read back in {time.perf_counter() - started:.1f} s")
    classifier = sentiment_from_settings(Settings.from_env()).get_classifier()
    linker = PlaceLinker(load_places())
    sides = {"reference": reference.classify_days, "new": current.classify_days}
    if args.only:
        sides = {args.only: sides[args.only]}

    def run(name: str) -> tuple[float, pd.DataFrame]:
        started = time.perf_counter()
        out = [sides[name](raw, window, days, linker, classifier, WINDOW_DAYS) for raw in raws.values()]
        return time.perf_counter() - started, pd.concat(out, ignore_index=True)

    run(next(iter(sides)))  # warm the model's n-gram memory and the regexes
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    frames: dict[str, pd.DataFrame] = {}
    for _ in range(args.repeat):
        for name in sides:
            took, frames[name] = run(name)
            seconds[name].append(took)
    posts = sum(len(raw) for raw in raws.values())
    print(f"posts: {posts} in {len(days)} days, window {len(window)} rows, classifier {classifier.name}")
    for name, times in seconds.items():
        print(f"{name}_s: {min(times):.3f} (runs {', '.join(f'{t:.3f}' for t in times)})")
        print(f"{name}_posts_per_s: {posts / min(times):.0f}")
    if len(sides) == 2:
        print(f"speedup: {min(seconds['reference']) / min(seconds['new']):.2f}")
        pd.testing.assert_frame_equal(frames["new"], frames["reference"], check_exact=True)
        print("identical: yes (assert_frame_equal, exact: dtypes, values, order)")


if __name__ == "__main__":
    main()
