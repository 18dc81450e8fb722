"""Checks of the ingest stage: unique keys and required fields of places and raw posts."""

from assets.common.checks import keys_unique_check, table_check
from assets.ingest.assets import RAW_POSTS_KEY, places, raw_posts
from kedah_analytics.quality import tables

places_keys_unique = keys_unique_check(places, ["place_id"], "No two places share a place_id.")
raw_posts_keys_unique = keys_unique_check(
    raw_posts, RAW_POSTS_KEY, "No two rows share (platform, post_id).", blocking=True
)
raw_posts_required_fields = table_check(
    raw_posts, "raw_posts_required_fields", "Text present, counts >= 0, each post under its Kedah day.",
    tables.raw_posts_required_fields, blocking=True,
)  # fmt: skip
