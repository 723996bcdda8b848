"""What the engine makes once per object and shares between runs, kept by the object's identity.

A plan point's runs share one frozen scenario object, and its lists one spec and one tuple of
steps: what depends on nothing else (the steps of a list, their chains, a scenario's prepared
costs) is made on the first run and looked up by ``id`` after it, since hashing a frozen model
costs more than a short list's walk. Each entry holds its object, so the id cannot be reused by
another object while the entry is kept; the oldest entry goes first past ``size``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(Generic[K, V]):
    """``make(key)``, made once per key object (by identity) and kept for the last ``size`` keys."""

    __slots__ = ("_made", "_make", "_size")

    def __init__(self, make: Callable[[K], V], size: int):
        self._made: dict[int, tuple[K, V]] = {}
        self._make, self._size = make, size

    def __call__(self, key: K) -> V:
        made = self._made.get(id(key))
        if made is not None and made[0] is key:
            return made[1]
        value = self._make(key)
        if len(self._made) >= self._size:
            del self._made[next(iter(self._made))]  # the oldest
        self._made[id(key)] = (key, value)
        return value
