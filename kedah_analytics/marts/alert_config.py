"""The alert rules' settings (:mod:`kedah_analytics.marts.alert_rules`), apart from the rules so
the code location reads the alerts' input history without loading pandas."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlertConfig:
    cooldown_days: int = 3
    baseline_days: int = 28
    # Days with data among the baseline days before an alert day: with fewer, a "baseline" is a
    # day or two of whatever happened to be collected, and the first days of a fresh install (or
    # of a new source) would alert on noise.
    min_history_days: int = 7
    dip_min_posts: int = 5
    dip_min_baseline_posts: int = 20
    dip_min_drop: float = 0.2
    dip_z: float = 3.0
    top_posts: int = 3

    @property
    def history_days(self) -> int:
        """Days of input before the first alert day: the baseline of each cooldown day."""
        return self.baseline_days + self.cooldown_days
