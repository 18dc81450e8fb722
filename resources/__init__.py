"""Dagster resources: the Postgres warehouse and IO manager, the sources, the classifier."""

from resources.classifier import SentimentResource, sentiment_from_settings
from resources.io_manager import PostgresIOManager
from resources.sources import AccountMetricSources, PostSources, SearchInterestSource
from resources.warehouse import PostgresWarehouse

__all__ = [
    "AccountMetricSources",
    "PostSources",
    "PostgresIOManager",
    "PostgresWarehouse",
    "SearchInterestSource",
    "SentimentResource",
    "sentiment_from_settings",
]
