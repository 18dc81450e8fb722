"""Classify: sentiment, language, keywords, topics, place, spam and engagement for each post."""

import dagster as dg
import pandas as pd

from assets.checks import table_check
from assets.ingest import INGEST_RETRY, RAW_POSTS_FRESHNESS
from assets.partitions import date_platform_partitions
from kedah_analytics.classify.base import FallbackClassifier
from kedah_analytics.classify.posts import classify_posts
from kedah_analytics.places import PlaceLinker
from kedah_analytics.warehouse import ReplaceRows, checks
from resources import PostgresWarehouse, SentimentResource


@dg.asset(
    group_name="classify",
    kinds={"postgres", "python"},
    partitions_def=date_platform_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=INGEST_RETRY,
    freshness_policy=RAW_POSTS_FRESHNESS,
)
def classified_posts(
    context: dg.AssetExecutionContext,
    raw_posts: pd.DataFrame,
    places: pd.DataFrame,
    sentiment: SentimentResource,
    warehouse: PostgresWarehouse,
) -> dg.Output[ReplaceRows]:
    """Each post's sentiment label and score (-1..1) with confidence, language, keywords, topics,
    linked place and city, spam score and flag, and engagement rate with its denominator."""
    if places.empty:
        raise dg.Failure("kedah.places is empty: materialize the `places` asset first")
    classifier = sentiment.get_classifier(cache_url=warehouse.url)
    classified = classify_posts(raw_posts, PlaceLinker(places), classifier)
    linked = classified["place_id"].notna().mean() if len(classified) else 0.0
    telemetry = classifier.telemetry() if isinstance(classifier, FallbackClassifier) else {}
    return dg.Output(
        ReplaceRows(classified),
        metadata={
            "classifier": f"{classifier.name} {classifier.version}",
            "classified_by": dg.MetadataValue.json(_counts(classified["classifier"])),
            "classifier_telemetry": dg.MetadataValue.json(telemetry),
            "posts": len(classified),
            "spam_posts": int(classified["is_spam"].sum()) if len(classified) else 0,
            "linked_to_place_share": round(float(linked), 4),
            "languages": dg.MetadataValue.json(_counts(classified["language"])),
            "sentiment": dg.MetadataValue.json(_counts(classified["sentiment_label"])),
        },
    )


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().items()}


classified_posts_keys_unique = table_check(
    classified_posts, "classified_posts_keys_unique", "No two rows share (platform, post_id).",
    checks.duplicate_keys, "classified_posts", ["platform", "post_id"], blocking=True,
)  # fmt: skip
classified_posts_scores_in_range = table_check(
    classified_posts, "classified_posts_scores_in_range", "Scores, confidences and rates within their ranges.",
    checks.classified_scores_in_range, blocking=True,
)  # fmt: skip
classified_posts_place_link_share = table_check(
    classified_posts, "classified_posts_place_link_share",
    "At least half the non-spam posts of the checked partitions name a place.",
    checks.place_link_share, severity=dg.AssetCheckSeverity.WARN,
)  # fmt: skip
