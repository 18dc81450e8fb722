"""Google Trends as the registry sees it: no credential, but off until ``KEDAH_GOOGLE_TRENDS=1``
(it goes to the network, so demo mode stays offline)."""

from __future__ import annotations

from kedah_analytics.config.settings import GOOGLE_TRENDS
from kedah_analytics.sources.common.providers import SEARCH_INTEREST, Provider, Wiring
from kedah_analytics.sources.google_trends.client import PROVIDER, GoogleTrendsSource


def _switched_on(w: Wiring) -> list[str]:
    on = (GOOGLE_TRENDS.read(w.env) or "").lower() in ("1", "true", "yes", "on")
    return [] if on else [f"{GOOGLE_TRENDS.name} unset"]


GOOGLE_TRENDS_INTEREST = Provider(
    PROVIDER,
    "google_trends",
    SEARCH_INTEREST,
    (GOOGLE_TRENDS,),
    lambda w: GoogleTrendsSource(w.tracking, **w.options),
    lacks=_switched_on,
)
