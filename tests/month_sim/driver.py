"""Drive the project's real schedules and sensors over simulated days against the fake APIs.

At every tick of the collection and insights schedules (Dagster's own cron iteration) the
simulated clock moves to the tick, the schedule is evaluated by Dagster (``evaluate_tick``) and
its run requests are executed in-process on the real jobs, with the real sources built by the
resources and only their transports, clock and sleep replaced. After each tick the
``cross_platform_spam`` sensor is evaluated and its runs executed; each failed run goes through
the real ``report_failed_runs`` sensor (its alert counted). Metrics, trends and marts make no API
calls and are not driven here.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from dagster._utils.schedules import schedule_execution_time_iterator
from source_fakes import serve_pytrends

from month_sim.fakes import X_POST_USD, FakeApis, FakeYouTubeHttp, Ledger, SimClock
from month_sim.world import FACEBOOK_PAGES, KEDAH, World

PLATFORMS = ("twitter", "instagram", "facebook", "youtube")
SCHEDULES = ("twitter_collection", "instagram_collection", "facebook_collection", "youtube_collection",
             "daily_account_metrics", "daily_search_interest")  # fmt: skip
TRACKING = f"facebook:\n  page_ids: [{', '.join(repr(p) for p in FACEBOOK_PAGES)}]\n"
# A run that ran out of a quota stores what it read and says so (quota_exhausted, deferred_until);
# the source's schedule then skips its ticks until the reset.
DEFERRED = re.compile(r"(x_budget_stopped|quota_exhausted)['\"]?\s*[:=]\s*true|deferred_until")
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
QUOTA_WORDS = ("quota", "budget", "rate limit", "429", "too many requests", "request limit")


@dataclass
class Day:
    calls: Counter[str] = field(default_factory=Counter)
    runs: int = 0
    failed: int = 0
    failed_by_quota: int = 0
    deferred: int = 0
    alerts: int = 0
    skipped: int = 0  # ticks a schedule skipped because its source was deferred
    db_bytes: int = 0


@dataclass
class Simulation:
    """One simulated stretch of days: the world, the fakes, their ledger, and what the runs did."""

    url: str
    start: datetime
    days: int
    x_daily_post_reads: int = 2000
    bursts: int = 3
    # search.list calls a Pacific day the fake YouTube allows: below 100 stands for another app on
    # the same Google project spending the rest (a tight configuration that reaches the quota).
    youtube_search_allowance: int = 100
    world: World | None = None
    clock: SimClock = field(init=False)
    ledger: Ledger = field(default_factory=Ledger)
    per_day: dict[date, Day] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    last_poll: dict[str, datetime] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.clock = SimClock(self.start)

    def hooks(self) -> dict[str, Any]:
        from kedah_analytics.sources.google_trends.client import Pacer

        assert self.apis is not None
        return {
            "session_factory": self.apis.session, "youtube_http": self.youtube, "clock": self.clock,
            "sleep": self.clock.sleep, "pacer": Pacer(60, monotonic=self.clock.monotonic, sleep=self.clock.sleep),
        }  # fmt: skip

    apis: FakeApis | None = None
    youtube: FakeYouTubeHttp | None = None


_ACTIVE: list[Simulation] = []


def _active() -> Simulation:
    return _ACTIVE[-1]


def _resources(url: str) -> dict[str, Any]:
    from resources import (
        AccountMetricSources,
        PostgresIOManager,
        PostgresWarehouse,
        PostSources,
        SearchInterestSource,
        SentimentResource,
    )

    class SimPostSources(PostSources):
        def environment(self) -> Mapping[str, str]:
            return _active().env

        def client_hooks(self) -> dict[str, Any]:
            return _active().hooks()

    class SimAccountMetricSources(AccountMetricSources):
        def environment(self) -> Mapping[str, str]:
            return _active().env

        def client_hooks(self) -> dict[str, Any]:
            hooks = _active().hooks()
            hooks.pop("youtube_http")  # no YouTube Analytics credentials in the simulation
            return hooks

    class SimSearchInterestSource(SearchInterestSource):
        def environment(self) -> Mapping[str, str]:
            return _active().env

        def client_hooks(self) -> dict[str, Any]:
            return _active().hooks()

    return {
        "io_manager": PostgresIOManager(url=url), "warehouse": PostgresWarehouse(url=url),
        "post_sources": SimPostSources(url=url), "account_metric_sources": SimAccountMetricSources(),
        "search_interest_source": SimSearchInterestSource(url=url),
        "sentiment": SentimentResource(classifier="lexicon"),
    }  # fmt: skip


@contextmanager
def _trends_transport(apis: FakeApis) -> Iterator[None]:
    """pytrends opens its own ``requests`` sessions: its module's ``requests`` is the hook."""
    with pytest.MonkeyPatch.context() as patch:
        serve_pytrends(patch, apis)  # type: ignore[arg-type]
        yield


def ticks(schedule: dg.ScheduleDefinition, start: datetime, end: datetime) -> Iterator[datetime]:
    for tick in schedule_execution_time_iterator(
        start.timestamp(), schedule.cron_schedule, str(schedule.execution_timezone)
    ):
        if tick >= end:
            return
        yield tick.astimezone(UTC)


def run(sim: Simulation, log: Callable[[str], None] = print) -> dict[str, float]:
    """Simulate ``sim.days`` days from ``sim.start``; the closing figures (also printed)."""
    from kedah_analytics.config.tracking import load_tracking
    from kedah_analytics.config.validate import x_query_count
    from kedah_analytics.definitions import defs
    from kedah_analytics.sources.twitter.search import build_search_queries

    tracking_file = Path(tempfile.mkdtemp(prefix="month_sim_")) / "tracking.yaml"
    tracking_file.write_text(TRACKING, encoding="utf-8")
    sim.env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KEDAH_")}, "KEDAH_PG_URL": sim.url,
        "KEDAH_X_BEARER_TOKEN": "sim-x-bearer", "KEDAH_META_ACCESS_TOKEN": "EAAGsimulatedMetaToken0123456789",
        "KEDAH_IG_USER_ID": "17841400008460056", "KEDAH_YOUTUBE_API_KEY": "sim-youtube-key",
        "KEDAH_GOOGLE_TRENDS": "1", "KEDAH_TRACKING_FILE": str(tracking_file),
        "KEDAH_X_DAILY_POST_READS": str(sim.x_daily_post_reads),
    }  # fmt: skip
    tracking = load_tracking(sim.env)
    queries = build_search_queries(
        tracking.place_terms, tracking.hashtags, max_length=tracking.twitter.max_query_length
    )
    assert len(queries) == x_query_count(tracking)
    x_terms = tuple(
        t for t in (*tracking.place_terms, *tracking.hashtags) if any(t.lower() in q.lower() for q in queries)
    )
    end = sim.start + timedelta(days=sim.days)
    sim.world = sim.world or World(
        sim.start - timedelta(days=1),
        end,
        x_terms,
        tracking.instagram.hashtags,
        tracking.youtube.queries,
        burst_count=sim.bursts,
    )
    sim.apis = FakeApis(sim.world, sim.clock, sim.ledger, queries)
    sim.youtube = FakeYouTubeHttp(sim.world, sim.clock, sim.ledger, sim.youtube_search_allowance)
    definitions = dg.Definitions(assets=list(defs.assets), asset_checks=list(defs.asset_checks), jobs=list(defs.jobs),
                                 schedules=list(defs.schedules), sensors=list(defs.sensors), resources=_resources(sim.url))  # fmt: skip
    by_name = {s.name: s for s in defs.schedules}
    plan = sorted((t, name) for name in SCHEDULES for t in ticks(by_name[name], sim.start, end))  # type: ignore[arg-type]
    _ACTIVE.append(sim)
    try:
        with (
            _trends_transport(sim.apis),
            dg.DagsterInstance.ephemeral() as instance,
            dg.build_resources(
                {"warehouse": definitions.resources["warehouse"]}, instance=instance
            ) as resources,
        ):
            execute(sim, definitions, instance, "refresh_places", {}, None)
            try:
                _follow_plan(sim, definitions, instance, resources, plan, by_name, log)
            except KeyboardInterrupt:  # a bench stopped early still reports the days it simulated
                log(f"interrupted at {sim.clock().isoformat()}: the figures below cover the days until then")
    finally:
        _ACTIVE.remove(sim)
    return summary(sim, log)


def _follow_plan(sim: Simulation, definitions: dg.Definitions, instance: dg.DagsterInstance, schedule_resources: Any,
                 plan: list[tuple[datetime, str]], by_name: dict[str, Any], log: Callable[[str], None]) -> None:  # fmt: skip
    from assets.classify.automation import cross_platform_spam
    from sensors.run_failures import report_failed_runs

    cursor: str | None = None
    for at, name in plan:
        sim.clock.move_to(at)
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at)
        # The schedules' resources, built once on this instance: build_schedule_context keeps only
        # an instance's ref, which an ephemeral instance lacks, so each tick would build them on a
        # new ephemeral instance of its own (its storage created and stamped, about a tenth of the
        # simulation's time). The daemon's contexts have a ref.
        context._resources = schedule_resources  # noqa: SLF001
        data = by_name[name].evaluate_tick(context)
        if not data.run_requests and "deferred" in (data.skip_message or ""):
            sim.per_day.setdefault(at.astimezone(KEDAH).date(), Day()).skipped += 1
        for request in data.run_requests or []:
            result = execute(
                sim,
                definitions,
                instance,
                by_name[name].job_name,
                request.tags,
                request.partition_key,
            )
            if "kedah/platform" in request.tags:
                sim.last_poll[request.tags["kedah/platform"]] = at
            if not result.success:
                alert(sim, instance, result, report_failed_runs)
        sensor_context = dg.build_sensor_context(
            instance=instance, cursor=cursor, definitions=definitions,
            resources={"warehouse": definitions.resources["warehouse"]},
        )  # fmt: skip
        tick = cross_platform_spam.evaluate_tick(sensor_context)
        cursor = tick.cursor
        for request in tick.run_requests or []:
            execute(sim, definitions, instance, "classify_posts", request.tags, request.partition_key)
        day = at.astimezone(KEDAH).date()
        if _next_day(plan, at) != day:
            sim.per_day.setdefault(day, Day()).db_bytes = db_bytes(sim.url)
            log(day_line(sim, day))


def _next_day(plan: list[tuple[datetime, str]], at: datetime) -> date | None:
    later = [t for t, _ in plan if t > at]
    return later[0].astimezone(KEDAH).date() if later else None


def execute(sim: Simulation, definitions: dg.Definitions, instance: dg.DagsterInstance, job: str,
            tags: Mapping[str, str], partition_key: str | None) -> dg.ExecuteInProcessResult:  # fmt: skip
    result = definitions.resolve_job_def(job).execute_in_process(
        run_config=QUIET,
        instance=instance,
        tags=dict(tags),
        partition_key=partition_key,
        raise_on_error=False,
    )
    day = sim.per_day.setdefault(sim.clock().astimezone(KEDAH).date(), Day())
    day.runs += 1
    text = " ".join(
        f"{k}={v.value}"
        for e in result.get_asset_materialization_events()
        for k, v in e.materialization.metadata.items()
    ).lower()
    if DEFERRED.search(text):
        day.deferred += 1
    if not result.success:
        errors = [e.step_failure_data.error.message for e in result.all_events
                  if e.event_type == dg.DagsterEventType.STEP_FAILURE and e.step_failure_data.error]  # fmt: skip
        reason = (errors[0] if errors else "run failed").strip().splitlines()[0][:200]
        day.failed += 1
        if any(w in reason.lower() for w in QUOTA_WORDS):
            day.failed_by_quota += 1
        sim.failures.append(
            f"{sim.clock().isoformat()} {job} {dict(tags).get('kedah/platform', '')}: {reason}"
        )
    return result


def alert(
    sim: Simulation, instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, sensor: Any
) -> None:
    """The real failed-run sensor on this run's failure event (it logs, or posts to the webhook)."""
    run = instance.get_run_by_id(result.run_id)
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.PIPELINE_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="report_failed_runs", dagster_instance=instance, dagster_run=run, dagster_event=failure
    ).for_run_failure()
    sensor(context)
    sim.per_day.setdefault(sim.clock().astimezone(KEDAH).date(), Day()).alerts += 1


def db_bytes(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'kedah' AND c.relkind IN ('r', 'm')"
        ).fetchone()
    return int(row[0]) if row else 0


def stored_ids(url: str) -> dict[str, set[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT platform, post_id FROM kedah.raw_posts WHERE provider <> 'demo'"
        ).fetchall()
    out: dict[str, set[str]] = {p: set() for p in PLATFORMS}
    for platform, post_id in rows:
        out[platform].add(str(post_id))
    return out


def completeness(sim: Simulation) -> dict[str, tuple[int, int]]:
    """(offered, stored) per platform: the posts created from the start until 15 minutes before
    the platform's last poll, and how many of them the warehouse holds."""
    assert sim.world is not None
    stored = stored_ids(sim.url)
    out = {}
    for platform in PLATFORMS:
        last = sim.last_poll.get(platform, sim.start) - timedelta(minutes=15)
        offered = sim.world.offered(platform, sim.start, last)
        out[platform] = (len(offered), len(offered & stored[platform]))
    return out


def missing(sim: Simulation) -> list[str]:
    """The offered posts the warehouse lacks, with when they were made."""
    assert sim.world is not None
    stored = stored_ids(sim.url)
    out = []
    for platform in PLATFORMS:
        last = sim.last_poll.get(platform, sim.start) - timedelta(minutes=15)
        for post in sim.world.posts[platform]:
            if post.post_id in sim.world.offered(platform, sim.start, last) - stored[platform]:
                out.append(f"{platform} {post.post_id} created {post.created_at.isoformat()} term {post.term!r} "
                           f"edits {len(post.edit_chain) - 1}")  # fmt: skip
    return out


def day_line(sim: Simulation, day: date) -> str:
    d = sim.per_day.get(day, Day())
    calls = {api: n for (k, api), n in sim.ledger.calls.items() if k == day}
    refused = sum(n for (k, _), n in sim.ledger.breaches.items() if k == day)
    billed = sim.ledger.x_billed_kedah.get(day, 0)
    return (
        f"{day}  X {calls.get('x_requests', 0):>3} req {billed:>5} posts ${billed * X_POST_USD:6.2f}/"
        f"${sim.x_daily_post_reads * X_POST_USD:.2f}  Graph {calls.get('graph_calls', 0):>4} calls "
        f"(peak {sim.ledger.graph_peak_hour.get(day, 0):>3}/200 an hour)  YouTube {calls.get('youtube_search', 0):>3} "
        f"search {calls.get('youtube_search', 0) * 100 + calls.get('youtube_videos', 0):>5}/10000 units  "
        f"Trends {calls.get('trends_requests', 0):>2} req  runs {d.runs:>3} failed {d.failed} "
        f"(quota {d.failed_by_quota}) deferred {d.deferred} skipped {d.skipped} alerts {d.alerts} refused {refused}  "
        f"db {d.db_bytes / 1e6:6.1f} MB"
    )


def summary(sim: Simulation, log: Callable[[str], None] = print) -> dict[str, float]:
    done = completeness(sim)
    for platform, (offered, stored) in done.items():
        share = 100.0 * stored / offered if offered else 100.0
        log(f"{platform:<10} offered {offered:>6} stored {stored:>6} ({share:.2f}%)")
    for line in missing(sim)[:10]:
        log(f"not stored: {line}")
    for (day, what), n in sorted(sim.ledger.breaches.items()):
        log(f"refused {day} {what}: {n}")
    for line in sim.failures[:20]:
        log(f"failed: {line}")
    totals = Counter[str]()
    for (_, api), n in sim.ledger.calls.items():
        totals[api] += n
    log("total calls: " + ", ".join(f"{api} {n}" for api, n in sorted(totals.items())))
    log(f"instagram unique hashtags in any 7 days, at most: {sim.ledger.ig_hashtags_week_peak}/30")
    log(f"youtube busiest Pacific day: {max(sim.ledger.yt_search.values(), default=0)}/100 search.list, "
        f"{max(sim.ledger.yt_units.values(), default=0)}/10000 units")  # fmt: skip
    budget = sim.x_daily_post_reads
    over = sum(1 for ids in sim.ledger.x_billed.values() if len(ids) > budget)
    log(
        f"x billed posts, busiest UTC day: {max((len(v) for v in sim.ledger.x_billed.values()), default=0)}/{budget}"
    )
    all_posts = sum(len(v) for v in stored_ids(sim.url).values()) or 1
    bytes_now = db_bytes(sim.url)
    figures = {
        "quota_breaches": float(sum(sim.ledger.breaches.values())),
        "runs_failed_by_quota": float(sum(d.failed_by_quota for d in sim.per_day.values())),
        "runs_failed": float(sum(d.failed for d in sim.per_day.values())),
        "runs_deferred": float(sum(d.deferred for d in sim.per_day.values())),
        "ticks_skipped_deferred": float(sum(d.skipped for d in sim.per_day.values())),
        "alerts": float(sum(d.alerts for d in sim.per_day.values())),
        "completeness_pct": min(100.0 * s / o if o else 100.0 for o, s in done.values()),
        "x_cost_over_budget_days": float(over),
        "x_cost_usd": sum(len(v) for v in sim.ledger.x_billed.values()) * X_POST_USD,
        "db_bytes": float(bytes_now),
        "db_bytes_per_post": bytes_now / all_posts,
    }
    for name, value in figures.items():
        log(
            f"{name}: {value:.2f}"
            if isinstance(value, float) and not value.is_integer()
            else f"{name}: {int(value)}"
        )
    return figures
