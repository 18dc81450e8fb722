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

AC = dg.AutomationCondition


def follow_changed_parents(
    wait_for_missing_parents: bool = True, wait_for_parent_backfills: bool = True
) -> dg.AutomationCondition:
    """Rebuild any partition (not only the latest: eager() looks at the newest time partition, so
    a backfilled week would stay stale) whose parents changed since it was last requested, once
    none of them is being written and it is not running itself.

    Unlike eager()'s since_last_handled(), the change is forgotten only when this condition
    requests the partition, not when the partition is materialized: in Dagster 1.13 an OR of
    conditions carries no timing, so a parent rewritten just after the partition's own
    materialization (both seen on one tick) was dropped, and the partition stayed stale. Each
    `since` below has one trigger and one reset, both timed, so a parent's later write wins. The
    cost: a partition rebuilt by hand after its parents (or in the same run) is rebuilt once more
    by automation.

    A refresh of the unpartitioned places table is not a change of every day: it would rebuild
    all history. ``wait_for_missing_parents=False`` (the marts): history windows reach back over
    days that may never have been materialized, which are quiet history, not a reason to wait.

    ``wait_for_parent_backfills=False`` (the marts) waits only for parents' runs, not for a
    backfill that still targets them: Dagster marks a backfill's partitions done on the backfill
    daemon's next pass, up to 30 s after their run ended, so a mart waiting for the backfill starts
    a whole daemon pass later (a minute after its parents instead of half a minute). The cost: when
    a backfill rewrites a parent in several runs, the marts may follow each run, not only the last."""
    # Not AC.any_deps_updated(): it is an OR (parents updated, or requested on this tick), and
    # Dagster 1.13's boolean operators carry no timing, so when the tick that sees a parent's
    # rewrite is also the one after this partition was requested, `since` lets the reset win and
    # the rewrite is dropped: a mart requested, its parent rewritten while the mart ran, and the
    # mart never rebuilt (tests/pipeline/test_no_stale_partition_daemon.py). any_deps_match of
    # newly_updated keeps each parent write's timestamp, so a write after the request wins.
    parent_written = AC.any_deps_match(AC.newly_updated()).with_label("any_deps_newly_updated")
    changed = AC.newly_missing().since_last_handled() | parent_written.since(AC.newly_requested())
    parents_busy = (
        AC.any_deps_in_progress()
        if wait_for_parent_backfills
        else AC.any_deps_match(AC.run_in_progress()).with_label("any_deps_run_in_progress")
    )
    condition = changed & ~parents_busy & ~AC.in_progress()
    if wait_for_missing_parents:
        condition = condition & ~AC.any_deps_missing()
    # The UI shows this label (about 35 characters fit its sidebar): a mart's condition, which
    # waits for its parents' runs only and allows gaps in its history, reads differently.
    label = "follow_changed_parents" if wait_for_parent_backfills else "follow_parent_runs"
    label += "" if wait_for_missing_parents else ", gaps ok"
    return condition.with_label(label).ignore(dg.AssetSelection.assets("places"))


# Daily aggregates: a day waits until each of its parent partitions exists.
FOLLOW_ANY_CHANGED_DAY = follow_changed_parents()

# A daily asset reads every platform's partition of the same day. Left to the default mapping it
# would read none of them, silently (REFERENCE.md).
ALL_PLATFORMS_OF_DAY = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date")
