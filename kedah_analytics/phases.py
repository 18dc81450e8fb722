"""Work in a plan: each task after the tasks it waits for, tasks that are ready side by side in
worker processes, for a command-line backfill whose runs are CPU-bound Python (one core each).

A task starts as soon as every task it waits for has finished, on the first free worker; tasks
ready at the same time start in the plan's order, so a plan lists what should go first first (the
first span of days before the second: its classification can then start while the second span is
still being collected). A task that would run alone (nothing else running or ready), or every task
when there is one worker, runs in this process. Otherwise tasks go to a pool of ``spawn``-started
processes, kept for the whole plan so each imports the code location once. A failed task does not
stop the others: what does not wait for it goes on, what waits for it is not run, and once nothing
is left to run :class:`PhaseFailed` names every failure and every task left out. A worker that dies
(killed, out of memory) fails its task the same way; what it was running is its own run's business
(run monitoring fails the run).

Phases (:func:`run_phases`) are the plan in which each task waits for every task of the phase
before.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class PhaseFailed(RuntimeError):
    """Tasks of a plan failed; the message names each (with "failed" in it) and each task left out
    because it waits for one, ``done`` holds the results of the tasks that succeeded (in the plan's
    order) and ``left_out`` names the tasks not run."""

    def __init__(self, failures: Sequence[str], done: Sequence[Any], left_out: Sequence[str] = ()):
        super().__init__(
            "; ".join([*failures, *(f"{name} not run: it waits for a failed run" for name in left_out)])
        )
        self.failures = list(failures)
        self.done = list(done)
        self.left_out = list(left_out)


@dataclass(frozen=True)
class Task(Generic[Item]):
    """An item of a plan and the positions in the plan of the earlier tasks it waits for."""

    item: Item
    after: tuple[int, ...] = ()


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
    """:func:`run_plan` of ``phases``: each item after every item of the phase before."""
    plan: list[Task[Item]] = []
    before: tuple[int, ...] = ()
    for phase in phases:
        start = len(plan)
        plan += [Task(item, before) for item in phase]
        before = tuple(range(start, len(plan))) or before
    return run_plan(plan, execute, workers, describe, pool)


def run_plan(
    plan: Sequence[Task[Item]],
    execute: Callable[[Item], Result],
    workers: int,
    describe: Callable[[Item], str] = str,
    pool: ProcessPoolExecutor | None = None,
) -> list[Result]:
    """``execute(task.item)`` for every task of ``plan``, each once the tasks it waits for have
    succeeded, up to ``workers`` at once. ``execute`` must be a module-level function (it is
    pickled to the workers), and so must the items. ``pool``: the workers (:func:`worker_pool`),
    left running; by default the call starts its own when two tasks first go at once and stops it
    at the end. Returns the results in the plan's order; raises :class:`PhaseFailed`."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    for position, task in enumerate(plan):
        if any(not 0 <= earlier < position for earlier in task.after):
            raise ValueError(
                f"task {position} ({describe(task.item)}) waits for a task that is not before it"
            )
    results: dict[int, Result] = {}
    failed: set[int] = set()
    failures: list[str] = []
    left_out: list[int] = []
    pending = list(range(len(plan)))
    running: dict[Future[Result], int] = {}
    own_pool = pool is None

    def fail(position: int, error: BaseException) -> None:
        failed.add(position)
        if isinstance(error, BrokenProcessPool):
            failures.append(
                f"{describe(plan[position].item)} failed: a worker process died, which stops the whole pool"
            )
        else:
            failures.append(f"{describe(plan[position].item)} failed: {error}")

    try:
        while pending or running:
            ready = []
            for position in list(pending):
                after = plan[position].after
                if any(earlier in failed for earlier in after):
                    pending.remove(position)
                    failed.add(position)
                    left_out.append(position)
                elif all(earlier in results for earlier in after):
                    ready.append(position)
            if not ready and not running:
                break
            if workers == 1 or (len(ready) == 1 and not running):
                position = ready[0]
                pending.remove(position)
                try:
                    results[position] = execute(plan[position].item)
                except Exception as error:
                    fail(position, error)
                continue
            for position in ready[: workers - len(running)]:
                if pool is None:
                    pool = worker_pool(workers)
                pending.remove(position)
                try:
                    running[pool.submit(execute, plan[position].item)] = position
                except BrokenProcessPool as error:  # a worker died earlier: the pool takes no more
                    fail(position, error)
            if not running:
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                position = running.pop(future)
                try:
                    results[position] = future.result()
                except Exception as error:
                    fail(position, error)
    finally:
        if own_pool and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    done = [results[position] for position in sorted(results)]
    if failures:
        raise PhaseFailed(failures, done, [describe(plan[position].item) for position in sorted(left_out)])
    return done
