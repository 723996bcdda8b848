"""Node's event loop as one SimPy process: one thread, phases timers -> poll -> check.

JavaScript async functions are modelled as Python generators that the loop drives, the
way V8 drives coroutines on Node's single thread. A generator yields *operations*:

- ``Work(ms)``: synchronous work; the thread is held and nothing else runs.
- ``IMMEDIATE``: ``await new Promise(r => setImmediate(r))``; resumes in a check phase.
- ``Sleep(ms)``: ``await setTimeout(ms)``; resumes in a timers phase, trunc(ms) - 1 to
  trunc(ms) after it was armed (at least 1 ms; see ``timer_due``).
- ``IO(ms)``: an awaited I/O; resumes in the first poll phase after it completes.

A callback runs until its generator awaits or returns (run to completion); the ``await``
continuation of a resolved promise runs as a microtask inside the same callback, so
resuming the generator directly is exact. SimPy owns time and the world outside the
thread: I/O completions and external arrivals are SimPy timeouts and processes that put
callbacks on the poll queue. The ordering rules are those of docs/event-loop.md: one
thread (§1), the phase order (§2), microtasks inside the callback (§3), the check queue
(§4), timers on the whole-millisecond clock (§6), arrivals queued for the poll phase (§8)
and the delay probe (§12). §13 lists the deliberate differences, summarised here:

- the pending and close phases are left out: nothing in the model defers an I/O error
  callback or closes a handle, so they would always be empty;
- overdue timers run in due order, each due time computed on the whole-millisecond clock
  (``timer_due``); Node orders timers of *different* durations by list, so two overdue
  timers armed with different delays may run in the other order there;
- a ``Sleep`` or timer can fire up to 1 ms early relative to simulated time, exactly as
  libuv's truncated millisecond clock makes it (``timer_due``), never later than due.

Steps no callback can observe are skipped, not approximated: a hold that no scheduled event
can interrupt moves the clock at once (``_skip``), an awaited I/O completes in the loop's own
schedule unless the loop hands control to SimPy before it completes (``start_io``), and a list's ``setImmediate`` yield with
nothing else to run before it is resumed continues in place (``resume_in_place``); both leave
the same state and the same floats as the trip through SimPy and the loop.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import operator
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:
    from .arrivals import Arrivals

MIN_TIMER_MS = 1  # Node clamps shorter setTimeout/setInterval delays to 1 ms.
PROBE_RESOLUTION_MS = 1.0  # monitorEventLoopDelay samples a repeating 1 ms timer.

# A run that cannot advance or cannot keep up halts itself (its open lists are recorded with
# completed: false), so no input makes a run hang or grow without bound:
MAX_WAITING = 10_000  # callbacks waiting for a poll phase: arrivals outpace the loop (load > 1)
STALL_ITERATIONS = 100_000  # iterations in a row after which simulated time has not moved
MAX_ITERATIONS = 2_000_000  # iterations per run (~10 s of wall time); no shipped scenario needs 10^4


@dataclass(frozen=True, slots=True)
class Work:
    """Hold the thread for ``ms`` of synchronous work."""

    ms: float


@dataclass(frozen=True, slots=True)
class Sleep:
    """Resume in the first timers phase at or after ``timer_due(now, ms)``."""

    ms: float


@dataclass(frozen=True, slots=True)
class IO:
    """Resume in the first poll phase after an I/O of ``ms`` completes."""

    ms: float


class _Immediate:
    __slots__ = ()

    def __repr__(self) -> str:
        return "IMMEDIATE"


IMMEDIATE = _Immediate()

Task = Generator[Any, None, None]
# An immediate actor's resume, run in place (``EventLoop.set_activation``): (fire(now), ms held,
# fire_many(times), ahead(n)).
Activation = tuple[Callable[[float], object], float, Callable[[list[float]], object], Callable[[int], list[str]]]


class Interval:
    """A ``setInterval`` handle; ``clear()`` stops further ticks."""

    __slots__ = ("period_ms", "factory", "cleared")

    def __init__(self, period_ms: float, factory: Callable[[], Task]):
        self.period_ms = period_ms
        self.factory = factory
        self.cleared = False

    def clear(self) -> None:
        self.cleared = True


def timer_due(armed_at: float, delay_ms: float) -> int:
    """When a timer armed at ``armed_at`` is due: Node arms timers on libuv's whole-millisecond
    clock (``getLibuvNow()``) with the delay truncated and clamped to >= 1 ms, so a timer
    fires between delay - 1 and delay ms after it was armed, never later than due."""
    return math.floor(armed_at) + max(MIN_TIMER_MS, math.trunc(delay_ms))


class DelayProbe:
    """What ``monitorEventLoopDelay`` records: the lateness of each firing of a repeating
    1 ms timer, as a histogram.

    Computed lazily at each timers phase instead of simulating the timer: while the loop
    is blocked idle the probe fires on time, once a millisecond, so an idle wait adds that
    many samples of 0 ms. ``samples`` holds (when, lateness, how many) in time order;
    ``repeated``: whether any of them counts more than one firing.
    """

    __slots__ = ("due", "max_ms", "samples", "repeated")

    def __init__(self) -> None:
        self.due = PROBE_RESOLUTION_MS
        self.max_ms = 0.0
        self.samples: list[tuple[float, float, int]] = []
        self.repeated = False

    def timers_phase(self, now: float) -> None:
        if now >= self.due:
            late = now - self.due
            self.samples.append((now, late, 1))
            if late > self.max_ms:  # max(), without the call: the same value
                self.max_ms = late
            self.due = now + PROBE_RESOLUTION_MS

    def finish(self, now: float) -> None:
        """At the end of a run, the probe still waiting has waited at least this long."""
        self.timers_phase(now)

    def idle_until(self, now: float) -> None:
        if now >= self.due:
            fired_last = now - (now - self.due) % PROBE_RESOLUTION_MS
            on_time = round((fired_last - self.due) / PROBE_RESOLUTION_MS) + 1
            self.samples.append((fired_last, 0.0, on_time))
            self.repeated = self.repeated or on_time > 1
            self.due = fired_last + PROBE_RESOLUTION_MS

    def percentiles(self, after_ms: float, until_ms: float, percents: tuple[float, ...]) -> list[float]:
        """The lateness at each of ``percents`` over the samples a list's window holds: those
        taken after ``after_ms`` up to ``until_ms``, and the first one after (which measures
        the callback running at ``until_ms``). As HdrHistogram's ``getValueAtPercentile``
        (Node's histogram): the smallest sample with at least that share at or below it;
        0 where the window holds no sample."""
        samples = self.samples
        if not samples:
            return [0.0 for _ in percents]
        # (the bisects skipped where the window starts before the first sample or ends after the last)
        first = 0 if after_ms < samples[0][0] else bisect.bisect_right(samples, after_ms, key=_when)
        last = len(samples)
        if until_ms < samples[-1][0]:
            last = min(last, bisect.bisect_right(samples, until_ms, key=_when) + 1)
        if first >= last:
            return [0.0 for _ in percents]
        if not self.repeated:  # each sample one firing: the k-th smallest lateness is at index k - 1
            late = sorted(map(_lateness, samples[first:last]))
            return [float(late[max(1, int(p / 100 * len(late) + 0.5)) - 1]) for p in percents]
        # by lateness alone: samples of equal lateness in any order give the same value at every rank
        window = sorted(samples[first:last], key=_lateness)
        cumulative = list(itertools.accumulate(n for _, _, n in window))
        out = []
        for percent in percents:  # plain Python: a window holds a few samples per list, often
            wanted = max(1, int(percent / 100 * cumulative[-1] + 0.5))
            out.append(float(window[bisect.bisect_left(cumulative, wanted)][1]))
        return out


_when, _lateness = operator.itemgetter(0), operator.itemgetter(1)


class EventLoop:
    """One thread running callbacks to completion, phase by phase.

    Each iteration: timers due at the iteration's loop time (in due order), then the I/O
    completions that had arrived when the poll phase began, then the immediates queued
    before the check phase began (FIFO), then ``iteration_ms`` of loop overhead. With no
    immediate pending and nothing arrived, the poll phase blocks until the next timer is
    due or something arrives. ``stop()`` ends the loop after the running callback; ``halt()``
    also ends the run at once (``halted`` fires and ``halt_reason`` says why): the loop does
    so itself past ``MAX_WAITING``, ``STALL_ITERATIONS`` or ``MAX_ITERATIONS``.

    ``arrivals`` (the aggregated engine, else None) holds the poisson sources that are not
    SimPy processes: the poll phase draws what they delivered, and an idle loop also wakes
    at their next arrival. ``in_place``: whether ``resume_in_place`` may resume a yield in
    place (off, every yield is a trip through the loop: the oracle tests compare with).
    """

    def __init__(
        self, env: simpy.Environment, iteration_ms: float, arrivals: Arrivals | None = None, in_place: bool = True
    ):
        self.env = env
        self.in_place = in_place
        self.iteration_ms = iteration_ms
        self.stopped = False
        self.iterations = 0
        self.probe = DelayProbe()
        self._timers: list[tuple[float, int, Any]] = []
        self._seq = itertools.count()
        self._immediates: deque[Task] = deque()
        # Queued tasks that each resume would run as one activation: task -> (fire(now), ms held).
        self._activations: dict[Task, Activation] = {}
        self._arrived: deque[tuple[float, Task]] = deque()  # (delivered at, task)
        # I/Os in flight, (completes at, SimPy event id, task): the loop's own schedule while it
        # runs (``_skip``), handed to SimPy with the ids they reserved before it yields (``_to_simpy``).
        self._io: list[tuple[float, int, Task]] = []
        self.arrivals = arrivals
        self._wake: simpy.Event | None = None
        self.process: simpy.Process | None = None
        self.halted = env.event()
        self.halt_reason: str | None = None
        self._began = 0.0  # when the current iteration began
        self._still = 0  # iterations in a row that ended where they began in simulated time
        self._last_callback = False  # the running callback is the last of its check phase
        self._last_polled = False  # the running callback is the last of its poll phase (no arrivals run)
        self._in_check = False  # the loop is in its check phase (the callback may be in a later poll phase)

    def start(self) -> simpy.Process:
        """Start the loop, as Node does once the main script has run synchronously."""
        self.process = self.env.process(self._run())
        return self.process

    def start_at_once(self) -> simpy.Process | None:
        """Start the loop as ``start`` does, with nothing scheduled in SimPy yet, but run it now
        instead of from SimPy's Initialize event (which would run first and do the same, up to the
        loop's first yield). Returns the loop's process, waiting for what the loop yielded; None if
        the loop ended without yielding to SimPy: the run is over, SimPy has nothing to process
        before it. With no Initialize event, every event scheduled later takes an id one lower
        than it would have, so SimPy orders them as it would have."""
        generator = self._run()
        try:
            target = generator.send(None)
        except StopIteration:
            return None
        process = simpy.Process.__new__(simpy.Process)  # as simpy.Process(...) leaves it once started
        process.env, process.callbacks, process._generator, process._target = self.env, [], generator, target
        target.callbacks.append(process._resume)
        self.process = process
        return process

    @property
    def now(self) -> float:
        return self.env.now

    # ---------------------------------------------------------------- scheduling

    def set_immediate(self, task: Task) -> None:
        """Queue ``task`` for a check phase (the next one that begins after now)."""
        self._immediates.append(task)

    def set_activation(
        self,
        task: Task,
        fire: Callable[[float], object],
        hold_ms: float,
        fire_many: Callable[[list[float]], object],
        ahead: Callable[[int], list[str]],
    ) -> None:
        """Queue ``task`` for a check phase as ``set_immediate``, and say what each resume of it
        does, now and every time it is queued again: ``fire(now)`` (its synchronous effects), then
        it holds the thread for ``hold_ms`` (a ``Work``, 0: none), then it re-queues itself with
        ``setImmediate`` (an immediate actor without lookups). ``batches_in_place`` may then run
        its resumes in place, by calling ``fire``, and leave the task suspended where it is;
        ``fire_many(times)`` is ``fire`` at each of ``times`` in order, in one call (for resumes
        whose effects nothing reads before the last one); ``ahead(n)``: the workspaces its next
        ``n`` resumes set, in order (``activation_alone``)."""
        self._activations[task] = (fire, hold_ms, fire_many, ahead)
        self._immediates.append(task)

    def activations_queued(self) -> bool:
        """Whether the check queue holds tasks and all of them are ``set_activation``'s."""
        immediates, activations = self._immediates, self._activations
        if not immediates:
            return False
        for task in immediates:
            if task not in activations:
                return False
        return True

    def activation_alone(self) -> Activation | None:
        """The one task the check queue holds, if it is a ``set_activation``'s: what it does at
        each resume (None: the queue holds another task, or more than one, or none)."""
        immediates = self._immediates
        return self._activations.get(immediates[0]) if len(immediates) == 1 else None

    def set_timeout(self, ms: float, task: Task) -> None:
        """Run ``task`` in the first timers phase at or after ``timer_due(now, ms)``."""
        heapq.heappush(self._timers, (timer_due(self.env.now, ms), next(self._seq), task))

    def set_interval(self, period_ms: float, factory: Callable[[], Task], start_ms: float | None = None) -> Interval:
        """Start ``factory()`` every ``period_ms``, re-armed from each firing (no catch-up)."""
        handle = Interval(period_ms, factory)
        first = timer_due(self.env.now if start_ms is None else start_ms, period_ms)
        heapq.heappush(self._timers, (first, next(self._seq), handle))
        return handle

    def deliver(self, task: Task) -> None:
        """An I/O completion or external arrival: ``task`` runs in the next poll phase."""
        self._arrived.append((self.env.now, task))
        if len(self._arrived) > MAX_WAITING:
            self.halt(f"more than {MAX_WAITING} callbacks wait for the poll phase: the loop cannot keep up")
        if self._wake is not None and not self._wake.triggered:
            self._wake.succeed()

    def start_io(self, ms: float, task: Task) -> None:
        """Begin an I/O of ``ms``; ``task`` is delivered when it completes.

        The completion is what a SimPy timeout started now would be: due at ``now + ms``, with
        the next SimPy event id (reserved now, so every event keeps its place in SimPy's order).
        It waits in the loop's own schedule (no SimPy event) unless the loop yields to SimPy
        before it completes (``_to_simpy``); the oracle (``in_place`` off) schedules it at once."""
        env = self.env
        if self.in_place:
            heapq.heappush(self._io, (env._now + ms, next(env._eid), task))
        else:
            env.timeout(ms).callbacks.append(lambda _event: self.deliver(task))

    def _schedule_io(self, entry: tuple[float, int, Task]) -> None:
        """Put an I/O completion in SimPy's schedule as the timeout it stands for."""
        at, eid, task = entry
        done = simpy.Event(self.env)
        done._ok, done._value = True, None  # as simpy.Timeout leaves it: triggered, value None
        done.callbacks.append(lambda _event: self.deliver(task))
        heapq.heappush(self.env._queue, (at, simpy.events.NORMAL, eid, done))

    def _to_simpy(self) -> None:
        """Before the loop yields to SimPy: the I/Os in flight become SimPy events (with the
        ids they reserved, so SimPy orders them exactly as if scheduled when they began)."""
        while self._io:
            self._schedule_io(heapq.heappop(self._io))

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        """After the run: let go of what the loop and SimPy still hold (queued tasks, timers,
        arrivals, reads, the schedule), which refer back to the run's world, so that the run's
        objects are freed as soon as it is done instead of by the cyclic garbage collector."""
        self._immediates.clear()
        self._activations.clear()
        self._timers.clear()
        self._arrived.clear()
        self._io.clear()
        self.process = None
        for *_, event in self.env._queue:  # their callbacks resume the processes that wait on them
            if event.callbacks:
                event.callbacks.clear()
        self.env._queue.clear()
        if self.arrivals is not None:
            self.arrivals.sources.clear()

    def halt(self, reason: str) -> None:
        """End the run now (the running callback is not resumed); the first reason is kept."""
        self.stopped = True
        if not self.halted.triggered:
            self.halt_reason = reason
            self.halted.succeed()

    # ---------------------------------------------------------------- the loop

    def _run(self) -> Generator[simpy.Event, Any, None]:
        env, immediates = self.env, self._immediates
        while not self.stopped:
            self._begin_iteration()
            if self._timers and self._timers[0][0] <= self._began:
                yield from self._timers_phase(self._began)
            if self._arrived or not immediates or (self.arrivals is not None and self.arrivals.next_ms <= env.now):
                yield from self._poll_phase()  # else it would find nothing to run and not block
            # (the poll phase's last callback may have gone on, in place, as the last callback of this
            # or a later iteration's check phase (batches_in_place): that check phase has run)
            self._in_check = True
            for left in range(0 if self._last_callback else len(immediates), 0, -1):  # the check phase
                if self.stopped:
                    break
                self._last_callback = left == 1
                task = immediates.popleft()
                while (ms := self._callback(task)) is not None:
                    self._to_simpy()
                    yield env.timeout(ms)
            self._last_callback = self._last_polled = self._in_check = False
            if not self.stopped and not self._skip(env.now + self.iteration_ms):
                self._to_simpy()
                yield env.timeout(self.iteration_ms)
            self._end_iteration()
        self._to_simpy()  # what is still in flight completes in SimPy, as it would have

    def _begin_iteration(self) -> None:
        self.iterations += 1
        self._began = self.env.now
        self.probe.timers_phase(self._began)

    def _end_iteration(self) -> None:
        """After the iteration's overhead: halt a loop that stands still or runs too long."""
        self._still = self._still + 1 if self.env.now == self._began else 0
        if self._still >= STALL_ITERATIONS:
            self.halt(f"simulated time stood still for {STALL_ITERATIONS} loop iterations")
        elif self.iterations >= MAX_ITERATIONS:
            self.halt(f"the run reached {MAX_ITERATIONS} loop iterations")

    def resume_in_place(self) -> float | None:
        """``await setImmediate`` for the running callback when the loop would run nothing else
        before resuming it: it is the last callback of a check phase, nothing else is queued,
        and no timer, read or SimPy event comes before the next iteration begins; aggregated
        arrivals may (the next poll phase runs them, and nothing else, before the check phase).
        Then this does what the loop would do (end this iteration, begin the next: the clock,
        the counters, the delay probe, that poll phase's activations) and returns the ms those
        activations hold the thread (0.0: none): the caller holds them (``Work``, or ``held``)
        and goes on as if resumed, with no trip through the loop. Otherwise None, nothing
        changed: the caller yields IMMEDIATE. None also when that poll phase halted the run
        (too many arrivals): the caller yields IMMEDIATE and is never resumed, as in the loop.

        A callback that ``reads_in_place`` resumed from a check phase into a later poll phase
        (the loop still in that check phase) resumes at once: that poll phase's check phase
        runs it next, with nothing before it.
        """
        if self._last_polled and self._in_check and self.in_place and not self._immediates and not self.stopped:
            self._last_polled, self._last_callback = False, True
            return 0.0
        if not (self._last_callback and self.in_place) or self._immediates or self._arrived or self.stopped:
            return None
        env = self.env
        end = env._now + self.iteration_ms
        if not _nothing_scheduled(env, end) or (self._timers and self._timers[0][0] <= end):
            return None
        if self._io and self._io[0][0] <= end:  # a read completes first: the next poll phase runs it
            return None
        still = self._still + 1 if end == self._began else 0
        if still >= STALL_ITERATIONS or self.iterations >= MAX_ITERATIONS:
            return None  # the loop halts here: let it
        env._now = end  # as _skip: the iteration's overhead, with nothing scheduled meanwhile
        self._still = still
        self._begin_iteration()
        arrivals = self.arrivals
        if arrivals is None or arrivals.next_ms > end:
            return 0.0
        until = arrivals.poll_alone(self)  # the poll phase (the check phase holds only the caller)
        return None if until is None else max(0.0, until - end)

    def read_in_place(self, ms: float) -> bool:
        """``await`` an I/O of ``ms`` for the running callback when the loop would run nothing else
        before resuming it: it is the last callback of a poll phase, nothing is queued for the
        check phase, and no timer, aggregated arrival, other read or SimPy event comes before the
        read completes and the next iteration begins. Then this does what the loop would do (end
        this iteration, begin the next, whose poll phase waits idle for the read if it is still
        in flight, then resumes the caller as its last callback) and returns True: the caller
        goes on as if resumed by the read. Otherwise False, nothing changed: it yields ``IO(ms)``.
        """
        if not (self._last_polled and self.in_place) or self._immediates or self._arrived or self.stopped:
            return False
        env = self.env
        at, end = env._now + ms, env._now + self.iteration_ms  # as start_io and the overhead's _skip
        last = max(at, end)
        if not _nothing_scheduled(env, last) or (self._io and self._io[0][0] <= last):
            return False
        if self._timers and (self._timers[0][0] <= last or end + (self._timers[0][0] - end) <= at):
            return False  # (the second: where _block's wait for the timer would end)
        arrivals = self.arrivals
        if arrivals is not None and (arrivals.next_ms <= last or end + (arrivals.next_ms - end) <= at):
            return False
        still = self._still + 1 if end == self._began else 0
        if still >= STALL_ITERATIONS or self.iterations >= MAX_ITERATIONS:
            return False  # the loop halts here: let it
        env._now = end  # the check phase has nothing to run; the iteration's overhead
        self._still = still
        self._begin_iteration()
        if at > end:  # the poll phase blocks until the read completes (_block)
            env._now = at
            self.probe.idle_until(at)
        return True

    def reads_in_place(
        self,
        rows: Sequence[int],
        first: int,
        io_ms: float,
        batch_end: Callable[[float, int], float],
    ) -> tuple[int, float]:
        """The running callback's batch of ``rows[first]`` rows then an awaited read of ``io_ms``,
        then the same for ``rows[first + 2]``, ... (up to a 0), while each batch's work
        (``batch_end(t, rows) - t``) can be held in place (``held``) and each read resumes in
        place (``read_in_place``): nothing else runs meanwhile, so one bound (the first SimPy
        event, read, timer or arrival) decides every step. The same clock, counters and delay
        probe as those calls one by one. Returns (steps done: a batch, or a batch and its read,
        each counting one; ms of the last batch's work left to hold: the caller yields ``Work``
        of them, then its read). The callback may be the
        last of a check phase too: after a read it is the last of a poll phase (so a yield of it
        resumes at once: ``resume_in_place``).
        """
        last_callback = self._last_polled or self._last_callback
        if not (last_callback and self.in_place) or self._immediates or self._arrived or self.stopped:
            return 0, 0.0
        env, probe, iteration_ms = self.env, self.probe, self.iteration_ms
        queue, io, timers, arrivals = env._queue, self._io, self._timers, self.arrivals
        held_below = min(queue[0][0] if queue else math.inf, io[0][0] if io else math.inf)
        timer = timers[0][0] if timers else None
        arriving = arrivals.next_ms if arrivals is not None else None
        now, still, began, iterations = env._now, self._still, self._began, self.iterations
        done, left = 0, 0.0
        for k in range(first, len(rows), 2):
            if not rows[k]:
                break
            ms = batch_end(now, rows[k]) - now
            done += 1
            if ms > 0:  # held
                if now + ms >= held_below:
                    left = ms
                    break
                now = now + ms
            at, end = now + io_ms, now + iteration_ms  # read_in_place
            last = max(at, end)
            if last >= held_below:
                break
            if timer is not None and (timer <= last or end + (timer - end) <= at):
                break
            if arriving is not None and (arriving <= last or end + (arriving - end) <= at):
                break
            still = still + 1 if end == began else 0
            if still >= STALL_ITERATIONS or iterations >= MAX_ITERATIONS:
                break
            now = began = end
            iterations += 1
            probe.timers_phase(now)
            if at > end:
                now = at
                probe.idle_until(at)
            done += 1
            self._last_callback, self._last_polled = False, True
        env._now, self._still, self._began, self.iterations = now, still, began, iterations
        return done, left

    def quiet_iteration(self) -> bool:
        """A cheap first look for ``batches_in_place``: whether the next iteration begins before
        any timer, read, aggregated arrival or SimPy event (False: no batch would run)."""
        end = self.env._now + self.iteration_ms
        queue, arrivals = self.env._queue, self.arrivals
        return (
            (arrivals is None or arrivals.next_ms > end)
            and (not queue or queue[0][0] > end)
            and (not self._timers or self._timers[0][0] > end)
            and (not self._io or self._io[0][0] > end)
        )

    def batches_in_place(
        self,
        rows: Sequence[int],
        first: int,
        batch_end: Callable[[float, int], float],
        reads_global: bool = True,
    ) -> tuple[int, float]:
        """The running callback's ``await setImmediate`` then a batch of ``rows[first]`` rows,
        then the same for ``rows[first + 2]``, ... (up to a 0), while each yield would resume in
        place with no aggregated arrival due (``resume_in_place`` returning 0.0) but for the
        immediate actors queued before it (``set_activation``: each is fired in queue order at
        the start of each check phase and holds its ms, as the loop would resume it) and each
        batch's work (``batch_end(t, rows) - t`` from its start ``t``) can be held in place
        (``held``): nothing else runs meanwhile, so nothing that was scheduled moves, and one
        bound (the first SimPy event, read, timer or arrival) decides every step. The same
        clock, counters and delay probe as those calls one by one; the actors' tasks stay
        suspended and queued as they were. Returns (batches begun, ms of the last one's work
        left to hold: the caller yields ``Work`` of them; 0.0 if none).

        The callback may be the last of a poll phase too: then the first yield resumes in the
        check phase that follows at once (no iteration ends before it), and from there on the
        callback is the last of a check phase (the loop then skips the check phase of the
        iteration it started in, which these steps ran). ``reads_global`` False: the batches do
        not read what the actors set (a pinned list, hits only), so one actor's activations are
        counted in one call at the end (``fire_many``), as aggregated arrivals are collapsed; or
        the batches read the workspaces it sets from its ``ahead`` names, drawn before the first
        (``listing._fresh_batches``).
        """
        polled = self._last_polled  # (the last of a poll phase; else the last of a check phase)
        if not ((self._last_callback or polled) and self.in_place) or self._arrived or self.stopped:
            return 0, 0.0
        fired: list[Activation] = []  # the actors queued, in queue order (activations_queued)
        holds: list[float] = []  # their holds, in that order
        for task in self._immediates:
            activation = self._activations.get(task)
            if activation is None:
                return 0, 0.0
            fired.append(activation)
            if activation[1] > 0:
                holds.append(activation[1])
        times: list[float] | None = None  # one actor's activation times, fired at the end
        if len(fired) == 1 and not reads_global:
            times, one_hold_ms = [], fired[0][1]
        env, probe, iteration_ms = self.env, self.probe, self.iteration_ms
        queue, io, timers = env._queue, self._io, self._timers
        held_below = min(queue[0][0] if queue else math.inf, io[0][0] if io else math.inf)
        resumed_below = min(held_below, timers[0][0] if timers else math.inf)
        if self.arrivals is not None:
            resumed_below = min(resumed_below, self.arrivals.next_ms)
        now, still, began, iterations = env._now, self._still, self._began, self.iterations
        due, max_ms, sample = probe.due, probe.max_ms, probe.samples.append  # the probe's, written back
        done, left = 0, 0.0
        for batch in itertools.islice(rows, first, None, 2):
            if not batch:
                break
            if polled:  # resume_in_place from a poll phase: at once, in this iteration's check phase
                if fired:  # the actors' holds, each held in place (_skip) before the list resumes
                    t = now
                    for hold_ms in holds:
                        t = t + hold_ms
                    if t >= held_below:
                        break
            else:  # resume_in_place: the iteration ends, the next begins
                end = now + iteration_ms
                if end >= resumed_below:  # (then below held_below too: only holds can reach it)
                    break
                if holds:
                    t = end
                    for hold_ms in holds:
                        t = t + hold_ms
                    if t >= held_below:
                        break
                still = still + 1 if end == began else 0
                if still >= STALL_ITERATIONS or iterations >= MAX_ITERATIONS:
                    break
                now = began = end
                iterations += 1
                if now >= due:  # DelayProbe.timers_phase
                    late = now - due
                    sample((now, late, 1))
                    if late > max_ms:  # max(), without the call: the same value
                        max_ms = late
                    due = now + PROBE_RESOLUTION_MS
            if times is not None:  # the check phase: the actor (fired at the end), then the list
                times.append(now)
                if one_hold_ms > 0:
                    now = now + one_hold_ms
            else:
                for fire, hold_ms, _, _ in fired:  # the check phase: the actors in queue order, then the list
                    fire(now)
                    if hold_ms > 0:
                        now = now + hold_ms
            done += 1
            if polled:  # from here on the last callback of a check phase
                polled, self._last_polled, self._last_callback = False, False, True
            ms = batch_end(now, batch) - now
            if ms > 0:  # held
                if now + ms >= held_below:
                    left = ms
                    break
                now = now + ms
        if times:
            fired[0][2](times)
        env._now, self._still, self._began, self.iterations = now, still, began, iterations
        probe.due, probe.max_ms = due, max_ms
        return done, left

    def held(self, ms: float) -> bool:
        """Hold the thread for ``ms`` in the running callback without yielding, as ``_callback``
        does with a yielded ``Work(ms)``: True when done (nothing can happen meanwhile), else
        False and nothing changed (the caller yields ``Work(ms)``)."""
        return self.in_place and (ms <= 0 or self._skip(self.env._now + ms))

    def _timers_phase(self, loop_time: float) -> Iterator[simpy.Event]:
        while self._timers and self._timers[0][0] <= loop_time and not self.stopped:
            _, _, entry = heapq.heappop(self._timers)
            if isinstance(entry, Interval):
                if entry.cleared:
                    continue
                heapq.heappush(self._timers, (timer_due(self.env.now, entry.period_ms), next(self._seq), entry))
                entry = entry.factory()
            yield from self.drive(entry)

    def _poll_phase(self) -> Iterator[simpy.Event]:
        arrivals = self.arrivals
        arriving_ms = None if arrivals is None else arrivals.next_ms
        if not self._arrived and not self._immediates and not (arriving_ms is not None and arriving_ms <= self.env.now):
            yield from self._block(arriving_ms)
        if arrivals is not None and arrivals.next_ms <= self.env.now:  # else the same as the reference
            yield from arrivals.poll(self, [self._arrived.popleft() for _ in range(len(self._arrived))])
            return
        for left in range(len(self._arrived), 0, -1):
            if self.stopped:
                break
            self._last_polled = left == 1
            yield from self.drive(self._arrived.popleft()[1])
        self._last_polled = False

    def _block(self, arriving_ms: float | None = None) -> Iterator[simpy.Event]:
        """Wait for the next timer, a delivery, or the aggregated sources' next arrival."""
        wait = self._timers[0][0] - self.env.now if self._timers else None
        if wait is not None and wait <= 0:
            return
        if arriving_ms is not None and arriving_ms != math.inf:
            wait = arriving_ms - self.env.now if wait is None else min(wait, arriving_ms - self.env.now)
        until = None if wait is None else self.env.now + wait  # when SimPy's timeout would end
        if self._io and (until is None or self._io[0][0] < until):  # a read completes first
            until = self._io[0][0]
        if until is not None and self._skip(until):  # nothing else can arrive before
            self.probe.idle_until(self.env.now)
            return
        self._to_simpy()
        self._wake = wake = self.env.event()
        if wait is not None:  # the timeout wakes the loop unless a delivery did (no Condition event)
            self.env.timeout(wait).callbacks.append(lambda _event: _succeed_once(wake))
        yield wake
        self._wake = None
        if self.halted.triggered:  # a delivery halted the run as it woke the loop: stay stopped here
            self._to_simpy()
            yield self.env.event()
        self.probe.idle_until(self.env.now)

    def hold(self, ms: float) -> Iterator[simpy.Event]:
        """Hold the thread for ``ms`` (> 0): a SimPy timeout, or none when nothing can happen meanwhile."""
        if not self._skip(self.env.now + ms):
            self._to_simpy()
            yield self.env.timeout(ms)

    def drive(self, task: Task) -> Iterator[simpy.Event]:
        """Run one callback: resume ``task`` until it awaits something or returns."""
        while (ms := self._callback(task)) is not None:
            self._to_simpy()
            yield self.env.timeout(ms)

    def _skip(self, end: float) -> bool:
        """Move the clock to ``end`` at once if no SimPy event is scheduled at or before it (then
        a timeout ending at ``end`` would be the next event SimPy processes, after the loop's
        own I/Os due by then: those are delivered first, in SimPy's order, as their timeouts
        would deliver them); False, and nothing changed, otherwise (also when those deliveries
        would overrun ``MAX_WAITING``: SimPy delivers them and halts the run where it should).
        ``end`` must be computed as SimPy would (``now + delay``) for the clocks to stay
        byte-identical."""
        if not _nothing_scheduled(self.env, end):
            return False
        io = self._io
        if io and io[0][0] <= end:
            if len(self._arrived) + sum(1 for at, _, _ in io if at <= end) > MAX_WAITING:
                return False
            while io and io[0][0] <= end:
                at, _, task = heapq.heappop(io)
                self._arrived.append((at, task))
        self.env._now = end  # SimPy's clock: advancing it here is what processing that timeout would do
        return True

    def _callback(self, task: Task) -> float | None:
        """Resume ``task`` until it awaits something or returns (then None), or until it holds
        the thread for a ``Work`` of ms that only a SimPy timeout can hold (then those ms: the
        caller waits them out and calls again, and the callback goes on)."""
        for op in task:
            if type(op) is Work:
                if op.ms > 0 and not self._skip(self.env._now + op.ms):
                    return op.ms
                continue
            if op is IMMEDIATE:
                self.set_immediate(task)
            elif type(op) is Sleep:
                self.set_timeout(op.ms, task)
            elif type(op) is IO:
                self.start_io(op.ms, task)
            else:
                raise TypeError(f"a task yielded {op!r}; expected Work, IMMEDIATE, Sleep or IO")
            return None
        return None


def _succeed_once(event: simpy.Event) -> None:
    if not event.triggered:
        event.succeed()


def _nothing_scheduled(env: simpy.Environment, end: float) -> bool:
    """Whether no SimPy event is scheduled at or before ``end`` (``peek() > end``)."""
    queue = env._queue  # SimPy's schedule, read as ``peek()`` does (this runs once per callback)
    return not queue or queue[0][0] > end
