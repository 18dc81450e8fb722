"""Which real sources the environment configures, per platform. The rest stay in demo mode.

Every provider declares what it needs in its package's ``provider.py`` (see
``sources/common/providers.py``); :data:`PROVIDERS` lists them, one line each, and everything here
is read from those declarations. A platform is real when at least one of its providers (in the
tracking file's order) has everything it needs; otherwise it is absent from
:func:`configured_sources` and the caller uses demo rows, labelled as such. A configured platform
never falls back to demo rows: when its providers fail, the fetch fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from kedah_analytics.config import settings
from kedah_analytics.config.tracking import TrackingConfig, load_tracking
from kedah_analytics.sources.common.base import FetchResult, PostSource, SourceError
from kedah_analytics.sources.common.providers import ACCOUNT_METRICS, POSTS, SEARCH_INTEREST, Provider, Wiring
from kedah_analytics.sources.google_trends.provider import GOOGLE_TRENDS_INTEREST
from kedah_analytics.sources.meta.provider import (
    FACEBOOK_INSIGHTS,
    FACEBOOK_PAGES,
    INSTAGRAM_HASHTAGS,
    INSTAGRAM_INSIGHTS,
)
from kedah_analytics.sources.twitter.provider import X_RECENT_SEARCH
from kedah_analytics.sources.youtube.provider import YOUTUBE_ANALYTICS, YOUTUBE_VIDEOS

if TYPE_CHECKING:
    # Each provider's client (tweepy, pytrends, googleapiclient...) loads when its factory runs.
    from kedah_analytics.sources.google_trends.client import GoogleTrendsSource
    from kedah_analytics.sources.insights import AccountMetricsSource

# Every provider the project knows: a new one is a package in sources/ and one line here.
PROVIDERS: tuple[Provider, ...] = (
    X_RECENT_SEARCH,
    INSTAGRAM_HASHTAGS,
    FACEBOOK_PAGES,
    YOUTUBE_VIDEOS,
    INSTAGRAM_INSIGHTS,
    FACEBOOK_INSIGHTS,
    YOUTUBE_ANALYTICS,
    GOOGLE_TRENDS_INTEREST,
)
BY_NAME: dict[str, Provider] = {p.name: p for p in PROVIDERS}
# The platforms posts come from, in the order their providers are declared.
POST_PLATFORMS: tuple[str, ...] = tuple(dict.fromkeys(p.platform for p in PROVIDERS if p.kind == POSTS))
# Every variable the sources read, and what it unlocks (kedah_analytics.config.settings).
ENV_VARS: dict[str, str] = {s.name: s.meaning for s in settings.by_group(settings.SOURCES)}


def provider_env_vars(provider: str) -> tuple[str, ...]:
    """The variables that configure ``provider``: named in failure messages, never their values."""
    known = BY_NAME.get(provider)
    return tuple(s.name for s in known.settings) if known else ()


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


def _wiring(env: Mapping[str, str], tracking: TrackingConfig | None, hooks: Mapping[str, Any]) -> Wiring:
    return Wiring(env, tracking or load_tracking(env), **hooks)


def _post_providers(platform: str, tracking: TrackingConfig) -> list[Provider]:
    """The platform's post providers in the tracking file's order."""
    return [BY_NAME[name] for name in tracking.provider_order(platform)]


def _of_kind(kind: str) -> list[Provider]:
    return [p for p in PROVIDERS if p.kind == kind]


def configured_sources(
    env: Mapping[str, str], tracking: TrackingConfig | None = None, **hooks: Any
) -> dict[str, PostSource]:
    """The platforms whose credentials ``env`` holds, each with its source.

    A platform with one configured provider maps to that provider's source itself (so
    ``TwitterSource.fetch_posts(..., cursors=...)`` is reachable); several map to a
    :class:`ProviderChain`. Platforms absent from the result have no provider configured: demo.
    ``hooks`` are :class:`Wiring` fields: pass a persistent ``hashtag_ledger``,
    ``youtube_search_budget`` and ``x_read_budget`` in a deployment (the in-memory defaults forget
    between processes); tests pass the client libraries' transports.
    """
    wiring = _wiring(env, tracking, hooks)
    sources: dict[str, PostSource] = {}
    for platform in POST_PLATFORMS:
        providers = _post_providers(platform, wiring.tracking)
        built = [p.build(wiring) for p in providers if not p.missing(wiring)]
        if len(built) == 1:
            sources[platform] = built[0]
        elif built:
            sources[platform] = ProviderChain(platform, built)
    return sources


def configured_account_sources(
    env: Mapping[str, str], tracking: TrackingConfig | None = None, **hooks: Any
) -> dict[str, AccountMetricsSource]:
    """Account-metrics sources per platform, for the platforms whose credentials ``env`` holds.

    YouTube OAuth credentials are read here (from the token file or the variable trio); a file that
    cannot be read raises :class:`CredentialsError` naming the variable.
    """
    wiring = _wiring(env, tracking, hooks)
    sources: dict[str, AccountMetricsSource] = {}
    for provider in _of_kind(ACCOUNT_METRICS):
        if not provider.missing(wiring) and (source := provider.build(wiring)) is not None:
            sources[provider.platform] = source
    return sources


def configured_trends_source(
    env: Mapping[str, str], tracking: TrackingConfig | None = None, **kwargs: Any
) -> GoogleTrendsSource | None:
    """The Google Trends source when ``KEDAH_GOOGLE_TRENDS`` is on (it needs no credential, but it
    does go to the network, so demo mode leaves it off). ``kwargs`` go to :class:`GoogleTrendsSource`."""
    wiring = _wiring(env, tracking, {"options": kwargs})
    if GOOGLE_TRENDS_INTEREST.missing(wiring):
        return None
    source: GoogleTrendsSource = GOOGLE_TRENDS_INTEREST.build(wiring)
    return source


def describe_configuration(env: Mapping[str, str], tracking: TrackingConfig | None = None) -> dict[str, str]:
    """One line per platform (and per account-metrics source, and Google Trends): which provider is
    used, or why the platform is on demo. Names variables, never their values."""
    wiring = _wiring(env, tracking, {})
    lines: dict[str, str] = {}
    for platform in POST_PLATFORMS:
        providers = _post_providers(platform, wiring.tracking)
        used = [p.name for p in providers if not p.missing(wiring)]
        if used:
            lines[platform] = "real: " + " then ".join(used)
        else:
            lines[platform] = "demo: " + "; ".join(
                f"{p.name} {', '.join(p.missing(wiring))}" for p in providers
            )
    for provider in _of_kind(ACCOUNT_METRICS):
        lacking = provider.missing(wiring)
        lines[f"account_metrics.{provider.platform}"] = "off: " + ", ".join(lacking) if lacking else "real"
    for provider in _of_kind(SEARCH_INTEREST):
        lacking = provider.missing(wiring)
        lines[provider.platform] = "off: " + ", ".join(lacking) if lacking else f"real: {provider.name}"
    return lines
