"""Classify: sentiment, language, keywords, topics, place, spam and engagement for each post."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import dagster as dg

from assets.common.frames import DataFrame
from assets.common.partitions import date_platform_partitions
from assets.common.retries import retrying_asset
from assets.ingest.assets import RAW_POSTS_FRESHNESS
from kedah_analytics.classify.base import FallbackClassifier, SentimentClassifier
from kedah_analytics.warehouse import ReplaceChunks
from kedah_analytics.warehouse.read import DailyRows, read_days
from resources import PostgresWarehouse, SentimentResource

if TYPE_CHECKING:
    import pandas as pd

# The near-duplicate spam signal compares a post with every platform's posts of its day and the
# day before: a fixed window of the warehouse, so the flag is the same however runs are laid out.
DUPLICATE_WINDOW_DAYS = 1
# Days classified and replaced per transaction in a ranged run.
CHUNK_DAYS = 7


@retrying_asset(
    group_name="classify",
    partitions_def=date_platform_partitions,
    freshness_policy=RAW_POSTS_FRESHNESS,
)
def classified_posts(
    context: dg.AssetExecutionContext,
    raw_posts: DailyRows,
    places: DataFrame,
    sentiment: SentimentResource,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceChunks]:
    """Each post's sentiment label and score (-1..1) with confidence, language, keywords, topics,
    linked place and city, spam score and flag, and engagement rate with its denominator."""
    from kedah_analytics.classify.posts import (  # pandas: loaded by the step
        RAW_COLUMNS_READ,
        SPAM_WINDOW_COLUMNS,
        classify_days,
    )
    from kedah_analytics.places import PlaceLinker

    if places.empty:
        raise dg.Failure("kedah.places is empty: materialize the `places` asset first", allow_retries=False)
    classifier = sentiment.get_classifier(cache_url=warehouse.url)
    linker = PlaceLinker(places)

    def by_chunk() -> Iterator[tuple[tuple[date, ...], DataFrame]]:
        # A week at a time, one transaction each: a year-long run holds a week of posts, not the
        # year, and reads each day's texts for the spam window once per chunk, not once per day.
        for days, raw in raw_posts.by_chunk(CHUNK_DAYS, columns=RAW_COLUMNS_READ):
            with warehouse.connection() as conn:
                window = read_days(
                    conn, "raw_posts", days[0] - timedelta(days=DUPLICATE_WINDOW_DAYS), days[-1],
                    SPAM_WINDOW_COLUMNS,
                )  # fmt: skip
            yield days, classify_days(raw, window, days, linker, classifier, DUPLICATE_WINDOW_DAYS)

    return dg.Output(
        ReplaceChunks(by_chunk(), describe=describe_classified, finish=lambda: _telemetry(classifier)),
        metadata={"classifier": f"{classifier.name} {classifier.version}"},
    )


def describe_classified(classified: DataFrame) -> dict[str, int | float]:
    """A partition's own figures: posts, spam, share linked to a place, and counts by classifier,
    language and sentiment."""
    figures: dict[str, int | float] = {
        "posts": len(classified),
        "spam_posts": int(classified["is_spam"].sum()) if len(classified) else 0,
        "linked_to_place": int(classified["place_id"].notna().sum()) if len(classified) else 0,
    }
    for column, prefix in (("classifier", "by_classifier"), ("language", "language"),
                           ("sentiment_label", "sentiment")):  # fmt: skip
        for value, count in _counts(classified[column]).items() if len(classified) else ():
            figures[f"{prefix}_{value}"] = count
    return figures


def _telemetry(classifier: SentimentClassifier) -> dict[str, Any]:
    if isinstance(classifier, FallbackClassifier):
        return {"classifier_telemetry": dg.MetadataValue.json(classifier.telemetry())}
    return {}


def _counts(values: "pd.Series") -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().items()}
