"""Named properties a search checks for every schedule: ``METRIC OP NUMBER``.

METRIC is scans, hits, stale_hits, flips, activations or list_ms; OP is <=, <, >=, > or ==.
A property holds when it holds for every schedule searched: for <= and < the most any
schedule reached decides, for >= and > the least, for == both. list_ms is compared with
every scan at the high cost quantile for an upper bound and at the low one for a lower bound.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import UsageError

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
}
NAMES = ("scans", "hits", "stale_hits", "flips", "activations", "list_ms")
COUNTS = frozenset(NAMES) - {"list_ms"}
_PATTERN = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|==|<|>)\s*([0-9]+(?:\.[0-9]*)?)\s*$")


@dataclass(frozen=True)
class Property:
    """``metric op bound``; ``text`` is how it was written."""

    metric: str
    op: str
    bound: float

    @property
    def text(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}"

    def ok(self, value: float) -> bool:
        """Whether one schedule's value satisfies the property."""
        return _OPS[self.op](value, self.bound)

    def holds(self, lo: float, hi: float) -> bool:
        """Whether every schedule satisfies it, given the least and most any reached."""
        match self.op:
            case "<=" | "<":
                return self.ok(hi)
            case ">=" | ">":
                return self.ok(lo)
            case _:
                return lo == hi == self.bound

    @property
    def series(self) -> tuple[str, str]:
        """The search metric that decides it and the end it is read at (lo or hi)."""
        if self.metric != "list_ms":
            return self.metric, "hi" if self.op in ("<=", "<", "==") else "lo"
        return ("list_ms_lo", "lo") if self.op in (">=", ">") else ("list_ms_hi", "hi")

    @property
    def cap(self) -> int:
        """For a count: values past this one cannot change the verdict (see search.minimal)."""
        return math.floor(self.bound) + 1


def parse_property(text: str) -> Property:
    """Read ``METRIC OP NUMBER``; UsageError says what is accepted."""
    match = _PATTERN.match(text)
    if match is None or match.group(1) not in NAMES:
        raise UsageError(
            f"--property {text!r}: expected METRIC OP NUMBER, METRIC one of {', '.join(NAMES)}, "
            "OP one of <=, <, >=, >, == (e.g. 'scans <= 4')"
        )
    return Property(match.group(1), match.group(2), float(match.group(3)))


def defaults(pinned: bool, list_lookups: int) -> list[Property]:
    """What every variant is checked for: no stale metadata served; with the pin, at most one
    scan per key the list reads (the pin's promise)."""
    props = [Property("stale_hits", "==", 0.0)]
    if pinned:
        props.append(Property("scans", "<=", float(list_lookups)))
    return props
