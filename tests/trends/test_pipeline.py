from datetime import date

import pandas as pd

from kedah_analytics.places import load_places
from kedah_analytics.trends.pipeline import bursts_on, search_interest_terms


def test_search_interest_goes_by_the_trend_series_names():
    rows = pd.DataFrame(
        {
            "date": [date(2026, 11, 1)] * 3,
            "keyword": ["Darulaman Lake Park", "Tasik Darulaman", "nasi lemak"],
            "geo": ["MY-02"] * 3,
            "interest": [40, 60, 7],
        }
    )
    out = search_interest_terms(rows, load_places())
    assert out is not None
    # Two spellings of one place are one term (their mean); other keywords keep their name.
    assert dict(zip(out["term"], out["interest"], strict=True)) == {
        "place:darulaman_lake": 50.0,
        "nasi lemak": 7.0,
    }
    assert search_interest_terms(rows.iloc[:0], load_places()) is None


def test_burst_scores_of_a_day_state_why_they_are_missing():
    hours = pd.date_range("2026-11-01", periods=24 * 5, freq="h", tz="Asia/Kuala_Lumpur")
    hourly = pd.DataFrame(
        {
            "date": hours.date,
            "hour": hours,
            "platform": "twitter",
            "term": "langkawi",
            "term_type": "keyword",
            "posts": 3,
            "engagement": 0,
        }
    )
    early = bursts_on(date(2026, 11, 2), hourly)  # the day is within the first 72 hours
    assert early["burst_score"].isna().all() and early["burst_score_reason"].str.contains("72 hours").all()
    late = bursts_on(date(2026, 11, 5), hourly)
    assert late["burst_score"].notna().all() and late["burst_score_reason"].isna().all()
    assert bursts_on(date(2026, 11, 9), hourly).empty  # no posts that day: no row, the caller says so
