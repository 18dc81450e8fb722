"""What the ingest assets call: fetches with cursors, insights and search interest as warehouse rows,
and failure messages a person can act on. No Dagster here; the assets stay thin."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import product
from typing import Any

import pandas as pd

from kedah_analytics.sources.account_insights import (
    FACEBOOK_INSIGHTS_PROVIDER,
    INSTAGRAM_INSIGHTS_PROVIDER,
    YOUTUBE_ANALYTICS_PROVIDER,
    YOUTUBE_OAUTH_CLIENT_ID_ENV,
    YOUTUBE_OAUTH_CLIENT_SECRET_ENV,
    YOUTUBE_OAUTH_REFRESH_TOKEN_ENV,
    YOUTUBE_OAUTH_TOKEN_FILE_ENV,
    AccountFailure,
    AccountMetricsSource,
)
from kedah_analytics.sources.base import (
    AccountMetricRecord,
    CredentialsError,
    FetchResult,
    FetchTelemetry,
    PostSource,
    SourceError,
)
from kedah_analytics.sources.google_trends import (
    MAX_DAILY_RANGE_DAYS,
    GoogleTrendsSource,
    SearchInterestRecord,
)
from kedah_analytics.sources.google_trends import PROVIDER as TRENDS_PROVIDER
from kedah_analytics.sources.http import META_TOKEN_ENV
from kedah_analytics.sources.instagram import IG_USER_ID_ENV
from kedah_analytics.sources.instagram import PROVIDER as INSTAGRAM_PROVIDER
from kedah_analytics.sources.registry import GOOGLE_TRENDS_ENV
from kedah_analytics.sources.twitter import PROVIDER as X_PROVIDER
from kedah_analytics.sources.twitter import X_BEARER_ENV
from kedah_analytics.sources.youtube import PROVIDER as YOUTUBE_PROVIDER
from kedah_analytics.sources.youtube import YOUTUBE_API_KEY_ENV
from kedah_analytics.warehouse.load import PartitionFilter

# The variables that configure each provider: named in failure messages, never their values.
PROVIDER_ENV_VARS: dict[str, tuple[str, ...]] = {
    X_PROVIDER: (X_BEARER_ENV,),
    INSTAGRAM_PROVIDER: (META_TOKEN_ENV, IG_USER_ID_ENV),
    "facebook_graph_pages": (META_TOKEN_ENV,),
    YOUTUBE_PROVIDER: (YOUTUBE_API_KEY_ENV,),
    INSTAGRAM_INSIGHTS_PROVIDER: (META_TOKEN_ENV, IG_USER_ID_ENV),
    FACEBOOK_INSIGHTS_PROVIDER: (META_TOKEN_ENV,),
    YOUTUBE_ANALYTICS_PROVIDER: (
        YOUTUBE_OAUTH_TOKEN_FILE_ENV,
        YOUTUBE_OAUTH_CLIENT_ID_ENV,
        YOUTUBE_OAUTH_CLIENT_SECRET_ENV,
        YOUTUBE_OAUTH_REFRESH_TOKEN_ENV,
    ),
    TRENDS_PROVIDER: (GOOGLE_TRENDS_ENV,),
}
MAX_NOTES = 20
TELEMETRY_TOTALS = ("api_calls", "pages_read", "rate_limit_waits", "cache_hits")

ACCOUNT_METRIC_COLUMNS = [
    "date", "platform", "account_id", "metric", "value", "provider", "metadata", "fetched_at",
]  # fmt: skip
SEARCH_INTEREST_COLUMNS = [
    "date", "keyword", "geo", "interest", "is_partial", "keyword_group", "timeframe", "provider", "fetched_at",
]  # fmt: skip


def day_span(days: Sequence[date]) -> str:
    """``2026-11-18`` or ``2026-11-16..2026-11-18 (3 days)``."""
    ordered = sorted(set(days))
    if not ordered:
        return "no days"
    if len(ordered) == 1:
        return ordered[0].isoformat()
    return f"{ordered[0]}..{ordered[-1]} ({len(ordered)} days)"


def source_failure_message(what: str, days: Sequence[date], provider: str, exc: BaseException) -> str:
    """Why a partition failed, what to fix, and that nothing stored was touched. ``exc`` comes from
    the source library, whose messages never hold a secret."""
    names = PROVIDER_ENV_VARS.get(provider, ())
    if isinstance(exc, CredentialsError):
        hint = f" Fix the credential in {exc.env_var} (its value is never shown)."
    elif names:
        hint = f" The source is configured by {', '.join(names)}."
    else:
        hint = ""
    retry = (
        " It may succeed later (the step is retried)."
        if getattr(exc, "retryable", False)
        else " Retrying will not help until this is fixed."
    )
    return (
        f"{what} for {day_span(days)} from {provider} failed: {type(exc).__name__}: {exc}.{hint}{retry} "
        "Nothing was written: the rows stored before are untouched, and no demo rows were used instead."
    )


def telemetry_metadata(telemetry: FetchTelemetry, provider: str) -> dict[str, Any]:
    return {"provider": provider, **telemetry.as_metadata(), "notes": telemetry.notes[:MAX_NOTES]}


# --- posts ---------------------------------------------------------------------------------------


def accepts_since_ids(source: PostSource) -> bool:
    """Whether a source polls from cursors (X: ``since_ids`` per query)."""
    try:
        return "since_ids" in inspect.signature(source.fetch_posts).parameters
    except (TypeError, ValueError):
        return False


def fetch_posts(
    source: PostSource, platform: str, days: list[date], since_ids: Mapping[str, str] | None = None
) -> FetchResult:
    """The source's posts for ``days``, resuming from ``since_ids`` where the source takes them."""
    if since_ids is not None and accepts_since_ids(source):
        return source.fetch_posts(platform, days, since_ids=dict(since_ids))  # type: ignore[call-arg]
    return source.fetch_posts(platform, days)


# --- account metrics -----------------------------------------------------------------------------


class AllAccountsFailed(SourceError):
    """Every configured account of a platform failed: the partition fails."""


@dataclass
class AccountMetricsOutcome:
    platform: str
    provider: str
    days: list[date]
    frame: pd.DataFrame
    succeeded: list[str]
    failures: list[AccountFailure]
    telemetry: FetchTelemetry
    outside_days: int = 0

    def failed_accounts(self) -> dict[str, str]:
        return {f.account_id: f"{f.error_type}: {f.error}" for f in self.failures}


def account_metrics_frame(
    records: Sequence[AccountMetricRecord], days: Sequence[date], fetched_at: datetime
) -> tuple[pd.DataFrame, int]:
    """Rows of ``kedah.account_daily_metrics`` for ``days``, and how many records fell outside."""
    wanted = set(days)
    rows = []
    outside = 0
    for r in records:
        if r.date not in wanted:
            outside += 1
            continue
        rows.append(
            {
                "date": r.date,
                "platform": r.platform,
                "account_id": r.account_id,
                "metric": r.metric,
                "value": None if r.value is None else float(r.value),
                "provider": r.provider,
                "metadata": dict(r.metadata),
                "fetched_at": fetched_at,
            }
        )
    frame = pd.DataFrame(rows, columns=ACCOUNT_METRIC_COLUMNS)
    # A platform answering the same (day, account, metric) twice keeps its last answer.
    frame = frame.drop_duplicates(subset=["date", "platform", "account_id", "metric"], keep="last")
    frame["value"] = frame["value"].astype("float64")
    return frame.reset_index(drop=True), outside


def collect_account_metrics(
    source: AccountMetricsSource, days: list[date], fetched_at: datetime
) -> AccountMetricsOutcome:
    """One platform's insights for ``days``. Accounts that fail are listed and skipped; when every
    configured account fails, :class:`AllAccountsFailed` says why for each."""
    result = source.fetch_account_metrics(days)
    if result.failures and not result.succeeded:
        reasons = "; ".join(f"{f.account_id}: {f.error_type}: {f.error}" for f in result.failures)
        raise AllAccountsFailed(
            f"every configured {source.platform} account failed ({len(result.failures)}): {reasons}",
            retryable=all(f.retryable for f in result.failures),
        )
    frame, outside = account_metrics_frame(result.records, days, fetched_at)
    return AccountMetricsOutcome(
        platform=source.platform,
        provider=result.provider or source.provider,
        days=sorted(set(days)),
        frame=frame,
        succeeded=list(result.succeeded),
        failures=list(result.failures),
        telemetry=result.telemetry,
        outside_days=outside,
    )


def account_metrics_metadata(
    not_collected: Mapping[str, str], outcomes: Sequence[AccountMetricsOutcome]
) -> dict[str, Any]:
    """What a run of account metrics did, per platform and in total, for the materialization:
    why a platform gave no rows, which accounts answered and which failed, and what it cost."""
    platforms: dict[str, dict[str, Any]] = {p: {"status": s, "rows": 0} for p, s in not_collected.items()}
    for o in outcomes:
        platforms[o.platform] = {
            "status": "real",
            "rows": len(o.frame),
            "accounts_succeeded": o.succeeded,
            "accounts_failed": o.failed_accounts(),
            **telemetry_metadata(o.telemetry, o.provider),
        }
    return {
        "status": "; ".join(f"{p}: {v['status']}" for p, v in sorted(platforms.items())),
        "platforms": platforms,
        "accounts_succeeded": [f"{o.platform}/{a}" for o in outcomes for a in o.succeeded],
        "accounts_failed": [
            f"{o.platform}/{a}: {e}" for o in outcomes for a, e in o.failed_accounts().items()
        ],
        "providers": ", ".join(f"{o.platform}: {o.provider}" for o in outcomes) or "none",
        **{key: sum(p.get(key, 0) for p in platforms.values()) for key in TELEMETRY_TOTALS},
    }


def replaced_account_rows(outcomes: Sequence[AccountMetricsOutcome]) -> PartitionFilter:
    """The rows a write of these outcomes replaces: the days of the accounts that answered, so an
    account that failed this time keeps the rows an earlier run stored for it."""
    return PartitionFilter(
        ("date", "platform", "account_id"),
        tuple((day, o.platform, account) for o in outcomes for day, account in product(o.days, o.succeeded)),
    )


# --- search interest -----------------------------------------------------------------------------


@dataclass
class SearchInterestOutcome:
    frame: pd.DataFrame
    telemetry: FetchTelemetry
    timeframes: list[str] = field(default_factory=list)
    days_without_data: list[date] = field(default_factory=list)


def trends_windows(days: Sequence[date], timeframe_days: int) -> list[tuple[date, date, list[date]]]:
    """The Google Trends requests for ``days``: ``(start, end, days kept)``.

    Contiguous days go in one request (Trends scales 0..100 within a request, so days of one run stay
    comparable), reaching back at least ``timeframe_days`` so a single day is scaled against its
    recent past rather than against itself; a request spans at most the range that still comes back
    daily.
    """
    ordered = sorted(set(days))
    windows: list[tuple[date, date, list[date]]] = []
    chunk: list[date] = []
    for day in ordered:
        if chunk and ((day - chunk[-1]).days != 1 or len(chunk) >= MAX_DAILY_RANGE_DAYS):
            windows.append(_window(chunk, timeframe_days))
            chunk = []
        chunk.append(day)
    if chunk:
        windows.append(_window(chunk, timeframe_days))
    return windows


def _window(chunk: list[date], timeframe_days: int) -> tuple[date, date, list[date]]:
    span = min(MAX_DAILY_RANGE_DAYS, max(len(chunk), timeframe_days))
    return chunk[-1] - timedelta(days=span - 1), chunk[-1], chunk


def search_interest_frame(
    records: Sequence[SearchInterestRecord], days: Sequence[date], fetched_at: datetime
) -> pd.DataFrame:
    wanted = set(days)
    rows = [
        {
            "date": r.date,
            "keyword": r.keyword,
            "geo": r.geo,
            "interest": r.interest,
            "is_partial": r.is_partial,
            "keyword_group": list(r.keyword_group),
            "timeframe": r.timeframe,
            "provider": r.provider,
            "fetched_at": fetched_at,
        }
        for r in records
        if r.date in wanted
    ]
    frame = pd.DataFrame(rows, columns=SEARCH_INTEREST_COLUMNS)
    # A keyword tracked in two groups keeps the first group's value for the day.
    return frame.drop_duplicates(subset=["date", "keyword", "geo"], keep="first").reset_index(drop=True)


def collect_search_interest(
    source: GoogleTrendsSource, days: list[date], fetched_at: datetime
) -> SearchInterestOutcome:
    """Daily interest for the tracked keyword groups on ``days`` (see :func:`trends_windows`)."""
    telemetry = FetchTelemetry()
    frames: list[pd.DataFrame] = []
    timeframes: list[str] = []
    for start, end, kept in trends_windows(days, source.settings.timeframe_days):
        result = source.fetch_interest(start, end)
        telemetry.merge(result.telemetry)
        timeframes.append(f"{start:%Y-%m-%d} {end:%Y-%m-%d}")
        frames.append(search_interest_frame(result.rows, kept, fetched_at))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SEARCH_INTEREST_COLUMNS)
    with_data = set(frame["date"]) if len(frame) else set()
    missing = [d for d in sorted(set(days)) if d not in with_data]
    return SearchInterestOutcome(frame, telemetry, timeframes, missing)


def date_platform_rows(days_by_platform: Mapping[str, Sequence[date]]) -> PartitionFilter:
    """The rows of a run's date x platform partitions."""
    return PartitionFilter(
        ("date", "platform"),
        tuple((day, platform) for platform, days in days_by_platform.items() for day in sorted(set(days))),
    )


def day_partitions(days: Sequence[date]) -> PartitionFilter:
    return PartitionFilter(("date",), tuple((d,) for d in sorted(set(days))))
