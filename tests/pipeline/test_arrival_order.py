"""A day's derived rows do not depend on the order its platforms arrive in.

The near-duplicate spam signal compares a post with every platform's posts of its day and the day
before, so a platform classified before the others are stored sees fewer copies. Each platform is
collected and classified by the real `collect_posts` job (demo sources), one platform after the
other; after each run the `cross_platform_spam` sensor is evaluated as the daemon would and the
runs it asks for are executed; then the day's metrics and term counts are built. The orders
classify each platform after each set of the others (``covering_orders``: 12 orders reach the 32
states that all 24 reach), and every one must give byte-identical classified posts, daily place
metrics and term counts.
"""

from __future__ import annotations

from datetime import date
from itertools import combinations, permutations

import dagster as dg
import psycopg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from databases import empty_warehouse
from demo_resources import demo_resources

from assets.classify.automation import contiguous_runs, cross_platform_spam
from assets.common.runs import range_tags
from kedah_analytics.definitions import defs, post_runs
from kedah_analytics.domain import PLATFORMS
from resources import PostgresWarehouse, SentimentResource

DAYS = (date(2026, 11, 10), date(2026, 11, 11))
DERIVED = ("classified_posts", "place_daily_metrics", "term_daily_counts", "term_hourly_counts")


def resources(url: str) -> dict:
    # The lexicon classifier: sentiment is not what differs between orders, and it loads at once.
    return demo_resources(url, sentiment=SentimentResource(classifier="lexicon"))


def bound(url: str) -> dg.Definitions:
    return dg.Definitions(
        assets=list(defs.assets), jobs=list(defs.jobs), sensors=list(defs.sensors), resources=resources(url)
    )


def execute(definitions: dg.Definitions, instance, job: str, **kwargs) -> None:
    result = definitions.resolve_job_def(job).execute_in_process(
        instance=instance, raise_on_error=False, **kwargs
    )
    assert result.success, job


def follow_sensor(
    definitions: dg.Definitions, instance, url: str, cursor: str | None
) -> tuple[str | None, int]:
    """Evaluate `cross_platform_spam` as the daemon would and run what it asks for."""
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"warehouse": PostgresWarehouse(url=url)},
        definitions=definitions,
    )
    data = cross_platform_spam.evaluate_tick(context)
    for request in data.run_requests or []:
        execute(
            definitions, instance, "classify_posts", partition_key=request.partition_key, tags=request.tags
        )
    return data.cursor, len(data.run_requests or [])


def load_in_order(url: str, order: tuple[str, ...], follow: bool = True) -> tuple[dict[str, str], int]:
    """Empty warehouse; collect and classify each platform of DAYS in ``order``; build the days'
    metrics and term counts. The hashes of the derived tables, and the re-classification runs."""
    empty_warehouse(url)
    definitions = bound(url)
    reclassified = 0
    with dg.DagsterInstance.ephemeral() as instance:
        execute(definitions, instance, "refresh_places")
        cursor = None
        for platform in order:
            tags = range_tags(f"{DAYS[0]}|{platform}", f"{DAYS[-1]}|{platform}")
            execute(definitions, instance, "collect_posts", tags=tags)
            if follow:
                cursor, runs = follow_sensor(definitions, instance, url, cursor)
                reclassified += runs
        execute(definitions, instance, "daily_metrics", tags=range_tags(str(DAYS[0]), str(DAYS[-1])))
    return table_hashes(url), reclassified


def table_hashes(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
                f"FROM kedah.{table} t"
            ).fetchone()[0]
            for table in DERIVED
        }


@pytest.fixture(scope="module")
def reference(pg_url: str) -> dict[str, str]:
    """Every platform's raw posts stored first, then classified and aggregated: the rows a
    function of the days' final inputs gives."""
    empty_warehouse(pg_url)
    definitions = bound(pg_url)
    with dg.DagsterInstance.ephemeral() as instance:
        execute(definitions, instance, "refresh_places")
        for platform in PLATFORMS:
            tags = range_tags(f"{DAYS[0]}|{platform}", f"{DAYS[-1]}|{platform}")
            result = dg.materialize(
                list(defs.assets), selection=["raw_posts"], resources=resources(pg_url), instance=instance,
                tags=tags,
            )  # fmt: skip
            assert result.success
        for platform in PLATFORMS:
            tags = range_tags(f"{DAYS[0]}|{platform}", f"{DAYS[-1]}|{platform}")
            execute(definitions, instance, "classify_posts", tags=tags)
        execute(definitions, instance, "daily_metrics", tags=range_tags(str(DAYS[0]), str(DAYS[-1])))
    return table_hashes(pg_url)


def test_without_the_follow_up_the_first_platform_misses_the_others_copies(pg_url, reference):
    # The mechanism is needed: classified before the other platforms, the demo day's cross-platform
    # copies go unflagged on the first platform.
    hashes, _ = load_in_order(pg_url, tuple(PLATFORMS), follow=False)
    assert hashes["classified_posts"] != reference["classified_posts"]


def covering_orders(platforms: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Orders in which each platform is classified after each set of the others (32 states for
    four platforms), in 12 orders rather than all 24.

    A platform's classified rows depend on which platforms were stored before it (its spam window),
    not on the order those arrived in; all 24 orders repeat these states. For each first two
    platforms (a, b) and the other two (c, d) in PLATFORMS' order: (a, b, c, d) and (b, a, d, c)."""
    orders = []
    for a, b in combinations(platforms, 2):
        c, d = (p for p in platforms if p not in (a, b))
        orders += [(a, b, c, d), (b, a, d, c)]
    return orders


def test_the_covering_orders_reach_every_state_a_platform_is_classified_in():
    orders = covering_orders(PLATFORMS)
    states = {(order[i], frozenset(order[:i])) for order in orders for i in range(len(order))}
    assert len(orders) == 12 and len(states) == len(PLATFORMS) * 2 ** (len(PLATFORMS) - 1)
    reached = {(o[i], frozenset(o[:i])) for o in permutations(PLATFORMS) for i in range(len(PLATFORMS))}
    assert states == reached


@pytest.mark.parametrize("order", covering_orders(PLATFORMS), ids="-".join)
def test_every_arrival_order_gives_the_same_derived_rows(pg_url, reference, order):
    hashes, _ = load_in_order(pg_url, order)
    assert hashes == reference


def test_stale_days_of_a_platform_are_reclassified_in_one_ranged_run():
    stale = [
        (date(2026, 11, 11), "twitter", 2),
        (date(2026, 11, 10), "twitter", 1),
        (date(2026, 11, 13), "twitter", 4),
        (date(2026, 11, 10), "youtube", 3),
    ]
    assert contiguous_runs(stale) == [
        ("twitter", date(2026, 11, 10), date(2026, 11, 11), 3),
        ("twitter", date(2026, 11, 13), date(2026, 11, 13), 4),
        ("youtube", date(2026, 11, 10), date(2026, 11, 10), 3),
    ]


def test_the_sensor_asks_for_ranged_runs_of_one_platform(pg_url):
    # Every platform collected and classified one after another: the first ones' days are stale,
    # and each request is a range of one platform's days (contiguous_runs above), not a partition.
    empty_warehouse(pg_url)
    definitions = bound(pg_url)
    with dg.DagsterInstance.ephemeral() as instance:
        execute(definitions, instance, "refresh_places")
        for platform in PLATFORMS:
            tags = range_tags(f"{DAYS[0]}|{platform}", f"{DAYS[-1]}|{platform}")
            execute(definitions, instance, "collect_posts", tags=tags)
        context = dg.build_sensor_context(
            instance=instance, resources={"warehouse": PostgresWarehouse(url=pg_url)}, definitions=definitions
        )
        requests = cross_platform_spam.evaluate_tick(context).run_requests or []
    assert requests
    for request in requests:
        start, end = (
            request.tags[ASSET_PARTITION_RANGE_START_TAG],
            request.tags[ASSET_PARTITION_RANGE_END_TAG],
        )
        assert request.partition_key is None and start.split("|")[1] == end.split("|")[1] and start <= end


def test_the_seed_order_leaves_the_sensor_nothing_to_redo(pg_url, reference):
    """`seed` and `backfill` store every platform's raw posts before classifying any
    (definitions.post_runs): the rows are the reference ones and the sensor asks for no run."""
    empty_warehouse(pg_url)
    definitions = bound(pg_url)
    with dg.DagsterInstance.ephemeral() as instance:
        execute(definitions, instance, "refresh_places")
        for run in post_runs(DAYS[0], DAYS[-1], PLATFORMS):
            execute(definitions, instance, run.job, tags=run.tags,
                    asset_selection=[dg.AssetKey(a) for a in run.assets] or None)  # fmt: skip
        _, asked = follow_sensor(definitions, instance, pg_url, None)
        execute(definitions, instance, "daily_metrics", tags=range_tags(str(DAYS[0]), str(DAYS[-1])))
    assert asked == 0
    assert table_hashes(pg_url) == reference
