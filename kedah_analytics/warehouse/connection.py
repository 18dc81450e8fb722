"""One way to open a warehouse connection: bounded waits, and errors that name the server.

A PostgreSQL that accepts the TCP connection and never answers used to hang a run (and the CLI)
for minutes. Every client of the project's PostgreSQL, the warehouse's connections and Dagster's
own storage alike (``sensors/instance.py`` hands :func:`with_timeouts` to dagster-postgres), gets
the same session parameters from here: a connection gives up after ``CONNECT_TIMEOUT_S`` per address
tried, a statement after ``STATEMENT_TIMEOUT_S``, a dead peer is noticed by TCP keepalives, and the
error names host, port and database (never the password).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from kedah_analytics.config.settings import PG_URL

CONNECT_TIMEOUT_S = 5
# Day-sized writes take seconds; this only stops a statement that would otherwise wait forever.
STATEMENT_TIMEOUT_S = 600
# A dead peer (a killed server, a dropped network) is noticed within about 10 + 3 x 5 s.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


class WarehouseUnavailable(ConnectionError):
    """The warehouse could not be reached or did not answer in time (transient: worth a retry)."""


class MalformedUrl(ValueError):
    """The PostgreSQL URL cannot be parsed (a mistake in the configuration: never retried)."""


def url_parameters(url: str) -> dict[str, str]:
    """The connection parameters ``url`` names; :class:`MalformedUrl` when libpq cannot parse it.
    libpq's own message may quote the URL (and its password), so it is not repeated."""
    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except psycopg.ProgrammingError:
        raise MalformedUrl(
            f"{PG_URL.name} is not a PostgreSQL URL libpq can read; expected "
            "postgresql://user:password@host:port/database[?param=value]"
        ) from None


def describe_server(url: str) -> str:
    """``host:port/dbname`` of a connection string, without user or password."""
    try:
        params = url_parameters(url)
    except MalformedUrl:
        return "(an unparseable PostgreSQL URL)"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


def session_parameters(url: str, connect_timeout_s: int = CONNECT_TIMEOUT_S) -> dict[str, str]:
    """The timeouts and keepalives every connection gets, less those ``url`` names itself."""
    named = url_parameters(url)
    wanted = {
        "connect_timeout": str(connect_timeout_s),
        **{k: str(v) for k, v in KEEPALIVES.items()},
        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_S * 1000}",
    }
    return {k: v for k, v in wanted.items() if not named.get(k)}


def with_timeouts(url: str, connect_timeout_s: int = CONNECT_TIMEOUT_S) -> str:
    """``url`` with the session parameters it does not name (kept when it does), in a form that
    libpq, psycopg and SQLAlchemy (dagster-postgres) all read."""
    extra = session_parameters(url, connect_timeout_s)
    if not extra:
        return url
    if "://" not in url:
        return make_conninfo(url, **extra)
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in extra.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def connect(url: str, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection:
    """A connection with connect and statement timeouts and TCP keepalives."""
    params: dict[str, Any] = {**session_parameters(url), **kwargs}
    timeout = url_parameters(url).get("connect_timeout") or params.get("connect_timeout")
    try:
        return psycopg.connect(url, autocommit=autocommit, **params)
    except psycopg.OperationalError as err:
        raise WarehouseUnavailable(
            f"PostgreSQL at {describe_server(url)} did not accept a connection within {timeout} s: "
            f"{str(err).strip()}"
        ) from err
