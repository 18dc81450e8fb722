"""Generated count series with known structure for the trends tests (fixed seeds, numpy Generator).

Hourly series carry a Kedah diurnal profile, a Friday/Saturday weekend lift (Kedah's weekend),
day-level overdispersion and injected bursts whose hours are returned as ground truth. Daily
panels come in two kinds: ``signal`` (trend, weekly seasonality and a Twitter-leads-Instagram
buzz process) and ``noise`` (iid Poisson around a constant per-term rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

KEDAH_TZ = "Asia/Kuala_Lumpur"
PLATFORMS = ("facebook", "instagram", "twitter", "youtube")

# Share of a day's posts in each Kedah hour: quiet nights, a lunch and an evening peak.
DIURNAL = np.array(
    [
        0.3,
        0.2,
        0.15,
        0.1,
        0.1,
        0.2,
        0.5,
        0.8,
        1.0,
        1.1,
        1.2,
        1.4,
        1.5,
        1.4,
        1.2,
        1.1,
        1.1,
        1.2,
        1.4,
        1.7,
        1.9,
        1.8,
        1.3,
        0.7,
    ]
)
DIURNAL = DIURNAL / DIURNAL.mean()
# Monday..Sunday; Kedah's weekend is Friday and Saturday.
WEEKLY = np.array([0.9, 0.9, 0.9, 0.95, 1.25, 1.35, 1.0])
WEEKLY = WEEKLY / WEEKLY.mean()


@dataclass(frozen=True)
class Burst:
    term: str
    start: pd.Timestamp  # first hour of the burst (Kedah time)
    hours: int


@dataclass
class HourlySeries:
    counts: pd.DataFrame  # term, timestamp (tz Kedah), count; zero hours omitted
    bursts: list[Burst]
    daily_rate: dict[str, float]


def hourly_series(
    *,
    n_terms: int = 40,
    n_days: int = 56,
    start: date = date(2026, 9, 1),
    seed: int = 0,
    n_bursts: int = 12,
    burst_hours: int = 8,
    burst_boost: float = 6.0,
    min_burst_rate: float = 6.0,
    dispersion: float = 25.0,
    rare_terms: int = 5,
) -> HourlySeries:
    """Hourly counts for ``n_terms`` terms over ``n_days`` days.

    Bursts start at a random daytime hour in the last three weeks and add, each hour,
    Poisson(max(burst_boost * term's mean hourly rate, min_burst_rate)) posts, ramping up over
    the first two hours. The last ``rare_terms`` terms get about one post a week and no burst.
    """
    rng = np.random.default_rng(seed)
    names = [f"kw{i:03d}" for i in range(n_terms)]
    daily_rate = np.exp(rng.normal(np.log(24.0), 0.8, size=n_terms))
    daily_rate[n_terms - rare_terms :] = 1.0 / 7.0
    n_hours = n_days * 24
    first = pd.Timestamp(start, tz=KEDAH_TZ)
    hours = pd.date_range(first, periods=n_hours, freq="h")
    hour_of_day = np.tile(np.arange(24), n_days)
    weekday = hours.day_of_week.to_numpy()
    day_noise = rng.gamma(dispersion, 1.0 / dispersion, size=(n_terms, n_days))
    rate = (
        daily_rate[:, None]
        / 24.0
        * DIURNAL[hour_of_day][None, :]
        * WEEKLY[weekday][None, :]
        * np.repeat(day_noise, 24, axis=1)
    )
    counts = rng.poisson(rate)

    bursts: list[Burst] = []
    candidates = rng.permutation(n_terms - rare_terms)[:n_bursts]
    for k in candidates:
        day = int(rng.integers(n_days - 21, n_days - 1))
        hour = int(rng.integers(9, 16))
        begin = day * 24 + hour
        length = min(burst_hours, n_hours - begin)
        peak = max(burst_boost * daily_rate[k] / 24.0, min_burst_rate)
        ramp = np.minimum(1.0, (np.arange(length) + 1) / 2.0)
        counts[k, begin : begin + length] += rng.poisson(peak * ramp)
        bursts.append(Burst(names[k], hours[begin], int(length)))

    k_idx, h_idx = np.nonzero(counts)
    frame = pd.DataFrame(
        {
            "term": np.array(names, dtype=object)[k_idx],
            "timestamp": hours[h_idx],
            "count": counts[k_idx, h_idx].astype(np.int64),
        }
    )
    return HourlySeries(frame, bursts, dict(zip(names, daily_rate.tolist(), strict=True)))


def daily_panel(
    kind: str,
    *,
    n_terms: int = 60,
    n_days: int = 112,
    start: date = date(2026, 7, 1),
    seed: int = 0,
) -> pd.DataFrame:
    """Daily ``term, date, platform, count`` rows (zero rows omitted).

    ``signal``: level x (1 + trend)^day x weekly profile x buzz, where buzz is a decaying shock
    process seen on Twitter the same day, on Instagram a day later and on Facebook/YouTube two
    days later. ``noise``: Poisson(constant rate) on every platform, nothing else.
    """
    rng = np.random.default_rng(seed)
    names = [f"kw{i:03d}" for i in range(n_terms)]
    days = [start + timedelta(days=i) for i in range(n_days)]
    level = np.exp(rng.normal(np.log(12.0), 0.9, size=n_terms))
    shares = {"twitter": 0.35, "instagram": 0.35, "facebook": 0.2, "youtube": 0.1}
    lam: dict[str, np.ndarray]
    if kind == "noise":
        lam = {p: np.repeat((level * s)[:, None], n_days, axis=1) for p, s in shares.items()}
    elif kind == "signal":
        t = np.arange(n_days)
        slope = rng.normal(0.0, 0.012, size=n_terms)
        weekday = np.array([d.weekday() for d in days])
        base = level[:, None] * np.exp(slope[:, None] * t[None, :]) * WEEKLY[weekday][None, :] ** 1.6
        shocks = (rng.random((n_terms, n_days)) < 1.0 / 10.0) * rng.gamma(2.0, 1.5, (n_terms, n_days))
        buzz = np.zeros((n_terms, n_days))
        for i in range(n_days):
            buzz[:, i] = shocks[:, i] + (0.55 * buzz[:, i - 1] if i else 0.0)

        def lagged(lag: int) -> np.ndarray:
            out = np.zeros_like(buzz)
            out[:, lag:] = buzz[:, : n_days - lag]
            return out

        lam = {
            "twitter": base * shares["twitter"] * (1.0 + buzz),
            "instagram": base * shares["instagram"] * (1.0 + 1.5 * lagged(1)),
            "facebook": base * shares["facebook"] * (1.0 + 1.5 * lagged(2)),
            "youtube": base * shares["youtube"] * (1.0 + lagged(2)),
        }
    else:
        raise ValueError(f"unknown kind {kind!r}")
    frames = []
    for platform, rates in lam.items():
        counts = rng.poisson(rates)
        k_idx, d_idx = np.nonzero(counts)
        frames.append(
            pd.DataFrame(
                {
                    "term": np.array(names, dtype=object)[k_idx],
                    "date": np.array(days, dtype=object)[d_idx],
                    "platform": platform,
                    "count": counts[k_idx, d_idx].astype(np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values(["term", "date", "platform"], ignore_index=True)
