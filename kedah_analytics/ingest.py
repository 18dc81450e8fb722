"""Raw posts collected chunk by chunk: one platform and a few days at a time.

Each chunk is fetched, screened, quarantined and framed on its own and handed to the warehouse as a
:class:`MergeChunk`, which is merged in its own transaction before the next chunk is fetched, so a
year-long backfill holds one chunk of posts in memory, not the year.

Cursors (X's newest post id per query) never move past posts that were not stored: a chunk's fetch
is given the cursors stored when it starts, covers only that chunk's days, and its cursors are saved
in the transaction that stores that chunk's posts. A platform's chunks run oldest first, and a
stored numeric cursor only moves forward, so when a chunk fails the stored cursors cover the chunks
before it, which are stored, and nothing after.

A spent quota or rate limit does not fail the run: the posts fetched before it are stored (the
source's ``partial`` result, its cursors only covering them), the platform's later chunks are not
fetched, and a :class:`~kedah_analytics.deferrals.Deferral` until the reset is handed to the supply,
which stores it for the schedules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from kedah_analytics.deferrals import Deferral, deferral, spent_quota
from kedah_analytics.domain import DEMO_PROVIDER, QuarantinedRecord
from kedah_analytics.sources.common.base import (
    Exhausted,
    FetchResult,
    FetchTelemetry,
    PostSource,
    QuotaSpent,
    SourceError,
    telemetry_metadata,
)
from kedah_analytics.sources.common.failures import day_span, source_failure_message
from kedah_analytics.sources.common.frames import posts_frame
from kedah_analytics.warehouse.sanitize import screen_posts
from kedah_analytics.warehouse.writes import MergeChunk

# Days fetched and stored together. A week: X (7 days) and Instagram (24 hours) serve only recent
# posts, and the latest week of a run is one chunk, so a run of the last days asks each API exactly
# what one fetch of those days would; a long backfill holds a week of posts at a time.
CHUNK_DAYS = 7


def day_chunks(days: Sequence[date], size: int = CHUNK_DAYS) -> list[tuple[date, ...]]:
    """``days`` in chunks of ``size``, counted back from the last day, oldest chunk first."""
    if size < 1:
        raise ValueError(f"a chunk holds at least one day, not {size}")
    ordered = sorted(set(days))
    chunks = []
    end = len(ordered)
    while end > 0:
        start = max(0, end - size)
        chunks.append(tuple(ordered[start:end]))
        end = start
    return chunks[::-1]


class PostSupply(Protocol):
    """Where each platform's source and its stored cursors come from (the ``PostSources`` resource)."""

    def source_for(self, platform: str) -> PostSource: ...

    def cursors_for(self, source: PostSource) -> dict[str, str] | None: ...

    def defer(self, deferred: Deferral) -> None: ...


class Log(Protocol):
    def info(self, msg: str) -> Any: ...

    def warning(self, msg: str) -> Any: ...


# (asset, partition key, records) -> how many were stored in kedah.quarantine
Quarantine = Callable[[str, str, Sequence[QuarantinedRecord]], int]


class PostsFetchFailed(RuntimeError):
    """A platform's source failed for good on a chunk. The message says what failed, what to fix, and
    what the run stored before it; ``retryable`` whether trying again later may help."""

    def __init__(self, message: str, *, platform: str, provider: str, error: SourceError):
        super().__init__(message)
        self.platform = platform
        self.provider = provider
        self.error = error
        self.retryable = error.retryable


@dataclass
class PlatformTally:
    """What a run's fetches of one platform did, summed over its chunks."""

    provider: str
    telemetry: FetchTelemetry = field(default_factory=FetchTelemetry)
    chunks: int = 0
    posts_fetched: int = 0
    posts_outside_partitions: int = 0
    quarantined: int = 0
    values_sanitized: int = 0
    sanitized_fields: dict[str, int] = field(default_factory=dict)
    cursors_used: int = 0

    def as_metadata(self) -> dict[str, Any]:
        return {
            **telemetry_metadata(self.telemetry, self.provider),
            "chunks": self.chunks,
            "posts_fetched": self.posts_fetched,
            "posts_outside_partitions": self.posts_outside_partitions,
            "quarantined": self.quarantined,
            "values_sanitized": self.values_sanitized,
            "values_sanitized_by_field": dict(self.sanitized_fields),
            "cursors_used": self.cursors_used,
        }


def _now() -> datetime:
    return datetime.now(UTC)


class PostCollection:
    """The raw posts of a run's ``days_by_platform``, fetched and framed a chunk at a time.

    :meth:`chunks` yields each chunk once the one before it has been taken (and, by the IO manager,
    stored); :meth:`run_figures` sums what the fetches did, for the run's metadata."""

    def __init__(
        self,
        days_by_platform: Mapping[str, Sequence[date]],
        sources: PostSupply,
        quarantine: Quarantine,
        log: Log,
        *,
        configuration: Mapping[str, str] | None = None,
        chunk_days: int = CHUNK_DAYS,
        clock: Callable[[], datetime] = _now,
    ):
        self.plan = sorted(
            ((chunk, platform) for platform, days in days_by_platform.items() for chunk in day_chunks(days, chunk_days)),
            key=lambda item: (item[0][-1], item[1]),
        )  # fmt: skip
        self.sources = sources
        self.quarantine = quarantine
        self.log = log
        self.configuration = dict(configuration or {})
        self.clock = clock
        self.tallies: dict[str, PlatformTally] = {}
        self._source: dict[str, PostSource] = {}
        self._handed: list[tuple[str, tuple[date, ...]]] = []
        self.deferrals: dict[str, Deferral] = {}
        self.days_not_fetched: dict[str, list[date]] = {}

    def chunks(self) -> Iterator[MergeChunk]:
        for number, (days, platform) in enumerate(self.plan, 1):
            if platform in self.deferrals:
                # Nothing more is asked of a platform whose quota ran out: its later chunks are
                # handed on empty (their partitions show the deferral), their days said in the log.
                self.days_not_fetched.setdefault(platform, []).extend(days)
                provider = self.tallies[platform].provider
                yield MergeChunk(platform, days, posts_frame([], self.clock(), days)[0], provider)
                continue
            yield self._fetch(platform, days, f"chunk {number}/{len(self.plan)}")
            self._handed.append((platform, days))

    def _source_for(self, platform: str) -> PostSource:
        # One source per platform for the whole run: its budgets and clients span every chunk.
        if platform not in self._source:
            self._source[platform] = self.sources.source_for(platform)
        return self._source[platform]

    def _fetch(self, platform: str, days: tuple[date, ...], progress: str) -> MergeChunk:
        source = self._source_for(platform)
        # As stored now: the chunks before this one have saved theirs.
        cursors = self.sources.cursors_for(source)
        how = f" ({self.configuration[platform]})" if platform in self.configuration else ""
        self.log.info(f"{platform}, {progress}: fetching {day_span(days)} from {source.provider}{how}")
        fetched_at = self.clock()
        spent: QuotaSpent | None = None
        try:
            result = source.fetch_posts(platform, list(days), cursors)
            spent = result.spent
        except Exhausted as exc:
            result = exc.partial or FetchResult([], [], FetchTelemetry(), source.provider)
            spent = spent_quota(exc)
        except SourceError as exc:
            message = source_failure_message(
                f"{platform} posts", days, source.provider, exc, stored_before=self._stored_before()
            )
            raise PostsFetchFailed(message, platform=platform, provider=source.provider, error=exc) from exc
        # The storage boundary: every post stored with storable values, or quarantined alone.
        screened = screen_posts(result.posts, platform, result.provider, now=fetched_at)
        if screened.sanitized.values:
            self.log.warning(
                f"{platform} {day_span(days)}: repaired {screened.sanitized.values} unstorable value(s) "
                f"(NUL, lone surrogates, NaN; counts no count can be stored as NULL) in "
                f"{sorted(screened.sanitized.fields)}"
            )
        frame, outside = posts_frame(screened.posts, fetched_at, days)
        quarantined = self.quarantine(
            "raw_posts", f"{days[0]}..{days[-1]}|{platform}", [*result.quarantined, *screened.quarantined]
        )
        if quarantined:
            self.log.warning(
                f"{platform} {day_span(days)}: quarantined {quarantined} malformed item(s) in kedah.quarantine"
            )
        tally = self.tallies.setdefault(platform, PlatformTally(result.provider))
        tally.provider = result.provider
        tally.telemetry.merge(result.telemetry)
        tally.chunks += 1
        tally.posts_fetched += len(result.posts)
        tally.posts_outside_partitions += outside
        tally.quarantined += quarantined
        tally.values_sanitized += screened.sanitized.values
        for name, n in screened.sanitized.fields.items():
            tally.sanitized_fields[name] = tally.sanitized_fields.get(name, 0) + n
        tally.cursors_used = max(tally.cursors_used, len(cursors or {}))
        if spent is not None:
            self._defer(platform, result.provider, spent, days, len(result.posts))
        return MergeChunk(platform, days, frame, result.provider, dict(result.cursors))

    def _defer(
        self, platform: str, provider: str, spent: QuotaSpent, days: tuple[date, ...], kept: int
    ) -> None:
        deferred = deferral(platform, provider, spent, self.clock())
        self.deferrals[platform] = deferred
        self.sources.defer(deferred)
        later = [d for chunk, p in self.plan if p == platform and chunk[0] > days[-1] for d in chunk]
        self.log.warning(
            f"{platform} {day_span(days)}: quota exhausted ({spent.message}). The {kept} post(s) fetched "
            f"before it are stored and the cursors stay where they end; {platform} is deferred until "
            f"{deferred.until.isoformat()}: its schedule skips until then"
            + (f", and {day_span(later)} of this run are not fetched" if later else "")
        )

    def _stored_before(self) -> str:
        """What the run stored before the chunk now being fetched, in words ("" when nothing)."""
        if not self._handed:
            return ""
        days = [d for _, chunk in self._handed for d in chunk]
        platforms = sorted({p for p, _ in self._handed})
        return f"{len(self._handed)} earlier chunk(s) of {', '.join(platforms)} ({day_span(days)})"

    def run_figures(self) -> dict[str, Any]:
        """What the run's fetches did, for all its partitions together (run_* names say so)."""
        tallies = dict(sorted(self.tallies.items()))
        telemetry = {platform: tally.as_metadata() for platform, tally in tallies.items()}
        return {
            "providers": ", ".join(f"{p}: {t.provider}" for p, t in tallies.items()),
            "demo_data": any(t.provider == DEMO_PROVIDER for t in tallies.values()),
            "run_chunks_fetched": sum(t.chunks for t in tallies.values()),
            "run_quarantined": sum(t.quarantined for t in tallies.values()),
            "run_values_sanitized": sum(t.values_sanitized for t in tallies.values()),
            "run_api_calls": sum(t.telemetry.api_calls for t in tallies.values()),
            "run_rate_limit_waits": sum(t.telemetry.rate_limit_waits for t in tallies.values()),
            "run_telemetry": telemetry,
            **self.deferral_figures(),
        }

    def deferral_figures(self) -> dict[str, Any]:
        """``quota_exhausted``, and when it is, until when the run's platforms are deferred and why."""
        if not self.deferrals:
            return {"quota_exhausted": False}
        return {
            "quota_exhausted": True,
            "deferred_until": max(d.until for d in self.deferrals.values()).isoformat(),
            "deferrals": {p: d.as_metadata() for p, d in sorted(self.deferrals.items())},
            "days_not_fetched": {
                p: [str(d) for d in days] for p, days in sorted(self.days_not_fetched.items())
            },
        }
