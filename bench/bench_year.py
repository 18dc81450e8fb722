"""A year of demo posts at a real Kedah volume, backfilled end to end as a data engineer would,
with the plan of `kedah-analytics backfill` (definitions.backfill_plan): places, then span by span
every platform's raw posts (a ranged run per platform), their classification (every platform in a
run) and the daily metrics and term counts, and here the marts of each span too (a ranged run
after the span's daily metrics), each run as soon as what it reads is stored, all on
KEDAH_EXECUTOR=in_process against a Postgres-backed Dagster instance (this repository's
dagster.yaml) on a scratch database. Runs go side by side on ``--workers`` processes, as the
command's do (kedah_analytics/phases.py; one per core by default); ``--workers 1`` runs them one
after the other in this process, the baseline.

For each stage: posts or rows per second, wall time (its first run's start to its last run's end:
the stages overlap), CPU time of its runs, the runs' own seconds summed, peak memory of all processes together
(this one's plus each worker's peak), and Dagster's share of the runs' seconds: time inside the instance's event storage (``store_event``
and ``store_event_batch``, wrapped in each process) and in asset-check steps (the events those
steps store counted once); each run's start, end and worker, and PostgreSQL's CPU over the whole
(every ``postgres`` process on the machine). Then, in this process, on one core, the ceilings: the classifier alone
on the same posts (a month of texts at a time), and COPY alone on the same rows (each table
streamed into an empty copy of itself, COPY TO piped into COPY FROM). It ends with ``name: value``
lines.

Run: .venv/bin/python bench/bench_year.py [--days 365] [--posts-per-day 2000] [--workers N]
[--default-collector] (the baseline of kedah_analytics/collector.py: CPython's own settings)
(``--days 30`` is a short check.)
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

FIRST_DAY = date(2025, 6, 1)
os.environ["KEDAH_EXECUTOR"] = "in_process"
os.environ["KEDAH_START_DATE"] = str(FIRST_DAY)  # the partitions must reach back a whole year

import dagster as dg  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ceilings import classifier_ceiling, copy_ceiling, count, postgres_cpu  # noqa: E402
from _db import scratch_database  # noqa: E402

from kedah_analytics.config.paths import resolve_pg_url  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MARTS = ("city_daily_overview", "place_rankings", "sentiment_by_category", "top_posts", "alerts")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _is_check_result(event: object) -> bool:
    return getattr(event, "dagster_event_type", None) == dg.DagsterEventType.ASSET_CHECK_EVALUATION


@dataclass
class EventTimer:
    """Seconds spent in the instance's event storage, wrapped around ``store_event`` and
    ``store_event_batch`` (events Dagster writes as a batch, see sensors/instance.py; a batch
    that falls back to ``store_event`` per event is counted once)."""

    seconds: float = 0.0
    events: int = 0
    batches: int = 0
    in_batch: bool = False
    # Asset-check steps' keys, and the seconds of events stored by those steps: a check step's
    # duration already holds them, so Dagster's share counts them once. Not a batch of check
    # evaluations (sensors/event_batches.py): the event that ends the step writes it, after the
    # step's end time; one written mid-step (a full batch) is then counted twice, erring high.
    check_steps: set[str] = field(default_factory=set)
    in_check_steps: float = 0.0

    def _add(self, event: object, seconds: float, *, batch: bool = False) -> None:
        self.seconds += seconds
        if getattr(event, "step_key", None) in self.check_steps and not (batch and _is_check_result(event)):
            self.in_check_steps += seconds

    def wrap(self, instance: dg.DagsterInstance) -> None:
        storage = instance.event_log_storage
        original = storage.store_event

        def timed(event, *args, **kwargs):  # type: ignore[no-untyped-def]
            if self.in_batch:
                return original(event, *args, **kwargs)
            started = time.perf_counter()
            try:
                return original(event, *args, **kwargs)
            finally:
                self._add(event, time.perf_counter() - started)
                self.events += 1

        storage.store_event = timed  # type: ignore[method-assign]
        original_batch = storage.store_event_batch

        def timed_batch(events, *args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            self.in_batch = True
            try:
                return original_batch(events, *args, **kwargs)
            finally:
                self.in_batch = False
                self._add(events[0] if events else None, time.perf_counter() - started, batch=True)
                self.events += len(events)
                self.batches += 1

        storage.store_event_batch = timed_batch  # type: ignore[method-assign]


@dataclass
class Stage:
    name: str
    unit: str
    count: int = 0
    wall: float = 0.0
    run_s: float = 0.0
    cpu: float = 0.0
    events_s: float = 0.0
    events: int = 0
    batches: int = 0
    checks_s: float = 0.0
    check_events_s: float = 0.0
    peak_mib: float = 0.0
    steps: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    # Each run: what it covers, its worker's pid, when it started (time.time()) and its seconds.
    runs: list[tuple[str, int, float, float]] = field(default_factory=list)


def check_step_keys(defs: dg.Definitions) -> set[str]:
    return {checks.node_def.name for checks in defs.asset_checks or () if hasattr(checks, "node_def")}


@dataclass
class RunStats:
    """One run as its process measured it."""

    run_id: str
    seconds: float
    cpu: float
    events_s: float
    events: int
    batches: int
    check_events_s: float
    pid: int
    peak_mib: float
    started: float  # time.time() at the start, comparable across the workers


def default_collector() -> None:
    """With ``--default-collector``, CPython's own collector settings in this process (the baseline
    of kedah_analytics/collector.py, which loading the code location applied)."""
    if os.environ.get("KEDAH_BENCH_DEFAULT_COLLECTOR"):
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)


@functools.cache
def _timed_instance() -> tuple[dg.DagsterInstance, EventTimer]:
    """DAGSTER_HOME's instance with its event storage timed, one per process."""
    from kedah_analytics.definitions import defs

    default_collector()
    instance, timer = dg.DagsterInstance.get(), EventTimer(check_steps=check_step_keys(defs))
    timer.wrap(instance)
    return instance, timer


def timed_run(run) -> RunStats:  # type: ignore[no-untyped-def]
    """``execute_run`` in this process (a worker, or the bench itself), its event storage timed."""
    from kedah_analytics.definitions import execute_run

    instance, timer = _timed_instance()
    started = time.time()
    before = (timer.seconds, timer.events, timer.batches, timer.in_check_steps, time.process_time())
    done = execute_run(run, instance)
    return RunStats(
        done.run_id, done.seconds, time.process_time() - before[4], timer.seconds - before[0],
        timer.events - before[1], timer.batches - before[2], timer.in_check_steps - before[3],
        os.getpid(), peak_rss_mib(), started,
    )  # fmt: skip


def run_measured(
    plan, stage_of, workers: int, instance, checks: set[str], peaks: dict[int, float], pool
) -> None:  # type: ignore[no-untyped-def]
    """``plan`` (kedah_analytics/phases.py) on ``workers``, in ``pool``'s processes, each run
    measured into its stage (``stage_of(run)``). Stages overlap: a span's classification goes
    while the next span is collected, so a stage's wall is from its first run's start to its last
    run's end."""
    from kedah_analytics.definitions import describe_run
    from kedah_analytics.phases import run_plan

    for task, run in zip(plan, run_plan(plan, timed_run, workers, describe_run, pool), strict=True):
        stage = stage_of(task.item)
        stage.runs.append((describe_run(task.item), run.pid, run.started, run.seconds))
        stage.wall = max(s + t for _, _, s, t in stage.runs) - min(s for _, _, s, _ in stage.runs)
        stage.run_s += run.seconds
        stage.cpu += run.cpu
        stage.events_s += run.events_s
        stage.events += run.events
        stage.batches += run.batches
        stage.check_events_s += run.check_events_s
        peaks[run.pid] = max(peaks.get(run.pid, 0.0), run.peak_mib)
        for step in instance.get_run_step_stats(run.run_id):
            seconds = (step.end_time or 0) - (step.start_time or 0)
            stage.steps[step.step_key] += seconds
            if step.step_key in checks:
                stage.checks_s += seconds
    peaks[os.getpid()] = peak_rss_mib()
    for stage in {id(stage_of(task.item)): stage_of(task.item) for task in plan}.values():
        stage.peak_mib = sum(peaks.values())


def with_marts(plan):  # type: ignore[no-untyped-def]
    """The backfill's ``plan`` without its places run (run before, outside the figures), and the
    marts of each span of daily metrics, after it and every earlier span's (an alert reads the
    weeks before its day)."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from kedah_analytics.definitions import ranged_runs
    from kedah_analytics.phases import Task

    plan = [Task(t.item, tuple(i - 1 for i in t.after if i)) for t in plan[1:]]
    daily = [i for i, t in enumerate(plan) if t.item.job == "daily_metrics"]
    for n, i in enumerate(daily):
        tags = plan[i].item.tags
        first = date.fromisoformat(tags[ASSET_PARTITION_RANGE_START_TAG])
        last = date.fromisoformat(tags[ASSET_PARTITION_RANGE_END_TAG])
        (marts,) = ranged_runs("build_marts", first, last)
        plan.append(Task(marts, tuple(daily[: n + 1])))
    return plan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--posts-per-day", type=int, default=2000)
    parser.add_argument(
        "--workers", type=int, default=0,
        help="a phase's runs side by side in this many processes (default: one per core); 1 is the baseline",
    )  # fmt: skip
    parser.add_argument(
        "--instance-yaml", type=Path, default=ROOT / "dagster.yaml", help="a baseline's dagster.yaml"
    )
    parser.add_argument(
        "--default-collector", action="store_true", help="the baseline: CPython's collector settings"
    )
    args = parser.parse_args()
    if args.default_collector:
        os.environ["KEDAH_BENCH_DEFAULT_COLLECTOR"] = "1"
    os.environ["KEDAH_DEMO_POSTS_PER_DAY"] = str(args.posts_per_day)
    days = [FIRST_DAY + timedelta(days=i) for i in range(args.days)]
    first = str(days[0])

    with scratch_database(server=resolve_pg_url()) as url:
        home = Path(tempfile.mkdtemp(prefix="kedah_bench_home_"))
        shutil.copy(args.instance_yaml, home / "dagster.yaml")
        os.environ["KEDAH_PG_URL"] = url
        os.environ["DAGSTER_HOME"] = str(home)  # the workers' instance, and timed_run's here
        instance = dg.DagsterInstance.from_config(str(home))
        from kedah_analytics.definitions import backfill_plan, defs, initialize_pools
        from kedah_analytics.domain import PLATFORMS
        from kedah_analytics.phases import default_workers, worker_pool

        default_collector()
        workers = args.workers or default_workers(len(PLATFORMS))
        initialize_pools(instance)  # before runs claim pool slots side by side
        checks = check_step_keys(defs)
        imported_mib = peak_rss_mib()
        peaks: dict[int, float] = {}
        plan = backfill_plan(days[0], days[-1], PLATFORMS, workers)
        places = Stage("places", "rows")
        posts = Stage("raw + classified posts", "posts")
        daily = Stage("daily metrics + term counts", "rows")
        marts = Stage("marts", "rows")
        stage_of = {"refresh_places": places, "collect_posts": posts, "classify_posts": posts,
                    "daily_metrics": daily, "build_marts": marts}  # fmt: skip
        daily_tables = ["place_daily_metrics", "term_daily_counts", "term_hourly_counts"]
        pool = worker_pool(workers)  # its processes start when two runs first go at once
        try:
            run_measured(plan[:1], lambda run: stage_of[run.job], workers, instance, checks, peaks, pool)
            started, postgres = time.perf_counter(), postgres_cpu()
            rest = with_marts(plan)
            run_measured(rest, lambda run: stage_of[run.job], workers, instance, checks, peaks, pool)
            wall, postgres = time.perf_counter() - started, postgres_cpu() - postgres
            posts.count = count(url, "raw_posts")
            daily.count = sum(count(url, t) for t in daily_tables)
            marts.count = sum(count(url, t) for t in MARTS)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        peak = sum(peaks.values())

        classify_s, classified = classifier_ceiling(url, days)
        copy_s, copied = copy_ceiling(url, ["raw_posts", "classified_posts", *daily_tables, *MARTS])
        event_log = type(instance.event_log_storage).__name__
        instance.dispose()

    stages = [posts, daily, marts]
    print(
        f"instance: {args.instance_yaml}   event log storage: {event_log}   collector: {gc.get_threshold()}"
    )
    print(
        f"days: {args.days} from {first}   posts per weekday: {args.posts_per_day}   workers: {workers} "
        f"(cores: {os.cpu_count()})   load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'stage':30s} {'count':>9s} {'per_s':>8s} {'wall_s':>8s} {'runs_s':>8s} {'cpu_s':>8s} {'events':>7s} {'event_s':>8s} {'checks_s':>8s} {'peak_MiB':>8s}")  # fmt: skip
    for s in stages:
        print(f"{s.name:30s} {s.count:9d} {s.count / s.wall:8.0f} {s.wall:8.1f} {s.run_s:8.1f} {s.cpu:8.1f} {s.events:7d} {s.events_s:8.1f} {s.checks_s:8.1f} {s.peak_mib:8.0f}")  # fmt: skip
    print("(a stage's wall runs from its first run's start to its last run's end; stages overlap)")
    print("steps (seconds, summed over runs):")
    for s in stages:
        for key, seconds in sorted(s.steps.items(), key=lambda kv: -kv[1]):
            print(f"  {s.name:30s} {key:45s} {seconds:8.1f}")
    print("runs (start and end in seconds from the first run's start, worker pid):")
    origin = min(started for s in stages for _, _, started, _ in s.runs)
    for s in stages:
        for described, pid, started, seconds in s.runs:
            start = started - origin
            print(f"  {start:7.1f} {start + seconds:7.1f} {pid:>7d}  {described}")
    print(
        f"ceiling, classifier alone on {classified} posts: {classify_s:.1f} s ({classified / classify_s:.0f} posts/s)"
    )
    print(f"ceiling, COPY alone on {copied} rows: {copy_s:.1f} s ({copied / copy_s:.0f} rows/s)")
    print(f"memory after imports: {imported_mib:.0f} MiB (this process); peak of each process: "
          + ", ".join(f"{mib:.0f}" for mib in peaks.values()) + " MiB")  # fmt: skip
    events, events_s = sum(s.events for s in stages), sum(s.events_s for s in stages)
    print(
        f"event storage: {events} events in {events_s:.1f} s, {sum(s.batches for s in stages)} of the writes batches"
    )
    # Event writes plus check steps, the events written inside check steps counted once, as a
    # share of the runs' own seconds (with workers, runs overlap: their seconds add up past the wall).
    dagster_s = sum(s.events_s + s.checks_s - s.check_events_s for s in stages)
    runs_s = sum(s.run_s for s in stages)
    print(
        f"runs' own seconds: {runs_s:.1f} over {wall:.1f} s of wall ({runs_s / wall:.2f} runs at once on average)"
    )
    print(f"PostgreSQL's CPU (every postgres process on the machine): {postgres:.1f} s")
    print(f"year_wall_s: {wall:.1f}")
    print(f"posts_per_s: {posts.count / wall:.0f}")
    print(f"ceiling_ratio: {wall / (classify_s + copy_s):.2f}")
    print(f"peak_rss_mib: {peak:.0f}")
    print(f"dagster_share_pct: {100 * dagster_s / runs_s:.1f}")


if __name__ == "__main__":
    main()
