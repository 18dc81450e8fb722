"""X as the registry sees it: recent search, configured by the bearer token, billed per post read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from kedah_analytics.config.settings import X_BEARER_TOKEN, Settings
from kedah_analytics.sources.common.providers import POSTS, Provider, Wiring
from kedah_analytics.sources.twitter.payload import PLATFORM, PROVIDER

if TYPE_CHECKING:
    from kedah_analytics.sources.twitter.search import TwitterSource


def x_daily_post_reads(env: Mapping[str, str]) -> int:
    """The X read budget (posts per UTC day) from ``KEDAH_X_DAILY_POST_READS``, as the typed
    settings read and check it."""
    return Settings.from_env(env).x_daily_post_reads


def _build(w: Wiring) -> TwitterSource:
    from kedah_analytics.sources.twitter.search import TwitterSource  # loads tweepy

    return TwitterSource(
        w.required_secret(X_BEARER_TOKEN),
        w.tracking,
        session=w.session_factory(),
        clock=w.clock,
        sleep=w.sleep,
        read_budget=w.x_read_budget,
        daily_post_reads=x_daily_post_reads(w.env),
    )


X_RECENT_SEARCH = Provider(PROVIDER, PLATFORM, POSTS, (X_BEARER_TOKEN,), _build)
