"""Ingest automation: the collection job and one schedule per platform, each at the pace the
tracking file's ``polling.<platform>_minutes`` sets, over the days still moving."""

from datetime import datetime, timedelta

import dagster as dg

from assets.classify.assets import classified_posts
from assets.common.runs import platform_range_requests, skip_while_deferred
from assets.ingest.assets import places, raw_posts
from kedah_analytics.config.quotas import POLL_MINUTE, cron_for_interval
from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.config.validate import configuration
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS, TIMEZONE_NAME
from resources import PostgresWarehouse

collect_posts_job = dg.define_asset_job(
    "collect_posts",
    selection=dg.AssetSelection.assets(raw_posts, classified_posts),
    description="Collect and classify posts for a range of days of one platform.",
)


def refresh_requests(scheduled_time: datetime, platforms=PLATFORMS) -> list[dg.RunRequest]:
    """One run per platform covering yesterday and today (Kedah days): yesterday still moves."""
    today = scheduled_time.astimezone(KEDAH_TZ).date()
    stamp = scheduled_time.astimezone(KEDAH_TZ).strftime("%Y-%m-%dT%H:%M")
    return platform_range_requests(today - timedelta(days=1), today, lambda p: f"{p}-{stamp}", platforms)


def polling_minutes(tracking: TrackingConfig, platform: str) -> int:
    return int(getattr(tracking.polling, f"{platform}_minutes"))


def collection_schedule(platform: str, minutes: int) -> dg.ScheduleDefinition:
    """``<platform>_collection``: collect and classify yesterday and today for one platform every
    ``minutes``, at its own minute past the hour (so the platforms' runs do not start together)."""

    @dg.schedule(
        name=f"{platform}_collection",
        cron_schedule=cron_for_interval(minutes, minute=POLL_MINUTE[platform]),
        execution_timezone=TIMEZONE_NAME,
        job=collect_posts_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Every {minutes} minutes (polling.{platform}_minutes in the tracking file): collect and "
            f"classify today's and yesterday's {platform} posts. Skipped while {platform} is deferred "
            "because a quota ran out, until its reset."
        ),
        tags={"kedah/platform": platform},
    )
    def _collection(
        context: dg.ScheduleEvaluationContext, warehouse: PostgresWarehouse
    ) -> list[dg.RunRequest] | dg.SkipReason:
        # A platform whose quota ran out mid-run is not polled again until its reset.
        skip = skip_while_deferred(platform, context.scheduled_execution_time, warehouse)
        return skip or refresh_requests(context.scheduled_execution_time, (platform,))

    return _collection


refresh_places_job = dg.define_asset_job(
    "refresh_places", selection=dg.AssetSelection.assets(places), description="Reload the places table."
)

# One schedule per platform rather than one sensor deciding which platforms are due: each shows
# its own cadence, next tick and history in the UI and can be paused alone without touching the
# others; a platform whose quota ran out skips its own ticks until the reset, naming it.
COLLECTION_SCHEDULES = {
    platform: collection_schedule(platform, polling_minutes(configuration().tracking, platform))
    for platform in PLATFORMS
}

JOBS = [collect_posts_job, refresh_places_job]
SCHEDULES = list(COLLECTION_SCHEDULES.values())
SENSORS: list[dg.SensorDefinition] = []
