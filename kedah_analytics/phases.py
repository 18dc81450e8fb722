"""Work in phases: each phase after the one before, the items of a phase side by side in worker
processes, for a command-line backfill whose runs are CPU-bound Python (one core each).

A phase with one item, or one worker, runs in this process, which is then the item's worker as
before. Otherwise the items go to a pool of ``spawn``-started processes, kept for every phase so
each imports the code location once. A phase waits for all of its items, the failed ones too: the
others are independent and finish, and the phase then raises :class:`PhaseFailed` naming every
failure, before the next phase starts. A worker that dies (killed, out of memory) fails its phase
the same way; what it was running is its own run's business (run monitoring fails the run).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date, timedelta
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class PhaseFailed(RuntimeError):
    """Items of a phase failed; the message names each (with "failed" in it), and ``done`` holds
    what the phases finished before and the phase's items that succeeded."""

    def __init__(self, failures: Sequence[str], done: Sequence[Any]):
        super().__init__("; ".join(failures))
        self.failures = list(failures)
        self.done = list(done)


def default_workers(items: int) -> int:
    """One worker per core, no more than a phase has items."""
    return max(1, min(os.cpu_count() or 1, items))


def split_span(first: date, last: date, parts: int, min_days: int = 1) -> list[tuple[date, date]]:
    """``first``..``last`` as at most ``parts`` consecutive spans of near-equal length, none shorter
    than ``min_days`` (a span shorter than that is not worth a run of its own): a ranged run's days
    shared by runs that go side by side. Together they cover every day once, in order."""
    days = (last - first).days + 1
    if days < 1:
        raise ValueError(f"{first}..{last} holds no day: it ends before it starts")
    parts = max(1, min(parts, days // max(1, min_days)))
    size, longer = divmod(days, parts)
    spans, start = [], first
    for i in range(parts):
        end = start + timedelta(days=size + (1 if i < longer else 0) - 1)
        spans.append((start, end))
        start = end + timedelta(days=1)
    return spans


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` ``spawn``-started processes, for calls of :func:`run_phases` that share them
    (each worker imports the code location once); the caller shuts it down."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def run_phases(
    phases: Sequence[Sequence[Item]],
    execute: Callable[[Item], Result],
    workers: int,
    describe: Callable[[Item], str] = str,
    pool: ProcessPoolExecutor | None = None,
) -> list[Result]:
    """``execute(item)`` for every item, phase after phase, up to ``workers`` items of a phase at
    once. ``execute`` must be a module-level function (it is pickled to the workers), and so must
    the items. ``pool``: the workers (:func:`worker_pool`), left running; by default the call
    starts its own when a phase first needs them and stops them at the end. Returns the results
    in the phases' order; raises :class:`PhaseFailed`."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    done: list[Result] = []
    own_pool = pool is None
    try:
        for phase in phases:
            if workers == 1 or len(phase) <= 1:
                for item in phase:
                    try:
                        done.append(execute(item))
                    except Exception as error:
                        raise PhaseFailed([f"{describe(item)} failed: {error}"], done) from error
                continue
            if pool is None:
                pool = worker_pool(workers)
            futures = [(item, pool.submit(execute, item)) for item in phase]
            failures: list[str] = []
            for item, future in futures:
                try:
                    done.append(future.result())
                except BrokenProcessPool:
                    failures.append(
                        f"{describe(item)} failed: a worker process died, which stops the whole pool"
                    )
                except Exception as error:
                    failures.append(f"{describe(item)} failed: {error}")
            if failures:
                raise PhaseFailed(failures, done)
    finally:
        if own_pool and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return done
