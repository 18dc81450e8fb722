"""Plain functions: places and linking, the lexicon baseline, text signals, daily metrics, demo data."""

from datetime import date, timedelta

import pandas as pd
import pytest

from kedah_analytics.classify.lexicon import LexiconSentiment
from kedah_analytics.classify.posts import classify_posts, engagement_rate
from kedah_analytics.classify.text import detect_language, duplicated_across_accounts, spam_signals, topics_of
from kedah_analytics.domain import PLATFORMS
from kedah_analytics.place_metrics import place_daily_metrics
from kedah_analytics.places import CITIES, PlaceLinker, load_places
from kedah_analytics.sources.common.frames import posts_frame
from kedah_analytics.sources.demo.posts import MAX_LIKES, MAX_VIEWS, DemoSource, demo_items


@pytest.fixture(scope="module")
def places():
    return load_places()


@pytest.fixture(scope="module")
def linker(places):
    return PlaceLinker(places)


def test_places_cover_the_five_cities_with_aliases(places):
    assert len(places) >= 40
    assert set(places["city"]) == set(CITIES)
    assert all(len(a) for a in places["aliases_en"]) and all(len(a) for a in places["aliases_ms"])


def test_a_malformed_places_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "places.csv"
    bad.write_text("place_id,name\nx,X\n")
    with pytest.raises(ValueError, match="missing column"):
        load_places(bad)


@pytest.mark.parametrize(
    ("text", "place_id"),
    [
        ("Sunset at Pantai Chenang tonight", "pantai_cenang"),
        ("makan kat Alor Star", "alor_setar"),
        ("#AlorSetar nights", "alor_setar"),
        ("Sg. Petani pagi ni", "sungai_petani"),
        ("SG PETANI jam", "sungai_petani"),
        ("Kerja kat Kulim Hi-Tech Park", "kulim_hi_tech"),  # the park, not the town
        ("jalan-jalan daerah Kulim", "kulim_district"),  # the district, not the town
        ("Kulim town is quiet", "kulim"),
        ("Langkawi trip, naik SkyCab", "sky_cab"),  # the specific place beats its city
        ("I love #pantaicenang", "pantai_cenang"),
        ("Kulimnya panas", None),  # no whole-word match
        ("Nothing about Kedah", None),
    ],
)
def test_place_linking(linker, text, place_id):
    match = linker.link(text)
    assert (match.place_id if match else None) == place_id


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Best trip ever, Langkawi is beautiful", "positive"),
        ("best gila", "positive"),
        ("tak best langsung", "negative"),
        ("makanan sedap", "positive"),
        ("makanan tidak sedap", "negative"),
        ("hotel mahal", "negative"),
        ("x mahal pun", "positive"),
    ],
)
def test_lexicon_baseline_reads_malay_negation(text, label):
    assert LexiconSentiment().predict([text])[0].label == label


def test_lexicon_baseline_handles_odd_input():
    results = LexiconSentiment().predict(["", None, b"\xff\xfe caf\xc3\xa9", "😍😍😍", "bagus " * 10000])
    assert len(results) == 5
    assert all(-1 <= r.score <= 1 and 0 <= r.confidence <= 1 for r in results)


def test_language_topics_and_spam_signals():
    assert detect_language("The view is amazing and the food was great") == "en"
    assert detect_language("Pantai ni memang cantik, kita pergi lagi esok") == "ms"
    assert detect_language("Weekend ni pergi Langkawi, the view memang best gila") == "mixed"
    assert set(topics_of("Island hopping then makan laksa at the hotel")) >= {
        "island_hopping",
        "food",
        "accommodation",
    }
    assert spam_signals("PROMO murah! whatsapp http://a.b http://c.d", ["#a"] * 9, True).is_spam
    assert not spam_signals("Lovely sunset at Cenang", ["#langkawi"], False).is_spam


def test_near_duplicates_across_accounts_are_flagged_but_not_one_accounts_repeats():
    texts = [
        "Cheap Langkawi tour DM now http://x.co/1",
        "cheap langkawi tour dm NOW http://x.co/2",
        "Sunset at Cenang was lovely",
    ]
    assert duplicated_across_accounts(texts, ["a", "b", "c"]) == [True, True, False]
    assert duplicated_across_accounts(texts, ["a", "a", "c"]) == [False, False, False]


def test_engagement_rate_names_its_denominator():
    assert engagement_rate("twitter", 10, 1000, 50) == (0.01, "impressions")
    assert engagement_rate("instagram", 10, None, 50) == (0.2, "followers")
    assert engagement_rate("instagram", 10, None, None) == (None, None)


def test_demo_data_is_deterministic_multilingual_and_has_spam_and_malformed_items(linker):
    days = [date(2026, 11, d) for d in range(1, 29)]
    assert demo_items(days[0], "twitter") == demo_items(days[0], "twitter")
    result = DemoSource().fetch_posts("twitter", days)
    assert result.quarantined and all(q.reason for q in result.quarantined)
    frame, outside = posts_frame(result.posts, pd.Timestamp.now(tz="UTC").to_pydatetime(), days)
    assert outside == 0 and set(frame["provider"]) == {"demo"}
    classified = classify_posts(frame, linker, LexiconSentiment())
    assert set(classified["language"]) >= {"en", "ms", "mixed"}
    assert 0.01 < classified["is_spam"].mean() < 0.2
    assert classified["place_id"].notna().mean() > 0.9
    likes = frame["like_count"].astype(float)
    assert likes.max() > 10 * likes.median()  # long-tailed engagement


def test_demo_engagement_stays_within_what_a_kedah_tourism_post_reaches():
    """Over 200 days of every platform the uncapped tail reaches tens of thousands of likes."""
    days = [date(2026, 6, 1) + timedelta(days=d) for d in range(200)]
    metrics = [i["metrics"] for p in PLATFORMS for d in days for i in demo_items(d, p) if "metrics" in i]
    assert max(m["likes"] for m in metrics) == MAX_LIKES
    assert max(m["views"] or 0 for m in metrics) <= MAX_VIEWS


def test_place_daily_metrics_leave_spam_out_and_add_up(linker, places):
    frame, _ = posts_frame(DemoSource().fetch_posts("youtube", [date(2026, 11, 20)]).posts,
                           pd.Timestamp.now(tz="UTC").to_pydatetime(), [date(2026, 11, 20)])  # fmt: skip
    classified = classify_posts(frame, linker, LexiconSentiment())
    daily = place_daily_metrics(classified, places)
    ham = classified[~classified["is_spam"] & classified["place_id"].notna()]
    assert daily["posts"].sum() == len(ham)
    assert (daily["positive"] + daily["neutral"] + daily["negative"] == daily["posts"]).all()
    assert daily["likes"].sum() == ham["like_count"].fillna(0).sum()


def test_demo_posts_are_never_in_the_future():
    from datetime import UTC, datetime

    day = date(2026, 11, 20)
    noon_in_kedah = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in Kedah
    partial = DemoSource(clock=lambda: noon_in_kedah).fetch_posts("twitter", [day])
    whole = DemoSource(clock=lambda: datetime(2026, 11, 21, 0, tzinfo=UTC)).fetch_posts("twitter", [day])
    assert partial.posts and all(p.created_at <= noon_in_kedah for p in partial.posts)
    assert len(partial.posts) < len(whole.posts)
    # The posts already made are the same ones later: a day fills up, it is not re-invented.
    assert {p.post_id for p in partial.posts} <= {p.post_id for p in whole.posts}


def test_a_withheld_post_is_kept_for_its_counts_but_out_of_sentiment_and_text_metrics():
    raw = pd.DataFrame(
        {
            "platform": "twitter", "post_id": ["1", "2"], "date": pd.Timestamp("2026-11-20").date(),
            "created_at": pd.Timestamp("2026-11-20T03:00Z"), "text": ["Pantai Cenang cantik!", ""],
            "author_id": ["a", "b"], "hashtags": [["Langkawi"], ["Langkawi"]], "like_count": [1, 9],
            "comment_count": [0, 2], "share_count": [0, 1], "view_count": [10, 50], "provider": "x_api_v2",
            "author_followers": [None, None], "is_withheld": [False, True],
        }
    )  # fmt: skip
    out = classify_posts(raw, PlaceLinker(load_places()), LexiconSentiment()).set_index("post_id")
    assert out.loc["1", "place_id"] is not None and out.loc["1", "classifier"] != "withheld"
    withheld = out.loc["2"]
    assert withheld["classifier"] == "withheld" and withheld["sentiment_confidence"] == 0
    assert (
        pd.isna(withheld["place_id"]) and list(withheld["keywords"]) == [] and list(withheld["topics"]) == []
    )
    assert withheld["engagement"] == 12  # its counts stand
    daily = place_daily_metrics(out.reset_index(), load_places())
    assert daily["posts"].sum() == 1  # only the readable post reaches the place metrics
