"""The memo policy as an object: what each ``memo.policy`` means, stated once.

``MemoSpec.rules`` builds it with a closed ``match`` on the policy name, so a new policy added
to the schema fails mypy here until its meaning is written down; the engine's fast paths and
the analytic model ask the object (``evicts_in_lru_order``, ``slots``, ``ttl_ms``) instead of
inferring a policy from ``(capacity, ttl_ms)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal, assert_never

PolicyName = Literal["none", "single", "lru", "fifo", "ttl"]
DEFAULT_CAPACITY = 8


@dataclass(frozen=True, slots=True)
class MemoPolicy:
    """How a memo keeps entries: ``slots`` held at most (None: unbounded), ``ttl_ms`` after
    which an entry no longer serves (None: never), and whether a hit makes its entry the most
    recent (``refresh_on_hit``: all but fifo)."""

    name: PolicyName
    slots: int | None
    ttl_ms: float | None
    refresh_on_hit: bool

    @property
    def evicts_in_lru_order(self) -> bool:
        """Whether the entry evicted is always the least recently used one: the rule the
        engine's row fast paths (``MetadataCache.first_row_misses``, ``stored_row``,
        ``listing._hit_rows``) and the analytic memo (``TokenMemo``) are written for."""
        return self.refresh_on_hit or self.slots in (0, 1)

    @property
    def expires(self) -> bool:
        """Whether entries stop serving after ``ttl_ms``."""
        return self.ttl_ms is not None


@functools.lru_cache(maxsize=64)
def memo_policy(policy: PolicyName, capacity: int | None, ttl_ms: float | None) -> MemoPolicy:
    """The policy object of a (validated) memo spec's ``policy``, ``capacity`` and ``ttl_ms``
    (frozen: made once per combination, a run asks for it several times)."""
    match policy:
        case "none":
            return MemoPolicy(policy, 0, None, refresh_on_hit=True)
        case "single":
            return MemoPolicy(policy, 1, None, refresh_on_hit=True)
        case "lru":
            return MemoPolicy(policy, capacity or DEFAULT_CAPACITY, None, refresh_on_hit=True)
        case "fifo":  # a hit leaves the entry where it was stored: the oldest stored goes first
            return MemoPolicy(policy, capacity or DEFAULT_CAPACITY, None, refresh_on_hit=False)
        case "ttl":
            return MemoPolicy(policy, capacity, ttl_ms, refresh_on_hit=True)
        case _:
            assert_never(policy)
