"""Partitions shared by the assets: Kedah days, platforms, and their product."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from kedah_analytics.config.validate import configuration
from kedah_analytics.domain import PLATFORMS, TIMEZONE_NAME

# Read with every other setting, checked as a whole: a bad KEDAH_START_DATE fails naming itself.
START_DATE = configuration().settings.start_date
# Weekly partitions run Monday to Sunday: the first Monday on or after the start.
FIRST_MONDAY = START_DATE + timedelta(days=(7 - START_DATE.weekday()) % 7)

# end_offset=1: today's partition exists while today is still collecting.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=START_DATE.isoformat(), timezone=TIMEZONE_NAME, end_offset=1
)
platform_partitions = dg.StaticPartitionsDefinition(list(PLATFORMS))
date_platform_partitions = dg.MultiPartitionsDefinition(
    {"date": daily_partitions, "platform": platform_partitions}
)

# Daily aggregates follow their parents on any day that changed, not only the latest one:
# eager() alone looks at the newest time partition, so a backfilled week would stay stale. A day
# waits until each of its parent partitions exists and none is still being written. A refresh of
# the unpartitioned places table is not a change of every day: it would rebuild all history.
FOLLOW_ANY_CHANGED_DAY = (
    dg.AutomationCondition.eager()
    .without(dg.AutomationCondition.in_latest_time_window())
    .ignore(dg.AssetSelection.assets("places"))
)

# A daily asset reads every platform's partition of the same day. Left to the default mapping it
# would read none of them, silently (REFERENCE.md).
ALL_PLATFORMS_OF_DAY = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date")
