"""Credentials that never print: a :class:`Secret` shows its variable's name, and log records of the
API client libraries are scrubbed of tokens, keys and signatures before anyone sees them."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from kedah_analytics.sources.common.base import CredentialsError


class Secret:
    """A credential that prints as the name of its variable, never as its value."""

    __slots__ = ("_value", "env_var")

    def __init__(self, value: str, env_var: str):
        if not value:
            raise CredentialsError(env_var, "is empty")
        self._value = value
        self.env_var = env_var

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.env_var}=***)"

    __str__ = __repr__


_SECRET_PARAMS = (
    "access_token",
    "input_token",
    "appsecret_proof",
    "key",
    "client_secret",
    "refresh_token",
    "token",
)
_PARAM_RE = re.compile(r"(?i)\b(" + "|".join(_SECRET_PARAMS) + r")=([^&\s\"'<>]+)")
_BEARER_RE = re.compile(r"(?i)\b(bearer|oauth)\s+[A-Za-z0-9._~+/%=-]{8,}")


def scrub(text: str, secrets: Iterable[Secret | str | None] = ()) -> str:
    """``text`` with secret query parameters, bearer tokens and the given secret values redacted."""
    text = _PARAM_RE.sub(lambda m: f"{m.group(1)}=***", text)
    text = _BEARER_RE.sub(lambda m: f"{m.group(1)} ***", text)
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


class RedactSecrets(logging.Filter):
    """Scrubs tokens from log records of client libraries that log URLs and headers at DEBUG
    (tweepy logs ``Authorization: Bearer ...``; urllib3 and googleapiclient log ``?access_token=``
    and ``?key=``), so turning their debug logging on in Dagster cannot leak a credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the library's problem, not a reason to drop it
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_REDACTED_LOGGERS = (
    "tweepy.client",
    "urllib3.connectionpool",
    "googleapiclient.discovery",
    "googleapiclient.http",
)


def install_log_redaction() -> None:
    """Attach :class:`RedactSecrets` to the loggers that print request URLs or headers (idempotent)."""
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


install_log_redaction()
