"""A simulated stretch of days: the project's real schedules and sensors against fake X, Graph,
YouTube and Google Trends APIs that enforce the providers' rules (``bench/bench_month.py`` runs a
month, ``tests/pipeline/test_month_sim.py`` three days)."""
