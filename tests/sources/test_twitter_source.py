"""X recent search through the real tweepy.Client, answered from recorded-shape payloads."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from kedah_analytics.config.tracking import TrackingConfig, default_tracking
from kedah_analytics.sources.common.base import BadRequest, CredentialsError, RateLimited, SourceError
from kedah_analytics.sources.common.retry import DEFAULT_TIMEOUT
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.twitter.client import EXPANSIONS, TWEET_FIELDS
from kedah_analytics.sources.twitter.query import build_search_queries, quote_term, tweet_id_time
from kedah_analytics.sources.twitter.search import TwitterSource

TOKEN = "fake-x-bearer-FixtureBearerToken%2Fabc123SECRET"
SEARCH = "/2/tweets/search/recent"
PAGE2_TOKEN = "b26v89c19zqg8o3frr3ld2exh2cmw7smoeutj7ibg2dq5"


def small_tracking(**twitter: object) -> TrackingConfig:
    return TrackingConfig.model_validate(
        {
            "place_terms": ["Langkawi", "Alor Setar"],
            "hashtags": ["#VisitKedah"],
            "twitter": {"max_rate_limit_waits": 3, **twitter},
        }
    )


def make_source(session, clock, sleep, tracking=None) -> TwitterSource:
    return TwitterSource(
        Secret(TOKEN, "KEDAH_X_BEARER_TOKEN"),
        tracking or small_tracking(),
        session=session,
        clock=clock,
        sleep=sleep,
    )


def first_page(params: dict[str, str]) -> bool:
    return "next_token" not in params


def second_page(params: dict[str, str]) -> bool:
    return params.get("next_token") == PAGE2_TOKEN


# --- query building -------------------------------------------------------------------------


def test_quote_term_quotes_multi_word_names_only() -> None:
    assert quote_term("Langkawi") == "Langkawi"
    assert quote_term("Alor  Setar") == '"Alor Setar"'
    assert quote_term("#VisitKedah") == "#VisitKedah"


def test_queries_or_the_alternatives_inside_parentheses_and_exclude_retweets() -> None:
    (query,) = build_search_queries(["Langkawi", "Alor Setar", "Menara Alor Setar"], ["#Kedah"])
    # Space is AND and binds tighter than OR: the alternatives sit in parentheses, the operator after.
    assert query == '(Langkawi OR "Alor Setar" OR #Kedah) -is:retweet'


def test_default_tracking_splits_into_queries_within_512_chars() -> None:
    tracking = default_tracking()
    queries = build_search_queries(tracking.place_terms, tracking.hashtags, max_length=120)
    assert len(queries) > 1
    assert all(len(q) <= 120 and q.startswith("(") and q.endswith(") -is:retweet") for q in queries)
    joined = " ".join(queries)
    for tag in tracking.hashtags:
        assert tag in joined
    assert '"Sungai Petani"' in joined and '"Sg Petani"' in joined
    assert '"Menara Alor Setar"' not in joined  # "Alor Setar" already matches it
    full = build_search_queries(tracking.place_terms, tracking.hashtags)
    assert all(len(q) <= 512 for q in full)


def test_a_term_longer_than_a_query_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="too long"):
        build_search_queries(["x" * 600])


# --- fetching ---------------------------------------------------------------------------------


def test_pages_are_walked_and_authors_joined_from_includes(adapter, reply, session, clock, sleep) -> None:
    adapter.add(SEARCH, reply.json("twitter/search_recent_page1.json"), when=first_page)
    adapter.add(SEARCH, reply.json("twitter/search_recent_page2.json"), when=second_page)
    source = make_source(session, clock, sleep)

    result = source.fetch_posts("twitter", [date(2026, 11, 19), date(2026, 11, 20)])

    posts = {p.post_id: p for p in result.posts}
    # Nov 18 (Kedah) is outside the days asked for; the tweet without created_at is quarantined.
    assert set(posts) == {
        "2123627832407089728",
        "2123600967889969728",
        "2123562011194417728",
        "2123453747819569728",
        "2123252962292785728",
    }
    sunset = posts["2123600967889969728"]
    assert sunset.author_name == "aisyahtravels" and sunset.author_followers == 15230
    assert sunset.like_count == 140 and sunset.comment_count == 3 and sunset.share_count == 14
    assert sunset.view_count == 4210 and sunset.lang == "en"
    assert sunset.hashtags == ("Langkawi", "VisitKedah")
    assert sunset.url == "https://x.com/aisyahtravels/status/2123600967889969728"
    assert sunset.payload["includes"]["places"][0]["full_name"] == "Langkawi, Kedah"
    assert sunset.payload["data"]["id"] == sunset.post_id
    # Author missing from includes (suspended): no name, no followers, a fallback URL.
    otw = posts["2123562011194417728"]
    assert otw.author_id == "1199988776655443322" and otw.author_name is None and otw.author_followers is None
    assert otw.url == "https://x.com/i/web/status/2123562011194417728"
    # No public_metrics at all: every count is None, not 0.
    jerai = posts["2123453747819569728"]
    assert (jerai.like_count, jerai.comment_count, jerai.share_count, jerai.view_count) == (None,) * 4
    assert jerai.author_followers == 40210
    # impression_count absent: view_count None while the rest are there.
    assert posts["2123252962292785728"].view_count is None
    assert posts["2123252962292785728"].like_count == 33

    (bad,) = result.quarantined
    assert "created_at" in bad.reason and bad.payload["id"] == "2123453747819569999"
    assert result.cursors == {source.queries[0]: "2123627832407089728"}
    assert result.telemetry.api_calls == 2 and result.telemetry.pages == 2
    assert any("partial errors" in note for note in result.telemetry.notes)

    first, second = adapter.calls(SEARCH)
    assert first.params["query"] == '(Langkawi OR "Alor Setar" OR #VisitKedah) -is:retweet'
    assert first.params["tweet.fields"] == ",".join(TWEET_FIELDS)
    assert first.params["expansions"] == ",".join(EXPANSIONS)
    assert "referenced_tweets.id" in first.params["expansions"]
    for field in ("note_tweet", "edit_history_tweet_ids", "referenced_tweets", "withheld"):
        assert field in first.params["tweet.fields"]
    assert "public_metrics" in first.params["user.fields"]
    assert first.params["max_results"] == "100"
    assert first.params["start_time"] == "2026-11-18T16:00:00Z"  # Nov 19 00:00 in Kedah
    assert first.params["end_time"] == "2026-11-20T05:59:30Z"  # now minus the lag X requires
    assert second.params["next_token"] == PAGE2_TOKEN
    assert second.params["start_time"] == first.params["start_time"]
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.timeout == DEFAULT_TIMEOUT


def test_empty_page_without_data_key_gives_no_rows(adapter, reply, session, clock, sleep) -> None:
    adapter.add(SEARCH, reply.json("twitter/search_recent_empty.json"))
    result = make_source(session, clock, sleep).fetch_posts("twitter", [date(2026, 11, 20)])
    assert result.posts == [] and result.quarantined == [] and result.cursors == {}
    assert result.telemetry.api_calls == 1


def test_days_older_than_seven_days_give_a_note_and_no_call(adapter, session, clock, sleep) -> None:
    result = make_source(session, clock, sleep).fetch_posts(
        "twitter", [date(2026, 11, 10), date(2026, 11, 12)]
    )
    assert result.posts == [] and adapter.seen == []
    assert len(result.telemetry.notes) == 2
    assert all("7-day window" in n for n in result.telemetry.notes)


def test_start_time_is_clamped_to_the_seven_day_window(adapter, reply, session, clock, sleep) -> None:
    adapter.add(SEARCH, reply.json("twitter/search_recent_empty.json"))
    make_source(session, clock, sleep).fetch_posts("twitter", [date(2026, 11, 13)])
    (call,) = adapter.seen
    assert call.params["start_time"] == "2026-11-13T06:10:00Z"  # now - 7 days + 10 minutes margin
    assert call.params["end_time"] == "2026-11-13T16:00:00Z"


def test_since_id_replaces_start_time_and_the_newest_id_is_returned(
    adapter, reply, session, clock, sleep
) -> None:
    adapter.add(SEARCH, reply.json("twitter/search_recent_page1.json"), when=first_page)
    adapter.add(SEARCH, reply.json("twitter/search_recent_empty.json"), when=second_page)
    source = make_source(session, clock, sleep)
    query = source.queries[0]
    known = "2123562011194417728"  # 2026-11-19T23:40Z, inside the day asked for

    result = source.fetch_posts("twitter", [date(2026, 11, 20)], cursors={query: known})

    first = adapter.seen[0]
    assert first.params["since_id"] == known and "start_time" not in first.params
    assert result.cursors[query] == "2123627832407089728"
    assert tweet_id_time(known).isoformat().startswith("2026-11-19T23:40:12")


def test_since_id_older_than_the_window_falls_back_to_start_time(
    adapter, reply, session, clock, sleep
) -> None:
    adapter.add(SEARCH, reply.json("twitter/search_recent_empty.json"))
    source = make_source(session, clock, sleep)
    old = "2100000000000000000"
    result = source.fetch_posts("twitter", [date(2026, 11, 20)], cursors={source.queries[0]: old})
    assert "since_id" not in adapter.seen[0].params and "start_time" in adapter.seen[0].params
    assert result.cursors[source.queries[0]] == old  # nothing newer seen: keep what the caller had


def test_429_waits_until_the_reset_time_then_retries(adapter, reply, session, clock, sleep) -> None:
    reset = int(clock().timestamp()) + 120
    limited = reply.json(
        "twitter/error_429.json",
        status=429,
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    adapter.add(SEARCH, limited, reply.json("twitter/search_recent_empty.json"))
    result = make_source(session, clock, sleep).fetch_posts("twitter", [date(2026, 11, 20)])
    assert sleep.waits == [121.0]
    assert result.telemetry.rate_limit_waits == 1 and result.telemetry.rate_limit_wait_seconds == 121.0
    assert result.telemetry.api_calls == 2


def test_429_again_and_again_gives_up_with_rate_limited(adapter, reply, session, clock, sleep) -> None:
    headers = {"x-rate-limit-reset": str(int(clock().timestamp()) + 60)}
    adapter.add(
        SEARCH, *[reply.json("twitter/error_429.json", status=429, headers=headers) for _ in range(4)]
    )
    with pytest.raises(RateLimited) as err:
        make_source(session, clock, sleep, small_tracking(max_rate_limit_waits=3)).fetch_posts(
            "twitter", [date(2026, 11, 20)]
        )
    assert len(adapter.seen) == 4 and len(sleep.waits) == 3
    assert err.value.reset_at is not None and err.value.retryable


def test_a_reset_too_far_away_fails_at_once_with_its_time(adapter, reply, session, clock, sleep) -> None:
    headers = {"x-rate-limit-reset": str(int(clock().timestamp()) + 3 * 3600)}
    adapter.add(SEARCH, reply.json("twitter/error_429.json", status=429, headers=headers))
    with pytest.raises(RateLimited, match="resets at 2026-11-20T09:00"):
        make_source(session, clock, sleep).fetch_posts("twitter", [date(2026, 11, 20)])
    assert sleep.waits == []


def test_unauthorized_is_not_retried_and_names_the_variable(adapter, reply, session, clock, sleep) -> None:
    adapter.add(SEARCH, reply.json("twitter/error_401.json", status=401))
    with pytest.raises(CredentialsError) as err:
        make_source(session, clock, sleep).fetch_posts("twitter", [date(2026, 11, 20)])
    assert err.value.env_var == "KEDAH_X_BEARER_TOKEN"
    assert "KEDAH_X_BEARER_TOKEN" in str(err.value) and TOKEN not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert len(adapter.seen) == 1 and sleep.waits == []


def test_server_error_then_success(adapter, reply, session, clock, sleep) -> None:
    adapter.add(
        SEARCH,
        reply.json("twitter/error_503.json", status=503),
        reply.json("twitter/search_recent_page2.json"),
    )
    result = make_source(session, clock, sleep).fetch_posts("twitter", [date(2026, 11, 20)])
    assert len(adapter.seen) == 2 and sleep.waits == [2.0]
    assert {p.post_id for p in result.posts} == {"2123562011194417728", "2123453747819569728"}


def test_server_errors_exhaust_the_bounded_retries(adapter, reply, session, clock, sleep) -> None:
    adapter.add(SEARCH, *[reply.json("twitter/error_503.json", status=503) for _ in range(4)])
    with pytest.raises(SourceError, match="failed after 4 attempts") as err:
        make_source(session, clock, sleep).fetch_posts("twitter", [date(2026, 11, 20)])
    assert err.value.retryable and sleep.waits == [2.0, 4.0, 8.0]


def test_timeout_is_retried(adapter, reply, session, clock, sleep) -> None:
    adapter.add(
        SEARCH,
        reply(raises=requests.ReadTimeout("Read timed out. (read timeout=30.0)")),
        reply.json("twitter/search_recent_empty.json"),
    )
    result = make_source(session, clock, sleep).fetch_posts("twitter", [date(2026, 11, 20)])
    assert result.telemetry.api_calls == 2 and len(sleep.waits) == 1


def test_bad_query_is_a_clear_non_retryable_error(adapter, reply, session, clock, sleep) -> None:
    adapter.add(SEARCH, reply.json("twitter/error_400_query.json", status=400))
    with pytest.raises(BadRequest, match="invalid operator") as err:
        make_source(session, clock, sleep).fetch_posts("twitter", [date(2026, 11, 20)])
    assert not err.value.retryable and len(adapter.seen) == 1


def test_wrong_platform_is_refused(session, clock, sleep) -> None:
    with pytest.raises(ValueError):
        make_source(session, clock, sleep).fetch_posts("instagram", [date(2026, 11, 20)])


def test_since_id_newer_than_a_backfilled_window_is_not_applied(
    adapter, reply, session, clock, sleep
) -> None:
    adapter.add(SEARCH, reply.json("twitter/search_recent_empty.json"))
    source = make_source(session, clock, sleep)
    newest = "2123627832407089728"  # Nov 20; the day asked for is Nov 16
    source.fetch_posts("twitter", [date(2026, 11, 16)], cursors={source.queries[0]: newest})
    assert "since_id" not in adapter.seen[0].params
    assert adapter.seen[0].params["start_time"] == "2026-11-15T16:00:00Z"
