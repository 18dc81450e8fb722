"""Insights: account-level daily metrics per platform, and Google Trends search interest in Kedah."""

from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from assets.ingest import INGEST_RETRY
from assets.partitions import (
    daily_partitions,
    date_platform_partitions,
    day_of,
    day_partitions,
    days_by_platform,
    replaced_account_rows,
)
from kedah_analytics.sources.account_metrics import (
    ACCOUNT_METRIC_COLUMNS,
    AccountMetricsOutcome,
    account_metrics_metadata,
    collect_account_metrics,
)
from kedah_analytics.sources.base import SourceError, telemetry_metadata
from kedah_analytics.sources.failures import day_span, source_failure_message
from kedah_analytics.sources.search_interest import SEARCH_INTEREST_COLUMNS, collect_search_interest
from kedah_analytics.warehouse import ReplaceRows
from resources import AccountMetricSources, PostgresWarehouse, SearchInterestSource

ACCOUNT_KEY = ["date", "platform", "account_id", "metric"]


@dg.asset(
    group_name="ingest",
    kinds={"postgres", "python"},
    partitions_def=date_platform_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=INGEST_RETRY,
    pool="source_api",
    metadata={"primary_key": ACCOUNT_KEY},
)
def account_daily_metrics(
    context: dg.AssetExecutionContext,
    account_metric_sources: AccountMetricSources,
) -> dg.Output[ReplaceRows]:
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

    rows = (
        pd.concat([o.frame for o in outcomes], ignore_index=True)[ACCOUNT_METRIC_COLUMNS]
        if outcomes
        else pd.DataFrame(columns=ACCOUNT_METRIC_COLUMNS)
    )
    # Only the accounts that answered are replaced: one that failed keeps its stored rows.
    return dg.Output(
        ReplaceRows(rows, only=replaced_account_rows(outcomes)),
        metadata=account_metrics_metadata(not_collected, outcomes),
    )


@dg.asset(
    group_name="ingest",
    kinds={"postgres", "python"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=INGEST_RETRY,
    pool="source_api",
    metadata={"primary_key": ["date", "keyword", "geo"]},
)
def search_interest(
    context: dg.AssetExecutionContext,
    search_interest_source: SearchInterestSource,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """Google Trends interest (0..100) per day for the tracked keywords in Kedah (geo MY-02), with the
    keyword group and timeframe it is relative to. Off unless ``KEDAH_GOOGLE_TRENDS=1``."""
    days = sorted({day_of(key) for key in context.partition_keys})
    source = search_interest_source.source()
    if source is None:
        status = search_interest_source.status()
        context.log.info(f"search interest for {day_span(days)}: {status}; no rows")
        return dg.Output(
            ReplaceRows(pd.DataFrame(columns=SEARCH_INTEREST_COLUMNS), only=day_partitions([])),
            metadata={"status": status, "provider": "none"},
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
    quarantined = warehouse.quarantine("search_interest", f"{days[0]}..{days[-1]}", outcome.quarantined)
    if quarantined:
        context.log.warning(
            f"quarantined {quarantined} unreadable Google Trends point(s) in kedah.quarantine"
        )
    # Days Google gave nothing for keep their rows: replace only the days that came back.
    with_data = [d for d in days if d not in set(outcome.days_without_data)]
    return dg.Output(
        ReplaceRows(outcome.frame, only=day_partitions(with_data)),
        metadata={
            "status": "real",
            "keywords": int(outcome.frame["keyword"].nunique()) if len(outcome.frame) else 0,
            "timeframes": outcome.timeframes,
            "days_without_data": [d.isoformat() for d in outcome.days_without_data],
            "quarantined": quarantined,
            **telemetry_metadata(outcome.telemetry, source.provider),
        },
    )
