"""The words every layer shares: platforms, Kedah's time zone and dates, and the records a source
hands to the warehouse.

This module imports nothing else from the project, so sources, classify, trends and warehouse can
all depend on it without depending on one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

PLATFORMS: tuple[str, ...] = ("facebook", "instagram", "twitter", "youtube")
DEMO_PROVIDER = "demo"
TIMEZONE_NAME = "Asia/Kuala_Lumpur"
KEDAH_TZ = ZoneInfo(TIMEZONE_NAME)


def kedah_date(moment: datetime) -> date:
    """The Kedah date (Asia/Kuala_Lumpur) an aware timestamp falls on."""
    return moment.astimezone(KEDAH_TZ).date()


def kedah_date_bounds(day: date) -> tuple[datetime, datetime]:
    """The start (inclusive) and end (exclusive) of a Kedah date, timezone-aware."""
    start = datetime.combine(day, time.min, tzinfo=KEDAH_TZ)
    return start, start + timedelta(days=1)


def is_kedah_weekend(day: date) -> bool:
    """Kedah's weekend is Friday and Saturday."""
    return day.weekday() in (4, 5)


@dataclass(frozen=True, kw_only=True)
class PostRecord:
    """One public post as collected, normalized across platforms.

    What a provider does not give is left out and stays ``None``: counts are ``None`` when the
    provider did not give them (hidden likes, missing statistics), never 0 by guess.
    """

    platform: str
    post_id: str
    created_at: datetime  # timezone-aware
    text: str
    author_id: str | None = None
    author_name: str | None = None
    url: str | None = None
    hashtags: tuple[str, ...]
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None
    view_count: int | None = None
    lang: str | None = None  # the provider's own language tag, if any
    provider: str
    payload: Mapping[str, Any]
    author_followers: int | None = None
    # The platform put its placeholder in place of the author's text (X's withheld notice): the post
    # is kept out of sentiment and text-based metrics; its counts still stand.
    is_withheld: bool = False
    # Countries the post or its author is withheld in (X's `withheld.country_codes`). A post withheld
    # only elsewhere reaches the project with its author's text, which it keeps.
    withheld_in: tuple[str, ...] = ()
    # Fields whose value the provider sent but no count can be (a follower count beyond bigint, a
    # negative view count): stored as NULL, counted in the metadata; the post itself is kept.
    repaired: tuple[str, ...] = ()
    # Ids of earlier versions of an edited post (X edit chains): one row per chain, keyed by the
    # first version's id, holding the latest version's text and counts.
    earlier_post_ids: tuple[str, ...] = ()
    # The post this one quotes (X quote posts keep their own text and counts).
    quoted_post_id: str | None = None


@dataclass(frozen=True)
class QuarantinedRecord:
    """An item that could not be turned into a row, kept with the reason."""

    platform: str
    provider: str
    reason: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class AccountMetricRecord:
    """One account-level metric for one date, as the platform's insights report it.

    ``date`` is the date the platform attributes the value to; ``metadata`` says which day basis
    that is (Meta and YouTube report some metrics by Pacific days) and anything else needed to read
    the value (period, end_time, metric title).
    """

    platform: str
    account_id: str
    metric: str
    date: date
    value: float | int | None
    provider: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


GOOGLE_TRENDS_PROVIDER = "google_trends_pytrends"


@dataclass(frozen=True)
class SearchInterestRecord:
    """Interest (0..100, relative within ``keyword_group`` and ``timeframe``) for one keyword and date."""

    date: date
    keyword: str
    interest: int
    is_partial: bool
    geo: str
    timeframe: str
    keyword_group: tuple[str, ...]
    provider: str = GOOGLE_TRENDS_PROVIDER


# A Google Trends request, as its cache key: keywords, timeframe, geo, tz.
TrendsKey = tuple[tuple[str, ...], str, str, int]


SentimentLabel = Literal["positive", "neutral", "negative"]
LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Sentiment:
    """One post's sentiment: label, score in -1..1 (negative..positive), confidence in 0..1."""

    label: SentimentLabel
    score: float
    confidence: float
