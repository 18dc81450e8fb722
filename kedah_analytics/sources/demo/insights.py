"""Invented account metrics and search interest, so a new user sees every asset with rows.

Like the demo posts they are deterministic per date (the same partition always gets the same
values), labelled with the provider ``demo``, and never mixed with real rows: the assets refuse to
write demo rows over real ones, and a real fetch removes the demo rows of its partitions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from kedah_analytics.config.tracking import GoogleTrendsTracking, TrackingConfig
from kedah_analytics.domain import DEMO_PROVIDER, SearchInterestRecord, is_kedah_weekend
from kedah_analytics.sources.common.base import FetchTelemetry
from kedah_analytics.sources.google_trends.client import SearchInterestResult, daily_timeframe
from kedah_analytics.sources.insights import AccountMetricsResult, account_metric

# Typical daily sizes of a destination's owned accounts, so the numbers look like a real account's.
_SCALE = {
    "reach": 4_000, "views": 9_000, "accounts_engaged": 350, "total_interactions": 600, "likes": 480,
    "comments": 40, "shares": 35, "saves": 45, "replies": 6, "follows_and_unfollows": 12,
    "profile_links_taps": 20, "page_media_view": 7_000, "page_total_media_view_unique": 3_200,
    "page_follows": 15, "estimatedMinutesWatched": 2_500, "subscribersGained": 9,
}  # fmt: skip


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def demo_account_id(platform: str) -> str:
    return f"demo-{platform}-account"


def _weekly_lift(day: date) -> float:
    return 1.3 if is_kedah_weekend(day) else 1.0


class DemoAccountMetricsSource:
    """One invented owned account per platform, reporting the metrics the tracking file lists."""

    provider = DEMO_PROVIDER

    def __init__(self, platform: str, metrics: Sequence[str]):
        self.platform = platform
        self.metrics = tuple(metrics)

    @classmethod
    def for_platform(cls, platform: str, tracking: TrackingConfig) -> DemoAccountMetricsSource:
        metrics = {
            "instagram": tracking.instagram.insights_metrics,
            "facebook": tracking.facebook.insights_metrics,
            "youtube": tracking.youtube.analytics_metrics,
        }[platform]
        return cls(platform, metrics)

    def fetch_account_metrics(self, days: list[date]) -> AccountMetricsResult:
        account = demo_account_id(self.platform)
        records = []
        for day in sorted(set(days)):
            rng = _rng("account", self.platform, day)
            for metric in self.metrics:
                scale = _SCALE.get(metric, 100) * _weekly_lift(day)
                metadata = {"day_basis": "Asia/Kuala_Lumpur", "demo": True}
                records.append(
                    account_metric(self, account, metric, day, float(rng.poisson(scale)), metadata)
                )
        return AccountMetricsResult(records, [], [account], FetchTelemetry(), DEMO_PROVIDER)


class DemoSearchInterestSource:
    """Invented Google Trends interest for the tracked keyword groups: 0..100 within each group and
    request, the group's busiest keyword-day at 100, as Google scales it."""

    provider = DEMO_PROVIDER

    def __init__(self, tracking: TrackingConfig | GoogleTrendsTracking):
        self.options = tracking.google_trends if isinstance(tracking, TrackingConfig) else tracking

    def fetch_interest(self, start: date, end: date) -> SearchInterestResult:
        timeframe = daily_timeframe(start, end)
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        rows: list[SearchInterestRecord] = []
        for group in self.options.keyword_groups:
            raw = np.array(
                [[_rng("interest", keyword, day).gamma(4.0, 10.0 * _weekly_lift(day) / (rank + 1))
                  for day in days] for rank, keyword in enumerate(group)]
            )  # fmt: skip
            scaled = np.rint(100 * raw / raw.max()) if raw.size and raw.max() > 0 else raw
            for keyword, values in zip(group, scaled, strict=True):
                rows.extend(
                    SearchInterestRecord(
                        date=day,
                        keyword=keyword,
                        interest=int(value),
                        is_partial=False,
                        geo=self.options.geo,
                        timeframe=timeframe,
                        keyword_group=tuple(group),
                        provider=DEMO_PROVIDER,
                    )
                    for day, value in zip(days, values, strict=True)
                )
        return SearchInterestResult(rows, FetchTelemetry(), DEMO_PROVIDER)
