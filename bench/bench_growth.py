"""Growth you can plan for: bytes per post in each table (payload JSON included), Dagster's own
storage per hourly tick, and a year's projection, with and without payload retention.

Measured, not estimated: a scratch database is seeded with the project's own runs (``kedah-analytics
seed``'s layout, demo sources) for ``--days`` days, then one hour of the production automation is
run (the four platforms' collection runs, ``hourly_predictions``, and the ``daily_metrics`` and
``build_marts`` runs the automation sensors launch after them), and PostgreSQL reports every
table's size after ``VACUUM FULL`` (no dead rows: the steady state a vacuumed table reaches).
Recorded-shape API payloads (tests/fixtures) are sized by PostgreSQL too, since the demo source's
payloads are smaller than the real APIs'.

Run: .venv/bin/python bench/bench_growth.py [--days 35] [--posts-per-day N] [--retention-days 365]
Prints a table, then ``name: value`` lines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import dagster as dg  # noqa: E402
import psycopg  # noqa: E402
from _db import scratch_database  # noqa: E402

from assets.common.runs import range_tags  # noqa: E402
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS  # noqa: E402

PER_POST = ("raw_posts", "classified_posts")  # grow with posts; the others with days
FIXTURES = ROOT / "tests" / "fixtures"


def recorded_payloads() -> dict[str, list[str]]:
    """The payload each real source stores per post, built from the recorded-shape pages."""
    out: dict[str, list[str]] = {}
    for name in ("search_recent_page1", "search_recent_page2", "search_recent_real_shapes"):
        page = json.loads((FIXTURES / "twitter" / f"{name}.json").read_text())
        users = {u["id"]: u for u in page.get("includes", {}).get("users", [])}
        for item in page.get("data", []):
            includes = {"users": [users[item["author_id"]]]} if item.get("author_id") in users else {}
            out.setdefault("twitter", []).append(json.dumps({"data": item, "includes": includes}))
    for platform, folder, pages, key in [
        ("instagram", "instagram", ["recent_media_langkawi_page1", "recent_media_langkawi_page2"], "data"),
        ("facebook", "facebook", ["page_posts_page1", "page_posts_page2"], "data"),
        ("youtube", "youtube", ["videos"], "items"),
    ]:
        for name in pages:
            page = json.loads((FIXTURES / folder / f"{name}.json").read_text())
            out.setdefault(platform, []).extend(json.dumps(item) for item in page.get(key, []))
    return out


def table_sizes(conn: psycopg.Connection, schema: str) -> dict[str, tuple[int, int]]:
    """(rows, bytes on disk with indexes and TOAST) of each table of ``schema``."""
    names = [r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (schema,)
    ).fetchall()]  # fmt: skip
    sizes = {}
    for name in names:
        row = conn.execute(
            f'SELECT count(*), pg_total_relation_size(\'"{schema}"."{name}"\') FROM "{schema}"."{name}"'
        ).fetchone()
        assert row is not None
        sizes[name] = (int(row[0]), int(row[1]))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--days", type=int, default=35, help="demo days to seed (the weekly model needs 24 before its week)"
    )
    parser.add_argument(
        "--posts-per-day", type=float, default=None, help="projection volume (default: measured)"
    )
    parser.add_argument(
        "--retention-days", type=int, default=365, help="KEDAH_PAYLOAD_RETENTION_DAYS to project"
    )
    args = parser.parse_args()

    with scratch_database("kedah_growth") as url, tempfile.TemporaryDirectory() as home:
        shutil.copy(ROOT / "dagster.yaml", Path(home) / "dagster.yaml")
        os.environ.update(KEDAH_PG_URL=url, DAGSTER_HOME=home, KEDAH_SOURCE_MODE="demo")
        from kedah_analytics.definitions import defs, materialize_recent_days

        with dg.DagsterInstance.from_config(home) as instance:
            print(f"seeding {args.days} demo days ...", flush=True)
            materialize_recent_days(args.days, instance)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM FULL")
                before = table_sizes(conn, "public")
            # One hour of production at its busiest: every platform's collection, then hourly_predictions'.
            now = datetime.now(KEDAH_TZ)
            schedules = [defs.resolve_schedule_def(f"{p}_collection") for p in PLATFORMS]
            schedules.append(defs.resolve_schedule_def("hourly_predictions"))
            requests = []
            for schedule in schedules:
                with dg.build_schedule_context(
                    instance=instance, scheduled_execution_time=now, repository_def=defs.get_repository_def()
                ) as context:
                    result = schedule.evaluate_tick(context)
                requests += [(schedule.job_name, r) for r in result.run_requests or []]
            # What metrics_automation and marts_automation launch once those days' posts changed.
            days = range_tags(str(now.date() - timedelta(days=1)), str(now.date()))
            runs = [(job_name, dict(r.tags), r.partition_key) for job_name, r in requests]
            runs += [("daily_metrics", days, None), ("build_marts", days, None)]
            for job_name, tags, partition_key in runs:
                job = defs.resolve_job_def(job_name)
                if partition_key:
                    tags["dagster/partition"] = partition_key
                ok = job.execute_in_process(instance=instance, tags=tags).success
                assert ok, f"{job_name} failed"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM FULL")
                kedah = table_sizes(conn, "kedah")
                dagster_after = table_sizes(conn, "public")
                payload = conn.execute(
                    "SELECT platform, count(*), coalesce(sum(pg_column_size(payload)), 0) FROM kedah.raw_posts"
                    " GROUP BY platform ORDER BY platform"
                ).fetchall()
                real = {
                    p: float(conn.execute("SELECT avg(pg_column_size(x::jsonb)) FROM unnest(%s::text[]) AS x",
                                          (items,)).fetchone()[0])  # type: ignore[index]
                    for p, items in recorded_payloads().items()
                }  # fmt: skip

    posts = kedah["raw_posts"][0]
    per_day = args.posts_per_day or posts / args.days
    print(
        f"\n{posts} posts over {args.days} days ({posts / args.days:.0f} a day); projection at {per_day:.0f} a day\n"
    )
    print(f"{'table':<28}{'rows':>10}{'bytes':>14}{'bytes/post':>12}{'a year':>12}")
    year_total = 0.0
    for name, (rows, size) in sorted(kedah.items(), key=lambda kv: -kv[1][1]):
        scale = (
            (per_day * 365 / posts) if name in PER_POST else (365 / args.days) * (per_day * args.days / posts)
        )
        year = size * scale
        year_total += year
        print(f"kedah.{name:<22}{rows:>10}{size:>14,}{size / posts:>12.0f}{year / 1e6:>10.1f} MB")
    ticks_a_year = 24 * 365
    dagster_tick = sum(dagster_after[t][1] - before.get(t, (0, 0))[1] for t in dagster_after)
    dagster_rows = sum(dagster_after[t][0] - before.get(t, (0, 0))[0] for t in dagster_after)
    grown = sorted(((dagster_after[t][1] - before.get(t, (0, 0))[1], t) for t in dagster_after), reverse=True)
    for size, name in grown[:4]:
        print(f"  dagster {name:<19}{dagster_after[name][0] - before.get(name, (0, 0))[0]:>10}{size:>14,}")
    print(f"{'dagster, 1 hour of automation':<28}{dagster_rows:>10}{dagster_tick:>14,}{'':>12}"
          f"{dagster_tick * ticks_a_year / 1e6:>10.1f} MB")  # fmt: skip

    payload_bytes = sum(int(b) for _, _, b in payload)
    demo_payload = payload_bytes / posts
    real_payload = sum(real.values()) / len(real)
    row_bytes = kedah["raw_posts"][1] / posts
    year_posts = per_day * 365
    without_payload = row_bytes - demo_payload
    print("\npayload JSON per post (PostgreSQL's stored size):")
    for platform, n, b in payload:
        print(f"  {platform:<10} demo {int(b) / n:7.0f} B   recorded-shape {real.get(platform, 0):7.0f} B")
    real_raw_year = (without_payload + real_payload) * year_posts
    kept = min(365, args.retention_days) if args.retention_days > 0 else 365
    capped_raw_year = (without_payload + real_payload * kept / 365) * year_posts
    other_year = year_total - row_bytes * year_posts
    print(f"\nbytes_per_post_raw_posts: {row_bytes:.0f}")
    print(f"bytes_per_post_classified_posts: {kedah['classified_posts'][1] / posts:.0f}")
    print(f"bytes_per_post_all_kedah_tables: {sum(s for _, s in kedah.values()) / posts:.0f}")
    print(f"payload_bytes_per_post_demo: {demo_payload:.0f}")
    print(f"payload_bytes_per_post_recorded_shape: {real_payload:.0f}")
    print(f"dagster_bytes_per_hourly_tick: {dagster_tick}")
    print(f"posts_per_year: {year_posts:.0f}")
    print(f"warehouse_mb_per_year_demo_payloads: {year_total / 1e6:.1f}")
    print(f"warehouse_mb_per_year_recorded_shape_payloads: {(real_raw_year + other_year) / 1e6:.1f}")
    print(f"payload_mb_per_year_recorded_shape: {real_payload * year_posts / 1e6:.1f}")
    print(
        f"payload_mb_held_at_retention_{args.retention_days}_days: {real_payload * per_day * kept / 1e6:.1f}"
    )
    print(f"warehouse_mb_first_year_at_retention: {(capped_raw_year + other_year) / 1e6:.1f}")
    print(f"dagster_mb_per_year: {dagster_tick * ticks_a_year / 1e6:.1f}")


if __name__ == "__main__":
    main()
