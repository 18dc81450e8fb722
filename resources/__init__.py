"""Dagster resources: the Postgres warehouse and IO manager, post sources, the classifier."""

from resources.classifier import SentimentResource
from resources.sources import PostSources
from resources.warehouse import PostgresIOManager, PostgresWarehouse

__all__ = ["PostSources", "PostgresIOManager", "PostgresWarehouse", "SentimentResource"]
