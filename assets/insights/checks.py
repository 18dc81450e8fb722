"""Checks of the insights stage: unique keys of account metrics and search interest, interest in 0..100."""

from assets.common.checks import keys_unique_check, table_check
from assets.insights.assets import ACCOUNT_KEY, account_daily_metrics, search_interest
from kedah_analytics.quality import tables

account_daily_metrics_keys_unique = keys_unique_check(
    account_daily_metrics, ACCOUNT_KEY, "No two rows share (date, platform, account, metric)."
)
search_interest_keys_unique = keys_unique_check(
    search_interest, ["date", "keyword", "geo"], "No two rows share (date, keyword, geo)."
)
search_interest_in_range = table_check(
    search_interest, "search_interest_in_range", "Interest is within Google's 0..100.",
    tables.values_in_range, "search_interest", {"interest": (0, 100)},
)  # fmt: skip
