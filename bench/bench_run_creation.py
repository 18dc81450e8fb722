"""Creating a ranged run, as a backfill launched from the UI does: Dagster plans the run and records
one planned event per partition of each asset (and one per check) before the run starts. With the
project's instance these are written as one batch (sensors/event_batches.py); with
``DAGSTER_EVENT_BATCH_SIZE=0`` one at a time, as dagster-postgres wrote them before. Both on one
instance on a scratch database, alternated in this process.

Run: .venv/bin/python bench/bench_run_creation.py [--months 6] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import scratch_database  # noqa: E402
from bench_backfill import instance_for  # noqa: E402

from kedah_analytics.config.paths import resolve_pg_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from assets.common.runs import range_tags
    from kedah_analytics.definitions import defs
    from kedah_analytics.domain import PLATFORMS

    first = date(2026, 6, 1)
    last = first + timedelta(days=30 * args.months - 1)
    tags = range_tags(f"{first}|{PLATFORMS[0]}", f"{last}|{PLATFORMS[-1]}")
    job = defs.resolve_job_def("classify_posts")
    seconds: dict[str, list[float]] = {"batched": [], "one_at_a_time": []}
    with scratch_database(server=resolve_pg_url()) as url:
        instance = instance_for(url)
        instance.create_run_for_job(job_def=job, tags=tags)  # the first run pays for warming up
        for _ in range(args.repeats):
            for way, batch_size in (("one_at_a_time", "0"), ("batched", "1000")):
                os.environ["DAGSTER_EVENT_BATCH_SIZE"] = batch_size
                started = time.perf_counter()
                run = instance.create_run_for_job(job_def=job, tags=tags)
                seconds[way].append(time.perf_counter() - started)
        events = len(instance.get_records_for_run(run.run_id, limit=100_000).records)
        instance.dispose()
    os.environ.pop("DAGSTER_EVENT_BATCH_SIZE", None)
    print(f"classify_posts over {first}..{last} x {len(PLATFORMS)} platforms: {events} events at creation")
    for way, runs in seconds.items():
        print(f"{way:14s} {statistics.median(runs):6.2f} s   (runs: {', '.join(f'{s:.2f}' for s in runs)})")
    print(f"create_run_batched_s: {statistics.median(seconds['batched']):.2f}")
    print(f"create_run_one_at_a_time_s: {statistics.median(seconds['one_at_a_time']):.2f}")


if __name__ == "__main__":
    main()
