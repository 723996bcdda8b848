"""The plugin-metadata snapshot memo and the cache rules around it.

``Memo`` is the store: policies ``none`` (every lookup scans), ``single`` (one slot for
all keys), ``lru`` (``capacity`` entries, least recently used evicted) and ``ttl`` (an
entry serves for ``ttl_ms`` after it was stored, optionally bounded like an LRU). Each
entry remembers when it was stored and for which workspace it was computed.

``MetadataCache`` is what a lookup meets in openclaw (``loadPluginMetadataSnapshot`` behind
the gateway's published "current snapshot"): the memo key of lookup j, the fast path for
the gateway's own workspace, the full scan on a miss, and whether a hit served stale
metadata.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from ..scenario import MemoSpec
from ..scenario.costs import Sampler
from .registry import Registry

Entry = tuple[float, str]  # (stored at ms, workspace the scan was for)


class Memo:
    """Keyed memo; ``lookup`` answers hit or miss and updates the entries."""

    __slots__ = ("slots", "ttl_ms", "entries")

    def __init__(self, spec: MemoSpec):
        self.slots = spec.slots
        self.ttl_ms = spec.ttl_ms
        self.entries: OrderedDict[Hashable, Entry] = OrderedDict()

    def lookup(self, key: Hashable, now: float) -> Entry | None:
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


class MetadataCache:
    """Lookups of plugin metadata: key rule, current snapshot, memo, scans and staleness."""

    __slots__ = ("memo", "registry", "scan_cost", "hit_ms", "keyed", "fingerprinted", "current_snapshot")

    def __init__(self, spec: MemoSpec, registry: Registry, scan_cost: Sampler, snapshot_workspace: str | None):
        self.memo = Memo(spec)
        self.registry = registry
        self.scan_cost = scan_cost
        self.hit_ms = spec.hit_ms
        self.keyed = spec.key == "workspace"
        self.fingerprinted = spec.fingerprinted
        # The workspace the gateway's published snapshot serves for free (None: no fast path).
        self.current_snapshot = snapshot_workspace

    def keys(self, workspace: str, lookups: int) -> tuple[Hashable, ...]:
        """Memo keys of lookups 0..n-1: (workspace, j), or (j,) for PR 77985's unkeyed cache."""
        if self.keyed:
            return tuple((workspace, j) for j in range(lookups))
        return tuple((j,) for j in range(lookups))

    def lookup(self, workspace: str, key: Hashable, now: float) -> tuple[bool, bool, float]:
        """One lookup at ``now``: (hit, stale, ms it holds the thread).

        A hit is stale when the memo cannot vouch for its entry (a TTL or unkeyed cache)
        and the entry was computed for another workspace or before the registry last
        changed: the metadata maintainers refused to serve. A miss scans synchronously
        and stores its result as of the scan's end.
        """
        if self.current_snapshot == workspace:
            return True, False, 0.0
        entry = self.memo.lookup(key, now)
        if entry is not None:
            stale = not self.fingerprinted and (entry[1] != workspace or entry[0] < self.registry.changed_at)
            return True, stale, self.hit_ms
        cost = self.scan_cost()
        self.memo.store(key, now + cost, workspace)
        return False, False, cost

    def steady(self, workspace: str, keys: tuple[Hashable, ...], now: float, until: float) -> bool:
        """Whether these lookups keep hitting until ``until`` if nothing else runs."""
        return self.current_snapshot == workspace or self.memo.stable_for(keys, now, until)
