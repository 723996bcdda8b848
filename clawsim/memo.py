"""The plugin-metadata snapshot memo: a miss costs a synchronous full scan.

Policies: ``none`` (every lookup scans), ``single`` (one slot for all keys), ``lru``
(``capacity`` entries, least recently used evicted) and ``ttl`` (an entry serves for
``ttl_ms`` after it was stored, optionally bounded by ``capacity`` like an LRU).
Each entry remembers when it was stored and for which workspace it was computed, so
a caller can tell whether a hit served stale metadata.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np

from .scenario import CostMs, Empirical, Lognormal, MemoSpec, Uniform

Z95 = 1.6448536269514722  # standard normal quantile at 0.95


def cost_sampler(cost: CostMs, rng: np.random.Generator) -> Callable[[], float]:
    """A function drawing one cost in ms from a number or a distribution."""
    if isinstance(cost, (int, float)):
        value = float(cost)
        return lambda: value
    if isinstance(cost, Lognormal):
        mu, sigma = np.log(cost.p50), (np.log(cost.p95) - np.log(cost.p50)) / Z95
        return lambda: float(rng.lognormal(mu, sigma))
    if isinstance(cost, Uniform):
        return lambda: float(rng.uniform(cost.low, cost.high))
    if isinstance(cost, Empirical):
        values = np.asarray(cost.values, dtype=float)
        return lambda: float(values[rng.integers(len(values))])
    raise TypeError(f"not a cost: {cost!r}")


class Memo:
    """Keyed memo; ``lookup`` answers hit or miss and updates the entries."""

    __slots__ = ("slots", "ttl_ms", "entries")

    def __init__(self, spec: MemoSpec):
        self.slots = spec.slots
        self.ttl_ms = spec.ttl_ms
        # key -> (stored at ms, workspace the scan was for)
        self.entries: OrderedDict[Hashable, tuple[float, str]] = OrderedDict()

    def lookup(self, key: Hashable, now: float) -> tuple[float, str] | None:
        """The entry on a hit (it becomes most recent); None on a miss (nothing stored)."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        if self.ttl_ms is not None and now - entry[0] >= self.ttl_ms:
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return entry

    def store(self, key: Hashable, now: float, workspace: str) -> None:
        """Remember a scan's result, evicting the least recently used past capacity."""
        if self.slots == 0:
            return
        self.entries[key] = (now, workspace)
        self.entries.move_to_end(key)
        if self.slots is not None and len(self.entries) > self.slots:
            self.entries.popitem(last=False)

    def stable_for(self, keys: tuple[Hashable, ...], now: float, until: float) -> bool:
        """Whether ``keys`` stay hits from ``now`` to ``until`` if nothing else is looked up."""
        if self.ttl_ms is None:
            return all(k in self.entries for k in keys)
        return all(k in self.entries and until - self.entries[k][0] < self.ttl_ms for k in keys)
