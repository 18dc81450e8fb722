"""The load path against a real PostgreSQL: merge, replace, atomicity, demo segregation, migrations."""

from datetime import UTC, date, datetime

import pandas as pd
import psycopg
import pytest

from kedah_analytics.warehouse import (
    PartitionFilter,
    apply_migrations,
    merge_rows,
    read_table,
    replace_partitions,
)
from kedah_analytics.warehouse.load import DemoMixError
from kedah_analytics.warehouse.migrate import available_migrations

D1, D2 = date(2026, 11, 19), date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 8, tzinfo=UTC)


def raw_rows(ids, day=D1, platform="twitter", likes=1, provider="demo"):
    return pd.DataFrame(
        {
            "platform": platform,
            "post_id": ids,
            "date": day,
            "created_at": datetime(day.year, day.month, day.day, 4, tzinfo=UTC),
            "text": [f"post {i} Langkawi" for i in ids],
            "hashtags": [["#langkawi"] for _ in ids],
            "like_count": likes,
            "provider": provider,
            "first_seen_at": NOW,
            "fetched_at": NOW,
            "payload": [{"id": i} for i in ids],
        }
    )


def one(day=D1, platform="twitter"):
    return PartitionFilter(("date", "platform"), ((day, platform),))


def test_merge_keeps_posts_a_later_fetch_no_longer_returns_and_updates_counts(conn):
    first = merge_rows(conn, "raw_posts", raw_rows(["a", "b", "c"]), key=["platform", "post_id"],
                       partitions=one(), provider="demo")  # fmt: skip
    assert (first.inserted, first.updated) == (3, 0)
    second = merge_rows(conn, "raw_posts", raw_rows(["b", "d"], likes=9), key=["platform", "post_id"],
                        partitions=one(), provider="demo")  # fmt: skip
    assert (second.inserted, second.updated) == (1, 1)
    stored = read_table(conn, "raw_posts").set_index("post_id")
    assert sorted(stored.index) == ["a", "b", "c", "d"]
    assert stored.loc["a", "like_count"] == 1 and stored.loc["b", "like_count"] == 9


def test_merge_keeps_first_seen_at(conn):
    merge_rows(
        conn, "raw_posts", raw_rows(["a"]), key=["platform", "post_id"], partitions=one(), provider="demo"
    )
    later = raw_rows(["a"]).assign(first_seen_at=datetime(2030, 1, 1, tzinfo=UTC))
    merge_rows(conn, "raw_posts", later, key=["platform", "post_id"], partitions=one(), provider="demo")
    assert read_table(conn, "raw_posts")["first_seen_at"].iloc[0] == NOW


def test_demo_rows_never_mix_with_real_rows(conn):
    merge_rows(
        conn, "raw_posts", raw_rows(["demo1"]), key=["platform", "post_id"], partitions=one(), provider="demo"
    )
    real = raw_rows(["x1"], provider="x_api_v2")
    summary = merge_rows(
        conn, "raw_posts", real, key=["platform", "post_id"], partitions=one(), provider="x_api_v2"
    )
    assert summary.demo_rows_removed == 1
    assert read_table(conn, "raw_posts")["provider"].tolist() == ["x_api_v2"]
    with pytest.raises(DemoMixError, match="never mixed"):
        merge_rows(conn, "raw_posts", raw_rows(["demo2"]), key=["platform", "post_id"], partitions=one(),
                   provider="demo")  # fmt: skip
    assert read_table(conn, "raw_posts")["post_id"].tolist() == ["x1"]


def test_replace_touches_exactly_its_partitions(conn):
    rows = pd.concat([raw_rows(["a"], D1), raw_rows(["b"], D2), raw_rows(["c"], D1, "youtube")])
    replace_partitions(conn, "raw_posts", rows, None)
    replace_partitions(conn, "raw_posts", raw_rows(["z"], D1), one(D1, "twitter"))
    stored = read_table(conn, "raw_posts").sort_values("post_id")
    assert stored["post_id"].tolist() == ["b", "c", "z"]


def test_replace_refuses_rows_outside_its_partitions(conn):
    with pytest.raises(ValueError, match="outside the partitions"):
        replace_partitions(conn, "raw_posts", raw_rows(["a"], D2), one(D1))


def test_a_failure_half_way_through_a_write_leaves_the_previous_rows(conn):
    replace_partitions(conn, "raw_posts", raw_rows(["a", "b"]), one())
    broken = raw_rows([f"n{i}" for i in range(1000)])
    broken.loc[700, "text"] = None  # NOT NULL: COPY fails after 700 rows went in
    with pytest.raises(psycopg.errors.NotNullViolation):
        replace_partitions(conn, "raw_posts", broken, one())
    assert sorted(read_table(conn, "raw_posts")["post_id"]) == ["a", "b"]
    with pytest.raises(psycopg.errors.NotNullViolation):
        merge_rows(conn, "raw_posts", broken, key=["platform", "post_id"], partitions=one(), provider="demo")
    assert sorted(read_table(conn, "raw_posts")["post_id"]) == ["a", "b"]


def test_unknown_columns_are_a_clear_error(conn):
    with pytest.raises(ValueError, match="no column"):
        replace_partitions(conn, "raw_posts", raw_rows(["a"]).assign(likes=1), one())


def test_migrations_are_safe_to_run_twice(pg_url):
    assert apply_migrations(pg_url) == []
    with psycopg.connect(pg_url) as c:
        versions = [r[0] for r in c.execute("SELECT version FROM kedah.schema_migrations ORDER BY 1")]
    assert versions == [m.version for m in available_migrations()]


def test_a_changed_applied_migration_is_refused(pg_url, monkeypatch):
    import kedah_analytics.warehouse.migrate as migrate

    real = migrate.available_migrations()
    edited = [migrate.Migration(m.version, m.name, m.sql + "\n-- edited") for m in real]
    monkeypatch.setattr(migrate, "available_migrations", lambda: edited)
    with pytest.raises(RuntimeError, match="changed after it was applied"):
        migrate.apply_migrations(pg_url)


def test_several_merges_share_one_transaction(conn):
    with conn.transaction():
        for platform in ("twitter", "youtube"):
            merge_rows(conn, "raw_posts", raw_rows(["a"], platform=platform), key=["platform", "post_id"],
                       partitions=one(platform=platform), provider="demo")  # fmt: skip
    assert sorted(read_table(conn, "raw_posts")["platform"]) == ["twitter", "youtube"]


def _copy_targets(monkeypatch) -> list[str]:
    """Where merge_rows' COPYs go: ``kedah.raw_posts`` straight, or its ``_stage`` table."""
    import kedah_analytics.warehouse.load as load

    targets: list[str] = []
    real = load.copy_rows

    def recorded(cur, target, columns, rows):
        targets.append(target.as_string(cur))
        return real(cur, target, columns, rows)

    monkeypatch.setattr(load, "copy_rows", recorded)
    return targets


def _merge_demo(conn, rows, partitions):
    return merge_rows(
        conn, "raw_posts", rows, key=["platform", "post_id"], partitions=partitions, provider="demo"
    )


def test_a_merge_into_partitions_that_hold_nothing_copies_straight_in(conn, monkeypatch):
    targets = _copy_targets(monkeypatch)
    both = PartitionFilter(("date", "platform"), ((D1, "twitter"), (D2, "twitter")))
    rows = pd.concat([raw_rows(["a", "b"], D1), raw_rows(["c"], D2)], ignore_index=True)
    summary = _merge_demo(conn, rows, both)
    assert targets == ['"kedah"."raw_posts"']
    assert (summary.rows_written, summary.inserted, summary.updated) == (3, 3, 0)
    assert summary.extra["by_partition"] == {
        (D1, "twitter"): {"inserted": 2, "updated": 0},
        (D2, "twitter"): {"inserted": 1, "updated": 0},
    }
    assert sorted(read_table(conn, "raw_posts")["post_id"]) == ["a", "b", "c"]
    # Once a partition holds rows, the next fetch of it merges through the staging table.
    again = _merge_demo(conn, raw_rows(["a", "d"], D1, likes=5), one(D1))
    assert targets[1:] == ['"_stage"'] and (again.inserted, again.updated) == (1, 1)


def test_a_post_stored_under_another_day_is_merged_not_duplicated(conn, monkeypatch):
    _merge_demo(conn, raw_rows(["a"], D1), one(D1))
    targets = _copy_targets(monkeypatch)
    # Its date moved to D2, whose partition is empty: the straight COPY meets the stored key, is
    # undone, and the merge moves the one row.
    moved = _merge_demo(conn, raw_rows(["a"], D2, likes=7), one(D2))
    assert targets == ['"kedah"."raw_posts"', '"_stage"']
    assert (moved.inserted, moved.updated) == (0, 1)
    assert moved.extra["by_partition"] == {(D2, "twitter"): {"inserted": 0, "updated": 1}}
    stored = read_table(conn, "raw_posts")
    assert stored[["post_id", "date", "like_count"]].values.tolist() == [["a", D2, 7]]


def test_a_failed_copy_into_empty_partitions_stores_none_of_it(conn):
    _merge_demo(conn, raw_rows(["a"], D1), one(D1))
    broken = raw_rows([f"n{i}" for i in range(1000)], D2)
    broken.loc[700, "text"] = None  # NOT NULL: the COPY fails after 700 rows went in
    with pytest.raises(psycopg.errors.NotNullViolation):
        _merge_demo(conn, broken, one(D2))
    assert read_table(conn, "raw_posts")["post_id"].tolist() == ["a"]


def test_daily_rows_read_posts_reads_only_the_named_posts_of_its_partitions(conn, warehouse_url):
    from kedah_analytics.warehouse.read import DailyRows
    from kedah_analytics.warehouse.scope import DAY_KEY, Dimension, RunScope

    rows = pd.concat(
        [raw_rows(["a", "b"], D1), raw_rows(["c"], D2), raw_rows(["a", "y"], D1, "youtube")],
        ignore_index=True,
    )
    replace_partitions(conn, "raw_posts", rows, None)
    # The input holds D1 and D2 of twitter only: youtube's "a" is outside it, however it is named.
    scope = RunScope.parse(
        [f"{D1}|twitter", f"{D2}|twitter"], [Dimension("date", DAY_KEY), Dimension("platform")]
    )
    posts = DailyRows(warehouse_url, "raw_posts", scope)
    named = [("twitter", "a"), ("twitter", "c"), ("youtube", "a"), ("youtube", "y"), ("twitter", "missing")]
    found = posts.read_posts(D1, D1, named, columns=["platform", "post_id", "text"])
    assert found[["platform", "post_id", "text"]].values.tolist() == [["twitter", "a", "post a Langkawi"]]
    both_days = posts.read_posts(D1, D2, named, columns=["post_id"])
    assert sorted(both_days["post_id"]) == ["a", "c"]
    nothing = posts.read_posts(D1, D2, [], columns=["platform", "post_id"])
    assert nothing.empty and list(nothing.columns) == ["platform", "post_id"]


def test_read_table_gives_timestamps_as_psycopg_does_to_the_microsecond(conn):
    """Timestamps are read as microseconds and converted at once (read.EPOCH_US): the same values,
    zone and dtype as from psycopg's datetimes; a column of NULLs alone stays None."""
    conn.execute("CREATE TABLE kedah.read_probe (id int, at timestamptz, never timestamptz)")
    try:
        moments = [
            datetime(2026, 11, 19, 4, 0, 0, 123456, tzinfo=UTC),
            None,
            datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        ]
        for i, at in enumerate(moments):
            conn.execute("INSERT INTO kedah.read_probe VALUES (%s, %s, NULL)", (i, at))
        frame = read_table(conn, "read_probe").sort_values("id", ignore_index=True)
        with conn.cursor() as cur:
            rows = cur.execute("SELECT id, at, never FROM kedah.read_probe ORDER BY id").fetchall()
        pd.testing.assert_frame_equal(frame, pd.DataFrame.from_records(rows, columns=["id", "at", "never"]))
        assert str(frame["at"].dt.tz) == str(conn.info.timezone)
        assert frame["at"].iloc[0] == pd.Timestamp(moments[0]) and pd.isna(frame["at"].iloc[1])
        assert frame["never"].tolist() == [None, None, None]
    finally:
        conn.execute("DROP TABLE kedah.read_probe")
