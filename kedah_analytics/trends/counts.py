"""Hourly and daily counts per term (keyword, hashtag, topic, place) and platform.

The input is a frame of classified posts; the output is what ``term_daily_counts`` holds and
what the burst detector and the forecaster read. Spam is excluded, hours and days are Kedah's
(Asia/Kuala_Lumpur, UTC+8, no daylight saving), and a post counts once per term even when its
keyword list repeats the term.

One entity, one term: a keyword that names a Kedah place (its name or any English or Malay alias
in the ``places`` table, which is how the classifier adds place names to a post's keywords) is
counted as that place (``term_type`` place, ``term`` its place id), once per post, and never again as a
keyword. Otherwise "darulaman lake park" and ``place:darulaman_lake`` would rank as two trends.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from kedah_analytics.domain import TIMEZONE_NAME as KEDAH_TZ
from kedah_analytics.trends.inputs import COUNT_COLUMNS

TermType = Literal["keyword", "hashtag", "topic", "place"]
TERM_TYPES: tuple[TermType, ...] = ("keyword", "hashtag", "topic", "place")

POST_COLUMNS: tuple[str, ...] = (
    "platform",
    "post_id",
    "created_at",
    "keywords",
    "topics",
    "place_id",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
    "is_spam",
)

_COUNT_COLUMNS = COUNT_COLUMNS
_SUM_NAMES = {
    "like_count": "likes",
    "comment_count": "comments",
    "share_count": "shares",
    "view_count": "views",
}
HOURLY_COLUMNS: tuple[str, ...] = (
    "hour",
    "day",
    "platform",
    "term",
    "term_type",
    "posts",
    "likes",
    "comments",
    "shares",
    "views",
    "engagement",
)
DAILY_COLUMNS: tuple[str, ...] = HOURLY_COLUMNS[1:]

_SPACES = re.compile(r"\s+")


def normalize_term(text: object) -> str:
    """Fold a keyword, hashtag or topic term to the form it is counted under.

    NFKC (so a full-width ``＃`` becomes ``#``), case-folded, surrounding space stripped and inner
    runs of space collapsed. A hashtag keeps its ``#`` and loses inner spaces. Returns ``""`` for
    anything that is not a usable term.
    """
    if not isinstance(text, str):
        return ""
    return _folded(text)


# Terms repeat: a day's posts carry a few hundred distinct keywords and hashtags between them.
@functools.lru_cache(maxsize=1 << 16)
def _folded(text: str) -> str:
    term = _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    if term.startswith("#"):
        term = "#" + term[1:].replace(" ", "").lstrip("#")
        return term if len(term) > 1 else ""
    return term


def aliases_of(places: pd.DataFrame) -> dict[str, str]:
    """Folded name and aliases of each place (the ``places`` table) -> its id; a spelling that
    two places share is left out, it names neither for sure."""
    found: dict[str, set[str]] = {}
    for row in places.itertuples():
        names = [
            row.name,
            *_as_list(getattr(row, "aliases_en", None)),
            *_as_list(getattr(row, "aliases_ms", None)),
        ]
        for name in names:
            folded = normalize_term(name)
            if folded and not folded.startswith("#"):
                found.setdefault(folded, set()).add(str(row.place_id))
    return {alias: next(iter(ids)) for alias, ids in found.items() if len(ids) == 1}


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else []


def series_key(term: str, term_type: str) -> str:
    """The one name a term goes by in the trend series: topics and places get a prefix so that a
    topic called ``beach`` and the keyword ``beach`` stay apart; hashtags keep their ``#``."""
    if term_type in ("topic", "place"):
        return f"{term_type}:{term}"
    return term


def _kedah_hours(created_at: pd.Series) -> pd.Series:
    if not isinstance(created_at.dtype, pd.DatetimeTZDtype):
        ts = pd.to_datetime(created_at, errors="coerce", utc=False)
        if not isinstance(ts.dtype, pd.DatetimeTZDtype):
            raise ValueError(
                "created_at must be timezone-aware: a naive time cannot be placed on a Kedah day"
            )
        created_at = ts
    if created_at.isna().any():
        bad = created_at.index[created_at.isna()][:5].tolist()
        raise ValueError(f"created_at is missing for {int(created_at.isna().sum())} posts (rows {bad})")
    return created_at.dt.tz_convert(KEDAH_TZ).dt.floor("h")


def _term_rows(posts: pd.DataFrame, aliases: Mapping[str, str]) -> pd.DataFrame:
    """One row per (post, term, term_type), deduplicated; keywords naming a place are the place."""
    pieces: list[pd.DataFrame] = []
    idx = posts.index.to_numpy()

    def _listed(column: str) -> pd.DataFrame:
        values = (
            posts[column] if column in posts.columns else pd.Series([None] * len(posts), index=posts.index)
        )
        lists = [v if isinstance(v, (list, tuple, np.ndarray)) else [] for v in values.tolist()]
        lengths = np.fromiter((len(v) for v in lists), dtype=np.int64, count=len(lists))
        flat = [normalize_term(t) for v in lists for t in v]
        return pd.DataFrame({"row": np.repeat(idx, lengths), "term": pd.array(flat, dtype=object)})

    keywords = _listed("keywords")
    keywords["term_type"] = np.where(keywords["term"].str.startswith("#"), "hashtag", "keyword")
    place_of = keywords["term"].map(aliases).where(keywords["term_type"] == "keyword")
    named = place_of.notna().to_numpy()
    keywords.loc[named, "term"] = place_of[named]
    keywords.loc[named, "term_type"] = "place"
    pieces.append(keywords)
    topics = _listed("topics")
    topics["term_type"] = "topic"
    pieces.append(topics)
    if "place_id" in posts.columns:
        place = posts["place_id"]
        keep = place.notna().to_numpy()
        place_terms = [str(p).strip() for p in place[keep].tolist()]
        pieces.append(pd.DataFrame({"row": idx[keep], "term": place_terms, "term_type": "place"}))
    terms = pd.concat(pieces, ignore_index=True)
    terms = terms[terms["term"].astype(str) != ""]
    return terms.drop_duplicates(["row", "term", "term_type"])


def hourly_term_counts(posts: pd.DataFrame, aliases: Mapping[str, str]) -> pd.DataFrame:
    """Posts and engagement per Kedah hour, platform, term and term type, spam excluded.

    Columns: ``hour`` (start of the hour, tz Asia/Kuala_Lumpur), ``day`` (its Kedah date),
    ``platform``, ``term``, ``term_type`` (keyword | hashtag | topic | place), ``posts`` (distinct
    posts), ``likes``, ``comments``, ``shares``, ``views`` and ``engagement`` (likes + comments +
    shares). A count the provider did not give (hidden likes) adds nothing; it is not guessed.
    Posts repeated under the same (platform, post_id) count once, with their last row's counts.
    Keywords starting with ``#`` are hashtags; a keyword in ``aliases`` (folded place name ->
    place id, see :func:`aliases_of`) is that place; hours with no post are absent (not zero
    rows).
    """
    missing = [c for c in ("platform", "post_id", "created_at") if c not in posts.columns]
    if missing:
        raise ValueError(f"classified posts lack the columns {missing}")
    frame = posts
    if "is_spam" in frame.columns:
        # A post with no spam verdict yet is counted: only a positive flag excludes it.
        spam = frame["is_spam"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        frame = frame.loc[~spam]
    frame = frame.drop_duplicates(["platform", "post_id"], keep="last")
    if frame.empty:
        return _empty(HOURLY_COLUMNS)
    frame = frame.reset_index(drop=True)
    hours = _kedah_hours(frame["created_at"])
    metrics = pd.DataFrame({"hour": hours, "platform": frame["platform"].astype(str)})
    for column in _COUNT_COLUMNS:
        values = frame[column] if column in frame.columns else pd.Series(np.nan, index=frame.index)
        metrics[_SUM_NAMES[column]] = pd.to_numeric(values, errors="coerce").fillna(0).astype("int64")
    terms = _term_rows(frame, aliases)
    if terms.empty:
        return _empty(HOURLY_COLUMNS)
    joined = metrics.iloc[terms["row"].to_numpy()].reset_index(drop=True)
    joined["term"] = terms["term"].astype(str).to_numpy()
    joined["term_type"] = terms["term_type"].to_numpy()
    joined["posts"] = 1
    grouped = (
        joined.groupby(["hour", "platform", "term", "term_type"], sort=True, observed=True)[
            ["posts", "likes", "comments", "shares", "views"]
        ]
        .sum()
        .reset_index()
    )
    grouped["engagement"] = grouped["likes"] + grouped["comments"] + grouped["shares"]
    grouped["day"] = grouped["hour"].dt.date
    return grouped[list(HOURLY_COLUMNS)].reset_index(drop=True)


def daily_term_counts(posts: pd.DataFrame, aliases: Mapping[str, str]) -> pd.DataFrame:
    """Posts and engagement per Kedah day, platform, term and term type, spam excluded.

    Same columns as :func:`hourly_term_counts` without ``hour``; ``day`` is a ``datetime.date``.
    A post counts once per term and day (a post has one creation time, so summing its hours is
    exact).
    """
    hourly = hourly_term_counts(posts, aliases)
    if hourly.empty:
        return _empty(DAILY_COLUMNS)
    daily = (
        hourly.groupby(["day", "platform", "term", "term_type"], sort=True, observed=True)[
            ["posts", "likes", "comments", "shares", "views", "engagement"]
        ]
        .sum()
        .reset_index()
    )
    return daily[list(DAILY_COLUMNS)]


def trend_series_daily(
    daily: pd.DataFrame,
    *,
    term_types: Iterable[str] = ("keyword", "hashtag"),
    value: str = "posts",
) -> pd.DataFrame:
    """Daily counts in the shape the forecaster reads: ``term, date, platform, count``.

    ``term`` is :func:`series_key` of the term; ``count`` is the chosen measure (posts by
    default).
    """
    frame = daily[daily["term_type"].isin(list(term_types))]
    keys = [
        series_key(t, tt) for t, tt in zip(frame["term"].tolist(), frame["term_type"].tolist(), strict=True)
    ]
    out = pd.DataFrame(
        {
            "term": keys,
            "date": frame["day"].to_numpy(),
            "platform": frame["platform"].astype(str).to_numpy(),
            "count": frame[value].to_numpy(),
        }
    )
    return out.groupby(["term", "date", "platform"], sort=True).sum().reset_index()


def trend_series_hourly(
    hourly: pd.DataFrame,
    *,
    term_types: Iterable[str] = ("keyword", "hashtag"),
    value: str = "posts",
) -> pd.DataFrame:
    """Hourly counts summed over platforms, in the burst detector's shape: ``term, timestamp,
    count``."""
    frame = hourly[hourly["term_type"].isin(list(term_types))]
    keys = [
        series_key(t, tt) for t, tt in zip(frame["term"].tolist(), frame["term_type"].tolist(), strict=True)
    ]
    out = pd.DataFrame(
        {
            "term": keys,
            "timestamp": frame["hour"].reset_index(drop=True),
            "count": frame[value].to_numpy(),
        }
    )
    return out.groupby(["term", "timestamp"], sort=True).sum().reset_index()


def _empty(columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
