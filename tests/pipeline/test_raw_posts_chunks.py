"""raw_posts is fetched and merged a platform and a week at a time, each chunk in its own transaction.

A ranged run stores exactly what daily runs store, with each partition's own figures; a source
failing part-way leaves the chunks before it stored (and recorded) and fails clearly; a polling
source's cursors never move past posts that were not stored. Only the sources are stand-ins (the
network's part); the warehouse is a real PostgreSQL and runs go through dg.materialize.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pandas as pd
import psycopg
import pytest
from demo_resources import demo_resources

from assets.common.runs import range_tags
from kedah_analytics.definitions import defs
from kedah_analytics.domain import PostRecord
from kedah_analytics.ingest import day_chunks
from kedah_analytics.sources.common.base import FetchResult, FetchTelemetry, SourceError
from kedah_analytics.sources.demo.posts import DemoSource
from kedah_analytics.warehouse import read_table
from kedah_analytics.warehouse.state import load_cursors
from resources import PostSources

# Ten days: a chunk of the first three, then one of the last seven (chunks count back from the end).
DAYS = [date(2026, 11, 1) + timedelta(days=i) for i in range(10)]
PLATFORMS = ["twitter", "youtube"]
VOLATILE = ["fetched_at", "first_seen_at"]  # when a row was fetched: differs between any two runs
PROVIDER = "x_api_v2"


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def materialize(url, instance, sources=None, *, success=True, **kwargs) -> dg.ExecuteInProcessResult:
    resources = demo_resources(url, **({"post_sources": sources} if sources else {}))
    result = dg.materialize(
        list(defs.assets), selection=["raw_posts"], resources=resources, instance=instance,
        raise_on_error=False, **kwargs,
    )  # fmt: skip
    assert result.success is success, failure_text(result)
    return result


def ranged(first: date, last: date, platform: str) -> dict[str, str]:
    return range_tags(f"{first}|{platform}", f"{last}|{platform}")


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        e.step_failure_data.user_failure_data.description or ""
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE and e.step_failure_data.user_failure_data
    )


def raw_rows(url: str) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        df = read_table(conn, "raw_posts").drop(columns=VOLATILE)
    return df.sort_values(["platform", "post_id"]).reset_index(drop=True)


def partition_figures(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    """Each partition's own figures as the instance recorded them (the run's run_* totals, and its
    preview of fetch times, aside)."""
    logs = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    events = [e.dagster_event.step_materialization_data.materialization for e in logs if e.dagster_event]
    return {
        str(e.partition): {
            k: v.value
            for k, v in e.metadata.items()
            if not k.startswith(("run_", "dagster/"))
            and k not in ("preview", "providers", "demo_data", "write_mode")
            or k == "dagster/partition_row_count"
        }
        for e in events
        if e.asset_key.path == ["raw_posts"]
    }


def test_chunks_count_back_from_the_last_day_and_run_oldest_first():
    assert day_chunks(DAYS) == [tuple(DAYS[:3]), tuple(DAYS[3:])]
    assert day_chunks(DAYS, 1) == [(d,) for d in DAYS]
    assert day_chunks(DAYS[:2]) == [tuple(DAYS[:2])]  # an hourly run of today and yesterday: one fetch
    assert day_chunks([DAYS[5], DAYS[0], DAYS[5]], 1) == [(DAYS[0],), (DAYS[5],)]
    assert day_chunks([]) == []
    with pytest.raises(ValueError):
        day_chunks(DAYS, 0)


def test_a_ranged_run_stores_what_daily_runs_store_with_each_partitions_own_figures(warehouse_url, instance):
    runs = [materialize(warehouse_url, instance, tags=ranged(DAYS[0], DAYS[-1], p)) for p in PLATFORMS]
    ranged_rows = raw_rows(warehouse_url)
    ranged_figures = {k: v for r in runs for k, v in partition_figures(instance, r).items()}
    run = {
        k: v.value for k, v in runs[0].get_asset_materialization_events()[0].materialization.metadata.items()
    }
    assert run["write_mode"] == "merge by chunk" and run["run_chunks_fetched"] == 2
    assert run["providers"] == "twitter: demo" and run["demo_data"] is True
    assert run["run_telemetry"]["twitter"]["chunks"] == 2
    assert run["run_telemetry"]["twitter"]["notes"].count("demo data: invented posts, provider 'demo'") == 1
    assert run["run_rows_written"] == (ranged_rows["platform"] == "twitter").sum() > 0
    # Every post under its own day, on every day of the range, in both chunks.
    assert sorted(set(ranged_rows["date"])) == DAYS

    with psycopg.connect(warehouse_url) as conn:
        conn.execute("TRUNCATE kedah.raw_posts")
    daily_figures = {}
    for day in DAYS:
        for platform in PLATFORMS:
            daily = materialize(warehouse_url, instance, partition_key=f"{day}|{platform}")
            daily_figures.update(partition_figures(instance, daily))

    pd.testing.assert_frame_equal(ranged_rows, raw_rows(warehouse_url))
    assert sorted(ranged_figures) == sorted(f"{d}|{p}" for d in DAYS for p in PLATFORMS)
    assert ranged_figures == daily_figures
    assert all(f["inserted"] == f["dagster/partition_row_count"] > 0 for f in ranged_figures.values())


class FailingFrom:
    """A source that serves a DemoSource's posts, or a polling source's, until a given day, then
    fails for good (as a revoked credential would)."""

    def __init__(self, source, failing_day: str | None):
        self.source = source
        self.failing_day = date.fromisoformat(failing_day) if failing_day else None
        self.provider = source.provider
        self.polls_from_cursors = source.polls_from_cursors

    calls: list[tuple[tuple[date, ...], dict | None]] = []  # (days, cursors) of every fetch asked for

    def fetch_posts(self, platform, days, cursors=None):
        FailingFrom.calls.append((tuple(days), dict(cursors) if cursors is not None else None))
        if self.failing_day is not None and max(days) >= self.failing_day:
            raise SourceError("403 Forbidden: this app may no longer read posts")
        return self.source.fetch_posts(platform, days, cursors)


class FailingSources(PostSources):
    failing_day: str | None = None  # ISO day

    def source_for(self, platform):
        return FailingFrom(DemoSource(), self.failing_day)


def test_a_source_failing_part_way_leaves_the_earlier_chunks_stored_and_fails_clearly(
    warehouse_url, instance
):
    failed = materialize(
        warehouse_url, instance, FailingSources(mode="demo", failing_day=str(DAYS[5])),
        tags=ranged(DAYS[0], DAYS[-1], "twitter"), success=False,
    )  # fmt: skip

    message = failure_text(failed)
    assert f"twitter posts for {DAYS[3]}..{DAYS[-1]} (7 days) from demo failed: SourceError" in message
    assert f"This run stored 1 earlier chunk(s) of twitter ({DAYS[0]}..{DAYS[2]} (3 days))" in message
    assert "Retrying will not help" in message and "rows stored before are untouched" in message
    stored = raw_rows(warehouse_url)
    assert sorted(set(stored["date"])) == DAYS[:3]
    # What the warehouse holds, Dagster shows: the stored days are materialized, with their figures.
    recorded = partition_figures(instance, failed)
    assert sorted(recorded) == [f"{d}|twitter" for d in DAYS[:3]]
    per_day = stored.groupby("date").size()
    assert all(recorded[f"{d}|twitter"]["dagster/partition_row_count"] == per_day[d] for d in DAYS[:3])

    # Run again once the source is back: the rest is stored and the first days are left as they were.
    materialize(
        warehouse_url, instance, FailingSources(mode="demo"), tags=ranged(DAYS[0], DAYS[-1], "twitter")
    )
    again = raw_rows(warehouse_url)
    assert sorted(set(again["date"])) == DAYS
    pd.testing.assert_frame_equal(again[again["date"] <= DAYS[2]].reset_index(drop=True), stored)


class PollingSource:
    """Polls like X recent search: ids grow with time, ``cursors`` holds the newest id already
    stored, and the result's cursor is the newest id read (or the one passed in)."""

    provider = PROVIDER
    polls_from_cursors = True

    def fetch_posts(self, platform, days, cursors=None):
        posts = [_post(day, i) for day in days for i in range(3)]
        since = (cursors or {}).get("q")
        newest = max([int(p.post_id) for p in posts] + ([int(since)] if since else []))
        return FetchResult(posts, [], FetchTelemetry(api_calls=1), PROVIDER, cursors={"q": str(newest)})


def _post(day: date, i: int) -> PostRecord:
    created = datetime(day.year, day.month, day.day, 2 + i, tzinfo=UTC)
    return PostRecord(
        platform="twitter", post_id=f"{day:%Y%m%d}{i:03d}", created_at=created, text=f"Pantai Cenang {day} {i}",
        author_id="u1", author_name="U1", url=None, hashtags=(), like_count=i, comment_count=0, share_count=0,
        view_count=10, lang="en", provider=PROVIDER, payload={"id": f"{day}-{i}"},
    )  # fmt: skip


class PollingSources(PostSources):
    failing_day: str | None = None  # ISO day

    def source_for(self, platform):
        return FailingFrom(PollingSource(), self.failing_day)


def test_cursors_never_move_past_posts_that_were_not_stored(warehouse_url, instance):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("TRUNCATE kedah.source_cursors")
    FailingFrom.calls = []
    materialize(
        warehouse_url, instance, PollingSources(url=warehouse_url, failing_day=str(DAYS[8])),
        tags=ranged(DAYS[0], DAYS[-1], "twitter"), success=False,
    )  # fmt: skip

    stored = raw_rows(warehouse_url)
    assert sorted(set(stored["date"])) == DAYS[:3]
    (cursor,) = load_cursors(warehouse_url, PROVIDER).values()
    assert cursor == max(stored["post_id"]) == f"{DAYS[2]:%Y%m%d}002"  # the newest stored, no further
    # The failed chunk was asked from the cursor the first chunk stored with its posts.
    assert FailingFrom.calls == [(tuple(DAYS[:3]), {}), (tuple(DAYS[3:]), {"q": cursor})]

    materialize(
        warehouse_url, instance, PollingSources(url=warehouse_url), tags=ranged(DAYS[0], DAYS[-1], "twitter")
    )
    assert load_cursors(warehouse_url, PROVIDER) == {"q": max(raw_rows(warehouse_url)["post_id"])}
    assert len(raw_rows(warehouse_url)) == 3 * len(DAYS)


def test_chunks_of_a_run_add_up_telemetry_without_adding_up_levels():
    first = FetchTelemetry(api_calls=2, notes=["demo data"], levels={"x_daily_post_reads"})
    first.details.update({"x_posts_read": 10, "x_daily_post_reads": 2000, "x_budget_stopped": False})
    second = FetchTelemetry(api_calls=1, notes=["demo data", "budget reached"], levels={"x_daily_post_reads"})
    second.details.update({"x_posts_read": 5, "x_daily_post_reads": 2000, "x_budget_stopped": True})
    run = FetchTelemetry()
    run.merge(first)
    run.merge(second)
    assert run.api_calls == 3 and run.notes == ["demo data", "budget reached"]
    assert run.details == {"x_posts_read": 15, "x_daily_post_reads": 2000, "x_budget_stopped": True}


def test_a_long_run_writes_its_partition_table_to_the_log_once_not_onto_every_partition(
    warehouse_url, instance
):
    # 32 partitions: over the 31 whose run table rides on each partition's metadata.
    first = date(2026, 10, 1)
    result = materialize(warehouse_url, instance, tags=ranged(first, first + timedelta(days=31), "twitter"))
    materializations = [e.materialization for e in result.get_asset_materialization_events()]
    assert len(materializations) == 32
    tables = {m.metadata["run_partitions"].value for m in materializations}
    assert tables == {"32 partitions: the table is in the run's log"}
    logged = [
        r.user_message
        for r in instance.all_logs(result.run_id)
        if r.user_message.startswith("kedah.raw_posts: rows per partition")
    ]
    assert len(logged) == 1
    # One row a partition, its key one cell (the key's "|" escaped, as Markdown needs).
    rows = [line for line in logged[0].splitlines() if line.startswith("| 2026-")]
    assert [row.split(" | ")[0] for row in rows] == [
        f"| {first + timedelta(days=i)}\\|twitter" for i in range(32)
    ]
    # Each partition still carries its own figures.
    assert all(m.metadata["dagster/partition_row_count"].value > 0 for m in materializations)
