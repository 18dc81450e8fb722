"""Metrics automation: the job that aggregates a range of days, and the sensor that re-aggregates
any day whose classified posts changed."""

import dagster as dg

from assets.metrics.assets import place_daily_metrics
from assets.trends.assets import term_daily_counts, term_hourly_counts

DAILY_AGGREGATES = dg.AssetSelection.assets(place_daily_metrics, term_daily_counts, term_hourly_counts)

# Daily metrics and term counts follow their parents: once a day's posts of any platform are
# re-classified.
metrics_automation = dg.AutomationConditionSensorDefinition(
    "metrics_automation",
    target=DAILY_AGGREGATES,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)

daily_metrics_job = dg.define_asset_job(
    "daily_metrics",
    selection=DAILY_AGGREGATES,
    description="Aggregate a range of days into daily place metrics and term counts.",
)


JOBS = [daily_metrics_job]
SCHEDULES: list[dg.ScheduleDefinition] = []
SENSORS = [metrics_automation]
