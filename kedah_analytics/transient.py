"""Which failures are transient: the one rule for what a step retries.

A failure is transient when the same work may succeed unchanged a little later: the warehouse or a
provider could not be reached or did not answer in time, a transaction lost a deadlock or a
serialization conflict, a lock wait timed out, a provider said so (a retryable ``SourceError``, a
429 or 5xx). Everything else (a mistake in the code, bad data, a constraint, a bad request, a
missing credential) fails the same way on every attempt, so retrying it only costs minutes and
hides the error.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import psycopg
import tenacity

# SQLSTATEs of failures that a later attempt may not meet: connection exceptions (class 08),
# transaction rollbacks (class 40: serialization failure, deadlock), and these single codes.
TRANSIENT_SQLSTATE_CLASSES = ("08", "40")
TRANSIENT_SQLSTATES = frozenset(
    {
        "53000",  # insufficient resources
        "53200",  # out of memory
        "53300",  # too many connections
        "55006",  # object in use
        "55P03",  # lock not available (lock_timeout)
        "57014",  # query canceled (statement_timeout)
        "57P01",  # admin shutdown
        "57P02",  # crash shutdown
        "57P03",  # cannot connect now (starting up, recovering)
        "57P05",  # idle session timeout
    }
)
MAX_CHAIN = 16
MAX_DESCRIPTION_CHARS = 3000


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth retrying as it is (see the module docstring).

    An exception that carries its own verdict (a ``SourceError`` with its ``retryable``, a psycopg
    error, a transport error) decides; one that does not (a ``RuntimeError`` wrapping another) is
    judged by what caused it: its ``__cause__``, else the exception it was raised while handling.
    An exception with no verdict anywhere in its chain is not transient."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < MAX_CHAIN:
        seen.add(id(current))
        verdict = _own_verdict(current)
        if verdict is not None:
            return verdict
        current = _underlying(current)
    return False


def describe_error(exc: BaseException, limit: int = MAX_DESCRIPTION_CHARS) -> str:
    """``Type: message`` of ``exc``, the whole message up to ``limit`` characters."""
    text = f"{type(exc).__name__}: {str(exc).strip()}".rstrip(": ")
    if len(text) <= limit:
        return text
    return text[: limit - 40].rstrip() + f" ... ({len(text) - limit + 40} more characters)"


def transient_transport_error(exc: BaseException) -> bool:
    """An httpx (or httpx2) timeout or transport error: the request never got an answer."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return _from_httpx(exc) and bool(names & {"TimeoutException", "TransportError"})


def _own_verdict(exc: BaseException) -> bool | None:
    retryable = getattr(exc, "retryable", None)  # a SourceError says itself
    if isinstance(retryable, bool):
        return retryable
    if isinstance(exc, psycopg.Error):
        return _transient_database_error(exc)
    if isinstance(exc, ConnectionError | TimeoutError):  # WarehouseUnavailable is a ConnectionError
        return True
    if isinstance(exc, socket.gaierror):
        return exc.errno == socket.EAI_AGAIN  # "temporary failure in name resolution"
    verdict = _requests_verdict(exc)
    if verdict is not None:
        return verdict
    if _urllib3_transport_error(exc) or transient_transport_error(exc):
        return True
    status = _httpx_status(exc)
    if status is not None:
        return _transient_status(status)
    if type(exc).__module__.startswith("google.genai"):
        return _transient_gemini_error(exc)
    return None


def _urllib3_transport_error(exc: BaseException) -> bool:
    # As for requests below: no urllib3 error exists before a client library imported urllib3.
    urllib3 = sys.modules.get("urllib3")
    if urllib3 is None:
        return False
    errors = urllib3.exceptions
    return isinstance(exc, errors.TimeoutError | errors.ProtocolError | errors.NewConnectionError)


def _requests_verdict(exc: BaseException) -> bool | None:
    # Read from sys.modules rather than imported here: no requests error can exist before a
    # source imported requests, and the code location loads without it.
    requests = sys.modules.get("requests")
    if requests is None:
        return None
    # requests' own ConnectionError is not the builtin one; SSLError (a bad certificate) is one of
    # its ConnectionErrors but never heals by itself.
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    transport = (
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.ChunkedEncodingError,
    )
    if isinstance(exc, transport):
        return True
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return _transient_status(exc.response.status_code)
    return None


def _underlying(exc: BaseException) -> BaseException | None:
    if isinstance(exc, tenacity.RetryError):
        return exc.last_attempt.exception()
    if exc.__cause__ is not None:
        return exc.__cause__
    return None if exc.__suppress_context__ else exc.__context__


def _transient_database_error(exc: psycopg.Error) -> bool:
    state = exc.sqlstate
    if state is None:  # raised by the client: the connection was lost or closed under us
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return state[:2] in TRANSIENT_SQLSTATE_CLASSES or state in TRANSIENT_SQLSTATES


def _transient_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _httpx_status(exc: BaseException) -> int | None:
    if type(exc).__name__ != "HTTPStatusError" or not _from_httpx(exc):
        return None
    response: Any = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _from_httpx(exc: BaseException) -> bool:
    # httpx and httpx2 are separate packages with the same class names.
    return type(exc).__module__.split(".")[0] in {"httpx", "httpx2"}


def _transient_gemini_error(exc: BaseException) -> bool | None:
    from google.genai import errors as genai_errors

    if isinstance(exc, genai_errors.ServerError):
        return True
    if isinstance(exc, genai_errors.ClientError):
        return exc.code in (408, 429)
    return None
