"""The one Dagster code location: assets, checks, schedules, sensors and resources."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository

from assets import classify, ingest, insights, marts, metrics, trends
from kedah_analytics import preflight, settings
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS
from kedah_analytics.executors import ExecutorSettings, celery_config, executor_settings
from kedah_analytics.trends.forecast import ForecastConfig
from resources import (
    AccountMetricSources,
    PostgresIOManager,
    PostgresWarehouse,
    PostSources,
    SearchInterestSource,
    sentiment_from_env,
)
from sensors import alerts, schedules
from sensors import marts as mart_sensors

# A wrong variable or tracking file fails here, when the code location loads, naming every mistake:
# not minutes into a run, after raw_posts has committed, and not three times over.
preflight.check_configuration()

PG_URL = dg.EnvVar(settings.PG_URL.name)
SOURCE_MODE = settings.SOURCE_MODE.read() or "auto"
PARTITIONS_TAG = "kedah/partitions"
ASSET_MODULES = [ingest, insights, classify, metrics, trends, marts]


def build_executor(settings: ExecutorSettings) -> dg.ExecutorDefinition:
    """KEDAH_EXECUTOR's executor. In-process by default: on one machine a run's steps share one
    process that imported the code location once, instead of paying that import per step."""
    if settings.kind == "multiprocess":
        return dg.multiprocess_executor
    if settings.kind == "celery":
        from dagster_celery import celery_executor  # the optional `celery` extra

        return celery_executor.configured(celery_config(settings))
    return dg.in_process_executor


defs = dg.Definitions(
    assets=dg.load_assets_from_modules(ASSET_MODULES),
    asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
    jobs=[
        schedules.collect_posts_job,
        schedules.refresh_places_job,
        schedules.daily_metrics_job,
        schedules.train_trend_model_job,
        schedules.predict_trends_job,
        schedules.collect_account_metrics_job,
        schedules.collect_search_interest_job,
        mart_sensors.build_marts_job,
    ],
    schedules=[
        schedules.hourly_collection,
        schedules.weekly_training,
        schedules.hourly_predictions,
        schedules.daily_account_metrics,
        schedules.daily_search_interest,
    ],
    sensors=[
        schedules.metrics_automation,
        alerts.report_failed_runs,
        mart_sensors.marts_automation,
        mart_sensors.send_alerts,
    ],
    executor=build_executor(executor_settings()),
    resources={
        "io_manager": PostgresIOManager(url=PG_URL),
        "warehouse": PostgresWarehouse(url=PG_URL),
        "post_sources": PostSources(mode=SOURCE_MODE, url=PG_URL),
        "account_metric_sources": AccountMetricSources(mode=SOURCE_MODE),
        "search_interest_source": SearchInterestSource(mode=SOURCE_MODE, url=PG_URL),
        "sentiment": sentiment_from_env(),
    },
)


def seed_runs(days: int, today: date) -> list[tuple[str, dict[str, str]]]:
    """The runs that fill every asset for the ``days`` Kedah days up to ``today``: posts and account
    metrics one run per platform, then search interest, daily aggregates, the trend model of the
    last complete week, predictions for the last week, and the marts. Each run is tagged with the
    partitions it covers, so the UI's run list says what a seed run did."""
    start = today - timedelta(days=days - 1)
    span = f"{start}..{today}"
    runs: list[tuple[str, dict[str, str]]] = [("refresh_places", {})]
    for job in ("collect_posts", "collect_account_metrics"):
        runs += [
            (job, {**schedules.range_tags(f"{start}|{p}", f"{today}|{p}"), PARTITIONS_TAG: f"{span}|{p}"})
            for p in PLATFORMS
        ]
    daily = {**schedules.range_tags(str(start), str(today)), PARTITIONS_TAG: span}
    runs += [("collect_search_interest", daily), ("daily_metrics", daily)]
    week = today - timedelta(days=today.weekday() + 7)  # Monday of the last complete week
    if week >= start:
        runs.append(
            ("train_trend_model", {"dagster/partition": str(week), PARTITIONS_TAG: f"week of {week}"})
        )
    first_prediction = max(
        start + timedelta(days=ForecastConfig().min_history_days), today - timedelta(days=6)
    )
    if first_prediction <= today:
        runs.append(
            ("predict_trends", {**schedules.range_tags(str(first_prediction), str(today)),
                                PARTITIONS_TAG: f"{first_prediction}..{today}"})
        )  # fmt: skip
    runs.append(("build_marts", daily))
    return runs


def materialize_recent_days(days: int, instance: dg.DagsterInstance | None = None) -> str:
    """Materialize every asset for the last ``days`` Kedah days (see :func:`seed_runs`), recorded
    in the instance so the runs show in the UI. Raises if a run fails."""
    instance = instance or dg.DagsterInstance.get()
    today = datetime.now(KEDAH_TZ).date()
    runs = seed_runs(days, today)
    for name, tags in runs:
        job = defs.resolve_job_def(name)
        result = job.execute_in_process(instance=instance, tags={**tags, "kedah/launched_by": "seed"})
        if not result.success:
            raise RuntimeError(f"run {result.run_id} of {job.name} failed; see it in the Dagster UI")
    start = today - timedelta(days=days - 1)
    return f"{days} day(s) x {len(PLATFORMS)} platforms ({start}..{today}) in {len(runs)} runs"


def backfill_range(
    first: date, last: date, platforms: Sequence[str], instance: dg.DagsterInstance | None = None
) -> list[tuple[str, int]]:
    """Places, then raw and classified posts for ``first``..``last`` (one run per platform, the
    whole range in it), then the daily metrics of the range, each run on the executor that
    KEDAH_EXECUTOR selects (Celery workers included): what a ranged backfill launches, run
    from the command line. Returns each run's id and step count; raises if a run fails."""
    instance = instance or dg.DagsterInstance.get()
    repository = ReconstructableRepository.for_module(__name__, "defs")
    runs: list[tuple[str, dict[str, str]]] = [("refresh_places", {})]
    runs += [("collect_posts", schedules.range_tags(f"{first}|{p}", f"{last}|{p}")) for p in platforms]
    runs.append(("daily_metrics", schedules.range_tags(str(first), str(last))))
    done: list[tuple[str, int]] = []
    for name, tags in runs:
        job = repository.get_reconstructable_job(name)
        with dg.execute_job(job, instance=instance, tags={**tags, "kedah/launched_by": "backfill"}) as result:
            if not result.success:
                raise RuntimeError(f"run {result.run_id} of {name} failed; see it in the Dagster UI")
            done.append((result.run_id, len(result.get_step_success_events())))
    return done
