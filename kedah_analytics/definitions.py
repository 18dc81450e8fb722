"""The one Dagster code location: assets, checks, schedules, sensors and resources."""

from datetime import date, datetime, timedelta

import dagster as dg

from assets import classify, ingest, insights, marts, metrics, trends
from kedah_analytics import settings
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS
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

PG_URL = dg.EnvVar(settings.PG_URL.name)
SOURCE_MODE = settings.SOURCE_MODE.read() or "auto"
PARTITIONS_TAG = "kedah/partitions"
ASSET_MODULES = [ingest, insights, classify, metrics, trends, marts]

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
