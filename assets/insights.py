"""Insights: account-level daily metrics per platform, and Google Trends search interest in Kedah."""

from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from assets.ingest import INGEST_RETRY
from assets.partitions import daily_partitions, date_platform_partitions, day_of, days_by_platform
from kedah_analytics.sources.base import SourceError
from kedah_analytics.sources.collect import (
    ACCOUNT_METRIC_COLUMNS,
    AccountMetricsOutcome,
    account_metrics_metadata,
    collect_account_metrics,
    collect_search_interest,
    date_platform_rows,
    day_partitions,
    day_span,
    replaced_account_rows,
    source_failure_message,
    telemetry_metadata,
)
from resources import AccountMetricSources, PostgresWarehouse, SearchInterestSource

ACCOUNT_KEY = ["date", "platform", "account_id", "metric"]


@dg.asset(
    group_name="ingest",
    kinds={"postgres", "python"},
    partitions_def=date_platform_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=INGEST_RETRY,
    pool="source_api",
    metadata={
        "write_mode": "replace per account",
        "primary_key": ACCOUNT_KEY,
        "dagster/table_name": "kedah.account_daily_metrics",
    },
)
def account_daily_metrics(
    context: dg.AssetExecutionContext,
    account_metric_sources: AccountMetricSources,
    warehouse: PostgresWarehouse,
) -> dg.MaterializeResult:
    """Account-level daily metrics from Instagram insights, Facebook Page insights and YouTube
    Analytics: one row per day, platform, account and metric, with the provider and how to read the
    value (day basis, period) in ``metadata``. Each account's days are replaced when it answers; an
    account that fails keeps the rows stored before. X has none; an unconfigured platform gives none."""
    fetched_at = datetime.now(UTC)
    run_days = days_by_platform(context.partition_keys)
    outcomes: list[AccountMetricsOutcome] = []
    not_collected: dict[str, str] = {}
    for platform, days in run_days.items():
        source = None
        try:
            source = account_metric_sources.source_for(platform)
            if source is None:
                not_collected[platform] = account_metric_sources.status(platform)
                context.log.info(
                    f"{platform}: no account metrics for {day_span(days)} ({not_collected[platform]})"
                )
                continue
            outcomes.append(collect_account_metrics(source, days, fetched_at))
        except SourceError as exc:
            provider = source.provider if source is not None else f"{platform} account insights"
            raise dg.Failure(
                description=source_failure_message(f"{platform} account metrics", days, provider, exc),
                metadata={"platform": platform, "provider": provider, "error_type": type(exc).__name__},
                allow_retries=exc.retryable,
            ) from exc
        for account, error in outcomes[-1].failed_accounts().items():
            context.log.warning(f"{platform} account {account} failed, the others went on: {error}")

    metadata = account_metrics_metadata(not_collected, outcomes)
    if not outcomes:
        stored = warehouse.stored_rows("account_daily_metrics", date_platform_rows(run_days))
        return dg.MaterializeResult(
            metadata={**metadata, "rows_written": 0, "dagster/partition_row_count": stored}
        )

    rows = pd.concat([o.frame for o in outcomes], ignore_index=True)
    written = warehouse.replace(
        "account_daily_metrics",
        rows[ACCOUNT_METRIC_COLUMNS],
        replaced_account_rows(outcomes),
        stored_in=date_platform_rows(run_days),
    )
    return dg.MaterializeResult(metadata={**metadata, **written})


@dg.asset(
    group_name="ingest",
    kinds={"postgres", "python"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=INGEST_RETRY,
    pool="source_api",
    metadata={
        "write_mode": "replace",
        "primary_key": ["date", "keyword", "geo"],
        "dagster/table_name": "kedah.search_interest",
    },
)
def search_interest(
    context: dg.AssetExecutionContext,
    search_interest_source: SearchInterestSource,
    warehouse: PostgresWarehouse,
) -> dg.MaterializeResult:
    """Google Trends interest (0..100) per day for the tracked keywords in Kedah (geo MY-02), with the
    keyword group and timeframe it is relative to. Off unless ``KEDAH_GOOGLE_TRENDS=1``."""
    days = sorted({day_of(key) for key in context.partition_keys})
    source = search_interest_source.source()
    if source is None:
        status = search_interest_source.status()
        context.log.info(f"search interest for {day_span(days)}: {status}; no rows")
        stored = warehouse.stored_rows("search_interest", day_partitions(days))
        return dg.MaterializeResult(
            metadata={
                "status": status,
                "rows_written": 0,
                "provider": "none",
                "dagster/partition_row_count": stored,
            }
        )
    try:
        outcome = collect_search_interest(source, days, datetime.now(UTC))
    except SourceError as exc:
        raise dg.Failure(
            description=source_failure_message("search interest", days, source.provider, exc),
            metadata={"provider": source.provider, "error_type": type(exc).__name__},
            allow_retries=exc.retryable,
        ) from exc
    if outcome.days_without_data:
        context.log.warning(
            f"Google Trends gave no data for {day_span(outcome.days_without_data)}; "
            "the rows stored for those days are kept"
        )
    # Days Google gave nothing for keep their rows: replace only the days that came back.
    with_data = [d for d in days if d not in set(outcome.days_without_data)]
    written = warehouse.replace(
        "search_interest", outcome.frame, day_partitions(with_data), stored_in=day_partitions(days)
    )
    return dg.MaterializeResult(
        metadata={
            **written,
            "status": "real",
            "keywords": int(outcome.frame["keyword"].nunique()) if len(outcome.frame) else 0,
            "timeframes": outcome.timeframes,
            "days_without_data": [d.isoformat() for d in outcome.days_without_data],
            **telemetry_metadata(outcome.telemetry, source.provider),
        }
    )
