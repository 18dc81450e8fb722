"""Google Trends through the real pytrends TrendReq, its HTTP answered from recorded-shape payloads.

pytrends opens a fresh ``requests`` session for every call (``requests.session()`` in
``TrendReq._get_data``, ``requests.get`` for the cookie), so the hook is the ``requests`` name inside
``pytrends.request``: it is replaced by a shim whose sessions carry the fixture transport. Everything
else, the anti-XSSI prefix trimming, JSON parsing, 429 handling and DataFrame building, is pytrends'.
"""

from __future__ import annotations

import types
from datetime import date, timedelta

import pytest
import pytrends.request
import requests

from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.sources.common.base import BadRequest, RateLimited, SourceError
from kedah_analytics.sources.common.retry import DEFAULT_TIMEOUT
from kedah_analytics.sources.google_trends.client import GoogleTrendsSource, InMemoryTrendsCache, Pacer

COOKIE = "/trends/explore/"
EXPLORE = "/trends/api/explore"
MULTILINE = "/trends/api/widgetdata/multiline"
GROUP = ["Langkawi", "Alor Setar", "Sungai Petani", "Kulim", "Jitra"]
JSON = "application/json; charset=utf-8"


@pytest.fixture
def trends_http(monkeypatch, adapter):
    def session() -> requests.Session:
        s = requests.Session()
        s.mount("https://", adapter)
        return s

    def get(url, **kwargs):
        with session() as s:
            return s.get(url, **kwargs)

    shim = types.SimpleNamespace(session=session, get=get, exceptions=requests.exceptions)
    monkeypatch.setattr(pytrends.request, "requests", shim)
    return adapter


def add_cookie(adapter, reply) -> None:
    adapter.add(
        COOKIE,
        reply.text("google_trends/explore_page.html", "text/html; charset=UTF-8", cookies={"NID": "525=abc"}),
    )


def add_group(adapter, reply, multiline="google_trends/multiline_kedah_group1.txt") -> None:
    adapter.add(EXPLORE, reply.text("google_trends/explore_kedah_group1.txt", JSON))
    adapter.add(MULTILINE, reply.text(multiline, JSON))


def make_source(clock, sleep, **kwargs) -> GoogleTrendsSource:
    tracking = TrackingConfig.model_validate(
        {"google_trends": {"keyword_groups": [GROUP], "min_interval_seconds": 60}}
    )
    pacer = Pacer(60, monotonic=clock.monotonic, sleep=sleep)
    return GoogleTrendsSource(tracking, pacer=pacer, clock=clock, sleep=sleep, **kwargs)


def test_interest_over_time_becomes_daily_rows(trends_http, reply, clock, sleep) -> None:
    add_cookie(trends_http, reply)
    add_group(trends_http, reply)
    source = make_source(clock, sleep)
    assert trends_http.seen == []  # TrendReq is built lazily: no cookie request yet

    result = source.fetch_interest(date(2026, 11, 14), date(2026, 11, 20))

    assert len(result.rows) == 35
    by_key = {(r.date, r.keyword): r for r in result.rows}
    assert by_key[(date(2026, 11, 16), "Langkawi")].interest == 100
    assert by_key[(date(2026, 11, 14), "Jitra")].interest == 7
    assert by_key[(date(2026, 11, 20), "Kulim")].is_partial is True
    assert by_key[(date(2026, 11, 19), "Kulim")].is_partial is False
    row = result.rows[0]
    assert (
        row.geo == "MY-02" and row.timeframe == "2026-11-14 2026-11-20" and row.keyword_group == tuple(GROUP)
    )
    assert row.provider == "google_trends_pytrends"

    cookie, explore, multiline = trends_http.seen
    assert cookie.path == COOKIE and explore.method == "POST" and multiline.method == "GET"
    assert all(s.timeout == DEFAULT_TIMEOUT for s in trends_http.seen)
    assert '"geo": "MY-02"' in explore.params["req"] and explore.params["tz"] == "-480"
    assert explore.params["hl"] == "en-US"
    assert multiline.params["token"] == "APP6_UEAAAAAZ0tXq3m0bIYLkFixtureTimeseriesToken"
    assert explore.headers.get("Cookie") == "NID=525=abc"
    assert result.telemetry.api_calls == 3


def test_results_are_cached_by_keywords_timeframe_and_geo(trends_http, reply, clock, sleep) -> None:
    add_cookie(trends_http, reply)
    add_group(trends_http, reply)
    source = make_source(clock, sleep, cache=InMemoryTrendsCache(timedelta(hours=6)))
    source.fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    again = source.fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    assert len(again.rows) == 35 and again.telemetry.cache_hits == 1 and again.telemetry.api_calls == 0
    assert len(trends_http.seen) == 3


def test_requests_are_paced(trends_http, reply, clock, sleep) -> None:
    add_cookie(trends_http, reply)
    add_group(trends_http, reply)
    add_group(trends_http, reply)
    source = make_source(clock, sleep)
    source.fetch_group(GROUP, "2026-11-14 2026-11-20")
    clock.now += timedelta(seconds=15)
    source.fetch_group(GROUP[:4] + ["Kedah"], "2026-11-14 2026-11-20")
    assert sleep.waits == [45.0]


def test_429_backs_off_then_succeeds(trends_http, reply, clock, sleep) -> None:
    add_cookie(trends_http, reply)
    trends_http.add(EXPLORE, reply(429, b"<html>Too Many Requests</html>", {"Content-Type": "text/html"}))
    add_group(trends_http, reply)
    result = make_source(clock, sleep).fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    assert len(result.rows) == 35
    assert result.telemetry.rate_limit_waits == 1 and sleep.waits[0] == 60.0


def test_429_until_the_retries_run_out_is_rate_limited(trends_http, reply, clock, sleep) -> None:
    add_cookie(trends_http, reply)
    for _ in range(4):
        trends_http.add(EXPLORE, reply(429, b"<html>Too Many Requests</html>", {"Content-Type": "text/html"}))
    with pytest.raises(RateLimited, match="Google Trends") as err:
        make_source(clock, sleep).fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    # Minutes, not seconds, doubling, each wait capped; then an hour's deferral (TRENDS_DEFER).
    assert sleep.waits == [60.0, 120.0, 240.0]
    assert err.value.reset_at == clock() + timedelta(hours=1)


def test_429_backoff_is_capped(trends_http, reply, clock, sleep) -> None:
    add_cookie(trends_http, reply)
    for _ in range(4):
        trends_http.add(EXPLORE, reply(429, b"<html>Too Many Requests</html>", {"Content-Type": "text/html"}))
    tracking = TrackingConfig.model_validate(
        {"google_trends": {"keyword_groups": [GROUP], "min_interval_seconds": 200}}
    )
    source = GoogleTrendsSource(
        tracking, clock=clock, sleep=sleep, pacer=Pacer(0, monotonic=clock.monotonic, sleep=sleep)
    )
    with pytest.raises(RateLimited):
        source.fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    assert sleep.waits == [200.0, 300.0, 300.0]


def test_no_data_gives_no_rows_and_a_note(trends_http, reply, clock, sleep) -> None:
    add_cookie(trends_http, reply)
    add_group(trends_http, reply, multiline="google_trends/multiline_empty.txt")
    result = make_source(clock, sleep).fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    assert result.rows == [] and "no data" in result.telemetry.notes[-1]


def test_keyword_groups_and_ranges_are_validated(clock, sleep) -> None:
    source = make_source(clock, sleep)
    with pytest.raises(ValueError, match="1 to 5 keywords"):
        source.fetch_group(GROUP + ["Kedah"], "today 3-m")
    with pytest.raises(ValueError, match="at most 269 days"):
        source.fetch_interest(date(2025, 1, 1), date(2026, 1, 1))
    with pytest.raises(ValueError):
        TrackingConfig.model_validate({"google_trends": {"keyword_groups": [GROUP + ["Kedah"]]}})


def test_hourly_answers_are_refused(trends_http, reply, clock, sleep, load_text) -> None:
    import json

    text = load_text("google_trends/multiline_kedah_group1.txt")
    body = json.loads(text[6:])
    for i, point in enumerate(body["default"]["timelineData"]):
        point["time"] = str(1795132800 + 3600 * i)
    add_cookie(trends_http, reply)
    trends_http.add(EXPLORE, reply.text("google_trends/explore_kedah_group1.txt", JSON))
    trends_http.add(MULTILINE, reply(200, (")]}',\n" + json.dumps(body)).encode(), {"Content-Type": JSON}))
    with pytest.raises(BadRequest, match="sub-daily"):
        make_source(clock, sleep).fetch_group(GROUP, "now 7-d")


def _multiline_with(load_text, change) -> bytes:
    import json

    body = json.loads(load_text("google_trends/multiline_kedah_group1.txt")[6:])
    change(body["default"]["timelineData"])
    return (")]}',\n" + json.dumps(body)).encode()


def make_source_tz(clock, sleep, tz: int) -> GoogleTrendsSource:
    tracking = TrackingConfig.model_validate(
        {"google_trends": {"keyword_groups": [GROUP], "min_interval_seconds": 60, "tz": tz}}
    )
    return GoogleTrendsSource(
        tracking, pacer=Pacer(60, monotonic=clock.monotonic, sleep=sleep), clock=clock, sleep=sleep
    )


@pytest.mark.parametrize("tz", [300, 480, 0, -480, -330, -840, 720])
def test_trends_days_are_right_for_a_tz_west_or_east_of_utc(trends_http, reply, clock, sleep, tz) -> None:
    """Google stamps daily points at UTC midnight of the day they report ("Nov 14, 2026" is
    1794614400): a west-of-UTC tz (300 is UTC-5) must not file them a day early."""
    add_cookie(trends_http, reply)
    add_group(trends_http, reply)
    result = make_source_tz(clock, sleep, tz).fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    days = sorted({r.date for r in result.rows})
    assert days[0] == date(2026, 11, 14) and days[-1] == date(2026, 11, 20) and len(days) == 7
    by_key = {(r.date, r.keyword): r.interest for r in result.rows}
    assert by_key[(date(2026, 11, 16), "Langkawi")] == 100


@pytest.mark.parametrize("tz", [-480, 300])
def test_trends_points_stamped_at_the_tz_midnight_keep_their_day(
    trends_http, reply, clock, sleep, load_text, tz
) -> None:
    def to_local_midnight(points):
        for point in points:
            point["time"] = str(int(point["time"]) + tz * 60)  # the tz's own midnight, in UTC seconds

    add_cookie(trends_http, reply)
    trends_http.add(EXPLORE, reply.text("google_trends/explore_kedah_group1.txt", JSON))
    trends_http.add(
        MULTILINE, reply(200, _multiline_with(load_text, to_local_midnight), {"Content-Type": JSON})
    )
    result = make_source_tz(clock, sleep, tz).fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    assert sorted({r.date for r in result.rows})[0] == date(2026, 11, 14)
    assert {(r.date, r.keyword): r.interest for r in result.rows}[(date(2026, 11, 16), "Langkawi")] == 100


def test_weekly_trends_answer_is_refused_not_stored_as_days(trends_http, reply, clock, sleep) -> None:
    add_cookie(trends_http, reply)
    add_group(trends_http, reply, multiline="google_trends/multiline_weekly.txt")
    with pytest.raises(BadRequest, match="weekly points") as err:
        make_source(clock, sleep).fetch_interest(date(2026, 3, 1), date(2026, 4, 11))
    assert "not stored as days" in str(err.value) and not err.value.retryable


def test_malformed_trends_point_without_a_time_is_quarantined_and_the_rest_kept(
    trends_http, reply, clock, sleep, load_text
) -> None:
    def break_points(points):
        del points[2]["time"]  # Nov 16
        points[4]["value"] = [83, 39, 24, 12, 180]  # Nov 18: Jitra out of 0..100

    add_cookie(trends_http, reply)
    trends_http.add(EXPLORE, reply.text("google_trends/explore_kedah_group1.txt", JSON))
    trends_http.add(MULTILINE, reply(200, _multiline_with(load_text, break_points), {"Content-Type": JSON}))
    result = make_source(clock, sleep).fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    reasons = [q.reason for q in result.quarantined]
    assert any("point without a time" in r for r in reasons)
    assert any("Jitra on 2026-11-18: interest is outside 0..100: 180" in r for r in reasons)
    assert date(2026, 11, 16) not in {r.date for r in result.rows}
    assert len(result.rows) == 35 - 5 - 1  # the day without a time, and one value


def test_malformed_trends_html_answer_is_a_retryable_source_error(trends_http, reply, clock, sleep) -> None:
    add_cookie(trends_http, reply)
    for _ in range(4):
        trends_http.add(EXPLORE, reply.text("google_trends/explore_kedah_group1.txt", JSON))
        trends_http.add(
            MULTILINE, reply(200, b"<html><body>Oops</body></html>", {"Content-Type": "text/html"})
        )
    with pytest.raises(SourceError) as err:
        make_source(clock, sleep).fetch_interest(date(2026, 11, 14), date(2026, 11, 20))
    assert err.value.retryable
