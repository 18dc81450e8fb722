"""Trends: term counts, the weekly-trained forecaster, and hourly trend predictions."""

from datetime import date, timedelta

import dagster as dg
import pandas as pd

from assets.checks import table_check
from assets.partitions import ALL_PLATFORMS_OF_DAY, FIRST_MONDAY, FOLLOW_ANY_CHANGED_DAY, daily_partitions
from kedah_analytics.domain import TIMEZONE_NAME
from kedah_analytics.trends import pipeline, store
from kedah_analytics.trends.forecast import ForecastConfig, seasonal_naive_model
from kedah_analytics.warehouse import ReplaceRows, checks
from resources import PostgresWarehouse

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


@dg.asset(
    group_name="trends",
    kinds={"postgres", "pandas"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={"classified_posts": dg.AssetIn(partition_mapping=ALL_PLATFORMS_OF_DAY)},
    automation_condition=FOLLOW_ANY_CHANGED_DAY,
)
def keyword_daily_counts(classified_posts: pd.DataFrame, places: pd.DataFrame) -> dg.Output[ReplaceRows]:
    """Per day, platform and term (keyword, hashtag, topic, place): non-spam posts, likes,
    comments, shares, views and engagement. The trend model's input."""
    counts = pipeline.keyword_daily_counts(classified_posts, places)
    return dg.Output(
        ReplaceRows(counts), metadata={"terms": int(counts["term"].nunique()) if len(counts) else 0}
    )


@dg.asset(
    group_name="trends",
    kinds={"postgres", "pandas"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={"classified_posts": dg.AssetIn(partition_mapping=ALL_PLATFORMS_OF_DAY)},
    automation_condition=FOLLOW_ANY_CHANGED_DAY,
)
def keyword_hourly_counts(classified_posts: pd.DataFrame, places: pd.DataFrame) -> dg.Output[ReplaceRows]:
    """Per Kedah hour, platform and term: non-spam posts and engagement; the burst detector's input."""
    counts = pipeline.keyword_hourly_counts(classified_posts, places)
    return dg.Output(
        ReplaceRows(counts), metadata={"terms": int(counts["term"].nunique()) if len(counts) else 0}
    )


@dg.asset(
    group_name="trends",
    kinds={"postgres", "scikitlearn"},
    partitions_def=weekly_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
    ins={
        "keyword_daily_counts": dg.AssetIn(partition_mapping=TRAINING_WINDOW),
        "search_interest": dg.AssetIn(partition_mapping=TRAINING_WINDOW),
    },
    metadata={"partition_expr": "week_start"},
)
def trend_model(
    context: dg.AssetExecutionContext,
    keyword_daily_counts: pd.DataFrame,
    search_interest: pd.DataFrame,
    places: pd.DataFrame,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """The weekly-trained forecaster (gradient boosting on each term's median day) with its
    rolling-origin backtest against seasonal-naive and the 28-day mean, and the model that serves
    afterwards: the candidate only when it beats both baselines, else the previous model or the
    baseline."""
    week_start = context.partition_time_window.start.date()
    training_start, training_end = store.week_window(week_start, TRAINING_WEEKS_BEFORE)
    with warehouse.connection() as conn:
        current = store.serving_model_before(conn, week_start)
    trained = pipeline.train_week(
        keyword_daily_counts,
        current,
        week_start,
        training_start,
        training_end,
        search_interest=search_interest,
        places=places,
    )
    context.log.info(trained.row["reason"])
    return dg.Output(
        ReplaceRows(pd.DataFrame([trained.row])),
        metadata={**trained.metadata, "training_window": f"{training_start}..{training_end}",
                  "days_of_counts": int(keyword_daily_counts["date"].nunique()) if len(keyword_daily_counts) else 0},
    )  # fmt: skip


@dg.asset(
    group_name="trends",
    kinds={"postgres", "pandas"},
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={
        "keyword_daily_counts": dg.AssetIn(partition_mapping=PREDICTION_HISTORY),
        "keyword_hourly_counts": dg.AssetIn(partition_mapping=BURST_HISTORY),
        "search_interest": dg.AssetIn(partition_mapping=PREDICTION_HISTORY),
    },
    deps=[trend_model],
)
def trend_predictions(
    context: dg.AssetExecutionContext,
    keyword_daily_counts: pd.DataFrame,
    keyword_hourly_counts: pd.DataFrame,
    search_interest: pd.DataFrame,
    places: pd.DataFrame,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """Top rising keywords, hashtags, topics and places for the day: predicted volume, score,
    confidence, the serving model's version, and whether the burst detector already sees a burst."""
    frames, notes, versions = [], [], set()
    min_days = ForecastConfig().min_history_days
    for key in context.partition_keys:
        day = date.fromisoformat(key)
        history = keyword_daily_counts[
            (keyword_daily_counts["date"] < day) & (keyword_daily_counts["date"] >= day - timedelta(PREDICTION_HISTORY_DAYS))
        ] if len(keyword_daily_counts) else keyword_daily_counts  # fmt: skip
        days_known = int(history["date"].nunique()) if len(history) else 0
        if days_known < min_days:
            notes.append(f"{day}: {days_known} day(s) of counts before it, the forecaster needs {min_days}")
            continue
        with warehouse.connection() as conn:
            model = store.serving_model_on(conn, day)
        if model is None:
            model = seasonal_naive_model(history["date"].min(), day - timedelta(days=1))
            notes.append(f"{day}: no trained model yet; seasonal-naive serves")
        hourly = keyword_hourly_counts[
            (keyword_hourly_counts["date"] <= day) & (keyword_hourly_counts["date"] > day - timedelta(days=29))
        ] if len(keyword_hourly_counts) else keyword_hourly_counts  # fmt: skip
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
    return dg.Output(
        ReplaceRows(predictions),
        metadata={
            "model_versions": ", ".join(sorted(versions)) or "none",
            "bursting_now": int(predictions["is_bursting"].sum()) if len(predictions) else 0,
            "notes": "\n".join(notes) or "none",
        },
    )


TERM_KEY = ["date", "platform", "term", "term_type"]
keyword_daily_counts_keys_unique = table_check(
    keyword_daily_counts, "keyword_daily_counts_keys_unique", "No two rows share (date, platform, term, type).",
    checks.duplicate_keys, "keyword_daily_counts", TERM_KEY,
)  # fmt: skip
keyword_daily_counts_non_negative = table_check(
    keyword_daily_counts, "keyword_daily_counts_non_negative", "Posts and engagement are never negative.",
    checks.values_in_range, "keyword_daily_counts", {"posts": (0, None), "engagement": (0, None)},
)  # fmt: skip
keyword_hourly_counts_keys_unique = table_check(
    keyword_hourly_counts, "keyword_hourly_counts_keys_unique", "No two rows share (hour, platform, term, type).",
    checks.duplicate_keys, "keyword_hourly_counts", ["hour", "platform", "term", "term_type"],
)  # fmt: skip
trend_model_one_row_per_week = table_check(
    trend_model, "trend_model_one_row_per_week", "Each week holds exactly one training outcome.",
    checks.rows_present, "trend_model", why_empty="the week's training wrote no row",
)  # fmt: skip
trend_predictions_present = table_check(
    trend_predictions, "trend_predictions_present",
    "Every day holds predictions; a day without them fails here instead of going green with 0 rows.",
    checks.rows_present, "trend_predictions",
    why_empty="the forecaster needs 14 days of term counts before the day (see the run's log and metadata)",
)  # fmt: skip
trend_predictions_scores_in_range = table_check(
    trend_predictions, "trend_predictions_scores_in_range", "Confidence within 0..1, predicted volume >= 0.",
    checks.values_in_range, "trend_predictions", {"confidence": (0, 1), "predicted_volume": (0, None)},
)  # fmt: skip
