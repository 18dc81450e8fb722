"""A simulated month: the project's real schedules and sensors over 30 days of simulated time
against fake X, Graph, YouTube and Google Trends APIs that enforce the providers' rules.

Prints, per day, the calls and units against each quota, X's cost against its budget, runs,
failures, deferrals, alerts and database bytes; then posts offered against stored per platform
and closing ``name: value`` lines (quota_breaches, runs_failed_by_quota, completeness_pct,
x_cost_over_budget_days, db_bytes_per_post), the runs, wall time and this process's CPU. The
machinery is in ``tests/month_sim/`` (a three-day version runs in ``make test``).

    .venv/bin/python bench/bench_month.py [--days 30] [--start 2026-10-01] [--youtube-search-allowance 100]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench"), str(ROOT)]

from _db import scratch_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--start", default="2026-10-01", help="first simulated day (UTC midnight); in the past"
    )
    parser.add_argument(
        "--youtube-search-allowance", type=int, default=100,
        help="search.list calls a Pacific day the fake YouTube allows (below 100: a tight quota, to see deferrals)",
    )  # fmt: skip
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("dagster").setLevel(logging.ERROR)
    from month_sim.driver import Simulation, run

    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
    began, cpu = time.monotonic(), time.process_time()
    with scratch_database("kedah_month") as url:
        sim = Simulation(url, start, args.days, youtube_search_allowance=args.youtube_search_allowance)
        run(sim)
    print(f"runs: {sum(day.runs for day in sim.per_day.values())}")
    print(f"wall_seconds: {time.monotonic() - began:.0f}")
    # This process's CPU: the runs execute in it, so this is the simulation's cost on this machine.
    print(f"cpu_seconds: {time.process_time() - cpu:.1f}")


if __name__ == "__main__":
    main()
