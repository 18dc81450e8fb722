"""Hourly collection and classification of the days that are still moving."""

from datetime import timedelta

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from assets.classify import classified_posts
from assets.ingest import raw_posts
from assets.insights import account_daily_metrics, search_interest
from assets.metrics import place_daily_metrics
from assets.trends import keyword_daily_counts, keyword_hourly_counts
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS, TIMEZONE_NAME
from kedah_analytics.settings import GOOGLE_TRENDS
from kedah_analytics.sources.tracking import load_tracking

collect_posts_job = dg.define_asset_job(
    "collect_posts",
    selection=dg.AssetSelection.assets(raw_posts, classified_posts),
    description="Collect and classify posts for a range of days of one platform.",
)


def platform_range_requests(first, last, run_key, platforms=PLATFORMS) -> list[dg.RunRequest]:
    """One run per platform covering the Kedah days ``first``..``last`` of date x platform assets;
    ``run_key(platform)`` keeps a schedule from launching the same run twice."""
    return [
        dg.RunRequest(
            run_key=run_key(platform),
            tags={**range_tags(f"{first}|{platform}", f"{last}|{platform}"), "kedah/platform": platform},
        )
        for platform in platforms
    ]


def refresh_requests(scheduled_time, platforms=PLATFORMS) -> list[dg.RunRequest]:
    """One run per platform covering yesterday and today (Kedah days): yesterday still moves."""
    today = scheduled_time.astimezone(KEDAH_TZ).date()
    stamp = scheduled_time.astimezone(KEDAH_TZ).strftime("%Y-%m-%dT%H")
    return platform_range_requests(today - timedelta(days=1), today, lambda p: f"{p}-{stamp}", platforms)


@dg.schedule(
    cron_schedule="5 * * * *",
    execution_timezone=TIMEZONE_NAME,
    job=collect_posts_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour: collect and classify today's and yesterday's posts for every platform.",
)
def hourly_collection(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    return refresh_requests(context.scheduled_execution_time)


# Daily metrics and term counts follow their parents: once a day's posts of any platform are
# re-classified.
metrics_automation = dg.AutomationConditionSensorDefinition(
    "metrics_automation",
    target=dg.AssetSelection.assets(place_daily_metrics, keyword_daily_counts, keyword_hourly_counts),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)

refresh_places_job = dg.define_asset_job(
    "refresh_places", selection=dg.AssetSelection.assets("places"), description="Reload the places table."
)
daily_metrics_job = dg.define_asset_job(
    "daily_metrics",
    selection=dg.AssetSelection.assets(place_daily_metrics, keyword_daily_counts, keyword_hourly_counts),
    description="Aggregate a range of days into daily place metrics and term counts.",
)


def range_tags(start: str, end: str) -> dict[str, str]:
    return {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}


train_trend_model_job = dg.define_asset_job(
    "train_trend_model",
    selection=dg.AssetSelection.assets("trend_model"),
    description="Retrain the trend forecaster on the week that just ended and the 16 before it.",
)
# Mondays at 03:00 Kedah time, for the week that ended on Sunday.
weekly_training = dg.build_schedule_from_partitioned_job(
    train_trend_model_job, hour_of_day=3, minute_of_hour=0, default_status=dg.DefaultScheduleStatus.RUNNING
)

predict_trends_job = dg.define_asset_job(
    "predict_trends",
    selection=dg.AssetSelection.assets("trend_predictions"),
    description="Refresh today's trend predictions and burst flags.",
)


@dg.schedule(
    cron_schedule="35 * * * *",
    execution_timezone=TIMEZONE_NAME,
    job=predict_trends_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour, after collection: today's trend predictions with the latest burst flags.",
)
def hourly_predictions(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    today = context.scheduled_execution_time.astimezone(KEDAH_TZ).date()
    return dg.RunRequest(
        run_key=f"predict-{context.scheduled_execution_time:%Y%m%d%H}", partition_key=str(today)
    )


collect_account_metrics_job = dg.define_asset_job(
    "collect_account_metrics",
    selection=dg.AssetSelection.assets(account_daily_metrics),
    description="Fetch account-level insights for a range of days of one platform.",
)


def account_metrics_requests(
    scheduled_time, lookback_days: int = 3, platforms=PLATFORMS
) -> list[dg.RunRequest]:
    """One run per platform re-fetching the ``lookback_days`` Kedah days before today: platform
    insights settle up to 48 hours late, so each day is read again on the following days."""
    today = scheduled_time.astimezone(KEDAH_TZ).date()
    first, last = today - timedelta(days=lookback_days), today - timedelta(days=1)
    return platform_range_requests(first, last, lambda p: f"account-metrics-{p}-{today}", platforms)


@dg.schedule(
    cron_schedule="0 2 * * *",
    execution_timezone=TIMEZONE_NAME,
    job=collect_account_metrics_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily at 02:00 Kedah time: re-fetch the last three days of account metrics, one run per platform.",
)
def daily_account_metrics(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    lookback = load_tracking().polling.account_metrics_lookback_days
    return account_metrics_requests(context.scheduled_execution_time, lookback)


collect_search_interest_job = dg.define_asset_job(
    "collect_search_interest",
    selection=dg.AssetSelection.assets(search_interest),
    description=f"Fetch Google Trends interest in Kedah for a range of days (off unless {GOOGLE_TRENDS.name}=1).",
)


def search_interest_request(scheduled_time, lookback_days: int = 3) -> dg.RunRequest:
    """One run for the ``lookback_days`` Kedah days before today: Google marks its latest days
    partial and settles them later."""
    today = scheduled_time.astimezone(KEDAH_TZ).date()
    first, last = today - timedelta(days=lookback_days), today - timedelta(days=1)
    return dg.RunRequest(run_key=f"search-interest-{today}", tags=range_tags(str(first), str(last)))


@dg.schedule(
    cron_schedule="15 2 * * *",
    execution_timezone=TIMEZONE_NAME,
    job=collect_search_interest_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily at 02:15 Kedah time: Google Trends interest for the last three days (when enabled).",
)
def daily_search_interest(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return search_interest_request(context.scheduled_execution_time)
