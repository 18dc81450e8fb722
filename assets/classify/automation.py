"""Classify automation: re-classify a day's posts whose cross-platform spam signal changed when
another platform's posts of that day (or the day before) arrived, so a day's classified rows are
the same whatever order its platforms came in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import dagster as dg
import psycopg

from assets.classify.assets import DUPLICATE_WINDOW_DAYS, classified_posts
from assets.common.partitions import date_platform_partitions
from assets.common.runs import range_tags
from kedah_analytics.domain import PLATFORMS
from kedah_analytics.warehouse.read import read_days
from resources import PostgresWarehouse

RAW_POSTS = dg.AssetKey("raw_posts")
SPAM_COLUMNS = ("post_id", "text", "author_id", "hashtags", "is_withheld")
MAX_DAYS_PER_TICK = 31

classify_posts_job = dg.define_asset_job(
    "classify_posts",
    selection=dg.AssetSelection.assets(classified_posts),
    description=(
        "Classify stored raw posts for a range of days of one platform: after a backfill has stored every "
        "platform's raw posts, or again when other platforms' posts changed a day's spam signal."
    ),
)


def finished_raw_partitions(
    instance: dg.DagsterInstance, after: int, max_days: int = MAX_DAYS_PER_TICK
) -> tuple[set[tuple[date, str]], int]:
    """The (day, platform) partitions of ``raw_posts`` written by runs that have finished since
    storage id ``after`` (at most ``max_days`` days of them), and the storage id to read from next
    time. A run still going stops the reading there: its classification step may be about to bring
    its own days up to date."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW_POSTS, after_storage_id=after), limit=1000, ascending=True
    ).records
    changed: set[tuple[date, str]] = set()
    finished: dict[str, bool] = {}
    for record in records:
        run_id = record.run_id
        if run_id not in finished:
            run = instance.get_run_by_id(run_id)
            finished[run_id] = run is None or run.is_finished
        if not finished[run_id]:
            break
        if record.partition_key:
            keys = date_platform_partitions.get_partition_key_from_str(record.partition_key).keys_by_dimension
            day = date.fromisoformat(keys["date"])
            if len({d for d, _ in changed} | {day}) > max_days:
                break  # a long backfill is checked over several ticks, a month at a time
            changed.add((day, keys["platform"]))
        after = record.storage_id
    return changed, after


def days_to_check(changed: Iterable[tuple[date, str]]) -> list[date]:
    """A day's posts are compared with every platform's posts of that day and the day before, so
    posts arriving on a day can change that day's and the next days' classified rows."""
    return sorted({day + timedelta(days=k) for day, _ in changed for k in range(DUPLICATE_WINDOW_DAYS + 1)})


def contiguous_runs(stale: Iterable[tuple[date, str, int]]) -> list[tuple[str, date, date, int]]:
    """(platform, first day, last day, posts) for each run of consecutive stale days of a platform:
    one ranged run re-classifies them, not one run per day (a backfill of one platform after
    another would otherwise launch a run for every day of every platform)."""
    runs: list[tuple[str, date, date, int]] = []
    for day, platform, posts in sorted(stale, key=lambda s: (s[1], s[0])):
        if runs and runs[-1][0] == platform and runs[-1][2] + timedelta(days=1) == day:
            _, first, _, total = runs[-1]
            runs[-1] = (platform, first, day, total + posts)
        else:
            runs.append((platform, day, day, posts))
    return runs


def stale_partitions(conn: psycopg.Connection, days: Iterable[date]) -> list[tuple[date, str, int]]:
    """(day, platform, posts) of every classified partition whose stored spam scores differ from
    what the stored raw posts give now (posts not yet classified are their own run's business)."""
    # pandas: when the sensor finds arrivals
    from kedah_analytics.classify.posts import stale_spam, window_index

    out = []
    for day in days:
        # One read of the day's spam window and one of its classified rows serve its four
        # platforms, and the window is fingerprinted once.
        first = day - timedelta(days=DUPLICATE_WINDOW_DAYS)
        window = read_days(conn, "raw_posts", first, day, ("date", "platform", *SPAM_COLUMNS))
        classified = read_days(conn, "classified_posts", day, day, ("platform", "post_id", "spam_score"))
        if classified.empty:
            continue
        index = window_index(window)
        of_day = window[window["date"] == day]
        for platform in PLATFORMS:
            stored = classified[classified["platform"] == platform]
            if stored.empty:
                continue
            raw = of_day[of_day["platform"] == platform]
            scores = dict(zip(stored["post_id"].astype(str), stored["spam_score"].astype(float), strict=True))
            if stale := stale_spam(raw, index, scores):
                out.append((day, platform, len(stale)))
    return out


@dg.sensor(
    job=classify_posts_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "When a platform's raw posts of a day arrive, re-classify the other platforms' posts of that day "
        "and the next whose near-duplicate spam signal they change (metrics_automation then follows)."
    ),
)
def cross_platform_spam(context: dg.SensorEvaluationContext, warehouse: PostgresWarehouse) -> dg.SensorResult:
    after = int(context.cursor or 0)
    changed, cursor = finished_raw_partitions(context.instance, after)
    if not changed:
        return dg.SensorResult(skip_reason="no raw posts written since the last check", cursor=str(cursor))
    with warehouse.connection() as conn:
        stale = stale_partitions(conn, days_to_check(changed))
    requests = [
        dg.RunRequest(
            run_key=f"reclassify-{first}..{last}|{platform}-{cursor}",
            tags={
                **range_tags(f"{first}|{platform}", f"{last}|{platform}"),
                "kedah/reason": f"{posts} posts' spam signal changed by other platforms' posts",
            },
        )
        for platform, first, last, posts in contiguous_runs(stale)
    ]
    context.log.info(
        f"{len(changed)} raw partitions written; {len(stale)} classified partitions stale, "
        f"re-classified in {len(requests)} run(s)"
    )
    return dg.SensorResult(run_requests=requests, cursor=str(cursor))


JOBS = [classify_posts_job]
SCHEDULES: list[dg.ScheduleDefinition] = []
SENSORS = [cross_platform_spam]
