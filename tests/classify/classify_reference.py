"""The classification of posts as it was before issue 21 (kedah_analytics/classify/posts.py at
d8e5ded): each day on its own, a dict per row. Kept as the oracle the faster code must equal, frame
for frame (tests/classify/test_classify_days.py, bench/bench_classify_posts.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

from kedah_analytics.classify.base import FallbackClassifier, Sentiment, SentimentClassifier
from kedah_analytics.classify.normalize import post_text
from kedah_analytics.classify.text import (
    SpamSignals,
    detect_language,
    duplicated_across_accounts,
    hashtags_of,
    spam_signals,
    topics_of,
)
from kedah_analytics.places import PlaceLinker

CLASSIFIED_COLUMNS = [
    "platform", "post_id", "date", "created_at", "provider", "language", "sentiment_label",
    "sentiment_score", "sentiment_confidence", "keywords", "topics", "place_id", "city", "spam_score",
    "is_spam", "like_count", "comment_count", "share_count", "view_count", "engagement",
    "engagement_rate", "engagement_denominator", "classifier", "classifier_version",
]  # fmt: skip

# What each platform's view_count measures, so an engagement rate always names its denominator.
VIEW_DENOMINATOR = {"twitter": "impressions", "youtube": "views", "instagram": "views", "facebook": "views"}


def engagement_rate(
    platform: str, engagement: int, views: int | None, followers: int | None
) -> tuple[float | None, str | None]:
    """(engagement / denominator, denominator name); rates on different denominators never mix."""
    if views:
        return engagement / views, VIEW_DENOMINATOR.get(platform, "views")
    if followers:
        return engagement / followers, "followers"
    return None, None


# No sentiment is read from a withheld post: neutral, with no confidence in it.
WITHHELD_SENTIMENT = Sentiment("neutral", 0.0, 0.0)


def _count(value) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def _sentiments(classifier: SentimentClassifier, texts: list[str]) -> tuple[list, list[str], list[str]]:
    """Each post's sentiment and the classifier (name, version) that produced it: a classifier with
    ``classify`` (Gemini) may hand some posts to its offline fallback and says so per post."""
    if isinstance(classifier, FallbackClassifier):
        results = classifier.classify(texts)
        return ([r.sentiment for r in results], [r.classifier for r in results],
                [r.classifier_version for r in results])  # fmt: skip
    return classifier.predict(texts), [classifier.name] * len(texts), [classifier.version] * len(texts)


def _withheld(post: Any) -> bool:
    # A withheld post (X's withheld object) has no words of its author to read: it is kept for its
    # counts, but takes no part in sentiment, language, keywords, topics, place or spam.
    return bool(getattr(post, "is_withheld", False) is True)


def _hashtags(post: Any, text: str) -> list[str]:
    if _withheld(post):
        return []
    return hashtags_of(text, list(post.hashtags) if post.hashtags is not None else [])


def posts_spam(
    raw: pd.DataFrame, window: pd.DataFrame | None, texts: list[str] | None = None
) -> list[SpamSignals]:
    """Each raw post's spam signals (columns ``text``, ``author_id``, ``hashtags``, ``is_withheld``).

    ``window`` (columns ``text``, ``author_id``): the posts the near-duplicate signal compares with,
    every platform's posts of the post's day and the day before; None compares within ``raw``. This
    is the one part of a classified row that reads other partitions: :func:`stale_spam` tells
    whether stored rows still match it once other platforms' posts have arrived."""
    texts = texts if texts is not None else [post_text(t) for t in raw["text"].tolist()]
    authors = raw["author_id"].tolist()
    if window is None:
        duplicates = duplicated_across_accounts(texts, authors)
    else:
        window_texts = [post_text(t) for t in window["text"].tolist()]
        duplicates = duplicated_across_accounts(texts, authors, window_texts, window["author_id"].tolist())
    return [
        spam_signals(texts[i], _hashtags(post, texts[i]), duplicates[i] and not _withheld(post))
        for i, post in enumerate(raw.itertuples(index=False))
    ]


def stale_spam(raw: pd.DataFrame, window: pd.DataFrame, stored: Mapping[str, float]) -> list[str]:
    """The post ids whose stored spam score (``stored``: post id to ``spam_score`` of the classified
    rows) differs from what ``raw`` and ``window`` give now; posts not yet classified are left out."""
    if raw.empty:
        return []
    spams = posts_spam(raw, window)
    return [
        str(post_id)
        for post_id, spam in zip(raw["post_id"].tolist(), spams, strict=True)
        if str(post_id) in stored and abs(float(stored[str(post_id)]) - spam.score) > 1e-6
    ]


def classify_posts(
    raw: pd.DataFrame,
    linker: PlaceLinker,
    classifier: SentimentClassifier,
    window: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One classified row per raw post, in the raw rows' order.

    ``window``: the posts the near-duplicate spam signal compares with (see :func:`posts_spam`)."""
    if raw.empty:
        return pd.DataFrame(columns=CLASSIFIED_COLUMNS)
    texts = [post_text(t) for t in raw["text"].tolist()]
    sentiments, names, versions = _sentiments(classifier, texts)
    spams = posts_spam(raw, window, texts)
    rows = []
    for i, post in enumerate(raw.itertuples(index=False)):
        text = texts[i]
        withheld = _withheld(post)
        hashtags = _hashtags(post, text)
        matches = (
            linker.matches(text + " " + " ".join(h.lstrip("#") for h in hashtags)) if not withheld else []
        )
        place = matches[0] if matches else None
        place_words = sorted({linker.canonical_name(m.place_id) for m in matches})
        topics = topics_of(text) if not withheld else []
        spam = spams[i]
        likes, comments, shares = (
            _count(post.like_count),
            _count(post.comment_count),
            _count(post.share_count),
        )
        engagement = likes + comments + shares
        views = None if pd.isna(post.view_count) else int(post.view_count)
        followers = getattr(post, "author_followers", None)
        followers = None if followers is None or pd.isna(followers) else int(followers)
        rate, denominator = engagement_rate(str(post.platform), engagement, views, followers)
        sentiment = sentiments[i] if not withheld else WITHHELD_SENTIMENT
        rows.append(
            {
                "platform": post.platform,
                "post_id": post.post_id,
                "date": post.date,
                "created_at": post.created_at,
                "provider": post.provider,
                "language": detect_language(text) if not withheld else "other",
                "sentiment_label": sentiment.label,
                "sentiment_score": min(1.0, max(-1.0, float(sentiment.score))),
                "sentiment_confidence": min(1.0, max(0.0, float(sentiment.confidence))),
                "keywords": sorted(set(hashtags) | set(place_words)),
                "topics": topics,
                "place_id": place.place_id if place else None,
                "city": place.city if place else None,
                "spam_score": spam.score,
                "is_spam": spam.is_spam,
                "like_count": post.like_count,
                "comment_count": post.comment_count,
                "share_count": post.share_count,
                "view_count": post.view_count,
                "engagement": engagement,
                "engagement_rate": rate,
                "engagement_denominator": denominator,
                "classifier": names[i] if not withheld else "withheld",
                "classifier_version": versions[i] if not withheld else "-",
            }
        )
    return pd.DataFrame(rows, columns=CLASSIFIED_COLUMNS)


def classify_days(
    raw: pd.DataFrame,
    window: pd.DataFrame,
    days: tuple[date, ...],
    linker: PlaceLinker,
    classifier: SentimentClassifier,
    window_days: int,
) -> pd.DataFrame:
    """Each day of ``days`` classified on its own, against its own spam window (``window``'s rows of
    the day and the ``window_days`` before): the same rows as a run of that day alone."""
    raw_dates, window_dates = _dates(raw), _dates(window)
    frames = []
    for day in days:
        first = day - timedelta(days=window_days)
        around = window[(window_dates >= first) & (window_dates <= day)][["text", "author_id"]]
        frames.append(classify_posts(raw[raw_dates == day], linker, classifier, around))
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CLASSIFIED_COLUMNS)


def _dates(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["date"]).dt.date if len(frame) else pd.Series([], dtype=object)
