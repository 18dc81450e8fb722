"""X (Twitter) recent search through tweepy: posts about Kedah places and hashtags.

Recent search sees the last 7 days only and bills per post read, so a poll asks only for what is
new (``since_id`` per query) and the raw table keeps what older polls collected.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
import tweepy

from kedah_analytics.domain import PostRecord, QuarantinedRecord, kedah_date, kedah_date_bounds
from kedah_analytics.settings import X_BEARER_TOKEN
from kedah_analytics.sources.base import (
    BadRequest,
    CredentialsError,
    FetchResult,
    FetchTelemetry,
    PermissionDenied,
    SourceError,
)
from kedah_analytics.sources.parsing import int_or_none, mapping_or_empty, parse_time
from kedah_analytics.sources.retry import (
    DEFAULT_TIMEOUT,
    Clock,
    Retryable,
    RetryPolicy,
    Sleep,
    TimeoutSession,
    run_with_retries,
    utcnow,
)
from kedah_analytics.sources.secrets import Secret, scrub
from kedah_analytics.sources.tracking import TrackingConfig

PROVIDER = "x_api_v2"
PLATFORM = "twitter"

TWEET_FIELDS = ["created_at", "lang", "public_metrics", "author_id", "geo", "conversation_id", "entities"]
EXPANSIONS = ["author_id", "geo.place_id"]
USER_FIELDS = ["username", "name", "public_metrics", "verified", "location"]
PLACE_FIELDS = ["full_name", "country_code", "geo", "place_type"]
RECENT_SEARCH_WINDOW = timedelta(days=7)
# X rejects an end_time less than 10 seconds before the request.
END_TIME_LAG = timedelta(seconds=30)
TWITTER_EPOCH_MS = 1288834974657

_BARE_TERM = re.compile(r"[#@]?\w+")


def quote_term(term: str) -> str:
    """A term as X query syntax: hashtags and single words bare, anything else quoted."""
    term = " ".join(term.split())
    if _BARE_TERM.fullmatch(term):
        return term
    return '"' + term.replace('"', "") + '"'


def _drop_covered_terms(terms: list[str]) -> list[str]:
    """Terms whose match another term already implies (``Menara Alor Setar`` by ``Alor Setar``)."""
    tokens = [tuple(t.lower().split()) for t in terms]
    keep: list[int] = []
    for i, mine in enumerate(tokens):
        covered = False
        for j, other in enumerate(tokens):
            if i == j or other == mine or len(other) >= len(mine):
                continue
            if any(mine[k : k + len(other)] == other for k in range(len(mine) - len(other) + 1)):
                covered = True
                break
        if not covered and mine not in [tokens[k] for k in keep]:
            keep.append(i)
    return [terms[i] for i in keep]


def build_search_queries(
    terms: Iterable[str],
    hashtags: Iterable[str] = (),
    *,
    exclude_retweets: bool = True,
    max_length: int = 512,
) -> list[str]:
    """X recent-search queries covering every term and hashtag, each at most ``max_length`` chars.

    A space is AND and binds tighter than OR, so the alternatives are OR-ed inside parentheses and
    the operators that apply to all of them follow: ``(Langkawi OR "Alor Setar" OR #Kedah) -is:retweet``.
    """
    words = _drop_covered_terms([" ".join(t.split()) for t in terms if t.strip()])
    parts = [quote_term(t) for t in words]
    for tag in hashtags:
        tag = tag.strip()
        tag = tag if tag.startswith("#") else f"#{tag}"
        if tag.lower() not in (p.lower() for p in parts):
            parts.append(tag)
    suffix = " -is:retweet" if exclude_retweets else ""
    budget = max_length - len(suffix) - 2  # the parentheses
    queries: list[str] = []
    current: list[str] = []
    for part in parts:
        if len(part) > budget:
            raise ValueError(f"search term too long for one X query: {part!r}")
        if current and len(" OR ".join([*current, part])) > budget:
            queries.append(f"({' OR '.join(current)}){suffix}")
            current = []
        current.append(part)
    if current:
        queries.append(f"({' OR '.join(current)}){suffix}")
    return queries


def tweet_id_time(tweet_id: str | int) -> datetime:
    """When a tweet id was minted (snowflake ids carry their creation time)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


def tweet_to_post(
    item: Any, users: Mapping[str, Mapping[str, Any]], places: Mapping[str, Mapping[str, Any]]
) -> PostRecord | QuarantinedRecord:
    """One tweet from a search page, joined to its author (and place) from ``includes``."""

    def quarantine(reason: str) -> QuarantinedRecord:
        return QuarantinedRecord(PLATFORM, PROVIDER, reason, {"data": item})

    if not isinstance(item, dict):
        return quarantine("tweet is not a JSON object")
    tweet_id = item.get("id")
    if not isinstance(tweet_id, str) or not tweet_id.isdigit():
        return quarantine("tweet has no numeric id")
    created_at = parse_time(item.get("created_at"))
    if created_at is None:
        return quarantine(
            f"tweet {tweet_id} has a missing or unparseable created_at: {item.get('created_at')!r}"
        )
    text = item.get("text")
    if not isinstance(text, str):
        return quarantine(f"tweet {tweet_id} has no text")

    metrics = mapping_or_empty(item.get("public_metrics"))
    retweets = int_or_none(metrics.get("retweet_count"))
    quotes = int_or_none(metrics.get("quote_count"))
    shares = None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0)

    author_id = item.get("author_id") if isinstance(item.get("author_id"), str) else None
    user = users.get(author_id) if author_id else None
    username = user.get("username") if user else None
    followers = None
    if user and isinstance(user.get("public_metrics"), dict):
        followers = int_or_none(user["public_metrics"].get("followers_count"))
    place_id = mapping_or_empty(item.get("geo")).get("place_id")
    place = places.get(place_id) if place_id else None

    entities = mapping_or_empty(item.get("entities"))
    hashtags = tuple(
        h["tag"]
        for h in entities.get("hashtags") or []
        if isinstance(h, dict) and isinstance(h.get("tag"), str)
    )
    includes: dict[str, Any] = {}
    if user:
        includes["users"] = [dict(user)]
    if place:
        includes["places"] = [dict(place)]
    return PostRecord(
        platform=PLATFORM,
        post_id=tweet_id,
        created_at=created_at,
        text=text,
        author_id=author_id,
        author_name=username,
        url=f"https://x.com/{username}/status/{tweet_id}"
        if username
        else f"https://x.com/i/web/status/{tweet_id}",
        hashtags=hashtags,
        like_count=int_or_none(metrics.get("like_count")),
        comment_count=int_or_none(metrics.get("reply_count")),
        share_count=shares,
        view_count=int_or_none(metrics.get("impression_count")),
        lang=item.get("lang") if isinstance(item.get("lang"), str) else None,
        provider=PROVIDER,
        payload={"data": item, "includes": includes},
        author_followers=followers,
    )


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
    ):
        self._token = bearer_token
        self.settings = tracking.twitter
        self.queries = build_search_queries(
            [*tracking.place_terms, *extra_terms],
            tracking.hashtags,
            exclude_retweets=self.settings.exclude_retweets,
            max_length=self.settings.max_query_length,
        )
        self.client = tweepy.Client(
            bearer_token=bearer_token.reveal(), return_type=dict, wait_on_rate_limit=False
        )
        # tweepy's own session sets no timeout; this one gives every request one.
        self.client.session = session if session is not None else TimeoutSession(timeout)
        self.clock = clock
        self.sleep = sleep
        self.policy = policy or RetryPolicy(max_attempts=max(3, self.settings.max_rate_limit_waits) + 1)

    def __repr__(self) -> str:
        return f"TwitterSource(queries={len(self.queries)}, token={self._token!r})"

    def fetch_posts(
        self, platform: str, days: list[date], cursors: Mapping[str, str] | None = None
    ) -> FetchResult:
        if platform != PLATFORM:
            raise ValueError(f"{type(self).__name__} collects {PLATFORM}, not {platform}")
        telemetry = FetchTelemetry()
        posts: dict[str, PostRecord] = {}
        quarantined: list[QuarantinedRecord] = []
        newest_ids: dict[str, str] = {}
        now = self.clock()
        earliest = now - RECENT_SEARCH_WINDOW + timedelta(minutes=self.settings.window_margin_minutes)
        latest = now - END_TIME_LAG

        wanted: list[date] = []
        for day in sorted(set(days)):
            start, end = kedah_date_bounds(day)
            if end <= earliest:
                telemetry.notes.append(
                    f"{day}: older than X recent search's 7-day window; no rows fetched "
                    "(the raw table keeps what earlier polls collected)"
                )
            elif start >= latest:
                telemetry.notes.append(f"{day}: not started yet in Kedah; nothing to fetch")
            else:
                wanted.append(day)
        wanted_set = set(wanted)

        for first, last in _contiguous_runs(wanted):
            start_time = max(kedah_date_bounds(first)[0], earliest)
            end_time = min(kedah_date_bounds(last)[1], latest)
            for query in self.queries:
                since_id = (cursors or {}).get(query)
                newest = self._search(
                    query, start_time, end_time, since_id, wanted_set, posts, quarantined, telemetry
                )
                best = max((int(x) for x in (newest, newest_ids.get(query), since_id) if x), default=None)
                if best is not None:
                    newest_ids[query] = str(best)
        return FetchResult(list(posts.values()), quarantined, telemetry, PROVIDER, cursors=newest_ids)

    def _search(
        self,
        query: str,
        start_time: datetime,
        end_time: datetime,
        since_id: str | None,
        wanted: set[date],
        posts: dict[str, PostRecord],
        quarantined: list[QuarantinedRecord],
        telemetry: FetchTelemetry,
    ) -> str | None:
        window: dict[str, Any] = {"end_time": end_time}
        # since_id is used only when it was minted inside this window: then it is tighter than
        # start_time (and inside the 7 days X accepts). An older one, or one newer than the window
        # (a backfill of earlier days), leaves start_time to bound the search.
        if since_id and since_id.isdigit() and start_time <= tweet_id_time(since_id) < end_time:
            window["since_id"] = since_id
        else:
            window["start_time"] = start_time
        newest: int | None = None
        next_token: str | None = None
        for _ in range(self.settings.max_pages_per_query):
            page = self._call(query, window, next_token, telemetry)
            telemetry.pages += 1
            data = page.get("data") or []
            includes = page.get("includes") or {}
            users = {u["id"]: u for u in includes.get("users") or [] if isinstance(u, dict) and "id" in u}
            places = {p["id"]: p for p in includes.get("places") or [] if isinstance(p, dict) and "id" in p}
            if page.get("errors"):
                telemetry.notes.append(
                    f"X returned {len(page['errors'])} partial errors (e.g. withheld authors)"
                )
            for item in data:
                record = tweet_to_post(item, users, places)
                if isinstance(record, QuarantinedRecord):
                    quarantined.append(record)
                    continue
                newest = max(newest or 0, int(record.post_id))
                if kedah_date(record.created_at) in wanted:
                    posts[record.post_id] = record
            next_token = (page.get("meta") or {}).get("next_token")
            if not next_token:
                break
        else:
            telemetry.notes.append(
                f"stopped after {self.settings.max_pages_per_query} pages for query {query[:60]!r}...; "
                "more posts remain (raise twitter.max_pages_per_query or poll more often)"
            )
        return str(newest) if newest else None

    def _call(
        self, query: str, window: dict[str, Any], next_token: str | None, telemetry: FetchTelemetry
    ) -> dict[str, Any]:
        secrets = [self._token]

        def said(exc: Exception) -> str:
            return scrub(str(exc), secrets).replace("\n", " ")

        def attempt() -> dict[str, Any]:
            telemetry.api_calls += 1
            try:
                return self.client.search_recent_tweets(
                    query,
                    max_results=self.settings.max_results_per_page,
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
                raise CredentialsError(
                    X_BEARER_TOKEN.name,
                    "X rejected the bearer token (401 Unauthorized); set a valid app bearer token",
                ) from None
            except tweepy.Forbidden as exc:
                raise PermissionDenied(
                    f"X recent search forbidden ({said(exc)}); "
                    f"check the plan and project of the app behind {X_BEARER_TOKEN.name}"
                ) from None
            except tweepy.BadRequest as exc:
                raise BadRequest(f"X rejected the search ({said(exc)}); query: {query}") from None
            except tweepy.HTTPException as exc:
                raise SourceError(f"X recent search: {said(exc)}") from None
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise Retryable(scrub(f"{type(exc).__name__}: {exc}", secrets)) from None

        return run_with_retries(
            attempt, what="X recent search", policy=self.policy, sleep=self.sleep, telemetry=telemetry
        )
