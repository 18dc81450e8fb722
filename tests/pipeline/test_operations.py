"""Schedules, the failure alert and its webhook, the CLI's database command, Definitions loading."""

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from assets.ingest.automation import COLLECTION_SCHEDULES, refresh_requests
from kedah_analytics.definitions import defs
from kedah_analytics.notify import StepFailure, failure_message, post_webhook
from resources import PostgresWarehouse


def test_definitions_load_with_every_asset_check_schedule_and_sensor():
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert keys == {
        "places", "raw_posts", "classified_posts", "place_daily_metrics",
        "term_daily_counts", "term_hourly_counts", "trend_model", "trend_predictions",
        "account_daily_metrics", "search_interest",
        "city_daily_overview", "place_rankings", "sentiment_by_category", "top_posts", "alerts",
    }  # fmt: skip
    assert len(list(defs.asset_checks)) >= 7
    assert {s.name for s in defs.schedules} == {
        "twitter_collection", "instagram_collection", "facebook_collection", "youtube_collection",
        "train_trend_model_schedule", "hourly_predictions", "daily_account_metrics",
        "daily_search_interest", "daily_payload_retention",
    }  # fmt: skip
    assert {s.name for s in defs.sensors} == {
        "metrics_automation", "report_failed_runs", "marts_automation", "send_alerts", "cross_platform_spam",
        "stale_partitions_sensor",
    }  # fmt: skip


def test_daily_metrics_map_to_every_platform_of_their_day():
    graph = defs.resolve_asset_graph()
    key = dg.AssetKey("place_daily_metrics")
    parent = dg.AssetKey("classified_posts")
    mapped = graph.get_parent_partition_keys_for_child(
        "2026-11-20", parent_asset_key=parent, child_asset_key=key
    )
    assert sorted(mapped.partitions_subset.get_partition_keys()) == [
        "2026-11-20|facebook", "2026-11-20|instagram", "2026-11-20|twitter", "2026-11-20|youtube"
    ]  # fmt: skip


def test_hourly_schedule_refreshes_today_and_yesterday_in_kedah_time_for_every_platform():
    # 16:30 UTC on 20 November is 00:30 on 21 November in Kedah
    requests = refresh_requests(datetime(2026, 11, 20, 16, 30, tzinfo=UTC))
    assert len(requests) == 4
    tags = {r.tags["kedah/platform"]: r.tags for r in requests}
    assert tags["twitter"]["dagster/asset_partition_range_start"] == "2026-11-20|twitter"
    assert tags["twitter"]["dagster/asset_partition_range_end"] == "2026-11-21|twitter"
    assert len({r.run_key for r in requests}) == 4


def test_each_platform_schedule_requests_its_own_platform(warehouse_url):
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 20, 3, 5, tzinfo=UTC),
        resources={"warehouse": PostgresWarehouse(url=warehouse_url)},
    )
    for platform, schedule in COLLECTION_SCHEDULES.items():
        (request,) = schedule.evaluate_tick(context).run_requests or []
        assert request.tags["kedah/platform"] == platform


def test_failure_message_names_the_run_step_and_error():
    text = failure_message(
        "abc123", "collect_posts", [StepFailure("raw_posts", "SourceError: X said 503\ntrace")]
    )
    assert "abc123" in text and "collect_posts" in text and "raw_posts: SourceError: X said 503" in text
    assert "trace" in text  # the whole message, not its first line


def test_failure_message_is_bounded_and_names_where_a_dead_worker_was():
    long = failure_message("r1", "collect_posts", [StepFailure("raw_posts", "x" * 50_000)])
    assert len(long) <= 12_000 and "more characters" in long
    died = failure_message(
        "r2", "collect_posts", [], run_error="Run worker process died", steps_in_progress=["raw_posts"]
    )
    assert "it was in: raw_posts" in died and "Run worker process died" in died


class Hook(BaseHTTPRequestHandler):
    statuses: list[int] = []
    received: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = Hook.statuses.pop(0) if Hook.statuses else 200
        Hook.received.append(json.loads(body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_url():
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hook.received.clear()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_webhook_retries_a_server_error_then_delivers(hook_url):
    Hook.statuses[:] = [503]
    post_webhook(hook_url, "run failed")
    assert [r["text"] for r in Hook.received] == ["run failed", "run failed"]


def test_webhook_does_not_retry_a_bad_request(hook_url):
    import httpx

    Hook.statuses[:] = [400]
    with pytest.raises(httpx.HTTPStatusError):
        post_webhook(hook_url, "run failed")
    assert len(Hook.received) == 1


def test_run_failure_sensor_reports_the_failed_asset(hook_url, monkeypatch):
    from sensors.run_failures import report_failed_runs

    monkeypatch.setenv("KEDAH_ALERT_WEBHOOK", hook_url)

    @dg.asset
    def broken():
        raise RuntimeError("the API said no")

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([broken], instance=instance, raise_on_error=False)
        assert not result.success
        dagster_run = instance.get_run_by_id(result.run_id)
        failure = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event
        context = dg.build_run_status_sensor_context(
            sensor_name="report_failed_runs", dagster_instance=instance, dagster_run=dagster_run,
            dagster_event=failure,
        ).for_run_failure()  # fmt: skip
        report_failed_runs(context)
    assert len(Hook.received) == 1
    assert "- broken: RuntimeError: the API said no" in Hook.received[0]["text"]


def test_cli_db_names_the_database_in_use(pg_url):
    out = subprocess.run(
        [sys.executable, "-m", "kedah_analytics.cli", "db", "url"], capture_output=True, text=True, check=True,
        env={"KEDAH_PG_URL": pg_url, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.stdout.strip().endswith(pg_url.rsplit("/", 1)[1])
