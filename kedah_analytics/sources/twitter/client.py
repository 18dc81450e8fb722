"""The X recent-search endpoint through tweepy, and X's bill: every call has a timeout, retries
only what may pass, and errors that say what to fix; every post read counts against a daily budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy

from kedah_analytics.config.settings import X_BEARER_TOKEN, X_DAILY_POST_READS
from kedah_analytics.sources.common import base
from kedah_analytics.sources.common.budget import DailyAllowance, DailyCounter, InMemoryDailyCounter
from kedah_analytics.sources.common.clock import Clock, Sleep, utcnow
from kedah_analytics.sources.common.http import TimeoutSession
from kedah_analytics.sources.common.retry import DEFAULT_TIMEOUT, RetriesCalls, Retryable, RetryPolicy
from kedah_analytics.sources.common.secrets import Secret, scrub

TWEET_FIELDS = [
    "created_at", "lang", "public_metrics", "author_id", "geo", "conversation_id", "entities",
    "note_tweet", "edit_history_tweet_ids", "referenced_tweets", "withheld",
]  # fmt: skip
# referenced_tweets.id brings retweeted and quoted originals whole into includes.tweets, and
# referenced_tweets.id.author_id their authors into includes.users.
EXPANSIONS = ["author_id", "geo.place_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
USER_FIELDS = ["username", "name", "public_metrics", "verified", "location", "withheld"]
PLACE_FIELDS = ["full_name", "country_code", "geo", "place_type"]
# Pay-per-use prices (February 2026): an estimate for the metadata, not an invoice.
POST_READ_USD = 0.005
USER_READ_USD = 0.010
RECENT_SEARCH_WINDOW = timedelta(days=7)
# X rejects an end_time less than 10 seconds before the request.
END_TIME_LAG = timedelta(seconds=30)


def post_read_allowance(counter: DailyCounter | None, daily_post_reads: int) -> DailyAllowance:
    """X's budget: posts read per UTC day (X charges per post read and resets at UTC midnight)."""
    return DailyAllowance(counter if counter is not None else InMemoryDailyCounter(), daily_post_reads, UTC)


@dataclass
class ReadCount:
    """What one fetch had X bill: posts and users read, and whether the budget stopped it."""

    posts: int = 0
    users: int = 0
    stopped: bool = False

    def details(self, allowance: DailyAllowance, now: datetime) -> dict[str, Any]:
        """The bill for the metadata, and what is left of today's budget."""
        return {
            "x_posts_read": self.posts,
            "x_users_read": self.users,
            "x_estimated_cost_usd": round(self.posts * POST_READ_USD + self.users * USER_READ_USD, 3),
            "x_daily_post_reads": allowance.limit,
            "x_post_reads_left_today": allowance.left(now),
            "x_budget_stopped": self.stopped,
        }

    def stop(self, allowance: DailyAllowance, telemetry: base.FetchTelemetry) -> None:
        if not self.stopped:
            telemetry.notes.append(
                f"X read budget reached: {allowance.limit} posts a UTC day "
                f"({X_DAILY_POST_READS.name}); stopped reading, the posts read are stored, and "
                "the next poll after UTC midnight resumes from the cursors kept"
            )
        self.stopped = True


class RecentSearchClient(RetriesCalls):
    """``search_recent_tweets`` with the project's fields, a timeout, retries and clear errors."""

    def __init__(
        self,
        bearer_token: Secret,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Clock = utcnow,
        sleep: Sleep = time.sleep,
        policy: RetryPolicy,
    ):
        self._token = bearer_token
        self.client = tweepy.Client(
            bearer_token=bearer_token.reveal(), return_type=dict, wait_on_rate_limit=False
        )
        # tweepy's own session sets no timeout; this one gives every request one.
        self.client.session = session if session is not None else TimeoutSession(timeout)
        self.clock = clock
        self.sleep = sleep
        self.policy = policy

    def search(
        self,
        query: str,
        window: dict[str, Any],
        next_token: str | None,
        max_results: int,
        telemetry: base.FetchTelemetry,
    ) -> Any:
        """One page of ``query`` in ``window`` (``start_time`` or ``since_id``, and ``end_time``)."""
        secrets = [self._token]

        def said(exc: Exception) -> str:
            return scrub(str(exc), secrets).replace("\n", " ")

        def attempt() -> Any:
            telemetry.api_calls += 1
            try:
                return self.client.search_recent_tweets(
                    query,
                    max_results=max_results,
                    next_token=next_token,
                    tweet_fields=TWEET_FIELDS,
                    expansions=EXPANSIONS,
                    user_fields=USER_FIELDS,
                    place_fields=PLACE_FIELDS,
                    **window,
                )
            except tweepy.TooManyRequests as exc:
                reset_at = datetime.fromtimestamp(exc.reset_time, UTC) if exc.reset_time else None
                wait = (reset_at - self.clock()).total_seconds() + 1 if reset_at else None
                raise Retryable(
                    "HTTP 429 Too Many Requests", throttled=True, wait_seconds=wait, reset_at=reset_at
                ) from None
            except tweepy.TwitterServerError as exc:
                raise Retryable(said(exc)) from None
            except tweepy.Unauthorized:
                raise base.CredentialsError(
                    X_BEARER_TOKEN.name,
                    "X rejected the bearer token (401 Unauthorized); set a valid app bearer token",
                ) from None
            except tweepy.Forbidden as exc:
                raise base.PermissionDenied(
                    f"X recent search forbidden ({said(exc)}); "
                    f"check the plan and project of the app behind {X_BEARER_TOKEN.name}"
                ) from None
            except tweepy.BadRequest as exc:
                raise base.BadRequest(f"X rejected the search ({said(exc)}); query: {query}") from None
            except tweepy.HTTPException as exc:
                raise base.SourceError(f"X recent search: {said(exc)}") from None
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise Retryable(scrub(f"{type(exc).__name__}: {exc}", secrets)) from None
            except ValueError:
                # tweepy parses the body as JSON: an HTML error page or an empty body with HTTP 200
                # makes the whole answer unusable, which a retry may fix.
                raise Retryable("X answered with a body that is not JSON (an HTML or empty page)") from None

        return self.retried(attempt, "X recent search", telemetry)
