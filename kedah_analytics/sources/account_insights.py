"""Account-level daily metrics from Instagram insights, Facebook Page insights and YouTube Analytics.

Only metrics the platforms still serve are asked for (Instagram removed ``impressions``,
``video_views`` and ``profile_views``; Facebook removed ``page_impressions*`` and ``page_fans*``);
asking for a removed one fails the whole call. One account failing does not stop the others: the
result lists which accounts succeeded and why the others failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httplib2
import requests
from googleapiclient.discovery import build

from kedah_analytics.config.settings import (
    YOUTUBE_OAUTH_CLIENT_ID,
    YOUTUBE_OAUTH_CLIENT_SECRET,
    YOUTUBE_OAUTH_REFRESH_TOKEN,
    YOUTUBE_OAUTH_TOKEN_FILE,
)
from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.domain import AccountMetricRecord, kedah_date_bounds
from kedah_analytics.sources.common.base import CredentialsError, FetchTelemetry, InvalidMetric, SourceError
from kedah_analytics.sources.common.parsing import mapping_or_empty, parse_time
from kedah_analytics.sources.common.retry import Clock, RetryPolicy, Sleep, utcnow
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.meta.facebook import PageTokens
from kedah_analytics.sources.meta.graph import GraphApiClient
from kedah_analytics.sources.youtube.videos import DEFAULT_HTTP_TIMEOUT, PACIFIC, execute_google_request

INSTAGRAM_INSIGHTS_PROVIDER = "instagram_graph_insights"
FACEBOOK_INSIGHTS_PROVIDER = "facebook_graph_insights"
YOUTUBE_ANALYTICS_PROVIDER = "youtube_analytics_v2"

YOUTUBE_ANALYTICS_SCOPES = ("https://www.googleapis.com/auth/yt-analytics.readonly",)
FACEBOOK_INSIGHTS_MAX_DAYS = 90


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


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    return None


def _failure(platform: str, account_id: str, exc: SourceError) -> AccountFailure:
    return AccountFailure(platform, account_id, str(exc), type(exc).__name__, exc.retryable)


def query_keeping_valid_metrics(
    metrics: Sequence[str],
    call: Callable[[tuple[str, ...]], dict[str, Any]],
    unavailable: dict[str, str],
) -> list[dict[str, Any]]:
    """``call(metrics)``; when Meta refuses a metric (code 100, removed or invalid), the metrics are
    split and retried until the refused ones are found, recorded in ``unavailable`` and left out.

    Meta's message does not reliably name the metric (it may list every valid one instead), so the
    search halves the list: k refused metrics among n cost about 2k·log2(n) extra calls, once per
    source (``unavailable`` is remembered). When every metric is refused, the error is raised.
    """
    wanted = tuple(m for m in metrics if m not in unavailable)
    if not wanted:
        return []
    refused: list[InvalidMetric] = []

    def search(subset: tuple[str, ...]) -> list[dict[str, Any]]:
        try:
            return [call(subset)]
        except InvalidMetric as exc:
            refused.append(exc)
            if len(subset) == 1:
                unavailable[subset[0]] = exc.provider_message or str(exc)
                return []
            middle = len(subset) // 2
            return search(subset[:middle]) + search(subset[middle:])

    answers = search(wanted)
    if all(m in unavailable for m in wanted):
        raise refused[-1]
    return answers


def _entries(response: Mapping[str, Any]) -> list[Any]:
    data = response.get("data")
    return data if isinstance(data, list) else []


def meta_token_check(client: GraphApiClient, result: AccountMetricsResult, now: datetime) -> None:
    """Put the Graph API version and what ``debug_token`` says about the token into ``result``."""
    result.details["graph_api_version"] = client.version
    status = client.token_status(result.telemetry)
    if status is None:
        return
    result.details.update(status.as_metadata())
    result.warning = status.warning(now)


class InstagramInsightsSource:
    """``/{ig-user-id}/insights`` per Kedah day: ``period=day``, ``metric_type=total_value``.

    ``total_value`` sums over ``since..until``, so each day is its own call with that day's bounds.
    """

    platform = "instagram"
    provider = INSTAGRAM_INSIGHTS_PROVIDER

    def __init__(
        self,
        access_token: Secret,
        account_ids: Sequence[str],
        tracking: TrackingConfig,
        *,
        client: GraphApiClient | None = None,
        session: requests.Session | None = None,
        clock: Clock = utcnow,
        sleep: Sleep = time.sleep,
        app_secret: Secret | None = None,
    ):
        self.account_ids = tuple(account_ids)
        self.metrics = tracking.instagram.insights_metrics
        self.client = client or GraphApiClient.pinned(
            access_token, tracking.graph_api, session=session, clock=clock, sleep=sleep, app_secret=app_secret
        )
        self.clock = clock
        self.unavailable: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"InstagramInsightsSource(accounts={list(self.account_ids)})"

    def fetch_account_metrics(self, days: list[date]) -> AccountMetricsResult:
        result = AccountMetricsResult([], [], [], FetchTelemetry(), self.provider)
        meta_token_check(self.client, result, self.clock())
        for account_id in self.account_ids:
            try:
                records = [
                    r for day in sorted(set(days)) for r in self._day(account_id, day, result.telemetry)
                ]
            except SourceError as exc:
                result.failures.append(_failure(self.platform, account_id, exc))
                continue
            result.records.extend(records)
            result.succeeded.append(account_id)
        result.unavailable_metrics.update(self.unavailable)
        return result

    def _day(self, account_id: str, day: date, telemetry: FetchTelemetry) -> list[AccountMetricRecord]:
        since, until = kedah_date_bounds(day)

        def call(metrics: tuple[str, ...]) -> dict[str, Any]:
            response = self.client.get(
                f"{account_id}/insights",
                {
                    "metric": ",".join(metrics),
                    "period": "day",
                    "metric_type": "total_value",
                    "since": int(since.timestamp()),
                    "until": int(until.timestamp()),
                },
                telemetry=telemetry,
            )
            telemetry.pages += 1
            return response

        entries = [
            entry
            for response in query_keeping_valid_metrics(self.metrics, call, self.unavailable)
            for entry in _entries(response)
        ]
        records = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                telemetry.notes.append(
                    f"{account_id} {day}: unreadable insights entry skipped: {entry!r:.200}"
                )
                continue
            total = mapping_or_empty(entry.get("total_value"))
            metadata: dict[str, Any] = {
                "period": entry.get("period"),
                "metric_type": "total_value",
                "since": since.isoformat(),
                "until": until.isoformat(),
                "day_basis": "Asia/Kuala_Lumpur (requested since/until)",
                "title": entry.get("title"),
            }
            if total.get("breakdowns"):
                metadata["breakdowns"] = total["breakdowns"]
            records.append(
                AccountMetricRecord(
                    platform=self.platform,
                    account_id=account_id,
                    metric=entry["name"],
                    date=day,
                    value=_number(total.get("value")),
                    provider=self.provider,
                    metadata=metadata,
                )
            )
        return records


class FacebookPageInsightsSource:
    """``/{page-id}/insights`` (``period=day``) for the configured Pages, at most 90 days a call.

    Meta reports Page metrics by Pacific days: a value whose ``end_time`` is a Pacific midnight
    belongs to the Pacific day before it, which is the date recorded.
    """

    platform = "facebook"
    provider = FACEBOOK_INSIGHTS_PROVIDER

    def __init__(
        self,
        access_token: Secret,
        tracking: TrackingConfig,
        *,
        page_ids: Sequence[str] | None = None,
        client: GraphApiClient | None = None,
        session: requests.Session | None = None,
        clock: Clock = utcnow,
        sleep: Sleep = time.sleep,
        app_secret: Secret | None = None,
    ):
        self.page_ids = tuple(page_ids if page_ids is not None else tracking.facebook.page_ids)
        self.metrics = tracking.facebook.insights_metrics
        self.client = client or GraphApiClient.pinned(
            access_token, tracking.graph_api, session=session, clock=clock, sleep=sleep, app_secret=app_secret
        )
        self.pages = PageTokens(self.client, exchange=tracking.facebook.exchange_page_tokens)
        self.clock = clock
        self.unavailable: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"FacebookPageInsightsSource(pages={list(self.page_ids)})"

    def fetch_account_metrics(self, days: list[date]) -> AccountMetricsResult:
        result = AccountMetricsResult([], [], [], FetchTelemetry(), self.provider)
        if self.page_ids:
            meta_token_check(self.client, result, self.clock())
        wanted = sorted(set(days))
        for page_id in self.page_ids:
            try:
                records = self._page(page_id, wanted, result.telemetry)
            except SourceError as exc:
                result.failures.append(_failure(self.platform, page_id, exc))
                continue
            result.records.extend(records)
            result.succeeded.append(page_id)
        result.unavailable_metrics.update(self.unavailable)
        return result

    def _page(self, page_id: str, wanted: list[date], telemetry: FetchTelemetry) -> list[AccountMetricRecord]:
        if not wanted:
            return []
        _, token = self.pages.page(page_id, telemetry)
        wanted_set = set(wanted)
        records: dict[tuple[str, date], AccountMetricRecord] = {}
        chunk_start = wanted[0]
        while chunk_start <= wanted[-1]:
            # A day's value is stamped with the Pacific midnight that ends it: ask a day either side.
            chunk_end = min(wanted[-1], chunk_start + timedelta(days=FACEBOOK_INSIGHTS_MAX_DAYS - 4))
            since = (chunk_start - timedelta(days=1)).isoformat()
            until = (chunk_end + timedelta(days=2)).isoformat()

            def call(metrics: tuple[str, ...], since: str = since, until: str = until) -> dict[str, Any]:
                response = self.client.get(
                    f"{page_id}/insights",
                    {"metric": ",".join(metrics), "period": "day", "since": since, "until": until},
                    telemetry=telemetry,
                    access_token=token,
                )
                telemetry.pages += 1
                return response

            entries = [
                entry
                for response in query_keeping_valid_metrics(self.metrics, call, self.unavailable)
                for entry in _entries(response)
            ]
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    continue
                values = entry.get("values")
                for point in values if isinstance(values, list) else []:
                    end_time = parse_time(point.get("end_time")) if isinstance(point, dict) else None
                    if end_time is None:
                        telemetry.notes.append(f"page {page_id}: insights value without end_time skipped")
                        continue
                    day = (end_time.astimezone(PACIFIC) - timedelta(seconds=1)).date()
                    if day not in wanted_set:
                        continue
                    raw = point.get("value")
                    metadata: dict[str, Any] = {
                        "period": entry.get("period"),
                        "end_time": point.get("end_time"),
                        "day_basis": "America/Los_Angeles",
                        "title": entry.get("title"),
                    }
                    if isinstance(raw, dict):
                        metadata["value_breakdown"] = raw
                    records[(entry["name"], day)] = AccountMetricRecord(
                        platform=self.platform,
                        account_id=page_id,
                        metric=entry["name"],
                        date=day,
                        value=_number(raw),
                        provider=self.provider,
                        metadata=metadata,
                    )
            chunk_start = chunk_end + timedelta(days=1)
        return list(records.values())


def load_youtube_credentials(env: Mapping[str, str]) -> tuple[Any, str] | None:
    """Channel-owner OAuth credentials for YouTube Analytics, and the variable that holds them.

    Either ``KEDAH_YOUTUBE_OAUTH_TOKEN_FILE`` (an authorized-user JSON written by an OAuth consent
    flow, kept outside the repo) or the three variables client id, client secret and refresh token.
    """
    from google.oauth2.credentials import Credentials

    if path := env.get(YOUTUBE_OAUTH_TOKEN_FILE.name):
        try:
            credentials = Credentials.from_authorized_user_file(
                str(Path(path).expanduser()), scopes=list(YOUTUBE_ANALYTICS_SCOPES)
            )
        except (OSError, ValueError) as exc:
            raise CredentialsError(
                YOUTUBE_OAUTH_TOKEN_FILE.name,
                f"cannot read an authorized-user JSON from that file ({type(exc).__name__})",
            ) from None
        return credentials, YOUTUBE_OAUTH_TOKEN_FILE.name
    trio = (YOUTUBE_OAUTH_CLIENT_ID.name, YOUTUBE_OAUTH_CLIENT_SECRET.name, YOUTUBE_OAUTH_REFRESH_TOKEN.name)
    if all(env.get(name) for name in trio):
        credentials = Credentials(
            None,
            refresh_token=env[YOUTUBE_OAUTH_REFRESH_TOKEN.name],
            token_uri="https://oauth2.googleapis.com/token",
            client_id=env[YOUTUBE_OAUTH_CLIENT_ID.name],
            client_secret=env[YOUTUBE_OAUTH_CLIENT_SECRET.name],
            scopes=list(YOUTUBE_ANALYTICS_SCOPES),
        )
        return credentials, YOUTUBE_OAUTH_REFRESH_TOKEN.name
    return None


class YouTubeAnalyticsSource:
    """YouTube Analytics daily channel metrics (``dimensions=day``), by Pacific day.

    Pass ``credentials`` (the channel owner's OAuth) in production, or ``http`` (an
    ``HttpMockSequence``) in tests.
    """

    platform = "youtube"
    provider = YOUTUBE_ANALYTICS_PROVIDER

    def __init__(
        self,
        tracking: TrackingConfig,
        *,
        credentials: Any = None,
        credentials_env_var: str = YOUTUBE_OAUTH_TOKEN_FILE.name,
        http: Any = None,
        timeout: float = DEFAULT_HTTP_TIMEOUT,
        clock: Clock = utcnow,
        sleep: Sleep = time.sleep,
        policy: RetryPolicy | None = None,
    ):
        if http is None:
            if credentials is None:
                raise CredentialsError(
                    credentials_env_var, "YouTube Analytics needs the channel owner's OAuth credentials"
                )
            import google_auth_httplib2

            http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
        self.service = build(
            "youtubeAnalytics", "v2", http=http, static_discovery=True, cache_discovery=False
        )
        self.channel_ids = tracking.youtube.channel_ids or ("MINE",)
        self.metrics = tracking.youtube.analytics_metrics
        self.env_var = credentials_env_var
        self.clock = clock
        self.sleep = sleep
        self.policy = policy or RetryPolicy(max_attempts=4)

    def __repr__(self) -> str:
        return f"YouTubeAnalyticsSource(channels={list(self.channel_ids)})"

    def fetch_account_metrics(self, days: list[date]) -> AccountMetricsResult:
        result = AccountMetricsResult([], [], [], FetchTelemetry(), self.provider)
        wanted = sorted(set(days))
        if not wanted:
            return result
        for channel in self.channel_ids:
            try:
                records = self._channel(channel, wanted, result.telemetry)
            except SourceError as exc:
                result.failures.append(_failure(self.platform, channel, exc))
                continue
            result.records.extend(records)
            result.succeeded.append(channel)
        return result

    def _channel(
        self, channel: str, wanted: list[date], telemetry: FetchTelemetry
    ) -> list[AccountMetricRecord]:
        request = self.service.reports().query(
            ids=f"channel=={channel}",
            startDate=wanted[0].isoformat(),
            endDate=wanted[-1].isoformat(),
            metrics=",".join(self.metrics),
            dimensions="day",
            sort="day",
        )
        response = execute_google_request(
            request,
            what="YouTube Analytics reports.query",
            env_var=self.env_var,
            secrets=[],
            policy=self.policy,
            sleep=self.sleep,
            clock=self.clock,
            telemetry=telemetry,
        )
        telemetry.pages += 1
        if not isinstance(response, dict):
            raise SourceError(f"YouTube Analytics answered a {type(response).__name__}, not a JSON object")
        raw_headers = response.get("columnHeaders")
        headers = [
            h.get("name")
            for h in (raw_headers if isinstance(raw_headers, list) else [])
            if isinstance(h, dict)
        ]
        if "day" not in headers:
            raise SourceError(f"YouTube Analytics answered without a day column: {headers}")
        day_index = headers.index("day")
        wanted_set = set(wanted)
        account = channel
        fetched_at = self.clock().astimezone(UTC).isoformat()
        records = []
        rows = response.get("rows")
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, list) or len(row) != len(headers):
                telemetry.notes.append(f"channel {channel}: malformed analytics row skipped: {row!r:.200}")
                continue
            try:
                day = date.fromisoformat(str(row[day_index]))
            except ValueError:
                telemetry.notes.append(
                    f"channel {channel}: analytics row with a bad day skipped: {row!r:.200}"
                )
                continue
            if day not in wanted_set:
                continue
            for index, name in enumerate(headers):
                if index == day_index or not isinstance(name, str):
                    continue
                records.append(
                    AccountMetricRecord(
                        platform=self.platform,
                        account_id=account,
                        metric=name,
                        date=day,
                        value=_number(row[index]),
                        provider=self.provider,
                        metadata={
                            "day_basis": "America/Los_Angeles",
                            "ids": f"channel=={channel}",
                            "fetched_at": fetched_at,
                        },
                    )
                )
        return records
