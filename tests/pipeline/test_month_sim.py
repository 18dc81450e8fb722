"""Three simulated days of the real schedules and sensors against fake X, Graph, YouTube and
Google Trends APIs that enforce the providers' rules (``bench/bench_month.py`` runs a month).

With the shipped polling intervals no quota is passed, no run fails, X stays within its budget,
and every post a platform's window offered is stored. The world here has no bursts: a burst on X
beyond one page of 100 posts a query in 3 hours is more than the shipped X page limit reads (the
month's bench shows what that costs).
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from month_sim.driver import PLATFORMS, Simulation, run
from source_fakes import forbid_network


def test_three_days_keep_every_quota_and_store_every_offered_post(warehouse_url, monkeypatch):
    forbid_network(monkeypatch)
    lines: list[str] = []
    sim = Simulation(warehouse_url, datetime(2026, 10, 1, tzinfo=UTC), days=3, bursts=0)
    figures = run(sim, log=lines.append)
    report = "\n".join(lines)
    assert figures["quota_breaches"] == 0, report
    assert figures["runs_failed_by_quota"] == 0 and figures["runs_failed"] == 0, report
    assert figures["x_cost_over_budget_days"] == 0, report
    assert figures["completeness_pct"] == 100.0, report
    assert figures["db_bytes_per_post"] > 0
    # Every platform was polled at its own pace: 3 days of 8 X, 24 Instagram, 8 Facebook, 4 YouTube polls.
    assert sum(d.runs for d in sim.per_day.values()) >= 3 * (8 + 24 + 8 + 4)
    calls = {api for (_, api) in sim.ledger.calls}
    assert {"x_requests", "graph_calls", "youtube_search", "youtube_videos", "trends_requests"} <= calls
    # The world's posts are not spam. Instagram's name no author, and every one of them was flagged
    # as a copy of itself from another account until a missing author was one value however read.
    with psycopg.connect(warehouse_url) as conn:
        spam = dict(conn.execute("SELECT platform, avg(is_spam::int) FROM kedah.classified_posts GROUP BY 1"))
    assert set(spam) == set(PLATFORMS) and all(share < 0.2 for share in spam.values()), spam


def test_a_tight_youtube_allowance_defers_youtube_instead_of_failing_it(warehouse_url, monkeypatch):
    """Another app on the same Google project leaves 6 search.list calls a Pacific day: the poll that
    runs out stores what it found and defers, YouTube's ticks are skipped until Pacific midnight,
    and no run fails."""
    forbid_network(monkeypatch)
    lines: list[str] = []
    sim = Simulation(
        warehouse_url, datetime(2026, 10, 1, tzinfo=UTC), days=1, bursts=0, youtube_search_allowance=6
    )
    figures = run(sim, log=lines.append)
    report = "\n".join(lines)
    assert figures["runs_failed"] == 0 and figures["runs_failed_by_quota"] == 0, report
    assert figures["runs_deferred"] >= 1 and figures["ticks_skipped_deferred"] >= 1, report
    # Each deferral costs one refused call (the one that found the allowance spent), no more.
    assert 1 <= figures["quota_breaches"] <= figures["runs_deferred"], report
    with psycopg.connect(warehouse_url) as conn:
        (until,) = conn.execute(
            "SELECT deferred_until FROM kedah.source_deferrals WHERE source = 'youtube'"
        ).fetchone()
    assert until.astimezone(UTC).hour in (7, 8)  # midnight in California (PDT or PST)
