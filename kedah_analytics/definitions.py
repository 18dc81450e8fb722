"""The one Dagster code location: assets, checks, schedules, sensors and resources."""

import os
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository

from assets import classify, ingest, insights, metrics, trends
from kedah_analytics.config import KEDAH_TZ
from kedah_analytics.executors import ExecutorSettings, celery_config, executor_settings
from kedah_analytics.sources.base import PLATFORMS
from resources import (
    AccountMetricSources,
    PostgresIOManager,
    PostgresWarehouse,
    PostSources,
    SearchInterestSource,
    sentiment_from_env,
)
from sensors import alerts, schedules

PG_URL = dg.EnvVar("KEDAH_PG_URL")
SOURCE_MODE = os.environ.get("KEDAH_SOURCE_MODE", "auto")
ASSET_MODULES = [ingest, insights, classify, metrics, trends]


def build_executor(settings: ExecutorSettings) -> dg.ExecutorDefinition | None:
    """KEDAH_EXECUTOR's executor; None keeps Dagster's default (multiprocess, or in-process)."""
    if settings.kind == "in_process":
        return dg.in_process_executor
    if settings.kind == "multiprocess":
        return dg.multiprocess_executor
    if settings.kind == "celery":
        from dagster_celery import celery_executor  # the optional `celery` extra

        return celery_executor.configured(celery_config(settings))
    return None


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
    ],
    schedules=[
        schedules.hourly_collection,
        schedules.weekly_training,
        schedules.hourly_predictions,
        schedules.daily_account_metrics,
        schedules.daily_search_interest,
    ],
    sensors=[schedules.metrics_automation, alerts.report_failed_runs],
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


def materialize_recent_days(days: int, instance: dg.DagsterInstance | None = None) -> str:
    """Materialize places, then raw and classified posts and daily metrics for the last ``days``
    Kedah days: one run per platform and one for the metrics, recorded in the instance so they
    show in the UI. Raises if a run fails."""
    instance = instance or dg.DagsterInstance.get()
    today = datetime.now(KEDAH_TZ).date()
    start = today - timedelta(days=days - 1)
    runs = [(defs.resolve_job_def("refresh_places"), {})]
    runs += [
        (defs.resolve_job_def("collect_posts"), schedules.range_tags(f"{start}|{p}", f"{today}|{p}"))
        for p in PLATFORMS
    ]
    runs.append((defs.resolve_job_def("daily_metrics"), schedules.range_tags(str(start), str(today))))
    for job, tags in runs:
        result = job.execute_in_process(instance=instance, tags={**tags, "kedah/launched_by": "seed"})
        if not result.success:
            raise RuntimeError(f"run {result.run_id} of {job.name} failed; see it in the Dagster UI")
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
