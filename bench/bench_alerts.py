"""The alerts mart's rules in a ranged run: each day judged on its own window of inputs, as a run of
that day alone judges it, the old way (one window cut and judged per day) against the new.

Inputs: ``term_hourly_counts`` and ``place_daily_metrics`` of ``--days`` days of demo posts at
``--posts-per-day``, made by the real jobs (places, posts, daily metrics) on a scratch database
and kept in a pickle under the temp folder, so a second run skips the seeding. The busiest term
bursts and the busiest place dips on a few days, so that alerts fire (demo posts are too even).

Only the rules are timed (burst and dip candidates), not the evidence read from the warehouse
for each alert, which neither way changes. It ends with ``name: value`` lines.

Run: .venv/bin/python bench/bench_alerts.py [--days 60] [--posts-per-day 2000] [--repeat 1] [--only old|new]
(the old way on another checkout: from outside the repository, that checkout first on PYTHONPATH,
``--only old``.)
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

FIRST_DAY = date(2025, 6, 1)
os.environ["KEDAH_EXECUTOR"] = "in_process"
os.environ.setdefault("KEDAH_START_DATE", str(FIRST_DAY))

import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import scratch_database  # noqa: E402

from kedah_analytics.config.paths import resolve_pg_url  # noqa: E402
from kedah_analytics.marts.alert_rules import (  # noqa: E402
    AlertConfig,
    burst_candidates,
    dip_candidates,
    platform_kinds,
)
from kedah_analytics.marts.alerts import AlertInputs  # noqa: E402

TABLES = ("term_hourly_counts", "place_daily_metrics", "places")


def seed(days: list[date], posts_per_day: int) -> dict[str, pd.DataFrame]:
    """The alert inputs of ``days``, made by the real jobs on a scratch database."""
    import dagster as dg
    import psycopg

    from assets.common.runs import range_tags
    from kedah_analytics.definitions import defs
    from kedah_analytics.domain import PLATFORMS
    from kedah_analytics.warehouse import read_table

    os.environ["KEDAH_DEMO_POSTS_PER_DAY"] = str(posts_per_day)
    first, last = str(days[0]), str(days[-1])
    with scratch_database(server=resolve_pg_url()) as url, dg.DagsterInstance.ephemeral() as instance:
        os.environ["KEDAH_PG_URL"] = url
        runs = [("refresh_places", {})]
        runs += [("collect_posts", range_tags(f"{first}|{p}", f"{last}|{p}")) for p in PLATFORMS]
        runs += [("daily_metrics", range_tags(first, last))]
        for job, tags in runs:
            started = time.perf_counter()
            assert defs.resolve_job_def(job).execute_in_process(instance=instance, tags=tags).success
            print(f"seeded {job} {tags.get('dagster/asset_partition_range_start', '')} in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
        with psycopg.connect(url) as conn:
            return {t: read_table(conn, t) for t in TABLES}


def stir_up(frames: dict[str, pd.DataFrame], days: list[date]) -> AlertInputs:
    """Bursts of the busiest term on some days, dips of the busiest place on others."""
    hourly, metrics = frames["term_hourly_counts"].copy(), frames["place_daily_metrics"].copy()
    busiest = hourly.groupby(["term", "term_type"])["posts"].sum().idxmax()
    burst_days = {days[i] for i in range(30, len(days), 9)} | {days[i] for i in range(31, len(days), 9)}
    on = (hourly["term"] == busiest[0]) & (hourly["term_type"] == busiest[1])
    on &= pd.to_datetime(hourly["date"]).dt.date.isin(burst_days)
    hourly.loc[on, "posts"] = hourly.loc[on, "posts"] * 40 + 30
    place = metrics.groupby("place_id")["posts"].sum().idxmax()
    dip_days = {days[i] for i in range(33, len(days), 11)}
    low = (metrics["place_id"] == place) & pd.to_datetime(metrics["date"]).dt.date.isin(dip_days)
    metrics.loc[low, ["sentiment_mean", "positive", "neutral"]] = (-0.9, 0, 0)
    metrics.loc[low, "negative"] = metrics.loc[low, "posts"]
    return AlertInputs(hourly, metrics, frames["places"])


def old_way(inputs: AlertInputs, days: list[date], config: AlertConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each day's window cut from the inputs and judged alone (``build_alerts_by_day`` before)."""
    bursts, dips = [], []
    for day in days:
        window = inputs.window(day, config.history_days)
        kinds = platform_kinds(window.place_metrics)
        bursts.append(burst_candidates(window.hourly_counts, [day], kinds, config))
        dips.append(dip_candidates(window.place_metrics, [day], config))
    return _concat(bursts), _concat(dips)


def new_way(inputs: AlertInputs, days: list[date], config: AlertConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    from kedah_analytics.marts.alert_ranges import candidates_by_day

    found = candidates_by_day(inputs.hourly_counts, inputs.place_metrics, days, config).values()
    return _concat([b for b, _ in found]), _concat([d for _, d in found])


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def timed(fn, *args) -> tuple[float, tuple[pd.DataFrame, pd.DataFrame]]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--posts-per-day", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", choices=("old", "new", "both"), default="both")
    args = parser.parse_args()
    all_days = [FIRST_DAY + timedelta(days=i) for i in range(args.days)]
    cache = Path(tempfile.gettempdir()) / f"kedah_bench_alerts_{args.days}d_{args.posts_per_day}.pkl"
    if cache.exists():
        frames = pickle.loads(cache.read_bytes())
    else:
        frames = seed(all_days, args.posts_per_day)
        cache.write_bytes(pickle.dumps(frames))
    config = AlertConfig()
    inputs = stir_up(frames, all_days)
    days = all_days  # as a ranged run of the whole range judges them
    print(f"days judged: {len(days)}   hourly rows: {len(inputs.hourly_counts)}   "
          f"metric rows: {len(inputs.place_metrics)}   terms: {inputs.hourly_counts['term'].nunique()}")  # fmt: skip
    best = {"old": float("inf"), "new": float("inf")}
    outs = {}
    for _ in range(args.repeat):
        for name, fn in (("old", old_way), ("new", new_way)):
            if args.only in (name, "both"):
                seconds, outs[name] = timed(fn, stir_up(frames, all_days), days, config)
                best[name] = min(best[name], seconds)
    for name in ("old", "new"):
        if name in outs:
            bursts, dips = outs[name]
            print(f"{name}_s: {best[name]:.2f}")
            print(f"{name}_bursts: {len(bursts)}")
            print(f"{name}_dips: {len(dips)}")
    if len(outs) == 2:
        same = all(_same(a, b) for a, b in zip(outs["old"], outs["new"], strict=True))
        print(f"identical: {same}")
        print(f"speedup: {best['old'] / best['new']:.1f}")


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a.empty and b.empty:
        return True
    try:
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    except AssertionError as err:
        print(f"differs: {err}")
        return False
    return True


if __name__ == "__main__":
    main()
