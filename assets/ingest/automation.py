"""Ingest automation: the collection job and the hourly schedule of the days still moving."""

from datetime import datetime, timedelta

import dagster as dg

from assets.classify.assets import classified_posts
from assets.common.runs import kedah_day, kedah_schedule, platform_range_requests
from assets.ingest.assets import places, raw_posts
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS

collect_posts_job = dg.define_asset_job(
    "collect_posts",
    selection=dg.AssetSelection.assets(raw_posts, classified_posts),
    description="Collect and classify posts for a range of days of one platform.",
)


def refresh_requests(scheduled_time: datetime, platforms: tuple[str, ...] = PLATFORMS) -> list[dg.RunRequest]:
    """One run per platform covering yesterday and today (Kedah days): yesterday still moves."""
    today = kedah_day(scheduled_time)
    stamp = scheduled_time.astimezone(KEDAH_TZ).strftime("%Y-%m-%dT%H")
    return platform_range_requests(today - timedelta(days=1), today, lambda p: f"{p}-{stamp}", platforms)


hourly_collection = kedah_schedule(
    "hourly_collection", "5 * * * *", collect_posts_job,
    "Every hour: collect and classify today's and yesterday's posts for every platform.", refresh_requests,
)  # fmt: skip


refresh_places_job = dg.define_asset_job(
    "refresh_places", selection=dg.AssetSelection.assets(places), description="Reload the places table."
)


JOBS = [collect_posts_job, refresh_places_job]
SCHEDULES = [hourly_collection]
SENSORS: list[dg.SensorDefinition] = []
