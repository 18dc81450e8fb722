"""The marts in the asset graph, built by a ranged run from demo data: lineage, partitions, checks,
idempotent re-runs, and the period queries and report that read them."""

from datetime import date

import dagster as dg
import pandas as pd
import psycopg
import pytest

from assets.common.runs import range_tags
from kedah_analytics import queries
from kedah_analytics.cli import main
from kedah_analytics.definitions import defs
from kedah_analytics.marts.build import ALL_KEDAH
from kedah_analytics.queries import Period
from kedah_analytics.report import weekly_report
from kedah_analytics.warehouse import read_table
from tests.marts.conftest import FIRST, LAST, bound_defs, run_job

MARTS = ("city_daily_overview", "place_rankings", "sentiment_by_category", "top_posts", "alerts")


def test_marts_sit_downstream_of_classified_posts_and_places_with_daily_partitions_and_checks():
    graph = defs.resolve_asset_graph()
    checked = {
        spec.asset_key.to_user_string() for check in defs.asset_checks or [] for spec in check.check_specs
    }
    for name in MARTS:
        node = graph.get(dg.AssetKey(name))
        upstream = {k.to_user_string() for k in graph.get_ancestor_asset_keys(dg.AssetKey(name))}
        assert {"classified_posts", "places"} <= upstream, name
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition)
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
        assert name in checked
        assert node.metadata["dagster/column_schema"].columns and all(
            c.description for c in node.metadata["dagster/column_schema"].columns
        )
        assert node.description and "\n" not in node.description.strip()
    # rankings read the 28 days before their day; alerts a month more of hourly counts
    mapped = graph.get_parent_partition_keys_for_child(
        "2026-11-20",
        parent_asset_key=dg.AssetKey("place_daily_metrics"),
        child_asset_key=dg.AssetKey("place_rankings"),
    ).partitions_subset.get_partition_keys()
    assert min(mapped) == "2026-10-23" and max(mapped) == "2026-11-20"


def _tables(url: str) -> dict[str, pd.DataFrame]:
    out = {}
    with psycopg.connect(url) as conn:
        for name in MARTS:
            frame = read_table(conn, name)
            keys = [
                c
                for c in ("date", "city", "platform", "place_id", "provider", "rank", "alert_id")
                if c in frame
            ]
            out[name] = frame.sort_values(keys).reset_index(drop=True)
    return out


def test_a_ranged_run_fills_every_day_and_a_rerun_gives_the_same_rows(demo_warehouse):
    before = _tables(demo_warehouse)
    days = pd.date_range(FIRST, LAST).date.tolist()
    for name in ("city_daily_overview", "place_rankings", "sentiment_by_category", "top_posts"):
        assert sorted(set(before[name]["date"])) == days, name
        assert set(before[name]["provider"]) == {"demo"}
    with psycopg.connect(demo_warehouse) as conn:
        metrics = read_table(conn, "place_daily_metrics")
    overview = before["city_daily_overview"]
    kedah = overview[(overview["city"] == ALL_KEDAH) & (overview["platform"] == "all")]
    assert kedah["posts"].sum() == metrics["posts"].sum() > 0
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            bound_defs(demo_warehouse), "build_marts", instance, tags=range_tags("2026-11-21", LAST)
        )
        evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    after = _tables(demo_warehouse)
    for name in MARTS:
        pd.testing.assert_frame_equal(before[name], after[name], check_like=True)
    # Each day of the ranged run lists its own figures first, then the run's, all named run_*.
    rankings = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key.path == ["place_rankings"]
    ]
    assert len(rankings) == len(pd.date_range("2026-11-21", LAST))
    for materialization in rankings:
        metadata = materialization.metadata
        names = list(metadata)
        assert names[0] == "dagster/partition_row_count" and "rows" not in names
        assert names.index("top_places") < min(i for i, n in enumerate(names) if n.startswith("run_"))
        day = before["place_rankings"][
            before["place_rankings"]["date"].astype(str) == materialization.partition
        ]
        assert metadata["dagster/partition_row_count"].value == len(day)
        assert isinstance(metadata["top_places"], dg.JsonMetadataValue)
        assert metadata["top_places"].value == sorted(set(day.loc[day["rank_engagement"] == 1, "place_name"]))
        assert metadata["run_rows_written"].value == sum(
            (before["place_rankings"]["date"].astype(str) == str(d)).sum()
            for d in pd.date_range("2026-11-21", LAST).date
        )


def test_last_n_days_against_the_n_before_in_one_call(demo_warehouse):
    with queries.connect(demo_warehouse) as conn:
        week = queries.city_overview(conn, "Langkawi", "2026-W47", include_demo=True).set_index("metric")
        real_only = queries.city_overview(conn, "Langkawi", "2026-W47").set_index("metric")
        days = queries.city_daily(conn, Period.week("2026-W46"), "Langkawi", include_demo=True)
        ranking = queries.place_ranking(conn, "2026-W47", "Langkawi", include_demo=True)
        categories = queries.sentiment_by_category(conn, "2026-W47", include_demo=True)
        platforms = queries.platform_breakdown(conn, "Langkawi", "2026-W47", include_demo=True)
    assert real_only.loc["posts", "current"] == 0  # demo rows are out unless asked for
    assert week.loc["posts", "previous"] == days["posts"].sum()
    # The marts begin on 2026-11-13: W46 is only 3 of 7 days there, so W47 shows no change, and says why.
    assert pd.isna(week.loc["likes", "change_pct"])
    assert week.loc["likes", "change_note"] == "no change: the warehouse holds only 3 of the 7 days before"
    with queries.connect(demo_warehouse) as conn:
        covered = queries.city_overview(conn, "Langkawi", "2026-11-18..2026-11-22", include_demo=True)
    covered = covered.set_index("metric")
    current, previous = covered.loc["likes", "current"], covered.loc["likes", "previous"]
    assert covered.loc["likes", "change_pct"] == pytest.approx(
        (current - previous) / previous * 100, abs=0.01
    )
    assert ranking["rank"].tolist() == list(range(1, len(ranking) + 1)) and set(ranking["city"]) == {
        "Langkawi"
    }
    assert ranking["engagement"].is_monotonic_decreasing
    assert categories["posts"].sum() == week.loc["posts", "current"] + queries_other_cities(demo_warehouse)
    assert platforms["posts"].sum() == week.loc["posts", "current"]
    assert set(platforms.loc[platforms["posts"] > 0, "platform"]) == {"twitter", "instagram"}


def queries_other_cities(url: str) -> int:
    with queries.connect(url) as conn:
        overview = queries.city_daily(conn, "2026-W47", None, include_demo=True)
    return int(overview.loc[~overview["city"].isin([ALL_KEDAH, "Langkawi"]), "posts"].sum())


def test_the_weekly_report_is_one_page_with_figures_tables_and_a_demo_banner(
    demo_warehouse, tmp_path, monkeypatch
):
    with queries.connect(demo_warehouse) as conn:
        report = weekly_report(conn, "Langkawi", Period.week("2026-W47"))
    assert report.data == "demo" and "demo data" in report.html
    assert report.html.count("data:image/png;base64,") == 5
    for heading in ("Top places", "Top posts", "Alerts", "on the previous period"):
        assert heading in report.html
    top = report.sections["ranking"].iloc[0]
    assert top["place_name"] in report.html
    monkeypatch.setenv("KEDAH_PG_URL", demo_warehouse)
    out = tmp_path / "report.html"
    assert main(["report", "--city", "Langkawi", "--week", "2026-W47", "--out", str(out)]) == 0
    assert out.read_text().startswith("<!doctype html>")
    assert main(["report", "--city", "Langkawi", "--week", "2026-W99", "--out", str(out)]) == 2


def test_alerts_of_the_demo_weeks_each_explain_themselves(demo_warehouse):
    with queries.connect(demo_warehouse) as conn:
        raised = queries.alerts(conn, Period(date(2026, 11, 13), date(2026, 11, 22)), include_demo=True)
    for _, alert in raised.iterrows():
        assert alert["top_posts"] and alert["message"].startswith("Kedah Analytics alert")
        assert alert["provider"] == "demo" and "[demo data]" in alert["message"]
