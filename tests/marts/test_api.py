"""The HTTP API through its ASGI app on the real PostgreSQL with the seeded demo marts (2026-11-13
to 2026-11-22, X and Instagram), its clock fixed on the Monday after."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from kedah_analytics import queries
from kedah_analytics.api.app import create_app
from kedah_analytics.api.server import check_bind, cors_origins
from kedah_analytics.domain import KEDAH_TZ
from kedah_analytics.marts.periods import Period

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=KEDAH_TZ)
COVERED = "2026-11-18..2026-11-22"  # its 5 days before (13-17) are all in the marts
SEEDS_OVERVIEW = {"total_posts", "total_likes", "total_comments", "platforms", "sentiment", "daily"}


@pytest.fixture(scope="module")
def client(demo_warehouse: str) -> Iterator[TestClient]:
    with TestClient(create_app(demo_warehouse, clock=lambda: MONDAY)) as test_client:
        yield test_client


def get(client: TestClient, path: str, **params: object) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_overview_speaks_the_seeds_fields_for_a_slug_and_period_month(client, demo_warehouse):
    body = get(client, "/api/analytics/overview-metrics/", city="langkawi", period="month")
    assert SEEDS_OVERVIEW <= set(body) and body["city"] == "Langkawi" and body["data"] == "demo"
    assert body["period"]["first_day"] == "2026-10-24" and body["period"]["last_day"] == "2026-11-22"
    assert set(body["platforms"][0]) >= {"platform", "posts", "likes"}
    assert set(body["sentiment"]) >= {"positive", "neutral", "negative", "positive_pct"}
    with queries.connect(demo_warehouse) as conn:
        direct = queries.city_overview(conn, "Langkawi", Period.parse("month", MONDAY), include_demo="only")
    figures = direct.set_index("metric")["current"]
    assert body["total_posts"] == figures["posts"] > 0 and body["total_likes"] == figures["likes"]
    assert sum(day["posts"] for day in body["daily"]) == body["total_posts"]
    assert (
        body["sentiment"]["positive"] + body["sentiment"]["neutral"] + body["sentiment"]["negative"]
        == (body["total_posts"])
    )
    # The 30 days before are not in the marts: no change, and the answer says why.
    assert body["change_pct"]["total_posts"] is None
    assert "none of the 30 days before" in body["change_note"]


def test_changes_compare_with_as_many_days_before_when_they_are_stored(client):
    body = get(client, "/api/analytics/overview-metrics/", city="All Kedah", period=COVERED)
    assert body["period"]["compared_with"] == {"first_day": "2026-11-13", "last_day": "2026-11-17", "days": 5}
    before = body["previous"]["total_posts"]
    assert before > 0 and body["change_note"] is None
    assert body["change_pct"]["total_posts"] == pytest.approx(
        (body["total_posts"] - before) / before * 100, abs=0.01
    )
    assert sum(day["posts"] for day in body["previous_daily"]) == before


@pytest.mark.parametrize(
    ("spellings", "city"),
    [
        (("langkawi", "LANGKAWI", "Pulau Langkawi"), "Langkawi"),
        (("alor-setar", "Alor Star", "alor_setar", "Bandaraya Alor Setar"), "Alor Setar"),
        (("sungai-petani", "Sg. Petani"), "Sungai Petani"),
        (("", "all-kedah", "kedah"), "All Kedah"),
    ],
)
def test_a_city_is_the_same_city_in_any_spelling(client, spellings, city):
    answers = [get(client, "/api/analytics/overview-metrics/", city=s, period=COVERED) for s in spellings]
    assert {a["city"] for a in answers} == {city}
    assert len({a["total_posts"] for a in answers}) == 1


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/analytics/overview-metrics/", {"city": "Nowhere"}, "city"),
        ("/api/analytics/overview-metrics/", {"city": "'; DROP TABLE kedah.places; --"}, "city"),
        ("/api/analytics/overview-metrics/", {"city": "x" * 1000}, "city"),
        ("/api/analytics/overview-metrics/", {"period": "fortnight"}, "period"),
        ("/api/analytics/overview-metrics/", {"period": "2026-12"}, "period"),  # not begun on the clock
        ("/api/analytics/overview-metrics/", {"period": "this-week"}, "period"),  # Monday: no complete day
        ("/api/analytics/overview-metrics/", {"platform": "myspace"}, "platform"),
        ("/api/analytics/overview-metrics/", {"data": "fake"}, "data"),
        ("/api/analytics/places/popular/", {"by": "likes;--"}, "by"),
        ("/api/analytics/places/popular/", {"limit": "0"}, "limit"),
        ("/api/analytics/places/popular/", {"limit": "1e9"}, "limit"),
        ("/predictions", {"date": "2026-13-45"}, "date"),
    ],
)
def test_bad_parameters_are_a_422_naming_the_parameter(client, demo_warehouse, path, params, parameter):
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(item["loc"][-1] == parameter for item in detail)
    if parameter == "city" and "Nowhere" in params.get("city", ""):
        assert "alor-setar" in detail[0]["msg"] and "Alor Setar" in detail[0]["allowed"]
    with psycopg.connect(demo_warehouse) as conn:  # hostile values reached no SQL
        assert conn.execute("SELECT count(*) FROM kedah.places").fetchone()[0] > 0


def test_popular_places_have_coordinates_trend_and_share_of_voice(client):
    body = get(client, "/api/analytics/places/popular/", city="langkawi", period=COVERED, limit=3)
    places = body["places"]
    assert 0 < len(places) <= 3 and {p["city"] for p in places} == {"Langkawi"}
    assert set(places[0]) >= {"name", "city", "category", "lat", "lon", "posts", "engagement", "trending",
                              "sentiment", "share_of_voice"}  # fmt: skip
    assert [p["engagement"] for p in places] == sorted((p["engagement"] for p in places), reverse=True)
    assert all(5.0 < p["lat"] < 6.8 and 99.5 < p["lon"] < 101.2 for p in places)
    by_posts = get(client, "/api/analytics/places/popular/", city="langkawi", period=COVERED, by="posts")
    assert [p["posts"] for p in by_posts["places"]] == sorted(
        (p["posts"] for p in by_posts["places"]), reverse=True
    )


def test_sentiment_summary_and_geojson_and_alerts(client):
    summary = get(client, "/api/analytics/sentiment/summary/", city="sungai-petani", period=COVERED)
    dist = summary["distribution"]
    assert dist["positive"] + dist["neutral"] + dist["negative"] == dist["total"]
    assert sum(c["posts"] for c in summary["by_category"]) == dist["total"]
    geo = get(client, "/api/places.geojson", period=COVERED)
    assert geo["type"] == "FeatureCollection" and geo["features"]
    assert geo["features"][0]["geometry"]["type"] == "Point"
    alerts = get(client, "/api/alerts", period="2026-11-13..2026-11-22")
    assert alerts["period"]["days"] == 10 and isinstance(alerts["alerts"], list)


def test_status_endpoints(client):
    health = get(client, "/health")
    assert health["database"] == "reachable" and health["marts"]["latest_day"] == "2026-11-22"
    platforms = {p["platform"]: p for p in get(client, "/collection/status")["platforms"]}
    assert platforms["twitter"]["data"] == "demo" and platforms["twitter"]["posts"] > 0
    assert platforms["facebook"]["data"] == "none" and platforms["facebook"]["last_fetched_at"] is None
    assert get(client, "/training/status") == {"training": None}  # no weekly training in this warehouse
    assert get(client, "/predictions")["predictions"] == []
    assert get(client, "/predictions/top", limit=5)["predictions"] == []
    assert (
        client.get("/docs").status_code == 200
        and "/api/alerts" in client.get("/openapi.json").json()["paths"]
    )


@pytest.fixture
def own_accounts(demo_warehouse: str) -> Iterator[None]:
    rows = []
    for offset in range(14):
        day = date(2026, 11, 9) + timedelta(days=offset)
        lift = 2 if day >= date(2026, 11, 16) else 1
        rows += [(day, "instagram", "ig1", "reach", 100.0 * lift), (day, "instagram", "ig1", "views", 300.0 * lift),
                 (day, "youtube", "yt1", "estimatedMinutesWatched", 50.0), (day, "youtube", "yt1", "likes", 4.0),
                 (day, "youtube", "yt1", "comments", 1.0)]  # fmt: skip
    with psycopg.connect(demo_warehouse, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO kedah.account_daily_metrics (date, platform, account_id, metric, value, provider,
                   fetched_at) VALUES (%s, %s, %s, %s, %s, 'demo', now())""",
                rows,
            )
        yield
        conn.execute("DELETE FROM kedah.account_daily_metrics WHERE account_id IN ('ig1', 'yt1')")


def test_own_accounts_with_their_change(client, own_accounts):
    body = get(client, "/api/accounts/metrics", period="week", platform="instagram")
    assert body["period"]["first_day"] == "2026-11-16"
    (account,) = body["accounts"]
    assert (
        account["reach"] == 1400 and account["reach_previous"] == 700 and account["reach_change_pct"] == 100
    )
    assert account["views"] == 4200 and len(body["daily"]) == 7
    both = {a["account_id"]: a for a in get(client, "/api/accounts/metrics", period="week")["accounts"]}
    assert both["yt1"]["watch_minutes"] == 350 and both["yt1"]["engagement"] == 35
    assert both["yt1"]["reach"] is None  # YouTube Analytics reports no reach


def test_an_unchanged_reload_is_a_304_and_a_mart_write_changes_the_etag(client, demo_warehouse):
    path = "/api/analytics/overview-metrics/?city=langkawi&period=month"
    first = client.get(path)
    tag = first.headers["etag"]
    assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert client.get(path.replace("langkawi", "kulim"), headers={"If-None-Match": tag}).status_code == 200
    with psycopg.connect(demo_warehouse, autocommit=True) as conn:
        conn.execute("UPDATE kedah.city_daily_overview SET posts = posts WHERE date = '2026-11-20'")
    # The API keeps the version in memory and hears of the write by NOTIFY at its commit: a moment.
    deadline = time.monotonic() + 5
    while (after := client.get(path, headers={"If-None-Match": tag})).status_code == 304:
        assert time.monotonic() < deadline, "the write's NOTIFY never reached the API"
        time.sleep(0.05)
    assert after.status_code == 200 and after.headers["etag"] != tag


def test_a_token_guards_everything_but_health(demo_warehouse):
    with TestClient(create_app(demo_warehouse, token="s3cret", clock=lambda: MONDAY)) as guarded:
        path = "/api/analytics/overview-metrics/"
        assert guarded.get(path).status_code == 401
        assert guarded.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert guarded.get(path, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert guarded.get("/health").status_code == 200
        assert "s3cret" not in guarded.get(path).text


def test_binding_beyond_this_machine_needs_the_token():
    for host in ("127.0.0.1", "localhost", "::1"):
        check_bind(host, None)
    with pytest.raises(ValueError, match="KEDAH_API_TOKEN"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", "s3cret")


def test_cors_origins_come_from_the_setting(demo_warehouse):
    origins = cors_origins(" https://visitkedah.example , ")
    assert origins == ("https://visitkedah.example",)
    with TestClient(create_app(demo_warehouse, cors_origins=origins, clock=lambda: MONDAY)) as api:
        allowed = api.get("/health", headers={"Origin": "https://visitkedah.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://visitkedah.example"
        other = api.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
