"""A warehouse of its own, filled with two weeks of demo data through the real Dagster jobs, for
the marts, report and notebook tests (other tests empty the session database between tests)."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
from databases import new_database, seeded_database
from demo_resources import demo_resources

from assets.common.runs import range_tags
from kedah_analytics.definitions import defs

FIRST, LAST = "2026-11-13", "2026-11-22"  # the end of ISO week 2026-W46 and all of 2026-W47
PLATFORMS = ("twitter", "instagram")


def bound_defs(url: str) -> dg.Definitions:
    return dg.Definitions(
        assets=list(defs.assets or []),
        asset_checks=list(defs.asset_checks or []),
        jobs=list(defs.jobs or []),
        resources=demo_resources(url),
    )


def run_job(
    bound: dg.Definitions, name: str, instance: dg.DagsterInstance, **kwargs
) -> dg.ExecuteInProcessResult:
    result = bound.resolve_job_def(name).execute_in_process(instance=instance, **kwargs)
    assert result.success
    return result


def seed_demo(url: str) -> None:
    """Two weeks of demo posts of two platforms, classified, aggregated and built into the marts."""
    bound = bound_defs(url)
    with dg.DagsterInstance.ephemeral() as instance:
        run_job(bound, "refresh_places", instance)
        for platform in PLATFORMS:
            run_job(bound, "collect_posts", instance,
                    tags=range_tags(f"{FIRST}|{platform}", f"{LAST}|{platform}"))  # fmt: skip
        run_job(bound, "daily_metrics", instance, tags=range_tags(FIRST, LAST))
        run_job(bound, "build_marts", instance, tags=range_tags(FIRST, LAST))


@pytest.fixture(scope="session")
def demo_warehouse(pg_server_url: str, pg_url: str) -> Iterator[str]:
    """A copy of its own of the seeded demo warehouse (:func:`seed_demo`), seeded once a session."""
    with seeded_database(pg_server_url, "kedah_marts", seed_demo) as url:
        yield url


@pytest.fixture(scope="module")
def empty_warehouse(pg_server_url: str) -> Iterator[str]:
    """Migrated, with nothing in it: what the board sees before anything was collected."""
    with new_database(pg_server_url, "kedah_empty") as url:
        yield url
