"""The Graph API client shared by the Instagram and Facebook sources and insights: versioned URLs,
``appsecret_proof``, cursor paging, and Meta's error codes mapped to retry or fail."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, Unpack
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from kedah_analytics.config.tracking import GraphApiTracking, TrackingConfig
from kedah_analytics.sources.common.base import (
    BadRequest,
    CredentialsError,
    FetchTelemetry,
    InvalidMetric,
    PermissionDenied,
    QuotaExhausted,
    SourceError,
)
from kedah_analytics.sources.common.clock import Clock, Sleep, utcnow
from kedah_analytics.sources.common.parsing import mapping_or_empty
from kedah_analytics.sources.common.retry import DEFAULT_TIMEOUT, RetriesCalls, Retryable, RetryPolicy
from kedah_analytics.sources.common.secrets import Secret, scrub
from kedah_analytics.sources.meta.usage import (
    APP_USAGE_WINDOW,
    GraphUsage,
    UsagePacing,
    graph_throttle_wait,
    read_usage,
)

if TYPE_CHECKING:
    import requests

GRAPH_THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
GRAPH_TRANSIENT_CODES = frozenset({1, 2})
GRAPH_TOKEN_CODES = frozenset({190, 102})


TOKEN_EXPIRY_WARNING = timedelta(days=7)


@dataclass(frozen=True)
class TokenStatus:
    """What ``debug_token`` says about the configured token (never the token itself)."""

    is_valid: bool | None
    expires_at: datetime | None  # None: never expires (Meta says 0)
    data_access_expires_at: datetime | None

    def warning(self, now: datetime, within: timedelta = TOKEN_EXPIRY_WARNING) -> str | None:
        """A sentence for the metadata and the failure alert when the token is invalid or expires
        (or loses data access) within ``within``; None when all is well."""
        if self.is_valid is False:
            return "Meta reports the access token as invalid"
        soon = [
            (what, when)
            for what, when in (
                ("expires", self.expires_at),
                ("loses data access", self.data_access_expires_at),
            )
            if when is not None and when - now <= within
        ]
        if not soon:
            return None
        return "; ".join(f"the Meta access token {what} at {when.isoformat()}" for what, when in soon)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "token_valid": self.is_valid,
            "token_expires_at": self.expires_at.isoformat() if self.expires_at else "never",
            "token_data_access_expires_at": self.data_access_expires_at.isoformat()
            if self.data_access_expires_at
            else None,
        }


def _unix_time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > 2**40:
        return None
    return datetime.fromtimestamp(value, UTC)


class GraphApiClient(RetriesCalls):
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
        pacing: UsagePacing | None = None,
    ):
        self._token = access_token
        self.version = version
        self.base_url = base_url.rstrip("/")
        from kedah_analytics.sources.common.http import TimeoutSession  # requests, with the client

        self.session = session if session is not None else TimeoutSession(timeout)
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self._app_secret = app_secret
        self._extra_secrets: list[Secret] = []
        self.last_usage: dict[str, str] = {}
        # The usage the last answer reported: calls slow down above pacing.slow_from %, stop at 100 %.
        self.pacing = pacing or UsagePacing()
        self.usage: GraphUsage | None = None

    @classmethod
    def pinned(
        cls, access_token: Secret, graph_api: GraphApiTracking, **options: Unpack[GraphClientOptions]
    ) -> GraphApiClient:
        """A client on the Graph API version and host pinned in the tracking file; what ``options``
        leaves out, the constructor's defaults."""
        return cls(access_token, version=graph_api.version, base_url=graph_api.base_url, **options)

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

    def token_status(self, telemetry: FetchTelemetry | None = None) -> TokenStatus | None:
        """``GET /debug_token`` for the configured token: validity and expiry, or None (with a note)
        when Meta would not say. The token is sent as a parameter and scrubbed from any error."""
        try:
            body = self.get("debug_token", {"input_token": self._token.reveal()}, telemetry=telemetry)
        except SourceError as exc:
            if telemetry is not None:
                telemetry.notes.append(f"debug_token unavailable: {exc}")
            return None
        data = mapping_or_empty(body.get("data"))
        valid = data.get("is_valid")
        raw_expiry = data.get("expires_at")
        return TokenStatus(
            is_valid=valid if isinstance(valid, bool) else None,
            expires_at=None if raw_expiry == 0 else _unix_time(raw_expiry),
            data_access_expires_at=_unix_time(data.get("data_access_expires_at")),
        )

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
            # A paging or data field of the wrong type ends the walk here; the source's page reader
            # quarantines the page part with its reason.
            paging = mapping_or_empty(page.get("paging"))
            next_url = paging.get("next")
            if not isinstance(page.get("data"), list) or not page["data"] or not isinstance(next_url, str):
                return
            if number == max_pages:
                if telemetry is not None:
                    telemetry.notes.append(f"stopped after {max_pages} pages of {path}; more remain")
                return
            if urlsplit(next_url).netloc == urlsplit(self.base_url).netloc:
                page = self.get_next(next_url, telemetry=telemetry, access_token=access_token)
            elif isinstance(after := mapping_or_empty(paging.get("cursors")).get("after"), str) and after:
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
        import requests

        what = self._describe(url)

        def attempt() -> dict[str, Any]:
            self._pace(what, telemetry)
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

        return self.retried(attempt, what, telemetry)

    def _pace(self, what: str, telemetry: FetchTelemetry | None) -> None:
        """Before a call: stop when the last answer said the rate limit is spent, else slow down in
        proportion to how close it is."""
        if self.usage is None:
            return
        spent = self.usage.spent(self.clock())
        if spent is not None:
            raise QuotaExhausted(f"{what}: {spent.message}", reset_at=spent.reset_at)
        pause = self.pacing.pause(self.usage)
        if pause and telemetry is not None:
            telemetry.details["graph_usage_waits"] = telemetry.details.get("graph_usage_waits", 0) + 1
            telemetry.details["graph_usage_wait_seconds"] = (
                telemetry.details.get("graph_usage_wait_seconds", 0) + pause
            )
        if pause:
            self.sleep(pause)

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
            self.usage = read_usage(response.headers) or self.usage
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
        if code == 100 and "metric" in message.lower():
            raise InvalidMetric(
                f"{what}: removed or invalid insights metric ({detail})", provider_message=message
            )
        if code == 100:
            raise BadRequest(f"{what}: bad parameter or removed metric ({detail})")
        if code in GRAPH_TRANSIENT_CODES or error.get("is_transient") or status >= 500:
            raise Retryable(detail)
        raise SourceError(f"{what}: HTTP {status}, {detail}")

    def _throttled(self, detail: str, response: requests.Response) -> Retryable | QuotaExhausted:
        """A throttle Meta lifts soon is slept through; one at 100 % of the app's usage, or lifted
        later than a run should sleep, is a spent quota until then."""
        wait = graph_throttle_wait(response.headers)
        usage = read_usage(response.headers)
        if wait is None and usage is not None and usage.percent >= 100:
            wait = APP_USAGE_WINDOW.total_seconds()
        reset_at = self.clock() + timedelta(seconds=wait) if wait is not None else None
        if reset_at is not None and wait is not None and wait > self.policy.max_wait_seconds:
            return QuotaExhausted(
                f"throttled, {detail}; access returns at {reset_at.isoformat()}", reset_at=reset_at
            )
        return Retryable(f"throttled, {detail}", throttled=True, wait_seconds=wait, reset_at=reset_at)


class GraphClientOptions(TypedDict, total=False):
    """What :meth:`GraphApiClient.pinned` builds a client with besides its token and version."""

    session: requests.Session | None
    clock: Clock
    sleep: Sleep
    app_secret: Secret | None


class GraphOptions(GraphClientOptions, total=False):
    """How a Graph API source gets its client: an existing ``client`` (the registry builds one per
    source), or one built here from a ``session``, ``clock``, ``sleep`` and ``app_secret``."""

    client: GraphApiClient


def graph_client(access_token: Secret, tracking: TrackingConfig, options: GraphOptions) -> GraphApiClient:
    """The client a Graph API source reads through, on the version pinned in the tracking file."""
    if "client" in options:
        return options["client"]
    return GraphApiClient.pinned(
        access_token,
        tracking.graph_api,
        session=options.get("session"),
        clock=options.get("clock", utcnow),
        sleep=options.get("sleep", time.sleep),
        app_secret=options.get("app_secret"),
    )
