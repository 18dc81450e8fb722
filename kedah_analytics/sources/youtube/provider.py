"""YouTube as the registry sees it: videos (an API key) and channel analytics (the owner's OAuth)."""

from __future__ import annotations

from kedah_analytics.config.settings import YOUTUBE_API_KEY, YOUTUBE_OAUTH, YOUTUBE_OAUTH_TOKEN_FILE
from kedah_analytics.sources.common.providers import ACCOUNT_METRICS, POSTS, Provider, Wiring
from kedah_analytics.sources.youtube.analytics import (
    YOUTUBE_ANALYTICS_PROVIDER,
    YouTubeAnalyticsSource,
    load_youtube_credentials,
)
from kedah_analytics.sources.youtube.videos import PLATFORM, PROVIDER, YouTubeSource


def _videos(w: Wiring) -> YouTubeSource:
    return YouTubeSource(
        w.required_secret(YOUTUBE_API_KEY),
        w.tracking,
        http=w.youtube_http,
        budget=w.youtube_search_budget,
        clock=w.clock,
        sleep=w.sleep,
    )


def _oauth_lacking(w: Wiring) -> list[str]:
    """The token file, or all three of client id, client secret and refresh token; or a test's
    ``youtube_http``, which stands in for the channel owner's authorized transport."""
    file, *trio = YOUTUBE_OAUTH
    if w.youtube_http is not None or file.is_set(w.env) or all(s.is_set(w.env) for s in trio):
        return []
    return [f"{YOUTUBE_OAUTH_TOKEN_FILE.name} (or the client id/secret/refresh token trio) unset"]


def _analytics(w: Wiring) -> YouTubeAnalyticsSource | None:
    if w.youtube_http is not None:
        return YouTubeAnalyticsSource(w.tracking, http=w.youtube_http, clock=w.clock, sleep=w.sleep)
    loaded = load_youtube_credentials(w.env)
    if loaded is None:
        return None
    credentials, env_var = loaded
    return YouTubeAnalyticsSource(
        w.tracking, credentials=credentials, credentials_env_var=env_var, clock=w.clock, sleep=w.sleep
    )


YOUTUBE_VIDEOS = Provider(
    PROVIDER,
    PLATFORM,
    POSTS,
    (YOUTUBE_API_KEY,),
    _videos,
    tracking={"youtube.queries": lambda t: t.youtube.queries},
)
YOUTUBE_ANALYTICS = Provider(
    YOUTUBE_ANALYTICS_PROVIDER, PLATFORM, ACCOUNT_METRICS, YOUTUBE_OAUTH, _analytics, lacks=_oauth_lacking
)
