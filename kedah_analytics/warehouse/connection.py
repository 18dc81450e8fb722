"""One way to open a warehouse connection: bounded waits, and errors that name the server.

A PostgreSQL that accepts the TCP connection and never answers used to hang a run (and the CLI)
for minutes; a connection now gives up after ``CONNECT_TIMEOUT_S`` per address tried, a statement
after ``STATEMENT_TIMEOUT_S``, and the error names host, port and database (never the password).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

CONNECT_TIMEOUT_S = 10
# Day-sized writes take seconds; this only stops a statement that would otherwise wait forever.
STATEMENT_TIMEOUT_S = 600
# A dead peer (a killed server, a dropped network) is noticed within about 10 + 3 x 5 s.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


class WarehouseUnavailable(ConnectionError):
    """The warehouse could not be reached or did not answer in time (transient: worth a retry)."""


def describe_server(url: str) -> str:
    """``host:port/dbname`` of a connection string, without user or password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unparseable PostgreSQL URL)"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


def with_timeouts(url: str, connect_timeout_s: int = CONNECT_TIMEOUT_S) -> str:
    """``url`` with ``connect_timeout`` added when it names none (kept when it does)."""
    params = conninfo_to_dict(url)
    if params.get("connect_timeout"):
        return url
    separator = "&" if "?" in url else "?"
    if "://" in url:
        return f"{url}{separator}connect_timeout={connect_timeout_s}"
    return make_conninfo(url, connect_timeout=connect_timeout_s)


def connect(url: str, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection:
    """A connection with connect and statement timeouts and TCP keepalives."""
    params: dict[str, Any] = {**KEEPALIVES, **kwargs}
    if not conninfo_to_dict(url).get("connect_timeout"):
        params["connect_timeout"] = CONNECT_TIMEOUT_S
    params.setdefault("options", f"-c statement_timeout={STATEMENT_TIMEOUT_S * 1000}")
    try:
        return psycopg.connect(url, autocommit=autocommit, **params)
    except psycopg.OperationalError as err:
        raise WarehouseUnavailable(
            f"PostgreSQL at {describe_server(url)} did not accept a connection within "
            f"{params['connect_timeout'] if 'connect_timeout' in params else 'its connect_timeout'} s: "
            f"{str(err).strip()}"
        ) from err
