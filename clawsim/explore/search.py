"""Searching the schedules of one ``Model``: exhaustively over merged states, or by sampling.

Exhaustive: breadth first, one layer per step of the list walk; the schedules that reach the
same canonical state are merged into one node, which keeps how many schedules reached it and,
per metric, the least and the most any of them had accumulated with the choice that gave it.
Every metric adds up along a schedule and what a step adds depends only on the state it
starts from (model.py), so the extremes over all schedules are the extremes over the last
layer's nodes, and the number of states per layer, not the number of schedules, bounds the
work (polynomial where 2^steps schedules exist). ``minimal`` finds the fewest activations
that violate a property the same way, with the metric (capped just past the bound) in the node.

Sampled: when a layer would pass ``max_states``, random schedules (each gap's choice uniform
over its choices, from a seeded stream) give the worst found and how many states they saw.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from .model import METRICS, Choice, Model, State

Path = tuple[Choice, ...]


@dataclass
class Extremes:
    """The least and most of each metric over the schedules searched, and a schedule for each."""

    lo: list[float]
    hi: list[float]
    lo_path: list[Path]
    hi_path: list[Path]

    def metric(self, name: str) -> tuple[float, float]:
        i = METRICS.index(name)
        return self.lo[i], self.hi[i]


@dataclass
class Search:
    """What a search found: ``mode`` exhaustive or sampled; ``schedules`` the number of distinct
    schedules (exhaustive: all of them; sampled: the samples drawn); ``states`` the canonical
    states met (summed over steps); ``seconds`` of wall time; ``note`` why it sampled."""

    mode: str
    extremes: Extremes
    schedules: int
    states: int
    transitions: int
    seconds: float
    note: str = ""
    per_step: list[int] = field(default_factory=list)


class TooLarge(Exception):
    """A layer passed the state budget; ``str()`` says where."""


def exhaustive(model: Model, max_states: int = 200_000) -> Search:
    """Every schedule within ``model.bounds``; raises TooLarge past ``max_states`` states."""
    began = time.perf_counter()
    n = len(METRICS)
    zero = [0.0] * n
    # node: [schedules, lo, hi, lo back-pointers, hi back-pointers]; back-pointer: (state, choice)
    layers: list[dict[State, list]] = [{model.start: [1, zero, zero, [None] * n, [None] * n]}]
    states, transitions = 1, 0
    for g, step in enumerate(model.steps):
        nxt: dict[State, list] = {}
        for state, (count, lo, hi, _, _) in layers[-1].items():
            for choice, after, inc in model.transitions(state, step):
                transitions += 1
                node = nxt.get(after)
                if node is None:
                    back = (state, choice)
                    nxt[after] = [
                        count,
                        [a + b for a, b in zip(lo, inc, strict=True)],
                        [a + b for a, b in zip(hi, inc, strict=True)],
                        [back] * n,
                        [back] * n,
                    ]
                    continue
                node[0] += count
                nlo, nhi = node[1], node[2]
                for i in range(n):
                    v = lo[i] + inc[i]
                    if v < nlo[i]:
                        nlo[i], node[3][i] = v, (state, choice)
                    v = hi[i] + inc[i]
                    if v > nhi[i]:
                        nhi[i], node[4][i] = v, (state, choice)
        states += len(nxt)
        if states > max_states:
            raise TooLarge(f"more than {max_states:,} states by step {g + 1} of {len(model.steps)}")
        layers.append(nxt)
    last = layers[-1]
    ext = Extremes([0.0] * n, [0.0] * n, [()] * n, [()] * n)
    for i in range(n):
        lo_state = min(last, key=lambda s: last[s][1][i])
        hi_state = max(last, key=lambda s: last[s][2][i])
        ext.lo[i], ext.lo_path[i] = last[lo_state][1][i], _path(layers, lo_state, 3, i)
        ext.hi[i], ext.hi_path[i] = last[hi_state][2][i], _path(layers, hi_state, 4, i)
    schedules = sum(node[0] for node in last.values())
    per_step = [len(layer) for layer in layers]
    return Search("exhaustive", ext, schedules, states, transitions, time.perf_counter() - began, per_step=per_step)


def _path(layers: list[dict[State, list]], state: State, slot: int, i: int) -> Path:
    """The choices that led to ``state`` in the last layer along metric i's back-pointers."""
    choices = []
    for g in range(len(layers) - 1, 0, -1):
        prev, choice = layers[g][state][slot][i]
        choices.append(choice)
        state = prev
    return tuple(reversed(choices))


def minimal(model: Model, metric: str, cap: int, violated: object, max_states: int = 200_000) -> Path | None:
    """The schedule with the fewest activations whose ``metric`` (an integer count) makes
    ``violated(value)`` true, or None if none does. ``cap``: values above it are told apart
    no further (one past the property's bound), so the search stays finite."""
    i, a = METRICS.index(metric), METRICS.index("activations")
    layers: list[dict[tuple, tuple]] = [{(model.start, 0): (0, None)}]
    states = 1
    for step in model.steps:
        nxt: dict[tuple, tuple] = {}
        for (state, value), (acts, _) in layers[-1].items():
            for choice, after, inc in model.transitions(state, step):
                key = (after, min(cap, value + int(inc[i])))
                cost = acts + int(inc[a])
                if key not in nxt or cost < nxt[key][0]:
                    nxt[key] = (cost, ((state, value), choice))
        states += len(nxt)
        if states > max_states:
            raise TooLarge(f"more than {max_states:,} states in the counterexample search")
        layers.append(nxt)
    bad = [k for k in layers[-1] if violated(k[1])]  # type: ignore[operator]
    if not bad:
        return None
    key = min(bad, key=lambda k: layers[-1][k][0])
    choices = []
    for g in range(len(layers) - 1, 0, -1):
        prev, choice = layers[g][key][1]
        choices.append(choice)
        key = prev
    return tuple(reversed(choices))


def sampled(model: Model, samples: int, seed: int, note: str = "") -> Search:
    """``samples`` random schedules (each gap's choice uniform over that gap's choices)."""
    began = time.perf_counter()
    rng = random.Random(seed)
    n = len(METRICS)
    ext = Extremes([float("inf")] * n, [float("-inf")] * n, [()] * n, [()] * n)
    seen: set[tuple[int, State]] = set()
    transitions = 0
    for _ in range(samples):
        state, total, path = model.start, [0.0] * n, []
        for g, step in enumerate(model.steps):
            options = model.transitions(state, step)
            transitions += len(options)
            choice, state, inc = options[rng.randrange(len(options))]
            seen.add((g, state))
            path.append(choice)
            total = [x + y for x, y in zip(total, inc, strict=True)]
        for i in range(n):
            if total[i] < ext.lo[i]:
                ext.lo[i], ext.lo_path[i] = total[i], tuple(path)
            if total[i] > ext.hi[i]:
                ext.hi[i], ext.hi_path[i] = total[i], tuple(path)
    return Search("sampled", ext, samples, len(seen), transitions, time.perf_counter() - began, note=note)
