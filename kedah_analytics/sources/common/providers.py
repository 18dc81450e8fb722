"""What a provider declares about itself, so the registry can wire it without knowing it.

Each provider package (``twitter/``, ``meta/``, ``youtube/``, ``google_trends/``) states, in its
``provider.py``, one :class:`Provider` per API it serves: its name, platform and kind, the
settings (``kedah_analytics.config.settings``) that configure it, the tracking fields it cannot
do without, and how it is built from a :class:`Wiring`. ``sources/registry.py`` lists them, one
line each, and derives everything else (which platforms are real, the status lines, the variables
a failure message names) from these declarations.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kedah_analytics.config.settings import Setting
from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.sources.common.budget import DailyCounter
from kedah_analytics.sources.common.clock import Clock, Sleep, utcnow
from kedah_analytics.sources.common.secrets import Secret

if TYPE_CHECKING:
    import requests

    from kedah_analytics.sources.meta.instagram import HashtagLedger

POSTS = "posts"
ACCOUNT_METRICS = "account_metrics"
SEARCH_INTEREST = "search_interest"


@dataclass(frozen=True)
class Wiring:
    """What providers are built from: the environment (read through its settings), the tracking
    file, the state kept between runs (in memory when None), and the client hooks tests replace."""

    env: Mapping[str, str]
    tracking: TrackingConfig
    session_factory: Callable[[], requests.Session | None] = lambda: None
    hashtag_ledger: HashtagLedger | None = None
    youtube_search_budget: DailyCounter | None = None
    x_read_budget: DailyCounter | None = None
    youtube_http: Any = None
    clock: Clock = utcnow
    sleep: Sleep = time.sleep
    # Keyword arguments for one kind of source only (e.g. the Google Trends cache and pacer).
    options: Mapping[str, Any] = field(default_factory=dict)

    def value(self, setting: Setting) -> str:
        return setting.read(self.env) or ""

    def secret(self, setting: Setting) -> Secret | None:
        """The setting as a :class:`Secret` that shows only its name, or None when unset."""
        value = self.value(setting)
        return Secret(value, setting.name) if value else None

    def required_secret(self, setting: Setting) -> Secret:
        """A secret a factory is only built with once :meth:`Provider.missing` found it set."""
        secret = self.secret(setting)
        if secret is None:
            raise RuntimeError(f"a source factory was called without {setting.name}")
        return secret


@dataclass(frozen=True)
class Provider:
    """One provider's declaration (see the module docstring)."""

    name: str
    platform: str
    kind: str
    # The variables that configure it: named in failure messages, never their values.
    settings: tuple[Setting, ...]
    build: Callable[[Wiring], Any]
    # Tracking fields that must not be empty, by their name in the tracking file.
    tracking: Mapping[str, Callable[[TrackingConfig], object]] = field(default_factory=dict)
    # What it lacks, when that is more than "every setting set" (either-or credentials).
    lacks: Callable[[Wiring], list[str]] | None = None

    def missing(self, wiring: Wiring) -> list[str]:
        """What the provider still needs, in words naming variables and fields; empty: configured."""
        if self.lacks is not None:
            lacking = self.lacks(wiring)
        else:
            lacking = [f"{s.name} unset" for s in self.settings if not s.is_set(wiring.env)]
        lacking += [
            f"{name} (tracking) empty" for name, get in self.tracking.items() if not get(wiring.tracking)
        ]
        return lacking
