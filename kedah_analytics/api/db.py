"""Warehouse connections for the API: a small pool, so a request does not pay for a connection."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from kedah_analytics import queries, status


class ConnectionPool:
    """Up to ``size`` autocommit connections to ``url``, opened on demand and reused; a connection
    that broke is dropped, not returned."""

    def __init__(self, url: str, size: int = 8):
        self.url = url
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._slots = queue.Queue[None](maxsize=size)
        for _ in range(size):
            self._slots.put(None)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        self._slots.get(timeout=30)
        conn: psycopg.Connection | None = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = queries.connect(self.url)
                conn.autocommit = True  # reads only: no transaction left open between requests
            yield conn
        except Exception:
            if conn is not None and (conn.closed or conn.broken):
                conn = None
            raise
        finally:
            if conn is not None and not conn.closed and not conn.broken:
                self._idle.put(conn)
            self._slots.put(None)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class MartVersion:
    """The marts' version, kept in memory while a listener hears every change (NOTIFY at the
    writer's commit) and read from the database otherwise. A read that raced a change is not kept."""

    def __init__(self, url: str, pool: ConnectionPool):
        self.pool = pool
        self._lock = threading.Lock()
        self._value: str | None = None
        self._generation = 0
        self._listening = False
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=status.listen_for_mart_changes, args=(url, self._changed, self._stop), daemon=True
        )
        self._thread.start()

    def _changed(self, listening: bool) -> None:
        with self._lock:
            self._generation += 1
            self._value = None
            self._listening = listening

    def known(self) -> str | None:
        """The version when it is in memory (no database call), else None."""
        with self._lock:
            return self._value

    def current(self) -> str:
        with self._lock:
            if self._value is not None:
                return self._value
            generation = self._generation
        with self.pool.connection() as conn:
            value = status.mart_version(conn)
        with self._lock:
            if self._listening and generation == self._generation:
                self._value = value
        return value

    def close(self) -> None:
        self._stop.set()
