"""The tracking file, which platforms the environment configures, and that secrets never print."""

from __future__ import annotations

import logging
import re
from datetime import date

import pytest

from kedah_analytics.config.tracking import KNOWN_PROVIDERS, TrackingConfig, default_tracking, load_tracking
from kedah_analytics.domain import PostRecord
from kedah_analytics.sources.common.base import CredentialsError, FetchResult, FetchTelemetry, SourceError
from kedah_analytics.sources.common.failures import source_failure_message
from kedah_analytics.sources.common.providers import POSTS, Wiring
from kedah_analytics.sources.meta.facebook import FacebookPagesSource
from kedah_analytics.sources.meta.instagram import InstagramHashtagSource
from kedah_analytics.sources.registry import (
    ENV_VARS,
    PROVIDERS,
    ProviderChain,
    configured_account_sources,
    configured_sources,
    configured_trends_source,
    describe_configuration,
)
from kedah_analytics.sources.twitter.search import TwitterSource
from kedah_analytics.sources.youtube.videos import YouTubeSource

X = "fake-x-bearer-RegistryBearerSecret"
META = "EAAGRegistryMetaSecretToken55555"
YT = "AIzaSyRegistryYouTubeSecretKey0000"


# --- tracking ---------------------------------------------------------------------------------


def test_the_shipped_defaults_are_valid_and_kedah_shaped() -> None:
    t = default_tracking()
    for term in (
        "Langkawi",
        "Alor Setar",
        "Alor Star",
        "Sungai Petani",
        "Sg Petani",
        "Pantai Cenang",
        "Masjid Zahir",
    ):
        assert term in t.place_terms
    assert "#VisitKedah" in t.hashtags and "#JomKeKedah" in t.hashtags
    assert 0 < len(t.instagram.hashtags) <= 30 and t.instagram.weekly_hashtag_budget == 30
    assert t.facebook.page_ids == () and t.youtube.channel_ids == () and t.instagram.account_ids == ()
    assert all(1 <= len(g) <= 5 for g in t.google_trends.keyword_groups) and t.google_trends.geo == "MY-02"
    assert t.graph_api.version == "v25.0"
    assert (t.youtube.region_code, t.youtube.relevance_language) == ("MY", "ms")
    assert "demo" not in str(t.providers)


def test_an_override_file_merges_over_the_defaults(tmp_path) -> None:
    override = tmp_path / "tracking.yaml"
    override.write_text(
        "facebook:\n  page_ids: ['100064604811234']\ninstagram:\n  hashtags: [langkawi]\n", encoding="utf-8"
    )
    t = load_tracking({"KEDAH_TRACKING_FILE": str(override)})
    assert t.facebook.page_ids == ("100064604811234",)
    assert t.instagram.hashtags == ("langkawi",)  # lists replace
    assert t.facebook.insights_metrics == default_tracking().facebook.insights_metrics  # mappings merge
    assert t.place_terms == default_tracking().place_terms


def test_an_override_can_replace_the_defaults_entirely(tmp_path) -> None:
    override = tmp_path / "tracking.yaml"
    override.write_text("inherit_defaults: false\nplace_terms: [Langkawi]\n", encoding="utf-8")
    t = load_tracking({}, override_path=override)
    assert t.place_terms == ("Langkawi",) and t.hashtags == () and t.instagram.hashtags == ()


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"instagram": {"hashtags": [f"tag{i}" for i in range(31)]}}, "weekly budget"),
        ({"instagram": {"weekly_hashtag_budget": 31}}, "less than or equal to 30"),
        ({"providers": {"twitter": ["demo"]}}, "demo is never"),
        ({"graph_api": {"version": "latest"}}, "pin a Graph API version"),
        ({"facebook": {"page_ids": ["tourismkedah"]}}, "numeric"),
        ({"twiter": {}}, "Extra inputs"),
    ],
)
def test_bad_tracking_is_a_clear_error(bad, message) -> None:
    with pytest.raises(ValueError, match=message):
        TrackingConfig.model_validate(bad)


def test_a_missing_override_file_is_named(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_tracking({"KEDAH_TRACKING_FILE": str(tmp_path / "nope.yaml")})


# --- which platforms are real -----------------------------------------------------------------


def with_pages() -> TrackingConfig:
    return TrackingConfig.model_validate(
        {**default_tracking().model_dump(), "facebook": {"page_ids": ["100064604811234"]}}
    )


def test_no_credentials_means_every_platform_stays_on_demo() -> None:
    assert configured_sources({}) == {}
    assert configured_account_sources({}) == {}
    assert configured_trends_source({}) is None
    lines = describe_configuration({})
    assert lines["twitter"].startswith("demo:") and "KEDAH_X_BEARER_TOKEN unset" in lines["twitter"]
    assert "KEDAH_IG_USER_ID" in lines["instagram"] and lines["google_trends"].startswith("off")


def test_credentials_turn_platforms_on_one_by_one() -> None:
    env = {"KEDAH_X_BEARER_TOKEN": X, "KEDAH_META_ACCESS_TOKEN": META}
    sources = configured_sources(env)
    assert set(sources) == {"twitter"}  # Instagram needs the IG user id, Facebook needs Page ids
    assert isinstance(sources["twitter"], TwitterSource)

    env |= {"KEDAH_IG_USER_ID": "17841400008460056", "KEDAH_YOUTUBE_API_KEY": YT}
    sources = configured_sources(env, with_pages())
    assert set(sources) == {"twitter", "instagram", "facebook", "youtube"}
    assert isinstance(sources["instagram"], InstagramHashtagSource)
    assert isinstance(sources["facebook"], FacebookPagesSource)
    assert isinstance(sources["youtube"], YouTubeSource)
    accounts = configured_account_sources(env, with_pages())
    assert set(accounts) == {"instagram", "facebook"}
    lines = describe_configuration(env, with_pages())
    assert lines["youtube"] == "real: youtube_data_v3" and lines["account_metrics.youtube"].startswith("off")
    assert configured_trends_source({"KEDAH_GOOGLE_TRENDS": "1"}) is not None

    text = repr(sources) + str(lines) + repr(accounts)
    for secret in (X, META, YT):
        assert secret not in text


def test_an_unreadable_youtube_token_file_names_its_variable(tmp_path) -> None:
    bad = tmp_path / "token.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CredentialsError, match="KEDAH_YOUTUBE_OAUTH_TOKEN_FILE"):
        configured_account_sources({"KEDAH_YOUTUBE_OAUTH_TOKEN_FILE": str(bad)})


def test_youtube_oauth_from_the_variable_trio_builds_without_network() -> None:
    env = {
        "KEDAH_YOUTUBE_OAUTH_CLIENT_ID": "123-abc.apps.googleusercontent.com",
        "KEDAH_YOUTUBE_OAUTH_CLIENT_SECRET": "GOCSPX-secret",
        "KEDAH_YOUTUBE_OAUTH_REFRESH_TOKEN": "1//0refresh-secret",
    }
    accounts = configured_account_sources(env)
    assert set(accounts) == {"youtube"} and "secret" not in repr(accounts)


def test_every_provider_is_declared_once_and_the_tracking_file_knows_each_post_provider() -> None:
    # The tracking file (config/) keeps its own list of the provider names it accepts: the two
    # must agree, or a provider order naming a declared provider would be refused (or worse).
    names = [p.name for p in PROVIDERS]
    assert len(names) == len(set(names))
    declared = {(p.platform, p.name) for p in PROVIDERS if p.kind == POSTS}
    assert declared == {(platform, name) for platform, known in KNOWN_PROVIDERS.items() for name in known}


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_a_failure_names_the_variables_its_provider_declares(provider) -> None:
    message = source_failure_message("raw posts", [date(2026, 11, 20)], provider.name, SourceError("boom"))
    assert f"configured by {', '.join(s.name for s in provider.settings)}." in message
    assert provider.missing(Wiring({}, default_tracking())) != []  # nothing configures it by default


def test_every_variable_is_documented() -> None:
    expected = {
        "KEDAH_X_BEARER_TOKEN",
        "KEDAH_META_ACCESS_TOKEN",
        "KEDAH_IG_USER_ID",
        "KEDAH_YOUTUBE_API_KEY",
        "KEDAH_YOUTUBE_OAUTH_TOKEN_FILE",
        "KEDAH_TRACKING_FILE",
        "KEDAH_GOOGLE_TRENDS",
    }
    assert expected <= set(ENV_VARS)


# --- provider order, never demo ---------------------------------------------------------------


class Stub:
    def __init__(self, provider: str, error: SourceError | None = None):
        self.provider = provider
        self.polls_from_cursors = False
        self.error = error
        self.calls = 0

    def fetch_posts(self, platform: str, days: list[date], cursors=None) -> FetchResult:
        self.calls += 1
        if self.error:
            raise self.error
        return FetchResult([], [], FetchTelemetry(), self.provider)


def test_provider_chain_tries_the_next_real_provider_only_after_a_failure() -> None:
    first, second = Stub("a", SourceError("a is down", retryable=True)), Stub("b")
    result = ProviderChain("twitter", [first, second]).fetch_posts("twitter", [date(2026, 11, 20)])
    assert result.provider == "b" and "a is down" in result.telemetry.notes[0]
    healthy = Stub("a")
    assert ProviderChain("twitter", [healthy, Stub("b")]).fetch_posts("twitter", []).provider == "a"


def test_provider_chain_fails_when_every_provider_fails_and_never_invents_rows() -> None:
    chain = ProviderChain("twitter", [Stub("a", SourceError("a down")), Stub("b", SourceError("b down"))])
    with pytest.raises(SourceError, match=re.escape("every twitter provider failed: a: a down | b: b down")):
        chain.fetch_posts("twitter", [date(2026, 11, 20)])


# --- secrets never print ----------------------------------------------------------------------


def test_no_credential_appears_in_errors_or_results(adapter, reply, session, clock, sleep, load_text) -> None:
    from googleapiclient.http import HttpMockSequence

    from kedah_analytics.sources.common.secrets import Secret

    texts: list[str] = []
    tracking = TrackingConfig.model_validate(
        {
            "place_terms": ["Langkawi"],
            "instagram": {"hashtags": ["langkawi"]},
            "youtube": {"queries": ["Langkawi"]},
        }
    )
    # X: a result, then an expired token.
    adapter.add("/2/tweets/search/recent", reply.json("twitter/search_recent_page2.json"))
    adapter.add("/2/tweets/search/recent", reply.json("twitter/error_401.json", status=401))
    x = TwitterSource(Secret(X, "KEDAH_X_BEARER_TOKEN"), tracking, session=session, clock=clock, sleep=sleep)
    texts += [str(x.fetch_posts("twitter", [date(2026, 11, 20)])), repr(x)]
    with pytest.raises(CredentialsError) as err:
        x.fetch_posts("twitter", [date(2026, 11, 20)])
    texts.append(str(err.value))
    # Graph API: a result (whose paging.next carries another token), then an expired token.
    adapter.add("/v25.0/ig_hashtag_search", reply.json("instagram/ig_hashtag_search_langkawi.json"))
    adapter.add(
        "/v25.0/17843826142012345/recent_media", reply.json("instagram/recent_media_langkawi_page1.json")
    )
    adapter.add(
        "/v25.0/17843826142012345/recent_media", reply.json("instagram/error_190_expired.json", status=400)
    )
    ig = InstagramHashtagSource(
        Secret(META, "KEDAH_META_ACCESS_TOKEN"), "1784", tracking, session=session, clock=clock, sleep=sleep
    )
    with pytest.raises(CredentialsError) as err:
        ig.fetch_posts("instagram", [date(2026, 11, 20)])
    texts += [str(err.value), repr(err.value), repr(ig), repr(ig.client)]
    # YouTube: googleapiclient's own error text would carry ?key=...
    http = HttpMockSequence([({"status": "400"}, load_text("youtube/error_key_invalid.json"))])
    yt = YouTubeSource(Secret(YT, "KEDAH_YOUTUBE_API_KEY"), tracking, http=http, clock=clock, sleep=sleep)
    with pytest.raises(CredentialsError) as err:
        yt.fetch_posts("youtube", [date(2026, 11, 20)])
    texts += [str(err.value), repr(err.value), repr(yt)]

    everything = "\n".join(texts)
    for secret in (X, META, YT):
        assert secret not in everything
    assert "KEDAH_X_BEARER_TOKEN" in everything and "KEDAH_META_ACCESS_TOKEN" in everything
    assert isinstance(PostRecord, type)


def test_client_library_debug_logs_are_redacted(adapter, reply, session, clock, sleep, caplog) -> None:
    from kedah_analytics.sources.common.secrets import Secret

    caplog.set_level(logging.DEBUG)
    adapter.add("/2/tweets/search/recent", reply.json("twitter/search_recent_empty.json"))
    tracking = TrackingConfig.model_validate({"place_terms": ["Langkawi"]})
    TwitterSource(
        Secret(X, "KEDAH_X_BEARER_TOKEN"), tracking, session=session, clock=clock, sleep=sleep
    ).fetch_posts("twitter", [date(2026, 11, 20)])
    logging.getLogger("urllib3.connectionpool").debug(
        "GET /v25.0/me?access_token=%s&fields=id HTTP/1.1", META
    )
    tweepy_lines = [r.getMessage() for r in caplog.records if r.name == "tweepy.client"]
    assert any("Bearer ***" in line for line in tweepy_lines)  # tweepy really logged its headers
    assert X not in caplog.text and META not in caplog.text


def test_every_provider_built_by_the_registry_keeps_the_wirings_clock():
    """Recent-only windows (Instagram's 24 hours, X's 7 days) are measured on the wiring's clock, so
    a source must not fall back to the wall clock (the Meta sources once did)."""
    from datetime import UTC, datetime

    from kedah_analytics.sources.registry import configured_sources

    fixed = datetime(2026, 10, 1, 6, tzinfo=UTC)
    env = {"KEDAH_META_ACCESS_TOKEN": "EAAGnotarealtoken", "KEDAH_IG_USER_ID": "17841400008460056",
           "KEDAH_X_BEARER_TOKEN": "not-a-real-token", "KEDAH_YOUTUBE_API_KEY": "not-a-real-key"}  # fmt: skip
    sources = configured_sources(env, clock=lambda: fixed)
    assert set(sources) >= {"instagram", "twitter", "youtube"}
    for platform, source in sources.items():
        clock = getattr(source, "clock", None) or getattr(getattr(source, "client", None), "clock", None)
        assert clock is not None and clock() == fixed, platform
