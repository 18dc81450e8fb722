"""The asset graph materialized with the real Dagster machinery into a real PostgreSQL."""

from datetime import UTC, date, datetime

import dagster as dg
import pandas as pd
import psycopg
import pytest
from demo_resources import demo_resources

from assets.common.partitions import date_platform_partitions
from assets.common.runs import range_tags
from kedah_analytics.definitions import defs
from kedah_analytics.domain import PostRecord
from kedah_analytics.quality import tables
from kedah_analytics.sources.common.base import FetchResult, FetchTelemetry
from kedah_analytics.warehouse import read_table
from resources import (
    PostSources,
)

D1, D2 = "2026-11-18", "2026-11-19"
VOLATILE = ["fetched_at", "first_seen_at"]  # when a row was fetched: the only columns a re-run may change


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def resources_for(url, sources=None):
    return demo_resources(url, **({"post_sources": sources} if sources else {}))


def job(name, url, sources=None):
    resources = resources_for(url, sources)
    bound = dg.Definitions(
        assets=list(defs.assets),
        asset_checks=list(defs.asset_checks),
        jobs=list(defs.jobs),
        resources=resources,
    )
    return bound.resolve_job_def(name)


def run(name, url, instance, sources=None, **kwargs):
    result = job(name, url, sources).execute_in_process(instance=instance, **kwargs)
    assert result.success
    return result


def table(url, name, **where):
    with psycopg.connect(url) as conn:
        df = read_table(conn, name)
    for column, value in where.items():
        df = df[df[column].astype(str) == value]
    keys = [c for c in ("date", "platform", "post_id", "place_id", "provider") if c in df.columns]
    return df.sort_values(keys).reset_index(drop=True)


def seed_places(url, instance):
    run("refresh_places", url, instance)


def test_every_asset_materializes_for_a_partition(warehouse_url, instance):
    seed_places(warehouse_url, instance)
    result = run("collect_posts", warehouse_url, instance, partition_key=f"{D1}|twitter")
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"raw_posts", "classified_posts"}
    run("daily_metrics", warehouse_url, instance, partition_key=D1)
    assert len(table(warehouse_url, "places")) >= 40
    raw = table(warehouse_url, "raw_posts")
    assert len(raw) > 10 and set(raw["provider"]) == {"demo"} and set(raw["date"].astype(str)) == {D1}
    classified = table(warehouse_url, "classified_posts")
    assert sorted(classified["post_id"]) == sorted(raw["post_id"])
    metrics = table(warehouse_url, "place_daily_metrics")
    assert metrics["posts"].sum() == (~classified["is_spam"] & classified["place_id"].notna()).sum()
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM kedah.quarantine").fetchone()[0] >= 0


def test_materialization_metadata_tells_what_changed(warehouse_url, instance):
    seed_places(warehouse_url, instance)
    result = run("collect_posts", warehouse_url, instance, partition_key=f"{D1}|youtube")
    by_asset = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    raw = by_asset["raw_posts"]
    assert raw["dagster/table_name"].value == "kedah.raw_posts"
    assert raw["inserted"].value == raw["dagster/partition_row_count"].value > 0
    assert "created_at" in {c.name for c in raw["dagster/column_schema"].value.columns}
    assert raw["providers"].value == "youtube: demo"
    assert by_asset["classified_posts"]["write_mode"].value == "replace by chunk of days"


def test_materializing_the_same_partition_twice_leaves_identical_rows(warehouse_url, instance):
    seed_places(warehouse_url, instance)
    key = f"{D1}|instagram"
    run("collect_posts", warehouse_url, instance, partition_key=key)
    run("daily_metrics", warehouse_url, instance, partition_key=D1)
    first = {t: table(warehouse_url, t) for t in ("raw_posts", "classified_posts", "place_daily_metrics")}
    second_run = run("collect_posts", warehouse_url, instance, partition_key=key)
    run("daily_metrics", warehouse_url, instance, partition_key=D1)
    raw_meta = next(
        e for e in second_run.get_asset_materialization_events() if e.asset_key.path == ["raw_posts"]
    )
    assert raw_meta.materialization.metadata["inserted"].value == 0
    for name, before in first.items():
        after = table(warehouse_url, name)
        drop = [c for c in VOLATILE if c in after.columns]
        pd.testing.assert_frame_equal(before.drop(columns=drop), after.drop(columns=drop))


class ListSource:
    """A source returning given posts, as a real provider would (the network is what is replaced)."""

    provider = "x_api_v2"
    polls_from_cursors = False
    posts: list[PostRecord] = []

    def fetch_posts(self, platform, days, cursors=None):
        return FetchResult(list(self.posts), [], FetchTelemetry(api_calls=1, pages=1), self.provider)


class ListSources(PostSources):
    def source_for(self, platform):
        return ListSource()


def post(post_id, likes, day=D1):
    created = datetime.fromisoformat(f"{day}T03:00:00+00:00")
    return PostRecord(
        platform="twitter", post_id=post_id, created_at=created, text=f"Pantai Cenang sunset {post_id}",
        author_id="u1", author_name="U1", url=None, hashtags=("Langkawi",), like_count=likes, comment_count=0,
        share_count=0, view_count=100, lang="en", provider="x_api_v2", payload={"id": post_id},
    )  # fmt: skip


def test_a_later_fetch_keeps_posts_it_no_longer_returns_and_updates_the_others(warehouse_url, instance):
    seed_places(warehouse_url, instance)
    ListSource.posts = [post("1", 5), post("2", 5), post("3", 5)]
    run("collect_posts", warehouse_url, instance, sources=ListSources(), partition_key=f"{D1}|twitter")
    ListSource.posts = [post("2", 50), post("4", 1)]
    result = run(
        "collect_posts", warehouse_url, instance, sources=ListSources(), partition_key=f"{D1}|twitter"
    )
    raw = table(warehouse_url, "raw_posts").set_index("post_id")
    assert sorted(raw.index) == ["1", "2", "3", "4"]
    assert raw.loc["1", "like_count"] == 5 and raw.loc["2", "like_count"] == 50
    meta = next(e for e in result.get_asset_materialization_events() if e.asset_key.path == ["raw_posts"])
    assert (
        meta.materialization.metadata["inserted"].value,
        meta.materialization.metadata["updated"].value,
    ) == (1, 1)
    # classified_posts is a pure function of the merged raw partition: all four posts
    assert sorted(table(warehouse_url, "classified_posts")["post_id"]) == ["1", "2", "3", "4"]


def test_a_derived_partition_is_replaced_exactly_and_others_are_untouched(warehouse_url, instance):
    seed_places(warehouse_url, instance)
    for key in (f"{D1}|twitter", f"{D2}|twitter", f"{D1}|youtube"):
        run("collect_posts", warehouse_url, instance, partition_key=key)
    before = table(warehouse_url, "classified_posts")
    with psycopg.connect(warehouse_url) as conn:  # a post the classifier has not seen yet
        conn.execute(
            """INSERT INTO kedah.raw_posts (platform, post_id, date, created_at, text, provider, first_seen_at,
                   fetched_at, payload) VALUES ('twitter', 'late', %s, %s, 'Kilim mangrove tour best', 'demo',
                   now(), now(), '{}')""",
            (date.fromisoformat(D1), datetime.fromisoformat(f"{D1}T05:00:00+00:00")),
        )
    # Only classified_posts is re-materialized, for one partition.
    result = dg.materialize(
        list(defs.assets),
        partition_key=f"{D1}|twitter",
        instance=instance,
        resources=resources_for(warehouse_url),
        selection=["classified_posts"],
    )  # fmt: skip
    assert result.success
    after = table(warehouse_url, "classified_posts")
    in_partition = (after["date"].astype(str) == D1) & (after["platform"] == "twitter")
    assert "late" in set(after.loc[in_partition, "post_id"])
    untouched_before = before[~((before["date"].astype(str) == D1) & (before["platform"] == "twitter"))]
    pd.testing.assert_frame_equal(
        after[~in_partition].reset_index(drop=True),
        untouched_before.reset_index(drop=True),
        check_dtype=False,
    )


def test_a_range_backfill_in_one_run_writes_every_partition(warehouse_url, instance):
    seed_places(warehouse_url, instance)
    days = ["2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13", "2026-11-14"]
    result = run(
        "collect_posts",
        warehouse_url,
        instance,
        tags=range_tags(f"{days[0]}|facebook", f"{days[-1]}|facebook"),
    )
    assert len(instance.get_runs()) == 2  # places, then one run for the whole range
    events = [e for e in result.get_asset_materialization_events() if e.asset_key.path == ["raw_posts"]]
    assert sorted(e.partition for e in events) == [f"{d}|facebook" for d in days]
    assert sorted(set(table(warehouse_url, "raw_posts")["date"].astype(str))) == days
    assert sorted(set(table(warehouse_url, "classified_posts")["date"].astype(str))) == days
    run("daily_metrics", warehouse_url, instance, tags=range_tags(days[0], days[-1]))
    assert sorted(set(table(warehouse_url, "place_daily_metrics")["date"].astype(str))) == days


def test_daily_metrics_read_every_platform_of_the_day(warehouse_url, instance):
    seed_places(warehouse_url, instance)
    for platform in ("twitter", "youtube"):
        run("collect_posts", warehouse_url, instance, partition_key=f"{D1}|{platform}")
    run("daily_metrics", warehouse_url, instance, partition_key=D1)
    assert set(table(warehouse_url, "place_daily_metrics")["platform"]) == {"twitter", "youtube"}


def test_checks_pass_on_good_data_and_fail_on_bad(warehouse_url, instance):
    seed_places(warehouse_url, instance)
    result = run("collect_posts", warehouse_url, instance, partition_key=f"{D1}|twitter")
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        assert tables.classified_scores_in_range(conn).passed
        conn.execute(
            "UPDATE kedah.classified_posts SET sentiment_score = 3 WHERE post_id = (SELECT min(post_id) FROM kedah.classified_posts)"
        )
        assert not tables.classified_scores_in_range(conn).passed
        conn.execute(
            "UPDATE kedah.raw_posts SET date = date + 1 WHERE post_id = (SELECT min(post_id) FROM kedah.raw_posts)"
        )
        outcome = tables.raw_posts_required_fields(conn)
        assert not outcome.passed and outcome.details["filed_under_wrong_day"] == 1
        conn.execute("UPDATE kedah.classified_posts SET place_id = NULL")
        assert not tables.place_link_share(conn).passed
        conn.execute("ALTER TABLE kedah.place_daily_metrics DROP CONSTRAINT place_daily_metrics_pkey")
        try:
            conn.execute("INSERT INTO kedah.place_daily_metrics SELECT * FROM kedah.place_daily_metrics")
            conn.execute(
                "INSERT INTO kedah.place_daily_metrics VALUES ('2026-11-18','kuah','Kuah','Langkawi','twitter','demo',1,0,0,0,0,0,1,0,0,0.5,0)"
            )
            conn.execute(
                "INSERT INTO kedah.place_daily_metrics VALUES ('2026-11-18','kuah','Kuah','Langkawi','twitter','demo',2,0,0,0,0,0,1,0,0,0.5,0)"
            )
            dup = tables.duplicate_keys(
                conn, "place_daily_metrics", ["date", "place_id", "platform", "provider"]
            )
            assert not dup.passed and dup.details["duplicated_keys"] == 1
            assert not tables.place_metrics_consistent(conn).passed
        finally:
            conn.execute("TRUNCATE kedah.place_daily_metrics")
            conn.execute(
                "ALTER TABLE kedah.place_daily_metrics ADD PRIMARY KEY (date, place_id, platform, provider)"
            )


def test_partitions_are_date_by_platform_in_kedah_time():
    keys = date_platform_partitions.get_partition_keys(current_time=datetime(2026, 6, 2, 17, tzinfo=UTC))
    # 17:00 UTC on 2 June is 01:00 on 3 June in Kedah; end_offset=1 includes the running day
    assert keys[-1] in {"2026-06-03|youtube", "2026-06-03|twitter"} or keys[-1].startswith("2026-06-03")
    assert "2026-06-01|twitter" in keys and not any(k.startswith("2026-05-31") for k in keys)
