from datetime import date

import pandas as pd
import pytest

from kedah_analytics.places import load_places
from kedah_analytics.trends.counts import (
    DAILY_COLUMNS,
    HOURLY_COLUMNS,
    TERM_TYPES,
    aliases_of,
    daily_term_counts,
    hourly_term_counts,
    normalize_term,
    trend_series_daily,
    trend_series_hourly,
)

NO_PLACES: dict[str, str] = {}  # these tests leave keywords that name places alone


def _posts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "platform": ["twitter", "twitter", "instagram", "twitter", "twitter"],
            "post_id": ["1", "2", "3", "4", "1"],
            "created_at": pd.to_datetime(
                [
                    "2026-11-19T16:30:00Z",  # 00:30 on 20 Nov in Kedah
                    "2026-11-19T15:59:00Z",  # 23:59 on 19 Nov in Kedah
                    "2026-11-19T17:10:00Z",
                    "2026-11-19T17:00:00Z",
                    "2026-11-19T16:30:00Z",  # post 1 again, with later counts
                ]
            ),
            "keywords": [
                ["Langkawi", "#Langkawi", "langkawi"],
                ["langkawi"],
                ["＃VisitKedah", "Pantai  Cenang"],
                ["langkawi"],
                ["Langkawi", "#Langkawi"],
            ],
            "topics": [["beach"], [], None, ["beach"], ["beach"]],
            "place_id": ["pantai-cenang", None, "pantai-cenang", None, "pantai-cenang"],
            "like_count": [10, None, 5, 100, 12],
            "comment_count": [1, 2, None, 100, 1],
            "share_count": [0, 1, 1, 100, 0],
            "view_count": [None, 40, None, None, 7],
            "is_spam": [False, False, False, True, False],
        }
    )


def _row(frame: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    assert mask.sum() == 1, (where, frame)
    return frame[mask].iloc[0]


def test_daily_counts_use_kedah_days_exclude_spam_and_count_a_post_once_per_term():
    daily = daily_term_counts(_posts(), NO_PLACES)
    assert tuple(daily.columns) == DAILY_COLUMNS
    # The spam post (id 4, with 300 engagement) is nowhere.
    assert daily["engagement"].max() < 100
    late = _row(daily, day=date(2026, 11, 19), term="langkawi", term_type="keyword")
    assert late["posts"] == 1 and late["engagement"] == 3  # likes missing: not guessed
    next_day = _row(daily, day=date(2026, 11, 20), platform="twitter", term="langkawi")
    # Post 1 lists langkawi three times and appears twice: one post, with its last counts.
    assert next_day["posts"] == 1
    assert next_day["likes"] == 12 and next_day["engagement"] == 13 and next_day["views"] == 7
    assert _row(daily, term="#langkawi")["term_type"] == "hashtag"
    assert _row(daily, term="#visitkedah")["term_type"] == "hashtag"  # full-width ＃ folded
    assert _row(daily, term="pantai cenang")["term_type"] == "keyword"
    assert _row(daily, term="beach")["posts"] == 1  # only the non-spam post
    places = daily[daily["term_type"] == "place"]
    assert places["posts"].sum() == 2 and set(places["platform"]) == {"twitter", "instagram"}


def test_hourly_counts_are_kedah_hours():
    hourly = hourly_term_counts(_posts(), NO_PLACES)
    assert tuple(hourly.columns) == HOURLY_COLUMNS
    assert str(hourly["hour"].dt.tz) == "Asia/Kuala_Lumpur"
    row = _row(hourly, platform="twitter", term="langkawi", day=date(2026, 11, 20))
    assert row["hour"] == pd.Timestamp("2026-11-20 00:00", tz="Asia/Kuala_Lumpur")
    # Daily totals are the sum of the hours.
    daily = daily_term_counts(_posts(), NO_PLACES)
    assert daily["posts"].sum() == hourly["posts"].sum()


def test_series_helpers_feed_the_detector_and_the_forecaster():
    hourly = hourly_term_counts(_posts(), NO_PLACES)
    series = trend_series_hourly(hourly, term_types=TERM_TYPES)
    assert list(series.columns) == ["term", "timestamp", "count"]
    assert {"topic:beach", "place:pantai-cenang", "#langkawi", "langkawi"} <= set(series["term"])
    daily = trend_series_daily(daily_term_counts(_posts(), NO_PLACES))
    assert list(daily.columns) == ["term", "date", "platform", "count"]
    assert set(daily["term"]) == {"#langkawi", "#visitkedah", "langkawi", "pantai cenang"}


def test_naive_timestamps_and_empty_input():
    posts = _posts()
    posts["created_at"] = posts["created_at"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="timezone-aware"):
        hourly_term_counts(posts, NO_PLACES)
    only_spam = _posts().assign(is_spam=True)
    assert daily_term_counts(only_spam, NO_PLACES).empty
    assert tuple(daily_term_counts(only_spam, NO_PLACES).columns) == DAILY_COLUMNS


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        (" Alor  Setar ", "alor setar"),
        ("#Sg. Petani", "#sg.petani"),
        ("#", ""),
        (None, ""),
        ("ＬＡＮＧＫＡＷＩ", "langkawi"),
    ],
)
def test_normalize_term(raw, folded):
    assert normalize_term(raw) == folded


def test_a_keyword_that_names_a_place_is_that_place_once_per_post():
    aliases = aliases_of(load_places())
    assert (
        aliases["darulaman lake park"] == "darulaman_lake" and aliases["tasik darulaman"] == "darulaman_lake"
    )
    posts = pd.DataFrame(
        {
            "platform": ["twitter", "twitter", "instagram"],
            "post_id": ["1", "2", "3"],
            "created_at": pd.to_datetime(["2026-11-20T02:00:00Z"] * 3),
            # What the classifier writes: the place's name among the keywords, its id as place_id.
            "keywords": [["Darulaman Lake Park", "#jitra"], ["tasik darulaman"], ["darulaman lake park"]],
            "topics": [[], [], []],
            "place_id": ["darulaman_lake", None, "darulaman_lake"],
        }
    )
    daily = daily_term_counts(posts, aliases)
    assert "darulaman lake park" not in set(daily["term"]) and "tasik darulaman" not in set(daily["term"])
    place = daily[daily["term"] == "darulaman_lake"]
    assert set(place["term_type"]) == {"place"} and place["posts"].sum() == 3  # each post once
    series = trend_series_daily(daily, term_types=TERM_TYPES)
    assert set(series["term"]) == {"place:darulaman_lake", "#jitra"}
