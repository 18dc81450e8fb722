"""Each platform at its own pace: the tracking file's polling intervals drive one schedule per
platform, every default stays inside its quota with a margin, and check-config refuses intervals,
queries and page limits whose worst case a day passes a quota, naming the file, line and field and
showing the arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._utils.schedules import schedule_execution_time_iterator

from assets.ingest.automation import COLLECTION_SCHEDULES, collection_schedule
from assets.insights.automation import daily_search_interest
from kedah_analytics.config import validate
from kedah_analytics.config.quotas import cron_for_interval, interval_problem, quota_uses
from kedah_analytics.config.tracking import default_tracking
from kedah_analytics.definitions import defs
from kedah_analytics.domain import PLATFORMS, TIMEZONE_NAME
from resources import PostgresWarehouse

DAY = datetime(2026, 11, 19, 16, 0, tzinfo=UTC)  # 00:00 on 20 November in Kedah


def ticks_in_a_day(schedule: dg.ScheduleDefinition) -> list[datetime]:
    """The ticks Dagster's own cron iteration gives the schedule over one Kedah day."""
    out = []
    for tick in schedule_execution_time_iterator(DAY.timestamp(), schedule.cron_schedule, TIMEZONE_NAME):
        if tick >= DAY + timedelta(days=1):
            return out
        out.append(tick)
    return out


def test_every_platform_has_its_schedule_at_the_tracking_files_pace():
    polling = default_tracking().polling
    names = {s.name for s in defs.schedules}
    for platform in PLATFORMS:
        assert f"{platform}_collection" in names
        minutes = getattr(polling, f"{platform}_minutes")
        ticks = ticks_in_a_day(COLLECTION_SCHEDULES[platform])
        assert len(ticks) == 24 * 60 // minutes, platform
        assert {b - a for a, b in zip(ticks, ticks[1:], strict=False)} == {timedelta(minutes=minutes)}
    # The platforms start at different minutes, so their runs do not pile up at once.
    firsts = {ticks_in_a_day(s)[0].minute for s in COLLECTION_SCHEDULES.values()}
    assert len(firsts) == len(PLATFORMS)
    assert [t.hour for t in ticks_in_a_day(daily_search_interest)] == [2]


def test_a_platforms_tick_collects_yesterday_and_today_of_that_platform_only(warehouse_url):
    schedule = collection_schedule("youtube", 360)
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 20, 4, 20, tzinfo=UTC),
        resources={"warehouse": PostgresWarehouse(url=warehouse_url)},  # where deferrals are read
    )
    (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.tags["dagster/asset_partition_range_start"] == "2026-11-19|youtube"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-11-20|youtube"
    assert request.run_key == "youtube-2026-11-20T12:20"
    assert len(ticks_in_a_day(collection_schedule("instagram", 30))) == 48


def test_intervals_must_fall_on_the_same_times_every_day():
    assert cron_for_interval(15, minute=5) == "5,20,35,50 * * * *"
    assert cron_for_interval(60, minute=10) == "10 * * * *"
    assert cron_for_interval(1440, hour=2, minute=15) == "15 2 * * *"
    for bad in (7, 90, 100, 300, 2880):
        assert interval_problem(bad) is not None
        with pytest.raises(ValueError, match="does not divide the day"):
            cron_for_interval(bad)


def test_every_default_stays_inside_its_quota_with_a_margin():
    uses = quota_uses(default_tracking(), validate.x_query_count(default_tracking()), 2000)
    assert {(u.platform, u.quota) for u in uses} >= {
        ("twitter", "posts read (billed) a UTC day"), ("youtube", "search.list calls a Pacific day"),
        ("youtube", "units a Pacific day"), ("instagram", "unique hashtags in 7 days"),
        ("instagram+facebook", "Graph API calls an hour"), ("google_trends", "requests a day"),
    }  # fmt: skip
    for use in uses:
        assert use.share <= 0.8, use
    assert validate.configuration_problems({}) == []


def problems_with(tmp_path, text: str, **env: str) -> list[str]:
    path = tmp_path / "tracking.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(p) for p in validate.configuration_problems({"KEDAH_TRACKING_FILE": str(path), **env})]


def test_check_config_refuses_youtube_polling_past_its_allowance_with_the_arithmetic(tmp_path):
    calls, units = problems_with(tmp_path, "polling:\n  youtube_minutes: 60\n")
    assert "tracking.yaml:2: field polling.youtube_minutes" in calls
    assert "192 search.list calls a Pacific day (24 polls x 4 queries x 2 pages)" in calls
    assert "limit of 100" in calls
    assert "19,392 units a Pacific day (192 search.list x 100 units + 192 videos.list x 1 unit)" in units
    # Fewer queries and one page fit, at the same pace.
    assert problems_with(tmp_path, "polling:\n  youtube_minutes: 60\nyoutube:\n  max_pages_per_query: 1\n"
                         "  queries: [Langkawi, Kedah]\n") == []  # fmt: skip


def test_check_config_refuses_x_polling_that_could_bill_past_the_budget(tmp_path):
    (problem,) = problems_with(tmp_path, "\n\npolling:\n  twitter_minutes: 60\n")
    assert "tracking.yaml:4: field polling.twitter_minutes" in problem
    assert "4,800 posts read (billed) a UTC day (24 polls x 2 queries x 1 pages x 100 posts)" in problem
    assert "limit of 2,000" in problem
    (problem,) = problems_with(tmp_path, "inherit_defaults: true\n", KEDAH_X_DAILY_POST_READS="1000")
    assert "1,600 posts read" in problem and "limit of 1,000" in problem
    (problem,) = problems_with(tmp_path, "twitter:\n  max_pages_per_query: 5\n")
    assert "8 polls x 2 queries x 5 pages x 100 posts" in problem


def test_check_config_refuses_graph_calls_past_the_hourly_limit(tmp_path):
    (problem,) = problems_with(tmp_path, "polling:\n  instagram_minutes: 15\n")
    assert "field polling.instagram_minutes" in problem
    assert "280 Graph API calls an hour (4 x 14 hashtags x 5 pages + 1 x 0 Pages" in problem
    pages = ", ".join(f'"{n}"' for n in range(100000001, 100000016))
    (problem,) = problems_with(tmp_path, f"facebook:\n  page_ids: [{pages}]\n")
    assert "1 x 15 Pages x (10 pages + 1 token)" in problem and "235 Graph API calls an hour" in problem


def test_check_config_refuses_intervals_off_the_clock_or_too_long_for_the_window(tmp_path):
    (problem,) = problems_with(tmp_path, "polling:\n  facebook_minutes: 90\n")
    assert "field polling.facebook_minutes: 90 minutes does not divide the day" in problem
    (problem,) = problems_with(tmp_path, "polling:\n  instagram_minutes: 1440\n")
    assert "fewer than two polls inside instagram's 24-hour search window (2 x 1440 > 1440)" in problem
    problems = problems_with(
        tmp_path, "polling:\n  google_trends_minutes: 1\ngoogle_trends:\n  min_interval_seconds: 60\n"
    )
    assert any("requests a day" in p and "google_trends_minutes" in p for p in problems), problems


def test_freshness_of_posts_allows_the_slowest_platforms_interval():
    # One freshness policy covers every platform's partitions: it must not fail between two
    # on-time polls of the slowest platform.
    slowest = max(getattr(default_tracking().polling, f"{p}_minutes") for p in PLATFORMS)
    for key in ("raw_posts", "classified_posts"):
        policy = defs.resolve_assets_def(key).specs_by_key[dg.AssetKey(key)].freshness_policy
        assert policy is not None
        warn, fail = (
            timedelta(days=w.days, seconds=w.seconds) for w in (policy.warn_window, policy.fail_window)
        )
        assert timedelta(minutes=slowest) < warn < fail
