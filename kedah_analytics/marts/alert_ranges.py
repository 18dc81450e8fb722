"""The alert candidates of a range of days, each day judged on its own window of the inputs.

A day's alerts come from its window, the ``history_days`` before it and the day (what a run of
that day alone reads), and the burst detector's sums start where its input starts: the days of a
range cannot share one detector run without changing their scores. What they share here is all
the rest. The inputs are converted once (series keys, Kedah hours, days); one grid holds a row per
(day, term), each at its own day's origin, scored by one call of the detector (rows are
independent); a term that has no post on the day, or fewer than ``min_count`` in its window, gets
no row, since it cannot burst on the day. Sentiment dips and the days' platform kinds depend on
each day's rows only, so they come from the whole range at once.

:func:`burst_candidates` and :func:`dip_candidates` on one day's window give the same rows
(tests check it): this is the speed of a ranged run, not another rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import pandas as pd

from kedah_analytics.domain import DEMO_PROVIDER
from kedah_analytics.domain import TIMEZONE_NAME as KEDAH_TZ
from kedah_analytics.marts.alert_config import AlertConfig
from kedah_analytics.marts.alert_rules import (
    BURST_CANDIDATE_COLUMNS,
    dip_candidates,
    has_history,
    platform_kinds,
    split_subject,
)
from kedah_analytics.marts.build import REAL
from kedah_analytics.trends.burst import BurstConfig, kedah_hour_index, score_grid
from kedah_analytics.trends.counts import TERM_TYPES, series_key

ROWS_PER_GRID = 1024  # (day, term) rows scored at once: bounds the detector's arrays
DAYS_PER_GRID = 7  # days whose rows are gathered at once: bounds their entries
EPOCH = date(1970, 1, 1)


def candidates_by_day(
    hourly_counts: pd.DataFrame, place_metrics: pd.DataFrame, days: Iterable[date], config: AlertConfig
) -> dict[date, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per day of ``days``: its burst and dip candidates from its own window of the inputs."""
    days = list(days)
    bursts = burst_candidates_by_day(hourly_counts, days, platform_kinds(place_metrics), config)
    dips = dip_candidates(place_metrics, days, config)
    dips_of = dict(tuple(dips.groupby("date", sort=False))) if len(dips) else {}
    return {
        d: (bursts[d], dips_of[d].reset_index(drop=True) if d in dips_of else dips.iloc[0:0]) for d in days
    }


class _Counts:
    """The term rows of the hourly counts, converted once for all the windows."""

    def __init__(self, hourly_counts: pd.DataFrame) -> None:
        rows = hourly_counts[hourly_counts["term_type"].isin(TERM_TYPES)]
        keys = [
            series_key(t, tt) for t, tt in zip(rows["term"].tolist(), rows["term_type"].tolist(), strict=True)
        ]
        codes, names = pd.factorize(pd.Series(keys, dtype=object), sort=True)
        self.codes, self.names = codes.astype(np.int64), list(names)
        self.hours = kedah_hour_index(rows["hour"]) if len(rows) else np.zeros(0, np.int64)
        self.days = _epoch_days(rows["date"])
        self.posts = rows["posts"].to_numpy(dtype=np.float64)
        self.known_days = {EPOCH + timedelta(days=int(d)) for d in np.unique(self.days)}
        self.stamp_unit = pd.to_datetime(rows["hour"]).dt.unit if len(rows) else "ns"
        self.platform_posts = (
            rows.assign(code=codes, epoch_day=self.days)
            .groupby(["epoch_day", "code", "platform"])["posts"]
            .sum()
        )

    def stamp(self, hour: int) -> pd.Timestamp:
        """The Kedah time of a Kedah hour index, in the unit of the input's timestamps."""
        naive = pd.Timestamp(np.datetime64(int(hour), "h")).as_unit(self.stamp_unit)
        return naive.tz_localize(KEDAH_TZ)

    def platforms(self, epoch_day: int, code: int) -> dict[str, int]:
        try:
            day_posts = self.platform_posts.loc[(epoch_day, code)]
        except KeyError:
            return {}
        return {str(p): int(n) for p, n in day_posts.items()}


def _epoch_days(dates: pd.Series) -> np.ndarray:
    if not len(dates):
        return np.zeros(0, np.int64)
    return np.asarray(pd.to_datetime(dates).to_numpy().astype("datetime64[D]").astype(np.int64))


def burst_candidates_by_day(
    hourly_counts: pd.DataFrame, days: list[date], kinds: dict[tuple[date, str], str], config: AlertConfig
) -> dict[date, pd.DataFrame]:
    """Per day, what :func:`burst_candidates` gives on the day's window of ``hourly_counts``."""
    counts = _Counts(hourly_counts)
    found: dict[date, list[dict]] = {d: [] for d in days}
    # A few days at a time: a day's rows hold its whole window of counts, so the rows of a long
    # chunk's days at once would grow with the chunk.
    for i in range(0, len(days), DAYS_PER_GRID):
        _score_days(counts, days[i : i + DAYS_PER_GRID], kinds, config, found)
    return {d: pd.DataFrame(found[d], columns=BURST_CANDIDATE_COLUMNS) for d in days}


def _score_days(
    counts: _Counts,
    days: list[date],
    kinds: dict[tuple[date, str], str],
    config: AlertConfig,
    found: dict[date, list[dict]],
) -> None:
    """The burst candidates of ``days``, added to ``found``."""
    detector = BurstConfig()
    # One entry per (day, term) row: its day, origin, length, term; and the counts' entries it holds.
    row_day, row_origin, row_length, row_code, entry_row, entry_pos, entry_posts = [], [], [], [], [], [], []
    n_rows = 0
    for i, day in enumerate(days):
        epoch = (day - EPOCH).days
        window = np.flatnonzero((counts.days >= epoch - config.history_days) & (counts.days <= epoch))
        if not len(window) or not has_history(counts.known_days, day, config):
            continue
        start = epoch * 24
        hours, codes, posts = counts.hours[window], counts.codes[window], counts.posts[window]
        origin, last = min(int(hours.min()), start), max(int(hours.max()), start + 23)
        on_day = (hours >= start) & (hours < start + 24)
        total = np.bincount(codes, weights=posts, minlength=len(counts.names))
        today = np.bincount(codes[on_day], weights=posts[on_day], minlength=len(counts.names))
        terms = np.flatnonzero((today > 0) & (total >= detector.min_count))
        if not len(terms):
            continue
        row_of = np.full(len(counts.names), -1)
        row_of[terms] = np.arange(n_rows, n_rows + len(terms))
        held = row_of[codes] >= 0
        entry_row.append(row_of[codes[held]])
        entry_pos.append(hours[held] - origin)
        entry_posts.append(posts[held])
        row_day += [i] * len(terms)
        row_origin += [origin] * len(terms)
        row_length += [last - origin + 1] * len(terms)
        row_code += terms.tolist()
        n_rows += len(terms)
    if n_rows:
        rows = np.concatenate(entry_row)
        order = np.argsort(rows, kind="stable")
        rows, pos, posts = rows[order], np.concatenate(entry_pos)[order], np.concatenate(entry_posts)[order]
        for lo in range(0, n_rows, ROWS_PER_GRID):
            hi = min(lo + ROWS_PER_GRID, n_rows)
            a, b = np.searchsorted(rows, [lo, hi])
            width = max(row_length[lo:hi])
            flat = (rows[a:b] - lo) * width + pos[a:b]
            grid = np.bincount(flat, weights=posts[a:b], minlength=(hi - lo) * width).reshape(hi - lo, width)
            has_row = np.bincount(flat, minlength=(hi - lo) * width).reshape(hi - lo, width) > 0
            scored = score_grid(grid, detector, every_score=False)  # scores of flagged hours only
            for r in range(lo, hi):
                day = days[row_day[r]]
                found_row = _burst_row(
                    counts, day, row_code[r], row_origin[r], grid[r - lo], has_row[r - lo],
                    {k: v[r - lo] for k, v in scored.items()}, kinds, config, detector,
                )  # fmt: skip
                if found_row:
                    found[day].append(found_row)


def _burst_row(
    counts: _Counts,
    day: date,
    code: int,
    origin: int,
    grid: np.ndarray,
    has_row: np.ndarray,
    scored: dict[str, np.ndarray],
    kinds: dict[tuple[date, str], str],
    config: AlertConfig,
    detector: BurstConfig,
) -> dict | None:
    """The candidate of one term on one day, or None: as :func:`burst_candidates` makes it."""
    epoch = (day - EPOCH).days
    first = epoch * 24 - origin  # the day's first hour in the row
    flagged = np.flatnonzero(scored["alert"][first : first + 24]) + first
    if not len(flagged) or scored["alert"][max(first - 24 * config.cooldown_days, 0) : first].any():
        return None
    start, end = int(flagged.min()) - (max(detector.windows) - 1), int(flagged.max())
    span = np.arange(max(start, 0), end + 1)
    # The detector's input rows in their order: the counts' rows, then the day's added zero rows.
    on_day = (span >= first) & (span < first + 24)
    cells = np.concatenate([span[has_row[span]], span[~has_row[span] & on_day]])
    platforms = counts.platforms(epoch, code)
    term, term_type = split_subject(counts.names[code])
    is_demo = any(kinds.get((day, p), DEMO_PROVIDER) == DEMO_PROVIDER for p in platforms)
    return {
        "date": day,
        "subject": counts.names[code],
        "subject_type": term_type,
        "subject_name": term,
        "observed": float(pd.Series(grid[cells]).sum()),
        "baseline": round(float(pd.Series(scored["expected"][cells]).sum()), 4),
        "score": round(float(pd.Series(scored["score"][flagged]).max()), 4),
        "posts": int(sum(platforms.values())),
        "platforms": platforms,
        "provider": DEMO_PROVIDER if is_demo else REAL,
        "window_start": counts.stamp(origin + start),
        "window_end": counts.stamp(origin + end) + timedelta(hours=1),
    }
