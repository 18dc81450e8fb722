"""The one Dagster code location: assets, checks, schedules, sensors and resources."""

import functools
import logging
import os
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlencode

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from assets.classify import assets as classify_assets
from assets.classify import automation as classify_automation
from assets.classify import checks as classify_checks
from assets.common.runs import range_tags
from assets.ingest import assets as ingest_assets
from assets.ingest import automation as ingest_automation
from assets.ingest import checks as ingest_checks
from assets.insights import assets as insights_assets
from assets.insights import automation as insights_automation
from assets.insights import checks as insights_checks
from assets.maintenance import automation as maintenance_automation
from assets.marts import assets as marts_assets
from assets.marts import automation as marts_automation
from assets.marts import checks as marts_checks
from assets.metrics import assets as metrics_assets
from assets.metrics import automation as metrics_automation
from assets.metrics import checks as metrics_checks
from assets.trends import assets as trends_assets
from assets.trends import automation as trends_automation
from assets.trends import checks as trends_checks
from kedah_analytics.collector import tune_collector
from kedah_analytics.config import settings, validate
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS
from kedah_analytics.executors import ExecutorOptions, celery_config, options_from
from kedah_analytics.phases import Task, default_workers, run_plan, split_span
from kedah_analytics.trends.forecast_config import ForecastConfig
from resources import (
    AccountMetricSources,
    PostgresIOManager,
    PostgresWarehouse,
    PostSources,
    SearchInterestSource,
    sentiment_from_settings,
)
from sensors import run_failures

# Read once, checked as a whole: a wrong variable or tracking file fails when the code location
# loads, naming every mistake; not minutes into a run, after raw_posts has committed.
SETTINGS = validate.configuration().settings

PG_URL = dg.EnvVar(settings.PG_URL.name)
PARTITIONS_TAG = "kedah/partitions"
# Each stage keeps its assets, checks and automation (jobs, schedules, sensors) side by side.
ASSET_MODULES = [ingest_assets, insights_assets, classify_assets, metrics_assets, trends_assets, marts_assets]
CHECK_MODULES = [ingest_checks, insights_checks, classify_checks, metrics_checks, trends_checks, marts_checks]
AUTOMATION = [
    ingest_automation,
    insights_automation,
    classify_automation,
    metrics_automation,
    trends_automation,
    marts_automation,
    maintenance_automation,
]


def build_executor(options: ExecutorOptions) -> dg.ExecutorDefinition:
    """KEDAH_EXECUTOR's executor. In-process by default: on one machine a run's steps share one
    process that imported the code location once, instead of paying that import per step."""
    if options.kind == "multiprocess":
        return dg.multiprocess_executor
    if options.kind == "celery":
        from dagster_celery import celery_executor  # the optional `celery` extra

        return celery_executor.configured(celery_config(options))
    return dg.in_process_executor


defs = dg.Definitions(
    assets=dg.load_assets_from_modules(ASSET_MODULES),
    asset_checks=dg.load_asset_checks_from_modules(CHECK_MODULES),
    jobs=[job for stage in AUTOMATION for job in stage.JOBS],
    schedules=[schedule for stage in AUTOMATION for schedule in stage.SCHEDULES],
    sensors=[*(sensor for stage in AUTOMATION for sensor in stage.SENSORS), run_failures.report_failed_runs],
    executor=build_executor(options_from(SETTINGS)),
    resources={
        "io_manager": PostgresIOManager(url=PG_URL),
        "warehouse": PostgresWarehouse(url=PG_URL),
        "post_sources": PostSources(mode=SETTINGS.source_mode, url=PG_URL),
        "account_metric_sources": AccountMetricSources(mode=SETTINGS.source_mode),
        "search_interest_source": SearchInterestSource(mode=SETTINGS.source_mode, url=PG_URL),
        "sentiment": sentiment_from_settings(SETTINGS),
    },
)
# Every process that runs a step has loaded this module: from here on, the collector leaves what
# is loaded alone and runs less often (kedah_analytics/collector.py says why and what it saved).
tune_collector()


def lineage_path() -> str:
    """The Dagster UI's global lineage with every asset group open. The UI opens groups collapsed
    unless its ``expanded`` URL parameter names them (or the person opened them before: it keeps
    those in the browser's localStorage); a group is ``global@global:<group name>``."""
    groups = sorted({node.group_name for node in defs.resolve_asset_graph().asset_nodes if node.group_name})
    return "/asset-groups?" + urlencode(
        {"expanded": ",".join(f"global@global:{g}" for g in groups)}, safe=",:@"
    )


class SeedRun(NamedTuple):
    """One run of a seed or a command-line backfill: a job, the tags saying which partitions it
    covers, and the job's assets it materializes (all of them when empty)."""

    job: str
    tags: dict[str, str]
    assets: tuple[str, ...] = ()


# A ranged run's days are shared by runs side by side only in spans of at least this many days: a
# run costs a few seconds of Dagster's own (its events, checks, previews) before its first row.
MIN_SPAN_DAYS = 14
# Spans of a command-line backfill per worker process (backfill_plan): with more spans than
# workers, a span's classification overlaps the next span's collection, and the last span's
# classification and daily metrics, which nothing else overlaps, are shorter.
SPANS_PER_WORKER = 2


def platform_blocks(platforms: Sequence[str]) -> list[tuple[str, ...]]:
    """``platforms`` as runs of neighbours in the partitions' platform order: a ranged run from
    ``day|first`` to ``day|last`` covers every platform between the two (a rectangle of days and
    platforms), so one run can hold a block of neighbours and no platform that was not chosen."""
    blocks: list[list[str]] = []
    chosen = set(platforms)
    for platform in (p for p in PLATFORMS if p in chosen):
        if blocks and PLATFORMS.index(platform) == PLATFORMS.index(blocks[-1][-1]) + 1:
            blocks[-1].append(platform)
        else:
            blocks.append([platform])
    return [tuple(block) for block in blocks]


def post_runs(
    first: date, last: date, platforms: Sequence[str], labelled: bool = False, parts: int = 1
) -> list[SeedRun]:
    """Every platform's raw posts for ``first``..``last``, a run per platform, then their
    classification: a post's near-duplicate spam signal reads every platform's posts of its day,
    so classifying after all of them are stored leaves ``cross_platform_spam`` nothing to redo.

    Collection is a run per platform: its runs call the platform's API, and two runs of one
    platform at once would share one rate limit. Classification calls no API: a run covers every
    chosen platform (each block of neighbours, :func:`platform_blocks`), so a week's spam window,
    every platform's posts, is read and fingerprinted once rather than once per platform; and the
    range goes in up to ``parts`` runs of consecutive days (:func:`ranged_runs`'s spans), so that
    runs side by side end together. ``labelled``: each run tagged with what it covers, for the
    UI's run list."""

    def tags(block: tuple[str, ...], start: date, end: date) -> dict[str, str]:
        ranged = range_tags(f"{start}|{block[0]}", f"{end}|{block[-1]}")
        covers = block[0] if len(block) == 1 else f"{block[0]}..{block[-1]}"
        return {**ranged, PARTITIONS_TAG: f"{start}..{end}|{covers}"} if labelled else ranged

    return [SeedRun("collect_posts", tags((p,), first, last), ("raw_posts",)) for p in platforms] + [
        SeedRun("classify_posts", tags(block, start, end))
        for block in platform_blocks(platforms)
        for start, end in split_span(first, last, parts, MIN_SPAN_DAYS)
    ]


def seed_runs(days: int, today: date) -> list[SeedRun]:
    """The runs that fill every asset for the ``days`` Kedah days up to ``today``: raw posts and
    their classification (:func:`post_runs`) and account metrics, a run per platform each, then
    search interest, daily aggregates, the trend model of the last complete week, predictions for
    the last week, and the marts. Each run is tagged with the partitions it covers, so the UI's run
    list says what a seed run did."""
    start = today - timedelta(days=days - 1)
    span = f"{start}..{today}"
    runs: list[SeedRun] = [SeedRun("refresh_places", {})]
    runs += post_runs(start, today, PLATFORMS, labelled=True)
    runs += [
        SeedRun(
            "collect_account_metrics",
            {**range_tags(f"{start}|{p}", f"{today}|{p}"), PARTITIONS_TAG: f"{span}|{p}"},
        )
        for p in PLATFORMS
    ]
    daily = {**range_tags(str(start), str(today)), PARTITIONS_TAG: span}
    runs += [SeedRun("collect_search_interest", daily), SeedRun("daily_metrics", daily)]
    week = today - timedelta(days=today.weekday() + 7)  # Monday of the last complete week
    if (week + timedelta(days=6) - start).days + 1 >= ForecastConfig().min_backtest_days:
        runs.append(
            SeedRun("train_trend_model", {"dagster/partition": str(week), PARTITIONS_TAG: f"week of {week}"})
        )
    first_prediction = max(
        start + timedelta(days=ForecastConfig().min_history_days), today - timedelta(days=6)
    )
    if first_prediction <= today:
        runs.append(
            SeedRun("predict_trends", {**range_tags(str(first_prediction), str(today)),
                                       PARTITIONS_TAG: f"{first_prediction}..{today}"})
        )  # fmt: skip
    runs.append(SeedRun("build_marts", daily))
    return runs


SEED_LOG = logging.getLogger("kedah_analytics.seed")
# Seeding's console shows one line per run and per step (below); Dagster's own events, its DEBUG
# ones included, and the steps' warnings (the demo's quarantined items, one per week of a platform)
# stay in each run's event log, which the UI shows; the run's line counts the warnings.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _warnings(instance: dg.DagsterInstance, run_id: str) -> str:
    levels = (e.level for e in instance.all_logs(run_id) if not e.is_dagster_event)
    logged = sum(
        (level if isinstance(level, int) else logging.getLevelName(level)) >= logging.WARNING
        for level in levels
    )
    return f", {logged} warning(s) in its log" if logged else ""


def materialize_recent_days(days: int, instance: dg.DagsterInstance | None = None) -> str:
    """Materialize every asset for the last ``days`` Kedah days (see :func:`seed_runs`), recorded
    in the instance so the runs show in the UI, logging a line per run and step at INFO. Raises if
    a run fails."""
    instance = instance or dg.DagsterInstance.get()
    today = datetime.now(KEDAH_TZ).date()
    runs = seed_runs(days, today)
    seeding = time.monotonic()
    for number, (name, tags, assets) in enumerate(runs, 1):
        job = defs.resolve_job_def(name)
        started = time.monotonic()
        result = job.execute_in_process(
            instance=instance,
            tags={**tags, "kedah/launched_by": "seed"},
            run_config=QUIET_CONSOLE,
            asset_selection=[dg.AssetKey(a) for a in assets] or None,
        )
        if not result.success:
            raise RuntimeError(f"run {result.run_id} of {job.name} failed; see it in the Dagster UI")
        SEED_LOG.info(
            "run %d/%d %s (%s): %.1fs, run %s%s",
            number, len(runs), name, tags.get(PARTITIONS_TAG, "not partitioned"),
            time.monotonic() - started, result.run_id.split("-")[0], _warnings(instance, result.run_id),
        )  # fmt: skip
        for event in result.all_events:
            if event.is_step_success and event.step_key is not None:
                seconds = event.event_specific_data.duration_ms / 1000  # type: ignore[union-attr]
                SEED_LOG.info("    %-60s %6.2fs", event.step_key, seconds)
    start, elapsed = today - timedelta(days=days - 1), time.monotonic() - seeding
    return (
        f"{days} day(s) x {len(PLATFORMS)} platforms ({start}..{today}) in {len(runs)} runs, {elapsed:.0f}s"
    )


class RunDone(NamedTuple):
    """A run a command-line backfill finished: its id, job, steps, seconds, and the process it ran in."""

    run_id: str
    job: str
    steps: int
    seconds: float
    pid: int


@functools.cache
def _process_instance() -> dg.DagsterInstance:
    """DAGSTER_HOME's instance, one per process: a backfill's worker runs several runs on it."""
    return dg.DagsterInstance.get()


def execute_run(run: SeedRun, instance: dg.DagsterInstance | None = None) -> RunDone:
    """``run`` in this process on the executor KEDAH_EXECUTOR selects (Celery workers included),
    recorded in ``instance`` (DAGSTER_HOME's when None); raises if it fails."""
    started = time.monotonic()
    job = ReconstructableRepository.for_module(__name__, "defs").get_reconstructable_job(run.job)
    with dg.execute_job(
        job,
        instance=instance or _process_instance(),
        tags={**run.tags, "kedah/launched_by": "backfill"},
        asset_selection=[dg.AssetKey(a) for a in run.assets] or None,
    ) as result:
        if not result.success:
            raise RuntimeError(f"run {result.run_id} of {run.job} failed; see it in the Dagster UI")
        steps = len(result.get_step_success_events())
        return RunDone(result.run_id, run.job, steps, time.monotonic() - started, os.getpid())


def describe_run(run: SeedRun) -> str:
    """``run of collect_posts (2025-06-01|twitter..2025-06-30|twitter)``: what a failure names."""
    start, end = run.tags.get(ASSET_PARTITION_RANGE_START_TAG), run.tags.get(ASSET_PARTITION_RANGE_END_TAG)
    return f"run of {run.job} ({run.tags.get(PARTITIONS_TAG) or (f'{start}..{end}' if start else 'not partitioned')})"


def ranged_runs(job: str, first: date, last: date, parts: int = 1) -> list[SeedRun]:
    """``job`` over ``first``..``last`` as up to ``parts`` runs of consecutive days
    (:func:`~kedah_analytics.phases.split_span`). A ranged run is one process's work: the daily
    aggregates and the marts of a day depend on stored days only, never on a day the same run
    writes, so on several workers the range can be shared without changing a row."""
    return [
        SeedRun(job, {**range_tags(str(start), str(end)), PARTITIONS_TAG: f"{start}..{end}"})
        for start, end in split_span(first, last, parts, MIN_SPAN_DAYS)
    ]


def backfill_plan(first: date, last: date, platforms: Sequence[str], workers: int = 1) -> list[Task[SeedRun]]:
    """What a ranged backfill launches, each run after the runs whose rows it reads: places; then,
    span by span of consecutive days, every platform's raw posts (a run per platform, after the
    platform's previous span), their classification (a run per block of platforms,
    :func:`post_runs`, after every platform's raw posts of the span and so of the day before it)
    and the span's daily metrics (after its classification). On ``workers`` processes a long range
    goes in ``SPANS_PER_WORKER`` spans per worker (:func:`~kedah_analytics.phases.split_span`), so
    that a span is classified while the next is collected and little is left for the last."""
    parts = workers * SPANS_PER_WORKER if workers > 1 else 1
    plan: list[Task[SeedRun]] = [Task(SeedRun("refresh_places", {}))]
    last_of: dict[str, int] = {}  # each platform's latest collection: its next one waits for it
    for start, end in split_span(first, last, parts, MIN_SPAN_DAYS):
        runs = post_runs(start, end, platforms, labelled=True)
        collect = [r for r in runs if r.job == "collect_posts"]
        for platform, run in zip(platforms, collect, strict=True):
            plan.append(Task(run, (last_of.get(platform, 0),)))
            last_of[platform] = len(plan) - 1
        collected, first_classify = tuple(last_of[p] for p in platforms), len(plan)
        plan += [Task(run, collected) for run in runs if run.job == "classify_posts"]
        classified = tuple(range(first_classify, len(plan)))
        plan += [Task(run, classified) for run in ranged_runs("daily_metrics", start, end)]
    return plan


def initialize_pools(instance: dg.DagsterInstance) -> list[str]:
    """Create the rows of the pools the assets use (``source_api``) that the instance lacks; the
    pools created. Dagster creates a pool's row when a step first claims one of its slots, and two
    runs doing so at once on a new instance race: one fails on a duplicate key (dagster 1.13,
    ``concurrency_limits_concurrency_key_key``). So they are made once, before runs go side by side."""
    storage = instance.event_log_storage
    known = storage.get_concurrency_keys()
    pools = sorted(
        {pool for node in defs.resolve_asset_graph().asset_nodes for pool in node.pools or ()} - known
    )
    for pool in pools:
        storage.initialize_concurrency_limit_to_default(pool)
    return pools


def backfill_range(first: date, last: date, platforms: Sequence[str], workers: int = 1) -> list[RunDone]:
    """The runs of :func:`backfill_plan`, from the command line, on up to ``workers`` processes at
    once (kedah_analytics/phases.py); the instance is DAGSTER_HOME's. Raw
    posts' steps also take a ``source_api`` pool slot each (dagster.yaml), so no more of them call
    the social APIs at once than the pool allows, however many workers. Raises if a run fails."""
    initialize_pools(_process_instance())
    return run_plan(backfill_plan(first, last, platforms, workers), execute_run, workers, describe_run)


def backfill_summary(first: date, last: date, platforms: Sequence[str], workers: int = 0) -> dict[str, Any]:
    """:func:`backfill_range` on ``workers`` processes (0: one per core), and what the command
    prints of it: executor, workers, seconds, runs, steps and run ids."""
    if unknown := [p for p in platforms if p not in PLATFORMS]:
        raise ValueError(f"unknown platform(s) {', '.join(unknown)}: choose from {', '.join(PLATFORMS)}")
    # One per core; no more than the platforms' collections and a classification can keep busy.
    workers = workers or default_workers(len(platforms) + 1)
    started = time.monotonic()
    runs = backfill_range(first, last, platforms, workers)
    return {"executor": options_from(SETTINGS).kind, "workers": workers, "seconds": round(time.monotonic() - started, 2),
            "runs": len(runs), "steps": sum(r.steps for r in runs), "run_ids": [r.run_id for r in runs]}  # fmt: skip
