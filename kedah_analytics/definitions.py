"""The one Dagster code location: assets, checks, schedules, sensors and resources."""

from datetime import datetime, timedelta

import dagster as dg

from assets import classify, ingest, insights, metrics, trends
from kedah_analytics import preflight, settings
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS
from resources import (
    AccountMetricSources,
    PostgresIOManager,
    PostgresWarehouse,
    PostSources,
    SearchInterestSource,
    sentiment_from_env,
)
from sensors import alerts, schedules

# A wrong variable or tracking file fails here, when the code location loads, naming every mistake:
# not minutes into a run, after raw_posts has committed, and not three times over.
preflight.check_configuration()

PG_URL = dg.EnvVar(settings.PG_URL.name)
SOURCE_MODE = settings.SOURCE_MODE.read() or "auto"
ASSET_MODULES = [ingest, insights, classify, metrics, trends]

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
    runs: list[tuple[dg.JobDefinition, dict[str, str]]] = [(defs.resolve_job_def("refresh_places"), {})]
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
