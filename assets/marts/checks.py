"""Checks of the marts, one result per day checked: each mart's keys, its totals against its
parents, alerts with evidence."""

import dagster as dg

from assets.common.checks import table_check
from assets.marts.assets import alerts, city_daily_overview, place_rankings, sentiment_by_category, top_posts
from kedah_analytics.quality.marts import mart_checks

MART_ASSETS: dict[str, dg.AssetsDefinition] = {
    "city_daily_overview": city_daily_overview,
    "place_rankings": place_rankings,
    "sentiment_by_category": sentiment_by_category,
    "top_posts": top_posts,
    "alerts": alerts,
}
mart_asset_checks = [
    table_check(MART_ASSETS[check.asset], check.name, check.description, check)
    for check in mart_checks.values()
]
