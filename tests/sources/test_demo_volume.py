"""KEDAH_DEMO_POSTS_PER_DAY scales the demo volume for benchmarks; unset, the demo data is unchanged."""

from __future__ import annotations

from datetime import date

import pytest

from kedah_analytics.sources.demo.posts import DAILY_VOLUME, demo_items, volume_scale

DAY = date(2026, 3, 4)  # a Wednesday


def test_unset_keeps_the_default_volume() -> None:
    assert volume_scale({}) == 1.0
    assert volume_scale({"KEDAH_DEMO_POSTS_PER_DAY": str(sum(DAILY_VOLUME.values()))}) == 1.0


def test_a_volume_spreads_over_the_platforms_in_the_default_proportions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = {p: len(demo_items(DAY, p)) for p in DAILY_VOLUME}
    monkeypatch.setenv("KEDAH_DEMO_POSTS_PER_DAY", "2000")
    scaled = {p: len(demo_items(DAY, p)) for p in DAILY_VOLUME}
    assert 1800 < sum(scaled.values()) < 2200
    for platform, share in DAILY_VOLUME.items():
        assert scaled[platform] == pytest.approx(
            2000 * share / sum(DAILY_VOLUME.values()), rel=0.25
        )  # Poisson: youtube expects 120
        assert scaled[platform] > default[platform]


def test_a_volume_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="KEDAH_DEMO_POSTS_PER_DAY"):
        volume_scale({"KEDAH_DEMO_POSTS_PER_DAY": "0"})
