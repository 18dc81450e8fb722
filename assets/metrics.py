"""Metrics: daily figures per place and platform."""

import dagster as dg
import pandas as pd

from assets.partitions import ALL_PLATFORMS_OF_DAY, FOLLOW_ANY_CHANGED_DAY, daily_partitions
from kedah_analytics import metrics
from kedah_analytics.warehouse import ReplaceRows, checks
from resources import PostgresWarehouse


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


@dg.asset_check(asset=place_daily_metrics, description="No two rows share (date, place, platform, provider).")
def place_daily_metrics_keys_unique(warehouse: PostgresWarehouse) -> dg.AssetCheckResult:
    return warehouse.run_check(
        checks.duplicate_keys, "place_daily_metrics", ["date", "place_id", "platform", "provider"]
    )


@dg.asset_check(asset=place_daily_metrics, description="Sentiment counts add up to posts; means in -1..1.")
def place_daily_metrics_consistent(warehouse: PostgresWarehouse) -> dg.AssetCheckResult:
    return warehouse.run_check(checks.place_metrics_consistent)
