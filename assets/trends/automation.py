"""Trends automation: the weekly training and the hourly predictions."""

from datetime import datetime

import dagster as dg

from assets.common.runs import kedah_day, kedah_schedule
from assets.trends.assets import trend_model, trend_predictions

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


def prediction_request(scheduled_time: datetime) -> dg.RunRequest:
    """Today's predictions (Kedah day), once per hour."""
    return dg.RunRequest(
        run_key=f"predict-{scheduled_time:%Y%m%d%H}", partition_key=str(kedah_day(scheduled_time))
    )


hourly_predictions = kedah_schedule(
    "hourly_predictions", "35 * * * *", predict_trends_job,
    "Every hour, after collection: today's trend predictions with the latest burst flags.", prediction_request,
)  # fmt: skip


JOBS = [train_trend_model_job, predict_trends_job]
SCHEDULES = [weekly_training, hourly_predictions]
SENSORS: list[dg.SensorDefinition] = []
