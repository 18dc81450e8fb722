"""Raw payloads older than the retention are emptied, by the library and by the daily job; the
posts and every other column stay, and a second pass changes nothing."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg

from kedah_analytics.warehouse.retention import prune_payloads

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 30)
COLUMNS = "platform, post_id, date, created_at, text, like_count, provider, first_seen_at, fetched_at"


def store_posts(conn: psycopg.Connection, days_ago: list[int]) -> None:
    for n, ago in enumerate(days_ago):
        day = TODAY - timedelta(days=ago)
        at = datetime(day.year, day.month, day.day, 9)
        conn.execute(
            f"INSERT INTO kedah.raw_posts ({COLUMNS}, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            ("twitter" if n % 2 else "youtube", f"p{n}", day, at, f"post {n} about Langkawi", n, "demo", at, at,
             json.dumps({"id": f"p{n}", "text": f"post {n} about Langkawi", "pad": "x" * 500})),
        )  # fmt: skip


def rows(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(f"SELECT {COLUMNS}, payload IS NULL FROM kedah.raw_posts ORDER BY post_id").fetchall()


def test_payloads_past_the_retention_are_emptied_once_and_the_posts_stay(conn, warehouse_url):
    store_posts(conn, [0, 1, 29, 30, 31, 200, 400])
    before = rows(conn)

    first = prune_payloads(warehouse_url, 30, TODAY)

    assert first.before == TODAY - timedelta(days=30)
    assert (first.posts, first.days) == (3, 3)  # 31, 200 and 400 days old; 30 days old is kept
    assert first.payload_bytes > 3 * 500
    after = rows(conn)
    assert [r[:-1] for r in after] == [r[:-1] for r in before]  # every post, every column
    emptied = {r[1] for r in after if r[-1]}
    assert emptied == {"p4", "p5", "p6"}
    again = prune_payloads(warehouse_url, 30, TODAY)
    assert (again.posts, again.days) == (0, 0)
    assert rows(conn) == after
    assert prune_payloads(warehouse_url, 0, TODAY).posts == 0  # 0 keeps every payload


def test_the_daily_job_prunes_with_the_configured_retention(conn, warehouse_url):
    from kedah_analytics.definitions import defs

    today = datetime.now().date()
    conn.execute("TRUNCATE kedah.raw_posts")
    global TODAY
    saved, TODAY = TODAY, today
    try:
        store_posts(conn, [1, 10, 40])
    finally:
        TODAY = saved
    job = defs.resolve_job_def("prune_raw_payloads")
    config = {"ops": {"prune_payloads_op": {"config": {"keep_days": 5}}}}
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(run_config=config, instance=instance)
    assert result.success
    (output,) = [e for e in result.all_node_events if e.is_successful_output]
    assert output.step_output_data.metadata["posts"].value == 2
    kept = conn.execute("SELECT count(*) FROM kedah.raw_posts WHERE payload IS NOT NULL").fetchone()
    assert kept == (1,)
    assert conn.execute("SELECT count(*) FROM kedah.raw_posts").fetchone() == (3,)
    schedule = defs.resolve_schedule_def("daily_payload_retention")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_project_instance_purges_old_ticks_and_its_storage_has_the_timeouts(pg_url, tmp_path):
    from dagster._core.scheduler.instigation import InstigatorType, TickStatus

    from kedah_analytics.warehouse.connection import CONNECT_TIMEOUT_S

    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        sensor = instance.get_tick_retention_settings(InstigatorType.SENSOR)
        assert sensor[TickStatus.SKIPPED] == 7 and 0 < sensor[TickStatus.SUCCESS] <= 30
        schedule = instance.get_tick_retention_settings(InstigatorType.SCHEDULE)
        assert all(0 < days <= 30 for days in schedule.values())
        assert f"connect_timeout={CONNECT_TIMEOUT_S}&" in instance.run_storage.postgres_url  # type: ignore[attr-defined]
