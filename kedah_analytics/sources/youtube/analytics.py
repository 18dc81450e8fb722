"""YouTube Analytics: daily channel metrics for owned channels, with the channel owner's OAuth.

Credentials come from ``KEDAH_YOUTUBE_OAUTH_TOKEN_FILE`` (an authorized-user JSON kept outside the
repo) or the client id, client secret and refresh token variables; values are by Pacific day.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, date
from pathlib import Path
from typing import Any

from kedah_analytics.config.settings import (
    YOUTUBE_OAUTH_CLIENT_ID,
    YOUTUBE_OAUTH_CLIENT_SECRET,
    YOUTUBE_OAUTH_REFRESH_TOKEN,
    YOUTUBE_OAUTH_TOKEN_FILE,
)
from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.domain import AccountMetricRecord
from kedah_analytics.sources.common.base import CredentialsError, FetchTelemetry, SourceError
from kedah_analytics.sources.common.retry import Clock, RetryPolicy, Sleep, utcnow
from kedah_analytics.sources.insights import AccountMetricsResult, account_metric, fetch_each_account
from kedah_analytics.sources.youtube.google_api import DEFAULT_HTTP_TIMEOUT, execute_google_request

YOUTUBE_ANALYTICS_PROVIDER = "youtube_analytics_v2"
YOUTUBE_ANALYTICS_SCOPES = ("https://www.googleapis.com/auth/yt-analytics.readonly",)


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
            import httplib2

            http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
        from googleapiclient.discovery import build  # loads when a real source is built

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
        if wanted:
            fetch_each_account(
                result, self.platform, self.channel_ids, lambda c: self._channel(c, wanted, result.telemetry)
            )
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
                metadata = {
                    "day_basis": "America/Los_Angeles",
                    "ids": f"channel=={channel}",
                    "fetched_at": fetched_at,
                }
                records.append(account_metric(self, account, name, day, row[index], metadata))
        return records
