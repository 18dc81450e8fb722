"""Checks of the classify stage: unique keys, scores in range, and the share of posts linked to a place."""

import dagster as dg

from assets.classify.assets import classified_posts
from assets.common.checks import keys_unique_check, table_check
from kedah_analytics.quality import tables

classified_posts_keys_unique = keys_unique_check(
    classified_posts, ["platform", "post_id"], "No two rows share (platform, post_id).", blocking=True
)
classified_posts_scores_in_range = table_check(
    classified_posts, "classified_posts_scores_in_range", "Scores, confidences and rates within their ranges.",
    tables.classified_scores_in_range, blocking=True,
)  # fmt: skip
classified_posts_place_link_share = table_check(
    classified_posts, "classified_posts_place_link_share",
    "At least half the non-spam posts of the checked partitions name a place.",
    tables.place_link_share, severity=dg.AssetCheckSeverity.WARN,
)  # fmt: skip
