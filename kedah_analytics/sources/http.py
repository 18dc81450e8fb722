"""What every external call shares: secrets that never print, timeouts, retries, the Graph API client.

Retries follow one rule: retry what can succeed later (HTTP 429, 5xx, timeouts, the Graph API's
throttling codes), waiting as long as the provider says when it says so; never retry what cannot
(bad or expired credentials, missing permissions, bad parameters). A wait longer than the run should
sleep raises :class:`RateLimited` with the reset time instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests
import tenacity

from kedah_analytics.sources.base import (
    BadRequest,
    CredentialsError,
    FetchTelemetry,
    PermissionDenied,
    RateLimited,
    SourceError,
)

T = TypeVar("T")

# (connect, read) seconds for every HTTP call.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 30.0)


Sleep = Callable[[float], None]
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Secret:
    """A credential that prints as the name of its variable, never as its value."""

    __slots__ = ("_value", "env_var")

    def __init__(self, value: str, env_var: str):
        if not value:
            raise CredentialsError(env_var, "is empty")
        self._value = value
        self.env_var = env_var

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.env_var}=***)"

    __str__ = __repr__


_SECRET_PARAMS = (
    "access_token",
    "input_token",
    "appsecret_proof",
    "key",
    "client_secret",
    "refresh_token",
    "token",
)
_PARAM_RE = re.compile(r"(?i)\b(" + "|".join(_SECRET_PARAMS) + r")=([^&\s\"'<>]+)")
_BEARER_RE = re.compile(r"(?i)\b(bearer|oauth)\s+[A-Za-z0-9._~+/%=-]{8,}")


def scrub(text: str, secrets: Iterable[Secret | str | None] = ()) -> str:
    """``text`` with secret query parameters, bearer tokens and the given secret values redacted."""
    text = _PARAM_RE.sub(lambda m: f"{m.group(1)}=***", text)
    text = _BEARER_RE.sub(lambda m: f"{m.group(1)} ***", text)
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


class RedactSecrets(logging.Filter):
    """Scrubs tokens from log records of client libraries that log URLs and headers at DEBUG
    (tweepy logs ``Authorization: Bearer ...``; urllib3 and googleapiclient log ``?access_token=``
    and ``?key=``), so turning their debug logging on in Dagster cannot leak a credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the library's problem, not a reason to drop it
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_REDACTED_LOGGERS = (
    "tweepy.client",
    "urllib3.connectionpool",
    "googleapiclient.discovery",
    "googleapiclient.http",
)


def install_log_redaction() -> None:
    """Attach :class:`RedactSecrets` to the loggers that print request URLs or headers (idempotent)."""
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


install_log_redaction()


class TimeoutSession(requests.Session):
    """A requests session that gives every request a timeout unless the caller set one."""

    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per call, exponential backoff, and the longest wait worth sleeping."""

    max_attempts: int = 5
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 120.0
    # A throttle that names no reset time waits this long, doubling on each retry.
    throttle_wait_seconds: float = 60.0
    # A provider reset further away than this raises RateLimited (the run fails clearly, and the
    # next scheduled run picks up) rather than holding a worker asleep.
    max_wait_seconds: float = 16 * 60.0


class Retryable(Exception):
    """Raised inside a retried call for a failure that may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        throttled: bool = False,
        wait_seconds: float | None = None,
        reset_at: datetime | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.throttled = throttled
        self.wait_seconds = wait_seconds
        self.reset_at = reset_at


def run_with_retries(
    call: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    sleep: Sleep,
    telemetry: FetchTelemetry | None = None,
) -> T:
    """``call()``, retried on :class:`Retryable` with backoff (tenacity, sleeping through ``sleep``).

    Gives up with :class:`RateLimited` (throttled) or a retryable :class:`SourceError` (transient),
    their messages naming ``what`` failed and why. Other exceptions pass through untouched.
    """

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        attempt = state.attempt_number
        if isinstance(exc, Retryable) and exc.wait_seconds is not None:
            return max(0.0, exc.wait_seconds)
        if isinstance(exc, Retryable) and exc.throttled:
            return min(policy.max_wait_seconds, policy.throttle_wait_seconds * 2 ** (attempt - 1))
        return min(policy.backoff_max_seconds, policy.backoff_base_seconds * 2 ** (attempt - 1))

    def should_retry(exc: BaseException) -> bool:
        if not isinstance(exc, Retryable):
            return False
        return exc.wait_seconds is None or exc.wait_seconds <= policy.max_wait_seconds

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        seconds = state.upcoming_sleep
        if telemetry is not None and isinstance(exc, Retryable) and exc.throttled:
            telemetry.rate_limit_waits += 1
            telemetry.rate_limit_wait_seconds += seconds

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, policy.max_attempts)),
        wait=wait,
        retry=tenacity.retry_if_exception(should_retry),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(call)
    except Retryable as exc:
        if exc.throttled:
            when = f"; resets at {exc.reset_at.isoformat()}" if exc.reset_at else ""
            raise RateLimited(f"{what}: rate limited ({exc.message}){when}", reset_at=exc.reset_at) from None
        raise SourceError(
            f"{what}: failed after {policy.max_attempts} attempts: {exc.message}", retryable=True
        ) from None


# ---------------------------------------------------------------------------------------------
# Graph API (Instagram and Facebook)

GRAPH_THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
GRAPH_TRANSIENT_CODES = frozenset({1, 2})
GRAPH_TOKEN_CODES = frozenset({190, 102})


def graph_throttle_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until the Graph API lets us back in, from Retry-After and the usage headers."""
    waits: list[float] = []
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            waits.append(float(retry_after))
        except ValueError:
            pass
    for header in ("X-Business-Use-Case-Usage", "X-Ad-Account-Usage"):
        raw = headers.get(header)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        entries: list[Any] = []
        if isinstance(usage, dict):
            for value in usage.values():
                entries.extend(value if isinstance(value, list) else [value])
        for entry in entries:
            if isinstance(entry, dict):
                minutes = entry.get("estimated_time_to_regain_access")
                if isinstance(minutes, int | float) and minutes > 0:
                    waits.append(float(minutes) * 60.0)
    return max(waits) if waits else None


class GraphApiClient:
    """A small Graph API client: pinned version, timeouts, retries, token never printed.

    ``session`` is a requests session (tests mount a transport adapter on it); ``sleep`` and
    ``clock`` are injectable so tests do not wait.
    """

    def __init__(
        self,
        access_token: Secret,
        *,
        version: str = "v25.0",
        base_url: str = "https://graph.facebook.com",
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = utcnow,
        app_secret: Secret | None = None,
    ):
        self._token = access_token
        self.version = version
        self.base_url = base_url.rstrip("/")
        self.session = session if session is not None else TimeoutSession(timeout)
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self._app_secret = app_secret
        self._extra_secrets: list[Secret] = []
        self.last_usage: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"GraphApiClient(version={self.version!r}, token={self._token!r})"

    @property
    def token_env_var(self) -> str:
        return self._token.env_var

    def remember_secret(self, secret: Secret) -> None:
        """Another token (a Page token) to redact from error text."""
        self._extra_secrets.append(secret)

    def _secrets(self) -> list[Secret | None]:
        return [self._token, self._app_secret, *self._extra_secrets]

    def _auth_params(self, token: Secret) -> dict[str, str]:
        params = {"access_token": token.reveal()}
        if self._app_secret is not None:
            params["appsecret_proof"] = hmac.new(
                self._app_secret.reveal().encode(), token.reveal().encode(), hashlib.sha256
            ).hexdigest()
        return params

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        telemetry: FetchTelemetry | None = None,
        access_token: Secret | None = None,
    ) -> dict[str, Any]:
        """GET ``/{version}/{path}`` with retries; the JSON object it answers."""
        url = f"{self.base_url}/{self.version}/{path.lstrip('/')}"
        return self._get(url, dict(params or {}), telemetry=telemetry, token=access_token or self._token)

    def get_next(
        self, next_url: str, *, telemetry: FetchTelemetry | None = None, access_token: Secret | None = None
    ) -> dict[str, Any]:
        """Follow a ``paging.next`` URL, only to the Graph API host, with our own token."""
        parts = urlsplit(next_url)
        if parts.netloc != urlsplit(self.base_url).netloc:
            raise SourceError(f"refusing to follow a paging URL to another host: {parts.netloc}")
        params = {k: v for k, v in parse_qsl(parts.query) if k not in ("access_token", "appsecret_proof")}
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return self._get(url, params, telemetry=telemetry, token=access_token or self._token)

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        max_pages: int,
        telemetry: FetchTelemetry | None = None,
        access_token: Secret | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Pages of an edge, at most ``max_pages``.

        Follows ``paging.next`` (which carries the cursor or time paging the edge uses); a page
        without ``next`` is the last. When ``next`` points off the Graph API host, the same path is
        asked again with ``after=paging.cursors.after`` so the token never leaves the host.
        """
        page = self.get(path, params, telemetry=telemetry, access_token=access_token)
        for number in range(1, max_pages + 1):
            if telemetry is not None:
                telemetry.pages += 1
            yield page
            paging = page.get("paging") or {}
            next_url = paging.get("next")
            if not page.get("data") or not next_url:
                return
            if number == max_pages:
                if telemetry is not None:
                    telemetry.notes.append(f"stopped after {max_pages} pages of {path}; more remain")
                return
            if urlsplit(next_url).netloc == urlsplit(self.base_url).netloc:
                page = self.get_next(next_url, telemetry=telemetry, access_token=access_token)
            elif after := (paging.get("cursors") or {}).get("after"):
                page = self.get(
                    path, {**params, "after": after}, telemetry=telemetry, access_token=access_token
                )
            else:
                return

    def _describe(self, url: str) -> str:
        path = urlsplit(url).path
        return f"Graph API GET {path}"

    def _get(
        self, url: str, params: dict[str, Any], *, telemetry: FetchTelemetry | None, token: Secret
    ) -> dict[str, Any]:
        what = self._describe(url)

        def attempt() -> dict[str, Any]:
            if telemetry is not None:
                telemetry.api_calls += 1
            try:
                response = self.session.get(
                    url, params={**params, **self._auth_params(token)}, timeout=self.timeout
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise Retryable(scrub(f"{type(exc).__name__}: {exc}", self._secrets())) from None
            except requests.RequestException as exc:
                raise SourceError(
                    f"{what}: {scrub(f'{type(exc).__name__}: {exc}', self._secrets())}"
                ) from None
            return self._read(response, what, token)

        return run_with_retries(attempt, what=what, policy=self.policy, sleep=self.sleep, telemetry=telemetry)

    def _read(self, response: requests.Response, what: str, token: Secret) -> dict[str, Any]:
        usage = {
            k: v
            for k, v in response.headers.items()
            if k.lower() in ("x-app-usage", "x-business-use-case-usage", "x-page-usage")
        }
        if usage:
            self.last_usage = usage
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        status = response.status_code
        if status == 200 and isinstance(body, dict) and not error:
            return body
        if not isinstance(error, dict):
            if status == 429:
                raise self._throttled(f"HTTP 429 {response.reason}", response)
            if status >= 500 or status == 200:
                raise Retryable(f"HTTP {status} {response.reason}: unreadable body")
            raise SourceError(f"{what}: HTTP {status} {response.reason}")

        code = error.get("code")
        subcode = error.get("error_subcode")
        message = scrub(str(error.get("message", "")), self._secrets())
        trace = error.get("fbtrace_id")
        detail = f"code {code}" + (f"/{subcode}" if subcode else "") + f": {message}"
        if trace:
            detail += f" (fbtrace_id {trace})"

        if code in GRAPH_TOKEN_CODES:
            raise CredentialsError(
                token.env_var,
                f"the Graph API rejected the access token as invalid or expired ({what}, {detail}); "
                f"set a fresh long-lived token in {token.env_var}",
            )
        if code in GRAPH_THROTTLE_CODES or status == 429:
            raise self._throttled(detail, response)
        if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
            raise PermissionDenied(
                f"{what}: permission missing ({detail}); grant it to the token in {token.env_var}"
            )
        if code == 100:
            raise BadRequest(f"{what}: bad parameter or removed metric ({detail})")
        if code in GRAPH_TRANSIENT_CODES or error.get("is_transient") or status >= 500:
            raise Retryable(detail)
        raise SourceError(f"{what}: HTTP {status}, {detail}")

    def _throttled(self, detail: str, response: requests.Response) -> Retryable:
        wait = graph_throttle_wait(response.headers)
        reset_at = self.clock() + timedelta(seconds=wait) if wait is not None else None
        return Retryable(f"throttled, {detail}", throttled=True, wait_seconds=wait, reset_at=reset_at)
