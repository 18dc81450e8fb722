import math
import sys
import types
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from trends_synth import daily_panel

from kedah_analytics.trends.backtest import BacktestResult, MethodMetrics, backtest
from kedah_analytics.trends.forecast_config import ForecastConfig
from kedah_analytics.trends.model import (
    MODEL_FORMAT,
    StaleModelError,
    dump_model,
    fit_trend_model,
    load_model,
    seasonal_naive_model,
)
from kedah_analytics.trends.panel import build_panel
from kedah_analytics.trends.predict import PREDICTION_COLUMNS, predict_trends
from kedah_analytics.trends.promotion import promote
from kedah_analytics.trends.weekly import train_weekly

CONFIG = ForecastConfig(max_iter=120)  # fewer boosting rounds keep the tests quick


@pytest.fixture(scope="module")
def signal() -> pd.DataFrame:
    return daily_panel("signal", n_terms=60, n_days=112, seed=11)


@pytest.fixture(scope="module")
def noise() -> pd.DataFrame:
    return daily_panel("noise", n_terms=60, n_days=112, seed=12)


@pytest.fixture(scope="module")
def signal_backtest(signal) -> BacktestResult:
    return backtest(signal, CONFIG)


@pytest.fixture(scope="module")
def signal_model(signal, signal_backtest):
    return fit_trend_model(signal, CONFIG, backtest_result=signal_backtest)


def test_model_beats_both_baselines_where_there_is_signal(signal_backtest):
    r = signal_backtest
    assert r.n_origins == 28 and r.n_terms == 60 and r.n_terms_unscaled == 0
    assert r.model.mase < 0.8 * r.seasonal_naive.mase, r.as_dict()
    assert r.model.mase < 0.8 * r.count_model.mase, r.as_dict()
    assert r.model.mae < r.seasonal_naive.mae
    # The predicted top risers overlap the actual ones far more than the baselines' do.
    assert r.model.precision_at_k >= 0.4
    assert r.model.precision_at_k > r.seasonal_naive.precision_at_k + 0.2
    decision = promote(r)
    assert decision.promote and decision.serving == "candidate", decision.reason


def test_cross_platform_counts_help(signal, signal_backtest):
    without = backtest(signal.drop(columns="platform"), CONFIG)
    assert signal_backtest.model.mase < without.model.mase


def test_no_promotion_on_pure_noise(noise):
    r = backtest(noise, CONFIG)
    # On iid noise any mean beats seasonal-naive (which adds a second draw's noise) ...
    assert r.count_model.mase < 0.85 * r.seasonal_naive.mase
    assert r.model.mase < r.seasonal_naive.mase
    # ... so the rule asks the model to beat the count model too, which it cannot here.
    assert r.model.mase > (1 - CONFIG.promotion_margin) * r.count_model.mase, r.as_dict()
    decision = promote(r)
    assert not decision.promote
    assert decision.serving == "seasonal_naive"
    assert "count model" in decision.reason


def _result(model: float, naive: float, count: float, last: date = date(2026, 11, 15)) -> BacktestResult:
    def m(mase: float) -> MethodMetrics:
        return MethodMetrics(mase=mase, mase_pooled=mase, mae=mase * 3, precision_at_k=0.5)

    return BacktestResult(
        model=m(model),
        seasonal_naive=m(naive),
        count_model=m(count),
        n_terms=100,
        n_terms_unscaled=0,
        n_origins=28,
        first_origin=last - timedelta(days=27),
        last_origin=last,
        horizon=1,
        top_k=10,
        refit_every=7,
        dispersion=10.0,
        dispersion_seasonal_naive=5.0,
    )


def test_promotion_rule_keeps_the_old_model_on_a_bad_week():
    serving = _result(0.70, 1.00, 0.90)  # relative MASE 0.70
    bad_week = _result(1.05, 1.00, 0.95)
    decision = promote(bad_week, serving)
    assert not decision.promote and decision.serving == "current"
    assert (
        "does not beat seasonal-naive" in decision.reason and "keeping the serving model" in decision.reason
    )

    worse_than_serving = _result(0.85, 1.00, 0.95)  # beats both baselines, relative 0.85 > 0.70
    decision = promote(worse_than_serving, serving)
    assert not decision.promote and decision.serving == "current"
    assert "worse than the serving model" in decision.reason

    better = _result(0.60, 1.00, 0.90)
    decision = promote(better, serving)
    assert decision.promote and decision.serving == "candidate"

    within_margin = _result(0.99, 1.00, 1.20)
    decision = promote(within_margin, None)
    assert not decision.promote and decision.serving == "seasonal_naive"

    undefined = _result(math.nan, 1.00, 0.9)
    assert not promote(undefined, serving).promote


def test_weekly_training_keeps_the_serving_model_when_the_new_week_is_noise(signal, noise):
    first = train_weekly(signal, None, CONFIG)
    assert first.decision.promote and first.serving is first.candidate
    second = train_weekly(noise, first.serving, CONFIG)
    assert not second.decision.promote
    assert second.serving.version == first.serving.version
    assert second.candidate.version != first.serving.version


def test_model_round_trips_with_a_versioned_window(signal, signal_model):
    model = signal_model
    panel = build_panel(signal)
    assert model.version.startswith(f"hgb-absolute-error-{panel.first_day}_{panel.last_day}-")
    assert len(model.version.rsplit("-", 1)[1]) == 12
    blob = dump_model(model)
    assert isinstance(blob, bytes) and len(blob) > 1000
    loaded = load_model(blob)
    assert loaded.version == model.version
    a = predict_trends(model, signal, top_n=None)
    b = predict_trends(loaded, signal, top_n=None)
    pd.testing.assert_frame_equal(a, b)
    changed = signal.assign(count=signal["count"] + (signal.index == 0))
    assert fit_trend_model(changed, CONFIG).version != model.version
    with pytest.raises(TypeError):
        load_model(dump_model({"not": "a model"}))  # type: ignore[arg-type]


def test_predictions_rank_terms_by_predicted_rise(signal, signal_model):
    model = signal_model
    top = predict_trends(model, signal, top_n=10)
    assert tuple(top.columns) == PREDICTION_COLUMNS
    assert len(top) == 10 and list(top["rank"]) == list(range(1, 11))
    assert top["score"].is_monotonic_decreasing
    assert ((top["confidence"] >= 0) & (top["confidence"] <= 1)).all()
    assert (top["predicted_volume"] > 0).all()
    last = pd.to_datetime(signal["date"]).max().date()
    assert (top["target_date"] == last + timedelta(days=1)).all()
    everyone = predict_trends(model, signal, top_n=None)
    assert len(everyone) == 60
    # Rising terms are more likely to exceed their recent level than falling ones.
    rising = everyone["score"] > 1
    assert everyone.loc[rising, "confidence"].mean() > everyone.loc[~rising, "confidence"].mean()


def test_prediction_ignores_data_after_as_of(signal, signal_model):
    model = signal_model
    as_of = pd.to_datetime(signal["date"]).max().date() - timedelta(days=5)
    dates = pd.to_datetime(signal["date"]).dt.date
    with_future = predict_trends(model, signal, as_of=as_of, top_n=None)
    without = predict_trends(model, signal[dates <= as_of], as_of=as_of, top_n=None)
    pd.testing.assert_frame_equal(with_future, without)
    assert (with_future["origin_date"] == as_of).all()


def test_seasonal_naive_serving_model_predicts_last_week(signal):
    panel = build_panel(signal)
    baseline = seasonal_naive_model(panel.first_day, panel.last_day)
    out = predict_trends(baseline, signal, top_n=None).set_index("term")
    expected = pd.Series(panel.total[:, -7], index=panel.terms)
    np.testing.assert_allclose(out.loc[expected.index, "predicted_volume"], expected)
    assert out["model_version"].iloc[0].startswith("seasonal-naive-")


def test_backtest_needs_enough_days_and_shrinks_its_origins():
    short = daily_panel("noise", n_terms=5, n_days=30, seed=3)
    r = backtest(short, replace(CONFIG, n_origins=28))
    assert r.n_origins == 30 - 1 - 1 - (CONFIG.min_history_days + 1 + 7) + 1
    with pytest.raises(ValueError, match="too little data"):
        backtest(daily_panel("noise", n_terms=5, n_days=20, seed=3), CONFIG)


def test_holidays_become_a_feature():
    small = daily_panel("signal", n_terms=15, n_days=60, seed=5)
    days = sorted(pd.to_datetime(small["date"]).dt.date.unique())
    config = replace(CONFIG, max_iter=30, holidays=(days[20], days[45]))
    model = fit_trend_model(small, config)
    assert "target_is_holiday" in model.feature_names
    assert "target_is_holiday" not in fit_trend_model(small, replace(config, holidays=())).feature_names
    assert len(predict_trends(model, small, top_n=5)) == 5


def test_search_interest_joins_the_features_where_it_exists():
    small = daily_panel("signal", n_terms=15, n_days=60, seed=6)
    days = sorted(pd.to_datetime(small["date"]).dt.date.unique())
    # Google Trends tracks two of the terms, and not on every day.
    interest = pd.DataFrame(
        [(term, day, 40 + (i % 7)) for term in ("kw000", "kw001") for i, day in enumerate(days) if i % 5]
        , columns=["term", "date", "interest"],
    )  # fmt: skip
    panel = build_panel(small, search_interest=interest)
    assert panel.search_interest is not None
    tracked = np.isin(panel.terms, ["kw000", "kw001"])
    assert np.isnan(panel.search_interest[~tracked]).all()  # untracked: unknown, not 0
    assert np.isfinite(panel.search_interest[tracked]).mean() == pytest.approx(0.8, abs=0.05)
    config = replace(CONFIG, max_iter=30)
    model = fit_trend_model(panel, config)
    assert model.uses_search_interest and "search_interest_today_vs_28" in model.feature_names
    assert not fit_trend_model(small, config).uses_search_interest
    # Where Google Trends is off at prediction time, the model still predicts (interest unknown).
    with_interest = predict_trends(model, small, top_n=None, search_interest=interest)
    without = predict_trends(model, small, top_n=None)
    assert len(with_interest) == len(without) == 15
    assert np.isfinite(without["predicted_volume"]).all()


def test_a_model_of_an_older_format_is_refused_as_stale():
    small = daily_panel("noise", n_terms=5, n_days=40, seed=7)
    model = fit_trend_model(small, replace(CONFIG, max_iter=10))
    model.format = MODEL_FORMAT - 1
    with pytest.raises(StaleModelError, match="retrain"):
        load_model(dump_model(model))


def test_a_model_pickled_under_the_removed_forecast_module_is_refused_as_stale(monkeypatch):
    """Format 1 stored its classes as ``kedah_analytics.trends.forecast.TrendModel``; that module
    is gone, so such a blob must read as stale (seasonal-naive serves), not crash the trend step."""
    old = types.ModuleType("kedah_analytics.trends.forecast")

    class TrendModel:  # the old class path, as a format-1 blob names it
        format = 1

    TrendModel.__module__, TrendModel.__qualname__ = old.__name__, "TrendModel"
    old.TrendModel = TrendModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, old.__name__, old)
    blob = dump_model(TrendModel())  # type: ignore[arg-type]
    monkeypatch.delitem(sys.modules, old.__name__)
    with pytest.raises(StaleModelError, match="retrain"):
        load_model(blob)


def test_the_backtest_runs_on_exactly_its_minimum_history_and_not_a_day_less():
    """``ForecastConfig.min_backtest_days`` is what the seed uses to decide whether a week's model
    can be trained: it must match what the backtest itself accepts."""
    config = ForecastConfig()
    first = date(2026, 1, 1)

    def daily(days: int) -> pd.DataFrame:
        return pd.DataFrame(
            [{"term": "langkawi", "date": first + timedelta(days=i), "count": 5 + i % 7} for i in range(days)]
        )

    assert backtest(daily(config.min_backtest_days), config).n_origins == 1
    with pytest.raises(ValueError, match="too little data"):
        backtest(daily(config.min_backtest_days - 1), config)


def test_search_interest_that_starts_after_the_first_backtest_block_trains_and_predicts():
    """Google Trends switched on a few days ago: its interest covers the last days only, so the
    backtest's first refits see a search-interest column without a single value. The weekly
    training still runs (scikit-learn cannot bin an all-NaN column), and the final model, which
    does see the interest, uses it."""
    small = daily_panel("signal", n_terms=15, n_days=70, seed=8)
    days = sorted(pd.to_datetime(small["date"]).dt.date.unique())
    interest = pd.DataFrame(
        [(term, day, 30 + i % 9) for term in ("kw000", "kw001") for i, day in enumerate(days[-6:])],
        columns=["term", "date", "interest"],
    )
    config = replace(CONFIG, max_iter=30)
    outcome = train_weekly(small, None, config, as_of=days[-1], search_interest=interest)
    assert outcome.candidate.uses_search_interest
    predictions = predict_trends(outcome.candidate, small, top_n=None, search_interest=interest)
    assert len(predictions) == 15 and np.isfinite(predictions["predicted_volume"]).all()
