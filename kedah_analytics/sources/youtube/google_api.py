"""Google API calls (YouTube Data and YouTube Analytics) run the same way: googleapiclient's own
retries off, ours on; a spent daily quota stops at once with its Pacific-midnight reset; errors
rebuilt from status and reason, so no URL with ``key=`` ever reaches a message.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kedah_analytics.sources.common.base import (
    BadRequest,
    CredentialsError,
    FetchTelemetry,
    PermissionDenied,
    QuotaExhausted,
    SourceError,
)
from kedah_analytics.sources.common.budget import next_midnight
from kedah_analytics.sources.common.days import PACIFIC
from kedah_analytics.sources.common.retry import Clock, Retryable, RetryPolicy, Sleep, run_with_retries
from kedah_analytics.sources.common.secrets import Secret, scrub

if TYPE_CHECKING:
    from googleapiclient.errors import HttpError

DEFAULT_HTTP_TIMEOUT = 30.0

_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "RATE_LIMIT_EXCEEDED_DAILY"})
_THROTTLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
_KEY_REASONS = frozenset({"keyInvalid", "API_KEY_INVALID", "keyExpired", "API_KEY_EXPIRED"})
_AUTH_REASONS = frozenset({"authError", "invalidCredentials", "ACCESS_TOKEN_EXPIRED", "CREDENTIALS_MISSING"})


def next_pacific_midnight(now: datetime) -> datetime:
    """When Google's daily YouTube allowances next reset (midnight in America/Los_Angeles)."""
    return next_midnight(now, PACIFIC)


def _error_reasons(exc: HttpError) -> set[str]:
    reasons: set[str] = set()
    try:
        body = json.loads(exc.content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return reasons
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return reasons
    for key in ("errors", "details"):
        for entry in error.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
                reasons.add(entry["reason"])
    if isinstance(error.get("status"), str):
        reasons.add(error["status"])
    return reasons


def execute_google_request(
    request: Any,
    *,
    what: str,
    env_var: str,
    secrets: list[Secret | None],
    policy: RetryPolicy,
    sleep: Sleep,
    clock: Clock,
    telemetry: FetchTelemetry | None,
) -> Any:
    """``request.execute()`` with our retries (googleapiclient's own are off) and clear errors.

    A spent daily quota raises :class:`QuotaExhausted` at once, with the Pacific-midnight reset.
    Error text is rebuilt from status and reason: HttpError's own text holds the URL with ``key=``.
    """
    # The Google client libraries load with the first real call, not with the code location.
    import google.auth.exceptions
    import httplib2
    from googleapiclient.errors import HttpError

    def attempt() -> Any:
        if telemetry is not None:
            telemetry.api_calls += 1
        try:
            return request.execute(num_retries=0)
        except HttpError as exc:
            status = exc.status_code
            reasons = _error_reasons(exc)
            detail = scrub(f"HTTP {status} {sorted(reasons)}: {exc.reason}", secrets)
            if reasons & _QUOTA_REASONS:
                reset_at = next_pacific_midnight(clock())
                raise QuotaExhausted(
                    f"{what}: daily quota exhausted ({detail}); resets at {reset_at.isoformat()}",
                    reset_at=reset_at,
                ) from None
            if status == 429 or reasons & _THROTTLE_REASONS:
                raise Retryable(detail, throttled=True) from None
            if status >= 500:
                raise Retryable(detail) from None
            if status == 401 or reasons & (_KEY_REASONS | _AUTH_REASONS):
                raise CredentialsError(
                    env_var, f"Google rejected the credential ({what}, {detail})"
                ) from None
            if status == 403:
                raise PermissionDenied(f"{what}: {detail}") from None
            if status == 400:
                raise BadRequest(f"{what}: {detail}") from None
            raise SourceError(f"{what}: {detail}") from None
        except google.auth.exceptions.RefreshError as exc:
            raise CredentialsError(
                env_var,
                f"Google refused to refresh the OAuth credentials ({what}: {scrub(str(exc), secrets)})",
            ) from None
        except (httplib2.HttpLib2Error, TimeoutError, ConnectionError) as exc:
            raise Retryable(scrub(f"{type(exc).__name__}: {exc}", secrets)) from None
        except google.auth.exceptions.TransportError as exc:
            raise Retryable(scrub(f"{type(exc).__name__}: {exc}", secrets)) from None
        except ValueError:
            # googleapiclient parses the body as JSON: an HTML error page or an empty body with
            # HTTP 200 makes the whole answer unusable, which a retry may fix.
            raise Retryable(f"{what}: Google answered with a body that is not JSON") from None

    return run_with_retries(attempt, what=what, policy=policy, sleep=sleep, telemetry=telemetry, clock=clock)
