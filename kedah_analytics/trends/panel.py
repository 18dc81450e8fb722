"""Dense term x day (x platform) arrays: what the forecaster's features are computed on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

SEARCH_INTEREST_COLUMNS: tuple[str, ...] = ("term", "date", "interest")


@dataclass(frozen=True)
class Panel:
    terms: np.ndarray  # (K,) object
    days: np.ndarray  # (D,) datetime64[D], consecutive
    total: np.ndarray  # (K, D) float64
    platforms: tuple[str, ...] = ()
    by_platform: np.ndarray | None = None  # (K, D, P) float64
    # Google Trends interest (0..100) per term and day, NaN where the term is not tracked or
    # the day not fetched; None when no search interest was given at all.
    search_interest: np.ndarray | None = None  # (K, D) float64

    @property
    def first_day(self) -> date:
        return to_date(self.days[0])

    @property
    def last_day(self) -> date:
        return to_date(self.days[-1])


def to_date(value: np.datetime64) -> date:
    return pd.Timestamp(value).date()


def build_panel(
    daily: pd.DataFrame,
    *,
    start: date | None = None,
    end: date | None = None,
    platforms: Iterable[str] | None = None,
    search_interest: pd.DataFrame | None = None,
) -> Panel:
    """Dense arrays from ``term, date, count[, platform]`` rows; missing days are 0.

    The day range runs from ``start`` (default: the first date) to ``end`` (default: the last),
    rows outside it are dropped. ``platforms`` fixes the platform axis (a trained model's); by
    default it is the platforms in the data, and without a ``platform`` column there is none.
    ``search_interest`` (``term, date, interest``) is aligned to the panel's terms and days; a
    term or day it lacks is NaN, never 0 (Google Trends' 0 means "little interest", not "unknown").
    """
    missing = [c for c in ("term", "date", "count") if c not in daily.columns]
    if missing:
        raise ValueError(f"daily counts lack the columns {missing}")
    if daily.empty:
        raise ValueError("daily counts are empty")
    days_col = pd.to_datetime(daily["date"]).to_numpy().astype("datetime64[D]")
    first = np.datetime64(start, "D") if start else days_col.min()
    last = np.datetime64(end, "D") if end else days_col.max()
    if last < first:
        raise ValueError(f"empty day range {first}..{last}")
    counts = pd.to_numeric(daily["count"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("count must be a finite number >= 0 on every row")
    keep = (days_col >= first) & (days_col <= last)
    if not keep.any():
        raise ValueError(f"no daily counts between {first} and {last}")
    frame = daily.loc[keep]
    counts, days_col = counts[keep], days_col[keep]
    codes, terms = pd.factorize(frame["term"].astype(str), sort=True)
    day_pos = (days_col - first).astype(np.int64)
    n_days = int((last - first).astype(np.int64)) + 1
    n_terms = len(terms)
    total = np.bincount(codes * n_days + day_pos, weights=counts, minlength=n_terms * n_days).reshape(
        n_terms, n_days
    )
    plats: tuple[str, ...] = ()
    by_platform: np.ndarray | None = None
    if platforms is not None or "platform" in frame.columns:
        if platforms is None:
            plats = tuple(sorted(frame["platform"].astype(str).unique()))
        else:
            plats = tuple(platforms)
        if plats and "platform" in frame.columns:
            p_codes = pd.Categorical(frame["platform"].astype(str), categories=list(plats)).codes
            known = p_codes >= 0
            flat = (codes[known] * n_days + day_pos[known]) * len(plats) + p_codes[known]
            by_platform = np.bincount(
                flat, weights=counts[known], minlength=n_terms * n_days * len(plats)
            ).reshape(n_terms, n_days, len(plats))
        elif plats:
            by_platform = np.zeros((n_terms, n_days, len(plats)))
    days = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    interest = None
    if search_interest is not None:
        interest = align_search_interest(search_interest, pd.Index(terms), first, n_days)
    return Panel(np.asarray(terms, dtype=object), days, total, plats, by_platform, interest)


def align_search_interest(
    search_interest: pd.DataFrame, terms: pd.Index, first: np.datetime64, n_days: int
) -> np.ndarray:
    """``(K, D)`` interest for the panel's terms and days, NaN where unknown."""
    missing = [c for c in SEARCH_INTEREST_COLUMNS if c not in search_interest.columns]
    if missing:
        raise ValueError(f"search interest lacks the columns {missing}")
    out = np.full((len(terms), n_days), np.nan)
    if search_interest.empty:
        return out
    day_pos = (pd.to_datetime(search_interest["date"]).to_numpy().astype("datetime64[D]") - first).astype(
        np.int64
    )
    rows = terms.get_indexer(pd.Index(search_interest["term"].astype(str)))
    values = pd.to_numeric(search_interest["interest"], errors="coerce").to_numpy(dtype=np.float64)
    keep = (rows >= 0) & (day_pos >= 0) & (day_pos < n_days) & np.isfinite(values)
    out[rows[keep], day_pos[keep]] = values[keep]
    return out
