"""Run requests shared by the stages' schedules: a range of partitions in one run, and schedules on
Kedah time whose runs depend only on when they tick."""

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from kedah_analytics.deferrals import active_deferral
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS, TIMEZONE_NAME
from resources import PostgresWarehouse


def range_tags(start: str, end: str) -> dict[str, str]:
    """The tags that make one run cover the partitions ``start``..``end``."""
    return {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}


def platform_range_requests(
    first: date, last: date, run_key: Callable[[str], str], platforms: Iterable[str] = PLATFORMS
) -> list[dg.RunRequest]:
    """One run per platform covering the Kedah days ``first``..``last`` of date x platform assets;
    ``run_key(platform)`` keeps a schedule from launching the same run twice."""
    return [
        dg.RunRequest(
            run_key=run_key(platform),
            tags={**range_tags(f"{first}|{platform}", f"{last}|{platform}"), "kedah/platform": platform},
        )
        for platform in platforms
    ]


def kedah_day(scheduled_time: datetime) -> date:
    """The Kedah day a tick falls on."""
    return scheduled_time.astimezone(KEDAH_TZ).date()


def days_before(scheduled_time: datetime, days: int) -> tuple[date, date]:
    """The first and last of the ``days`` Kedah days before the tick's day."""
    today = kedah_day(scheduled_time)
    return today - timedelta(days=days), today - timedelta(days=1)


Requests = Callable[[datetime], dg.RunRequest | list[dg.RunRequest]]


def kedah_schedule(
    name: str, cron: str, job: UnresolvedAssetJobDefinition, description: str, requests: Requests
) -> dg.ScheduleDefinition:
    """A schedule on Kedah time, on by default, whose runs are ``requests(scheduled time)``: a plain
    function of when it ticks, tested without a schedule context."""

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        execution_timezone=TIMEZONE_NAME,
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )
    def tick(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | list[dg.RunRequest]:
        return requests(context.scheduled_execution_time)

    return tick


def skip_while_deferred(
    source: str, scheduled_time: datetime, warehouse: PostgresWarehouse
) -> dg.SkipReason | None:
    """A skip naming the reset when ``source`` (a platform, or ``google_trends``) is deferred past
    the tick because its quota ran out (``kedah_analytics.deferrals``); None when it may poll."""
    with warehouse.connection() as conn:
        deferred = active_deferral(conn, source, scheduled_time)
    return dg.SkipReason(deferred.skip_reason()) if deferred else None
