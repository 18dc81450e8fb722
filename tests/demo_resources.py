"""The resources a test binds the code location to: the given warehouse, demo sources."""

from __future__ import annotations

from typing import Any

from resources import (
    AccountMetricSources,
    PostgresIOManager,
    PostgresWarehouse,
    PostSources,
    SearchInterestSource,
    SentimentResource,
)


def demo_resources(url: str, **overrides: Any) -> dict[str, Any]:
    """Every resource of the code location on ``url``, sources in demo mode; ``overrides``
    replace single resources (e.g. ``post_sources=...``)."""
    return {
        "io_manager": PostgresIOManager(url=url),
        "warehouse": PostgresWarehouse(url=url),
        "post_sources": PostSources(mode="demo"),
        "sentiment": SentimentResource(),
        "account_metric_sources": AccountMetricSources(mode="demo"),
        "search_interest_source": SearchInterestSource(mode="demo"),
        **overrides,
    }
