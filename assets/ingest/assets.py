"""Ingest: the places reference table and raw posts from each platform."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dagster as dg

from assets.common.partitions import date_platform_partitions
from assets.common.retries import retrying_asset
from kedah_analytics.config.validate import configuration
from kedah_analytics.domain import PLATFORMS
from kedah_analytics.ingest import PostCollection, PostsFetchFailed
from kedah_analytics.places import load_places
from kedah_analytics.warehouse import MergeChunk, MergeChunks, ReplaceRows
from resources import PostgresWarehouse, PostSources
from resources.run_scope import run_scope

# A freshness policy holds for the whole asset, not per platform: it follows the slowest
# platform's polling interval (YouTube, 6 hours by default), warning 30 minutes after a poll is
# due and failing after an hour.
SLOWEST_POLL = timedelta(
    minutes=max(getattr(configuration().tracking.polling, f"{platform}_minutes") for platform in PLATFORMS)
)
RAW_POSTS_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=SLOWEST_POLL + timedelta(hours=1), warn_window=SLOWEST_POLL + timedelta(minutes=30)
)


@dg.asset(group_name="reference", kinds={"postgres"}, metadata={"dagster/table_name": "kedah.places"})
def places() -> ReplaceRows:
    """Kedah places with their city, district, category, coordinates and English and Malay aliases."""
    return ReplaceRows(load_places())


RAW_POSTS_KEY = ("platform", "post_id")


@retrying_asset(
    group_name="ingest",
    partitions_def=date_platform_partitions,
    freshness_policy=RAW_POSTS_FRESHNESS,
    pool="source_api",
    metadata={"primary_key": list(RAW_POSTS_KEY)},
)
def raw_posts(
    context: dg.AssetExecutionContext, post_sources: PostSources, warehouse: PostgresWarehouse
) -> dg.Output[MergeChunks]:
    """Posts as collected, one row per platform and post id: text, author, engagement counts,
    hashtags, the provider that gave it and the raw payload. Merged: known posts get their latest
    counts and nothing is deleted because a later fetch no longer returns it."""
    configuration = post_sources.describe()
    scope = run_scope(context)
    # Fetched and merged a platform and a week at a time, after this returns (kedah_analytics.ingest).
    collection = PostCollection(
        scope.days_by_platform(), post_sources, warehouse.quarantine, context.log, configuration=configuration
    )
    return dg.Output(
        MergeChunks(
            _failing_clearly(collection.chunks()),
            key=RAW_POSTS_KEY,
            scope=scope,
            run_metadata=lambda: _run_metadata(collection),
        ),
        metadata={"source_configuration": dg.MetadataValue.json(configuration)},
    )


def _failing_clearly(chunks: Iterator[MergeChunk]) -> Iterator[MergeChunk]:
    """A source that fails fails the step in its own words, retried only where that may help."""
    try:
        yield from chunks
    except PostsFetchFailed as exc:
        raise dg.Failure(
            description=str(exc),
            metadata={
                "platform": exc.platform,
                "provider": exc.provider,
                "error_type": type(exc.error).__name__,
            },
            allow_retries=exc.retryable,
        ) from exc.error


def _run_metadata(collection: PostCollection) -> dict[str, Any]:
    # What the run's fetches did, for all its partitions together: run_* names say so (each
    # partition's own rows are recorded on it by the IO manager).
    figures = collection.run_figures()
    return {
        **figures,
        **{k: dg.MetadataValue.json(v) for k, v in figures.items() if isinstance(v, dict)},
    }
