"""Partitions shared by the assets: Kedah days, platforms, and their product."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from itertools import product

import dagster as dg

from kedah_analytics.config.validate import configuration
from kedah_analytics.domain import DEMO_PROVIDER, PLATFORMS, TIMEZONE_NAME
from kedah_analytics.sources.demo.insights import demo_account_id
from kedah_analytics.sources.insights import AccountMetricsOutcome
from kedah_analytics.warehouse import PartitionFilter

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


def day_of(key: str) -> date:
    return date.fromisoformat(key)


def days_by_platform(partition_keys: list[str]) -> dict[str, list[date]]:
    """The days of each platform in a run of date x platform partitions (one or a range)."""
    out: dict[str, set[date]] = {}
    for key in partition_keys:
        by_dim = date_platform_partitions.get_partition_key_from_str(str(key)).keys_by_dimension
        out.setdefault(by_dim["platform"], set()).add(day_of(by_dim["date"]))
    return {platform: sorted(days) for platform, days in sorted(out.items())}


def replaced_account_rows(outcomes: Sequence[AccountMetricsOutcome]) -> PartitionFilter:
    """The rows a write of these outcomes replaces: the days of the accounts that answered, so an
    account that failed this time keeps the rows an earlier run stored for it. A real platform's
    write also removes the demo account's rows of its days: demo and real never share a partition."""
    keys = []
    for o in outcomes:
        accounts = [*o.succeeded, *([demo_account_id(o.platform)] if o.provider != DEMO_PROVIDER else [])]
        keys += [(day, o.platform, account) for day, account in product(o.days, accounts)]
    return PartitionFilter(("date", "platform", "account_id"), tuple(keys))


def date_platform_rows(days_by_platform: Mapping[str, Sequence[date]]) -> PartitionFilter:
    """The rows of a run's date x platform partitions."""
    return PartitionFilter(
        ("date", "platform"),
        tuple((day, platform) for platform, days in days_by_platform.items() for day in sorted(set(days))),
    )


def day_partitions(days: Sequence[date]) -> PartitionFilter:
    return PartitionFilter(("date",), tuple((d,) for d in sorted(set(days))))
