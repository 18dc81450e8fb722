"""Timeouts and retries for every external call.

Retries follow one rule: retry what can succeed later (HTTP 429, 5xx, timeouts, throttling),
waiting as long as the provider says when it says so; never retry what cannot (bad or expired
credentials, missing permissions, bad parameters). A wait longer than the run should sleep raises
:class:`RateLimited` with the reset time instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import tenacity

from kedah_analytics.sources.common.base import FetchTelemetry, RateLimited, SourceError

# Re-exported: the sources import their clock and sleep from here.
from kedah_analytics.sources.common.clock import Clock as Clock
from kedah_analytics.sources.common.clock import Sleep
from kedah_analytics.sources.common.clock import utcnow as utcnow

if TYPE_CHECKING:
    pass

T = TypeVar("T")

# (connect, read) seconds for every HTTP call.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 30.0)


def __getattr__(name: str) -> Any:
    """``TimeoutSession`` from here, as before, loading requests only when it is asked for."""
    if name == "TimeoutSession":
        from kedah_analytics.sources.common.http import TimeoutSession

        return TimeoutSession
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per call, exponential backoff, and the longest wait worth sleeping."""

    max_attempts: int = 5
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 120.0
    # A throttle that names no reset time waits this long, doubling on each retry.
    throttle_wait_seconds: float = 60.0
    # A provider reset further away than this raises RateLimited (the run fails clearly, and the
    # next scheduled run picks up) rather than holding a worker asleep.
    max_wait_seconds: float = 16 * 60.0
    # A throttle that outlasts the retries without naming its reset: the source is deferred this
    # long (kedah_analytics.deferrals) rather than asked again at the next tick.
    throttle_defer_seconds: float = 60 * 60.0


class Retryable(Exception):
    """Raised inside a retried call for a failure that may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        throttled: bool = False,
        wait_seconds: float | None = None,
        reset_at: datetime | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.throttled = throttled
        self.wait_seconds = wait_seconds
        self.reset_at = reset_at


def run_with_retries(
    call: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    sleep: Sleep,
    telemetry: FetchTelemetry | None = None,
    clock: Clock | None = None,
) -> T:
    """``call()``, retried on :class:`Retryable` with backoff (tenacity, sleeping through ``sleep``).

    Gives up with :class:`RateLimited` (throttled) or a retryable :class:`SourceError` (transient),
    their messages naming ``what`` failed and why. Other exceptions pass through untouched. With a
    ``clock``, a throttle that names no reset gets one ``policy.throttle_defer_seconds`` away.
    """

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        attempt = state.attempt_number
        if isinstance(exc, Retryable) and exc.wait_seconds is not None:
            return max(0.0, exc.wait_seconds)
        if isinstance(exc, Retryable) and exc.throttled:
            return min(policy.max_wait_seconds, policy.throttle_wait_seconds * 2 ** (attempt - 1))
        return min(policy.backoff_max_seconds, policy.backoff_base_seconds * 2 ** (attempt - 1))

    def should_retry(exc: BaseException) -> bool:
        if not isinstance(exc, Retryable):
            return False
        return exc.wait_seconds is None or exc.wait_seconds <= policy.max_wait_seconds

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        seconds = state.upcoming_sleep
        if telemetry is not None and isinstance(exc, Retryable) and exc.throttled:
            telemetry.rate_limit_waits += 1
            telemetry.rate_limit_wait_seconds += seconds

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, policy.max_attempts)),
        wait=wait,
        retry=tenacity.retry_if_exception(should_retry),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(call)
    except Retryable as exc:
        if exc.throttled:
            reset_at = exc.reset_at
            if reset_at is None and clock is not None:
                reset_at = clock() + timedelta(seconds=policy.throttle_defer_seconds)
            when = f"; resets at {reset_at.isoformat()}" if reset_at else ""
            raise RateLimited(f"{what}: rate limited ({exc.message}){when}", reset_at=reset_at) from None
        raise SourceError(
            f"{what}: failed after {policy.max_attempts} attempts: {exc.message}", retryable=True
        ) from None


class RetriesCalls:
    """A client whose calls retry under its own ``policy``, waiting through its ``sleep`` and telling
    time by its ``clock`` (set by the client's constructor)."""

    policy: RetryPolicy
    sleep: Sleep
    clock: Clock

    def retried(self, call: Callable[[], T], what: str, telemetry: FetchTelemetry | None) -> T:
        """``call()`` through :func:`run_with_retries`; failures name ``what``."""
        return run_with_retries(
            call, what=what, policy=self.policy, sleep=self.sleep, telemetry=telemetry, clock=self.clock
        )
