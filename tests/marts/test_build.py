"""The marts as plain functions: totals add up, changes are measured against the right days,
demo figures stay apart, spam never reaches the top posts."""

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from kedah_analytics.marts import build
from kedah_analytics.marts.periods import Period

DAY = date(2026, 11, 20)
PLACES = pd.DataFrame(
    {
        "place_id": ["cenang", "kuah", "zahir"],
        "name": ["Pantai Cenang", "Kuah", "Masjid Zahir"],
        "city": ["Langkawi", "Langkawi", "Alor Setar"],
        "category": ["beach", "town", "culture"],
        "aliases_en": [["Cenang"], ["Kuah Jetty"], ["Zahir Mosque"]],
        "aliases_ms": [[], ["Jeti Kuah"], []],
    }
)


def metric(
    day, place, platform, provider="x_api_v2", posts=10, engagement=100, pos=6, neu=2, neg=2, mean=0.3
):
    city = PLACES.set_index("place_id").loc[place, "city"]
    return {
        "date": day, "place_id": place, "place_name": place, "city": city, "platform": platform,
        "provider": provider, "posts": posts, "spam_posts": 0, "likes": engagement, "comments": 0, "shares": 0,
        "views": 0, "positive": pos, "neutral": neu, "negative": neg, "sentiment_mean": mean,
        "engagement": engagement,
    }  # fmt: skip


def test_city_overview_adds_platforms_and_cities_and_weights_sentiment_by_posts():
    metrics = pd.DataFrame(
        [
            metric(DAY, "cenang", "twitter", posts=10, engagement=100, pos=8, neu=1, neg=1, mean=0.5),
            metric(DAY, "kuah", "twitter", posts=30, engagement=50, pos=0, neu=10, neg=20, mean=-0.5),
            metric(
                DAY,
                "zahir",
                "instagram",
                provider="graph_api",
                posts=5,
                engagement=5,
                pos=5,
                neu=0,
                neg=0,
                mean=0.9,
            ),
        ]
    )
    out = build.city_daily_overview(metrics).set_index(["city", "platform", "provider"])
    langkawi = out.loc[("Langkawi", "all", "real")]
    assert langkawi["posts"] == 40 and langkawi["engagement"] == 150
    assert langkawi["sentiment_mean"] == pytest.approx((10 * 0.5 + 30 * -0.5) / 40)
    assert langkawi["negative_share"] == pytest.approx(21 / 40)
    # x_api_v2 and graph_api are both real: one real total for Kedah
    kedah = out.loc[(build.ALL_KEDAH, "all", "real")]
    assert kedah["posts"] == 45 and kedah["positive"] == 13
    assert out.loc[(build.ALL_KEDAH, "twitter", "real")]["posts"] == 40


def test_demo_rows_never_add_to_real_rows():
    metrics = pd.DataFrame(
        [
            metric(DAY, "cenang", "twitter", posts=10),
            metric(DAY, "cenang", "youtube", provider="demo", posts=99),
        ]
    )
    out = build.city_daily_overview(metrics)
    kedah = out[(out["city"] == build.ALL_KEDAH) & (out["platform"] == "all")].set_index("provider")["posts"]
    assert kedah.to_dict() == {"demo": 99, "real": 10}
    categories = build.sentiment_by_category(metrics, PLACES).set_index(["city", "provider"])
    assert categories.loc[("Langkawi", "real"), "posts"] == 10


def test_rankings_measure_the_day_against_the_days_before_it_only():
    rows = [metric(DAY - timedelta(days=d), "cenang", "twitter", posts=2, engagement=10) for d in range(1, 8)]
    rows += [metric(DAY - timedelta(days=d), "kuah", "twitter", posts=1, engagement=40) for d in range(8, 29)]
    rows += [
        metric(DAY, "cenang", "twitter", posts=4, engagement=30, mean=0.1),
        metric(DAY, "kuah", "twitter", posts=4, engagement=20),
        metric(DAY, "zahir", "twitter", posts=2, engagement=20),
        # the day after must not enter the day's figures
        metric(DAY + timedelta(days=1), "cenang", "twitter", posts=500, engagement=5000),
    ]
    out = build.place_rankings(pd.DataFrame(rows), PLACES, [DAY]).set_index("place_id")
    assert out["rank_engagement"].to_dict() == {"cenang": 1, "kuah": 2, "zahir": 3}
    # posts tie (4 and 4) broken by engagement
    assert out["rank_posts"].to_dict() == {"cenang": 1, "kuah": 2, "zahir": 3}
    cenang = out.loc["cenang"]
    assert cenang["engagement_avg_7d"] == pytest.approx(10.0)
    assert cenang["engagement_change_7d"] == pytest.approx(200.0)  # 30 against 10 a day
    assert cenang["engagement_avg_28d"] == pytest.approx(70 / 28, abs=1e-4)
    assert cenang["sentiment_change_28d"] == pytest.approx(0.1 - 0.3)
    kuah = out.loc["kuah"]
    assert kuah["engagement_avg_7d"] == 0 and pd.isna(kuah["engagement_change_7d"])  # nothing before: "new"
    assert kuah["engagement_avg_28d"] == pytest.approx(21 * 40 / 28, abs=1e-4)
    assert pd.isna(out.loc["zahir", "sentiment_mean_28d"])
    assert out["share_of_voice_kedah"].sum() == pytest.approx(1.0)
    assert out.loc["cenang", "share_of_voice_city"] == pytest.approx(0.5)
    assert out.loc["zahir", "share_of_voice_city"] == pytest.approx(1.0)


def test_sentiment_by_category_groups_places_by_their_category():
    metrics = pd.DataFrame(
        [
            metric(DAY, "cenang", "twitter", posts=10, pos=10, neu=0, neg=0, mean=0.8),
            metric(DAY, "zahir", "twitter", posts=10, pos=0, neu=0, neg=10, mean=-0.6),
        ]
    )
    out = build.sentiment_by_category(metrics, PLACES).set_index(["city", "category"])
    assert out.loc[(build.ALL_KEDAH, "beach"), "positive"] == 10
    assert out.loc[("Alor Setar", "culture"), "sentiment_mean"] == pytest.approx(-0.6)
    assert ("Langkawi", "culture") not in out.index


def _classified(post_id, engagement, place="cenang", spam=False, provider="x_api_v2"):
    return {
        "platform": "twitter", "post_id": post_id, "date": DAY, "created_at": datetime(2026, 11, 20, 3, tzinfo=UTC),
        "provider": provider, "language": "en", "sentiment_label": "positive", "sentiment_score": 0.5,
        "place_id": place, "city": "Langkawi", "is_spam": spam, "like_count": engagement, "comment_count": 0,
        "share_count": 0, "view_count": None, "engagement": engagement,
    }  # fmt: skip


def test_top_posts_are_the_most_engaging_non_spam_posts_with_author_and_url():
    classified = pd.DataFrame(
        [_classified(str(i), i * 10) for i in range(1, 9)] + [_classified("spam", 10_000, spam=True)]
        + [_classified("kuah1", 5, place="kuah"), _classified("nowhere", 500, place=None)]
    )  # fmt: skip
    raw = pd.DataFrame(
        {
            "platform": "twitter",
            "post_id": classified["post_id"],
            "author_name": "Aisyah",
            "url": "https://x.com/i/1",
            "text": "Sunset at Cenang " * 30,
        }
    )
    out = build.top_posts(classified, raw, PLACES)
    cenang = out[out["place_id"] == "cenang"]
    assert cenang["post_id"].tolist() == ["8", "7", "6", "5", "4"]
    assert cenang["rank"].tolist() == [1, 2, 3, 4, 5]
    assert "spam" not in set(out["post_id"]) and "nowhere" not in set(out["post_id"])
    assert out.loc[out["post_id"] == "kuah1", "place_name"].item() == "Kuah"
    assert (out["text"].str.len() <= build.TEXT_CHARS).all() and (out["views"] == 0).all()
    assert set(out["provider"]) == {"real"} and out["author_name"].eq("Aisyah").all()
    # The asset reads only the picked posts' raw rows: the same mart.
    picked = raw[raw["post_id"].isin(build.top_post_picks(classified)["post_id"])]
    assert len(picked) == 6
    pd.testing.assert_frame_equal(build.top_posts(classified, picked, PLACES), out)


def test_empty_inputs_give_empty_marts_with_their_columns():
    empty = pd.DataFrame(columns=list(metric(DAY, "cenang", "twitter")))
    assert list(build.city_daily_overview(empty).columns) == build.CITY_OVERVIEW_COLUMNS
    assert list(build.place_rankings(empty, PLACES, [DAY]).columns) == build.PLACE_RANKING_COLUMNS
    assert list(build.sentiment_by_category(empty, PLACES).columns) == build.SENTIMENT_CATEGORY_COLUMNS
    assert list(build.top_posts(pd.DataFrame(), pd.DataFrame(), PLACES).columns) == build.TOP_POST_COLUMNS


def test_periods_parse_weeks_months_ranges_and_know_the_period_before():
    week = Period.parse("2026-W47")
    assert (week.start, week.end, week.days) == (date(2026, 11, 16), date(2026, 11, 22), 7)
    assert (week.previous().start, week.previous().end) == (date(2026, 11, 9), date(2026, 11, 15))
    month = Period.parse("2026-02")
    assert (month.start, month.end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month.previous().days == 28 and month.previous().end == date(2026, 1, 31)
    last = Period.last(30, end=date(2026, 11, 29))
    assert last.start == date(2026, 10, 31) and last.previous().end == date(2026, 10, 30)
    assert Period.parse("2026-11-01..2026-11-15").days == 15
    assert Period.parse("last 7 days").days == 7
    with pytest.raises(ValueError, match="not a period"):
        Period.parse("next tuesday")
    with pytest.raises(ValueError, match="no week 54"):
        Period.week("2026-W54")


def test_pct_change_is_nan_where_there_was_nothing_before():
    assert build.pct_change(3200, 2844.44) == pytest.approx(12.5, abs=0.01)
    assert pd.isna(build.pct_change(5, 0))
    series = build.pct_change(pd.Series([1.0, 2.0]), pd.Series([0.0, 1.0]))
    assert pd.isna(series[0]) and series[1] == 100.0


def test_a_change_counts_only_days_the_warehouse_covers():
    """Three stored days before: the 7-day mean is over those three, and the change is NULL with
    its reason rather than a rise inflated by four uncollected days read as zeros."""
    rows = [metric(DAY - timedelta(days=d), "cenang", "twitter", posts=2, engagement=10) for d in (1, 2, 3)]
    rows += [metric(DAY, "cenang", "twitter", posts=4, engagement=30)]
    cenang = build.place_rankings(pd.DataFrame(rows), PLACES, [DAY]).set_index("place_id").loc["cenang"]
    assert cenang["engagement_avg_7d"] == pytest.approx(10.0)  # 30 over 3 covered days, not over 7
    assert pd.isna(cenang["engagement_change_7d"]) and pd.isna(cenang["posts_change_28d"])
    assert cenang["change_7d_reason"] == "only 3 of the 7 days before are in the warehouse"
    assert cenang["change_28d_reason"] == "only 3 of the 28 days before are in the warehouse"
    # a covered day on which the place had no posts still counts, as 0
    rows += [metric(DAY - timedelta(days=d), "kuah", "twitter", posts=1, engagement=5) for d in range(4, 8)]
    cenang = build.place_rankings(pd.DataFrame(rows), PLACES, [DAY]).set_index("place_id").loc["cenang"]
    assert cenang["engagement_avg_7d"] == pytest.approx(30 / 7, abs=1e-4)
    assert cenang["engagement_change_7d"] == pytest.approx((30 - 30 / 7) / (30 / 7) * 100, abs=0.01)
    assert cenang["change_7d_reason"] is None


def test_a_city_level_place_is_ranked_with_the_cities_not_among_the_places():
    places = pd.concat(
        [PLACES, pd.DataFrame({"place_id": ["langkawi"], "name": ["Langkawi"], "city": ["Langkawi"],
                               "category": ["city"], "aliases_en": [["Langkawi"]], "aliases_ms": [[]]})],
        ignore_index=True,
    )  # fmt: skip
    rows = [metric(DAY, "cenang", "twitter", posts=3), metric(DAY, "kuah", "twitter", posts=1)]
    rows.append({**metric(DAY, "kuah", "twitter", posts=20, engagement=900), "place_id": "langkawi"})
    rankings = build.place_rankings(pd.DataFrame(rows), places, [DAY])
    assert set(rankings["place_id"]) == {"cenang", "kuah"}
    assert rankings.set_index("place_id").loc["cenang", "share_of_voice_kedah"] == 0.75
    overview = build.city_daily_overview(pd.DataFrame(rows)).set_index(["city", "platform", "provider"])
    assert overview.loc[("Langkawi", "all", "real"), "posts"] == 24  # the island's posts count for its city
