"""The one interface every post source implements, and the normalized rows it yields.

A source turns a provider's pages into :class:`PostRecord` rows (keeping the raw payload) and
turns items it cannot read into :class:`QuarantinedRecord` rows with a reason. It never invents
rows: a failing provider raises :class:`SourceError` after its retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

PLATFORMS: tuple[str, ...] = ("facebook", "instagram", "twitter", "youtube")
DEMO_PROVIDER = "demo"
KEDAH_TZ = ZoneInfo("Asia/Kuala_Lumpur")


@dataclass(frozen=True)
class PostRecord:
    """One public post as collected, normalized across platforms.

    Counts are ``None`` when the provider did not give them (hidden likes, missing statistics),
    never 0 by guess.
    """

    platform: str
    post_id: str
    created_at: datetime  # timezone-aware
    text: str
    author_id: str | None
    author_name: str | None
    url: str | None
    hashtags: tuple[str, ...]
    like_count: int | None
    comment_count: int | None
    share_count: int | None
    view_count: int | None
    lang: str | None  # the provider's own language tag, if any
    provider: str
    payload: Mapping[str, Any]
    author_followers: int | None = None


@dataclass(frozen=True)
class QuarantinedRecord:
    """An item a source could not turn into a post, kept with the reason."""

    platform: str
    provider: str
    reason: str
    payload: Mapping[str, Any]


@dataclass
class FetchTelemetry:
    """What a fetch cost; shown in the materialization's metadata."""

    api_calls: int = 0
    pages: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    cache_hits: int = 0

    def as_metadata(self) -> dict[str, Any]:
        return {
            "api_calls": self.api_calls,
            "pages_read": self.pages,
            "rate_limit_waits": self.rate_limit_waits,
            "rate_limit_wait_seconds": round(self.rate_limit_wait_seconds, 1),
            "cache_hits": self.cache_hits,
        }

    def merge(self, other: FetchTelemetry) -> None:
        """Add another fetch's cost to this one (e.g. several providers or accounts)."""
        self.api_calls += other.api_calls
        self.pages += other.pages
        self.rate_limit_waits += other.rate_limit_waits
        self.rate_limit_wait_seconds += other.rate_limit_wait_seconds
        self.cache_hits += other.cache_hits
        self.notes.extend(other.notes)


@dataclass
class FetchResult:
    posts: list[PostRecord]
    quarantined: list[QuarantinedRecord]
    telemetry: FetchTelemetry
    provider: str
    # Provider cursors to pass back on the next poll, e.g. X's newest tweet id per query.
    cursors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountMetricRecord:
    """One account-level metric for one day, as the platform's insights report it.

    ``date`` is the day the platform attributes the value to; ``metadata`` says which day basis
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


class SourceError(RuntimeError):
    """A source failed for good (after retries). The message is safe to show: no secrets."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class CredentialsError(SourceError):
    """A credential is missing, invalid or expired. Never retried; names the variable to fix."""

    def __init__(self, env_var: str, detail: str):
        super().__init__(f"{env_var}: {detail}", retryable=False)
        self.env_var = env_var


class PermissionDenied(SourceError):
    """The credential is valid but lacks a permission or role (Graph API codes 10, 200-299, X 403)."""


class BadRequest(SourceError):
    """The provider rejected the request itself (bad parameter, removed metric, invalid query)."""


class RateLimited(SourceError):
    """The provider throttled us and the wait until its reset exceeds what a run should sleep."""

    def __init__(self, message: str, *, reset_at: datetime | None = None):
        super().__init__(message, retryable=True)
        self.reset_at = reset_at


class QuotaExhausted(SourceError):
    """A daily or weekly allowance is spent; nothing more until ``reset_at``. Never retried early.

    ``partial`` holds what was collected before the allowance ran out, so a caller may keep it.
    """

    def __init__(self, message: str, *, reset_at: datetime | None, partial: FetchResult | None = None):
        super().__init__(message, retryable=False)
        self.reset_at = reset_at
        self.partial = partial


class PostSource(Protocol):
    """Collects posts for one platform and a range of Kedah days."""

    provider: str

    def fetch_posts(self, platform: str, days: list[date]) -> FetchResult: ...


def kedah_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start (inclusive) and end (exclusive) of a Kedah day, timezone-aware."""
    start = datetime.combine(day, time.min, tzinfo=KEDAH_TZ)
    return start, start + timedelta(days=1)


def kedah_day(moment: datetime) -> date:
    """The Kedah day an aware timestamp falls on."""
    return moment.astimezone(KEDAH_TZ).date()
