"""Tell someone when a run fails: the log always, a webhook when KEDAH_ALERT_WEBHOOK is set."""

import dagster as dg

from kedah_analytics.config.settings import ALERT_WEBHOOK
from kedah_analytics.notify import StepFailure, failure_message, post_webhook


def root_cause(error) -> str:
    """The user's own exception inside Dagster's step-execution wrapper."""
    if error is None:
        return ""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def steps_in_progress(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Steps that started and never finished: where a worker that died was."""
    started: list[str] = []
    finished: set[str] = set()
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started.append(event.step_key)
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE,
                                  dg.DagsterEventType.STEP_SKIPPED):  # fmt: skip
            finished.add(event.step_key)
    return [step for step in dict.fromkeys(started) if step not in finished]


# What Dagster writes when it fails a run from outside the run (the code server saw its worker exit,
# the queue could not launch it): the cause is the engine event it records just before.
GENERIC_RUN_FAILURE = "This run has been marked as failed from outside the execution context."


def run_failure_cause(instance: dg.DagsterInstance, run_id: str, failure: dg.DagsterEvent) -> str:
    """Why the run failed: the failure's own message, or, for Dagster's generic one, the last
    engine event before it (e.g. "Run execution process for ... was terminated by signal 9")."""
    message = (failure.message or "").strip()
    if message and message != GENERIC_RUN_FAILURE:
        return message
    cause = ""
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.RUN_FAILURE:
            break  # what the daemon logs afterwards (freeing slots) is no cause
        if event.event_type == dg.DagsterEventType.ENGINE_EVENT and event.message:
            cause = event.message
    return cause.strip() or message


# Every run of the instance, not only those launched from this code location: runs executed by
# `kedah-analytics seed`/`backfill` or `dagster asset materialize` carry no code-location origin, and a
# sensor limited to its own location skipped them, so their failures were never alerted.
@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING, monitor_all_code_locations=True)
def report_failed_runs(context: dg.RunFailureSensorContext) -> None:
    """Reports the failed run, its failed assets (steps) and their errors."""
    failures = [
        StepFailure(step=event.step_key or "?", error=root_cause(event.step_failure_data.error))
        for event in context.get_step_failure_events()
    ]
    run_id = context.dagster_run.run_id
    message = failure_message(
        run_id,
        context.dagster_run.job_name,
        failures,
        run_error=context.failure_event.message
        if failures
        else run_failure_cause(context.instance, run_id, context.failure_event),
        steps_in_progress=[] if failures else steps_in_progress(context.instance, run_id),
    )
    context.log.error(message)
    if url := ALERT_WEBHOOK.read():
        try:
            post_webhook(url, message)
        except Exception as err:  # the alert must not hide the failure it reports
            context.log.error(f"could not post the alert to {ALERT_WEBHOOK.name}: {type(err).__name__}")
