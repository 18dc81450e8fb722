"""Failure alerts: a readable message, and an optional webhook (``KEDAH_ALERT_WEBHOOK``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class StepFailure:
    step: str
    error: str


def failure_message(
    run_id: str, job_name: str, failures: Sequence[StepFailure], run_url: str | None = None
) -> str:
    lines = [f"Kedah Analytics run {run_id} of job {job_name} failed."]
    for failure in failures:
        first_line = failure.error.strip().splitlines()[0] if failure.error.strip() else "(no message)"
        lines.append(f"- {failure.step}: {first_line[:500]}")
    if not failures:
        lines.append("- the run failed before any step ran (see the run's event log)")
    if run_url:
        lines.append(run_url)
    return "\n".join(lines)


def _retryable(err: BaseException) -> bool:
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
    own = client is None
    client = client or httpx.Client(timeout=WEBHOOK_TIMEOUT_S)
    try:
        client.post(url, json={"text": text}).raise_for_status()
    finally:
        if own:
            client.close()
