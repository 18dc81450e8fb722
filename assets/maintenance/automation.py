"""Maintenance automation: the daily job that empties raw payloads past KEDAH_PAYLOAD_RETENTION_DAYS."""

from datetime import datetime

import dagster as dg

from kedah_analytics.config import validate
from kedah_analytics.config.settings import PAYLOAD_RETENTION_DAYS
from kedah_analytics.domain import KEDAH_TZ, TIMEZONE_NAME
from kedah_analytics.warehouse.retention import prune_payloads
from resources import PostgresWarehouse


class PruneConfig(dg.Config):
    keep_days: int | None = None  # None: KEDAH_PAYLOAD_RETENTION_DAYS


# A Nothing output: what was pruned is the op's metadata, not a value for the warehouse's IO manager.
@dg.op(
    description="Empty the provider payload of raw posts older than the retention; the posts stay.",
    out=dg.Out(dg.Nothing),
)
def prune_payloads_op(
    context: dg.OpExecutionContext, config: PruneConfig, warehouse: PostgresWarehouse
) -> dg.Output[None]:
    keep = config.keep_days
    if keep is None:
        keep = validate.configuration().settings.payload_retention_days
    result = prune_payloads(warehouse.url, keep, datetime.now(KEDAH_TZ).date())
    if result.before is None:
        context.log.info(f"{PAYLOAD_RETENTION_DAYS.name}=0: every payload is kept")
    else:
        context.log.info(
            f"emptied the payload of {result.posts} posts on {result.days} days before {result.before} "
            f"({result.payload_bytes / 1e6:.1f} MB freed for reuse)"
        )
    return dg.Output(
        None,
        metadata={
            "keep_days": keep,
            "pruned_before": str(result.before) if result.before else "nothing (retention 0)",
            "days": result.days,
            "posts": result.posts,
            "payload_bytes_freed": result.payload_bytes,
        },
    )


@dg.job(description=f"Empty raw payloads older than {PAYLOAD_RETENTION_DAYS.name} days; posts stay.")
def prune_raw_payloads() -> None:
    prune_payloads_op()


# Daily at 04:30 Kedah time, away from the hourly collection's minutes.
daily_payload_retention = dg.ScheduleDefinition(
    name="daily_payload_retention",
    job=prune_raw_payloads,
    cron_schedule="30 4 * * *",
    execution_timezone=TIMEZONE_NAME,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Keeps raw_posts bounded: payloads older than {PAYLOAD_RETENTION_DAYS.name} are emptied.",
)

JOBS = [prune_raw_payloads]
SCHEDULES = [daily_payload_retention]
SENSORS: list[dg.SensorDefinition] = []
