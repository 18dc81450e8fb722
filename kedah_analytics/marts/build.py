"""The marts as plain functions of their parents' rows (no database, no Dagster).

Every mart keeps demo figures apart: its ``provider`` column is ``demo`` for demo rows and
``real`` for everything a real API gave, whichever provider (a city's figures sum X, Instagram,
Facebook and YouTube, which have different real providers but are one real total).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from kedah_analytics.domain import DEMO_PROVIDER

ALL_KEDAH = "All Kedah"
ALL_PLATFORMS = "all"
REAL = "real"
TOP_POSTS_PER_PLACE = 5
TEXT_CHARS = 280

# The overview's counts: summed over places, platforms and days (queries sums them over a period too).
OVERVIEW_COUNTS = ["posts", "likes", "comments", "shares", "views", "engagement", "positive", "neutral",
                   "negative"]  # fmt: skip

CITY_OVERVIEW_COLUMNS = [
    "date", "city", "platform", "provider", *OVERVIEW_COUNTS, "positive_share", "neutral_share", "negative_share",
    "sentiment_mean",
]  # fmt: skip
PLACE_RANKING_COLUMNS = [
    "date", "place_id", "provider", "place_name", "city", "category", "posts", "engagement",
    "rank_engagement", "rank_posts", "rank_engagement_city", "engagement_avg_7d", "engagement_avg_28d",
    "engagement_change_7d", "engagement_change_28d", "posts_avg_7d", "posts_avg_28d", "posts_change_7d",
    "posts_change_28d", "sentiment_mean", "sentiment_mean_28d", "sentiment_change_28d",
    "share_of_voice_city", "share_of_voice_kedah", "change_7d_reason", "change_28d_reason",
]  # fmt: skip
SENTIMENT_CATEGORY_COLUMNS = [
    "date", "city", "category", "provider", "posts", "positive", "neutral", "negative", "sentiment_mean",
]  # fmt: skip
TOP_POST_COLUMNS = [
    "date", "place_id", "provider", "rank", "place_name", "city", "platform", "post_id", "created_at",
    "author_name", "url", "text", "language", "sentiment_label", "sentiment_score", "likes", "comments",
    "shares", "views", "engagement",
]  # fmt: skip


def provider_kind(provider: pd.Series) -> pd.Series:
    """``demo`` or ``real``: the one distinction the marts keep."""
    return pd.Series(
        np.where(provider.astype(str) == DEMO_PROVIDER, DEMO_PROVIDER, REAL), index=provider.index
    )


def pct_change(current: float | pd.Series, previous: float | pd.Series) -> float | pd.Series:
    """Relative change in percent; NaN (shown as "new") where the previous value is 0."""
    if isinstance(current, pd.Series) or isinstance(previous, pd.Series):
        prev = pd.Series(previous, dtype="float64")
        cur = pd.Series(current, dtype="float64")
        return ((cur - prev) / prev.where(prev != 0) * 100.0).round(2)
    if not previous:
        return float("nan")
    return round((float(current) - float(previous)) / float(previous) * 100.0, 2)


def _weighted_mean(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Post-weighted mean of ``sentiment_mean`` per group: the mean over all the group's posts."""
    weighted = frame.assign(_w=frame["sentiment_mean"].fillna(0) * frame["posts"])
    sums = weighted.groupby(keys)[["_w", "posts"]].sum()
    return (sums["_w"] / sums["posts"].where(sums["posts"] > 0)).rename("sentiment_mean")


def _with_kind(place_metrics: pd.DataFrame) -> pd.DataFrame:
    frame = place_metrics.copy()
    frame["provider"] = provider_kind(frame["provider"])
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def city_daily_overview(place_metrics: pd.DataFrame) -> pd.DataFrame:
    """Per day, city (and ``All Kedah``), platform (and ``all``) and provider kind: posts,
    likes, comments, shares, views, engagement, sentiment counts and shares, mean sentiment.

    Built from ``place_daily_metrics``, so a city's total is the sum of its places' figures and
    spam is already left out."""
    if place_metrics.empty:
        return pd.DataFrame(columns=CITY_OVERVIEW_COLUMNS)
    frame = _with_kind(place_metrics)
    pieces = []
    for city_all in (False, True):
        for platform_all in (False, True):
            level = frame.assign(
                city=ALL_KEDAH if city_all else frame["city"],
                platform=ALL_PLATFORMS if platform_all else frame["platform"],
            )
            keys = ["date", "city", "platform", "provider"]
            sums = level.groupby(keys)[OVERVIEW_COUNTS].sum()
            pieces.append(sums.join(_weighted_mean(level, keys)).reset_index())
    out = pd.concat(pieces, ignore_index=True)
    for label in ("positive", "neutral", "negative"):
        out[f"{label}_share"] = (out[label] / out["posts"].where(out["posts"] > 0)).round(6)
    out["sentiment_mean"] = out["sentiment_mean"].astype("float64").round(6)
    return out[CITY_OVERVIEW_COLUMNS].sort_values(["date", "city", "platform", "provider"], ignore_index=True)


def _category(frame: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    categories = places[["place_id", "category"]]
    out = frame.merge(categories, on="place_id", how="left")
    out["category"] = out["category"].fillna("unknown")
    return out


def sentiment_by_category(place_metrics: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Per day, city (and ``All Kedah``), place category and provider kind: posts, sentiment
    counts and the mean sentiment over the posts."""
    if place_metrics.empty:
        return pd.DataFrame(columns=SENTIMENT_CATEGORY_COLUMNS)
    frame = _category(_with_kind(place_metrics), places)
    pieces = []
    for city_all in (False, True):
        level = frame.assign(city=ALL_KEDAH) if city_all else frame
        keys = ["date", "city", "category", "provider"]
        sums = level.groupby(keys)[["posts", "positive", "neutral", "negative"]].sum()
        pieces.append(sums.join(_weighted_mean(level, keys)).reset_index())
    out = pd.concat(pieces, ignore_index=True)
    out = out[out["posts"] > 0]
    out["sentiment_mean"] = out["sentiment_mean"].astype("float64").round(6)
    return out[SENTIMENT_CATEGORY_COLUMNS].sort_values(
        ["date", "city", "category", "provider"], ignore_index=True
    )


# The category of a place that is a city itself (places.csv): ranked with the cities, not the places.
CITY_CATEGORY = "city"


def place_rankings(place_metrics: pd.DataFrame, places: pd.DataFrame, days: list[date]) -> pd.DataFrame:
    """For each of ``days``: the places with posts that day, ranked by engagement and by posts
    (1 = most), against their daily average over the previous 7 and 28 days, their mean sentiment
    against the previous 28 days', and their share of the day's posts within their city and
    within Kedah (share of voice).

    Averages count only days the warehouse covers (a day with rows for any place; a covered day
    without posts for this place counts as 0). When fewer than the 7 (28) days before are
    covered, the change is NULL and ``change_7d_reason`` (``change_28d_reason``) says how many
    are, so a place is never "trending" because the days before it were never collected.

    ``place_metrics`` must hold the 28 days before each of ``days``.

    Places only: a city-level place (``Langkawi`` the island, ``Alor Setar`` the town; category
    ``city``) is a city, ranked among cities by ``city_daily_overview``; among its own attractions
    it took half the share of voice."""
    city_level = set(places.loc[places["category"] == CITY_CATEGORY, "place_id"])
    place_metrics = place_metrics[~place_metrics["place_id"].isin(city_level)]
    if place_metrics.empty:
        return pd.DataFrame(columns=PLACE_RANKING_COLUMNS)
    frame = _with_kind(place_metrics)
    keys = ["date", "place_id", "provider"]
    per_place = frame.groupby(keys)[["posts", "engagement"]].sum()
    per_place = per_place.join(_weighted_mean(frame, keys)).reset_index()
    names = places[["place_id", "name", "city", "category"]].rename(columns={"name": "place_name"})
    covered_days = {kind: set(dates) for kind, dates in frame.groupby("provider")["date"]}
    out_days = []
    for day in days:
        today = per_place[(per_place["date"] == day) & (per_place["posts"] > 0)]
        if today.empty:
            continue
        today = today.merge(names, on="place_id", how="left")
        for window in (7, 28):
            past = per_place[(per_place["date"] < day) & (per_place["date"] >= day - timedelta(days=window))]
            span = {day - timedelta(days=d) for d in range(1, window + 1)}
            covered = today["provider"].map(lambda kind, span=span: len(span & covered_days.get(kind, set())))
            today[f"covered_{window}d"] = covered.astype("int64")
            sums = past.groupby(["place_id", "provider"])[["posts", "engagement"]].sum()
            sums.columns = [f"posts_sum_{window}d", f"engagement_sum_{window}d"]
            today = today.merge(sums.reset_index(), on=["place_id", "provider"], how="left")
            if window == 28:
                past_mean = _weighted_mean(past, ["place_id", "provider"]).rename("sentiment_mean_28d")
                today = today.merge(past_mean.reset_index(), on=["place_id", "provider"], how="left")
        for window in (7, 28):
            covered = today[f"covered_{window}d"]
            complete = covered >= window
            for measure in ("engagement", "posts"):
                total = today[f"{measure}_sum_{window}d"].fillna(0.0)
                today[f"{measure}_avg_{window}d"] = (total / covered.where(covered > 0)).fillna(0.0).round(4)
                change = pd.Series(
                    pct_change(today[measure], today[f"{measure}_avg_{window}d"]), index=today.index
                )
                today[f"{measure}_change_{window}d"] = change.where(complete)
            today[f"change_{window}d_reason"] = [
                None if n >= window else f"only {n} of the {window} days before are in the warehouse"
                for n in covered
            ]
        today["sentiment_change_28d"] = (today["sentiment_mean"] - today["sentiment_mean_28d"]).round(6)
        group = today.groupby("provider")
        # Ties are broken by the other measure, then by place id, so ranks are stable across runs.
        ordered = today.sort_values(
            ["provider", "engagement", "posts", "place_id"], ascending=[True, False, False, True]
        )
        today["rank_engagement"] = ordered.groupby("provider").cumcount().reindex(today.index) + 1
        ordered = today.sort_values(
            ["provider", "posts", "engagement", "place_id"], ascending=[True, False, False, True]
        )
        today["rank_posts"] = ordered.groupby("provider").cumcount().reindex(today.index) + 1
        ordered = today.sort_values(["provider", "city", "engagement", "posts", "place_id"],
                                    ascending=[True, True, False, False, True])  # fmt: skip
        today["rank_engagement_city"] = (
            ordered.groupby(["provider", "city"]).cumcount().reindex(today.index) + 1
        )
        today["share_of_voice_kedah"] = (today["posts"] / group["posts"].transform("sum")).round(6)
        city_posts = today.groupby(["provider", "city"])["posts"].transform("sum")
        today["share_of_voice_city"] = (today["posts"] / city_posts).round(6)
        out_days.append(today)
    if not out_days:
        return pd.DataFrame(columns=PLACE_RANKING_COLUMNS)
    out = pd.concat(out_days, ignore_index=True)
    for column in ("sentiment_mean", "sentiment_mean_28d"):
        out[column] = out[column].astype("float64").round(6)
    return out[PLACE_RANKING_COLUMNS].sort_values(["date", "provider", "rank_engagement"], ignore_index=True)


# What top_posts reads of a raw post: the rest (the payload above all) stays in the warehouse.
TOP_POST_RAW_COLUMNS = ("platform", "post_id", "author_name", "url", "text")
# And of a classified post: not its keywords and topics, arrays that cost more to read than the rest.
TOP_POST_CLASSIFIED_COLUMNS = (
    "platform", "post_id", "date", "created_at", "provider", "place_id", "city", "is_spam", "language",
    "sentiment_label", "sentiment_score", "like_count", "comment_count", "share_count", "view_count",
    "engagement",
)  # fmt: skip


def top_posts(
    classified: pd.DataFrame, raw: pd.DataFrame, places: pd.DataFrame, per_place: int = TOP_POSTS_PER_PLACE
) -> pd.DataFrame:
    """Per day, place and provider kind: the ``per_place`` most engaging non-spam posts (ties
    broken by views, then the newest first), with author, url, text, language and sentiment.
    ``raw``: the raw posts (TOP_POST_RAW_COLUMNS), all of the days or only the picked ones
    (:func:`top_post_picks`, what the asset reads)."""
    return with_post_text(top_post_picks(classified, per_place), raw, places)


def top_post_picks(classified: pd.DataFrame, per_place: int = TOP_POSTS_PER_PLACE) -> pd.DataFrame:
    """:func:`top_posts` without the raw posts' columns: which posts, ranked."""
    empty = pd.DataFrame(
        columns=[*TOP_POST_CLASSIFIED_COLUMNS, "likes", "comments", "shares", "views", "rank"]
    )
    if classified.empty:
        return empty
    posts = classified[classified["place_id"].notna() & ~classified["is_spam"].astype(bool)]
    if posts.empty:
        return empty
    posts = posts.assign(
        provider=provider_kind(posts["provider"]), date=pd.to_datetime(posts["date"]).dt.date
    )
    for source, target in (("like_count", "likes"), ("comment_count", "comments"), ("share_count", "shares"),
                           ("view_count", "views")):  # fmt: skip
        posts[target] = pd.to_numeric(posts[source], errors="coerce").fillna(0).astype("int64")
    posts = posts.sort_values(
        ["date", "place_id", "provider", "engagement", "views", "created_at", "platform", "post_id"],
        ascending=[True, True, True, False, False, False, True, True],
    )
    posts["rank"] = posts.groupby(["date", "place_id", "provider"]).cumcount() + 1
    return posts[posts["rank"] <= per_place]


def with_post_text(picks: pd.DataFrame, raw: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """The top posts' rows: ``picks`` (:func:`top_post_picks`) with their raw posts' author, url
    and text (cut at TEXT_CHARS) and their place's name and city."""
    if picks.empty:
        return pd.DataFrame(columns=TOP_POST_COLUMNS)
    posts = picks.merge(raw[list(TOP_POST_RAW_COLUMNS)], on=["platform", "post_id"], how="left")
    posts["text"] = posts["text"].fillna("").str.slice(0, TEXT_CHARS)
    names = places[["place_id", "name", "city"]].rename(columns={"name": "place_name", "city": "place_city"})
    posts = posts.merge(names, on="place_id", how="left")
    posts["city"] = posts["place_city"].fillna(posts["city"])
    posts["place_name"] = posts["place_name"].fillna(posts["place_id"])
    return posts[TOP_POST_COLUMNS].sort_values(["date", "place_id", "provider", "rank"], ignore_index=True)
