"""Loop rules alone, SimPy-style: hand-written tasks on a bare ``EventLoop`` and the exact log of
what ran, when, in which iteration and phase (docs/event-loop.md). Whole-stack tests check the
same rules only through a list's counts."""

from __future__ import annotations

import pytest
import simpy

from clawsim.engine.loop import EventLoop, Work

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)

Log = list[tuple[str, float, int]]  # (what ran, loop time in ms, loop iteration)


def _run(setup, until_ms: float) -> Log:
    """Arm tasks with ``setup(loop, log)``, run the loop until ``until_ms``, return the log."""
    loop, log = EventLoop(simpy.Environment(), iteration_ms=0.01), []
    setup(loop, log)

    def stopper():
        yield loop.env.timeout(until_ms)
        loop.stop()
        loop.deliver(iter(()))

    loop.env.process(stopper())
    loop.start()
    loop.env.run()
    return [(name, round(at, 6), it) for name, at, it in log]


def _task(loop: EventLoop, log: Log, name: str, work_ms: float = 0.0):
    def run():
        log.append((name, loop.now, loop.iterations))
        yield Work(work_ms)

    return run


def test_overdue_intervals_fire_in_due_order_once_each_then_rearm_from_the_firing():
    """A 7 ms callback holds the loop past both timers: the next timers phase runs the one due
    first first (B at 2 ms before A at 3 ms, though A was armed first), each once, and each is
    re-armed from its firing (floor(now) + period), not from its missed due times."""

    def setup(loop, log):
        loop.set_interval(3, _task(loop, log, "A"))
        loop.set_interval(2, _task(loop, log, "B"))
        loop.deliver(_task(loop, log, "hog", 7.0)())

    assert _run(setup, 11.5) == [
        ("hog", 0.0, 1),
        ("B", 7.01, 2),  # due 2, overdue
        ("A", 7.01, 2),  # due 3, overdue: after B, in the same timers phase
        ("B", 9.01, 3),  # re-armed due floor(7.01) + 2 = 9: the poll phase blocks until 9, then
        ("A", 10.01, 4),  #   one iteration's overhead (0.01 ms) before the timers phase; A due 10
        ("B", 11.01, 5),  # B re-armed from 9.01: due 11
    ]


def test_an_interval_never_catches_up():
    """A 1 ms interval held off for 5 ms fires once when the loop is free, not five times."""

    def setup(loop, log):
        loop.set_interval(1, _task(loop, log, "tick"))
        loop.deliver(_task(loop, log, "hog", 5.0)())

    assert _run(setup, 7.5) == [("hog", 0.0, 1), ("tick", 5.01, 2), ("tick", 6.01, 3), ("tick", 7.01, 4)]


def test_the_poll_phase_runs_what_had_arrived_when_it_began():
    """A callback delivered by a poll-phase callback waits for the next poll phase: the phase
    runs a snapshot of its queue; the check phase in between runs first."""

    def setup(loop, log):
        def first():
            log.append(("first", loop.now, loop.iterations))
            loop.deliver(_task(loop, log, "delivered by first")())
            loop.set_immediate(_task(loop, log, "immediate")())
            yield Work(1.0)

        loop.deliver(first())
        loop.deliver(_task(loop, log, "second", 0.5)())

    assert _run(setup, 3) == [
        ("first", 0.0, 1),
        ("second", 1.0, 1),
        ("immediate", 1.5, 1),
        ("delivered by first", 1.51, 2),
    ]


@pytest.mark.parametrize("period", [1, 1.9])
def test_a_period_is_whole_milliseconds_at_least_one(period):
    """setInterval truncates the delay to whole ms on libuv's ms clock (1.9 ms acts as 1)."""

    def setup(loop, log):
        loop.set_interval(period, _task(loop, log, "tick"))

    assert [at for _, at, _ in _run(setup, 3.5)] == [1.01, 2.01, 3.01]  # due 1, 2, 3 (+ one iteration)
