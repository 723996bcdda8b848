"""The plugin-metadata snapshot memo and the cache rules around it.

``Memo`` is the store: policies ``none`` (every lookup scans), ``single`` (one slot for
all keys), ``lru`` (``capacity`` entries, least recently used evicted), ``fifo`` (``capacity``
entries, oldest stored evicted: a hit does not refresh) and ``ttl`` (an entry serves for
``ttl_ms`` after it was stored, optionally bounded like an LRU); ``scenario.policy`` says
which is which. Each
entry remembers when it was stored and for which workspace it was computed.

``MetadataCache`` is what a lookup meets in openclaw (``loadPluginMetadataSnapshot`` behind
the gateway's published "current snapshot"): the memo key of lookup j, the fast path for
the gateway's own workspace, the full scan on a miss, and whether a hit served stale
metadata.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from ..scenario import MemoSpec
from ..scenario.costs import Draws, Sampler
from ..scenario.policy import MemoPolicy
from .registry import Registry

Entry = tuple[float, str]  # (stored at ms, workspace the scan was for)


class Memo:
    """Keyed memo; ``lookup`` answers hit or miss and updates the entries."""

    __slots__ = ("slots", "ttl_ms", "refresh", "entries")

    def __init__(self, policy: MemoPolicy):
        self.slots = policy.slots
        self.ttl_ms = policy.ttl_ms
        self.refresh = policy.refresh_on_hit
        self.entries: OrderedDict[Hashable, Entry] = OrderedDict()

    def lookup(self, key: Hashable, now: float) -> Entry | None:
        """The entry on a hit (it becomes most recent, unless the policy keeps store order);
        None on a miss (nothing stored)."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        if self.ttl_ms is not None and now - entry[0] >= self.ttl_ms:
            del self.entries[key]
            return None
        if self.refresh:
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
        entries, ttl_ms = self.entries, self.ttl_ms
        for k in keys:  # a loop, not all() over a generator: this runs once per batch
            if k not in entries or (ttl_ms is not None and until - entries[k][0] >= ttl_ms):
                return False
        return True


@dataclass(frozen=True, slots=True)
class MemoRules:
    """What a ``MemoSpec`` says the cache does, read once (its properties compute each time)."""

    policy: MemoPolicy
    keyed: bool
    fingerprinted: bool
    hit_ms: float

    @staticmethod
    def of(spec: MemoSpec) -> MemoRules:
        return MemoRules(spec.rules, spec.keyed, spec.fingerprinted, spec.hit_ms)


class MetadataCache:
    """Lookups of plugin metadata: key rule, current snapshot, memo, scans and staleness."""

    __slots__ = (
        "memo",
        "registry",
        "scan_cost",
        "scan_draws",
        "hit_ms",
        "keyed",
        "fingerprinted",
        "current_snapshot",
        "lru_order",
        "made_keys",
        "miss_overhead",
        "pre_miss",
        "scan_ahead",
    )

    def __init__(
        self,
        spec: MemoSpec,
        registry: Registry,
        scan_cost: Sampler,
        snapshot_workspace: str | None,
        scan_draws: Draws | None = None,
        rules: MemoRules | None = None,
    ):
        """``rules``: ``MemoRules.of(spec)``, if the caller has it made."""
        if rules is None:
            rules = MemoRules.of(spec)
        policy = rules.policy
        self.memo = Memo(policy)
        # The row fast paths count on least-recently-used eviction (``MemoPolicy``).
        self.lru_order = policy.evicts_in_lru_order
        self.registry = registry
        self.scan_cost = scan_cost
        # ``scan_draws(n)``: the next n draws of ``scan_cost`` in one call (None: drawn one by one).
        self.scan_draws = scan_draws
        self.hit_ms = rules.hit_ms
        self.keyed = rules.keyed
        self.fingerprinted = rules.fingerprinted
        # The workspace the gateway's published snapshot serves for free (None: no fast path).
        self.current_snapshot = snapshot_workspace
        self.made_keys: dict[tuple[str, int], tuple[Hashable, ...]] = {}
        # memo.miss_overhead_ms: work right after a full scan, outside its span (None: none).
        self.miss_overhead: Sampler | None = None
        # memo.pre_miss_ms: work right before a batch's first full scan, outside its span (None: none).
        self.pre_miss: Sampler | None = None
        # (peek(n), drop(n)): the next n scan costs shown without taking them, then the first n taken
        # (``DrawnAhead.peek`` / ``drop``, or a constant's draws and nothing to take); None: not known.
        self.scan_ahead: tuple[Draws, Callable[[int], None]] | None = None

    @property
    def scans_alone(self) -> bool:
        """Whether a scan is all a miss costs: no work before a batch's first scan
        (``memo.pre_miss_ms``) and none after a scan (``memo.miss_overhead_ms``). The fast paths
        that count scans without ``lookup`` (``listing``, ``stretch``) ask this one question, so a
        new term of a miss is added here, not to each of them."""
        return self.miss_overhead is None and self.pre_miss is None

    def keys(self, workspace: str, lookups: int) -> tuple[Hashable, ...]:
        """Memo keys of lookups 0..n-1: (workspace, j), or (j,) for PR 77985's unkeyed cache
        (made once per workspace and count in a run, then a dict lookup)."""
        if not lookups:
            return ()
        made = self.made_keys.get((workspace, lookups))
        if made is None:
            made = self.made_keys[(workspace, lookups)] = self._new_keys(workspace, lookups)
        return made

    def _new_keys(self, workspace: str, lookups: int) -> tuple[Hashable, ...]:
        """``keys``, made now (not kept)."""
        return tuple([(workspace, j) for j in range(lookups)]) if self.keyed else tuple(zip(range(lookups)))

    def lookup(
        self, workspace: str, key: Hashable, now: float, first_scan: bool = False
    ) -> tuple[bool, bool, float, float]:
        """One lookup at ``now``: (hit, stale, ms of work before a scan, ms of the lookup's span).

        A hit is stale when the memo cannot vouch for its entry (a TTL or unkeyed cache)
        and the entry was computed for another workspace or before the registry last
        changed: the metadata maintainers refused to serve. A miss scans synchronously
        and stores its result as of the scan's end; with ``first_scan`` (the batch has not
        scanned yet) the scan follows ``memo.pre_miss_ms`` of work (0 without it).
        """
        if self.current_snapshot == workspace:
            return True, False, 0.0, 0.0
        entry = self.memo.lookup(key, now)
        if entry is not None:
            return True, not self.fingerprinted and self.stale(workspace, entry), 0.0, self.hit_ms
        pre = self.pre_miss() if first_scan and self.pre_miss is not None else 0.0
        cost = self.scan_cost()
        self.memo.store(key, now + pre + cost, workspace)
        return False, False, pre, cost

    def stale(self, workspace: str, entry: Entry) -> bool:
        """Whether a hit on ``entry`` for ``workspace`` serves stale metadata (see ``lookup``)."""
        return not self.fingerprinted and (entry[1] != workspace or entry[0] < self.registry.changed_at)

    def repeated_stale(self, workspace: str, keys: tuple[Hashable, ...], until: float) -> int | None:
        """Stale hits per row if every row of ``keys`` from now on hits until ``until`` when
        nothing else runs (``steady``); None when that is not guaranteed."""
        if self.current_snapshot == workspace:
            return 0
        entries, ttl_ms, stale = self.memo.entries, self.memo.ttl_ms, 0
        for key in keys:  # a loop, not all()/sum() over generators: this runs once per batch
            entry = entries.get(key)
            if entry is None or (ttl_ms is not None and until - entry[0] >= ttl_ms):
                return None
            stale += self.stale(workspace, entry)
        return stale

    def hits_in_place(self, workspace: str, keys: tuple[Hashable, ...]) -> bool:
        """Whether any number of rows of ``keys`` (distinct) hit on every lookup, none stale, and
        leave the memo exactly as it is: the current snapshot serves them (the memo is not
        touched), or they are the memo's most recent entries in lookup order (refreshing them
        in that order gives the same order back), no TTL can expire them and a hit cannot be
        stale (fingerprinted). O(keys): a dict walk from the recent end, no lookup."""
        if self.current_snapshot == workspace:
            return True
        entries = self.memo.entries
        if self.memo.ttl_ms is not None or not self.fingerprinted or len(entries) < len(keys):
            return False
        recent = reversed(entries)
        for key in reversed(keys):
            if next(recent) != key:
                return False
        return True

    def steady(self, workspace: str, keys: tuple[Hashable, ...], now: float, until: float) -> bool:
        """Whether these lookups keep hitting until ``until`` if nothing else runs."""
        return self.current_snapshot == workspace or self.memo.stable_for(keys, now, until)

    def always_misses(self, workspace: str, lookups: int) -> bool:
        """Whether a row of ``lookups`` distinct keys, looked up in the same order row after row,
        misses on every lookup once one such row has run: the memo holds fewer entries than the
        row has keys, so each key is evicted before it comes back (and no snapshot serves it)."""
        slots = self.memo.slots
        return self.lru_order and self.current_snapshot != workspace and slots is not None and slots < lookups

    def first_row_misses(self, workspace: str, keys: tuple[Hashable, ...]) -> bool:
        """Whether the next row of ``keys`` (distinct) misses on every lookup.

        Every miss stores its key and evicts the least recently used entry past capacity, so
        an entry at LRU position p (0 = oldest) of the m held is gone before lookup j once
        m + j - slots > p (an unbounded memo evicts nothing). TTL expiry is not counted on:
        an expired entry still present leaves this check false and the row to ``look_up``.
        """
        entries, slots = self.memo.entries, self.memo.slots
        if self.current_snapshot == workspace or keys[0] in entries:  # nothing is evicted before lookup 0
            return False
        if not entries:
            return True
        if slots is None:
            return not any(key in entries for key in keys)
        position = {key: p for p, key in enumerate(entries)}
        held = len(entries)
        for j, key in enumerate(keys):
            p = position.get(key)
            if p is not None and held + j - slots <= p:
                return False
        return True

    def holds_none(self, workspace: str, keys: tuple[Hashable, ...]) -> bool:
        """Whether the next row of ``keys`` (distinct) misses on every lookup because the memo
        holds none of them (and no snapshot serves them): a lookup stores only its own key, so no
        key of the row comes back before its lookup."""
        if self.current_snapshot == workspace:
            return False
        entries = self.memo.entries
        for key in keys:  # a loop, not any() over a generator: this runs once per batch
            if key in entries:
                return False
        return True

    def holds_none_of(self, workspaces: list[str]) -> bool:
        """Whether rows reading ``workspaces`` in turn, each storing its keys, each find the memo
        holding none of its keys (``holds_none`` at every one): the memo is keyed by workspace
        (its keys are (workspace, j); an unkeyed memo holds a row's keys once the row before
        stored them), the workspaces are distinct, no snapshot serves any, and the memo holds
        no key of any of them."""
        distinct = set(workspaces)
        if not self.keyed or len(distinct) < len(workspaces) or self.current_snapshot in distinct:
            return False
        for key in self.memo.entries:  # a loop, not any(): a few entries
            if key[0] in distinct:  # type: ignore[index]
                return False
        return True

    def stored_fresh(self, workspaces: list[str], lookups: int, ends_ms: list[float]) -> None:
        """The memo after rows of ``workspaces`` in turn whose first row scanned every one of
        its ``lookups`` keys (``holds_none_of``: none held, so each goes in last) and whose other
        rows hit them (which leaves them in that order): key j of the i-th workspace stored at
        ``ends_ms[i * lookups + j]``. Only the last ``slots`` keys can be held after them: those
        are stored, then the oldest entries evicted past capacity, as storing every key and
        evicting after each row would leave the memo."""
        entries, slots = self.memo.entries, self.memo.slots
        count = len(workspaces) * lookups
        kept = count if slots is None else min(slots, count)
        if kept == slots:  # as many new keys as the memo holds: none it held stays
            entries.clear()
        i = count - kept  # the first key stored
        for workspace in workspaces[i // lookups :]:
            keys = self._new_keys(workspace, lookups)  # (not kept: most workspaces are not read again)
            j = i % lookups
            for key, at in zip(keys[j:], ends_ms[i : i + lookups - j], strict=True):
                entries[key] = (at, workspace)
            i += lookups - j
        if slots is not None:
            while len(entries) > slots:
                entries.popitem(False)  # the oldest

    def scan_costs(self, count: int) -> list[float]:
        """The next ``count`` scan costs in ms, the same numbers in the same order as ``count``
        calls of ``scan_cost`` (one numpy call pays off from a few draws on)."""
        if self.scan_draws is not None and count > 3:
            return self.scan_draws(count)
        scan_cost = self.scan_cost
        return [scan_cost() for _ in range(count)]

    def stored_row(self, workspace: str, keys: tuple[Hashable, ...], ends_ms: list[float]) -> None:
        """The memo after a row in which every lookup missed and key j was stored at ``ends_ms[j]``.

        A row of more keys than the memo holds leaves its last ``slots`` keys, oldest first,
        whatever the memo held before; a shorter row is stored key by key, as ``lookup`` does."""
        entries, slots = self.memo.entries, self.memo.slots
        if slots is None or slots >= len(keys):
            for key, at in zip(keys, ends_ms, strict=True):
                self.memo.store(key, at, workspace)
            return
        entries.clear()
        if slots:
            for key, at in zip(keys[-slots:], ends_ms[-slots:], strict=True):
                entries[key] = (at, workspace)


class DrawnAhead:
    """Scan costs drawn ahead, in blocks of ``draws`` (one numpy call each, growing from 8 to
    ``MAX_AHEAD``): ``one()`` and ``many(n)`` give the same numbers in the same order as one
    draw at a time. Exact only because a run's scan stream draws nothing but scan costs; the
    draws left over at the end of a run are never used."""

    __slots__ = ("draws", "ahead", "block")

    MAX_AHEAD = 256

    def __init__(self, draws: Draws):
        self.draws = draws
        self.ahead: list[float] = []  # the next draws, last one first (popped from the end)
        self.block = 8

    def _more(self, at_least: int) -> None:
        drawn = self.draws(max(self.block, at_least))
        drawn.reverse()
        self.ahead[:0] = drawn  # after what is already drawn
        self.block = min(self.MAX_AHEAD, self.block * 2)

    def one(self) -> float:
        if not self.ahead:
            self._more(1)
        return self.ahead.pop()

    def peek(self, count: int) -> list[float]:
        """The next ``count`` draws in order, drawn if need be but not taken (``drop`` takes them)."""
        if len(self.ahead) < count:
            self._more(count - len(self.ahead))
        taken = self.ahead[len(self.ahead) - count :]
        taken.reverse()
        return taken

    def drop(self, count: int) -> None:
        """Take the next ``count`` draws (after ``peek`` showed at least that many)."""
        del self.ahead[len(self.ahead) - count :]

    def many(self, count: int) -> list[float]:
        ahead = self.ahead
        if len(ahead) < count:
            self._more(count - len(ahead))
            ahead = self.ahead
        taken = ahead[len(ahead) - count :]
        del ahead[len(ahead) - count :]
        taken.reverse()
        return taken
