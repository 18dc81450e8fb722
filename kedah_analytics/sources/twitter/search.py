"""X (Twitter) recent search through tweepy: posts about Kedah places and hashtags.

Recent search sees the last 7 days only and bills per post read, so a poll asks only for what is
new (``since_id`` per query) and the raw table keeps what older polls collected. The queries are
built in ``query.py``, the pages read in ``payload.py``, the endpoint and the bill in ``client.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import requests

from kedah_analytics.config.settings import X_DAILY_POST_READS
from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.domain import kedah_date_bounds
from kedah_analytics.sources.common.base import (
    Exhausted,
    FetchResult,
    FetchTelemetry,
    QuotaSpent,
    check_platform,
)
from kedah_analytics.sources.common.budget import DailyCounter
from kedah_analytics.sources.common.days import days_in_reach
from kedah_analytics.sources.common.pages import PageReader
from kedah_analytics.sources.common.retry import DEFAULT_TIMEOUT, Clock, RetryPolicy, Sleep, utcnow
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.twitter.client import (
    END_TIME_LAG,
    RECENT_SEARCH_WINDOW,
    ReadCount,
    RecentSearchClient,
    post_read_allowance,
)
from kedah_analytics.sources.twitter.payload import PLATFORM, PROVIDER, count_users, read_search_page
from kedah_analytics.sources.twitter.query import build_search_queries, tweet_id_time

MIN_RESULTS_PER_PAGE = 10  # X refuses max_results below 10


def _contiguous_runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


class TwitterSource:
    """Posts from X recent search for the tracked place terms and hashtags.

    ``fetch_posts(platform, days, cursors)``: ``cursors`` maps a query (as in :attr:`queries`)
    to the largest tweet id already stored for it; it narrows the search only for the days whose
    window contains that id, so backfilling earlier days is unaffected. The result's ``cursors``
    hold, per query, the largest of the ids seen and the one passed in: store them for the next
    poll. Days older than the 7-day window give a note and no rows; so do days not yet begun.

    X bills every post read, so reads are counted against ``daily_post_reads`` per UTC day in
    ``read_budget``: a poll that reaches it stops, keeps what it read, and says so in its
    telemetry; a query cut short keeps its previous cursor, so the next day resumes without a gap.
    """

    provider = PROVIDER
    polls_from_cursors = True

    def __init__(
        self,
        bearer_token: Secret,
        tracking: TrackingConfig,
        *,
        extra_terms: Iterable[str] = (),
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Clock = utcnow,
        sleep: Sleep = time.sleep,
        policy: RetryPolicy | None = None,
        read_budget: DailyCounter | None = None,
        daily_post_reads: int = int(X_DAILY_POST_READS.default or 2000),
    ):
        self._token = bearer_token
        self.options = tracking.twitter
        self.queries = build_search_queries(
            [*tracking.place_terms, *extra_terms],
            tracking.hashtags,
            exclude_retweets=self.options.exclude_retweets,
            max_length=self.options.max_query_length,
        )
        self.clock = clock
        self.search = RecentSearchClient(
            bearer_token,
            session=session,
            timeout=timeout,
            clock=clock,
            sleep=sleep,
            policy=policy or RetryPolicy(max_attempts=max(3, self.options.max_rate_limit_waits) + 1),
        )
        self.allowance = post_read_allowance(read_budget, daily_post_reads)

    def __repr__(self) -> str:
        return f"TwitterSource(queries={len(self.queries)}, token={self._token!r})"

    def fetch_posts(
        self, platform: str, days: list[date], cursors: Mapping[str, str] | None = None
    ) -> FetchResult:
        check_platform(self, platform, PLATFORM)
        telemetry = FetchTelemetry()
        newest_ids: dict[str, str] = {}
        now = self.clock()
        earliest = now - RECENT_SEARCH_WINDOW + timedelta(minutes=self.options.window_margin_minutes)
        latest = now - END_TIME_LAG
        wanted = days_in_reach(
            days, telemetry, earliest=earliest, latest=latest, window="X recent search's 7-day"
        )
        reader = PageReader(PLATFORM, PROVIDER, wanted, telemetry)
        reads = ReadCount()

        try:
            for first, last in _contiguous_runs(wanted):
                start_time = max(kedah_date_bounds(first)[0], earliest)
                end_time = min(kedah_date_bounds(last)[1], latest)
                for query in self.queries:
                    since_id = (cursors or {}).get(query)
                    newest, complete = self._search(query, start_time, end_time, since_id, reader, reads)
                    # A query cut short by the budget keeps its old cursor: the unread posts between
                    # it and the newest one read would otherwise be skipped for good.
                    candidates = (newest if complete else None, newest_ids.get(query), since_id)
                    best = max((int(x) for x in candidates if x and x.isdigit()), default=None)
                    if best is not None:
                        newest_ids[query] = str(best)
        except Exhausted as exc:
            # Rate limited past what a run sleeps: the posts read are kept, with the cursors of the
            # queries read whole only (the one cut short keeps its stored cursor).
            exc.partial = self._result(reader, reads, newest_ids)
            raise
        return self._result(reader, reads, newest_ids)

    def _result(self, reader: PageReader, reads: ReadCount, newest_ids: dict[str, str]) -> FetchResult:
        now = self.clock()
        reader.telemetry.details.update(reads.details(self.allowance, now))
        reader.telemetry.levels |= {"x_daily_post_reads", "x_post_reads_left_today"}
        result = reader.result()
        result.cursors = dict(newest_ids)
        if reads.stopped:
            reset_at = self.allowance.resets_at(now)
            result.spent = QuotaSpent(
                f"X's daily budget of {self.allowance.limit} post reads ({X_DAILY_POST_READS.name}) is "
                f"spent; it resets at {reset_at.isoformat()}",
                reset_at,
            )
        return result

    def _search(
        self,
        query: str,
        start_time: datetime,
        end_time: datetime,
        since_id: str | None,
        reader: PageReader,
        reads: ReadCount,
    ) -> tuple[str | None, bool]:
        """Pages of one query into ``reader``: ``(newest id read, whether every page was read)``."""
        telemetry = reader.telemetry
        window: dict[str, object] = {"end_time": end_time}
        # since_id is used only when it was minted inside this window: then it is tighter than
        # start_time (and inside the 7 days X accepts). An older one, or one newer than the window
        # (a backfill of earlier days), leaves start_time to bound the search.
        if since_id and since_id.isdigit() and start_time <= tweet_id_time(since_id) < end_time:
            window["since_id"] = since_id
        else:
            window["start_time"] = start_time
        newest: int | None = None
        next_token: str | None = None
        for _ in range(self.options.max_pages_per_query):
            now = self.clock()
            left = self.allowance.left(now)
            if left < MIN_RESULTS_PER_PAGE:
                reads.stop(self.allowance, telemetry)
                return (str(newest) if newest else None), False
            max_results = max(MIN_RESULTS_PER_PAGE, min(self.options.max_results_per_page, left))
            page = self.search.search(query, window, next_token, max_results, telemetry)
            telemetry.pages += 1
            next_token, page_newest, billed = read_search_page(page, reader)
            self.allowance.spend(now, billed)
            reads.posts += billed
            reads.users += count_users(page)
            if page_newest is not None:
                newest = max(newest or 0, page_newest)
            if not next_token:
                break
        else:
            telemetry.notes.append(
                f"stopped after {self.options.max_pages_per_query} pages for query {query[:60]!r}...; "
                "more posts remain (raise twitter.max_pages_per_query or poll more often)"
            )
        return (str(newest) if newest else None), True
