"""Trend detection and forecasting for term counts (pure functions, no Dagster).

counts           classified posts -> hourly and daily counts per term and platform (Kedah hours/days);
                 a keyword that names a place is counted as that place
burst            hourly burst score and alert against the term's own past (robust dispersion,
                 rise floor, cooldown), from:
  burst_baseline   the expected count and its dispersion, from the term's past
  sustained        the CUSUM that finds sustained moderate rises
forecast         the forecaster's public names, re-exported from:
  forecast_config, panel, features, model, backtest, promotion, predict, weekly
pipeline         what the trend assets compute, over warehouse rows
store            which stored model serves on a given day
evaluation       the eval-trends command: backtest and burst flags from an hourly counts CSV
"""
