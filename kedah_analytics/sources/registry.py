"""Which real sources the environment configures, per platform. The rest stay in demo mode.

Credentials come from environment variables only (see :data:`ENV_VARS`). A platform is real when
at least one of its providers (in the tracking file's order) has everything it needs; otherwise
it is absent from :func:`configured_sources` and the caller uses demo rows, labelled as such. A
configured platform never falls back to demo rows: when its providers fail, the fetch fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import requests

from kedah_analytics.config import settings
from kedah_analytics.config.settings import (
    GOOGLE_TRENDS,
    IG_USER_ID,
    META_ACCESS_TOKEN,
    META_APP_SECRET,
    X_BEARER_TOKEN,
    X_DAILY_POST_READS,
    YOUTUBE_API_KEY,
    YOUTUBE_OAUTH_CLIENT_ID,
    YOUTUBE_OAUTH_CLIENT_SECRET,
    YOUTUBE_OAUTH_REFRESH_TOKEN,
    YOUTUBE_OAUTH_TOKEN_FILE,
)
from kedah_analytics.config.tracking import TrackingConfig, load_tracking
from kedah_analytics.sources.account_insights import (
    AccountMetricsSource,
    FacebookPageInsightsSource,
    InstagramInsightsSource,
    YouTubeAnalyticsSource,
    load_youtube_credentials,
)
from kedah_analytics.sources.common.base import FetchResult, PostSource, SourceError
from kedah_analytics.sources.common.retry import Clock, Sleep, utcnow
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.google_trends.client import GoogleTrendsSource
from kedah_analytics.sources.meta.facebook import FacebookPagesSource
from kedah_analytics.sources.meta.instagram import HashtagLedger, InstagramHashtagSource
from kedah_analytics.sources.twitter.search import PostReadBudget, TwitterSource
from kedah_analytics.sources.youtube.videos import SearchCallBudget, YouTubeSource

# Every variable the sources read, and what it unlocks (kedah_analytics.config.settings).
ENV_VARS: dict[str, str] = {s.name: s.meaning for s in settings.by_group(settings.SOURCES)}


class ProviderChain:
    """Real providers of one platform, tried in order; the next only when the one before failed.

    Never falls back to demo rows: when every provider fails, the last error is raised with the
    others named in its message.
    """

    def __init__(self, platform: str, sources: Sequence[PostSource]):
        if not sources:
            raise ValueError(f"no providers for {platform}")
        self.platform = platform
        self.sources = list(sources)
        self.provider = self.sources[0].provider
        self.polls_from_cursors = self.sources[0].polls_from_cursors

    def fetch_posts(
        self, platform: str, days: list[date], cursors: Mapping[str, str] | None = None
    ) -> FetchResult:
        failures: list[str] = []
        last: SourceError | None = None
        for source in self.sources:
            try:
                # Cursors belong to the provider that made them: the first one's name is the chain's.
                own = cursors if source is self.sources[0] else None
                result = source.fetch_posts(platform, days, own)
            except SourceError as exc:
                failures.append(f"{source.provider}: {exc}")
                last = exc
                continue
            for failure in failures:
                result.telemetry.notes.append(f"provider failed, next one used: {failure}")
            return result
        assert last is not None
        if len(failures) == 1:
            raise last
        raise SourceError(
            f"every {platform} provider failed: " + " | ".join(failures), retryable=last.retryable
        )


def x_daily_post_reads(env: Mapping[str, str]) -> int:
    """The X read budget (posts per UTC day) from ``KEDAH_X_DAILY_POST_READS``."""
    raw = X_DAILY_POST_READS.read(env) or "0"
    if not (raw.isascii() and raw.isdigit()):
        raise ValueError(f"{X_DAILY_POST_READS.name} must be a whole number of posts, not {raw!r}")
    return int(raw)


def _present(secret: Secret | None) -> Secret:
    """A secret a factory is only built with once it is known to be set."""
    if secret is None:
        raise RuntimeError("a source factory was called without its credential")
    return secret


def _secret(env: Mapping[str, str], name: str) -> Secret | None:
    value = (env.get(name) or "").strip()
    return Secret(value, name) if value else None


def _provider_factories(
    env: Mapping[str, str],
    tracking: TrackingConfig,
    *,
    session_factory: Callable[[], requests.Session | None],
    hashtag_ledger: HashtagLedger | None,
    youtube_search_budget: SearchCallBudget | None,
    youtube_http: Any,
    clock: Clock,
    sleep: Sleep,
    x_read_budget: PostReadBudget | None = None,
) -> dict[str, tuple[Callable[[], PostSource] | None, str]]:
    """Per provider: a factory when its configuration is complete, else None; and a status line."""
    meta = _secret(env, META_ACCESS_TOKEN.name)
    app_secret = _secret(env, META_APP_SECRET.name)
    out: dict[str, tuple[Callable[[], PostSource] | None, str]] = {}

    x_token = _secret(env, X_BEARER_TOKEN.name)
    out["x_api_v2"] = (
        (
            lambda: TwitterSource(
                _present(x_token),
                tracking,
                session=session_factory(),
                clock=clock,
                sleep=sleep,
                read_budget=x_read_budget,
                daily_post_reads=x_daily_post_reads(env),
            )
        )
        if x_token
        else None,
        "configured" if x_token else f"{X_BEARER_TOKEN.name} unset",
    )

    ig_user = (env.get(IG_USER_ID.name) or "").strip()
    missing = [n for n, v in ((META_ACCESS_TOKEN.name, meta), (IG_USER_ID.name, ig_user)) if not v]
    if not tracking.instagram.hashtags:
        missing.append("instagram.hashtags (tracking)")
    out["instagram_graph_hashtags"] = (
        (
            lambda: InstagramHashtagSource(
                _present(meta),
                ig_user,
                tracking,
                ledger=hashtag_ledger,
                session=session_factory(),
                clock=clock,
                sleep=sleep,
                app_secret=app_secret,
            )
        )
        if not missing
        else None,
        "configured" if not missing else "missing " + ", ".join(missing),
    )

    missing = [META_ACCESS_TOKEN.name] if not meta else []
    if not tracking.facebook.page_ids:
        missing.append("facebook.page_ids (tracking)")
    out["facebook_graph_pages"] = (
        (
            lambda: FacebookPagesSource(
                _present(meta),
                tracking,
                session=session_factory(),
                clock=clock,
                sleep=sleep,
                app_secret=app_secret,
            )
        )
        if not missing
        else None,
        "configured" if not missing else "missing " + ", ".join(missing),
    )

    yt_key = _secret(env, YOUTUBE_API_KEY.name)
    missing = [YOUTUBE_API_KEY.name] if not yt_key else []
    if not tracking.youtube.queries:
        missing.append("youtube.queries (tracking)")
    out["youtube_data_v3"] = (
        (
            lambda: YouTubeSource(
                _present(yt_key),
                tracking,
                http=youtube_http,
                budget=youtube_search_budget,
                clock=clock,
                sleep=sleep,
            )
        )
        if not missing
        else None,
        "configured" if not missing else "missing " + ", ".join(missing),
    )
    return out


def configured_sources(
    env: Mapping[str, str],
    tracking: TrackingConfig | None = None,
    *,
    session_factory: Callable[[], requests.Session | None] = lambda: None,
    hashtag_ledger: HashtagLedger | None = None,
    youtube_search_budget: SearchCallBudget | None = None,
    youtube_http: Any = None,
    clock: Clock = utcnow,
    sleep: Sleep = time.sleep,
    x_read_budget: PostReadBudget | None = None,
) -> dict[str, PostSource]:
    """The platforms whose credentials ``env`` holds, each with its source.

    A platform with one configured provider maps to that provider's source itself (so
    ``TwitterSource.fetch_posts(..., cursors=...)`` is reachable); several map to a
    :class:`ProviderChain`. Platforms absent from the result have no provider configured: demo.
    Pass a persistent ``hashtag_ledger``, ``youtube_search_budget`` and ``x_read_budget`` in a
    deployment; the in-memory defaults forget between processes.
    """
    tracking = tracking or load_tracking(env)
    factories = _provider_factories(
        env,
        tracking,
        session_factory=session_factory,
        hashtag_ledger=hashtag_ledger,
        youtube_search_budget=youtube_search_budget,
        youtube_http=youtube_http,
        clock=clock,
        sleep=sleep,
        x_read_budget=x_read_budget,
    )
    sources: dict[str, PostSource] = {}
    for platform in ("twitter", "instagram", "facebook", "youtube"):
        built = [f() for name in tracking.provider_order(platform) if (f := factories[name][0]) is not None]
        if len(built) == 1:
            sources[platform] = built[0]
        elif built:
            sources[platform] = ProviderChain(platform, built)
    return sources


def describe_configuration(env: Mapping[str, str], tracking: TrackingConfig | None = None) -> dict[str, str]:
    """One line per platform (and per account-metrics source, and Google Trends): which provider is
    used, or why the platform is on demo. Names variables, never their values."""
    tracking = tracking or load_tracking(env)
    factories = _provider_factories(
        env,
        tracking,
        session_factory=lambda: None,
        hashtag_ledger=None,
        youtube_search_budget=None,
        youtube_http=None,
        clock=utcnow,
        sleep=time.sleep,
    )
    lines: dict[str, str] = {}
    for platform in ("twitter", "instagram", "facebook", "youtube"):
        order = tracking.provider_order(platform)
        used = [name for name in order if factories[name][0] is not None]
        if used:
            lines[platform] = "real: " + " then ".join(used)
        else:
            lines[platform] = "demo: " + "; ".join(f"{name} {factories[name][1]}" for name in order)
    accounts = _account_status(env, tracking)
    for key, status in accounts.items():
        lines[f"account_metrics.{key}"] = status
    lines["google_trends"] = (
        "real: google_trends_pytrends"
        if _truthy(env.get(GOOGLE_TRENDS.name))
        else f"off: {GOOGLE_TRENDS.name} unset"
    )
    return lines


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _instagram_account_ids(env: Mapping[str, str], tracking: TrackingConfig) -> tuple[str, ...]:
    if tracking.instagram.account_ids:
        return tracking.instagram.account_ids
    ig_user = (env.get(IG_USER_ID.name) or "").strip()
    return (ig_user,) if ig_user else ()


def _youtube_oauth_configured(env: Mapping[str, str]) -> bool:
    trio = (YOUTUBE_OAUTH_CLIENT_ID.name, YOUTUBE_OAUTH_CLIENT_SECRET.name, YOUTUBE_OAUTH_REFRESH_TOKEN.name)
    return bool(env.get(YOUTUBE_OAUTH_TOKEN_FILE.name)) or all(env.get(n) for n in trio)


def _account_status(env: Mapping[str, str], tracking: TrackingConfig) -> dict[str, str]:
    meta = bool((env.get(META_ACCESS_TOKEN.name) or "").strip())
    ig_accounts = _instagram_account_ids(env, tracking)
    return {
        "instagram": "real"
        if meta and ig_accounts
        else f"off: needs {META_ACCESS_TOKEN.name} and instagram.account_ids or {IG_USER_ID.name}",
        "facebook": "real"
        if meta and tracking.facebook.page_ids
        else f"off: needs {META_ACCESS_TOKEN.name} and facebook.page_ids",
        "youtube": "real"
        if _youtube_oauth_configured(env)
        else f"off: needs {YOUTUBE_OAUTH_TOKEN_FILE.name} (or the client id/secret/refresh token trio)",
    }


def configured_account_sources(
    env: Mapping[str, str],
    tracking: TrackingConfig | None = None,
    *,
    session_factory: Callable[[], requests.Session | None] = lambda: None,
    youtube_http: Any = None,
    clock: Clock = utcnow,
    sleep: Sleep = time.sleep,
) -> dict[str, AccountMetricsSource]:
    """Account-metrics sources per platform, for the platforms whose credentials ``env`` holds.

    YouTube OAuth credentials are read here (from the token file or the variable trio); a file that
    cannot be read raises :class:`CredentialsError` naming the variable.
    """
    tracking = tracking or load_tracking(env)
    meta = _secret(env, META_ACCESS_TOKEN.name)
    app_secret = _secret(env, META_APP_SECRET.name)
    sources: dict[str, AccountMetricsSource] = {}
    ig_accounts = _instagram_account_ids(env, tracking)
    if meta and ig_accounts:
        sources["instagram"] = InstagramInsightsSource(
            meta,
            ig_accounts,
            tracking,
            session=session_factory(),
            clock=clock,
            sleep=sleep,
            app_secret=app_secret,
        )
    if meta and tracking.facebook.page_ids:
        sources["facebook"] = FacebookPageInsightsSource(
            meta, tracking, session=session_factory(), clock=clock, sleep=sleep, app_secret=app_secret
        )
    if youtube_http is not None:
        sources["youtube"] = YouTubeAnalyticsSource(tracking, http=youtube_http, clock=clock, sleep=sleep)
    elif _youtube_oauth_configured(env):
        loaded = load_youtube_credentials(env)
        if loaded is not None:
            credentials, env_var = loaded
            sources["youtube"] = YouTubeAnalyticsSource(
                tracking, credentials=credentials, credentials_env_var=env_var, clock=clock, sleep=sleep
            )
    return sources


def configured_trends_source(
    env: Mapping[str, str], tracking: TrackingConfig | None = None, **kwargs: Any
) -> GoogleTrendsSource | None:
    """The Google Trends source when ``KEDAH_GOOGLE_TRENDS`` is on (it needs no credential, but it
    does go to the network, so demo mode leaves it off). ``kwargs`` go to :class:`GoogleTrendsSource`."""
    if not _truthy(env.get(GOOGLE_TRENDS.name)):
        return None
    return GoogleTrendsSource(tracking or load_tracking(env), **kwargs)
