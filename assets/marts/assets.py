"""Marts: what analysts and tourism boards read, and alerts that explain themselves."""

from collections.abc import Callable
from typing import Any

import dagster as dg

from assets.common.frames import DataFrame
from assets.common.partitions import ALL_PLATFORMS_OF_DAY, daily_partitions, follow_changed_parents
from kedah_analytics.marts import columns
from kedah_analytics.marts.alert_config import AlertConfig
from kedah_analytics.warehouse import ReplaceRows
from kedah_analytics.warehouse.writes import Describe
from resources import PostgresWarehouse
from resources.run_scope import run_scope

# A mart follows any day whose parents changed (not only the latest), without waiting for
# missing parents: a ranking needs its day, not every day of its history.
MART_AUTOMATION = follow_changed_parents(wait_for_missing_parents=False)
RANKING_HISTORY = dg.TimeWindowPartitionMapping(
    start_offset=-28, end_offset=0, allow_nonexistent_upstream_partitions=True
)
ALERT_HISTORY = dg.TimeWindowPartitionMapping(
    start_offset=-AlertConfig().history_days, end_offset=0, allow_nonexistent_upstream_partitions=True
)


def _schema(descriptions: dict[str, str]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name, description=text) for name, text in descriptions.items()]
    )


def _mart(descriptions: dict[str, str], **kwargs: Any) -> Any:
    """The shared shape of a daily mart: derived, replaced per partition, ranged backfills in one run."""
    return dg.asset(
        group_name="marts",
        kinds={"postgres", "pandas"},
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=MART_AUTOMATION,
        metadata={"dagster/column_schema": _schema(descriptions)},
        **kwargs,
    )


def _providers(frame: DataFrame) -> list[str]:
    return sorted(frame["provider"].unique()) if len(frame) else []


def _describe(**figures: Callable[[DataFrame], Any]) -> Describe:
    """A mart partition's own figures: its providers, and ``figures`` of its rows (each a function
    of a day's rows); the IO manager records them on the day, and sums the numbers as run_*."""
    return lambda frame: {"providers": _providers(frame), **{k: f(frame) for k, f in figures.items()}}


def _top_places(rankings: DataFrame) -> list[str]:
    """The day's most engaging places (several on a tie, one per provider): a list, shown as JSON."""
    return sorted(set(rankings.loc[rankings["rank_engagement"] == 1, "place_name"])) if len(rankings) else []


def _alert_kinds(raised: DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in raised["kind"].value_counts().items()} if len(raised) else {}


def _messages(raised: DataFrame) -> dg.MetadataValue:
    preview = "\n\n".join(raised["message"].head(3)) if len(raised) else "(no alerts)"
    return dg.MetadataValue.md(f"```\n{preview}\n```")


@_mart(columns.CITY_DAILY_OVERVIEW)
def city_daily_overview(place_daily_metrics: DataFrame) -> dg.Output[ReplaceRows]:
    """Per day, city (and All Kedah) and platform (and all): posts, engagement, sentiment split and mean."""
    from kedah_analytics.marts import build  # pandas, numpy: loaded by the step

    overview = build.city_daily_overview(place_daily_metrics)
    return dg.Output(ReplaceRows(overview, describe=_describe()))


@_mart(columns.PLACE_RANKINGS, ins={"place_daily_metrics": dg.AssetIn(partition_mapping=RANKING_HISTORY)})
def place_rankings(
    context: dg.AssetExecutionContext, place_daily_metrics: DataFrame, places: DataFrame
) -> dg.Output[ReplaceRows]:
    """Per day, places ranked by engagement and posts, with their change on 7 and 28 days and share of voice."""
    from kedah_analytics.marts import build

    scope = run_scope(context)
    rankings = build.place_rankings(place_daily_metrics, places, scope.days())
    return dg.Output(ReplaceRows(rankings, scope=scope, describe=_describe(top_places=_top_places)))


@_mart(columns.SENTIMENT_BY_CATEGORY)
def sentiment_by_category(place_daily_metrics: DataFrame, places: DataFrame) -> dg.Output[ReplaceRows]:
    """Per day, city (and All Kedah) and place category: sentiment counts and mean."""
    from kedah_analytics.marts import build

    sentiment = build.sentiment_by_category(place_daily_metrics, places)
    return dg.Output(ReplaceRows(sentiment, describe=_describe()))


@_mart(
    columns.TOP_POSTS,
    ins={
        "classified_posts": dg.AssetIn(partition_mapping=ALL_PLATFORMS_OF_DAY),
        "raw_posts": dg.AssetIn(partition_mapping=ALL_PLATFORMS_OF_DAY),
    },
)
def top_posts(classified_posts: DataFrame, raw_posts: DataFrame, places: DataFrame) -> dg.Output[ReplaceRows]:
    """Per day and place, the most engaging non-spam posts with author, url, sentiment and language."""
    from kedah_analytics.marts import build

    posts = build.top_posts(classified_posts, raw_posts, places)
    places_with_posts = _describe(
        places_with_posts=lambda day: int(day["place_id"].nunique()) if len(day) else 0
    )
    return dg.Output(ReplaceRows(posts, describe=places_with_posts))


@_mart(
    columns.ALERTS,
    ins={
        "term_hourly_counts": dg.AssetIn(partition_mapping=ALERT_HISTORY),
        "place_daily_metrics": dg.AssetIn(partition_mapping=ALERT_HISTORY),
    },
    # The evidence (top posts, sentiment of the posts behind an alert) is read from these.
    deps=[
        dg.AssetDep("classified_posts", partition_mapping=ALL_PLATFORMS_OF_DAY),
        dg.AssetDep("raw_posts", partition_mapping=ALL_PLATFORMS_OF_DAY),
    ],
)
def alerts(
    context: dg.AssetExecutionContext,
    term_hourly_counts: DataFrame,
    place_daily_metrics: DataFrame,
    places: DataFrame,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """Bursts of terms and places (trend detector) and places' sentiment dips, each with why and the posts behind it."""
    from kedah_analytics.marts.alerts import build_alerts

    scope = run_scope(context)
    with warehouse.connection() as conn:
        raised = build_alerts(conn, scope.days(), term_hourly_counts, place_daily_metrics, places)
    return dg.Output(
        ReplaceRows(raised, scope=scope, describe=_describe(kinds=_alert_kinds, messages=_messages))
    )
