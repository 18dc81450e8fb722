"""What is tracked: place terms, hashtags, accounts, keywords and provider options.

The Kedah defaults live in ``kedah_analytics/data/tracking.yaml``. A deployment points
``KEDAH_TRACKING_FILE`` at its own YAML, which is deep-merged over the defaults (mappings merge key
by key; lists and scalars replace) unless it says ``inherit_defaults: false``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kedah_analytics.config.settings import TRACKING_FILE

DEFAULT_TRACKING_FILE = Path(__file__).resolve().parents[1] / "data" / "tracking.yaml"
# libyaml's parser where PyYAML was built with it (its wheels are): the same documents and errors,
# about ten times faster than the pure-Python one, and the file is read by every run and sensor tick.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Provider names per platform; "demo" is deliberately absent.
KNOWN_PROVIDERS: dict[str, frozenset[str]] = {
    "twitter": frozenset({"x_api_v2"}),
    "instagram": frozenset({"instagram_graph_hashtags"}),
    "facebook": frozenset({"facebook_graph_pages"}),
    "youtube": frozenset({"youtube_data_v3"}),
}

# Metrics Meta removed; asking for one fails the whole insights call with code 100.
REMOVED_INSTAGRAM_METRICS = frozenset({"impressions", "video_views", "profile_views", "plays"})
REMOVED_FACEBOOK_METRIC_PREFIXES = (
    "page_impressions",
    "post_impressions",
    "page_fans",
    "page_posts_impressions",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TwitterTracking(_Model):
    exclude_retweets: bool = True
    max_query_length: int = Field(512, ge=64, le=512)
    max_results_per_page: int = Field(100, ge=10, le=100)
    max_pages_per_query: int = Field(20, ge=1)
    window_margin_minutes: int = Field(10, ge=1, le=24 * 60)
    max_rate_limit_waits: int = Field(3, ge=0)


class InstagramTracking(_Model):
    hashtags: tuple[str, ...] = ()
    weekly_hashtag_budget: int = Field(30, ge=1, le=30)
    max_pages_per_hashtag: int = Field(5, ge=1)
    account_ids: tuple[str, ...] = ()
    insights_metrics: tuple[str, ...] = ()

    @field_validator("hashtags")
    @classmethod
    def _normalize_hashtags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for tag in value:
            name = tag.strip().lstrip("#").lower()
            if not re.fullmatch(r"\w+", name):
                raise ValueError(f"not a hashtag: {tag!r}")
            if name not in out:
                out.append(name)
        return tuple(out)

    @field_validator("insights_metrics")
    @classmethod
    def _no_removed_metrics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        removed = sorted(set(value) & REMOVED_INSTAGRAM_METRICS)
        if removed:
            raise ValueError(f"Instagram removed these insights metrics: {removed}")
        return value

    @model_validator(mode="after")
    def _within_budget(self) -> InstagramTracking:
        if len(self.hashtags) > self.weekly_hashtag_budget:
            raise ValueError(
                f"{len(self.hashtags)} Instagram hashtags exceed the weekly budget of "
                f"{self.weekly_hashtag_budget} unique hashtags"
            )
        return self


class FacebookTracking(_Model):
    page_ids: tuple[str, ...] = ()
    max_pages_per_page: int = Field(10, ge=1)
    exchange_page_tokens: bool = True
    insights_metrics: tuple[str, ...] = ()

    @field_validator("page_ids")
    @classmethod
    def _numeric_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for page_id in value:
            if not re.fullmatch(r"\d+", str(page_id)):
                raise ValueError(f"a Facebook Page id is numeric: {page_id!r}")
        return tuple(str(v) for v in value)

    @field_validator("insights_metrics")
    @classmethod
    def _no_removed_metrics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        removed = [m for m in value if m.startswith(REMOVED_FACEBOOK_METRIC_PREFIXES)]
        if removed:
            raise ValueError(f"Facebook removed these Page insights metrics: {removed}")
        return value


class YouTubeTracking(_Model):
    queries: tuple[str, ...] = ()
    region_code: str = "MY"
    relevance_language: str = "ms"
    max_pages_per_query: int = Field(2, ge=1)
    daily_search_call_budget: int = Field(100, ge=1, le=100)
    channel_ids: tuple[str, ...] = ()
    analytics_metrics: tuple[str, ...] = (
        "views",
        "likes",
        "comments",
        "estimatedMinutesWatched",
        "subscribersGained",
    )


class GoogleTrendsTracking(_Model):
    geo: str = "MY-02"
    hl: str = "en-US"
    tz: int = -480
    keyword_groups: tuple[tuple[str, ...], ...] = ()
    timeframe_days: int = Field(90, ge=1, le=269)
    min_interval_seconds: float = Field(60.0, ge=0)
    cache_ttl_minutes: int = Field(360, ge=0)

    @field_validator("keyword_groups")
    @classmethod
    def _at_most_five(cls, value: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        for group in value:
            if not 1 <= len(group) <= 5:
                raise ValueError(f"a Google Trends keyword group holds 1 to 5 keywords: {list(group)}")
        return value


class GraphApiTracking(_Model):
    version: str = "v25.0"
    base_url: str = "https://graph.facebook.com"

    @field_validator("version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not re.fullmatch(r"v\d+\.0", value):
            raise ValueError(f"pin a Graph API version like 'v25.0', not {value!r}")
        return value


class PollingTracking(_Model):
    twitter_minutes: int = Field(120, ge=1)
    instagram_minutes: int = Field(60, ge=1)
    facebook_minutes: int = Field(180, ge=1)
    youtube_minutes: int = Field(360, ge=1)
    google_trends_minutes: int = Field(1440, ge=1)
    account_metrics_lookback_days: int = Field(3, ge=1, le=90)


class TrackingConfig(_Model):
    """The validated tracking configuration (see ``kedah_analytics/data/tracking.yaml``)."""

    inherit_defaults: bool = True
    place_terms: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    twitter: TwitterTracking = TwitterTracking()
    instagram: InstagramTracking = InstagramTracking()
    facebook: FacebookTracking = FacebookTracking()
    youtube: YouTubeTracking = YouTubeTracking()
    google_trends: GoogleTrendsTracking = GoogleTrendsTracking()
    graph_api: GraphApiTracking = GraphApiTracking()
    polling: PollingTracking = PollingTracking()
    providers: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("hashtags")
    @classmethod
    def _hashtags_have_hash(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for tag in value:
            tag = tag.strip()
            tag = tag if tag.startswith("#") else f"#{tag}"
            if not re.fullmatch(r"#\w+", tag):
                raise ValueError(f"not a hashtag: {tag!r}")
            out.append(tag)
        return tuple(dict.fromkeys(out))

    @field_validator("place_terms")
    @classmethod
    def _clean_terms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for term in value:
            term = " ".join(term.split())
            if not term or '"' in term:
                raise ValueError(f"a place term is plain words without quotes: {term!r}")
            out.append(term)
        return tuple(dict.fromkeys(out))

    @field_validator("providers")
    @classmethod
    def _known_providers(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for platform, names in value.items():
            if platform not in KNOWN_PROVIDERS:
                raise ValueError(f"unknown platform in providers: {platform!r}")
            unknown = [n for n in names if n not in KNOWN_PROVIDERS[platform]]
            if unknown:
                raise ValueError(
                    f"unknown {platform} providers {unknown}; known: {sorted(KNOWN_PROVIDERS[platform])}"
                    " (demo is never a provider to fall back to)"
                )
        return value

    def provider_order(self, platform: str) -> tuple[str, ...]:
        return self.providers.get(platform) or tuple(sorted(KNOWN_PROVIDERS[platform]))


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge recursively, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError:
        raise FileNotFoundError(f"tracking file not found: {path}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a tracking file is a YAML mapping")
    return data


def load_tracking(
    env: Mapping[str, str] | None = None, *, override_path: Path | None = None
) -> TrackingConfig:
    """The tracking configuration: the defaults, with ``KEDAH_TRACKING_FILE`` (or ``override_path``)
    merged over them."""
    env = os.environ if env is None else env
    data = _read_yaml(DEFAULT_TRACKING_FILE)
    path = override_path or (
        Path(env[TRACKING_FILE.name]).expanduser() if env.get(TRACKING_FILE.name) else None
    )
    if path is not None:
        override = _read_yaml(path)
        data = deep_merge(data, override) if override.get("inherit_defaults", True) else override
    return TrackingConfig.model_validate(data)


def default_tracking() -> TrackingConfig:
    """The shipped Kedah defaults, ignoring the environment."""
    return TrackingConfig.model_validate(_read_yaml(DEFAULT_TRACKING_FILE))
