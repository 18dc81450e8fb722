"""Source state kept in PostgreSQL, so budgets, caches and cursors hold across runs and processes.

Persistent versions of the in-memory defaults: :class:`PgHashtagLedger` (Instagram's 30 unique
hashtags per account in any 7 days), :class:`PgSearchCallBudget` (YouTube's search.list calls per
Pacific day), :class:`PgPostReadBudget` (X post reads per UTC day, migration ``0007``),
:class:`PgTrendsCache` (Google Trends answers with a time to live), and the provider
cursors of ``kedah.source_cursors`` (X's newest tweet id per query). Tables come from migration
``0003_sources``; every statement is parameterised, and each call uses its own short connection
(autocommit), so one object is safe to share between threads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from kedah_analytics.domain import SearchInterestRecord, Sentiment, TrendsKey
from kedah_analytics.warehouse.connection import connect
from kedah_analytics.warehouse.locks import lock_keys


@contextmanager
def _connect(conninfo: str) -> Iterator[psycopg.Connection]:
    with connect(conninfo, autocommit=True) as conn:
        yield conn


class PgHashtagLedger:
    """Which hashtags an Instagram account queried and when (the latest time per hashtag), and the
    hashtag ids already found. Implements :class:`~kedah_analytics.sources.meta.instagram.HashtagLedger`."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo

    def __repr__(self) -> str:
        return "PgHashtagLedger(kedah.instagram_hashtag_queries)"

    def queried_since(self, account_id: str, since: datetime) -> set[str]:
        with _connect(self.conninfo) as conn:
            rows = conn.execute(
                "SELECT hashtag FROM kedah.instagram_hashtag_queries WHERE account_id = %s AND queried_at > %s",
                (account_id, since),
            ).fetchall()
        return {row[0] for row in rows}

    def record_query(self, account_id: str, hashtag: str, at: datetime) -> None:
        # GREATEST: two runs recording out of order must not shorten the 7-day window.
        with _connect(self.conninfo) as conn:
            conn.execute(
                """INSERT INTO kedah.instagram_hashtag_queries (account_id, hashtag, queried_at)
                   VALUES (%s, %s, %s)
                   ON CONFLICT (account_id, hashtag)
                   DO UPDATE SET queried_at = GREATEST(kedah.instagram_hashtag_queries.queried_at,
                                                      EXCLUDED.queried_at)""",
                (account_id, hashtag, at),
            )

    def hashtag_id(self, hashtag: str) -> str | None:
        with _connect(self.conninfo) as conn:
            row = conn.execute(
                "SELECT hashtag_id FROM kedah.instagram_hashtag_ids WHERE hashtag = %s", (hashtag,)
            ).fetchone()
        return row[0] if row else None

    def remember_hashtag_id(self, hashtag: str, hashtag_id: str) -> None:
        with _connect(self.conninfo) as conn:
            conn.execute(
                """INSERT INTO kedah.instagram_hashtag_ids (hashtag, hashtag_id) VALUES (%s, %s)
                   ON CONFLICT (hashtag) DO UPDATE SET hashtag_id = EXCLUDED.hashtag_id, found_at = now()""",
                (hashtag, hashtag_id),
            )


class PgSearchCallBudget:
    """YouTube ``search.list`` calls spent per Pacific day. Implements
    :class:`~kedah_analytics.sources.youtube.videos.SearchCallBudget`; ``spend`` is one atomic upsert, so
    concurrent runs add up instead of overwriting each other."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo

    def __repr__(self) -> str:
        return "PgSearchCallBudget(kedah.youtube_search_calls)"

    def spent(self, pacific_day: date) -> int:
        with _connect(self.conninfo) as conn:
            row = conn.execute(
                "SELECT calls FROM kedah.youtube_search_calls WHERE pacific_day = %s", (pacific_day,)
            ).fetchone()
        return int(row[0]) if row else 0

    def spend(self, pacific_day: date, calls: int = 1) -> None:
        with _connect(self.conninfo) as conn:
            conn.execute(
                """INSERT INTO kedah.youtube_search_calls (pacific_day, calls) VALUES (%s, %s)
                   ON CONFLICT (pacific_day)
                   DO UPDATE SET calls = kedah.youtube_search_calls.calls + EXCLUDED.calls, updated_at = now()""",
                (pacific_day, calls),
            )


class PgPostReadBudget:
    """X post reads per UTC day (X bills per post read). Implements
    :class:`~kedah_analytics.sources.twitter.search.PostReadBudget`; ``spend`` is one atomic upsert, so
    concurrent runs add up instead of overwriting each other."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo

    def __repr__(self) -> str:
        return "PgPostReadBudget(kedah.x_post_reads)"

    def spent(self, utc_day: date) -> int:
        with _connect(self.conninfo) as conn:
            row = conn.execute(
                "SELECT posts FROM kedah.x_post_reads WHERE utc_day = %s", (utc_day,)
            ).fetchone()
        return int(row[0]) if row else 0

    def spend(self, utc_day: date, posts: int, calls: int = 1) -> None:
        with _connect(self.conninfo) as conn:
            conn.execute(
                """INSERT INTO kedah.x_post_reads (utc_day, posts, api_calls) VALUES (%s, %s, %s)
                   ON CONFLICT (utc_day) DO UPDATE SET
                       posts = kedah.x_post_reads.posts + EXCLUDED.posts,
                       api_calls = kedah.x_post_reads.api_calls + EXCLUDED.api_calls,
                       updated_at = now()""",
                (utc_day, posts, calls),
            )


def _record_to_json(record: SearchInterestRecord) -> dict[str, Any]:
    return {
        "date": record.date.isoformat(),
        "keyword": record.keyword,
        "interest": record.interest,
        "is_partial": record.is_partial,
        "geo": record.geo,
        "timeframe": record.timeframe,
        "keyword_group": list(record.keyword_group),
        "provider": record.provider,
    }


def _record_from_json(item: Mapping[str, Any]) -> SearchInterestRecord:
    return SearchInterestRecord(
        date=date.fromisoformat(item["date"]),
        keyword=item["keyword"],
        interest=int(item["interest"]),
        is_partial=bool(item["is_partial"]),
        geo=item["geo"],
        timeframe=item["timeframe"],
        keyword_group=tuple(item["keyword_group"]),
        provider=item["provider"],
    )


class PgTrendsCache:
    """Google Trends answers per request (keywords, timeframe, geo, tz), fresh for ``ttl``.
    Implements :class:`~kedah_analytics.sources.google_trends.client.TrendsCache`."""

    def __init__(self, conninfo: str, ttl: timedelta = timedelta(hours=6)):
        self.conninfo = conninfo
        self.ttl = ttl

    def __repr__(self) -> str:
        return f"PgTrendsCache(kedah.google_trends_cache, ttl={self.ttl})"

    def get(self, key: TrendsKey, now: datetime) -> list[SearchInterestRecord] | None:
        keywords, timeframe, geo, tz = key
        with _connect(self.conninfo) as conn:
            row = conn.execute(
                """SELECT fetched_at, rows FROM kedah.google_trends_cache
                   WHERE keywords = %s AND timeframe = %s AND geo = %s AND tz = %s""",
                (list(keywords), timeframe, geo, tz),
            ).fetchone()
        if row is None or now - row[0] > self.ttl:
            return None
        return [_record_from_json(item) for item in row[1]]

    def put(self, key: TrendsKey, rows: list[SearchInterestRecord], fetched_at: datetime) -> None:
        keywords, timeframe, geo, tz = key
        with _connect(self.conninfo) as conn:
            conn.execute(
                """INSERT INTO kedah.google_trends_cache (keywords, timeframe, geo, tz, fetched_at, rows)
                   VALUES (%s, %s, %s, %s, %s, %s)
                   ON CONFLICT (keywords, timeframe, geo, tz)
                   DO UPDATE SET fetched_at = EXCLUDED.fetched_at, rows = EXCLUDED.rows""",
                (list(keywords), timeframe, geo, tz, fetched_at, Jsonb([_record_to_json(r) for r in rows])),
            )


# --- provider cursors ---------------------------------------------------------------------------


def load_cursors(conninfo: str, provider: str) -> dict[str, str]:
    """The stored cursors of ``provider`` (e.g. ``{x_query: newest_tweet_id}``)."""
    with _connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT cursor_key, value FROM kedah.source_cursors WHERE provider = %s", (provider,)
        ).fetchall()
    return dict(rows)


def save_cursors(conn: psycopg.Connection, provider: str, cursors: Mapping[str, str]) -> int:
    """Upsert ``cursors`` on ``conn`` (inside the caller's transaction, with the rows they cover).

    Numeric cursors (tweet ids) only move forward: a run that started earlier and finishes later
    cannot rewind the cursor another run already advanced.
    """
    if not cursors:
        return 0
    with conn.transaction(), conn.cursor() as cur:
        # Two runs saving the same provider's cursors take turns (and never deadlock on row order).
        lock_keys(cur, [("source_cursors", provider)])
        cur.executemany(
            r"""INSERT INTO kedah.source_cursors (provider, cursor_key, value) VALUES (%s, %s, %s)
                ON CONFLICT (provider, cursor_key) DO UPDATE SET
                    value = CASE
                        WHEN kedah.source_cursors.value ~ '^\d+$' AND EXCLUDED.value ~ '^\d+$'
                             AND kedah.source_cursors.value::numeric > EXCLUDED.value::numeric
                        THEN kedah.source_cursors.value
                        ELSE EXCLUDED.value END,
                    updated_at = now()""",
            [(provider, key, str(value)) for key, value in sorted(cursors.items())],
        )
    return len(cursors)


class PgSentimentCache:
    """``kedah.sentiment_cache``: Gemini results keyed by the post text's hash and the classifier
    version, so re-materializing never pays twice."""

    def __init__(self, url: str):
        self.url = url

    def get_many(self, keys: Sequence[str]) -> dict[str, Sentiment]:
        if not keys:
            return {}
        with _connect(self.url) as conn:
            rows = conn.execute(
                "SELECT cache_key, label, score, confidence FROM kedah.sentiment_cache WHERE cache_key = ANY(%s)",
                (list(keys),),
            ).fetchall()
        return {key: Sentiment(label, score, confidence) for key, label, score, confidence in rows}

    def put_many(self, items: Mapping[str, Sentiment]) -> None:
        if not items:
            return
        with _connect(self.url) as conn, conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO kedah.sentiment_cache (cache_key, label, score, confidence)
                   VALUES (%s, %s, %s, %s) ON CONFLICT (cache_key) DO NOTHING""",
                [(k, s.label, s.score, s.confidence) for k, s in items.items()],
            )
