"""Metrics: daily figures per place and platform."""

import dagster as dg
import pandas as pd

from assets.common.partitions import ALL_PLATFORMS_OF_DAY, FOLLOW_ANY_CHANGED_DAY, daily_partitions
from kedah_analytics import place_metrics
from kedah_analytics.warehouse import ReplaceChunks
from kedah_analytics.warehouse.read import DailyRows


@dg.asset(
    group_name="metrics",
    kinds={"postgres", "pandas"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={"classified_posts": dg.AssetIn(partition_mapping=ALL_PLATFORMS_OF_DAY)},
    automation_condition=FOLLOW_ANY_CHANGED_DAY,
)
def place_daily_metrics(
    context: dg.AssetExecutionContext, classified_posts: DailyRows, places: pd.DataFrame
) -> dg.Output[ReplaceChunks]:
    """Per day, place, platform and provider: posts, likes, comments, shares, views, sentiment
    counts and mean, and engagement, spam left out. ``provider`` says whether a row is demo data."""
    chunks = (
        (day, place_metrics.place_daily_metrics(posts, places)) for day, posts in classified_posts.by_day()
    )
    return dg.Output(ReplaceChunks(chunks, describe=describe_place_metrics))


def describe_place_metrics(daily: pd.DataFrame) -> dict[str, int | float]:
    """A day's own figures: places with posts and posts (spam left out)."""
    return {
        "places_with_posts": int(daily["place_id"].nunique()) if len(daily) else 0,
        "posts": int(daily["posts"].sum()) if len(daily) else 0,
    }
