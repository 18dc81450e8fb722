"""Google Trends as the registry sees it: no credential, but off until ``KEDAH_GOOGLE_TRENDS=1``
(it goes to the network, so demo mode stays offline)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kedah_analytics.config.settings import GOOGLE_TRENDS
from kedah_analytics.sources.common.providers import SEARCH_INTEREST, Provider, Wiring

if TYPE_CHECKING:
    from kedah_analytics.sources.google_trends.client import GoogleTrendsSource
from kedah_analytics.domain import GOOGLE_TRENDS_PROVIDER


def _switched_on(w: Wiring) -> list[str]:
    on = (GOOGLE_TRENDS.read(w.env) or "").lower() in ("1", "true", "yes", "on")
    return [] if on else [f"{GOOGLE_TRENDS.name} unset"]


def _build(w: Wiring) -> GoogleTrendsSource:
    from kedah_analytics.sources.google_trends.client import GoogleTrendsSource  # loads pytrends, pandas

    return GoogleTrendsSource(w.tracking, **w.options)


GOOGLE_TRENDS_INTEREST = Provider(
    GOOGLE_TRENDS_PROVIDER,
    "google_trends",
    SEARCH_INTEREST,
    (GOOGLE_TRENDS,),
    _build,
    lacks=_switched_on,
)
