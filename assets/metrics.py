"""Metrics: daily figures per place and platform."""

import dagster as dg
import pandas as pd

from assets.checks import table_check
from assets.partitions import ALL_PLATFORMS_OF_DAY, FOLLOW_ANY_CHANGED_DAY, daily_partitions
from kedah_analytics import metrics
from kedah_analytics.warehouse import ReplaceRows, checks


@dg.asset(
    group_name="metrics",
    kinds={"postgres", "pandas"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={"classified_posts": dg.AssetIn(partition_mapping=ALL_PLATFORMS_OF_DAY)},
    automation_condition=FOLLOW_ANY_CHANGED_DAY,
)
def place_daily_metrics(
    context: dg.AssetExecutionContext, classified_posts: pd.DataFrame, places: pd.DataFrame
) -> dg.Output[ReplaceRows]:
    """Per day, place, platform and provider: posts, likes, comments, shares, views, sentiment
    counts and mean, and engagement, spam left out. ``provider`` says whether a row is demo data."""
    daily = metrics.place_daily_metrics(classified_posts, places)
    return dg.Output(
        ReplaceRows(daily),
        metadata={
            "places_with_posts": int(daily["place_id"].nunique()) if len(daily) else 0,
            "posts": int(daily["posts"].sum()) if len(daily) else 0,
            "providers": ", ".join(sorted(daily["provider"].unique())) if len(daily) else "",
        },
    )


place_daily_metrics_keys_unique = table_check(
    place_daily_metrics, "place_daily_metrics_keys_unique", "No two rows share (date, place, platform, provider).",
    checks.duplicate_keys, "place_daily_metrics", ["date", "place_id", "platform", "provider"],
)  # fmt: skip
place_daily_metrics_consistent = table_check(
    place_daily_metrics, "place_daily_metrics_consistent", "Sentiment counts add up to posts; means in -1..1.",
    checks.place_metrics_consistent,
)  # fmt: skip
