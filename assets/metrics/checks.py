"""Checks of the metrics stage: unique keys, and sentiment counts adding up to posts."""

from assets.common.checks import table_check
from assets.metrics.assets import place_daily_metrics
from kedah_analytics.quality import tables

place_daily_metrics_keys_unique = table_check(
    place_daily_metrics, "place_daily_metrics_keys_unique", "No two rows share (date, place, platform, provider).",
    tables.duplicate_keys, "place_daily_metrics", ["date", "place_id", "platform", "provider"],
)  # fmt: skip
place_daily_metrics_consistent = table_check(
    place_daily_metrics, "place_daily_metrics_consistent", "Sentiment counts add up to posts; means in -1..1.",
    tables.place_metrics_consistent,
)  # fmt: skip
