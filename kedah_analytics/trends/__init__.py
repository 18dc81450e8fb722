"""Trend detection and forecasting for term counts (pure functions, no Dagster).

counts           classified posts -> hourly and daily counts per term and platform (Kedah hours/days);
                 a keyword that names a place is counted as that place
burst            hourly burst score and alert against the term's own past (robust dispersion,
                 rise floor, cooldown), from:
  burst_baseline   the expected count and its dispersion, from the term's past
  sustained        the CUSUM that finds sustained moderate rises
the forecaster: each term's volume for the coming day(s), its baselines, its rolling-origin
backtest and the rule that decides whether a newly trained model may serve, one module per part:
  forecast_config  ForecastConfig: model, backtest and promotion settings
  panel            daily ``term, date, count[, platform]`` rows (and search interest) as dense arrays
  features         lags, robust levels, calendar, cross-platform and search-interest features
  model            the gradient-boosting booster, TrendModel, seasonal-naive as a model, (de)serialization
  backtest         rolling-origin backtest against seasonal-naive and the 28-day mean
  promotion        the rule that lets a candidate serve
  predict          ranked predictions with confidence
  weekly           the weekly job: backtest, fit, promote
pipeline         what the trend assets compute, over warehouse rows
store            which stored model serves on a given day
evaluation       the eval-trends command: backtest and burst flags from an hourly counts CSV

The forecaster's target is a term's total over all platforms for the day ``horizon`` days after the
origin (the last day observed); the model forecasts its median (absolute-error loss), relative to
the term's robust level, so that heavy-tailed real volume and its level shifts do not drag it.
"""
