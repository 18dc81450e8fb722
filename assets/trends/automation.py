"""Trends automation: the weekly training and the hourly predictions."""

import dagster as dg

from assets.trends.assets import trend_model, trend_predictions
from kedah_analytics.domain import KEDAH_TZ, TIMEZONE_NAME

train_trend_model_job = dg.define_asset_job(
    "train_trend_model",
    selection=dg.AssetSelection.assets(trend_model),
    description="Retrain the trend forecaster on the week that just ended and the 16 before it.",
)
# Mondays at 03:00 Kedah time, for the week that ended on Sunday.
weekly_training = dg.build_schedule_from_partitioned_job(
    train_trend_model_job, hour_of_day=3, minute_of_hour=0, default_status=dg.DefaultScheduleStatus.RUNNING
)

predict_trends_job = dg.define_asset_job(
    "predict_trends",
    selection=dg.AssetSelection.assets(trend_predictions),
    description="Refresh today's trend predictions and burst flags.",
)


@dg.schedule(
    cron_schedule="35 * * * *",
    execution_timezone=TIMEZONE_NAME,
    job=predict_trends_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour, after collection: today's trend predictions with the latest burst flags.",
)
def hourly_predictions(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    today = context.scheduled_execution_time.astimezone(KEDAH_TZ).date()
    return dg.RunRequest(
        run_key=f"predict-{context.scheduled_execution_time:%Y%m%d%H}", partition_key=str(today)
    )


JOBS = [train_trend_model_job, predict_trends_job]
SCHEDULES = [weekly_training, hourly_predictions]
SENSORS: list[dg.SensorDefinition] = []
