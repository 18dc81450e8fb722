"""Wall time of a 90-day x 4-platform backfill through raw, classified and daily metrics:
the project's run layout (one run per platform for the whole range, one for the metrics) against
one run per partition, each on a fresh database and a Postgres-backed Dagster instance.

Run: .venv/bin/python bench/bench_backfill.py [--days 90]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import scratch_database  # noqa: E402

from kedah_analytics.config.paths import resolve_pg_url  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def instance_for(url: str) -> dg.DagsterInstance:
    home = Path(tempfile.mkdtemp(prefix="kedah_bench_home_"))
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["KEDAH_PG_URL"] = url
    return dg.DagsterInstance.from_config(str(home))


def run(job, instance, **kwargs) -> None:
    result = job.execute_in_process(instance=instance, **kwargs)
    if not result.success:
        raise SystemExit(f"run {result.run_id} failed")


def backfill(layout: str, days: list[date], server: str) -> tuple[float, int, int]:
    with scratch_database(server=server) as url:
        instance = instance_for(url)
        from assets.common.runs import range_tags
        from kedah_analytics.definitions import defs
        from kedah_analytics.domain import PLATFORMS

        collect, metrics = defs.resolve_job_def("collect_posts"), defs.resolve_job_def("daily_metrics")
        run(defs.resolve_job_def("refresh_places"), instance)
        started = time.perf_counter()
        runs = 0
        if layout == "ranges":
            for platform in PLATFORMS:
                run(collect, instance, tags=range_tags(f"{days[0]}|{platform}", f"{days[-1]}|{platform}"))
            run(metrics, instance, tags=range_tags(str(days[0]), str(days[-1])))
            runs = len(PLATFORMS) + 1
        else:
            for day in days:
                for platform in PLATFORMS:
                    run(collect, instance, partition_key=f"{day}|{platform}")
                run(metrics, instance, partition_key=str(day))
            runs = len(days) * (len(PLATFORMS) + 1)
        elapsed = time.perf_counter() - started
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT count(*) FROM kedah.classified_posts").fetchone()[0]
        instance.dispose()
        return elapsed, runs, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    days = [date(2026, 6, 1) + timedelta(days=i) for i in range(args.days)]
    server = resolve_pg_url()
    ranged = backfill("ranges", days, server)
    single = backfill("per-partition", days, server)
    assert ranged[2] == single[2], "both layouts must write the same posts"
    print(f"days: {args.days}   platforms: 4   classified posts written: {ranged[2]}")
    print(
        f"project_layout_seconds: {ranged[0]:.1f}   ({ranged[1]} runs: one per platform for the range + one for metrics)"
    )
    print(f"one_run_per_partition_seconds: {single[0]:.1f}   ({single[1]} runs)")
    print(f"speedup: {single[0] / ranged[0]:.1f}x")


if __name__ == "__main__":
    main()
