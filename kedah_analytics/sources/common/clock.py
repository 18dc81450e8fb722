"""The clock and sleep every source takes, so tests run its waits and days without waiting: light,
for the provider declarations that the code location loads (``retry`` re-exports them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Sleep = Callable[[float], None]
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)
