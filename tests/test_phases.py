"""kedah_analytics/phases.py: a plan's tasks side by side in worker processes, each after what it
waits for (phases: after the whole phase before), failures (a raised error, a dead worker) named
once the rest has finished, what waits for a failure left out."""

from __future__ import annotations

import itertools
import os
import signal
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from kedah_analytics.phases import PhaseFailed, Task, run_phases, run_plan, split_span

RENDEZVOUS = "KEDAH_TEST_PHASES_RENDEZVOUS"


def work(item: str) -> tuple[str, int, float, float]:
    """The item, the process it ran in, and when it started and ended; ``fail`` raises, ``die``
    kills its own process. With $KEDAH_TEST_PHASES_RENDEZVOUS set (a folder), ``a`` and ``b`` each
    wait there until the other has started: they end only if they run at the same time, however
    late a busy machine starts the second worker process."""
    started = time.time()
    if item.startswith("fail"):
        raise RuntimeError(f"{item} went wrong")
    if item == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if (folder := os.environ.get(RENDEZVOUS)) and item in ("a", "b"):
        (Path(folder) / item).touch()
        other = Path(folder) / ("b" if item == "a" else "a")
        deadline = time.monotonic() + 60
        while not other.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{item} ran alone: {other.name} did not start within 60 s")
            time.sleep(0.05)
    time.sleep(0.5)
    return item, os.getpid(), started, time.time()


def test_a_phases_items_run_side_by_side_in_other_processes_and_phases_in_order(monkeypatch, tmp_path):
    monkeypatch.setenv(RENDEZVOUS, str(tmp_path))  # the worker processes inherit it
    done = run_phases([["a", "b"], ["c", "d"]], work, workers=2)
    assert [item for item, *_ in done] == ["a", "b", "c", "d"]
    (_, pid_a, start_a, end_a), (_, pid_b, start_b, end_b), (_, _, start_c, _), (_, _, start_d, _) = done
    assert os.getpid() not in {pid_a, pid_b} and pid_a != pid_b
    assert start_a < end_b and start_b < end_a  # at the same time
    assert min(start_c, start_d) >= max(end_a, end_b)  # the next phase after the whole of this one


def test_one_worker_or_a_one_item_phase_runs_in_this_process():
    assert {pid for _, pid, *_ in run_phases([["a", "b"]], work, workers=1)} == {os.getpid()}
    assert {pid for _, pid, *_ in run_phases([["a"], ["b"]], work, workers=2)} == {os.getpid()}


def test_a_failed_item_lets_its_phase_finish_names_itself_and_stops_the_next_phase():
    with pytest.raises(PhaseFailed) as failed:
        run_phases([["first"], ["fail-x", "b"], ["never"]], work, workers=2, describe=lambda i: f"item {i}")
    assert failed.value.failures == ["item fail-x failed: fail-x went wrong"]
    assert [item for item, *_ in failed.value.done] == ["first", "b"]


def test_a_worker_that_dies_fails_its_phase_clearly():
    with pytest.raises(PhaseFailed, match="item die failed: a worker process died"):
        run_phases([["die", "b"], ["never"]], work, workers=2, describe=lambda i: f"item {i}")


def test_a_pool_whose_worker_died_fails_the_tasks_it_can_no_longer_take():
    """Tasks that do not wait for the one whose worker died still cannot go to its pool: each is
    named as failed, none raises anything but PhaseFailed."""
    from kedah_analytics.phases import worker_pool

    pool = worker_pool(2)
    try:
        with pytest.raises(PhaseFailed):
            run_phases([["die", "b"]], work, workers=2, pool=pool)
        with pytest.raises(PhaseFailed) as failed:
            run_plan(
                [Task("a"), Task("b"), Task("c", (0,))],
                work,
                workers=2,
                describe=lambda i: f"item {i}",
                pool=pool,
            )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert failed.value.failures == [
        "item a failed: a worker process died, which stops the whole pool",
        "item b failed: a worker process died, which stops the whole pool",
    ]
    assert failed.value.left_out == ["item c"]


def test_a_failure_in_this_process_is_named_too():
    with pytest.raises(PhaseFailed, match="fail-y failed: fail-y went wrong") as failed:
        run_phases([["a"], ["fail-y"]], work, workers=2)
    assert [item for item, *_ in failed.value.done] == ["a"]


def test_no_workers_is_refused():
    with pytest.raises(ValueError, match="workers must be at least 1, not 0"):
        run_phases([["a"]], work, workers=0)


def waiting(item: str) -> tuple[str, int, float, float]:
    """Like :func:`work`; ``x until y`` also marks its start and ends only once ``y`` has
    started (in $KEDAH_TEST_PHASES_RENDEZVOUS), within 60 s."""
    name, _, until = item.partition(" until ")
    folder = Path(os.environ[RENDEZVOUS])
    (folder / name).touch()
    deadline = time.monotonic() + 60
    while until and not (folder / until).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{until} did not start while {name} ran")
        time.sleep(0.05)
    return work(name)


def test_a_task_starts_once_what_it_waits_for_is_done_not_after_everything_before_it(monkeypatch, tmp_path):
    """``c`` waits for ``b`` only: it starts while ``a``, listed before it, still runs (``a`` ends
    only once ``c`` has started)."""
    monkeypatch.setenv(RENDEZVOUS, str(tmp_path))
    plan = [Task("a until c"), Task("b"), Task("c", after=(1,))]
    done = run_plan(plan, waiting, workers=2)
    assert [item for item, *_ in done] == ["a", "b", "c"]
    (_, _, _, end_a), (_, _, _, end_b), (_, _, start_c, _) = done
    assert end_b <= start_c < end_a


def test_a_failed_task_leaves_out_what_waits_for_it_and_nothing_else():
    plan = [Task("fail-x"), Task("b"), Task("c", (0,)), Task("d", (2,)), Task("e", (1,)), Task("f", (1, 3))]
    for workers in (1, 2):
        with pytest.raises(PhaseFailed) as failed:
            run_plan(plan, work, workers=workers, describe=lambda i: f"item {i}")
        assert failed.value.failures == ["item fail-x failed: fail-x went wrong"]
        assert failed.value.left_out == ["item c", "item d", "item f"]
        assert [item for item, *_ in failed.value.done] == ["b", "e"]
        assert "item c not run: it waits for a failed run" in str(failed.value)


def test_one_worker_runs_the_plan_in_its_order_in_this_process():
    done = run_plan([Task("a"), Task("b"), Task("c", (0,)), Task("d", (2, 1))], work, workers=1)
    assert [item for item, *_ in done] == ["a", "b", "c", "d"]
    assert {pid for _, pid, *_ in done} == {os.getpid()}
    assert [start for *_, start, _ in done] == sorted(start for *_, start, _ in done)


def test_a_task_waiting_for_a_later_one_is_refused():
    with pytest.raises(ValueError, match="task 0 \\(a\\) waits for a task that is not before it"):
        run_plan([Task("a", (1,)), Task("b")], work, workers=2)


@pytest.mark.parametrize(
    ("days", "parts", "min_days", "lengths"),
    [
        (365, 2, 14, [183, 182]),
        (60, 3, 14, [20, 20, 20]),
        (28, 4, 14, [14, 14]),  # no span shorter than 14 days
        (20, 2, 14, [20]),
        (1, 8, 1, [1]),
        (10, 3, 1, [4, 3, 3]),
    ],
)
def test_a_span_is_shared_in_consecutive_spans_that_cover_every_day_once(days, parts, min_days, lengths):
    first = date(2025, 6, 1)
    last = first + timedelta(days=days - 1)
    spans = split_span(first, last, parts, min_days)
    assert [(end - start).days + 1 for start, end in spans] == lengths
    assert spans[0][0] == first and spans[-1][1] == last
    assert all(later[0] == earlier[1] + timedelta(days=1) for earlier, later in itertools.pairwise(spans))


def test_an_empty_span_is_refused():
    with pytest.raises(ValueError, match="holds no day"):
        split_span(date(2025, 6, 2), date(2025, 6, 1), 2)
