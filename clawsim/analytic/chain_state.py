"""The chain's state: a population of weighted states, each a few times and memo flags.

A state is what the future of a list depends on: the time since the last poll phase
began (the poisson window so far), each timer's time until due, the fraction of a
millisecond of the loop clock (Node arms timers on whole milliseconds), and ``Flag``
bits about the registry and the memo. ``Population`` holds many states as parallel
arrays so a phase of the loop is applied to all of them at once.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .chain_params import ChainParams


class Flag(enum.IntFlag):
    """Facts about the registry and the memo, one bit each (stored in an int64 array)."""

    CHANGED_EVER = 1  # the global changed since time 0 (so it is not the default workspace)
    LIVE_HELD = 2  # the live global's keys are in the memo
    UNKEYED_HELD = 4  # the unkeyed memo holds its entries
    CHANGED_SINCE_STORE = 8  # a change happened since the last store (a hit now is stale)
    CHANGED_SINCE_LIST = 16  # a change happened since this list started (pin)
    PINNED_DEFAULT = 32  # the pinned value is the default workspace
    PINNED_HELD = 64  # the pinned value's keys are in the memo


# What a flip sets; it also clears LIVE_HELD (the new global's keys were never stored:
# workspaces are unique).
FLIPPED = Flag.CHANGED_EVER | Flag.CHANGED_SINCE_STORE | Flag.CHANGED_SINCE_LIST


def has(flags: np.ndarray, bit: Flag) -> np.ndarray:
    """Per state: whether ``bit`` is set."""
    return (flags & bit) > 0


def without(flags: np.ndarray, bits: Flag) -> np.ndarray:
    """``flags`` with ``bits`` cleared (the complement taken on the int, not within the enum)."""
    return flags & ~int(bits)


class Population:
    """States as arrays: probability ``p``, ms since the last poll phase began
    ``since_poll_ms``, each timer's ms until due ``due_ms`` (one column per timer), ``flags``,
    the loop clock's fraction of a millisecond ``clock_fraction_ms``, and
    ``since_row_end_ms`` (a scratch clock: ms since the row ended,
    inside an I/O wait)."""

    __slots__ = ("p", "since_poll_ms", "due_ms", "flags", "clock_fraction_ms", "since_row_end_ms")

    def __init__(
        self,
        p: np.ndarray,
        since_poll_ms: np.ndarray,
        due_ms: np.ndarray,
        flags: np.ndarray,
        clock_fraction_ms: np.ndarray,
        since_row_end_ms: np.ndarray | None = None,
    ):
        self.p, self.since_poll_ms, self.due_ms, self.flags = p, since_poll_ms, due_ms, flags
        self.clock_fraction_ms = clock_fraction_ms
        self.since_row_end_ms = np.zeros(len(p)) if since_row_end_ms is None else since_row_end_ms

    def __len__(self) -> int:
        return len(self.p)

    def take(self, idx: np.ndarray) -> Population:
        """The states selected by ``idx`` (a mask or indices), as a new population."""
        return Population(
            self.p[idx],
            self.since_poll_ms[idx],
            self.due_ms[idx],
            self.flags[idx],
            self.clock_fraction_ms[idx],
            self.since_row_end_ms[idx],
        )

    def copy(self) -> Population:
        return Population(
            self.p.copy(),
            self.since_poll_ms.copy(),
            self.due_ms.copy(),
            self.flags.copy(),
            self.clock_fraction_ms.copy(),
            self.since_row_end_ms.copy(),
        )

    def flip(self, mask: np.ndarray | None = None) -> None:
        """The global changes to a new workspace, in the states of ``mask`` (all if None), in place."""
        flipped = without(self.flags | FLIPPED, Flag.LIVE_HELD)
        self.flags = flipped if mask is None else np.where(mask, flipped, self.flags)

    @staticmethod
    def concat(pops: Sequence[Population], timers: int) -> Population:
        """All states of ``pops`` in order (an empty population with ``timers`` due columns if none)."""
        pops = [q for q in pops if len(q)]
        if not pops:
            return Population(np.zeros(0), np.zeros(0), np.zeros((0, timers)), np.zeros(0, dtype=np.int64), np.zeros(0))
        return Population(
            np.concatenate([q.p for q in pops]),
            np.concatenate([q.since_poll_ms for q in pops]),
            np.concatenate([q.due_ms for q in pops]),
            np.concatenate([q.flags for q in pops]),
            np.concatenate([q.clock_fraction_ms for q in pops]),
            np.concatenate([q.since_row_end_ms for q in pops]),
        )


class Totals:
    """Expected totals of one list, accumulated by linearity as the chain walks it."""

    def __init__(self) -> None:
        self.scans = self.hits = self.stale = self.flips = self.ms = 0.0


@dataclass
class Walk:
    """The mutable part of one chain run: the current list's ``acc``, the merge ``grid``
    (coarsened when states would be too many) and whether the run is still ``exact``."""

    params: ChainParams
    acc: Totals
    grid: float
    exact: bool

    @classmethod
    def start(cls, params: ChainParams) -> Walk:
        """A walk at the first list, with the parameters' grid and exactness."""
        return cls(params, Totals(), params.grid, params.exact)
