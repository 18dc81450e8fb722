"""X as the registry sees it: recent search, configured by the bearer token, billed per post read."""

from __future__ import annotations

from collections.abc import Mapping

from kedah_analytics.config.settings import X_BEARER_TOKEN, X_DAILY_POST_READS
from kedah_analytics.sources.common.providers import POSTS, Provider, Wiring
from kedah_analytics.sources.twitter.payload import PLATFORM, PROVIDER
from kedah_analytics.sources.twitter.search import TwitterSource


def x_daily_post_reads(env: Mapping[str, str]) -> int:
    """The X read budget (posts per UTC day) from ``KEDAH_X_DAILY_POST_READS``."""
    raw = X_DAILY_POST_READS.read(env) or "0"
    if not (raw.isascii() and raw.isdigit()):
        raise ValueError(f"{X_DAILY_POST_READS.name} must be a whole number of posts, not {raw!r}")
    return int(raw)


def _build(w: Wiring) -> TwitterSource:
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
