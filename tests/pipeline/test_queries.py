"""The notebook queries against a real warehouse: demo rows are out unless asked for."""

from datetime import UTC, date, datetime

import psycopg

from kedah_analytics import queries


def test_queries_leave_demo_rows_out_unless_asked(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for provider in ("demo", "x_api_v2"):
            conn.execute(
                """INSERT INTO kedah.place_daily_metrics VALUES (%s, 'kuah', 'Kuah', 'Langkawi', %s, %s,
                   3, 0, 1, 1, 1, 10, 1, 1, 1, 0.1, 3)""",
                (date(2026, 11, 20), "twitter" if provider != "demo" else "youtube", provider),
            )
        conn.execute(
            """INSERT INTO kedah.raw_posts (platform, post_id, date, created_at, text, provider, first_seen_at,
               fetched_at, payload) VALUES ('twitter', '1', '2026-11-20', %s, 'Kuah jetty', 'x_api_v2', now(),
               now(), '{}')""",
            (datetime(2026, 11, 20, 3, tzinfo=UTC),),
        )
    with queries.connect(warehouse_url) as conn:
        real = queries.place_daily_metrics(conn, date(2026, 11, 1), date(2026, 11, 30))
        everything = queries.place_daily_metrics(
            conn, date(2026, 11, 1), date(2026, 11, 30), include_demo=True
        )
        posts = queries.posts(conn, date(2026, 11, 20), date(2026, 11, 20))
    assert real["provider"].tolist() == ["x_api_v2"]
    assert sorted(everything["provider"]) == ["demo", "x_api_v2"]
    assert posts["text"].tolist() == ["Kuah jetty"]
