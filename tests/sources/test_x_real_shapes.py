"""X posts as X means them, through the real tweepy.Client, answered from a page shaped like the
real API's: retweets with includes.tweets, quotes, an edit pair, withheld post and author, a
note_tweet, entity-encoded text and a numeric hashtag; and the daily read budget."""

from __future__ import annotations

from datetime import UTC, date

import pytest

from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.sources.common.base import SourceError
from kedah_analytics.sources.common.budget import InMemoryDailyCounter
from kedah_analytics.sources.common.frames import posts_frame
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.twitter.payload import is_withheld_notice
from kedah_analytics.sources.twitter.search import TwitterSource

SEARCH = "/2/tweets/search/recent"
TOKEN = "fake-x-bearer-RealShapes%2Fxyz789SECRET"
DAY = date(2026, 11, 20)
ORIG, RT = "2123554411115446273", "2123619842257846274"
QUOTED, QUOTE = "2123522953835446275", "2123607259345846276"
E1, E2 = "2123582093521846277", "2123585113420726278"
WH_POST, WH_USER_POST = "2123572027192246279", "2123574543774646280"
LONG, ENT = "2123638716625846281", "2123639974917046282"


def tracking(**twitter: object) -> TrackingConfig:
    return TrackingConfig.model_validate(
        {
            "place_terms": ["Langkawi"],
            "hashtags": ["#VisitKedah"],
            "twitter": {"exclude_retweets": False, **twitter},
        }
    )


def source(session, clock, sleep, **kwargs) -> TwitterSource:
    return TwitterSource(
        Secret(TOKEN, "KEDAH_X_BEARER_TOKEN"), tracking(), session=session, clock=clock, sleep=sleep, **kwargs
    )


@pytest.fixture
def fetched(adapter, reply, session, clock, sleep):
    adapter.add(SEARCH, reply.json("twitter/search_recent_real_shapes.json"))
    result = source(session, clock, sleep).fetch_posts("twitter", [DAY])
    return result, {p.post_id: p for p in result.posts}


def test_retweet_stores_the_original_with_its_own_text_and_counts(fetched, adapter) -> None:
    result, posts = fetched
    assert RT not in posts  # the retweet is no second copy of the original
    original = posts[ORIG]
    assert original.text.startswith("Sunset at Pantai Cenang tonight, the sky went orange")
    assert original.text.endswith("#Langkawi #VisitKedah https://t.co/Sn5tC3n4ng")  # whole, not cut at RT
    assert original.like_count == 640 and original.share_count == 57 + 8  # its own, not the retweet's 0 likes
    assert original.author_name == "aisyahtravels" and original.author_followers == 15230
    assert original.hashtags == ("Langkawi", "VisitKedah")
    assert result.telemetry.details["items_folded"] >= 1
    assert "retweet" not in "".join(p.text[:3] for p in result.posts).lower()
    (call,) = adapter.calls(SEARCH)
    assert "referenced_tweets.id" in call.params["expansions"].split(",")
    assert "-is:retweet" not in call.params["query"]


def test_quote_keeps_its_own_text_and_counts_and_references_the_quoted_post(fetched) -> None:
    _, posts = fetched
    quote = posts[QUOTE]
    assert quote.text == "This is why we keep coming back >> Gunung Jerai at dawn https://t.co/QuOt3dP0st"
    assert quote.like_count == 9 and quote.comment_count == 1 and quote.share_count == 0
    assert quote.quoted_post_id == QUOTED
    assert QUOTED not in posts  # only in includes: stored when a search returns it itself


def test_edit_pair_is_one_row_with_the_latest_text_and_counts(fetched) -> None:
    result, posts = fetched
    assert E2 not in posts
    edited = posts[E1]  # keyed by the first version, so the original and the edit land on one row
    assert edited.text == "Langkawi cable car closed today for maintenance, reopens Saturday"
    assert edited.like_count == 31 and edited.view_count == 2210
    assert edited.earlier_post_ids == (E1,)
    assert edited.created_at.isoformat().startswith("2026-11-20T01:00:00")  # the first version's time
    assert edited.url.endswith(E2)
    frame, _ = posts_frame(result.posts, result.posts[0].created_at, [DAY])
    assert frame["post_id"].is_unique
    assert frame.set_index("post_id").loc[E1, "earlier_post_ids"] == [E1]


def test_edit_seen_in_either_order_keeps_the_latest_version(
    adapter, reply, session, clock, sleep, load
) -> None:
    page = load("twitter/search_recent_real_shapes.json")
    page["data"] = [t for t in page["data"] if t["id"] in (E1, E2)][::-1]  # original first this time
    adapter.add(SEARCH, reply.json(page))
    (post,) = source(session, clock, sleep).fetch_posts("twitter", [DAY]).posts
    assert post.post_id == E1 and post.like_count == 31 and "maintenance" in post.text


def test_a_withheld_notice_is_dropped_and_a_post_withheld_elsewhere_keeps_its_text(fetched) -> None:
    _, posts = fetched
    post = posts[WH_POST]  # X's copyright notice in place of the text
    assert post.is_withheld and post.text == "" and post.hashtags == ()
    assert post.like_count == 15 and post.withheld_in == ("MY",)  # counts stand; the notice does not
    by_author = posts[WH_USER_POST]  # its author is withheld in MY and SG; the payload holds their words
    assert not by_author.is_withheld and by_author.text == "Promo hotel murah Langkawi, DM sekarang"
    assert by_author.withheld_in == ("MY", "SG")
    assert not posts[ORIG].is_withheld and not posts[QUOTE].is_withheld
    assert posts[ORIG].withheld_in == ()


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("This Post from @kedahnews has been withheld in Germany based on local law(s). Learn more.", True),
        (
            "This Tweet from @kedahnews has been withheld in response to a report from the copyright holder.",
            True,
        ),
        ("@promohotelku\u2019s account has been withheld in Malaysia based on local law(s).", True),
        ("Pantai Cenang is withheld from nobody: come visit!", False),
    ],
)
def test_only_xs_notice_counts_as_withheld_text(text: str, notice: bool) -> None:
    withheld = {"withheld": {"country_codes": ["DE"]}}
    assert is_withheld_notice(withheld, None, text) is notice
    assert not is_withheld_notice({}, None, text)  # no withheld object: the author's words whatever they say


def test_note_tweet_gives_the_long_post_whole(fetched) -> None:
    _, posts = fetched
    long = posts[LONG]
    assert len(long.text) > 280 and "\u2026" not in long.text
    assert long.text.endswith("#Langkawi #KilimGeoforest #JomKeKedah")
    assert long.hashtags == ("Langkawi", "KilimGeoforest", "JomKeKedah")


def test_entity_encoded_text_is_decoded_and_numeric_hashtag_is_not_a_hashtag(fetched) -> None:
    _, posts = fetched
    post = posts[ENT]
    assert (
        post.text == "Nasi lemak & teh tarik at Pekan Rabu <3 Alor Setar > KL for breakfast #AlorSetar #2022"
    )
    assert post.hashtags == ("AlorSetar",)  # X's entities: #2022 is digits only


def test_the_cursor_moves_to_the_newest_id_read_including_retweets(fetched) -> None:
    result, _ = fetched
    assert list(result.cursors.values()) == [ENT]
    details = result.telemetry.details
    assert (
        details["items_read"]
        == details["items_stored"]
        + details["items_quarantined"]
        + details["items_folded"]
        + details["items_outside_days"]
    )


def test_read_budget_spent_stops_before_any_call_and_says_so(adapter, session, clock, sleep) -> None:
    budget = InMemoryDailyCounter()
    budget.spend(clock().astimezone(UTC).date(), 1995)
    result = source(session, clock, sleep, read_budget=budget, daily_post_reads=2000).fetch_posts(
        "twitter", [DAY], cursors={}
    )
    assert adapter.seen == [] and result.posts == []
    assert result.telemetry.details["x_budget_stopped"] is True
    assert result.telemetry.details["x_post_reads_left_today"] == 5
    assert any("KEDAH_X_DAILY_POST_READS" in note for note in result.telemetry.notes)


def test_read_budget_caps_page_size_then_stops_and_keeps_the_old_cursor(
    adapter, reply, session, clock, sleep
) -> None:
    adapter.add(SEARCH, reply.json("twitter/search_recent_page1.json"))  # 2 posts, and a next_token
    budget = InMemoryDailyCounter()
    src = source(session, clock, sleep, read_budget=budget, daily_post_reads=11)
    query = src.queries[0]
    old_cursor = "2123500000000000000"
    result = src.fetch_posts("twitter", [DAY], cursors={query: old_cursor})
    (call,) = adapter.calls(SEARCH)  # 11 - 2 read = 9 left, under X's minimum page of 10: stop
    assert call.params["max_results"] == "11"
    assert budget.spent(clock().astimezone(UTC).date()) == 2 == result.telemetry.details["x_posts_read"]
    assert result.telemetry.details["x_estimated_cost_usd"] == pytest.approx(2 * 0.005 + 2 * 0.010)
    assert result.telemetry.details["x_budget_stopped"] is True
    assert result.cursors[query] == old_cursor  # cut short: the unread posts are not skipped next time
    assert {p.post_id for p in result.posts} == {"2123627832407089728", "2123600967889969728"}


def test_malformed_html_body_with_http_200_is_a_retryable_source_error(
    adapter, reply, session, clock, sleep
) -> None:
    html = reply.text("twitter/html_error_page.html", "text/html; charset=utf-8")
    adapter.add(SEARCH, *[html for _ in range(4)])
    with pytest.raises(SourceError, match="not JSON") as err:
        source(session, clock, sleep).fetch_posts("twitter", [DAY])
    assert err.value.retryable and len(adapter.seen) == 4


def test_malformed_pages_are_quarantined_and_the_rest_goes_on(
    adapter, reply, session, clock, sleep, load
) -> None:
    good = load("twitter/search_recent_real_shapes.json")
    good["includes"]["places"] = {"not": "a list"}
    good["meta"] = {"next_token": ["not", "text"]}
    good["data"].append({"id": ["2123639974917046299"], "text": "an id that is a list"})
    good["data"].append({"id": "2123639974917046300", "text": "x", "created_at": "0001-01-01T00:00:00+08:00"})
    good["data"].append({"id": "2123639974917046301", "text": "x", "created_at": "2026-11-20T01:00:00Z",
                         "public_metrics": {"like_count": "\u00b2"}})  # fmt: skip
    good["data"].append({"id": "2123639974917046302", "text": "x", "created_at": "2026-11-20T01:00:00Z",
                         "public_metrics": {"like_count": -5}})  # fmt: skip
    good["data"].append({"id": "2123639974917046303", "text": "x", "created_at": "2026-11-20T01:00:00Z",
                         "public_metrics": {"retweet_count": 2**63}})  # fmt: skip
    adapter.add(SEARCH, reply.json(good))
    result = source(session, clock, sleep).fetch_posts("twitter", [DAY])
    reasons = [q.reason for q in result.quarantined]
    assert any("'places' is a dict, not a list" in r for r in reasons)
    assert any("'next_token' is a list, not text" in r for r in reasons)
    assert any("tweet id is a list" in r for r in reasons)
    assert any("created_at is outside 2004..2099" in r for r in reasons)
    assert {ORIG, QUOTE, E1, LONG, ENT} <= {p.post_id for p in result.posts}  # the neighbours are stored
    # An impossible count costs that count, not the post: each is stored with NULL there, named.
    posts = {p.post_id: p for p in result.posts}
    assert posts["2123639974917046301"].like_count is None and posts["2123639974917046301"].repaired == (
        "like_count",
    )
    assert posts["2123639974917046302"].like_count is None and posts["2123639974917046302"].repaired == (
        "like_count",
    )
    assert posts["2123639974917046303"].share_count is None
    assert posts["2123639974917046303"].repaired == ("retweet_count",)
    assert not any("count" in r for r in reasons)


def test_read_budget_in_postgres_adds_up_across_objects_and_days(warehouse_url) -> None:
    import psycopg

    from kedah_analytics.warehouse.state import PgPostReadBudget

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("TRUNCATE kedah.x_post_reads")
    day = date(2026, 11, 20)
    first, second = PgPostReadBudget(warehouse_url), PgPostReadBudget(warehouse_url)
    assert first.spent(day) == 0
    first.spend(day, 100)
    second.spend(day, 37)
    assert first.spent(day) == second.spent(day) == 137
    assert first.spent(date(2026, 11, 21)) == 0


def test_stored_raw_rows_carry_withheld_edit_and_quote_columns(fetched, warehouse_url) -> None:
    import psycopg

    from kedah_analytics.warehouse.load import PartitionFilter, merge_rows

    result, _ = fetched
    frame, _ = posts_frame(result.posts, result.posts[0].created_at, [DAY])
    with psycopg.connect(warehouse_url) as conn:
        merge_rows(
            conn, "raw_posts", frame, key=["platform", "post_id"],
            partitions=PartitionFilter(("date", "platform"), ((DAY, "twitter"),)), provider="x_api_v2",
        )  # fmt: skip
        rows = dict(
            (r[0], r[1:])
            for r in conn.execute(
                "SELECT post_id, is_withheld, earlier_post_ids, quoted_post_id, text, withheld_in FROM kedah.raw_posts"
            ).fetchall()
        )
    assert rows[WH_POST][0] is True and rows[WH_POST][3] == "" and rows[WH_POST][4] == ["MY"]
    assert (
        rows[WH_USER_POST][0] is False
        and rows[WH_USER_POST][4] == ["MY", "SG"]
        and "Langkawi" in rows[WH_USER_POST][3]
    )
    assert rows[E1][1] == [E1] and "maintenance" in rows[E1][3]
    assert rows[QUOTE][2] == QUOTED
    assert RT not in rows and E2 not in rows
