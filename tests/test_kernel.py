"""The kernel's pieces alone: the loop's phase order, the memo policies, the pin."""

from __future__ import annotations

import random

import pytest
import simpy

from clawsim.engine.loop import IMMEDIATE, DelayProbe, EventLoop, Sleep, Work, timer_due
from clawsim.engine.memo import Memo
from clawsim.engine.registry import ROOT_CONTEXT, Registry
from clawsim.scenario import MemoSpec

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)


def _loop() -> EventLoop:
    return EventLoop(simpy.Environment(), iteration_ms=0.01)


def test_one_iteration_runs_timers_then_poll_then_check():
    loop, seen = _loop(), []

    def task(name: str, then=None):
        seen.append((name, loop.iterations))
        if then is not None:
            yield then

    loop.set_immediate(task("immediate"))
    loop.deliver(task("io"))
    loop.set_timeout(0, task("timer"))  # due at floor(0) + 1 ms: the next iteration's timers phase
    loop.env.process(_stop_after(loop, 5))
    loop.start()
    loop.env.run()
    # event-loop.md §2: poll before check in iteration 1; the 1 ms timer is not due yet, so the poll
    # phase of iteration 2 blocks until it is, and the timers phase after that block runs it.
    assert seen == [("io", 1), ("immediate", 1), ("timer", 3)]


def _stop_after(loop: EventLoop, ms: float):
    yield loop.env.timeout(ms)
    loop.stop()
    loop.deliver(iter(()))  # wake a blocked poll phase so the loop sees the stop


def test_an_immediate_queued_in_the_check_phase_runs_in_the_next_iteration():
    loop, seen = _loop(), []

    def first():
        seen.append(("first", loop.iterations))
        loop.set_immediate(second())
        yield Work(0)

    def second():
        seen.append(("second", loop.iterations))
        yield Work(0)

    loop.set_immediate(first())
    loop.env.process(_stop_after(loop, 1))
    loop.start()
    loop.env.run()
    assert seen == [("first", 1), ("second", 2)]  # event-loop.md §4


def test_work_holds_the_thread_and_a_yield_resumes_in_a_later_check_phase():
    loop, seen = _loop(), []

    def list_like():
        seen.append(("batch 1", loop.now))
        yield Work(3.0)
        yield IMMEDIATE
        seen.append(("batch 2", loop.now))

    def other():
        seen.append(("other", loop.now))
        yield Work(0)

    loop.set_immediate(list_like())
    loop.deliver(other())  # arrived before the loop started: runs in the first poll phase
    loop.env.process(_stop_after(loop, 10))
    loop.start()
    loop.env.run()
    assert seen[0] == ("other", 0.0) and seen[1] == ("batch 1", 0.0)
    assert seen[2][0] == "batch 2" and seen[2][1] >= 3.0  # resumed only after the 3 ms of work


def test_timers_fire_on_the_whole_millisecond_clock():
    assert timer_due(0.0, 5) == 5 and timer_due(2.7, 5) == 7 and timer_due(2.7, 0.2) == 3  # >= 1 ms, truncated
    loop, fired = _loop(), []

    def sleeper():
        yield Sleep(5)
        fired.append(loop.now)

    loop.set_immediate(sleeper())
    loop.env.process(_stop_after(loop, 20))
    loop.start()
    loop.env.run()
    assert (
        len(fired) == 1 and 5.0 <= fired[0] < 5.0 + 2 * loop.iteration_ms
    )  # in the timers phase right after the block


def test_memo_policies():
    none = Memo(MemoSpec(policy="none").rules)
    none.store(("w", 0), 0.0, "w")
    assert none.lookup(("w", 0), 1.0) is None  # stores nothing
    single = Memo(MemoSpec(policy="single").rules)
    single.store(("a", 0), 0.0, "a")
    single.store(("b", 0), 0.0, "b")
    assert single.lookup(("a", 0), 1.0) is None and single.lookup(("b", 0), 1.0) == (0.0, "b")
    lru = Memo(MemoSpec(policy="lru", capacity=2).rules)
    for key in ("a", "b"):
        lru.store((key,), 0.0, key)
    assert lru.lookup(("a",), 1.0) is not None  # "a" becomes most recent ...
    lru.store(("c",), 1.0, "c")  # ... so "b" is evicted
    assert lru.lookup(("b",), 2.0) is None and lru.lookup(("a",), 2.0) is not None
    assert Memo(MemoSpec().rules).slots == 8
    ttl = Memo(MemoSpec(policy="ttl", ttl_ms=10).rules)
    ttl.store(("a",), 0.0, "a")
    assert ttl.stable_for((("a",),), 0.0, 9.9) and not ttl.stable_for((("a",),), 0.0, 10.0)
    assert ttl.lookup(("a",), 9.9) is not None and ttl.lookup(("a",), 10.0) is None  # expired, and gone


def test_the_pin_captures_once_and_never_blocks_writers():
    registry = Registry("/gateway")
    pinned = registry.pin(ROOT_CONTEXT)
    registry.set("/agent", now=1.0)
    assert registry.read(pinned) == "/gateway"  # the list keeps the value it captured
    assert registry.read(ROOT_CONTEXT) == "/agent"  # everyone else sees the live global
    assert registry.pin(pinned) is pinned  # a nested pin reuses the outer one
    registry.set("/agent", now=2.0)
    assert (registry.flips, registry.changes, registry.changed_at) == (2, 1, 1.0)  # a set of the same value
    assert registry.read(registry.pin(ROOT_CONTEXT)) == "/agent"  # a new pin captures the value of now


def _percentiles_by_definition(samples, after_ms, until_ms, percents):
    """DelayProbe.percentiles written out: every firing listed, sorted, the smallest value with
    at least that share of firings at or below it (HdrHistogram's getValueAtPercentile)."""
    times = [t for t, _, _ in samples]
    first = next((i for i, t in enumerate(times) if t > after_ms), len(times))
    last = min(len(times), next((i for i, t in enumerate(times) if t > until_ms), len(times)) + 1)
    firings = sorted(late for _, late, n in samples[first:last] for _ in range(n))
    if not firings:
        return [0.0 for _ in percents]
    return [firings[max(1, int(p / 100 * len(firings) + 0.5)) - 1] for p in percents]


@pytest.mark.parametrize("repeated", [False, True])
def test_probe_percentiles_match_their_definition(repeated):
    """Windows with ties in lateness, with and without idle samples counting several firings."""
    draw = random.Random(7)
    for _ in range(200):
        probe = DelayProbe()
        t = 0.0
        for _ in range(draw.randrange(0, 40)):
            t += draw.choice((0.5, 1.0, 2.8, 3.0))
            n = draw.choice((1, 1, 4)) if repeated else 1
            probe.samples.append((t, draw.choice((0.0, 0.25, 1.5, draw.random())), n))
            probe.repeated = probe.repeated or n > 1
        after, until = sorted((draw.uniform(-1, t + 1), draw.uniform(-1, t + 1)))
        percents = (50, 99, 100, 0.1)
        assert probe.percentiles(after, until, percents) == _percentiles_by_definition(
            probe.samples, after, until, percents
        )
