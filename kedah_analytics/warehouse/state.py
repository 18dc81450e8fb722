"""Source state kept in PostgreSQL, so budgets, caches and cursors hold across runs and processes.

Persistent versions of the in-memory defaults: :class:`PgHashtagLedger` (Instagram's 30 unique
hashtags per account in any 7 days), the daily counters :class:`PgSearchCallBudget` (YouTube's
search.list calls per Pacific day) and :class:`PgPostReadBudget` (X post reads per UTC day,
migration ``0007``), both one :class:`PgDailyCounter`,
:class:`PgTrendsCache` (Google Trends answers with a time to live), and the provider
cursors of ``kedah.source_cursors`` (X's newest tweet id per query). Tables come from migration
``0003_sources``; every statement is parameterised, and each call uses its own short connection
(autocommit), so one object is safe to share between threads (a hashtag ledger's poll, one thread,
shares one).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
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
    hashtag ids already found. Implements :class:`~kedah_analytics.sources.meta.instagram.HashtagLedger`.

    Each call uses its own short connection, except on the ledger :meth:`for_one_poll` yields,
    whose calls share one (a poll asks three or four questions per hashtag)."""

    def __init__(self, conninfo: str, *, conn: psycopg.Connection | None = None):
        self.conninfo = conninfo
        self._conn = conn

    def __repr__(self) -> str:
        return "PgHashtagLedger(kedah.instagram_hashtag_queries)"

    @contextmanager
    def for_one_poll(self) -> Iterator[PgHashtagLedger]:
        """This ledger on one connection (autocommit), closed when the poll is done."""
        with _connect(self.conninfo) as conn:
            yield PgHashtagLedger(self.conninfo, conn=conn)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        if self._conn is not None:
            yield self._conn
        else:
            with _connect(self.conninfo) as conn:
                yield conn

    def queried_since(self, account_id: str, since: datetime) -> set[str]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT hashtag FROM kedah.instagram_hashtag_queries WHERE account_id = %s AND queried_at > %s",
                (account_id, since),
            ).fetchall()
        return {row[0] for row in rows}

    def record_query(self, account_id: str, hashtag: str, at: datetime) -> None:
        # GREATEST: two runs recording out of order must not shorten the 7-day window.
        with self._connection() as conn:
            conn.execute(
                """INSERT INTO kedah.instagram_hashtag_queries (account_id, hashtag, queried_at)
                   VALUES (%s, %s, %s)
                   ON CONFLICT (account_id, hashtag)
                   DO UPDATE SET queried_at = GREATEST(kedah.instagram_hashtag_queries.queried_at,
                                                      EXCLUDED.queried_at)""",
                (account_id, hashtag, at),
            )

    def hashtag_id(self, hashtag: str) -> str | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT hashtag_id FROM kedah.instagram_hashtag_ids WHERE hashtag = %s", (hashtag,)
            ).fetchone()
        return row[0] if row else None

    def remember_hashtag_id(self, hashtag: str, hashtag_id: str) -> None:
        with self._connection() as conn:
            conn.execute(
                """INSERT INTO kedah.instagram_hashtag_ids (hashtag, hashtag_id) VALUES (%s, %s)
                   ON CONFLICT (hashtag) DO UPDATE SET hashtag_id = EXCLUDED.hashtag_id, found_at = now()""",
                (hashtag, hashtag_id),
            )


class PgDailyCounter:
    """A provider's spending per day, in one table of ``(day, amount[, calls])``. Implements
    :class:`~kedah_analytics.sources.common.budget.DailyCounter`; ``spend`` is one atomic upsert,
    so concurrent runs add up instead of overwriting each other. Subclasses name the table and
    its columns (identifiers from code, never from input)."""

    table: str
    day_column: str
    amount_column: str
    calls_column: str | None = None

    def __init__(self, conninfo: str):
        self.conninfo = conninfo

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kedah.{self.table})"

    def spent(self, day: date) -> int:
        query = sql.SQL("SELECT {amount} FROM kedah.{table} WHERE {day} = %s").format(
            amount=sql.Identifier(self.amount_column),
            table=sql.Identifier(self.table),
            day=sql.Identifier(self.day_column),
        )
        with _connect(self.conninfo) as conn:
            row = conn.execute(query, (day,)).fetchone()
        return int(row[0]) if row else 0

    def spend(self, day: date, amount: int = 1, calls: int = 1) -> None:
        columns = [self.day_column, self.amount_column]
        values: list[object] = [day, amount]
        if self.calls_column:
            columns.append(self.calls_column)
            values.append(calls)
        table = sql.Identifier("kedah", self.table)
        added = [
            sql.SQL("{c} = {t}.{c} + EXCLUDED.{c}").format(c=sql.Identifier(c), t=table) for c in columns[1:]
        ]
        query = sql.SQL(
            "INSERT INTO {table} ({columns}) VALUES ({values}) "
            "ON CONFLICT ({day}) DO UPDATE SET {added}, updated_at = now()"
        ).format(
            table=table,
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            day=sql.Identifier(self.day_column),
            added=sql.SQL(", ").join(added),
        )
        with _connect(self.conninfo) as conn:
            conn.execute(query, values)


class PgSearchCallBudget(PgDailyCounter):
    """YouTube ``search.list`` calls spent per Pacific day."""

    table, day_column, amount_column = "youtube_search_calls", "pacific_day", "calls"


class PgPostReadBudget(PgDailyCounter):
    """X post reads (and the calls that read them) per UTC day (X bills per post read)."""

    table, day_column, amount_column, calls_column = "x_post_reads", "utc_day", "posts", "api_calls"


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
