"""What is measured: one record per list, plus per-run totals copied onto each record."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

# Columns of a results table, in order, after the run/point/replication/list_index keys
# and the swept parameters. The README's "Results" section explains each one.
LIST_METRICS = (
    "rows",
    "scans",
    "hits",
    "stale_hits",
    "lookups",
    "flips",
    "changes",
    "distinct_workspaces",
    "yields",
    "list_ms",
    "scan_ms_total",
    "start_ms",
    "pinned",
    "completed",
    "loop_delay_p50_ms",
    "loop_delay_p99_ms",
)
RUN_METRICS = ("loop_delay_max_ms", "actor_activations", "actor_scans", "sim_ms", "loop_iterations")
KEY_COLUMNS = ("run", "point", "replication", "list_index")


@dataclass(slots=True)
class ListStats:
    """Counters of one ``sessions.list`` call while it runs."""

    list_index: int
    rows: int
    start_ms: float
    flips_at_start: int
    changes_at_start: int
    pinned: bool
    scans: int = 0
    hits: int = 0
    stale_hits: int = 0
    lookups: int = 0
    yields: int = 0
    scan_ms_total: float = 0.0
    scan_batches: int = 0  # batches (and hoisted preparations) that scanned: not a results column
    workspaces: set[str] = field(default_factory=set)
    numbered: list[Numbered] | None = None  # more workspaces read, counted without their names
    end_ms: float | None = None
    flips: int = 0
    changes: int = 0
    completed: bool = False
    loop_delay_p50_ms: float = 0.0  # the probe's samples in the list's window (DelayProbe.percentiles)
    loop_delay_p99_ms: float = 0.0

    def finish(self, now: float, flips: int, changes: int, completed: bool = True) -> None:
        self.end_ms = now
        self.completed = completed
        self.flips = flips - self.flips_at_start
        self.changes = changes - self.changes_at_start

    @property
    def distinct_workspaces(self) -> int:
        if self.numbered is None:
            return len(self.workspaces)
        return len(self.workspaces) + unnamed(self.workspaces, self.numbered)

    @property
    def list_ms(self) -> float:
        return (self.start_ms if self.end_ms is None else self.end_ms) - self.start_ms

    def record(
        self, names: tuple[str, ...], key_values: tuple[Any, ...], run_values: tuple[Any, ...]
    ) -> dict[str, Any]:
        """This list's record, one dict: ``names`` (``record_names``) valued ``key_values``, then
        ``list_index`` and the ``LIST_METRICS`` (fields read directly, by one ``attrgetter``),
        then ``run_values`` (the ``RUN_METRICS``): a run makes one record per list, and a generic
        deep copy, or one dict merged into another, would cost more than a small run."""
        return dict(zip(names, (*key_values, *_recorded(self), *run_values), strict=True))


class Numbered(NamedTuple):
    """Workspaces a list read, kept as numbers (engine/fresh.py): ``{prefix}{n % copies}/{n // copies}``
    for each n of ``numbers`` (increasing), the spelling of a unique poisson source's names
    (``PoissonSource._unique``). A list's ``Numbered`` of one prefix never share a number."""

    prefix: str
    copies: int
    numbers: np.ndarray


def spelled_number(workspace: str, prefix: str, copies: int) -> int | None:
    """The n whose name (as ``Numbered`` spells it) is ``workspace``; None if no n's is."""
    if not workspace.startswith(prefix):
        return None
    copy, slash, quotient = workspace[len(prefix) :].partition("/")
    try:
        c, q = int(copy), int(quotient)
    except ValueError:
        return None
    if not (slash and 0 <= c < copies and q >= 0 and f"{prefix}{c}/{q}" == workspace):
        return None
    return q * copies + c


def unnamed(workspaces: set[str], numbered: list[Numbered]) -> int:
    """How many workspaces ``numbered`` holds that ``workspaces`` does not name (a list's
    ``Numbered`` of one prefix come in increasing order: their numbers, joined, increase)."""
    count = 0
    for prefix, copies in dict.fromkeys((chunk.prefix, chunk.copies) for chunk in numbered):
        numbers = np.concatenate([chunk.numbers for chunk in numbered if chunk[:2] == (prefix, copies)])
        count += len(numbers)
        for number in (spelled_number(w, prefix, copies) for w in workspaces):
            if number is not None:
                at = int(numbers.searchsorted(number))
                count -= at < len(numbers) and int(numbers[at]) == number
    return count


@functools.lru_cache(maxsize=64)
def record_names(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of a record that starts with ``keys``: ``keys``, ``list_index``, the
    ``LIST_METRICS``, the ``RUN_METRICS`` (made once per ``keys``: a plan's runs share them)."""
    return (*keys, *_RECORD_KEYS, *RUN_METRICS)


_RECORD_KEYS = ("list_index", *LIST_METRICS)
_recorded = operator.attrgetter(*_RECORD_KEYS)


@dataclass(slots=True)
class RunStats:
    """Counters of the whole run (the loop and the actors)."""

    actor_activations: int = 0
    actor_scans: int = 0
    lists: list[ListStats] = field(default_factory=list)
