"""Turn raw posts into classified posts: sentiment, language, keywords, topics, place, spam, engagement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from kedah_analytics.classify.base import FallbackClassifier, Sentiment, SentimentClassifier
from kedah_analytics.classify.normalize import post_text
from kedah_analytics.classify.text import (
    NearDuplicateIndex,
    SpamSignals,
    detect_language,
    duplicated_across_accounts,
    duplicated_keys,
    hashtags_of,
    near_duplicate_keys,
    spam_signals,
    topics_of_normalized,
)
from kedah_analytics.places import PlaceLinker, normalize_joined, normalize_text

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
    raw: pd.DataFrame, window: pd.DataFrame | NearDuplicateIndex | None, texts: list[str] | None = None
) -> list[SpamSignals]:
    """Each raw post's spam signals (columns ``text``, ``author_id``, ``hashtags``, ``is_withheld``).

    ``window`` (columns ``text``, ``author_id``, or their :func:`window_index`): the posts the
    near-duplicate signal compares with, every platform's posts of the post's day and the day
    before; None compares within ``raw``. This is the one part of a classified row that reads other
    partitions: :func:`stale_spam` tells whether stored rows still match it once other platforms'
    posts have arrived."""
    texts = texts if texts is not None else [post_text(t) for t in raw["text"].tolist()]
    authors = raw["author_id"].tolist()
    if window is None:
        duplicates = duplicated_across_accounts(texts, authors)
    else:
        index = window if isinstance(window, NearDuplicateIndex) else window_index(window)
        duplicates = index.duplicated(near_duplicate_keys(texts), authors)
    return [
        spam_signals(texts[i], _hashtags(post, texts[i]), duplicates[i] and not _withheld(post))
        for i, post in enumerate(raw.itertuples(index=False))
    ]


def window_index(window: pd.DataFrame) -> NearDuplicateIndex:
    """The fingerprints of a spam window (columns ``text``, ``author_id``), to compare batches with."""
    keys = near_duplicate_keys([post_text(t) for t in window["text"].tolist()])
    return NearDuplicateIndex.of(keys, window["author_id"].tolist())


def stale_spam(
    raw: pd.DataFrame, window: pd.DataFrame | NearDuplicateIndex, stored: Mapping[str, float]
) -> list[str]:
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


@dataclass(frozen=True)
class PostColumns:
    """A raw chunk's columns as the classification reads them: each value as iterating the frame's
    rows gives it (so the classified frame infers the same dtypes), and each post's hashtags."""

    texts: list[str]
    withheld: list[bool]
    hashtags: list[list[str]]
    authors: list[Any]
    passed: dict[str, list[Any]]  # copied into the classified row as they are
    followers: list[Any]

    @classmethod
    def of(cls, raw: pd.DataFrame, texts: list[str]) -> PostColumns:
        withheld = (
            [value is True for value in raw["is_withheld"]] if "is_withheld" in raw else [False] * len(raw)
        )
        hashtags = [
            [] if hidden else hashtags_of(text, list(given) if given is not None else [])
            for text, given, hidden in zip(texts, raw["hashtags"], withheld, strict=True)
        ]
        return cls(
            texts=texts,
            withheld=withheld,
            hashtags=hashtags,
            authors=raw["author_id"].tolist(),
            passed={column: list(raw[column]) for column in PASSED_COLUMNS},
            followers=list(raw["author_followers"]) if "author_followers" in raw else [None] * len(raw),
        )


# Raw columns a classified row keeps as they are.
PASSED_COLUMNS = ("platform", "post_id", "date", "created_at", "provider",
                  "like_count", "comment_count", "share_count", "view_count")  # fmt: skip
# Every raw column the classification reads: the asset reads these and leaves the rest (the payload,
# urls, fetch times, references to other posts) in the warehouse.
RAW_COLUMNS_READ = (*PASSED_COLUMNS, "text", "author_id", "author_followers", "hashtags", "is_withheld")
# What the asset reads of the spam window's posts: the texts and accounts the signal compares, and
# which post each is, so that a post of the chunk is fingerprinted once (see classify_days).
SPAM_WINDOW_COLUMNS = ("date", "text", "author_id", "platform", "post_id")


def _classified_frames(
    posts: PostColumns,
    sizes: list[int],
    sentiments: list[Sentiment],
    names: list[str],
    versions: list[str],
    spams: list[SpamSignals],
    linker: PlaceLinker,
) -> list[pd.DataFrame]:
    """The classified rows of ``posts``, a frame for each run of ``sizes`` rows (a day's)."""
    passed = posts.passed
    rows = []
    for i, text in enumerate(posts.texts):
        withheld = posts.withheld[i]
        hashtags = posts.hashtags[i]
        if withheld:
            matches, topics, language, sentiment = [], [], "other", WITHHELD_SENTIMENT
            classifier, version = "withheld", "-"
        else:
            normalized = normalize_text(text)
            tags = " ".join(h.lstrip("#") for h in hashtags)
            matches = linker.matches_normalized(normalize_joined(text, normalized, tags))
            topics = topics_of_normalized(normalized)
            language, sentiment = detect_language(text), sentiments[i]
            classifier, version = names[i], versions[i]
        place = matches[0] if matches else None
        place_words = sorted({linker.canonical_name(m.place_id) for m in matches})
        spam = spams[i]
        likes, comments, shares, views = (passed["like_count"][i], passed["comment_count"][i],
                                          passed["share_count"][i], passed["view_count"][i])  # fmt: skip
        engagement = _count(likes) + _count(comments) + _count(shares)
        followers = posts.followers[i]
        followers = None if followers is None or pd.isna(followers) else int(followers)
        rate, denominator = engagement_rate(
            str(passed["platform"][i]), engagement, None if pd.isna(views) else int(views), followers
        )
        rows.append((
            passed["platform"][i], passed["post_id"][i], passed["date"][i], passed["created_at"][i],
            passed["provider"][i], language, sentiment.label,
            min(1.0, max(-1.0, float(sentiment.score))), min(1.0, max(0.0, float(sentiment.confidence))),
            sorted(set(hashtags) | set(place_words)), topics,
            place.place_id if place else None, place.city if place else None, spam.score, spam.is_spam,
            likes, comments, shares, views, engagement, rate, denominator, classifier, version,
        ))  # fmt: skip
    frames, start = [], 0
    for size in sizes:
        # Rows as tuples take the same dtype inference as the rows as dicts they replaced.
        frames.append(pd.DataFrame(rows[start : start + size], columns=CLASSIFIED_COLUMNS))
        start += size
    return frames


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
    return _classified_frames(PostColumns.of(raw, texts), [len(raw)], sentiments, names, versions,
                              spams, linker)[0]  # fmt: skip


def classify_days(
    raw: pd.DataFrame,
    window: pd.DataFrame,
    days: tuple[date, ...],
    linker: PlaceLinker,
    classifier: SentimentClassifier,
    window_days: int,
) -> pd.DataFrame:
    """Each day of ``days`` classified against its own spam window (``window``'s rows of the day and
    the ``window_days`` before): the same rows as a run of that day alone.

    The chunk's sentiments are read in one call and each text is read once, however many days'
    windows it is in; each day's rows still become a frame of their own, as a day alone would."""
    raw_dates, window_dates = _dates(raw), _dates(window)
    by_day = [(day, np.flatnonzero((raw_dates == day).to_numpy(dtype=bool))) for day in days]
    by_day = [(day, rows) for day, rows in by_day if len(rows)]
    if not by_day:
        return pd.DataFrame(columns=CLASSIFIED_COLUMNS)
    chunk = raw.iloc[np.concatenate([rows for _, rows in by_day])]
    texts = [post_text(t) for t in chunk["text"].tolist()]
    posts = PostColumns.of(chunk, texts)
    sentiments, names, versions = _sentiments(classifier, texts)
    window_texts = [post_text(t) for t in window["text"].tolist()]
    window_keys = near_duplicate_keys(window_texts)
    keys = _chunk_keys(chunk, texts, window, window_texts, window_keys)
    window_authors = window["author_id"].tolist()
    duplicates: list[bool] = []
    start = 0
    for day, rows in by_day:
        first = day - timedelta(days=window_days)
        around = np.flatnonzero(((window_dates >= first) & (window_dates <= day)).to_numpy(dtype=bool))
        end = start + len(rows)
        duplicates += duplicated_keys(keys[start:end], posts.authors[start:end],
                                      [window_keys[i] for i in around], [window_authors[i] for i in around])  # fmt: skip
        start = end
    spams = [
        spam_signals(text, tags, duplicate and not withheld)
        for text, tags, duplicate, withheld in zip(
            texts, posts.hashtags, duplicates, posts.withheld, strict=True
        )
    ]
    frames = _classified_frames(posts, [len(rows) for _, rows in by_day], sentiments, names, versions, spams,
                                linker)  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _chunk_keys(
    chunk: pd.DataFrame,
    texts: list[str],
    window: pd.DataFrame,
    window_texts: list[str],
    window_keys: list[str],
) -> list[str]:
    """The chunk's near-duplicate fingerprints: a post the window also holds (same platform and id,
    same text) takes the window's, the rest are computed. The window read with ``platform`` and
    ``post_id`` holds every post of a chunk that covers all its platforms: each text is then
    fingerprinted once, not twice."""
    if not {"platform", "post_id"} <= set(window.columns):
        return near_duplicate_keys(texts)
    known = {
        (platform, post_id): (text, key)
        for platform, post_id, text, key in zip(
            window["platform"].tolist(), window["post_id"].tolist(), window_texts, window_keys, strict=True
        )
    }
    keys = []
    for platform, post_id, text in zip(
        chunk["platform"].tolist(), chunk["post_id"].tolist(), texts, strict=True
    ):
        seen = known.get((platform, post_id))
        keys.append(seen[1] if seen is not None and seen[0] == text else near_duplicate_keys([text])[0])
    return keys


def _dates(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["date"]).dt.date if len(frame) else pd.Series([], dtype=object)
