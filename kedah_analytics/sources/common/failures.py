"""Why a source failed, in words a person can act on: what to fix, and that nothing stored changed.

Messages name the variables that configure a provider, never their values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from kedah_analytics.sources.common.base import CredentialsError, SourceError
from kedah_analytics.sources.registry import provider_env_vars


def day_span(days: Sequence[date]) -> str:
    """``2026-11-18`` or ``2026-11-16..2026-11-18 (3 days)``."""
    ordered = sorted(set(days))
    if not ordered:
        return "no days"
    if len(ordered) == 1:
        return ordered[0].isoformat()
    return f"{ordered[0]}..{ordered[-1]} ({len(ordered)} days)"


def source_failure_message(
    what: str, days: Sequence[date], provider: str, exc: BaseException, *, stored_before: str = ""
) -> str:
    """Why a partition failed, what to fix, and that nothing stored was touched. ``exc`` comes from
    the source library, whose messages never hold a secret. ``stored_before`` names what a run
    written chunk by chunk stored before the chunk that failed ("" when nothing)."""
    names = provider_env_vars(provider)
    if isinstance(exc, CredentialsError):
        hint = f" Fix the credential in {exc.env_var} (its value is never shown)."
    elif names:
        hint = f" The source is configured by {', '.join(names)}."
    else:
        hint = ""
    retry = (
        " It may succeed later (the step is retried)."
        if isinstance(exc, SourceError) and exc.retryable
        else " Retrying will not help until this is fixed."
    )
    written = (
        f"This run stored {stored_before} before it; these days and the chunks after them were not written: "
        if stored_before
        else "Nothing was written: "
    )
    return (
        f"{what} for {day_span(days)} from {provider} failed: {type(exc).__name__}: {exc}.{hint}{retry} "
        f"{written}the rows stored before are untouched, and no demo rows were used instead."
    )
