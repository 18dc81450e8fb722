"""Dagster assets and asset checks, one module per stage."""

import warnings

import dagster as dg

# The project relies on Dagster features still marked beta or preview (single-run backfill
# policies, the multi-to-single-dimension partition mapping, partitioned checks); they are chosen
# knowingly and pinned with Dagster's version, so their import-time warnings would only repeat in
# every run's log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
