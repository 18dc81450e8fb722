"""Checks of the metrics stage: unique keys, and sentiment counts adding up to posts."""

from assets.common.checks import keys_unique_check, table_check
from assets.metrics.assets import place_daily_metrics
from kedah_analytics.quality import tables

place_daily_metrics_keys_unique = keys_unique_check(
    place_daily_metrics,
    ["date", "place_id", "platform", "provider"],
    "No two rows share (date, place, platform, provider).",
)
place_daily_metrics_consistent = table_check(
    place_daily_metrics, "place_daily_metrics_consistent", "Sentiment counts add up to posts; means in -1..1.",
    tables.place_metrics_consistent,
)  # fmt: skip
