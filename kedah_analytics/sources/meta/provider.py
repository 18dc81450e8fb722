"""Meta as the registry sees it: Instagram hashtags and Facebook Pages (posts), Instagram and Page
insights (account metrics), all through one Graph API token and the version pinned in tracking."""

from __future__ import annotations

from kedah_analytics.config.settings import IG_USER_ID, META_ACCESS_TOKEN, META_APP_SECRET
from kedah_analytics.sources.common.providers import ACCOUNT_METRICS, POSTS, Provider, Wiring
from kedah_analytics.sources.meta import facebook, instagram
from kedah_analytics.sources.meta.facebook import FacebookPagesSource
from kedah_analytics.sources.meta.graph import GraphApiClient
from kedah_analytics.sources.meta.insights import (
    FACEBOOK_INSIGHTS_PROVIDER,
    INSTAGRAM_INSIGHTS_PROVIDER,
    FacebookPageInsightsSource,
    InstagramInsightsSource,
)
from kedah_analytics.sources.meta.instagram import InstagramHashtagSource

SETTINGS = (META_ACCESS_TOKEN,)
PAGES = {"facebook.page_ids": lambda t: t.facebook.page_ids}


def _graph(w: Wiring) -> GraphApiClient:
    """The Graph API client every Meta source of one wiring is built on (its own session)."""
    return GraphApiClient.pinned(
        w.required_secret(META_ACCESS_TOKEN),
        w.tracking.graph_api,
        session=w.session_factory(),
        clock=w.clock,
        sleep=w.sleep,
        app_secret=w.secret(META_APP_SECRET),
    )


def instagram_account_ids(w: Wiring) -> tuple[str, ...]:
    """The accounts whose insights are read: ``instagram.account_ids``, else ``KEDAH_IG_USER_ID``."""
    if w.tracking.instagram.account_ids:
        return w.tracking.instagram.account_ids
    return (w.value(IG_USER_ID),) if IG_USER_ID.is_set(w.env) else ()


def _insights_lacking(w: Wiring) -> list[str]:
    lacking = [] if META_ACCESS_TOKEN.is_set(w.env) else [f"{META_ACCESS_TOKEN.name} unset"]
    if not instagram_account_ids(w):
        lacking.append(f"instagram.account_ids (tracking) empty and {IG_USER_ID.name} unset")
    return lacking


INSTAGRAM_HASHTAGS = Provider(
    instagram.PROVIDER,
    instagram.PLATFORM,
    POSTS,
    (META_ACCESS_TOKEN, IG_USER_ID),
    lambda w: InstagramHashtagSource(
        w.required_secret(META_ACCESS_TOKEN),
        w.value(IG_USER_ID),
        w.tracking,
        client=_graph(w),
        ledger=w.hashtag_ledger,
    ),
    tracking={"instagram.hashtags": lambda t: t.instagram.hashtags},
)
FACEBOOK_PAGES = Provider(
    facebook.PROVIDER,
    facebook.PLATFORM,
    POSTS,
    SETTINGS,
    lambda w: FacebookPagesSource(w.required_secret(META_ACCESS_TOKEN), w.tracking, client=_graph(w)),
    tracking=PAGES,
)
INSTAGRAM_INSIGHTS = Provider(
    INSTAGRAM_INSIGHTS_PROVIDER,
    instagram.PLATFORM,
    ACCOUNT_METRICS,
    (META_ACCESS_TOKEN, IG_USER_ID),
    lambda w: InstagramInsightsSource(
        w.required_secret(META_ACCESS_TOKEN),
        instagram_account_ids(w),
        w.tracking,
        client=_graph(w),
    ),
    lacks=_insights_lacking,
)
FACEBOOK_INSIGHTS = Provider(
    FACEBOOK_INSIGHTS_PROVIDER,
    facebook.PLATFORM,
    ACCOUNT_METRICS,
    SETTINGS,
    lambda w: FacebookPageInsightsSource(w.required_secret(META_ACCESS_TOKEN), w.tracking, client=_graph(w)),
    tracking=PAGES,
)
