"""The rule that decides whether a newly trained forecaster may serve.

:func:`promote` lets a candidate serve only if its backtest MASE beats both baselines by a margin
(2 % by default) and, when a model is serving, its MASE relative to seasonal-naive is not worse
than the serving model's own backtest figure (backtests of different weeks are compared through
that ratio, not raw MASE). Beating seasonal-naive alone is not enough: on pure noise a mean model
beats seasonal-naive by about 30 % without having learnt anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from kedah_analytics.trends.backtest import BacktestResult


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    serving: Literal["candidate", "current", "seasonal_naive"]
    reason: str


def promote(
    candidate: BacktestResult,
    current: BacktestResult | None = None,
    *,
    margin: float = 0.02,
) -> PromotionDecision:
    """Decide whether the candidate serves, with the reason in words and figures.

    Promote only if the candidate's backtest MASE is below ``(1 - margin)`` times both the
    seasonal-naive and the count-model MASE of the same backtest and, when ``current`` (the
    serving model's own backtest) is given, its MASE relative to seasonal-naive is not worse than
    the serving model's. Otherwise the serving model stays, or seasonal-naive serves if there is
    none.
    """
    fallback: Literal["current", "seasonal_naive"] = "current" if current is not None else "seasonal_naive"
    keep = "keeping the serving model" if current is not None else "serving seasonal-naive"
    m, sn, cm = candidate.model.mase, candidate.seasonal_naive.mase, candidate.count_model.mase
    if not all(math.isfinite(v) for v in (m, sn, cm)):
        return PromotionDecision(
            False, fallback, f"backtest MASE is not defined (model {m}, naive {sn}); {keep}"
        )
    bar = 1.0 - margin
    if not m < bar * sn:
        return PromotionDecision(
            False,
            fallback,
            f"model MASE {m:.3f} does not beat seasonal-naive {sn:.3f} by {margin:.0%}; {keep}",
        )
    if not m < bar * cm:
        return PromotionDecision(
            False,
            fallback,
            f"model MASE {m:.3f} does not beat the count model {cm:.3f} by {margin:.0%} "
            f"(it beats seasonal-naive {sn:.3f}, but so would a plain mean); {keep}",
        )
    if current is not None:
        new, old = candidate.relative_mase, current.relative_mase
        if math.isfinite(old) and not new <= old:
            return PromotionDecision(
                False,
                "current",
                f"model MASE / seasonal-naive MASE {new:.3f} is worse than the serving model's {old:.3f} "
                f"(its backtest to {current.last_origin}); keeping the serving model",
            )
    reason = f"model MASE {m:.3f} beats seasonal-naive {sn:.3f} and the count model {cm:.3f} by at least {margin:.0%}"
    if current is not None:
        reason += (
            f" and its ratio to seasonal-naive {candidate.relative_mase:.3f} is no worse than the serving "
        )
        reason += f"model's {current.relative_mase:.3f}"
    return PromotionDecision(True, "candidate", reason)
