"""Marts: the job that builds them for a range of days, their automation, and the sensor that
sends the alerts the `alerts` asset raised, once each, to KEDAH_ALERT_WEBHOOK and the log."""

import logging
from datetime import timedelta

import dagster as dg

from assets.common.staleness import stale_partitions_sensor
from kedah_analytics.config.settings import ALERT_WEBHOOK
from kedah_analytics.marts.periods import kedah_today
from kedah_analytics.marts.sent_alerts import mark_notified, pending_alerts
from kedah_analytics.notify import post_webhook
from resources import PostgresWarehouse

MARTS = dg.AssetSelection.groups("marts")

build_marts_job = dg.define_asset_job(
    "build_marts",
    selection=MARTS,
    description="Build the marts and alerts for a range of days.",
)

# A backfill of last year raises last year's alerts: they are kept for review, not sent.
SEND_DAYS = 2


def send_pending_alerts(
    warehouse: PostgresWarehouse, log: logging.Logger | dg.DagsterLogManager | None = None
) -> dict[str, int]:
    """Send each alert not yet sent; record it in the same transaction, so a failed post is
    retried on the next tick and a sent one never goes twice."""
    url = ALERT_WEBHOOK.read()
    oldest = kedah_today() - timedelta(days=SEND_DAYS)
    sent = {"webhook": 0, "log": 0, "skipped": 0}
    with warehouse.connection() as conn:
        for alert in pending_alerts(conn):
            channel = "skipped" if alert.date < oldest else ("webhook" if url else "log")
            with conn.transaction():
                if not mark_notified(conn, alert, channel):
                    continue
                if channel == "webhook" and url:
                    post_webhook(url, alert.message)
                if log is not None and channel != "skipped":
                    log.warning(alert.message)
            sent[channel] += 1
    return sent


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Sends each new alert from kedah.alerts once, to {ALERT_WEBHOOK.name} when set, else to the log.",
)
def send_alerts(context: dg.SensorEvaluationContext, warehouse: PostgresWarehouse) -> dg.SkipReason:
    try:
        sent = send_pending_alerts(warehouse, context.log)
    except Exception as err:  # never the URL: it may hold a token
        return dg.SkipReason(f"could not send alerts ({type(err).__name__}); retrying on the next tick")
    return dg.SkipReason(", ".join(f"{channel}: {n}" for channel, n in sent.items()))


# Every 15 s: the marts follow a rewritten parent within a minute (this tick's wait, then the
# backfill daemon's pass, up to 30 s, that launches the run automation emits, then the run). A
# tick costs about 0.3 s (bench/bench_marts_follow.py prints it).
marts_automation = dg.AutomationConditionSensorDefinition(
    "marts_automation",
    target=MARTS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
)

JOBS = [build_marts_job]
SCHEDULES: list[dg.ScheduleDefinition] = []
SENSORS = [marts_automation, send_alerts, stale_partitions_sensor]
