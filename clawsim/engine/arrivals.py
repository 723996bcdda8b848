"""Poisson arrivals aggregated per poll phase: a run costs its yields, not its arrivals.

Inbound turns that land while the thread is held all wait for the next poll phase and run
there first in, first out (docs/event-loop.md §8), so the loop cannot tell *when* inside the
gap they landed, only their order among the phase's other completions. The aggregated
engine therefore draws, at each poll phase, what every source delivered since the last one
and runs it inside that phase, with no SimPy event per arrival:

- A source is all copies of one poisson actor: the superposition of ``count`` independent
  Poisson processes of rate ``rate_per_s`` is a Poisson process of rate
  ``count * rate_per_s`` whose points belong to copies chosen uniformly and independently.
- Each source (``sources.PoissonSource``) draws its arrival times ahead, in blocks, from its
  own stream only, and keeps ``next_ms``, the first not yet delivered. At a poll phase at
  ``now`` a source delivers every arrival up to ``now``; the loop blocked idle wakes at
  ``next_ms``, exactly when the reference's first arrival would wake it. The times never
  depend on when the loop polls, so every variant of a plan point sees the same arrivals
  (common random numbers).
- The phase runs the arrivals and the other completions (I/O, requests) in arrival-time
  order.
- Activations without lookups collapse: their effect on the global is its setter count,
  the value changes between consecutive values and the last value (``collapse``), with
  their work summed; activations with lookups run one by one, still without SimPy events.

The scenario chooses the engine (``loop.engine``, default ``aggregated``), and
``simulate_once(..., options=EngineOptions(engine=...))`` may override it (tests, benchmarks).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..timeline import names
from .loop import MAX_WAITING
from .metrics import RunStats
from .registry import Registry
from .sources import PoissonSource
from .tracer import Tracer

if TYPE_CHECKING:
    from .loop import EventLoop

Streak = tuple[int, int]  # (source index, consecutive activations from it)


class Arrivals:
    """The aggregated poisson sources of one run, and the poll phase that runs them.

    ``deadline_ms`` is ``loop.max_sim_ms``: an activation that would start after it is not
    run, as the reference engine stops there mid-phase.
    """

    def __init__(self, registry: Registry, stats: RunStats, deadline_ms: float):
        self.registry = registry
        self.stats = stats
        self.deadline_ms = deadline_ms
        self.sources: list[PoissonSource] = []
        self.next_ms = float("inf")  # the first arrival not yet delivered, over all sources
        self.all_collapsible = True

    def add(self, source: PoissonSource) -> None:
        self.sources.append(source)
        self.all_collapsible = self.all_collapsible and source.collapsible
        self.next_ms = min(self.next_ms, source.next_ms)

    def poll(self, loop: EventLoop, entries: list[tuple[float, Any]]) -> Iterator[Any]:
        """One poll phase at ``loop.now``: the arrivals since the last one, and ``entries``
        (the other completions, as (delivered at, task)), run in arrival-time order."""
        env = loop.env
        if not entries:  # the common case: nothing else arrived
            alone = self.poll_alone(loop)
            if alone is not None and alone > env.now:
                yield from loop.hold(alone - env.now)
            return
        segments = self.draw(env.now, [at for at, _ in entries])
        if self._overrun(loop, segments):
            return
        for (_, task), streaks in zip(entries, segments[:-1], strict=True):
            if streaks and (until := self.run_streaks(streaks, env.now)) > env.now:  # the thread is held by these
                yield from loop.hold(until - env.now)
            if loop.stopped:
                return
            yield from loop.drive(task)
        if not loop.stopped and (until := self.run_streaks(segments[-1], env.now)) > env.now:
            yield from loop.hold(until - env.now)

    def poll_alone(self, loop: EventLoop) -> float | None:
        """A poll phase at ``loop.now`` in which nothing but these sources delivered: run what
        they delivered; the time those activations hold the thread until (the caller holds it),
        or None when the run halted instead (more arrived than ``MAX_WAITING``)."""
        now = loop.env.now
        if len(self.sources) == 1:  # the common case: one source
            streaks = [(0, self.sources[0].count_until(now))]
            self.next_ms = self.sources[0].next_ms
            if streaks[0][1] > MAX_WAITING and self._overrun(loop, [streaks]):
                return None
            return self.run_streaks(streaks, now)
        segments = self.draw(now, [])
        if self._overrun(loop, segments):
            return None
        return now if loop.stopped else self.run_streaks(segments[-1], now)

    def _overrun(self, loop: EventLoop, segments: list[list[Streak]]) -> bool:
        """Halt the run when more arrivals came in since the last poll phase than the loop may
        have waiting (``MAX_WAITING``, as for callbacks queued one by one): it cannot keep up."""
        waiting = sum(n for streaks in segments for _, n in streaks)
        if waiting > MAX_WAITING:
            loop.halt(f"{waiting} arrivals wait for the poll phase (more than {MAX_WAITING}): the loop cannot keep up")
            return True
        return False

    def draw(self, now: float, entry_ms: list[float]) -> list[list[Streak]]:
        """The arrivals since the last poll phase, in arrival order, as streaks of one source,
        split around the entries delivered at ``entry_ms``: before the first, ..., after the last."""
        segments: list[list[Streak]] = [[] for _ in range(len(entry_ms) + 1)]
        if self.next_ms > now:
            return segments
        if len(self.sources) == 1:
            due = [(0, self.sources[0].arrivals_until(now))]
            self.next_ms = self.sources[0].next_ms
        else:
            due = [(i, s.arrivals_until(now)) for i, s in enumerate(self.sources) if s.next_ms <= now]
            self.next_ms = min(s.next_ms for s in self.sources)
        if len(due) == 1:  # one source: its arrivals counted between the entries, no sort
            index, times = due[0]
            if not (entry_ms and entry_ms[-1] > times[0]):  # all after every entry
                segments[-1].append((index, len(times)))
                return segments
            arrived = times.tolist()  # bisect_left on floats: numpy's searchsorted (side left)
            cuts = [0, *(bisect.bisect_left(arrived, at) for at in entry_ms), len(arrived)]
            return [[(index, b - a)] if b > a else [] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        times = np.concatenate([t for _, t in due])
        labels = np.concatenate([np.full(len(t), i, dtype=np.int64) for i, t in due])
        order = np.argsort(times, kind="stable")
        labels, times = labels[order], times[order]
        cuts = [0, *np.searchsorted(times, entry_ms).tolist(), len(labels)]
        return [_streaks(labels[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]

    def run_streaks(self, streaks: list[Streak], t: float) -> float:
        """Run these activations in order from loop time ``t``; the time they hold the thread until."""
        if self.all_collapsible:
            return self.collapse(streaks, t)
        pending: list[Streak] = []
        for index, n in streaks:
            source = self.sources[index]
            if source.collapsible:
                pending.append((index, n))
                continue
            t = self.collapse(pending, t)
            pending = []
            for _ in range(n):
                if t > self.deadline_ms:
                    return t
                t += source.activate(source.advance(1)[0], t)
        return self.collapse(pending, t)

    def collapse(self, streaks: list[Streak], t: float) -> float:
        """Activations without lookups, in order from ``t``: the setter calls, the value
        changes, when the last one happened and the last value, as ``Registry.set`` one by
        one would leave them, and their work summed."""
        registry = self.registry
        for index, n in streaks:
            source, work_ms = self.sources[index], self.sources[index].work_ms
            if t > self.deadline_ms:
                return t
            late = work_ms > 0 and t + (n - 1) * work_ms > self.deadline_ms
            if late:  # the run ends during these: only those started by the deadline ran
                n = int((self.deadline_ms - t) // work_ms) + 1
            first, last, within, last_change = source.advance(n)
            registry.flips += n
            self.stats.actor_activations += n
            if first != registry.workspace:
                registry.changes += 1
                registry.changed_at = t
            if within:
                registry.changes += within
                registry.changed_at = t + last_change * work_ms
            if registry.tracer is not None:
                _trace_streak(registry.tracer, source, t, n, first != registry.workspace or within > 0, last, work_ms)
            registry.workspace = last
            t += n * work_ms
            if late:
                return t
        return t


def _trace_streak(
    tracer: Tracer, source: PoissonSource, t: float, n: int, changed: bool, last: str, work_ms: float
) -> None:
    """A streak of ``n`` setter calls collapsed in the tracer: one mark carrying the count (they are
    back to back from ``t``, ``work_ms`` apart), and their work as one turn span."""
    tracer.instant(names.SET, t, names.LOOP, workspace=last, changed=changed, count=n)
    if work_ms > 0:
        tracer.span(names.TURN, t, n * work_ms, f"actor {source.actor.name}", actor=source.actor.name, count=n)


def _streaks(labels: np.ndarray) -> list[Streak]:
    """Streaks (run-length encoding) of a sequence of source indices."""
    if len(labels) == 0:
        return []
    starts = np.concatenate(([0], np.flatnonzero(labels[1:] != labels[:-1]) + 1))
    lengths = np.diff(np.append(starts, len(labels)))
    return list(zip(labels[starts].tolist(), lengths.tolist(), strict=True))
