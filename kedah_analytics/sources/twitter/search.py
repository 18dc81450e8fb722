"""X (Twitter) recent search through tweepy: posts about Kedah places and hashtags.

Recent search sees the last 7 days only and bills per post read, so a poll asks only for what is
new (``since_id`` per query) and the raw table keeps what older polls collected.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import requests
import tweepy

from kedah_analytics.config.settings import X_BEARER_TOKEN, X_DAILY_POST_READS
from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.domain import PostRecord, kedah_date_bounds
from kedah_analytics.sources.common.base import (
    BadRequest,
    CredentialsError,
    FetchResult,
    FetchTelemetry,
    PermissionDenied,
    SourceError,
)
from kedah_analytics.sources.common.pages import PageReader
from kedah_analytics.sources.common.parsing import (
    BadValue,
    count,
    decode_entities,
    is_hashtag,
    item_id,
    mapping_or_empty,
    optional_str,
    optional_text,
    post_time,
)
from kedah_analytics.sources.common.retry import (
    DEFAULT_TIMEOUT,
    Clock,
    Retryable,
    RetryPolicy,
    Sleep,
    TimeoutSession,
    run_with_retries,
    utcnow,
)
from kedah_analytics.sources.common.secrets import Secret, scrub

PROVIDER = "x_api_v2"
PLATFORM = "twitter"

TWEET_FIELDS = [
    "created_at", "lang", "public_metrics", "author_id", "geo", "conversation_id", "entities",
    "note_tweet", "edit_history_tweet_ids", "referenced_tweets", "withheld",
]  # fmt: skip
# referenced_tweets.id brings retweeted and quoted originals whole into includes.tweets, and
# referenced_tweets.id.author_id their authors into includes.users.
EXPANSIONS = ["author_id", "geo.place_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
USER_FIELDS = ["username", "name", "public_metrics", "verified", "location", "withheld"]
MIN_RESULTS_PER_PAGE = 10  # X refuses max_results below 10
# Pay-per-use prices (February 2026): an estimate for the metadata, not an invoice.
POST_READ_USD = 0.005
USER_READ_USD = 0.010
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


@dataclass
class SearchIncludes:
    """A search page's ``includes``, by id: authors, places, and the referenced posts (the
    originals of retweets and quotes, whole, with their own counts)."""

    users: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    places: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    tweets: dict[str, Any] = field(default_factory=dict)


def _by_id(items: list[Any]) -> dict[str, Any]:
    return {i["id"]: i for i in items if isinstance(i, Mapping) and isinstance(i.get("id"), str)}


def _edit_chain(item: Mapping[str, Any], tweet_id: str) -> list[str]:
    """The ids of every version of the post, oldest first (X lists them in edit order)."""
    raw = item.get("edit_history_tweet_ids")
    if raw is None:
        return [tweet_id]
    if not isinstance(raw, list) or not raw:
        raise BadValue(f"edit_history_tweet_ids is not a list of ids: {raw!r:.80}")
    chain = [item_id(v, "edit_history_tweet_ids entry", digits=True) for v in raw]
    if tweet_id not in chain:
        raise BadValue("tweet is missing from its own edit_history_tweet_ids")
    return sorted(set(chain), key=int)


def referenced(item: Any, kind: str) -> str | None:
    """The id of the post ``item`` references as ``kind`` (retweeted, quoted, replied_to)."""
    if not isinstance(item, Mapping) or not isinstance(item.get("referenced_tweets"), list):
        return None
    for ref in item["referenced_tweets"]:
        if isinstance(ref, Mapping) and ref.get("type") == kind and isinstance(ref.get("id"), str):
            return ref["id"]
    return None


def is_withheld(item: Mapping[str, Any], user: Mapping[str, Any] | None) -> bool:
    """X marks a withheld post, or a post of a withheld author, with a ``withheld`` object."""
    return isinstance(item.get("withheld"), Mapping) or bool(
        user and isinstance(user.get("withheld"), Mapping)
    )


def tweet_to_post(item: Any, includes: SearchIncludes | None = None) -> PostRecord:
    """One post from a search page (or from ``includes.tweets``), joined to its author and place.

    Text is what a person reads: the note_tweet's full text when present, HTML entities decoded.
    An edited post is keyed by the first id of its edit chain and lists the earlier versions; a
    withheld one keeps its counts but not X's placeholder text. Raises :class:`BadValue` for
    what cannot be a row.
    """
    includes = includes or SearchIncludes()
    if not isinstance(item, Mapping):
        raise BadValue(f"tweet is a {type(item).__name__}, not a JSON object")
    version_id = item_id(item.get("id"), "tweet id", digits=True)
    chain = _edit_chain(item, version_id)
    key = chain[0]
    created_at = post_time(item.get("created_at"), "created_at")
    if key != version_id:
        # An edit: file the row under the first version's time, so the chain stays on one row and day.
        created_at = post_time(tweet_id_time(key).isoformat(), "first version's time")
    note = mapping_or_empty(item.get("note_tweet"))
    text = optional_text(note.get("text"), "note_tweet.text") or optional_text(item.get("text"), "text")
    if text is None:
        raise BadValue("tweet has no text")
    entities = mapping_or_empty(note.get("entities")) if note.get("text") else {}
    entities = entities or mapping_or_empty(item.get("entities"))
    raw_tags = entities.get("hashtags")
    hashtags = tuple(
        dict.fromkeys(
            h["tag"]
            for h in (raw_tags if isinstance(raw_tags, list) else [])
            if isinstance(h, Mapping) and isinstance(h.get("tag"), str) and is_hashtag(h["tag"])
        )
    )

    metrics = item.get("public_metrics")
    if metrics is not None and not isinstance(metrics, Mapping):
        raise BadValue(f"public_metrics is a {type(metrics).__name__}, not an object")
    metrics = metrics or {}
    retweets = count(metrics.get("retweet_count"), "retweet_count")
    quotes = count(metrics.get("quote_count"), "quote_count")
    shares = None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0)

    author_id = optional_str(item.get("author_id"))
    user = includes.users.get(author_id) if author_id else None
    username = optional_str(user.get("username")) if user else None
    followers = None
    if user and isinstance(user.get("public_metrics"), Mapping):
        followers = count(user["public_metrics"].get("followers_count"), "author followers_count")
    place_id = mapping_or_empty(item.get("geo")).get("place_id")
    place = includes.places.get(place_id) if isinstance(place_id, str) else None

    withheld = is_withheld(item, user)
    if withheld:
        # X's placeholder sentence is not the author's text: keep it out of every text metric.
        text, hashtags = "", ()
    payload_includes: dict[str, Any] = {}
    if user:
        payload_includes["users"] = [dict(user)]
    if place:
        payload_includes["places"] = [dict(place)]
    return PostRecord(
        platform=PLATFORM,
        post_id=key,
        created_at=created_at,
        text=decode_entities(text),
        author_id=author_id,
        author_name=username,
        url=f"https://x.com/{username}/status/{version_id}"
        if username
        else f"https://x.com/i/web/status/{version_id}",
        hashtags=hashtags,
        like_count=count(metrics.get("like_count"), "like_count"),
        comment_count=count(metrics.get("reply_count"), "reply_count"),
        share_count=shares,
        view_count=count(metrics.get("impression_count"), "impression_count"),
        lang=optional_str(item.get("lang")),
        provider=PROVIDER,
        payload={"data": item, "includes": payload_includes},
        author_followers=followers,
        is_withheld=withheld,
        earlier_post_ids=tuple(v for v in chain if v != version_id and int(v) < int(version_id)),
        quoted_post_id=referenced(item, "quoted"),
    )


def _version(record: PostRecord) -> int:
    data = record.payload.get("data")
    raw = data.get("id") if isinstance(data, Mapping) else None
    return int(raw) if isinstance(raw, str) and raw.isdigit() else 0


def newer_version(new: PostRecord, old: PostRecord) -> bool:
    """Of two answers for one edit chain, the later version (then the later answer) is kept."""
    return _version(new) >= _version(old)


def read_search_page(page: Any, reader: PageReader) -> tuple[str | None, int | None, int]:
    """One recent-search page into ``reader``: ``(next_token, newest id read, posts billed)``.

    A retweet is not stored as a post: X gives it the original's retweet_count and a cut text.
    Its original (whole, from ``includes.tweets``) is stored instead with its own counts, and the
    retweet is folded into it; a retweet whose original X did not include is folded with a note.
    Quote posts are stored with their own text and counts and the quoted post's id.
    """
    body = reader.page(page, "X search page")
    if body is None:
        return None, None, 0
    data = reader.list_field(body, "data", "X search page")
    raw_includes = reader.mapping_field(body, "includes", "X search page")
    meta = reader.mapping_field(body, "meta", "X search page")
    includes = SearchIncludes(
        users=_by_id(reader.list_field(raw_includes, "users", "X search includes")),
        places=_by_id(reader.list_field(raw_includes, "places", "X search includes")),
        tweets=_by_id(reader.list_field(raw_includes, "tweets", "X search includes")),
    )
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        reader.telemetry.notes.append(f"X returned {len(errors)} partial errors (e.g. withheld authors)")

    def normalize(item: Any) -> PostRecord:
        return tweet_to_post(item, includes)

    newest: int | None = None
    for item in data:
        original_id = referenced(item, "retweeted")
        if original_id is None:
            record = reader.read(item, normalize, where="X: ")
            if record is None:
                continue
            reader.keep(record, prefer=newer_version)
            newest = max(newest or 0, _version(record))
            continue
        # A retweet: its id moves the cursor, its metrics are the original's and are not stored.
        reader.tally.read += 1
        retweet_id = item.get("id") if isinstance(item, Mapping) else None
        try:
            retweet_id = item_id(retweet_id, "retweet id", digits=True)
            count(int(retweet_id), "retweet id")
        except BadValue as exc:
            reader.quarantine_item(f"X: retweet of {original_id:.40}: {exc}", item)
            continue
        newest = max(newest or 0, int(retweet_id))
        original = includes.tweets.get(original_id)
        if original is None:
            reader.fold(f"retweet {retweet_id} of {original_id:.40} left out: X did not include the original")
            continue
        reader.fold()
        record = reader.read(original, normalize, where=f"X: original of retweet {retweet_id}: ")
        if record is not None:
            reader.keep(record, prefer=newer_version)
    next_token = reader.text_field(meta, "next_token", "X search meta")
    billed = len(data) + len(includes.tweets)
    return next_token, newest, billed


@dataclass
class ReadCount:
    """What one fetch had X bill: posts and users read, and whether the budget stopped it."""

    posts: int = 0
    users: int = 0
    stopped: bool = False


def _count_users(page: Any) -> int:
    includes = page.get("includes") if isinstance(page, Mapping) else None
    users = includes.get("users") if isinstance(includes, Mapping) else None
    return len(users) if isinstance(users, list) else 0


def _contiguous_runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


class PostReadBudget(Protocol):
    """X post reads billed per UTC day (X charges per post read and resets its day at UTC midnight)."""

    def spent(self, utc_day: date) -> int: ...

    def spend(self, utc_day: date, posts: int, calls: int = 1) -> None: ...


class InMemoryPostReadBudget:
    """A process-local counter (tests, one-off runs). A deployment uses a persistent one."""

    def __init__(self) -> None:
        self._spent: dict[date, int] = {}
        self._lock = threading.Lock()

    def spent(self, utc_day: date) -> int:
        return self._spent.get(utc_day, 0)

    def spend(self, utc_day: date, posts: int, calls: int = 1) -> None:
        with self._lock:
            self._spent[utc_day] = self._spent.get(utc_day, 0) + posts


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
        read_budget: PostReadBudget | None = None,
        daily_post_reads: int = int(X_DAILY_POST_READS.default or 2000),
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
        self.read_budget: PostReadBudget = (
            read_budget if read_budget is not None else InMemoryPostReadBudget()
        )
        self.daily_post_reads = daily_post_reads

    def __repr__(self) -> str:
        return f"TwitterSource(queries={len(self.queries)}, token={self._token!r})"

    def fetch_posts(
        self, platform: str, days: list[date], cursors: Mapping[str, str] | None = None
    ) -> FetchResult:
        if platform != PLATFORM:
            raise ValueError(f"{type(self).__name__} collects {PLATFORM}, not {platform}")
        telemetry = FetchTelemetry()
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
        reader = PageReader(PLATFORM, PROVIDER, wanted, telemetry)
        reads = ReadCount()

        for first, last in _contiguous_runs(wanted):
            start_time = max(kedah_date_bounds(first)[0], earliest)
            end_time = min(kedah_date_bounds(last)[1], latest)
            for query in self.queries:
                since_id = (cursors or {}).get(query)
                newest, complete = self._search(query, start_time, end_time, since_id, reader, reads)
                # A query cut short by the budget keeps its old cursor: the unread posts between it
                # and the newest one read would otherwise be skipped for good.
                candidates = (newest if complete else None, newest_ids.get(query), since_id)
                best = max((int(x) for x in candidates if x and x.isdigit()), default=None)
                if best is not None:
                    newest_ids[query] = str(best)
        telemetry.details.update(self._budget_details(reads))
        telemetry.levels |= {"x_daily_post_reads", "x_post_reads_left_today"}
        telemetry.details.update(reader.metadata())
        return FetchResult(
            list(reader.posts.values()), reader.quarantined, telemetry, PROVIDER, cursors=newest_ids
        )

    def _budget_details(self, reads: ReadCount) -> dict[str, Any]:
        left = max(0, self.daily_post_reads - self.read_budget.spent(self.clock().astimezone(UTC).date()))
        return {
            "x_posts_read": reads.posts,
            "x_users_read": reads.users,
            "x_estimated_cost_usd": round(reads.posts * POST_READ_USD + reads.users * USER_READ_USD, 3),
            "x_daily_post_reads": self.daily_post_reads,
            "x_post_reads_left_today": left,
            "x_budget_stopped": reads.stopped,
        }

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
            utc_day = self.clock().astimezone(UTC).date()
            left = self.daily_post_reads - self.read_budget.spent(utc_day)
            if left < MIN_RESULTS_PER_PAGE:
                if not reads.stopped:
                    telemetry.notes.append(
                        f"X read budget reached: {self.daily_post_reads} posts a UTC day "
                        f"({X_DAILY_POST_READS.name}); stopped reading, the posts read are stored, and "
                        "the next poll after UTC midnight resumes from the cursors kept"
                    )
                reads.stopped = True
                return (str(newest) if newest else None), False
            max_results = max(MIN_RESULTS_PER_PAGE, min(self.settings.max_results_per_page, left))
            page = self._call(query, window, next_token, max_results, telemetry)
            telemetry.pages += 1
            next_token, page_newest, billed = read_search_page(page, reader)
            users = _count_users(page)
            self.read_budget.spend(utc_day, billed)
            reads.posts += billed
            reads.users += users
            if page_newest is not None:
                newest = max(newest or 0, page_newest)
            if not next_token:
                break
        else:
            telemetry.notes.append(
                f"stopped after {self.settings.max_pages_per_query} pages for query {query[:60]!r}...; "
                "more posts remain (raise twitter.max_pages_per_query or poll more often)"
            )
        return (str(newest) if newest else None), True

    def _call(
        self,
        query: str,
        window: dict[str, Any],
        next_token: str | None,
        max_results: int,
        telemetry: FetchTelemetry,
    ) -> Any:
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
            except ValueError:
                # tweepy parses the body as JSON: an HTML error page or an empty body with HTTP 200
                # makes the whole answer unusable, which a retry may fix.
                raise Retryable("X answered with a body that is not JSON (an HTML or empty page)") from None

        return run_with_retries(
            attempt, what="X recent search", policy=self.policy, sleep=self.sleep, telemetry=telemetry
        )
