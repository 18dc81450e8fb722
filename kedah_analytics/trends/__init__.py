"""Trend detection and forecasting for keyword counts (pure functions, no Dagster).

counts      classified posts -> hourly and daily counts per term and platform (Kedah hours/days)
burst       hourly burst score and is_trending flag against the keyword's own past
forecast    next-day volume per keyword: HistGradientBoosting (Poisson), baselines, rolling-origin
            backtest, promotion rule, versioned joblib model, ranked predictions
evaluation  the eval-trends command: backtest and burst flags from an hourly counts CSV
"""
