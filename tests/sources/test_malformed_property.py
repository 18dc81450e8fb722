"""Property tests: 10,000 generated malformed pages per source, thrown at the real normalizers and
the shared page reader (issue 9 item 6; issue 14 item 1, source side).

Every generated page mixes well-formed items with the values real APIs and broken proxies send:
negative counts, ``"²"`` (``str.isdigit`` accepts it), 2**63 and beyond, the year 1, lists where ids
belong, NUL bytes and lone surrogates in text, ``\\u0000`` in JSON-looking strings, pages that are
not objects, fields of the wrong type, missing fields. Each test asserts that nothing but
``SourceError`` escapes, that every item read is stored, quarantined with a reason, folded into
another post or outside the requested days, and that what is stored fits ``kedah.raw_posts`` (the
reader's own rules, then one raw frame built from every stored post).

Hypothesis supplies each case as a seed that a small builder turns into a page through
``random.Random``: drawing whole nested JSON through strategies (or ``st.randoms``, which draws
every call through the engine) costs many times more, and 10,000 cases per source must stay a few
seconds. A failure names its seed, which rebuilds the page. ``derandomize=True``: CI runs the same
cases every time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kedah_analytics.domain import PostRecord, QuarantinedRecord
from kedah_analytics.sources.common.base import FetchTelemetry, SourceError
from kedah_analytics.sources.common.frames import posts_frame
from kedah_analytics.sources.common.pages import PageReader, check_record
from kedah_analytics.sources.google_trends.client import interest_rows
from kedah_analytics.sources.meta import facebook, instagram
from kedah_analytics.sources.twitter import payload as twitter
from kedah_analytics.sources.youtube import videos as youtube
from kedah_analytics.warehouse.sanitize import screen_posts

PAGES = 10_000  # generated pages per source
PAGES_PER_CASE = 5  # pages built from one hypothesis example (its per-example cost is ~2 ms)
DAYS = [date(2026, 11, 19), date(2026, 11, 20)]
PROPERTY = settings(
    max_examples=PAGES // PAGES_PER_CASE,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NASTY_SCALARS: list[Any] = [
    None, True, False, 0, -1, -5, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63), 1.5, 3.0, float("nan"),
    float("inf"), float("-inf"), "", " ", "12", "-3", "\u00b2", "\u0663", "\u00bd", "1e3", "0x10", "12 ",
    "\x00", "a\x00b", "\ud800", "caf\udfff", '{"\\u0000": 1}', "\\u0000", "<html><body>oops</body></html>",
    "0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00-08:00", "9999-12-31T23:59:59Z",
    "2026-11-20T01:00:00", "2026-11-20T01:00:00Z", "2026-11-19T18:30:00+0000", "not a time",
    [], ["2123639974917046282"], [1, 2], {}, {"id": "1"}, {"text": "\x00"}, {"\x00": "\ud800"},
]  # fmt: skip
CHARS = "aZ09 #_&;<>\x00\ud800\udfff\u00b2\u0663\U0001f305é"
GOOD_TIMES = [
    "2026-11-19T02:00:00Z",
    "2026-11-19T20:15:00.000Z",
    "2026-11-20T05:59:00+0000",
    "2026-11-18T10:00:00Z",
]
TEXTS = ["Langkawi &amp; Kedah #Langkawi #2022", "Sunset &lt;3 #VisitKedah", "a\x00b", "\ud800", ""]


def nasty(r: random.Random) -> Any:
    roll = r.random()
    if roll < 0.6:
        return r.choice(NASTY_SCALARS)
    if roll < 0.8:
        return r.randint(-(2**70), 2**70)
    return "".join(r.choice(CHARS) for _ in range(r.randint(0, 6)))


def text(r: random.Random) -> str:
    return r.choice(TEXTS) if r.random() < 0.7 else "".join(r.choice(CHARS) for _ in range(r.randint(0, 12)))


def count_or_nasty(r: random.Random, good: Any = None) -> Any:
    return (good if good is not None else r.randint(0, 10**6)) if r.random() < 0.7 else nasty(r)


def maybe(r: random.Random, build: Callable[[random.Random], Any], p: float = 0.5) -> Any:
    return build(r) if r.random() < 0.85 else nasty(r)


def mutate(r: random.Random, item: dict[str, Any]) -> Any:
    """A well-formed item, or one with up to three fields replaced by nasty values or removed, or
    not an item at all."""
    roll = r.random()
    if roll < 0.08:
        return nasty(r)
    if roll < 0.45:
        return item
    for key in r.sample(sorted(item), min(len(item), r.randint(1, 3))):
        if r.random() < 0.75:
            item[key] = nasty(r)
        else:
            del item[key]
    return item


def page(
    r: random.Random,
    item: Callable[[random.Random], dict[str, Any]],
    extra: dict[str, Callable[[random.Random], Any]],
    data_key: str = "data",
) -> Any:
    if r.random() < 0.06:
        return nasty(r)  # not a page at all
    body: dict[str, Any] = {}
    if r.random() < 0.93:
        body[data_key] = [mutate(r, item(r)) for _ in range(r.randint(0, 6))]
    else:
        body[data_key] = nasty(r)
    for key, build in extra.items():
        if r.random() < 0.6:
            body[key] = maybe(r, build)
    return body


STORED: list[PostRecord] = []


def check_outcome(reader: PageReader) -> None:
    tally = reader.tally
    assert tally.accounted() == tally.read, tally
    for record in reader.posts.values():
        assert isinstance(record, PostRecord)
        check_record(record)  # raises if a stored record breaks raw_posts' limits
        STORED.append(record)
    for q in reader.quarantined:
        assert isinstance(q, QuarantinedRecord) and isinstance(q.reason, str) and q.reason


def run_property(check: Callable[[random.Random], None]) -> int:
    """Run ``check`` on ``PAGES`` generated pages; the number of pages it ran."""
    seen = {"examples": 0, "pages": 0}
    STORED.clear()

    @PROPERTY
    @given(st.integers(min_value=0, max_value=2**64))
    def case(seed: int) -> None:
        seen["examples"] += 1
        r = random.Random(seed)
        for _ in range(PAGES_PER_CASE):
            seen["pages"] += 1
            try:
                check(r)
            except SourceError:
                pass  # the only thing a source may raise

    case()
    # Every post stored by any case, through the storage screen as the ingest path takes it (lone
    # surrogates and NUL repaired; pandas may back text with Arrow, which refuses them), as rows of
    # kedah.raw_posts in one frame; whatever the screen refuses is quarantined, never lost.
    kept, quarantined = [], 0
    for platform in sorted({post.platform for post in STORED}):
        mine = [post for post in STORED if post.platform == platform]
        screened = screen_posts(mine, platform, mine[0].provider)
        kept += screened.posts
        quarantined += len(screened.quarantined)
    frame, _ = posts_frame(kept, datetime(2026, 11, 20, tzinfo=UTC), DAYS)
    assert len(frame) + quarantined == len(STORED)
    print(
        f"\n{check.__name__}: {seen['pages']} generated pages ({seen['examples']} hypothesis examples), "
        f"{len(STORED)} posts stored"
    )
    return seen["pages"]


# --- X -----------------------------------------------------------------------------------------

TWEET_IDS = ["2123639974917046282", "2123585113420726278", "2123582093521846277", "2123554411115446273"]


def tweet(r: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": r.choice(TWEET_IDS),
        "text": text(r),
        "created_at": r.choice(GOOD_TIMES),
        "author_id": r.choice(["987654321098765432", "1"]),
        "public_metrics": {
            k: count_or_nasty(r)
            for k in ("retweet_count", "reply_count", "like_count", "quote_count", "impression_count")
            if r.random() < 0.8
        },
    }
    if r.random() < 0.3:
        item["edit_history_tweet_ids"] = r.sample(TWEET_IDS, r.randint(1, 3))
    if r.random() < 0.4:
        item["entities"] = {"hashtags": [{"tag": maybe(r, text)} for _ in range(r.randint(0, 2))]}
    if r.random() < 0.2:
        item["note_tweet"] = {"text": maybe(r, text), "entities": maybe(r, lambda r: {"hashtags": []})}
    if r.random() < 0.1:
        item["withheld"] = {"country_codes": ["MY"]}
    if r.random() < 0.3:
        item["referenced_tweets"] = [
            {
                "type": r.choice(["retweeted", "quoted", "replied_to"]),
                "id": maybe(r, lambda r: r.choice(TWEET_IDS)),
            }
        ]
    return item


def x_includes(r: random.Random) -> dict[str, Any]:
    return {
        "users": [
            mutate(
                r,
                {
                    "id": "987654321098765432",
                    "username": text(r),
                    "public_metrics": {"followers_count": count_or_nasty(r)},
                    "withheld": nasty(r),
                },
            )
            for _ in range(r.randint(0, 2))
        ],  # fmt: skip
        "tweets": [mutate(r, tweet(r)) for _ in range(r.randint(0, 2))],
        "places": maybe(r, lambda r: [{"id": "p1", "full_name": text(r)}]),
    }


def x_search_page(r: random.Random) -> None:
    body = page(
        r, tweet, {"includes": x_includes, "meta": lambda r: {"next_token": maybe(r, text)}, "errors": nasty}
    )
    reader = PageReader("twitter", twitter.PROVIDER, DAYS, FetchTelemetry())
    twitter.read_search_page(body, reader)
    check_outcome(reader)
    data = body.get("data") if isinstance(body, dict) else None
    assert reader.tally.read >= (len(data) if isinstance(data, list) else 0)


def test_malformed_x_pages_property() -> None:
    assert run_property(x_search_page) >= PAGES


# --- Instagram and Facebook (Graph API) ----------------------------------------------------------

GRAPH_EXTRA: dict[str, Callable[[random.Random], Any]] = {
    "paging": lambda r: {"next": maybe(r, text), "cursors": maybe(r, lambda r: {"after": maybe(r, text)})}
}


def media(r: random.Random) -> dict[str, Any]:
    return {
        "id": r.choice(["17900000000000001", "17900000000000002"]),
        "timestamp": r.choice(GOOD_TIMES),
        "caption": text(r),
        "like_count": count_or_nasty(r),
        "comments_count": count_or_nasty(r),
        "permalink": maybe(r, text),
    }


def instagram_page(r: random.Random) -> None:
    reader = PageReader("instagram", instagram.PROVIDER, DAYS, FetchTelemetry())
    instagram.read_media_page(page(r, media, GRAPH_EXTRA), "langkawi", reader)
    check_outcome(reader)


def test_malformed_instagram_pages_property() -> None:
    assert run_property(instagram_page) >= PAGES


def fb_post(r: random.Random) -> dict[str, Any]:
    return {
        "id": r.choice(["100064604811234_1", "100064604811234_2"]),
        "created_time": r.choice(GOOD_TIMES),
        "message": text(r),
        "shares": maybe(r, lambda r: {"count": count_or_nasty(r)}),
        "reactions": maybe(r, lambda r: {"summary": {"total_count": count_or_nasty(r)}}),
        "comments": maybe(r, lambda r: {"summary": maybe(r, lambda r: {"total_count": count_or_nasty(r)})}),
    }


def facebook_page(r: random.Random) -> None:
    info = {
        "id": maybe(r, lambda r: "100064604811234"),
        "name": maybe(r, text),
        "followers_count": count_or_nasty(r),
    }
    reader = PageReader("facebook", facebook.PROVIDER, DAYS, FetchTelemetry())
    facebook.read_page_posts(page(r, fb_post, GRAPH_EXTRA), info, reader)
    check_outcome(reader)


def test_malformed_facebook_pages_property() -> None:
    assert run_property(facebook_page) >= PAGES


# --- YouTube ---------------------------------------------------------------------------------------

VIDEO_IDS = ["a1B2c3D4e5F", "Zz9Yy8Xx7Ww", "Gone0000001"]


def search_item(r: random.Random) -> dict[str, Any]:
    return {
        "id": maybe(
            r, lambda r: {"kind": "youtube#video", "videoId": maybe(r, lambda r: r.choice(VIDEO_IDS))}
        )
    }


def video(r: random.Random) -> dict[str, Any]:
    return {
        "id": r.choice(VIDEO_IDS[:2]),
        "snippet": maybe(
            r,
            lambda r: {
                "publishedAt": maybe(r, lambda r: r.choice(GOOD_TIMES)),
                "title": text(r),
                "channelId": nasty(r),
            },
        ),
        "statistics": maybe(
            r, lambda r: {k: count_or_nasty(r, "15342") for k in ("viewCount", "likeCount", "commentCount")}
        ),
    }


def youtube_pages(r: random.Random) -> None:
    reader = PageReader("youtube", youtube.PROVIDER, DAYS, FetchTelemetry())
    found: list[str] = []
    youtube.read_search_page(page(r, search_item, {"nextPageToken": text}, "items"), reader, found)
    assert all(isinstance(v, str) for v in found)
    youtube.read_videos_page(page(r, video, {}, "items"), found[:50], reader)
    check_outcome(reader)


def test_malformed_youtube_pages_property() -> None:
    assert run_property(youtube_pages) >= PAGES


# --- Google Trends ---------------------------------------------------------------------------------

KEYWORDS = ("Langkawi", "Kulim")
START = datetime(2026, 11, 14)


def point_time(r: random.Random) -> Any:
    roll = r.random()
    if roll < 0.7:
        return pd.Timestamp(START + timedelta(days=r.randint(0, 9)))
    if roll < 0.8:
        return pd.NaT
    if roll < 0.9:
        return pd.Timestamp(START + timedelta(days=7 * r.randint(0, 9)))
    return pd.Timestamp(START + timedelta(hours=r.randint(0, 30)))


def trends_frame(r: random.Random) -> None:
    points = [
        (point_time(r), count_or_nasty(r, r.randint(0, 100)), count_or_nasty(r, r.randint(0, 100)), nasty(r))
        for _ in range(r.randint(0, 8))
    ]
    frame = pd.DataFrame(
        {
            "Langkawi": [p[1] for p in points],
            "Kulim": [p[2] for p in points],
            "isPartial": [p[3] for p in points],
        },
        index=pd.DatetimeIndex([p[0] for p in points], name="date"),
        dtype=object,  # any Python value, as pytrends' frames hold without Arrow-backed text
    )
    quarantined: list[QuarantinedRecord] = []
    rows = interest_rows(frame, KEYWORDS, "2026-11-14 2026-11-23", "MY-02", -480, quarantined)
    timeless = sum(1 for p in points if pd.isna(p[0]))
    # Each point: quarantined once for want of a time, or one row or one quarantined value per keyword.
    assert len(rows) + len(quarantined) == timeless + len(KEYWORDS) * (len(points) - timeless)
    assert all(isinstance(row.interest, int) and 0 <= row.interest <= 100 for row in rows)
    assert all(q.reason for q in quarantined)


def test_malformed_trends_points_property() -> None:
    assert run_property(trends_frame) >= PAGES
