"""Checks of the trends stage: term counts' keys and ranges, one model row a week, a day's predictions present."""

from assets.common.checks import keys_unique_check, table_check
from assets.trends.assets import (
    TERM_KEY,
    term_daily_counts,
    term_hourly_counts,
    trend_model,
    trend_predictions,
)
from kedah_analytics.quality import tables

term_daily_counts_keys_unique = keys_unique_check(
    term_daily_counts, TERM_KEY, "No two rows share (date, platform, term, type)."
)
term_daily_counts_non_negative = table_check(
    term_daily_counts, "term_daily_counts_non_negative", "Posts and engagement are never negative.",
    tables.values_in_range, "term_daily_counts", {"posts": (0, None), "engagement": (0, None)},
)  # fmt: skip
term_hourly_counts_keys_unique = keys_unique_check(
    term_hourly_counts,
    ["hour", "platform", "term", "term_type"],
    "No two rows share (hour, platform, term, type).",
)
trend_model_one_row_per_week = table_check(
    trend_model, "trend_model_one_row_per_week", "Each week holds exactly one training outcome.",
    tables.rows_present, "trend_model", why_empty="the week's training wrote no row",
)  # fmt: skip
trend_predictions_present = table_check(
    trend_predictions, "trend_predictions_present",
    "Every day holds predictions; a day without them fails here instead of going green with 0 rows.",
    tables.rows_present, "trend_predictions",
    why_empty="the forecaster needs 14 days of term counts before the day (see the run's log and metadata)",
)  # fmt: skip
trend_predictions_scores_in_range = table_check(
    trend_predictions, "trend_predictions_scores_in_range", "Confidence within 0..1, predicted volume >= 0.",
    tables.values_in_range, "trend_predictions", {"confidence": (0, 1), "predicted_volume": (0, None)},
)  # fmt: skip
