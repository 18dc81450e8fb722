"""Why a source failed, in words a person can act on: what to fix, and that nothing stored changed.

Messages name the variables that configure a provider, never their values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from kedah_analytics.config.settings import (
    GOOGLE_TRENDS,
    IG_USER_ID,
    META_ACCESS_TOKEN,
    X_BEARER_TOKEN,
    YOUTUBE_API_KEY,
    YOUTUBE_OAUTH_CLIENT_ID,
    YOUTUBE_OAUTH_CLIENT_SECRET,
    YOUTUBE_OAUTH_REFRESH_TOKEN,
    YOUTUBE_OAUTH_TOKEN_FILE,
)
from kedah_analytics.sources.account_insights import (
    FACEBOOK_INSIGHTS_PROVIDER,
    INSTAGRAM_INSIGHTS_PROVIDER,
    YOUTUBE_ANALYTICS_PROVIDER,
)
from kedah_analytics.sources.common.base import CredentialsError, SourceError
from kedah_analytics.sources.google_trends.client import PROVIDER as TRENDS_PROVIDER
from kedah_analytics.sources.meta.facebook import PROVIDER as FACEBOOK_PROVIDER
from kedah_analytics.sources.meta.instagram import PROVIDER as INSTAGRAM_PROVIDER
from kedah_analytics.sources.twitter.search import PROVIDER as X_PROVIDER
from kedah_analytics.sources.youtube.videos import PROVIDER as YOUTUBE_PROVIDER

# The variables that configure each provider: named in failure messages, never their values.
PROVIDER_ENV_VARS: dict[str, tuple[str, ...]] = {
    X_PROVIDER: (X_BEARER_TOKEN.name,),
    INSTAGRAM_PROVIDER: (META_ACCESS_TOKEN.name, IG_USER_ID.name),
    FACEBOOK_PROVIDER: (META_ACCESS_TOKEN.name,),
    YOUTUBE_PROVIDER: (YOUTUBE_API_KEY.name,),
    INSTAGRAM_INSIGHTS_PROVIDER: (META_ACCESS_TOKEN.name, IG_USER_ID.name),
    FACEBOOK_INSIGHTS_PROVIDER: (META_ACCESS_TOKEN.name,),
    YOUTUBE_ANALYTICS_PROVIDER: (
        YOUTUBE_OAUTH_TOKEN_FILE.name,
        YOUTUBE_OAUTH_CLIENT_ID.name,
        YOUTUBE_OAUTH_CLIENT_SECRET.name,
        YOUTUBE_OAUTH_REFRESH_TOKEN.name,
    ),
    TRENDS_PROVIDER: (GOOGLE_TRENDS.name,),
}


def day_span(days: Sequence[date]) -> str:
    """``2026-11-18`` or ``2026-11-16..2026-11-18 (3 days)``."""
    ordered = sorted(set(days))
    if not ordered:
        return "no days"
    if len(ordered) == 1:
        return ordered[0].isoformat()
    return f"{ordered[0]}..{ordered[-1]} ({len(ordered)} days)"


def source_failure_message(
    what: str, days: Sequence[date], provider: str, exc: BaseException, *, stored_before: str = ""
) -> str:
    """Why a partition failed, what to fix, and that nothing stored was touched. ``exc`` comes from
    the source library, whose messages never hold a secret. ``stored_before`` names what a run
    written chunk by chunk stored before the chunk that failed ("" when nothing)."""
    names = PROVIDER_ENV_VARS.get(provider, ())
    if isinstance(exc, CredentialsError):
        hint = f" Fix the credential in {exc.env_var} (its value is never shown)."
    elif names:
        hint = f" The source is configured by {', '.join(names)}."
    else:
        hint = ""
    retry = (
        " It may succeed later (the step is retried)."
        if isinstance(exc, SourceError) and exc.retryable
        else " Retrying will not help until this is fixed."
    )
    written = (
        f"This run stored {stored_before} before it; these days and the chunks after them were not written: "
        if stored_before
        else "Nothing was written: "
    )
    return (
        f"{what} for {day_span(days)} from {provider} failed: {type(exc).__name__}: {exc}.{hint}{retry} "
        f"{written}the rows stored before are untouched, and no demo rows were used instead."
    )
