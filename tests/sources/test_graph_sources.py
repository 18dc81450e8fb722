"""Instagram hashtag search and Facebook Page posts through the Graph API client, on requests."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import requests

from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.sources.common.base import (
    BadRequest,
    CredentialsError,
    PermissionDenied,
    QuotaExhausted,
    SourceError,
)
from kedah_analytics.sources.common.retry import DEFAULT_TIMEOUT, RetryPolicy
from kedah_analytics.sources.common.secrets import Secret, scrub
from kedah_analytics.sources.meta.facebook import FacebookPagesSource
from kedah_analytics.sources.meta.graph import GraphApiClient
from kedah_analytics.sources.meta.instagram import InMemoryHashtagLedger, InstagramHashtagSource

TOKEN = "EAAGm0PX4ZCpsBAKedahRealLookingMetaToken1234567890ZZ"
PAGE_TOKEN = "EAAPageTokenFromExchangeFixture0123456789abcdef"
IG_USER = "17841400008460056"
HASHTAG_ID = "17843826142012345"
PAGE = "100064604811234"
V = "/v25.0"


def meta_token() -> Secret:
    return Secret(TOKEN, "KEDAH_META_ACCESS_TOKEN")


def tracking(**overrides: object) -> TrackingConfig:
    data: dict = {
        "instagram": {"hashtags": ["langkawi", "visitkedah", "nosuchtag"]},
        "facebook": {"page_ids": [PAGE]},
    }
    data.update(overrides)
    return TrackingConfig.model_validate(data)


def ig_source(session, clock, sleep, ledger=None, config=None) -> InstagramHashtagSource:
    return InstagramHashtagSource(
        meta_token(), IG_USER, config or tracking(), session=session, clock=clock, sleep=sleep, ledger=ledger
    )


def q(value: str):
    return lambda params: params.get("q") == value


def add_instagram_routes(adapter, reply) -> None:
    adapter.add(
        f"{V}/ig_hashtag_search", reply.json("instagram/ig_hashtag_search_langkawi.json"), when=q("langkawi")
    )
    adapter.add(
        f"{V}/ig_hashtag_search",
        reply.json("instagram/ig_hashtag_search_visitkedah.json"),
        when=q("visitkedah"),
    )
    adapter.add(
        f"{V}/ig_hashtag_search", reply.json("instagram/ig_hashtag_search_unknown.json"), when=q("nosuchtag")
    )
    adapter.add(
        f"{V}/{HASHTAG_ID}/recent_media",
        reply.json("instagram/recent_media_langkawi_page1.json"),
        when=lambda p: "after" not in p,
    )
    adapter.add(
        f"{V}/{HASHTAG_ID}/recent_media",
        reply.json("instagram/recent_media_langkawi_page2.json"),
        when=lambda p: "after" in p,
    )
    adapter.add(f"{V}/17841593698074073/recent_media", reply.json("instagram/recent_media_visitkedah.json"))


# --- Instagram --------------------------------------------------------------------------------


def test_instagram_hashtags_are_searched_and_recent_media_paged(
    adapter, reply, session, clock, sleep
) -> None:
    add_instagram_routes(adapter, reply)
    result = ig_source(session, clock, sleep).fetch_posts("instagram", [date(2026, 11, 20)])

    posts = {p.post_id: p for p in result.posts}
    # 2026-11-19T10:12Z is Nov 19 in Kedah (not asked for); the item under both hashtags is kept once.
    assert set(posts) == {"18034567890123456", "17999887766554433", "18111222333444555", "18000000000000001"}
    cenang = posts["18034567890123456"]
    assert cenang.like_count == 87 and cenang.comment_count == 4 and cenang.author_name is None
    assert cenang.hashtags == ("langkawi", "visitkedah", "pantaicenang")
    assert cenang.url == "https://www.instagram.com/p/DBx1a2b3c4d/"
    assert cenang.payload["media_type"] == "IMAGE"
    assert posts["18111222333444555"].like_count is None  # likes hidden by the owner
    assert posts["18000000000000001"].text == ""  # no caption
    (bad,) = result.quarantined
    assert "timestamp" in bad.reason and bad.payload["id"] == "18222333444555666"
    assert any("no such hashtag" in n for n in result.telemetry.notes)

    search = adapter.calls("/ig_hashtag_search")[0]
    assert search.params["user_id"] == IG_USER and search.params["access_token"] == TOKEN
    page1, page2 = adapter.calls(f"{HASHTAG_ID}/recent_media")
    assert page1.params["fields"] == "id,caption,media_type,like_count,comments_count,permalink,timestamp"
    assert page1.params["limit"] == "50" and page1.params["user_id"] == IG_USER
    # Following paging.next: the cursor is kept, the token in that URL is replaced with ours.
    assert page2.params["after"] == "QVFIUnZAxN0FqbTdGMVNhV3VrZAFRDRk1nQWxHNVhJOGx0"
    assert page2.params["access_token"] == TOKEN
    assert all(s.timeout == DEFAULT_TIMEOUT for s in adapter.seen)
    assert result.telemetry.api_calls == 6 and result.telemetry.pages == 3


def test_instagram_days_outside_24_hours_give_a_note_and_no_call(adapter, session, clock, sleep) -> None:
    result = ig_source(session, clock, sleep).fetch_posts("instagram", [date(2026, 11, 18)])
    assert result.posts == [] and adapter.seen == []
    assert "24-hour window" in result.telemetry.notes[0]


def test_instagram_budget_of_unique_hashtags_per_week(adapter, reply, session, clock, sleep) -> None:
    ledger = InMemoryHashtagLedger()
    for i in range(29):
        ledger.record_query(IG_USER, f"other{i}", clock() - timedelta(days=3))
    ledger.record_query(IG_USER, "stale", clock() - timedelta(days=8))  # outside the 7 days
    ledger.record_query(IG_USER, "visitkedah", clock() - timedelta(days=1))
    ledger.remember_hashtag_id("visitkedah", "17841593698074073")
    adapter.add(f"{V}/17841593698074073/recent_media", reply.json("instagram/recent_media_visitkedah.json"))

    source = ig_source(session, clock, sleep, ledger=ledger)
    assert source.hashtag_budget_left() == 0
    result = source.fetch_posts("instagram", [date(2026, 11, 20)])

    # visitkedah was already counted this week (and its id known): no search call, no new budget.
    assert [s.path for s in adapter.seen] == [f"{V}/17841593698074073/recent_media"]
    skipped = [n for n in result.telemetry.notes if "skipped" in n]
    assert len(skipped) == 2 and all("budget 30" in n for n in skipped)
    assert [p.post_id for p in result.posts] == ["18034567890123456"]


def test_instagram_hashtag_ids_are_remembered_between_fetches(adapter, reply, session, clock, sleep) -> None:
    ledger = InMemoryHashtagLedger()
    config = tracking(instagram={"hashtags": ["visitkedah"]})
    adapter.add(
        f"{V}/ig_hashtag_search",
        reply.json("instagram/ig_hashtag_search_visitkedah.json"),
        when=q("visitkedah"),
    )
    adapter.add(
        f"{V}/17841593698074073/recent_media",
        reply.json("instagram/recent_media_visitkedah.json"),
        reply.json({"data": []}),
    )
    source = ig_source(session, clock, sleep, ledger=ledger, config=config)
    source.fetch_posts("instagram", [date(2026, 11, 20)])
    source.fetch_posts("instagram", [date(2026, 11, 20)])
    assert len(adapter.calls("/ig_hashtag_search")) == 1
    assert ledger.queried_since(IG_USER, clock() - timedelta(days=7)) == {"visitkedah"}


# --- Graph API errors -------------------------------------------------------------------------


def graph_client(session, clock, sleep, **kwargs) -> GraphApiClient:
    return GraphApiClient(meta_token(), session=session, clock=clock, sleep=sleep, **kwargs)


def test_expired_token_is_not_retried_and_never_echoed(adapter, reply, session, clock, sleep) -> None:
    adapter.add(f"{V}/ig_hashtag_search", reply.json("instagram/error_190_expired.json", status=400))
    with pytest.raises(CredentialsError) as err:
        ig_source(session, clock, sleep).fetch_posts("instagram", [date(2026, 11, 20)])
    text = str(err.value)
    assert err.value.env_var == "KEDAH_META_ACCESS_TOKEN" and "KEDAH_META_ACCESS_TOKEN" in text
    assert "code 190/463" in text and TOKEN not in text and "access_token=" not in text
    assert err.value.__cause__ is None and not err.value.retryable
    assert len(adapter.seen) == 1 and sleep.waits == []


def test_throttle_code_waits_for_the_business_use_case_reset(adapter, reply, session, clock, sleep) -> None:
    usage = {
        "17841400008460056": [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 30,
                "estimated_time_to_regain_access": 2,
            }
        ]
    }
    adapter.add(
        f"{V}/me",
        reply.json(
            "instagram/error_80002_throttled.json",
            status=400,
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        ),
        reply.json({"id": IG_USER}),
    )
    telemetry_source = graph_client(session, clock, sleep)
    from kedah_analytics.sources.common.base import FetchTelemetry

    telemetry = FetchTelemetry()
    assert telemetry_source.get("me", telemetry=telemetry) == {"id": IG_USER}
    assert sleep.waits == [120.0]
    assert telemetry.rate_limit_waits == 1 and telemetry.api_calls == 2


def test_throttle_without_reset_backs_off_and_retry_after_is_honoured(
    adapter, reply, session, clock, sleep
) -> None:
    adapter.add(
        f"{V}/me",
        reply.json("instagram/error_4_throttled.json", status=403),
        reply.json("instagram/error_4_throttled.json", status=403, headers={"Retry-After": "7"}),
        reply.json({"id": "1"}),
    )
    graph_client(session, clock, sleep, policy=RetryPolicy(throttle_wait_seconds=30)).get("me")
    assert sleep.waits == [30.0, 7.0]


def test_a_reset_longer_than_a_run_should_sleep_is_a_spent_quota(
    adapter, reply, session, clock, sleep
) -> None:
    usage = {"1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 60}]}
    adapter.add(
        f"{V}/me",
        reply.json(
            "instagram/error_4_throttled.json",
            status=403,
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        ),
    )
    with pytest.raises(QuotaExhausted) as err:
        graph_client(session, clock, sleep).get("me")
    assert err.value.reset_at == clock() + timedelta(hours=1) and not err.value.retryable
    assert sleep.waits == [] and len(adapter.seen) == 1


def test_transient_server_error_then_success(adapter, reply, session, clock, sleep) -> None:
    adapter.add(
        f"{V}/me",
        reply.json("instagram/error_500_unknown.json", status=500),
        reply(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"}),
        reply.json({"id": "1"}),
    )
    assert graph_client(session, clock, sleep).get("me") == {"id": "1"}
    assert sleep.waits == [2.0, 4.0]


def test_permission_and_bad_parameter_errors_are_clear_and_not_retried(
    adapter, reply, session, clock, sleep
) -> None:
    adapter.add(f"{V}/a", reply.json("instagram/error_10_permission.json", status=403))
    adapter.add(f"{V}/b", reply.json("instagram/error_100_metric.json", status=400))
    client = graph_client(session, clock, sleep)
    with pytest.raises(PermissionDenied, match=r"code 10: \(#10\) Application does not have permission"):
        client.get("a")
    with pytest.raises(BadRequest, match="code 100"):
        client.get("b")
    assert len(adapter.seen) == 2 and sleep.waits == []


def test_timeouts_are_retried_and_urls_in_errors_are_scrubbed(adapter, reply, session, clock, sleep) -> None:
    url = f"https://graph.facebook.com/v25.0/me?access_token={TOKEN}&fields=id"
    adapter.add(
        f"{V}/me",
        *[reply(raises=requests.ConnectionError(f"Max retries exceeded with url: {url}")) for _ in range(3)],
    )
    with pytest.raises(SourceError) as err:
        graph_client(session, clock, sleep, policy=RetryPolicy(max_attempts=3)).get("me")
    assert TOKEN not in str(err.value) and "access_token=***" in str(err.value)
    assert err.value.retryable and len(sleep.waits) == 2
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_appsecret_proof_is_sent_when_an_app_secret_is_configured(
    adapter, reply, session, clock, sleep
) -> None:
    import hashlib
    import hmac

    adapter.add(f"{V}/me", reply.json({"id": "1"}))
    graph_client(session, clock, sleep, app_secret=Secret("s3cr3t-app", "KEDAH_META_APP_SECRET")).get("me")
    expected = hmac.new(b"s3cr3t-app", TOKEN.encode(), hashlib.sha256).hexdigest()
    assert adapter.seen[0].params["appsecret_proof"] == expected


def test_paging_next_to_another_host_uses_the_cursor_instead(adapter, reply, session, clock, sleep) -> None:
    adapter.add(
        f"{V}/x/edge",
        reply.json(
            {
                "data": [{"id": "1"}],
                "paging": {"cursors": {"after": "C1"}, "next": "https://evil.example/v25.0/x/edge?after=C1"},
            }
        ),
        reply.json({"data": [{"id": "2"}]}),
    )
    pages = list(graph_client(session, clock, sleep).iter_pages("x/edge", {"limit": 2}, max_pages=5))
    assert [p["data"][0]["id"] for p in pages] == ["1", "2"]
    assert adapter.seen[1].params["after"] == "C1" and "evil" not in adapter.seen[1].url


def test_scrub_redacts_tokens_keys_and_bearer_headers() -> None:
    text = f"GET /x?access_token={TOKEN}&key=AIzaKey123 Authorization: Bearer {TOKEN}"
    out = scrub(text, [meta_token()])
    assert TOKEN not in out and "AIzaKey123" not in out


# --- Facebook ---------------------------------------------------------------------------------


def test_facebook_page_posts_with_page_token_and_paging(adapter, reply, session, clock, sleep) -> None:
    adapter.add(f"{V}/{PAGE}", reply.json("facebook/page_info.json"))
    adapter.add(
        f"{V}/{PAGE}/posts",
        reply.json("facebook/page_posts_page1.json"),
        reply.json("facebook/page_posts_page2.json"),
    )
    source = FacebookPagesSource(meta_token(), tracking(), session=session, clock=clock, sleep=sleep)

    result = source.fetch_posts("facebook", [date(2026, 11, 18), date(2026, 11, 19)])

    posts = {p.post_id: p for p in result.posts}
    assert set(posts) == {f"{PAGE}_1023456789012345", f"{PAGE}_1023456789099999", f"{PAGE}_1023000000000001"}
    pesta = posts[f"{PAGE}_1023456789012345"]
    assert (pesta.like_count, pesta.comment_count, pesta.share_count) == (412, 37, 23)
    assert pesta.author_name == "Tourism Kedah" and pesta.author_followers == 152340
    assert pesta.hashtags == ("JomKeKedah", "VisitKedah")
    photo = posts[f"{PAGE}_1023456789099999"]
    assert photo.text == "" and photo.share_count == 0  # Graph omits `shares` when nobody shared
    (bad,) = result.quarantined
    assert "id is missing" in bad.reason

    info, page1, page2 = adapter.seen
    assert info.params["fields"] == "id,name,followers_count,access_token"
    assert info.params["access_token"] == TOKEN
    assert page1.params["access_token"] == PAGE_TOKEN and page2.params["access_token"] == PAGE_TOKEN
    assert (
        "reactions.summary(true)" in page1.params["fields"]
        and "comments.summary(true)" in page1.params["fields"]
    )
    assert page1.params["since"] == "1794931200"  # Nov 18 00:00 Kedah = Nov 17 16:00 UTC
    assert page1.params["until"] == "1795104000"  # Nov 20 00:00 Kedah
    assert page2.params["after"] == "QVFIUnhSTDJ5Y1J4NEZA"
    assert PAGE_TOKEN not in repr(result) and PAGE_TOKEN not in repr(source)


def test_facebook_page_token_is_scrubbed_from_errors(adapter, reply, session, clock, sleep) -> None:
    adapter.add(f"{V}/{PAGE}", reply.json("facebook/page_info.json"))
    adapter.add(
        f"{V}/{PAGE}/posts",
        *[reply(raises=requests.ReadTimeout(f"read timeout ?access_token={PAGE_TOKEN}")) for _ in range(5)],
    )
    source = FacebookPagesSource(meta_token(), tracking(), session=session, clock=clock, sleep=sleep)
    with pytest.raises(SourceError) as err:
        source.fetch_posts("facebook", [date(2026, 11, 19)])
    assert PAGE_TOKEN not in str(err.value) and TOKEN not in str(err.value)


def test_facebook_without_pages_is_a_note(session, clock, sleep) -> None:
    source = FacebookPagesSource(
        meta_token(), tracking(facebook={"page_ids": []}), session=session, clock=clock, sleep=sleep
    )
    result = source.fetch_posts("facebook", [date(2026, 11, 19)])
    assert result.posts == [] and "no Facebook Page ids" in result.telemetry.notes[0]
