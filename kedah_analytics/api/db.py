"""Warehouse connections for the API: a small pool, so a request does not pay for a connection."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from kedah_analytics import queries


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
