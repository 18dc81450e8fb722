"""Account-level insights as rows of ``kedah.account_daily_metrics``: one platform's accounts per
call, the ones that failed listed beside the ones that answered.

The plumbing every insights provider shares (``meta/insights.py``, ``youtube/analytics.py``, the
demo): the :class:`AccountMetricsSource` interface, its result, one row per metric, and the walk
over accounts where one failing does not stop the others."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from kedah_analytics.domain import DEMO_PROVIDER, AccountMetricRecord
from kedah_analytics.sources.common.base import FetchTelemetry, SourceError, telemetry_metadata

if TYPE_CHECKING:
    import pandas as pd

TELEMETRY_TOTALS = ("api_calls", "pages_read", "rate_limit_waits", "cache_hits")
ACCOUNT_METRIC_COLUMNS = [
    "date", "platform", "account_id", "metric", "value", "provider", "metadata", "fetched_at",
]  # fmt: skip


@dataclass(frozen=True)
class AccountFailure:
    """One account whose metrics could not be read; ``error`` is safe to show (no secrets)."""

    platform: str
    account_id: str
    error: str
    error_type: str
    retryable: bool


@dataclass
class AccountMetricsResult:
    records: list[AccountMetricRecord]
    failures: list[AccountFailure]
    succeeded: list[str]
    telemetry: FetchTelemetry = field(default_factory=FetchTelemetry)
    provider: str = ""
    # Metrics the platform refused (removed or invalid), with Meta's reason: the others were kept.
    unavailable_metrics: dict[str, str] = field(default_factory=dict)
    # What a person needs to read the values: the Graph API version, the token's expiry.
    details: dict[str, Any] = field(default_factory=dict)
    # A sentence for the metadata and any failure alert (e.g. the Meta token expires soon).
    warning: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


class AccountMetricsSource(Protocol):
    platform: str
    provider: str

    def fetch_account_metrics(self, days: list[date]) -> AccountMetricsResult: ...


def number(value: Any) -> float | int | None:
    """A metric's value as a number; anything else (text, a breakdown object, a bool) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    return None


def account_metric(
    source: AccountMetricsSource,
    account_id: str,
    metric: str,
    day: date,
    value: Any,
    metadata: dict[str, Any],
) -> AccountMetricRecord:
    """One row of ``kedah.account_daily_metrics`` as ``source`` (its platform and provider) read it."""
    return AccountMetricRecord(
        platform=source.platform,
        account_id=account_id,
        metric=metric,
        date=day,
        value=number(value),
        provider=source.provider,
        metadata=metadata,
    )


def fetch_each_account(
    result: AccountMetricsResult,
    platform: str,
    accounts: Sequence[str],
    fetch: Callable[[str], list[AccountMetricRecord]],
) -> None:
    """``fetch`` every account into ``result``: one that fails is listed with its reason (no
    secrets), and the others go on."""
    for account_id in accounts:
        try:
            records = fetch(account_id)
        except SourceError as exc:
            result.failures.append(
                AccountFailure(platform, account_id, str(exc), type(exc).__name__, exc.retryable)
            )
            continue
        result.records.extend(records)
        result.succeeded.append(account_id)


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
    unavailable_metrics: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None

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
    import pandas as pd

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
        # The failed-run alert carries this text: a token about to expire is the likely fix.
        warning = f" Warning: {result.warning}." if result.warning else ""
        raise AllAccountsFailed(
            f"every configured {source.platform} account failed ({len(result.failures)}): {reasons}.{warning}",
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
        unavailable_metrics=dict(result.unavailable_metrics),
        details=dict(result.details),
        warning=result.warning,
    )


def account_metrics_metadata(
    not_collected: Mapping[str, str],
    outcomes: Sequence[AccountMetricsOutcome],
    demo_reasons: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What a run of account metrics did, per platform and in total, for the materialization:
    why a platform gave no rows (or demo rows), which accounts answered and which failed, and
    what it cost."""
    demo_reasons = demo_reasons or {}
    platforms: dict[str, dict[str, Any]] = {p: {"status": s, "rows": 0} for p, s in not_collected.items()}
    for o in outcomes:
        platforms[o.platform] = {
            "status": f"demo ({demo_reasons.get(o.platform, 'no real source')})"
            if o.provider == DEMO_PROVIDER
            else "real",
            "rows": len(o.frame),
            "accounts_succeeded": o.succeeded,
            "accounts_failed": o.failed_accounts(),
            **({"metrics_unavailable": o.unavailable_metrics} if o.unavailable_metrics else {}),
            **({"warning": o.warning} if o.warning else {}),
            **o.details,
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
        "warnings": [f"{o.platform}: {o.warning}" for o in outcomes if o.warning],
        "metrics_unavailable": [
            f"{o.platform}/{metric}: {reason}"
            for o in outcomes
            for metric, reason in o.unavailable_metrics.items()
        ],
        **{key: sum(p.get(key, 0) for p in platforms.values()) for key in TELEMETRY_TOTALS},
    }
