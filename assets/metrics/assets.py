"""Metrics: daily figures per place and platform."""

from assets.common.daily import daily_from_classified_posts
from assets.common.frames import DataFrame
from kedah_analytics import place_metrics


def describe_place_metrics(daily: DataFrame) -> dict[str, int | float]:
    """A day's own figures: places with posts and posts (spam left out)."""
    return {
        "places_with_posts": int(daily["place_id"].nunique()) if len(daily) else 0,
        "posts": int(daily["posts"].sum()) if len(daily) else 0,
    }


place_daily_metrics = daily_from_classified_posts(
    "place_daily_metrics",
    "metrics",
    "Per day, place, platform and provider: posts, likes, comments, shares, views, sentiment\n"
    "counts and mean, and engagement, spam left out. ``provider`` says whether a row is demo data.",
    place_metrics.place_daily_metrics,
    describe_place_metrics,
    place_metrics.PLACE_METRIC_INPUTS,
)
