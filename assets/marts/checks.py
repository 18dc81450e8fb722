"""Checks of the marts: each mart's keys, its totals against its parents, alerts with evidence."""

from typing import Any

import dagster as dg

from assets.marts.assets import alerts, city_daily_overview, place_rankings, sentiment_by_category, top_posts
from kedah_analytics.quality.marts import mart_checks
from resources import PostgresWarehouse


def _make_check(asset: Any, name: str, description: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=name, description=description)
    def _check(warehouse: PostgresWarehouse) -> dg.AssetCheckResult:
        return warehouse.run_check(mart_checks[name])

    return _check


MART_ASSETS = {
    "city_daily_overview": city_daily_overview,
    "place_rankings": place_rankings,
    "sentiment_by_category": sentiment_by_category,
    "top_posts": top_posts,
    "alerts": alerts,
}
mart_asset_checks = [
    _make_check(MART_ASSETS[check.asset], check.name, check.description) for check in mart_checks.values()
]
