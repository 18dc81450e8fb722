"""What a step retries: transient failures only.

An asset with ``retry_policy=TRANSIENT_RETRY`` also wraps its body in :func:`retry_only_transient`
(a test holds every such asset to it); :func:`retrying_asset` declares one with both. Dagster's
retry policy retries any exception; the wrapper lets a transient one through to it
(``kedah_analytics.transient.is_transient``: the warehouse or a provider unreachable or slow, a
deadlock, a retryable ``SourceError``) and turns anything else into a ``dg.Failure`` that is never
retried, with the whole error in its description. The IO manager applies the same rule to its
reads and writes.
"""

from collections.abc import Callable
from functools import wraps
from inspect import isasyncgenfunction, iscoroutinefunction, isgeneratorfunction
from typing import Any, ParamSpec, TypeVar

import dagster as dg

from kedah_analytics.transient import describe_error, is_transient

TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

P = ParamSpec("P")
R = TypeVar("R")


def permanent_failure(what: str, exc: BaseException) -> dg.Failure:
    """A failure that Dagster never retries, naming ``what`` failed and the whole error."""
    return dg.Failure(
        description=f"{what} failed: {describe_error(exc)}",
        metadata={"error_type": type(exc).__name__},
        allow_retries=False,
    )


def retry_only_transient(body: Callable[P, R]) -> Callable[P, R]:
    """``body`` (an asset's function, under ``@dg.asset``) with every failure that is not transient
    made final: retried never, reported once with its whole message. A ``dg.Failure`` raised by the
    body keeps its own ``allow_retries``."""
    if isgeneratorfunction(body) or iscoroutinefunction(body) or isasyncgenfunction(body):
        raise TypeError(f"{body.__name__}: retry_only_transient wraps functions that return")

    @wraps(body)  # Dagster reads the signature and type hints through __wrapped__
    def only_transient_retried(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return body(*args, **kwargs)
        except (dg.Failure, dg.RetryRequested, dg.DagsterError):
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            raise permanent_failure(body.__name__, exc) from exc

    only_transient_retried.retries_only_transient = True  # type: ignore[attr-defined]
    return only_transient_retried


def retrying_asset(**asset_args: Any) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """``@dg.asset(**asset_args)`` for a step that reads a source or the warehouse and writes
    PostgreSQL in Python: a ranged run is one run, and transient failures are retried
    (``TRANSIENT_RETRY`` with the body under :func:`retry_only_transient`)."""
    defaults: dict[str, Any] = {
        "kinds": {"postgres", "python"},
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "retry_policy": TRANSIENT_RETRY,
    }

    def declare(body: Callable[..., Any]) -> dg.AssetsDefinition:
        return dg.asset(**{**defaults, **asset_args})(retry_only_transient(body))

    return declare
