"""Which source collects each platform: a real provider where credentials are configured, else demo.

Credentials are read from the environment by ``kedah_analytics.sources.registry`` when a source is
built, never kept in resource config (which the UI shows). The state sources keep between runs (the
Instagram hashtag ledger, the YouTube search allowance, X cursors, the Google Trends cache) lives in
the warehouse database named by ``url``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

from kedah_analytics.config.settings import GOOGLE_TRENDS, PG_URL, SOURCE_MODE, YOUTUBE_OAUTH
from kedah_analytics.config.tracking import load_tracking
from kedah_analytics.config.validate import ConfigurationError, source_problems
from kedah_analytics.deferrals import Deferral, record_deferral
from kedah_analytics.domain import PLATFORMS
from kedah_analytics.sources.common.base import PostSource
from kedah_analytics.sources.common.providers import Wiring
from kedah_analytics.sources.registry import (
    configured_account_sources,
    configured_sources,
    configured_trends_source,
    describe_configuration,
)
from kedah_analytics.warehouse.state import (
    PgHashtagLedger,
    PgPostReadBudget,
    PgSearchCallBudget,
    PgTrendsCache,
    load_cursors,
)

if TYPE_CHECKING:
    # The sources' libraries (numpy, pandas, pytrends) load when a step asks for a source.
    from kedah_analytics.sources.demo.insights import DemoSearchInterestSource
    from kedah_analytics.sources.google_trends.client import GoogleTrendsSource
    from kedah_analytics.sources.insights import AccountMetricsSource

MODES = ("auto", "demo")
DEMO_MODE_NOTE = f"{SOURCE_MODE.name}=demo"
# X has no account-insights API the project uses: its account_daily_metrics partitions stay empty.
NO_ACCOUNT_METRICS = {"twitter": "X has no account metrics source; twitter partitions hold no rows"}
_YOUTUBE_OAUTH_NAMES = frozenset(s.name for s in YOUTUBE_OAUTH)


class _SourceResource(dg.ConfigurableResource):
    """What the source resources share: the mode, the environment, and the client hooks."""

    mode: str = Field(
        default="auto",
        description="auto: real where credentials are configured, demo (or off) elsewhere; demo: never real",
    )

    def environment(self) -> Mapping[str, str]:
        """Where credentials come from."""
        return os.environ

    def client_hooks(self) -> dict[str, Any]:
        """Keyword arguments for building the API clients (``session_factory``, ``youtube_http``,
        ``clock``, ``sleep``): empty in production; tests put the libraries' transports here."""
        return {}

    def hooks_for(self, build: Any) -> dict[str, Any]:
        """The client hooks that ``build`` (the registry's :class:`Wiring` or a source class) accepts."""
        accepted = inspect.signature(build).parameters
        return {k: v for k, v in self.client_hooks().items() if k in accepted}

    def _check_mode(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"{SOURCE_MODE.name} must be 'auto' or 'demo', not {self.mode!r}")


class PostSources(_SourceResource):
    """Post sources per platform.

    ``mode`` is ``auto`` (real where credentials are configured, demo elsewhere) or ``demo``
    (always demo, for trying the project out). A platform whose real source fails fails its
    partitions; it never falls back to demo rows.
    """

    url: str | None = Field(
        default=None,
        description=f"PostgreSQL holding the sources' state ({PG_URL.name}); unset: in-memory, per process",
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Before any fetch or write: a wrong mode or tracking file fails the run once, clearly.
        problems = source_problems(self.mode, self.environment())
        if problems:
            raise ConfigurationError(problems)

    def real_sources(self) -> dict[str, PostSource]:
        """The platforms the environment configures, each with its real source."""
        self._check_mode()
        if self.mode == "demo":
            return {}
        state: dict[str, Any] = {}
        if self.url:
            state = {
                "hashtag_ledger": PgHashtagLedger(self.url),
                "youtube_search_budget": PgSearchCallBudget(self.url),
                "x_read_budget": PgPostReadBudget(self.url),
            }
        return configured_sources(self.environment(), **{**state, **self.hooks_for(Wiring)})

    def source_for(self, platform: str) -> PostSource:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; platforms are {PLATFORMS}")
        self._check_mode()
        from kedah_analytics.sources.demo.posts import DemoSource  # numpy, with the first fetch

        return self.real_sources().get(platform) or DemoSource()

    def describe(self) -> dict[str, str]:
        """Per platform (and account metrics, Google Trends): real or demo, and which variable is
        missing. Names variables, never their values."""
        self._check_mode()
        lines = describe_configuration(self.environment())
        if self.mode == "demo":
            return {
                key: f"demo: {DEMO_MODE_NOTE}" if key in PLATFORMS else f"off: {DEMO_MODE_NOTE}"
                for key in lines
            }
        return lines

    def cursors_for(self, source: PostSource) -> dict[str, str] | None:
        """The cursors stored for a source that polls from them (X), else None."""
        if not self.url or not source.polls_from_cursors:
            return None
        return load_cursors(self.url, source.provider)

    def defer(self, deferred: Deferral) -> None:
        """Keep a platform's deferral where the schedules read it (in-memory state keeps none)."""
        if self.url:
            record_deferral(self.url, deferred)


class AccountMetricSources(_SourceResource):
    """Account-level insights per platform (Instagram, Facebook Pages, YouTube Analytics), where
    credentials are configured; elsewhere an invented ``demo`` account (X has none at all)."""

    def demo_source_for(self, platform: str) -> AccountMetricsSource | None:
        """The demo account of a platform that has account metrics, else None (X)."""
        if platform in NO_ACCOUNT_METRICS:
            return None
        from kedah_analytics.sources.demo.insights import DemoAccountMetricsSource

        return DemoAccountMetricsSource.for_platform(platform, load_tracking(self.environment()))

    def source_for(self, platform: str) -> AccountMetricsSource | None:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; platforms are {PLATFORMS}")
        self._check_mode()
        if self.mode == "demo" or platform in NO_ACCOUNT_METRICS:
            return None
        env = self.environment()
        if platform != "youtube":
            # Reading YouTube's OAuth file can fail; that must fail YouTube's partitions only.
            env = {k: v for k, v in env.items() if k not in _YOUTUBE_OAUTH_NAMES}
        hooks = self.hooks_for(Wiring)
        if platform != "youtube":
            hooks.pop("youtube_http", None)  # it alone would make YouTube Analytics count as configured
        return configured_account_sources(env, **hooks).get(platform)

    def status(self, platform: str) -> str:
        """Why a platform gives no account metrics, or ``real``."""
        self._check_mode()
        if platform in NO_ACCOUNT_METRICS:
            return NO_ACCOUNT_METRICS[platform]
        if self.mode == "demo":
            return f"not configured: {DEMO_MODE_NOTE}"
        line = describe_configuration(self.environment()).get(f"account_metrics.{platform}", "off")
        return "real" if line == "real" else f"not configured: {line.removeprefix('off: ')}"


class SearchInterestSource(_SourceResource):
    """Google Trends for the tracked keywords in Kedah (MY-02), when ``KEDAH_GOOGLE_TRENDS=1``;
    invented ``demo`` interest otherwise (Google Trends needs no credential, but it does go to the
    network, so it is never called unless asked for)."""

    def demo_source(self) -> DemoSearchInterestSource:
        from kedah_analytics.sources.demo.insights import DemoSearchInterestSource

        return DemoSearchInterestSource(load_tracking(self.environment()))

    url: str | None = Field(
        default=None,
        description=f"PostgreSQL holding the Google Trends cache ({PG_URL.name}); unset: in-memory",
    )

    def source(self) -> GoogleTrendsSource | None:
        self._check_mode()
        if self.mode == "demo":
            return None
        env = self.environment()
        from kedah_analytics.sources.google_trends.client import GoogleTrendsSource  # pytrends, pandas

        kwargs = self.hooks_for(GoogleTrendsSource)
        tracking = load_tracking(env)
        if self.url and "cache" not in kwargs:
            ttl = timedelta(minutes=tracking.google_trends.cache_ttl_minutes)
            kwargs["cache"] = PgTrendsCache(self.url, ttl)
        return configured_trends_source(env, tracking, **kwargs)

    def status(self) -> str:
        self._check_mode()
        if self.mode == "demo":
            return f"disabled: {DEMO_MODE_NOTE}"
        line = describe_configuration(self.environment())["google_trends"]
        return (
            line
            if line.startswith("real")
            else f"disabled: set {GOOGLE_TRENDS.name}=1 to query Google Trends"
        )
