"""The predictions' log says what serves on a day and why: the week's training that chose it, or
why seasonal-naive serves (no week had ended before the day)."""

from datetime import date

from kedah_analytics.trends.store import serving_note

WEEK = date(2026, 11, 16)  # a Monday


def test_the_note_names_what_was_trained_what_serves_and_why(conn):
    conn.execute("DELETE FROM kedah.trend_model")
    try:
        conn.execute(
            """INSERT INTO kedah.trend_model VALUES (%s, %s, %s, 'gbm-2026-11-16', false, 'seasonal-naive-1',
                   'seasonal_naive', 'MASE 1.08 does not beat seasonal-naive', '{}', '', '')""",
            (WEEK, date(2026, 10, 19), date(2026, 11, 22)),
        )
        during = serving_note(conn, date(2026, 11, 20))
        assert "seasonal-naive serves" in during and "no model was trained on a week that ended" in during
        assert "serves from 2026-11-23" in during
        after = serving_note(conn, date(2026, 11, 24))
        assert after.startswith("2026-11-24: seasonal_naive seasonal-naive-1 serves")
        assert "candidate gbm-2026-11-16 not promoted: MASE 1.08 does not beat seasonal-naive" in after
    finally:
        conn.execute("DELETE FROM kedah.trend_model")
