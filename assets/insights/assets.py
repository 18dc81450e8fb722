"""Insights: account-level daily metrics per platform, and Google Trends search interest in Kedah.

The sources' modules (pandas, numpy) load in the steps that call them, not with the code location."""

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import product
from typing import TYPE_CHECKING

import dagster as dg

from assets.common.partitions import daily_partitions, date_platform_partitions
from assets.common.retries import retrying_asset
from kedah_analytics.deferrals import deferral
from kedah_analytics.domain import DEMO_PROVIDER
from kedah_analytics.sources.common.base import SourceError, telemetry_metadata
from kedah_analytics.sources.common.failures import day_span, source_failure_message
from kedah_analytics.warehouse import PartitionFilter, ReplaceRows
from resources import AccountMetricSources, PostgresWarehouse, SearchInterestSource
from resources.run_scope import run_scope

if TYPE_CHECKING:
    from kedah_analytics.sources.google_trends.interest import SearchInterestProvider
    from kedah_analytics.sources.insights import AccountMetricsOutcome

ACCOUNT_KEY = ["date", "platform", "account_id", "metric"]
TRENDS_SOURCE = "google_trends"  # the deferral key of search interest (kedah_analytics.deferrals)


@retrying_asset(
    group_name="insights",
    partitions_def=date_platform_partitions,
    pool="source_api",
    metadata={"primary_key": ACCOUNT_KEY},
)
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
    import pandas as pd

    from kedah_analytics.sources.insights import (
        ACCOUNT_METRIC_COLUMNS,
        account_metrics_metadata,
        collect_account_metrics,
    )

    fetched_at = datetime.now(UTC)
    scope = run_scope(context)
    outcomes: list[AccountMetricsOutcome] = []
    not_collected: dict[str, str] = {}
    demo_reasons: dict[str, str] = {}
    for platform, days in scope.days_by_platform().items():
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
                warehouse.refuse_demo_over_real(
                    "account_daily_metrics", scope.where("platform", [platform]).rows
                )
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
        ReplaceRows(rows, scope=scope, only=replaced_account_rows(outcomes)),
        metadata=account_metrics_metadata(not_collected, outcomes, demo_reasons),
    )


@retrying_asset(
    group_name="insights",
    partitions_def=daily_partitions,
    pool="source_api",
    metadata={"primary_key": ["date", "keyword", "geo"]},
)
def search_interest(
    context: dg.AssetExecutionContext,
    search_interest_source: SearchInterestSource,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """Google Trends interest (0..100) per day for the tracked keywords in Kedah (geo MY-02), with the
    keyword group and timeframe it is relative to; invented ``demo`` interest unless Google Trends
    is switched on (``KEDAH_GOOGLE_TRENDS=1``)."""
    from kedah_analytics.sources.google_trends.interest import collect_search_interest

    scope = run_scope(context)
    days = scope.days()
    real = search_interest_source.source()
    status = "real" if real is not None else f"demo ({search_interest_source.status()})"
    source: SearchInterestProvider = real if real is not None else search_interest_source.demo_source()
    if real is None:
        warehouse.refuse_demo_over_real("search_interest", scope.rows)
        context.log.info(f"search interest for {day_span(days)}: {status}")
    try:
        outcome = collect_search_interest(source, days, datetime.now(UTC))
    except SourceError as exc:
        raise dg.Failure(
            description=source_failure_message("search interest", days, source.provider, exc),
            metadata={"provider": source.provider, "error_type": type(exc).__name__},
            allow_retries=exc.retryable,
        ) from exc
    deferred = {}
    if outcome.spent is not None:
        held = deferral(TRENDS_SOURCE, source.provider, outcome.spent, datetime.now(UTC))
        warehouse.defer(held)
        deferred = held.as_metadata()
        context.log.warning(
            f"Google Trends kept refusing after backing off ({outcome.spent.message}); what came back is "
            f"stored, and Google Trends is deferred until {held.until.isoformat()}: its schedule skips until then"
        )
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
        ReplaceRows(outcome.frame, scope=scope, only=scope.on_days(with_data).rows),
        metadata={
            "status": status,
            "keywords": int(outcome.frame["keyword"].nunique()) if len(outcome.frame) else 0,
            "timeframes": outcome.timeframes,
            "days_without_data": [d.isoformat() for d in outcome.days_without_data],
            "quarantined": quarantined,
            "quota_exhausted": outcome.spent is not None,
            **deferred,
            **telemetry_metadata(outcome.telemetry, source.provider),
        },
    )


def replaced_account_rows(outcomes: Sequence["AccountMetricsOutcome"]) -> PartitionFilter:
    """The rows a write of these outcomes replaces: the days of the accounts that answered, so an
    account that failed this time keeps the rows an earlier run stored for it. A real platform's
    write also removes the demo account's rows of its days: demo and real never share a partition."""
    from kedah_analytics.sources.demo.insights import demo_account_id

    keys = []
    for o in outcomes:
        accounts = [*o.succeeded, *([demo_account_id(o.platform)] if o.provider != DEMO_PROVIDER else [])]
        keys += [(day, o.platform, account) for day, account in product(o.days, accounts)]
    return PartitionFilter(("date", "platform", "account_id"), tuple(keys))
