"""The one walk of a list: the steps of openclaw's ``listSessionsFromStoreAsync``, in order.

``list_steps`` is the only place that knows what a list does and in which order: enter the
pin, the fixed setup, the hoisted lookups, then per batch of rows the ``setImmediate`` yield before it, the
rows (one synchronous callback, docs/event-loop.md §4) and the awaited read after it (§9).
The engine (``listing.session_list``, which also drives the tracer) and both analytic models
(``analytic.immediate``, ``analytic.chain``) consume these steps with a closed ``match``, so a
new kind of step fails mypy in every consumer until each one handles it. The Node harness
(``clawsim/node/harness.mjs``, ``sessionList``) mirrors the same order: its step-log mode logs
the steps its lists take, and tests/test_node_walk.py compares them with these for a matrix of lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..scenario import CostMs, ListSpec
from .identity import ByIdentity


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows built in one callback: after a setImmediate yield if ``yield_before``, followed by
    an awaited I/O of ``io_ms`` if set; ``start`` is the index of its first row."""

    start: int
    rows: int
    yield_before: bool
    io_ms: float | None


def batches(spec: ListSpec) -> Iterator[Batch]:
    """The batches of one list: ``(i + 1) % B == 0`` in the TypeScript means a yield before
    row i when ``i > 0 and i % B == 0``; a row followed by an awaited read ends its batch."""
    every, io_rows, i = spec.yield_every, spec.io_rows, 0
    io_ms = spec.per_row_io.latency_ms if spec.per_row_io else None
    while i < spec.rows:
        before = bool(i and every and i % every == 0)
        if i < io_rows:
            end = i + 1
        else:
            end = min(spec.rows, (i // every + 1) * every) if every else spec.rows
        yield Batch(i, end - i, before, io_ms if i < io_rows else None)
        i = end


@dataclass(frozen=True, slots=True)
class Pin:
    """``withPinnedActivePluginRegistryWorkspaceDir``: from here on the list reads the
    workspace captured now (the fix)."""


@dataclass(frozen=True, slots=True)
class Setup:
    """The list's fixed work before its rows (``list.setup_ms``: store load, the lookups a list
    makes besides its rows'), synchronous, in the same callback as the first batch; ``cost`` is
    the scenario's cost (a number or a distribution: the engine draws it, the models take its mean)."""

    cost: CostMs


@dataclass(frozen=True, slots=True)
class HoistedLookups:
    """``lookups`` lookups made once before the row loop (``lookup_mode: hoisted``), reused by
    every row; synchronous, in the same callback as the first batch's rows."""

    lookups: int


@dataclass(frozen=True, slots=True)
class Yield:
    """``await new Promise((resolve) => setImmediate(resolve))`` before row ``row``."""

    row: int


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows ``start`` .. ``start + rows - 1`` built synchronously, each reading the workspace
    once at the batch's start and making ``lookups`` lookups and ``row_cost_ms`` of work."""

    start: int
    rows: int
    lookups: int
    row_cost_ms: float


@dataclass(frozen=True, slots=True)
class AwaitIO:
    """``await readSessionTitleFieldsFromTranscriptAsync(...)``: an I/O of ``ms`` after the row
    just built; the list resumes in the poll phase that sees it complete."""

    ms: float


Step = Pin | Setup | HoistedLookups | Yield | Rows | AwaitIO
PIN = Pin()


CACHED_ROWS = 20_000  # lists up to this many rows keep their steps (at most ~4,000 small objects)
CACHED_LISTS = 16  # specs kept, pinned and not each: a sweep point's replications share one


def list_steps(spec: ListSpec, pinned: bool) -> Iterable[Step]:
    """The steps of one list, in the order Node runs them; ``pinned``: the list runs inside
    the pin (``RegistrySpec.pinned``). A hoisted mode yields its step even with 0 lookups; a
    setup of 0 ms (the default) yields none.

    The steps depend on nothing but ``(spec, pinned)`` and are frozen, so a list of up to
    ``CACHED_ROWS`` rows gets them made once and shared by every run (a tuple); a longer one
    gets them made as it walks (bounded memory)."""
    if spec.rows > CACHED_ROWS:
        return _steps(spec, pinned)
    return _MADE[pinned](spec)


def _made_steps(pinned: bool) -> ByIdentity[ListSpec, tuple[Step, ...]]:
    return ByIdentity(lambda spec: tuple(_steps(spec, pinned)), CACHED_LISTS)


# Steps made, by the identity of their spec (hashing a spec costs more than walking a short list).
_MADE = {False: _made_steps(False), True: _made_steps(True)}


def _steps(spec: ListSpec, pinned: bool) -> Iterator[Step]:
    if pinned:
        yield PIN
    if spec.setup_ms != 0:
        yield Setup(spec.setup_ms)
    if spec.lookup_mode == "hoisted":
        yield HoistedLookups(spec.hoisted_lookups)
    lookups, row_cost_ms = spec.row_lookups, spec.row_cost_ms
    for batch in batches(spec):
        if batch.yield_before:
            yield Yield(batch.start)
        yield Rows(batch.start, batch.rows, lookups, row_cost_ms)
        if batch.io_ms is not None:
            yield AwaitIO(batch.io_ms)
