"""`kedah-analytics backfill --workers 2`: a phase's runs (a platform's raw posts, its
classification) go side by side in two worker processes, each run recorded as its worker's, and
the rows are complete. Run as a user runs it, in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from sensors.instance import WORKER_PID_TAG

ROOT = Path(__file__).resolve().parents[2]
FIRST, LAST = "2026-11-02", "2026-11-03"


def test_a_phases_runs_go_side_by_side_in_two_worker_processes(warehouse_url: str, tmp_path: Path) -> None:
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    env = {**os.environ, "KEDAH_PG_URL": warehouse_url, "KEDAH_HOME": str(tmp_path), "KEDAH_SOURCE_MODE": "demo",
           "KEDAH_EXECUTOR": "in_process", "KEDAH_START_DATE": "2026-10-01"}  # fmt: skip
    command = [sys.executable, "-m", "kedah_analytics.cli", "backfill", "--start", FIRST, "--end", LAST,
               "--platforms", "twitter,facebook", "--workers", "2", "--json"]  # fmt: skip
    cli = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = cli.communicate(timeout=300)
    failures = [
        line
        for line in err.splitlines()
        if " - ERROR - " in line or "STEP_FAILURE" in line or "Error" in line
    ]
    assert cli.returncode == 0, "\n".join(failures)[-6000:] or err[-3000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["workers"] == 2 and summary["runs"] == 1 + 2 + 2 + 1

    with dg.DagsterInstance.from_config(str(tmp_path / ".dagster")) as instance:
        records = instance.get_run_records(dg.RunsFilter(run_ids=summary["run_ids"]))
    by_job: dict[str, list[dg.RunRecord]] = {}
    for record in records:
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        by_job.setdefault(record.dagster_run.job_name, []).append(record)
    pid = lambda record: record.dagster_run.tags[WORKER_PID_TAG]  # noqa: E731
    # One-run phases stay in the command's own process; the platforms' runs go to the workers.
    assert {pid(r) for r in by_job["refresh_places"] + by_job["daily_metrics"]} == {str(cli.pid)}
    assert str(cli.pid) not in {pid(r) for r in by_job["collect_posts"] + by_job["classify_posts"]}
    # Each run says in the UI's run list what it covers.
    # Facebook and X are not neighbours (Instagram lies between): a run each, not one run holding
    # Instagram too.
    covers = {r.dagster_run.tags.get("kedah/partitions") for r in by_job["classify_posts"]}
    assert covers == {f"{FIRST}..{LAST}|twitter", f"{FIRST}..{LAST}|facebook"}
    # By the classification phase both workers are up and waiting: its two runs go at once.
    first, second = by_job["classify_posts"]
    assert pid(first) != pid(second)
    assert first.start_time < second.end_time and second.start_time < first.end_time  # type: ignore[operator]

    with psycopg.connect(warehouse_url) as conn:
        counts = {
            platform: (raw, classified)
            for platform, raw, classified in conn.execute(
                "SELECT r.platform, count(*), count(c.post_id) FROM kedah.raw_posts r "
                "LEFT JOIN kedah.classified_posts c USING (platform, post_id) WHERE r.date BETWEEN %s AND %s "
                "GROUP BY 1",
                (FIRST, LAST),
            )
        }
        daily = conn.execute(
            "SELECT count(DISTINCT date) FROM kedah.place_daily_metrics WHERE date BETWEEN %s AND %s",
            (FIRST, LAST),
        ).fetchone()
    assert set(counts) == {"twitter", "facebook"}
    assert all(raw > 0 and classified == raw for raw, classified in counts.values()), counts
    assert daily == (2,)  # both days' metrics


def test_the_pools_are_created_once_before_runs_go_side_by_side(warehouse_url: str, tmp_path: Path) -> None:
    """Two runs claiming a new pool's first slot at once race in Dagster (a duplicate key): the
    backfill creates the pool's row first, with dagster.yaml's default limit."""
    from kedah_analytics.definitions import initialize_pools

    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:  # as on a new instance: no pools
            conn.execute("DELETE FROM concurrency_limits")
            conn.execute("DELETE FROM concurrency_slots")
        assert initialize_pools(instance) == ["source_api"]
        assert initialize_pools(instance) == []  # already there
        assert instance.event_log_storage.get_concurrency_info("source_api").slot_count == 2


def test_an_unknown_platform_is_refused_before_any_run() -> None:
    from datetime import date

    from kedah_analytics.definitions import backfill_summary

    with pytest.raises(ValueError, match="unknown platform\\(s\\) tiktok: choose from facebook, instagram"):
        backfill_summary(date(2026, 11, 2), date(2026, 11, 2), ["twitter", "tiktok"])


def test_a_long_range_goes_span_by_span_each_run_after_what_it_reads() -> None:
    """A ranged run is one process's work: on two workers a year goes in four spans of consecutive
    days. In each span, a run per platform collects (after the same platform's previous span: its
    API's rate limit is the platform's), a run per block of neighbouring platforms classifies (after
    every platform's raw posts of the span, and so of the day before it: the spam signal reads them),
    and a run computes the daily metrics (after the span's classification). Nothing else waits, so
    a span is classified while the next is collected. A short range is one span."""
    from datetime import date, timedelta

    from assets.common.partitions import date_platform_partitions
    from kedah_analytics.definitions import backfill_plan, describe_run

    plan = backfill_plan(date(2025, 6, 1), date(2026, 5, 31), ["twitter", "youtube"], 2)
    named = [(describe_run(t.item), sorted(describe_run(plan[i].item) for i in t.after)) for t in plan]
    places = "run of refresh_places (not partitioned)"
    spans = [("2025-06-01", "2025-08-31"), ("2025-09-01", "2025-11-30"), ("2025-12-01", "2026-03-01"),
             ("2026-03-02", "2026-05-31")]  # fmt: skip
    expected = [(places, [])]
    before = {"twitter": places, "youtube": places}
    for start, end in spans:
        collect = {p: f"run of collect_posts ({start}..{end}|{p})" for p in ("twitter", "youtube")}
        classify = f"run of classify_posts ({start}..{end}|twitter..youtube)"
        expected += [(collect[p], [before[p]]) for p in ("twitter", "youtube")]
        expected += [
            (classify, sorted(collect.values())),
            (f"run of daily_metrics ({start}..{end})", [classify]),
        ]
        before = collect
    assert named == expected
    daily = [t.item for t in plan if t.item.job == "daily_metrics"]
    assert [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in daily] == spans  # fmt: skip

    # Each classification run covers exactly its days and the chosen platforms, none between them.
    first, last = date(2026, 9, 1), date(2026, 10, 5)
    for chosen, blocks in (
        (["youtube", "facebook", "instagram", "twitter"], [("facebook", "instagram", "twitter", "youtube")]),
        (["facebook", "twitter", "youtube"], [("facebook",), ("twitter", "youtube")]),
        (["instagram"], [("instagram",)]),
    ):
        classify = [t.item for t in backfill_plan(first, last, chosen, 2) if t.item.job == "classify_posts"]
        assert len(classify) == 2 * len(blocks)  # 35 days: two spans (none shorter than 14 days)
        covered = set()
        for run in classify:
            start, end = (
                run.tags["dagster/asset_partition_range_start"],
                run.tags["dagster/asset_partition_range_end"],
            )
            keys = date_platform_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(start, end))
            covered |= set(keys)
            assert {k.split("|")[1] for k in keys} in [set(b) for b in blocks], keys
        days = [str(first + timedelta(days=i)) for i in range((last - first).days + 1)]
        assert covered == {f"{d}|{p}" for d in days for p in chosen}

    short = [
        describe_run(t.item) for t in backfill_plan(date(2026, 11, 2), date(2026, 11, 3), ["twitter"], 2)
    ]
    assert short == [
        places,
        "run of collect_posts (2026-11-02..2026-11-03|twitter)",
        "run of classify_posts (2026-11-02..2026-11-03|twitter)",
        "run of daily_metrics (2026-11-02..2026-11-03)",
    ]
    # One worker: the whole range is one span.
    assert len(backfill_plan(date(2025, 6, 1), date(2026, 5, 31), ["twitter"], 1)) == 4
