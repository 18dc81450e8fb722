"""Failure alerts: a readable message, and an optional webhook (``KEDAH_ALERT_WEBHOOK``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class StepFailure:
    step: str
    error: str


MAX_ERROR_CHARS = 3000  # per step: the whole message of a normal error, bounded for a chat message
MAX_MESSAGE_CHARS = 12000


def _bounded(text: str, limit: int) -> str:
    text = text.strip()
    return (
        text
        if len(text) <= limit
        else text[: limit - 40].rstrip() + f"\n... ({len(text) - limit + 40} more characters)"
    )


def failure_message(
    run_id: str,
    job_name: str,
    failures: Sequence[StepFailure],
    run_url: str | None = None,
    run_error: str | None = None,
    steps_in_progress: Sequence[str] = (),
) -> str:
    """The alert: every failed step with its whole error message (bounded), or, when no step
    failed (the worker died, the run could not start), the run's own failure and the steps it
    was in."""
    lines = [f"Kedah Analytics run {run_id} of job {job_name} failed."]
    for failure in failures:
        error = failure.error.strip() or "(no message)"
        lines.append(f"- {failure.step}: {_bounded(error, MAX_ERROR_CHARS)}")
    if not failures:
        if steps_in_progress:
            lines.append(f"- no step finished its work; it was in: {', '.join(steps_in_progress)}")
        if run_error:
            lines.append(f"- {_bounded(run_error, MAX_ERROR_CHARS)}")
        if not steps_in_progress and not run_error:
            lines.append("- the run failed before any step ran (see the run's event log)")
    if run_url:
        lines.append(run_url)
    return _bounded("\n".join(lines), MAX_MESSAGE_CHARS)


def _retryable(err: BaseException) -> bool:
    import httpx

    if isinstance(err, httpx.HTTPStatusError):
        return err.response.status_code == 429 or err.response.status_code >= 500
    return isinstance(err, httpx.TransportError)


@retry(
    retry=retry_if_exception(_retryable),
    stop=stop_after_attempt(3),
    wait=wait_exponential(1, max=10),
    reraise=True,
)
def post_webhook(url: str, text: str, client: httpx.Client | None = None) -> None:
    """POST ``{"text": ...}`` (Slack and most chat webhooks accept it); retries 429, 5xx, timeouts."""
    import httpx  # loads with the first message, not with the code location

    own = client is None
    client = client or httpx.Client(timeout=WEBHOOK_TIMEOUT_S)
    try:
        client.post(url, json={"text": text}).raise_for_status()
    finally:
        if own:
            client.close()
