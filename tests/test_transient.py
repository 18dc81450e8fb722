"""Which failures are transient: real errors from a real PostgreSQL and the real client libraries."""

from __future__ import annotations

import socket
import threading

import httpx
import psycopg
import pydantic
import pytest
import requests
import tenacity
from google.genai import errors as genai_errors

from kedah_analytics.sources.common.base import CredentialsError, QuotaExhausted, RateLimited, SourceError
from kedah_analytics.transient import describe_error, is_transient
from kedah_analytics.warehouse.connection import WarehouseUnavailable, connect

NOWHERE = "postgresql://postgres@127.0.0.1:1/postgres"  # nothing listens on port 1: refused at once


def _raised(statement: str, url: str, *setup: str) -> psycopg.Error:
    with psycopg.connect(url, autocommit=True) as conn:
        for s in setup:
            conn.execute(s)
        with pytest.raises(psycopg.Error) as err:
            conn.execute(statement)
    return err.value


def test_an_unreachable_warehouse_is_transient():
    with pytest.raises(WarehouseUnavailable) as err:
        connect(NOWHERE)
    assert is_transient(err.value)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 'not a number'::int",  # DataError
        "SELECT * FROM kedah.no_such_table",  # ProgrammingError
        "SELECT 1/0",  # DataError (division by zero)
    ],
)
def test_bad_data_and_bad_sql_are_not_transient(pg_url, statement):
    err = _raised(statement, pg_url)
    assert isinstance(err, psycopg.DatabaseError) and not is_transient(err)


def test_a_constraint_violation_is_not_transient(pg_url):
    err = _raised("INSERT INTO t VALUES (1), (1)", pg_url, "CREATE TEMP TABLE t (id int PRIMARY KEY)")
    assert isinstance(err, psycopg.errors.UniqueViolation) and not is_transient(err)


def test_a_statement_timeout_is_transient(pg_url):
    err = _raised("SELECT pg_sleep(5)", pg_url, "SET statement_timeout = '50ms'")
    assert isinstance(err, psycopg.errors.QueryCanceled) and is_transient(err)


def test_a_lock_timeout_is_transient(pg_url):
    with psycopg.connect(pg_url) as holder:
        holder.execute("LOCK TABLE kedah.places IN ACCESS EXCLUSIVE MODE")
        err = _raised("SELECT 1 FROM kedah.places", pg_url, "SET lock_timeout = '50ms'")
        holder.rollback()
    assert isinstance(err, psycopg.errors.LockNotAvailable) and is_transient(err)


def test_a_connection_killed_by_the_server_is_transient(pg_url):
    with (
        psycopg.connect(pg_url, autocommit=True) as victim,
        psycopg.connect(pg_url, autocommit=True) as admin,
    ):
        pid = victim.info.backend_pid
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(psycopg.OperationalError) as err:
            victim.execute("SELECT 1")
    assert is_transient(err.value)


def test_a_closed_connection_is_transient(pg_url):
    conn = psycopg.connect(pg_url)
    conn.close()
    with pytest.raises(psycopg.OperationalError) as err:
        conn.execute("SELECT 1")
    assert err.value.sqlstate is None and is_transient(err.value)


def test_a_deadlock_is_transient(pg_url):
    setup = "CREATE TABLE IF NOT EXISTS public.deadlock_probe (id int PRIMARY KEY); "
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            setup + "TRUNCATE public.deadlock_probe; INSERT INTO public.deadlock_probe VALUES (1), (2)"
        )
    both_hold_one = threading.Barrier(2)
    errors: list[BaseException] = []

    def update(first: int, second: int) -> None:
        with psycopg.connect(pg_url) as conn:
            try:
                conn.execute("UPDATE public.deadlock_probe SET id = id WHERE id = %s", [first])
                both_hold_one.wait(timeout=10)
                conn.execute("UPDATE public.deadlock_probe SET id = id WHERE id = %s", [second])
            except psycopg.Error as err:
                errors.append(err)

    threads = [threading.Thread(target=update, args=pair) for pair in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE public.deadlock_probe")
    assert [type(e) for e in errors] == [psycopg.errors.DeadlockDetected]
    assert is_transient(errors[0])


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (psycopg.errors.SerializationFailure("could not serialize access"), True),
        (psycopg.errors.AdminShutdown("terminating connection"), True),
        (psycopg.errors.TooManyConnections("sorry, too many clients already"), True),
        (psycopg.errors.DiskFull("could not extend file"), False),
        (psycopg.errors.UndefinedColumn("column does not exist"), False),
        (psycopg.errors.NotNullViolation("null value"), False),
        (psycopg.errors.StringDataRightTruncation("value too long"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_database_errors_by_their_sqlstate(error, transient):
    assert is_transient(error) is transient


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (SourceError("X answered 503 four times", retryable=True), True),
        (SourceError("X rejected the query", retryable=False), False),
        (RateLimited("reset in 15 minutes"), True),
        (CredentialsError("KEDAH_X_BEARER_TOKEN", "invalid or expired"), False),
        (QuotaExhausted("monthly reads spent", reset_at=None), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_a_source_error_says_itself(error, transient):
    assert is_transient(error) is transient


def _requests_http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status}", response=response)


def _httpx_status_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "https://hooks.example/x")
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError(f"{status}", request=request, response=response)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (BrokenPipeError(32, "Broken pipe"), True),
        (TimeoutError("timed out"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), True),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), False),
        (FileNotFoundError(2, "No such file", "tracking.yaml"), False),
        (requests.ConnectionError("Max retries exceeded"), True),
        (requests.ReadTimeout("read timed out"), True),
        (requests.exceptions.ChunkedEncodingError("connection broken"), True),
        (requests.exceptions.SSLError("certificate verify failed"), False),
        (_requests_http_error(503), True),
        (_requests_http_error(429), True),
        (_requests_http_error(400), False),
        (httpx.ConnectError("connection refused"), True),
        (httpx.ReadTimeout("read timed out"), True),
        (_httpx_status_error(502), True),
        (_httpx_status_error(404), False),
        (genai_errors.ServerError(503, {"error": {"message": "overloaded", "status": "UNAVAILABLE"}}), True),
        (
            genai_errors.ClientError(429, {"error": {"message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
            True,
        ),
        (
            genai_errors.ClientError(400, {"error": {"message": "bad schema", "status": "INVALID_ARGUMENT"}}),
            False,
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_network_errors(error, transient):
    assert is_transient(error) is transient


class Post(pydantic.BaseModel):
    likes: int


def test_mistakes_in_the_code_and_bad_data_are_not_transient():
    with pytest.raises(pydantic.ValidationError) as invalid:
        Post.model_validate({"likes": "many"})
    for error in (KeyError("platform"), ValueError("bad day"), TypeError("None"), invalid.value):
        assert not is_transient(error)


def _raise(error: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        raise error from cause
    except BaseException as raised:
        return raised


def _raise_while_handling(error: BaseException, handled: BaseException) -> BaseException:
    try:
        try:
            raise handled
        except BaseException:
            raise error  # noqa: B904 (the implicit context is the point)
    except BaseException as raised:
        return raised


def test_a_wrapper_is_judged_by_its_cause():
    assert is_transient(_raise(RuntimeError("reading cursors failed"), WarehouseUnavailable("down")))
    assert not is_transient(_raise(RuntimeError("reading cursors failed"), KeyError("provider")))


def test_an_error_with_its_own_verdict_is_not_overruled_by_its_cause():
    assert not is_transient(_raise(SourceError("gave up", retryable=False), ConnectionResetError()))
    assert not is_transient(_raise(psycopg.errors.UniqueViolation("dup"), TimeoutError()))


def test_an_error_raised_while_handling_a_transient_one_is_transient():
    assert is_transient(_raise_while_handling(KeyError("retry_after"), TimeoutError("read timed out")))
    suppressed = _raise_while_handling(ValueError("bad payload"), TimeoutError())
    suppressed.__suppress_context__ = True  # `raise ... from None`
    assert not is_transient(suppressed)


def test_tenacity_gives_up_with_the_last_attempts_error():
    @tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none())
    def flaky() -> None:
        raise requests.ConnectionError("reset")

    with pytest.raises(tenacity.RetryError) as err:
        flaky()
    assert is_transient(err.value)


def test_a_cycle_in_the_chain_ends():
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert not is_transient(first)


def test_the_description_holds_the_type_and_the_whole_message_bounded():
    message = "line one\nline two " + "x" * 200
    assert describe_error(ValueError(message)) == f"ValueError: {message}"
    long = describe_error(ValueError("y" * 10_000), limit=500)
    assert len(long) <= 500 and long.startswith("ValueError: yyy") and "more characters" in long
    assert describe_error(KeyError("platform")) == "KeyError: 'platform'"
