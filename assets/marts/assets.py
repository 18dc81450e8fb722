"""Marts: what analysts and tourism boards read, and alerts that explain themselves."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import dagster as dg

from assets.common.frames import DataFrame
from assets.common.partitions import ALL_PLATFORMS_OF_DAY, daily_partitions, follow_changed_parents
from kedah_analytics.marts import columns
from kedah_analytics.marts.alert_config import AlertConfig
from kedah_analytics.warehouse import ReplaceChunks
from kedah_analytics.warehouse.read import DailyRows, day_chunks
from kedah_analytics.warehouse.writes import Describe
from resources import PostgresWarehouse
from resources.run_scope import run_scope

# A mart follows any day whose parents changed (not only the latest), without waiting for
# missing parents: a ranking needs its day, not every day of its history.
MART_AUTOMATION = follow_changed_parents(wait_for_missing_parents=False, wait_for_parent_backfills=False)
RANKING_DAYS = 28  # the longest window place_rankings compares a day with
RANKING_HISTORY = dg.TimeWindowPartitionMapping(
    start_offset=-RANKING_DAYS, end_offset=0, allow_nonexistent_upstream_partitions=True
)
# A ranged run builds and replaces a week of days at a time (each with its look-back window).
CHUNK_DAYS = 7
ALERT_HISTORY = dg.TimeWindowPartitionMapping(
    start_offset=-AlertConfig().history_days, end_offset=0, allow_nonexistent_upstream_partitions=True
)


def _schema(descriptions: dict[str, str]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name, description=text) for name, text in descriptions.items()]
    )


def _mart(descriptions: dict[str, str], **kwargs: Any) -> Any:
    """The shared shape of a daily mart: derived, replaced per partition (a week of partitions per
    transaction), ranged backfills in one run."""
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


def _by_chunk(
    context: dg.AssetExecutionContext,
    build_chunk: Callable[[tuple[date, ...]], DataFrame],
    describe: Describe,
    look_back_days: int = 0,
) -> dg.Output[ReplaceChunks]:
    """The run's days a chunk at a time: ``build_chunk(days)`` reads what it needs of those days
    (and the ``look_back_days`` before them a rolling figure looks back on) and builds their rows,
    which replace those days' partitions in one transaction; a year's run holds a chunk and its
    look-back, not the year. A chunk is a week, or as long as the look-back: a week after 28 days of
    look-back would read each stored day five times over a range, a chunk of 28 days twice."""
    scope = run_scope(context)
    chunk_days = max(CHUNK_DAYS, look_back_days)
    chunks = ((days, build_chunk(days)) for days in day_chunks(scope.days(), chunk_days))
    return dg.Output(ReplaceChunks(chunks, scope=scope, describe=describe))


def _back(days: tuple[date, ...], look_back_days: int) -> date:
    return days[0] - timedelta(days=look_back_days)


@_mart(columns.CITY_DAILY_OVERVIEW)
def city_daily_overview(
    context: dg.AssetExecutionContext, place_daily_metrics: DailyRows
) -> dg.Output[ReplaceChunks]:
    """Per day, city (and All Kedah) and platform (and all): posts, engagement, sentiment split and mean."""
    from kedah_analytics.marts import build  # pandas, numpy: loaded by the step

    return _by_chunk(
        context,
        lambda days: build.city_daily_overview(place_daily_metrics.read(days[0], days[-1])),
        _describe(),
    )


@_mart(columns.PLACE_RANKINGS, ins={"place_daily_metrics": dg.AssetIn(partition_mapping=RANKING_HISTORY)})
def place_rankings(
    context: dg.AssetExecutionContext, place_daily_metrics: DailyRows, places: DataFrame
) -> dg.Output[ReplaceChunks]:
    """Per day, places ranked by engagement and posts, with their change on 7 and 28 days and share of voice."""
    from kedah_analytics.marts import build  # pandas, numpy: loaded by the step

    def rankings(days: tuple[date, ...]) -> DataFrame:
        history = place_daily_metrics.read(_back(days, RANKING_DAYS), days[-1])
        return build.place_rankings(history, places, list(days))

    return _by_chunk(context, rankings, _describe(top_places=_top_places), RANKING_DAYS)


@_mart(columns.SENTIMENT_BY_CATEGORY)
def sentiment_by_category(
    context: dg.AssetExecutionContext, place_daily_metrics: DailyRows, places: DataFrame
) -> dg.Output[ReplaceChunks]:
    """Per day, city (and All Kedah) and place category: sentiment counts and mean."""
    from kedah_analytics.marts import build  # pandas, numpy: loaded by the step

    return _by_chunk(
        context,
        lambda days: build.sentiment_by_category(place_daily_metrics.read(days[0], days[-1]), places),
        _describe(),
    )


@_mart(
    columns.TOP_POSTS,
    ins={
        "classified_posts": dg.AssetIn(partition_mapping=ALL_PLATFORMS_OF_DAY),
        "raw_posts": dg.AssetIn(partition_mapping=ALL_PLATFORMS_OF_DAY),
    },
)
def top_posts(
    context: dg.AssetExecutionContext, classified_posts: DailyRows, raw_posts: DailyRows, places: DataFrame
) -> dg.Output[ReplaceChunks]:
    """Per day and place, the most engaging non-spam posts with author, url, sentiment and language."""
    from kedah_analytics.marts import build  # pandas, numpy: loaded by the step

    def posts(days: tuple[date, ...]) -> DataFrame:
        classified = classified_posts.read(days[0], days[-1], columns=build.TOP_POST_CLASSIFIED_COLUMNS)
        picks = build.top_post_picks(classified)
        # Only the picked posts' texts: reading every post's text was most of this step.
        keys = zip(picks["platform"].tolist(), picks["post_id"].tolist(), strict=True)
        raw = raw_posts.read_posts(days[0], days[-1], keys, columns=build.TOP_POST_RAW_COLUMNS)
        return build.with_post_text(picks, raw, places)

    places_with_posts = _describe(
        places_with_posts=lambda day: int(day["place_id"].nunique()) if len(day) else 0
    )
    return _by_chunk(context, posts, places_with_posts)


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
    term_hourly_counts: DailyRows,
    place_daily_metrics: DailyRows,
    places: DataFrame,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceChunks]:
    """Bursts of terms and places (trend detector) and places' sentiment dips, each with why and the posts behind it."""
    from kedah_analytics.marts.alerts import AlertInputs, build_alerts_by_day  # pandas: loaded by the step

    def raised(days: tuple[date, ...]) -> DataFrame:
        first = _back(days, AlertConfig().history_days)
        hourly = term_hourly_counts.read(first, days[-1])
        metrics = place_daily_metrics.read(first, days[-1])
        with warehouse.connection() as conn:
            return build_alerts_by_day(conn, days, AlertInputs(hourly, metrics, places))

    return _by_chunk(
        context, raised, _describe(kinds=_alert_kinds, messages=_messages), AlertConfig().history_days
    )
