"""Each platform's polling: its interval as a cron, and the API calls a day that interval, the
queries and the page limits add up to, against the provider's quota.

One arithmetic for the schedules (``assets/ingest/automation.py``), ``check-config``
(:mod:`kedah_analytics.config.validate` refuses a configuration whose worst case passes a quota)
and the README's polling table. Worst case means every poll reads every page it may.
"""

from __future__ import annotations

from dataclasses import dataclass

from kedah_analytics.config.settings import X_DAILY_POST_READS
from kedah_analytics.config.tracking import TrackingConfig

DAY_MINUTES = 24 * 60
# Published limits (REFERENCE.md, "Running for months").
YOUTUBE_SEARCH_CALLS_A_DAY = 100
YOUTUBE_UNITS_A_DAY = 10_000
YOUTUBE_SEARCH_UNITS = 100
YOUTUBE_VIDEOS_UNITS = 1
INSTAGRAM_HASHTAGS_A_WEEK = 30
# Graph API platform rate limit: 200 calls an hour per user of the app (one token here).
GRAPH_CALLS_AN_HOUR = 200
# The provider windows a poll must reach back into: two polls inside each, so one failed poll
# loses nothing.
WINDOW_MINUTES = {"twitter": 7 * DAY_MINUTES, "instagram": DAY_MINUTES}

# Minute past the hour each platform polls at, so their runs do not all start together.
POLL_MINUTE = {"twitter": 5, "instagram": 10, "facebook": 15, "youtube": 20}


def interval_problem(minutes: int) -> str | None:
    """Why ``minutes`` cannot be a polling interval on the clock (None when it can): a divisor of
    60, or a whole number of hours that divides a day."""
    if minutes < 60 and 60 % minutes == 0:
        return None
    if minutes >= 60 and minutes % 60 == 0 and DAY_MINUTES % minutes == 0:
        return None
    return (
        f"{minutes} minutes does not divide the day into polls at the same times every day; use a "
        "divisor of 60 (5, 10, 15, 20, 30) or of 1440 in whole hours (60, 120, 180, 240, 360, 480, 720, 1440)"
    )


def cron_for_interval(minutes: int, hour: int = 0, minute: int = 0) -> str:
    """The cron of a poll every ``minutes`` (see :func:`interval_problem`) whose first poll of the
    day is at ``hour``:``minute``."""
    if problem := interval_problem(minutes):
        raise ValueError(problem)
    if minutes < 60:
        return f"{','.join(str(m) for m in range(minute % minutes, 60, minutes))} * * * *"
    step = minutes // 60
    hours = range(hour % step, 24, step)
    return f"{minute} {'*' if step == 1 else ','.join(str(h) for h in hours)} * * *"


def polls_a_day(minutes: int) -> int:
    return DAY_MINUTES // minutes


@dataclass(frozen=True)
class QuotaUse:
    """What one platform's polling spends of one quota, at worst, and how that was counted."""

    platform: str
    quota: str  # what is counted, per what period
    used: int
    limit: int
    arithmetic: str  # "4 polls x 4 queries x 2 pages"
    fields: tuple[str, ...]  # the tracking fields (and variables) that set it
    interval_minutes: int

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else float("inf")

    @property
    def passes(self) -> bool:
        return self.used > self.limit

    def describe(self) -> str:
        return (
            f"{self.platform} polling would use up to {self.used:,} {self.quota} ({self.arithmetic}), "
            f"over the limit of {self.limit:,}; lower the queries or page limits, or poll less often"
        )


def quota_uses(tracking: TrackingConfig, x_queries: int, x_daily_post_reads: int) -> list[QuotaUse]:
    """The worst case of every quota the polling configuration spends. ``x_queries`` is the number
    of X search queries the place terms and hashtags make; ``x_daily_post_reads`` the X budget."""
    p, x, ig, fb, yt, gt = (tracking.polling, tracking.twitter, tracking.instagram, tracking.facebook,
                            tracking.youtube, tracking.google_trends)  # fmt: skip
    out = []
    x_polls = polls_a_day(p.twitter_minutes)
    out.append(QuotaUse(
        "twitter", "posts read (billed) a UTC day", x_polls * x_queries * x.max_pages_per_query * x.max_results_per_page,
        x_daily_post_reads,
        f"{x_polls} polls x {x_queries} queries x {x.max_pages_per_query} pages x {x.max_results_per_page} posts",
        ("polling.twitter_minutes", "twitter.max_pages_per_query", "twitter.max_results_per_page",
         "place_terms", "hashtags", X_DAILY_POST_READS.name), p.twitter_minutes,
    ))  # fmt: skip
    out.append(QuotaUse(
        "instagram", "unique hashtags in 7 days", len(ig.hashtags), min(ig.weekly_hashtag_budget, INSTAGRAM_HASHTAGS_A_WEEK),
        f"{len(ig.hashtags)} hashtags, the same ones every poll", ("instagram.hashtags", "instagram.weekly_hashtag_budget"),
        p.instagram_minutes,
    ))  # fmt: skip
    # Instagram and Facebook share the Meta token's hourly Graph API limit; a platform polling
    # more than once an hour makes several polls' calls in one hour.
    ig_calls = len(ig.hashtags) * ig.max_pages_per_hashtag
    fb_calls = len(fb.page_ids) * (fb.max_pages_per_page + (1 if fb.exchange_page_tokens else 0))
    ig_hourly, fb_hourly = -(-60 // p.instagram_minutes), -(-60 // p.facebook_minutes)
    out.append(QuotaUse(
        "instagram+facebook", "Graph API calls an hour", ig_hourly * ig_calls + fb_hourly * fb_calls, GRAPH_CALLS_AN_HOUR,
        f"{ig_hourly} x {len(ig.hashtags)} hashtags x {ig.max_pages_per_hashtag} pages + {fb_hourly} x "
        f"{len(fb.page_ids)} Pages x ({fb.max_pages_per_page} pages{' + 1 token' if fb.exchange_page_tokens else ''})",
        ("polling.instagram_minutes", "polling.facebook_minutes", "instagram.hashtags",
         "instagram.max_pages_per_hashtag", "facebook.page_ids", "facebook.max_pages_per_page"), p.instagram_minutes,
    ))  # fmt: skip
    yt_polls = polls_a_day(p.youtube_minutes)
    searches = yt_polls * len(yt.queries) * yt.max_pages_per_query
    yt_fields = ("polling.youtube_minutes", "youtube.queries", "youtube.max_pages_per_query")
    out.append(QuotaUse(
        "youtube", "search.list calls a Pacific day", searches, min(yt.daily_search_call_budget, YOUTUBE_SEARCH_CALLS_A_DAY),
        f"{yt_polls} polls x {len(yt.queries)} queries x {yt.max_pages_per_query} pages",
        (*yt_fields, "youtube.daily_search_call_budget"), p.youtube_minutes,
    ))  # fmt: skip
    # Each search page of up to 50 videos is followed by one videos.list call for their statistics.
    out.append(QuotaUse(
        "youtube", "units a Pacific day", searches * (YOUTUBE_SEARCH_UNITS + YOUTUBE_VIDEOS_UNITS), YOUTUBE_UNITS_A_DAY,
        f"{searches} search.list x {YOUTUBE_SEARCH_UNITS} units + {searches} videos.list x {YOUTUBE_VIDEOS_UNITS} unit",
        yt_fields, p.youtube_minutes,
    ))  # fmt: skip
    # Google publishes no Trends quota and answers 429 when rushed: the requests a poll makes,
    # paced min_interval_seconds apart, must fit inside its interval.
    gt_polls, groups = polls_a_day(p.google_trends_minutes), len(gt.keyword_groups)
    pace = int(p.google_trends_minutes * 60 // max(gt.min_interval_seconds, 1.0))
    out.append(QuotaUse(
        "google_trends", "requests a day", gt_polls * groups, gt_polls * pace,
        f"{gt_polls} polls x {groups} keyword groups, paced {gt.min_interval_seconds:g} s apart",
        ("polling.google_trends_minutes", "google_trends.keyword_groups", "google_trends.min_interval_seconds"),
        p.google_trends_minutes,
    ))  # fmt: skip
    return out


def polling_problems(
    tracking: TrackingConfig, x_queries: int, x_daily_post_reads: int
) -> list[tuple[str, str]]:
    """(field, what is wrong) for every interval that is not on the clock, every provider window
    that holds fewer than two polls, and every quota the worst case passes."""
    problems: list[tuple[str, str]] = []
    for name, minutes in tracking.polling.model_dump().items():
        if name.endswith("_minutes") and (problem := interval_problem(minutes)):
            problems.append((f"polling.{name}", problem))
    for platform, window in WINDOW_MINUTES.items():
        minutes = getattr(tracking.polling, f"{platform}_minutes")
        if 2 * minutes > window:
            problems.append((
                f"polling.{platform}_minutes",
                f"{minutes} minutes leaves fewer than two polls inside {platform}'s {window // 60}-hour search "
                f"window (2 x {minutes} > {window}): one failed poll would lose posts for good",
            ))  # fmt: skip
    if problems:  # the arithmetic below assumes intervals on the clock
        return problems
    for use in quota_uses(tracking, x_queries, x_daily_post_reads):
        if use.passes:
            problems.append((use.fields[0], use.describe()))
    return problems
