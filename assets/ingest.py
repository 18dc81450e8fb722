"""Ingest: the places reference table and raw posts from each platform."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pandas as pd

from assets.checks import table_check
from assets.partitions import date_platform_partitions, days_by_platform
from assets.retries import TRANSIENT_RETRY, retry_only_transient
from kedah_analytics.domain import DEMO_PROVIDER
from kedah_analytics.places import load_places
from kedah_analytics.sources.base import SourceError, telemetry_metadata
from kedah_analytics.sources.failures import day_span, source_failure_message
from kedah_analytics.sources.frames import posts_frame
from kedah_analytics.warehouse import MergeRows, ReplaceRows, checks
from kedah_analytics.warehouse.sanitize import screen_posts
from resources import PostgresWarehouse, PostSources

RAW_POSTS_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=3), warn_window=timedelta(hours=2)
)


@dg.asset(group_name="reference", kinds={"postgres"}, metadata={"dagster/table_name": "kedah.places"})
def places() -> ReplaceRows:
    """Kedah places with their city, district, category, coordinates and English and Malay aliases."""
    return ReplaceRows(load_places())


RAW_POSTS_KEY = ("platform", "post_id")


@dg.asset(
    group_name="ingest",
    kinds={"postgres", "python"},
    partitions_def=date_platform_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=TRANSIENT_RETRY,
    freshness_policy=RAW_POSTS_FRESHNESS,
    pool="source_api",
    metadata={"primary_key": list(RAW_POSTS_KEY)},
)
@retry_only_transient
def raw_posts(
    context: dg.AssetExecutionContext, post_sources: PostSources, warehouse: PostgresWarehouse
) -> dg.Output[MergeRows]:
    """Posts as collected, one row per platform and post id: text, author, engagement counts,
    hashtags, the provider that gave it and the raw payload. Merged: known posts get their latest
    counts and nothing is deleted because a later fetch no longer returns it."""
    fetched_at = datetime.now(UTC)
    configuration = post_sources.describe()
    frames, providers, telemetry = [], {}, {}
    cursors: dict[str, dict[str, str]] = {}
    for platform, days in days_by_platform(context.partition_keys).items():
        source = post_sources.source_for(platform)
        known_cursors = post_sources.cursors_for(source)
        context.log.info(
            f"{platform}: fetching {day_span(days)} from {source.provider} ({configuration[platform]})"
        )
        try:
            result = source.fetch_posts(platform, days, known_cursors)
        except SourceError as exc:
            raise dg.Failure(
                description=source_failure_message(f"{platform} posts", days, source.provider, exc),
                metadata={
                    "platform": platform,
                    "provider": source.provider,
                    "error_type": type(exc).__name__,
                },
                allow_retries=exc.retryable,
            ) from exc
        # The storage boundary: every post stored with storable values, or quarantined alone.
        screened = screen_posts(result.posts, platform, result.provider, now=fetched_at)
        if screened.sanitized.values:
            context.log.warning(
                f"{platform}: repaired {screened.sanitized.values} unstorable value(s) (NUL, lone "
                f"surrogates, NaN) in {sorted(screened.sanitized.fields)}"
            )
        frame, outside = posts_frame(screened.posts, fetched_at, days)
        quarantined = warehouse.quarantine(
            "raw_posts", f"{days[0]}..{days[-1]}|{platform}", [*result.quarantined, *screened.quarantined]
        )
        if quarantined:
            context.log.warning(
                f"{platform}: quarantined {quarantined} malformed item(s) in kedah.quarantine"
            )
        frames.append(frame)
        providers[platform] = result.provider
        if result.cursors:
            cursors[result.provider] = result.cursors
        telemetry[platform] = {
            **telemetry_metadata(result.telemetry, result.provider),
            "posts_fetched": len(result.posts),
            "posts_outside_partitions": outside,
            "quarantined": quarantined,
            "values_sanitized": screened.sanitized.values,
            "cursors_used": len(known_cursors or {}),
        }
    posts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return dg.Output(
        MergeRows(posts, key=RAW_POSTS_KEY, provider_by_platform=providers, cursors=cursors),
        # What the run's fetches did, for all its partitions together: run_* names say so (each
        # partition's own rows are recorded on it by the IO manager).
        metadata={
            "providers": ", ".join(f"{p}: {v}" for p, v in providers.items()),
            "demo_data": any(v == DEMO_PROVIDER for v in providers.values()),
            "run_quarantined": sum(t["quarantined"] for t in telemetry.values()),
            "run_values_sanitized": sum(t["values_sanitized"] for t in telemetry.values()),
            "run_api_calls": sum(t["api_calls"] for t in telemetry.values()),
            "run_rate_limit_waits": sum(t["rate_limit_waits"] for t in telemetry.values()),
            "run_telemetry": dg.MetadataValue.json(telemetry),
            "source_configuration": dg.MetadataValue.json(configuration),
        },
    )


places_keys_unique = table_check(
    places,
    "places_keys_unique",
    "No two places share a place_id.",
    checks.duplicate_keys,
    "places",
    ["place_id"],
)
raw_posts_keys_unique = table_check(
    raw_posts, "raw_posts_keys_unique", "No two rows share (platform, post_id).",
    checks.duplicate_keys, "raw_posts", list(RAW_POSTS_KEY), blocking=True,
)  # fmt: skip
raw_posts_required_fields = table_check(
    raw_posts, "raw_posts_required_fields", "Text present, counts >= 0, each post under its Kedah day.",
    checks.raw_posts_required_fields, blocking=True,
)  # fmt: skip
