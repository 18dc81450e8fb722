"""Meta's account insights: Instagram account insights and Facebook Page insights, by Kedah day.

Only metrics the platforms still serve are asked for (Instagram removed ``impressions``,
``video_views`` and ``profile_views``; Facebook removed ``page_impressions*`` and ``page_fans*``);
a metric Meta has since removed is found by halving the list and left out, the others kept. Each
run asks ``debug_token`` when the token expires, so an expiring one is named in the metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Unpack

from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.domain import AccountMetricRecord, kedah_date_bounds
from kedah_analytics.sources.common.base import FetchTelemetry, InvalidMetric
from kedah_analytics.sources.common.days import PACIFIC
from kedah_analytics.sources.common.parsing import mapping_or_empty, parse_time
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.insights import AccountMetricsResult, account_metric, fetch_each_account
from kedah_analytics.sources.meta.facebook import PageTokens
from kedah_analytics.sources.meta.graph import GraphApiClient, GraphOptions, graph_client

INSTAGRAM_INSIGHTS_PROVIDER = "instagram_graph_insights"
FACEBOOK_INSIGHTS_PROVIDER = "facebook_graph_insights"
FACEBOOK_INSIGHTS_MAX_DAYS = 90


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


def insights_entries(
    client: GraphApiClient,
    path: str,
    params: Mapping[str, Any],
    metrics: Sequence[str],
    unavailable: dict[str, str],
    telemetry: FetchTelemetry,
    *,
    access_token: Secret | None = None,
) -> tuple[list[dict[str, Any]], list[Any]]:
    """The entries an insights edge answers for ``metrics`` (those Meta refuses left out, see
    :func:`query_keeping_valid_metrics`): the readable ones (an object with a name), and the rest."""

    def call(subset: tuple[str, ...]) -> dict[str, Any]:
        response = client.get(
            path, {"metric": ",".join(subset), **params}, telemetry=telemetry, access_token=access_token
        )
        telemetry.pages += 1
        return response

    entries = [
        e for response in query_keeping_valid_metrics(metrics, call, unavailable) for e in _entries(response)
    ]
    named = [isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries]
    return [e for e, ok in zip(entries, named, strict=True) if ok], [
        e for e, ok in zip(entries, named, strict=True) if not ok
    ]


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
        **graph: Unpack[GraphOptions],
    ):
        self.account_ids = tuple(account_ids)
        self.metrics = tracking.instagram.insights_metrics
        self.client = graph_client(access_token, tracking, graph)
        self.clock = self.client.clock
        self.unavailable: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"InstagramInsightsSource(accounts={list(self.account_ids)})"

    def fetch_account_metrics(self, days: list[date]) -> AccountMetricsResult:
        result = AccountMetricsResult([], [], [], FetchTelemetry(), self.provider)
        meta_token_check(self.client, result, self.clock())
        wanted = sorted(set(days))

        def account(account_id: str) -> list[AccountMetricRecord]:
            return [r for day in wanted for r in self._day(account_id, day, result.telemetry)]

        fetch_each_account(result, self.platform, self.account_ids, account)
        result.unavailable_metrics.update(self.unavailable)
        return result

    def _day(self, account_id: str, day: date, telemetry: FetchTelemetry) -> list[AccountMetricRecord]:
        since, until = kedah_date_bounds(day)
        params = {
            "period": "day",
            "metric_type": "total_value",
            "since": int(since.timestamp()),
            "until": int(until.timestamp()),
        }
        entries, unreadable = insights_entries(
            self.client, f"{account_id}/insights", params, self.metrics, self.unavailable, telemetry
        )
        for entry in unreadable:
            telemetry.notes.append(f"{account_id} {day}: unreadable insights entry skipped: {entry!r:.200}")
        records = []
        for entry in entries:
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
            records.append(account_metric(self, account_id, entry["name"], day, total.get("value"), metadata))
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
        **graph: Unpack[GraphOptions],
    ):
        self.page_ids = tuple(page_ids if page_ids is not None else tracking.facebook.page_ids)
        self.metrics = tracking.facebook.insights_metrics
        self.client = graph_client(access_token, tracking, graph)
        self.pages = PageTokens(self.client, exchange=tracking.facebook.exchange_page_tokens)
        self.clock = self.client.clock
        self.unavailable: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"FacebookPageInsightsSource(pages={list(self.page_ids)})"

    def fetch_account_metrics(self, days: list[date]) -> AccountMetricsResult:
        result = AccountMetricsResult([], [], [], FetchTelemetry(), self.provider)
        if self.page_ids:
            meta_token_check(self.client, result, self.clock())
        wanted = sorted(set(days))
        fetch_each_account(
            result,
            self.platform,
            self.page_ids,
            lambda page_id: self._page(page_id, wanted, result.telemetry),
        )
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

            entries, _ = insights_entries(
                self.client,
                f"{page_id}/insights",
                {"period": "day", "since": since, "until": until},
                self.metrics,
                self.unavailable,
                telemetry,
                access_token=token,
            )
            for entry in entries:
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
                    records[(entry["name"], day)] = account_metric(
                        self, page_id, entry["name"], day, raw, metadata
                    )
            chunk_start = chunk_end + timedelta(days=1)
        return list(records.values())
