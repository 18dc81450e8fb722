"""Derived rows and their metadata do not depend on how runs are laid out.

The same raw rows are classified and aggregated once as ranged runs and once as daily runs; every
derived table comes out the same (the near-duplicate spam signal compares a post with a fixed
window of the warehouse, not with whatever else its run held). A ranged run's materializations
each carry their own partition's figures.
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
from kedah_analytics.warehouse import read_table
from resources import (
    SentimentResource,
)

DAYS = [date(2026, 11, 10) + timedelta(days=i) for i in range(5)]
PLATFORMS = ["instagram", "twitter"]
DERIVED = ["classified_posts", "place_daily_metrics", "term_daily_counts", "term_hourly_counts"]
# The same promotional text from a different account each day: whether it counts as spam must not
# depend on whether yesterday's copy was in the same run.
REPEATED = "Cheap Langkawi island hopping tour package book now limited seats"
TEXTS = [
    "Sunset at Pantai Cenang was beautiful tonight",
    "Traffic jam again near Alor Setar, so tiring",
    "Gunung Jerai view from the top, worth the climb",
    "Nasi lemak in Sungai Petani, sedap gila",
]


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def resources(url: str) -> dict:
    return demo_resources(url, sentiment=SentimentResource(classifier="lexicon"))


def materialize(
    url: str, instance: dg.DagsterInstance, selection: list[str], **kwargs
) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        list(defs.assets), selection=selection, resources=resources(url), instance=instance, **kwargs
    )
    assert result.success
    return result


def seed_raw(url: str) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    rows = []
    for d_index, day in enumerate(DAYS):
        for platform in PLATFORMS:
            texts = [*TEXTS, REPEATED] if platform == "twitter" else TEXTS
            for i, text in enumerate(texts):
                created = datetime(day.year, day.month, day.day, 2 + i, tzinfo=UTC)
                rows.append(
                    (
                        platform,
                        f"{platform}-{day}-{i}",
                        day,
                        created,
                        text,
                        f"acct{d_index}-{i}",
                        i,
                        1,
                        0,
                        100 + i,
                        "demo",
                        now,
                        now,
                    )  # fmt: skip
                )
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE kedah.raw_posts, kedah.classified_posts, kedah.place_daily_metrics, "
                     "kedah.term_daily_counts, kedah.term_hourly_counts")  # fmt: skip
        conn.cursor().executemany(
            """INSERT INTO kedah.raw_posts (platform, post_id, date, created_at, text, author_id, like_count,
                   comment_count, share_count, view_count, provider, first_seen_at, fetched_at, payload)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '{}')""",
            rows,
        )


def derived_tables(url: str) -> dict[str, pd.DataFrame]:
    out = {}
    with psycopg.connect(url) as conn:
        for name in DERIVED:
            df = read_table(conn, name)
            df = df.astype({c: str for c in df.columns if df[c].dtype == object})
            out[name] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def test_ranged_and_daily_runs_give_the_same_derived_tables(warehouse_url, instance):
    materialize(warehouse_url, instance, ["places"])
    seed_raw(warehouse_url)
    first, last = DAYS[0], DAYS[-1]
    for platform in PLATFORMS:
        materialize(warehouse_url, instance, ["classified_posts"],
                    tags=range_tags(f"{first}|{platform}", f"{last}|{platform}"))  # fmt: skip
    daily = ["place_daily_metrics", "term_daily_counts", "term_hourly_counts"]
    materialize(warehouse_url, instance, daily, tags=range_tags(str(first), str(last)))
    ranged = derived_tables(warehouse_url)
    assert ranged["classified_posts"]["is_spam"].map(lambda v: v == "True" or v is True).sum() >= len(DAYS)

    seed_raw(warehouse_url)  # empties the derived tables
    for day in DAYS:
        for platform in PLATFORMS:
            materialize(warehouse_url, instance, ["classified_posts"], partition_key=f"{day}|{platform}")
        materialize(warehouse_url, instance, daily, partition_key=str(day))
    by_day = derived_tables(warehouse_url)

    for name in DERIVED:
        assert len(ranged[name]) > 0, name
        pd.testing.assert_frame_equal(ranged[name], by_day[name], obj=name)


def _materializations(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dict]:
    return {
        str(e.partition): e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key.path == [asset]
    }


def test_a_ranged_run_records_each_partitions_own_figures(warehouse_url, instance):
    materialize(warehouse_url, instance, ["places"])
    seed_raw(warehouse_url)
    first, last = DAYS[0], DAYS[-1]
    # Day 2 gets extra posts, so a run total would show on every partition as a mismatch.
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            """INSERT INTO kedah.raw_posts (platform, post_id, date, created_at, text, provider, first_seen_at,
                   fetched_at, payload)
               SELECT 'twitter', 'extra-' || g, %s, %s, 'Kuah jetty ferry queue', 'demo', now(), now(), '{}'
               FROM generate_series(1, 7) g""",
            (DAYS[1], datetime(DAYS[1].year, DAYS[1].month, DAYS[1].day, 4, tzinfo=UTC)),
        )
    classified = materialize(
        warehouse_url, instance, ["classified_posts"], tags=range_tags(f"{first}|twitter", f"{last}|twitter")
    )
    metrics = materialize(
        warehouse_url, instance, ["place_daily_metrics"], tags=range_tags(str(first), str(last))
    )

    stored = table_counts(warehouse_url, "classified_posts", "twitter")
    per_partition = _materializations(classified, "classified_posts")
    assert sorted(per_partition) == [f"{d}|twitter" for d in DAYS]
    for day in DAYS:
        meta = per_partition[f"{day}|twitter"]
        assert meta["dagster/partition_row_count"].value == stored[day]
        assert meta["posts"].value == stored[day]
        preview = meta["preview"].value
        assert str(day) in preview and not any(str(d) in preview for d in DAYS if d != day)
    assert per_partition[f"{DAYS[1]}|twitter"]["posts"].value == stored[DAYS[0]] + 7
    run_meta = per_partition[f"{DAYS[0]}|twitter"]
    assert run_meta["run_posts"].value == sum(stored.values())  # run totals say so in their name

    with psycopg.connect(warehouse_url) as conn:
        rows = dict(
            conn.execute("SELECT date, count(*) FROM kedah.place_daily_metrics GROUP BY date").fetchall()
        )
        posts = dict(
            conn.execute("SELECT date, sum(posts) FROM kedah.place_daily_metrics GROUP BY date").fetchall()
        )
    for day, meta in _materializations(metrics, "place_daily_metrics").items():
        d = date.fromisoformat(day)
        assert meta["dagster/partition_row_count"].value == rows.get(d, 0)
        assert meta["posts"].value == posts.get(d, 0)


def table_counts(url: str, table: str, platform: str) -> dict[date, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT date, count(*) FROM kedah.{table} WHERE platform = %s GROUP BY date", (platform,)
        ).fetchall()
    return {d: n for d, n in rows}
