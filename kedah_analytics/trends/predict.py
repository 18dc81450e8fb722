"""Ranked predictions: every term's forecast volume for the coming day(s) and how sure it is."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from kedah_analytics.trends.backtest import rise_score
from kedah_analytics.trends.features import TERM_WINDOW, feature_set
from kedah_analytics.trends.model import TrendModel, predict_volume
from kedah_analytics.trends.panel import Panel, build_panel, to_date

PREDICTION_COLUMNS: tuple[str, ...] = (
    "rank",
    "term",
    "origin_date",
    "target_date",
    "horizon",
    "predicted_volume",
    "recent_level",
    "score",
    "confidence",
    "model_version",
)


def _confidence(predicted: np.ndarray, recent: np.ndarray, size: float) -> np.ndarray:
    """P(volume > recent level) if volume ~ NB(mean=predicted, size) (Poisson when size is inf)."""
    from scipy import special  # SciPy loads when predictions are scored, not with the code location

    mu = np.maximum(predicted, 1e-9)
    threshold = np.floor(recent)  # P(Y > r) = P(Y >= floor(r) + 1)
    if not math.isfinite(size):
        return np.asarray(special.pdtrc(threshold, mu))
    p = size / (size + mu)
    return np.asarray(special.betainc(threshold + 1.0, size, 1.0 - p))


def _panel_for(
    model: TrendModel, daily: pd.DataFrame | Panel, as_of: date | None, search_interest: pd.DataFrame | None
) -> Panel:
    """The panel in the model's shape: its platforms, and search interest iff it was trained on it."""
    if isinstance(daily, Panel):
        panel = daily
    else:
        platforms = model.platforms if model.kind == "hgb" else None
        panel = build_panel(daily, end=as_of, platforms=platforms, search_interest=search_interest)
    if model.kind != "hgb":
        return panel
    if model.uses_search_interest and panel.search_interest is None:
        # Trained where Google Trends was on, predicting where it is off: unknown, not zero.
        return replace(panel, search_interest=np.full(panel.total.shape, np.nan))
    if not model.uses_search_interest and panel.search_interest is not None:
        return replace(panel, search_interest=None)
    return panel


def predict_trends(
    model: TrendModel,
    daily: pd.DataFrame | Panel,
    *,
    as_of: date | None = None,
    top_n: int | None = 20,
    search_interest: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Forecast every term for the day(s) after ``as_of`` (default: the last day in ``daily``)
    and rank them by predicted rise.

    ``daily`` should hold the same span of days the model was trained on (at least the 56 days up
    to ``as_of``, the longest feature window; fewer than ``min_history_days`` raises); terms with
    no post in it are not forecast. Columns: ``rank, term, origin_date, target_date, horizon,
    predicted_volume, recent_level`` (mean of the 7 days to ``as_of``), ``score`` (predicted rise
    in Poisson standard deviations of the recent level, see :func:`rise_score`), ``confidence``
    (probability that the volume exceeds the recent level, from a negative binomial whose
    dispersion is the model's backtest error), ``model_version``. Ranked by score within each
    horizon; ``top_n=None`` keeps all terms.
    """
    panel = _panel_for(model, daily, as_of, search_interest)
    if as_of is not None and to_date(panel.days[-1]) != as_of:
        raise ValueError(f"panel ends on {panel.last_day}, not on as_of {as_of}")
    if panel.total.shape[1] < model.config.min_history_days:
        raise ValueError(
            f"{panel.total.shape[1]} days of counts; the model needs at least {model.config.min_history_days} "
            f"(and reads up to {TERM_WINDOW})"
        )
    origin = np.array([panel.total.shape[1] - 1])
    frames = []
    for h in range(1, model.config.horizon + 1 if model.kind == "hgb" else 2):
        features = feature_set(panel, model.config, h)
        if model.kind == "hgb":
            if features.names != model.feature_names and h == 1:
                raise ValueError("features differ from the model's (platforms or config changed); retrain")
            predicted = predict_volume(model.estimators[h - 1], features, origin)[:, 0]
        else:
            target = origin[0] + h - 7
            predicted = panel.total[:, target] if target >= 0 else features.mean7[:, origin[0]]
        recent = features.mean7[:, origin[0]]
        score = rise_score(predicted, recent)
        frame = pd.DataFrame(
            {
                "term": panel.terms,
                "origin_date": panel.last_day,
                "target_date": panel.last_day + timedelta(days=h),
                "horizon": h,
                "predicted_volume": predicted,
                "recent_level": recent,
                "score": score,
                "confidence": _confidence(predicted, recent, model.dispersion),
                "model_version": model.version,
            }
        )
        frame = frame.sort_values(["score", "term"], ascending=[False, True], kind="stable")
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        frames.append(frame.head(top_n) if top_n is not None else frame)
    return pd.concat(frames, ignore_index=True)[list(PREDICTION_COLUMNS)]
