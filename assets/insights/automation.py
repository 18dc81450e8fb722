"""Insights automation: account metrics re-read daily while they settle, and search interest at
the pace of the tracking file's ``polling.google_trends_minutes``."""

from datetime import datetime, timedelta

import dagster as dg

from assets.common.runs import (
    days_before,
    kedah_day,
    kedah_schedule,
    platform_range_requests,
    range_tags,
    skip_while_deferred,
)
from assets.insights.assets import TRENDS_SOURCE, account_daily_metrics, search_interest
from kedah_analytics.config.quotas import cron_for_interval
from kedah_analytics.config.settings import GOOGLE_TRENDS
from kedah_analytics.config.tracking import load_tracking
from kedah_analytics.config.validate import configuration
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS, TIMEZONE_NAME
from resources import PostgresWarehouse

collect_account_metrics_job = dg.define_asset_job(
    "collect_account_metrics",
    selection=dg.AssetSelection.assets(account_daily_metrics),
    description="Fetch account-level insights for a range of days of one platform.",
)


def account_metrics_requests(
    scheduled_time: datetime, lookback_days: int = 3, platforms: tuple[str, ...] = PLATFORMS
) -> list[dg.RunRequest]:
    """One run per platform re-fetching the ``lookback_days`` Kedah days before today: platform
    insights settle up to 48 hours late, so each day is read again on the following days."""
    first, last = days_before(scheduled_time, lookback_days)
    today = kedah_day(scheduled_time)
    return platform_range_requests(first, last, lambda p: f"account-metrics-{p}-{today}", platforms)


daily_account_metrics = kedah_schedule(
    "daily_account_metrics", "0 2 * * *", collect_account_metrics_job,
    "Daily at 02:00 Kedah time: re-fetch the last three days of account metrics, one run per platform.",
    # The lookback is read at each tick: the tracking file may change while the daemon runs.
    lambda scheduled_time: account_metrics_requests(
        scheduled_time, load_tracking().polling.account_metrics_lookback_days
    ),
)  # fmt: skip


collect_search_interest_job = dg.define_asset_job(
    "collect_search_interest",
    selection=dg.AssetSelection.assets(search_interest),
    description=f"Fetch Google Trends interest in Kedah for a range of days (off unless {GOOGLE_TRENDS.name}=1).",
)


def search_interest_request(scheduled_time: datetime, lookback_days: int = 3) -> dg.RunRequest:
    """One run for the ``lookback_days`` Kedah days before today: Google marks its latest days
    partial and settles them later."""
    local = scheduled_time.astimezone(KEDAH_TZ)
    today = local.date()
    first, last = today - timedelta(days=lookback_days), today - timedelta(days=1)
    stamp = str(today) if (local.hour, local.minute) == (2, 15) else local.strftime("%Y-%m-%dT%H:%M")
    return dg.RunRequest(run_key=f"search-interest-{stamp}", tags=range_tags(str(first), str(last)))


TRENDS_MINUTES = configuration().tracking.polling.google_trends_minutes


# The day's first poll at 02:15 Kedah time, after Google has settled the day before.
@dg.schedule(
    name="daily_search_interest",
    cron_schedule=cron_for_interval(TRENDS_MINUTES, hour=2, minute=15),
    execution_timezone=TIMEZONE_NAME,
    job=collect_search_interest_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Every {TRENDS_MINUTES} minutes from 02:15 Kedah time (polling.google_trends_minutes): "
    "Google Trends interest for the last three days (when enabled); skipped while Google Trends is "
    "deferred after refusing requests (429), until then.",
)
def daily_search_interest(
    context: dg.ScheduleEvaluationContext, warehouse: PostgresWarehouse
) -> dg.RunRequest | dg.SkipReason:
    skip = skip_while_deferred(TRENDS_SOURCE, context.scheduled_execution_time, warehouse)
    return skip or search_interest_request(context.scheduled_execution_time)


JOBS = [collect_account_metrics_job, collect_search_interest_job]
SCHEDULES = [daily_account_metrics, daily_search_interest]
SENSORS: list[dg.SensorDefinition] = []
