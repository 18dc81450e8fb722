"""What the term counts read of the classified posts (apart from ``counts.py``, which loads pandas,
so that the asset definitions name it without loading pandas)."""

COUNT_COLUMNS = ("like_count", "comment_count", "share_count", "view_count")
TERM_COUNT_INPUTS = (
    "platform",
    "post_id",
    "created_at",
    "is_spam",
    "keywords",
    "topics",
    "place_id",
    *COUNT_COLUMNS,
)
