"""The one interface every post source implements, and the normalized rows it yields.

A source turns a provider's pages into :class:`PostRecord` rows (keeping the raw payload) and
turns items it cannot read into :class:`QuarantinedRecord` rows with a reason. It never invents
rows: a failing provider raises :class:`SourceError` after its retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from kedah_analytics.domain import PostRecord, QuarantinedRecord


@dataclass
class FetchTelemetry:
    """What a fetch cost; shown in the materialization's metadata."""

    api_calls: int = 0
    pages: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    cache_hits: int = 0
    # Provider-specific figures a person reads in the metadata (X post reads and their estimated
    # cost, what became of every item read): numbers add up when telemetries merge, flags are any.
    details: dict[str, Any] = field(default_factory=dict)
    # The details that state a level rather than count something (a daily allowance, what is left
    # of it): when telemetries merge, the latest value stands.
    levels: set[str] = field(default_factory=set)

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
        # The same note from every chunk of a run (e.g. "demo data") is said once.
        self.notes.extend(n for n in dict.fromkeys(other.notes) if n not in self.notes)
        self.levels |= other.levels
        for key, value in other.details.items():
            mine = self.details.get(key)
            if key in self.levels:
                self.details[key] = value
            elif isinstance(value, bool) and isinstance(mine, bool):
                self.details[key] = mine or value
            elif (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and isinstance(mine, int | float)
                and not isinstance(mine, bool)
            ):
                self.details[key] = mine + value
            else:
                self.details[key] = value


MAX_NOTES = 20


def telemetry_metadata(telemetry: FetchTelemetry, provider: str) -> dict[str, Any]:
    """A fetch's cost as materialization metadata, with the first notes."""
    return {
        "provider": provider,
        **telemetry.as_metadata(),
        **telemetry.details,
        "notes": telemetry.notes[:MAX_NOTES],
    }


@dataclass
class FetchResult:
    posts: list[PostRecord]
    quarantined: list[QuarantinedRecord]
    telemetry: FetchTelemetry
    provider: str
    # Provider cursors to pass back on the next poll, e.g. X's newest tweet id per query.
    cursors: dict[str, str] = field(default_factory=dict)
    # Set when the fetch stopped early because an allowance ran out (X's daily post reads): what
    # it holds is everything read before that, and nothing more should be asked until the reset.
    spent: QuotaSpent | None = None


@dataclass(frozen=True)
class QuotaSpent:
    """An allowance a fetch ran out of: what it was, in words, and when it is whole again (UTC;
    None when the provider does not say)."""

    message: str
    reset_at: datetime | None


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


class InvalidMetric(BadRequest):
    """The Graph API refused an insights metric (code 100: removed, or never valid for this object).

    ``message`` is Meta's own text, which often names the metric."""

    def __init__(self, message: str, *, provider_message: str = ""):
        super().__init__(message)
        self.provider_message = provider_message


class RateLimited(SourceError):
    """The provider throttled us and the wait until its reset exceeds what a run should sleep.

    ``partial`` holds what was collected before, as for :class:`QuotaExhausted`."""

    def __init__(self, message: str, *, reset_at: datetime | None = None, partial: FetchResult | None = None):
        super().__init__(message, retryable=True)
        self.reset_at = reset_at
        self.partial = partial


class QuotaExhausted(SourceError):
    """A daily or weekly allowance is spent; nothing more until ``reset_at``. Never retried early.

    ``partial`` holds what was collected before the allowance ran out, so a caller may keep it.
    """

    def __init__(self, message: str, *, reset_at: datetime | None, partial: FetchResult | None = None):
        super().__init__(message, retryable=False)
        self.reset_at = reset_at
        self.partial = partial


# What a source raises when an allowance or a rate limit runs out: the caller keeps ``partial`` and
# defers the source until ``reset_at`` (kedah_analytics.deferrals).
Exhausted = (QuotaExhausted, RateLimited)


class PostSource(Protocol):
    """Collects posts for one platform and a range of Kedah dates.

    ``polls_from_cursors`` says whether the source resumes from the ``cursors`` its last
    :class:`FetchResult` returned (X: the newest post id per query); the caller stores them with
    the posts they cover and passes them back. Sources that do not poll ignore ``cursors``.
    """

    provider: str
    polls_from_cursors: bool

    def fetch_posts(
        self, platform: str, days: list[date], cursors: Mapping[str, str] | None = None
    ) -> FetchResult: ...


def check_platform(source: PostSource, platform: str, own: str) -> None:
    """A source collects one platform: being asked for another is a wiring mistake, said at once."""
    if platform != own:
        raise ValueError(f"{type(source).__name__} collects {own}, not {platform}")
