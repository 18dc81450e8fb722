"""Daily metrics per place and platform from classified posts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

PLACE_METRIC_COLUMNS = [
    "date", "place_id", "place_name", "city", "platform", "provider", "posts", "spam_posts", "likes",
    "comments", "shares", "views", "positive", "neutral", "negative", "sentiment_mean", "engagement",
]  # fmt: skip


# The classified posts' columns place_daily_metrics reads.
PLACE_METRIC_INPUTS = (
    "date", "place_id", "platform", "provider", "is_spam", "sentiment_label", "sentiment_score",
    "like_count", "comment_count", "share_count", "view_count", "engagement",
)  # fmt: skip


def place_daily_metrics(classified: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Per day, place, platform and provider: non-spam post counts, engagement and sentiment.

    Spam posts are counted in ``spam_posts`` and left out of everything else; posts linked to no
    place are left out (the classified_posts check reports that share). ``provider`` keeps demo
    and real figures apart.
    """
    import pandas as pd

    if classified.empty:
        return pd.DataFrame(columns=PLACE_METRIC_COLUMNS)
    linked = classified[classified["place_id"].notna()].copy()
    if linked.empty:
        return pd.DataFrame(columns=PLACE_METRIC_COLUMNS)
    for column in ("like_count", "comment_count", "share_count", "view_count"):
        linked[column] = pd.to_numeric(linked[column], errors="coerce").fillna(0).astype("int64")
    linked["ham"] = ~linked["is_spam"].astype(bool)
    ham = linked["ham"]
    linked["posts"] = ham.astype(int)
    linked["spam_posts"] = (~ham).astype(int)
    for label in ("positive", "neutral", "negative"):
        linked[label] = (ham & (linked["sentiment_label"] == label)).astype(int)
    for source, target in (("like_count", "likes"), ("comment_count", "comments"), ("share_count", "shares"),
                           ("view_count", "views"), ("engagement", "engagement")):  # fmt: skip
        linked[target] = linked[source].where(ham, 0).astype("int64")
    linked["score_ham"] = linked["sentiment_score"].where(ham)
    keys = ["date", "place_id", "platform", "provider"]
    sums = ["posts", "spam_posts", "likes", "comments", "shares", "views", "positive", "neutral", "negative",
            "engagement"]  # fmt: skip
    grouped = linked.groupby(keys, as_index=False).agg(
        **{c: (c, "sum") for c in sums}, sentiment_mean=("score_ham", "mean")
    )
    names = places[["place_id", "name", "city"]].rename(columns={"name": "place_name"})
    out = grouped.merge(names, on="place_id", how="left")
    unknown = out["place_name"].isna()
    if unknown.any():
        raise ValueError(
            f"posts link to places missing from the places table: {sorted(out.loc[unknown, 'place_id'])}"
        )
    out["sentiment_mean"] = out["sentiment_mean"].astype("float64").round(6)
    return out[PLACE_METRIC_COLUMNS].sort_values(keys, ignore_index=True)
