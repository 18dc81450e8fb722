"""Insights: account-level daily metrics per platform, and Google Trends search interest in Kedah."""

from datetime import UTC, date, datetime

import dagster as dg
import pandas as pd

from assets.common.partitions import (
    daily_partitions,
    date_platform_partitions,
    day_of,
    day_partitions,
    days_by_platform,
    replaced_account_rows,
)
from assets.common.retries import TRANSIENT_RETRY, retry_only_transient
from kedah_analytics.domain import DEMO_PROVIDER
from kedah_analytics.sources.common.base import SourceError, telemetry_metadata
from kedah_analytics.sources.common.failures import day_span, source_failure_message
from kedah_analytics.sources.google_trends.interest import SearchInterestProvider, collect_search_interest
from kedah_analytics.sources.insights import (
    ACCOUNT_METRIC_COLUMNS,
    AccountMetricsOutcome,
    account_metrics_metadata,
    collect_account_metrics,
)
from kedah_analytics.warehouse import ReplaceRows
from resources import AccountMetricSources, PostgresWarehouse, SearchInterestSource

ACCOUNT_KEY = ["date", "platform", "account_id", "metric"]


def refuse_demo_over_real(
    warehouse: PostgresWarehouse, table: str, platform: str | None, days: list[date]
) -> None:
    """Demo rows are never written into days (of a platform) that hold real rows."""
    condition = "date = ANY(%s) AND provider <> %s" + (" AND platform = %s" if platform else "")
    params: list[object] = [days, DEMO_PROVIDER, *([platform] if platform else [])]
    real = warehouse.query(f"SELECT DISTINCT provider FROM kedah.{table} WHERE {condition}", params)
    if real:
        raise dg.Failure(
            description=(
                f"kedah.{table} already holds real rows from {sorted(r[0] for r in real)} for "
                f"{day_span(days)}{' of ' + platform if platform else ''}; demo rows are never mixed with "
                "real ones. Configure the source again, or materialize days that hold no real data."
            ),
            allow_retries=False,
        )


@dg.asset(
    group_name="insights",
    kinds={"postgres", "python"},
    partitions_def=date_platform_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=TRANSIENT_RETRY,
    pool="source_api",
    metadata={"primary_key": ACCOUNT_KEY},
)
@retry_only_transient
def account_daily_metrics(
    context: dg.AssetExecutionContext,
    account_metric_sources: AccountMetricSources,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """Account-level daily metrics from Instagram insights, Facebook Page insights and YouTube
    Analytics: one row per day, platform, account and metric, with the provider and how to read the
    value (day basis, period) in ``metadata``. Each account's days are replaced when it answers; an
    account that fails keeps the rows stored before. X has none; an unconfigured platform gets an
    invented ``demo`` account, never mixed with real rows."""
    fetched_at = datetime.now(UTC)
    run_days = days_by_platform(context.partition_keys)
    outcomes: list[AccountMetricsOutcome] = []
    not_collected: dict[str, str] = {}
    demo_reasons: dict[str, str] = {}
    for platform, days in run_days.items():
        source = None
        try:
            source = account_metric_sources.source_for(platform)
            if source is None:
                status = account_metric_sources.status(platform)
                source = account_metric_sources.demo_source_for(platform)
                if source is None:
                    not_collected[platform] = status
                    context.log.info(f"{platform}: no account metrics for {day_span(days)} ({status})")
                    continue
                demo_reasons[platform] = status
                refuse_demo_over_real(warehouse, "account_daily_metrics", platform, days)
                context.log.info(f"{platform}: demo account metrics for {day_span(days)} ({status})")
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
        metadata=account_metrics_metadata(not_collected, outcomes, demo_reasons),
    )


@dg.asset(
    group_name="insights",
    kinds={"postgres", "python"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=TRANSIENT_RETRY,
    pool="source_api",
    metadata={"primary_key": ["date", "keyword", "geo"]},
)
@retry_only_transient
def search_interest(
    context: dg.AssetExecutionContext,
    search_interest_source: SearchInterestSource,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """Google Trends interest (0..100) per day for the tracked keywords in Kedah (geo MY-02), with the
    keyword group and timeframe it is relative to; invented ``demo`` interest unless Google Trends
    is switched on (``KEDAH_GOOGLE_TRENDS=1``)."""
    days = sorted({day_of(key) for key in context.partition_keys})
    real = search_interest_source.source()
    status = "real" if real is not None else f"demo ({search_interest_source.status()})"
    source: SearchInterestProvider = real if real is not None else search_interest_source.demo_source()
    if real is None:
        refuse_demo_over_real(warehouse, "search_interest", None, days)
        context.log.info(f"search interest for {day_span(days)}: {status}")
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
            "status": status,
            "keywords": int(outcome.frame["keyword"].nunique()) if len(outcome.frame) else 0,
            "timeframes": outcome.timeframes,
            "days_without_data": [d.isoformat() for d in outcome.days_without_data],
            "quarantined": quarantined,
            **telemetry_metadata(outcome.telemetry, source.provider),
        },
    )
