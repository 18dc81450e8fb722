"""Trends: term counts, the weekly-trained forecaster, and hourly trend predictions."""

from datetime import timedelta

import dagster as dg

from assets.common.daily import daily_from_classified_posts
from assets.common.frames import DataFrame
from assets.common.partitions import FIRST_MONDAY, daily_partitions
from kedah_analytics.domain import TIMEZONE_NAME
from kedah_analytics.trends.forecast_config import ForecastConfig
from kedah_analytics.trends.inputs import TERM_COUNT_INPUTS
from kedah_analytics.warehouse import ReplaceRows
from resources import PostgresWarehouse
from resources.run_scope import run_scope

# Weeks run Monday to Sunday in Kedah; a week's partition exists once the week is over.
weekly_partitions = dg.WeeklyPartitionsDefinition(
    start_date=FIRST_MONDAY.isoformat(), timezone=TIMEZONE_NAME, day_offset=1
)
TRAINING_WEEKS_BEFORE = 16
# A week's model trains on its own 7 days and the 16 weeks before: 119 days of counts. The
# offsets count downstream (weekly) partitions; left to the default, weekly-from-daily maps to
# nothing at all, silently.
TRAINING_WINDOW = dg.TimeWindowPartitionMapping(
    start_offset=-TRAINING_WEEKS_BEFORE, end_offset=0, allow_nonexistent_upstream_partitions=True
)
PREDICTION_HISTORY_DAYS = 56  # the forecaster's longest feature window
PREDICTION_HISTORY = dg.TimeWindowPartitionMapping(
    start_offset=-PREDICTION_HISTORY_DAYS, end_offset=-1, allow_nonexistent_upstream_partitions=True
)
BURST_HISTORY = dg.TimeWindowPartitionMapping(
    start_offset=-28, end_offset=0, allow_nonexistent_upstream_partitions=True
)


def _terms(counts: DataFrame) -> dict[str, int | float]:
    return {"terms": int(counts["term"].nunique()) if len(counts) else 0}


def _term_daily_counts(posts: DataFrame, places: DataFrame) -> DataFrame:
    from kedah_analytics.trends import pipeline  # pandas, numpy: loaded by the step

    return pipeline.term_daily_counts(posts, places)


def _term_hourly_counts(posts: DataFrame, places: DataFrame) -> DataFrame:
    from kedah_analytics.trends import pipeline

    return pipeline.term_hourly_counts(posts, places)


term_daily_counts = daily_from_classified_posts(
    "term_daily_counts",
    "trends",
    "Per day, platform and term (keyword, hashtag, topic, place): non-spam posts, likes,\n"
    "comments, shares, views and engagement. The trend model's input.",
    _term_daily_counts,
    _terms,
    TERM_COUNT_INPUTS,
)
term_hourly_counts = daily_from_classified_posts(
    "term_hourly_counts",
    "trends",
    "Per Kedah hour, platform and term: non-spam posts and engagement; the burst detector's input.",
    _term_hourly_counts,
    _terms,
    TERM_COUNT_INPUTS,
)


@dg.asset(
    group_name="trends",
    kinds={"postgres", "scikitlearn"},
    partitions_def=weekly_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
    ins={
        "term_daily_counts": dg.AssetIn(partition_mapping=TRAINING_WINDOW),
        "search_interest": dg.AssetIn(partition_mapping=TRAINING_WINDOW),
    },
    metadata={"partition_expr": "week_start"},
)
def trend_model(
    context: dg.AssetExecutionContext,
    term_daily_counts: DataFrame,
    search_interest: DataFrame,
    places: DataFrame,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """The weekly-trained forecaster (gradient boosting on each term's median day) with its
    rolling-origin backtest against seasonal-naive and the 28-day mean, and the model that serves
    afterwards: the candidate only when it beats both baselines, else the previous model or the
    baseline."""
    import pandas as pd

    from kedah_analytics.trends import pipeline, store  # the forecaster's libraries load here

    scope = run_scope(context)
    (week_start,) = scope.days()
    training_start, training_end = store.week_window(week_start, TRAINING_WEEKS_BEFORE)
    with warehouse.connection() as conn:
        current = store.serving_model_before(conn, week_start)
    trained = pipeline.train_week(
        term_daily_counts,
        current,
        week_start,
        training_start,
        training_end,
        search_interest=search_interest,
        places=places,
    )
    context.log.info(trained.row["reason"])
    return dg.Output(
        ReplaceRows(pd.DataFrame([trained.row]), scope=scope),
        metadata={**trained.metadata, "training_window": f"{training_start}..{training_end}",
                  "days_of_counts": int(term_daily_counts["date"].nunique()) if len(term_daily_counts) else 0},
    )  # fmt: skip


@dg.asset(
    group_name="trends",
    kinds={"postgres", "pandas"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={
        "term_daily_counts": dg.AssetIn(partition_mapping=PREDICTION_HISTORY),
        "term_hourly_counts": dg.AssetIn(partition_mapping=BURST_HISTORY),
        "search_interest": dg.AssetIn(partition_mapping=PREDICTION_HISTORY),
    },
    deps=[trend_model],
)
def trend_predictions(
    context: dg.AssetExecutionContext,
    term_daily_counts: DataFrame,
    term_hourly_counts: DataFrame,
    search_interest: DataFrame,
    places: DataFrame,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """Top rising keywords, hashtags, topics and places for the day: predicted volume, score,
    confidence, the serving model's version, and whether the burst detector already sees a burst."""
    import pandas as pd

    from kedah_analytics.trends import pipeline, store
    from kedah_analytics.trends.model import seasonal_naive_model

    frames, notes, versions = [], [], set()
    servings: list[str] = []
    min_days = ForecastConfig().min_history_days
    scope = run_scope(context)
    for day in scope.days():
        history = term_daily_counts[
            (term_daily_counts["date"] < day) & (term_daily_counts["date"] >= day - timedelta(PREDICTION_HISTORY_DAYS))
        ] if len(term_daily_counts) else term_daily_counts  # fmt: skip
        days_known = int(history["date"].nunique()) if len(history) else 0
        if days_known < min_days:
            notes.append(f"{day}: {days_known} day(s) of counts before it, the forecaster needs {min_days}")
            continue
        with warehouse.connection() as conn:
            model = store.serving_model_on(conn, day)
            serving = store.serving_note(conn, day)
        if model is None:
            model = seasonal_naive_model(history["date"].min(), day - timedelta(days=1))
        if not any(line.endswith(serving.split(": ", 1)[1]) for line in servings):  # once per model
            servings.append(serving)
        hourly = term_hourly_counts[
            (term_hourly_counts["date"] <= day) & (term_hourly_counts["date"] > day - timedelta(days=29))
        ] if len(term_hourly_counts) else term_hourly_counts  # fmt: skip
        interest = search_interest[search_interest["date"] < day] if len(search_interest) else None
        frames.append(
            pipeline.predictions_for_day(day, history, hourly, model, search_interest=interest, places=places)
        )
        versions.add(model.version)
    predictions = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=pipeline.PREDICTION_TABLE_COLUMNS)
    )
    for note in notes:
        context.log.warning(note)
    for serving in servings:  # what was trained, what serves and why
        context.log.info(serving)
    return dg.Output(
        ReplaceRows(predictions, scope=scope),
        metadata={
            "model_versions": ", ".join(sorted(versions)) or "none",
            "bursting_now": int(predictions["is_bursting"].sum()) if len(predictions) else 0,
            "notes": "\n".join(notes) or "none",
            "serving": "\n".join(servings) or "none",
        },
    )


TERM_KEY = ["date", "platform", "term", "term_type"]
