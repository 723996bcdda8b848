"""Estimates from the lists of a diagnostics timeline: structure, costs, memo, concurrency.

The concurrency estimate inverts the analytic model's rule for a batch after a yield
(docs/analytic.md): with setter calls arriving as a Poisson stream of rate lambda, a
batch begins with misses iff at least one call landed in its *window*, the time between
the start of the previous batch and its own (the previous batch holds the thread; the
calls queue and run in the poll phase before the batch resumes). So
P(change) = 1 - exp(-lambda * w). Lambda is the maximum-likelihood value over all windows
of the fitted lists, with a likelihood-ratio 95 % interval (chi-square, 1 degree of freedom).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..timeline.evidence import SESSIONS_LIST_YIELD_BATCH_SIZE, ListEvidence, walk_batches
from ..timeline.names import BATCH, YIELD

CHI2_95 = 3.841458820694124  # chi-square quantile, 1 degree of freedom, 0.95
DEFAULT_LOOKUPS_PER_ROW = 2  # docs/sources.md §1.2, used only when a timeline cannot tell
MAX_EXTRA_LOOKUPS = 5  # lookups a list may make besides its rows' (3 in the June 2026 releases)


@dataclass(frozen=True)
class Windows:
    """Per batch after the first: its window in ms and whether it began with a full scan."""

    window_ms: tuple[float, ...]
    changed: tuple[bool, ...]
    misses_after_first_row: int


def hoisted(evidence: ListEvidence) -> int:
    """Lookups made before the first row batch (``lookup_mode: hoisted``); only a simulated
    timeline, with clawsim's batch spans, can tell them from the first row's."""
    batches = _batch_spans(evidence)
    if not batches:
        return 0
    return sum(1 for lk in evidence.lookups if lk.start_ms < batches[0].start_ms)


def without_hoisted(evidence: ListEvidence) -> ListEvidence:
    """The list with its hoisted lookups left out (they belong to no row)."""
    return replace(evidence, lookups=evidence.lookups[hoisted(evidence) :])


def lookups_per_row(evidence: Sequence[ListEvidence]) -> tuple[int, str]:
    """Lookups per row (an integer) and how it was found."""
    rows = sum(e.rows or 0 for e in evidence)
    lookups = sum(len(e.lookups) for e in evidence)
    if not lookups:
        return 0, "no lookups in the row loop"
    extra = lookups % rows if rows else 0
    if rows and lookups >= rows and extra <= MAX_EXTRA_LOOKUPS * len(evidence):
        besides = f", {extra} besides the rows' ({extra / len(evidence):g} per list)" if extra else ""
        return lookups // rows, f"{lookups} scan spans under the rows spans / {rows} rows{besides}"
    return DEFAULT_LOOKUPS_PER_ROW, (
        f"{lookups} scan spans for {rows} rows is not a whole number per row "
        f"(hit spans missing?); assumed {DEFAULT_LOOKUPS_PER_ROW} (docs/sources.md §1.2)"
    )


def windows(evidence: ListEvidence, per_row: int, batch: int = SESSIONS_LIST_YIELD_BATCH_SIZE) -> Windows:
    """The windows of one list's batches (from the start of one batch's first lookup to the
    next's) and whether each batch after a yield began with a miss (``walk_batches``)."""
    walk = walk_batches(evidence, per_row, batch)
    gaps = tuple(b - a for a, b in zip(walk.starts_ms, walk.starts_ms[1:], strict=False))
    return Windows(gaps, walk.first_row_missed[1:], walk.misses_after_first_row)


def _loglik(rate: float, w: Sequence[float], c: Sequence[bool]) -> float:
    x = rate * np.asarray(w, dtype=float)
    changed = np.asarray(c, dtype=bool)
    with np.errstate(divide="ignore"):
        return float(np.log(-np.expm1(-x[changed])).sum() - x[~changed].sum())


def _argmax(w: Sequence[float], c: Sequence[bool]) -> float:
    """The maximum-likelihood rate (per ms): the root of the score, found by bisection in log space."""
    wa = np.asarray(w, dtype=float)
    changed = np.asarray(c, dtype=bool)
    unchanged_ms = float(wa[~changed].sum())
    wc = wa[changed]

    def score(rate: float) -> float:
        with np.errstate(over="ignore"):
            return float((wc / np.expm1(rate * wc)).sum()) - unchanged_ms

    lo, hi = 1e-12, 1e3
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if score(mid) > 0 else (lo, mid)
    return math.sqrt(lo * hi)


def _bound(w: Sequence[float], c: Sequence[bool], best: float, target: float, upward: bool) -> float | None:
    lo, hi = (best, min(best * 1e12, 1e3)) if upward else (best * 1e-12, best)
    if _loglik(hi if upward else lo, w, c) > target:
        return None
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        inside = _loglik(mid, w, c) > target
        lo, hi = ((mid, hi) if inside else (lo, mid)) if upward else ((lo, mid) if inside else (mid, hi))
    return math.sqrt(lo * hi)


@dataclass(frozen=True)
class Rate:
    """Setter calls per second: estimate and 95 % interval (None where unbounded)."""

    per_s: float | None
    lo_per_s: float | None
    hi_per_s: float | None
    changed: int
    batches: int
    how: str


def setter_rate(all_windows: Sequence[Windows]) -> Rate:
    """The Poisson rate of workspace-changing setter calls that explains the batch starts."""
    w = [x for ws in all_windows for x in ws.window_ms]
    c = [x for ws in all_windows for x in ws.changed]
    n, k = len(c), sum(c)
    if n == 0:
        return Rate(None, None, None, 0, 0, "no yields: the list ran in one batch, concurrency cannot be seen")
    if k == 0:
        hi = _bound(w, c, 1e-9, _loglik(1e-12, w, c) - CHI2_95 / 2, upward=True)
        return Rate(
            0.0,
            0.0,
            None if hi is None else hi * 1000,
            0,
            n,
            "no batch after a yield began with a miss: no concurrency visible (none, or the list ran pinned)",
        )
    if k == n:
        lo = _bound(w, c, 1e3, _loglik(1e3, w, c) - CHI2_95 / 2, upward=False)
        return Rate(
            math.inf,
            None if lo is None else lo * 1000,
            math.inf,
            k,
            n,
            "every batch after a yield began with a miss: a setter call in every loop iteration",
        )
    best = _argmax(w, c)
    target = _loglik(best, w, c) - CHI2_95 / 2
    lo, hi = _bound(w, c, best, target, upward=False), _bound(w, c, best, target, upward=True)
    return Rate(
        best * 1000,
        None if lo is None else lo * 1000,
        None if hi is None else hi * 1000,
        k,
        n,
        f"maximum likelihood over {n} batch windows, {k} began with a miss",
    )


@dataclass(frozen=True)
class Structure:
    """A list's walk: rows between yields, rows followed by an awaited read, the read's ms."""

    yield_every: int
    io_rows: int
    io_latency_ms: float | None
    how: str
    hoisted: int = 0  # lookups made once before the row loop


def _batch_spans(evidence: ListEvidence) -> list:
    return sorted((r for r in evidence.extras if r.name == BATCH), key=lambda r: r.start_ms)


def structure(evidence: ListEvidence) -> Structure:
    """The walk of a simulated list from clawsim's yield marks and batch spans; for a real
    timeline (which has neither) the gateway's rule: a yield every 10 rows, no awaited reads."""
    batches = _batch_spans(evidence)
    if not batches:
        return Structure(
            SESSIONS_LIST_YIELD_BATCH_SIZE,
            0,
            None,
            "the gateway's SESSIONS_LIST_YIELD_BATCH_SIZE (a real timeline shows no yields)",
        )
    yield_rows = sorted(int(r.attr("row") or 0) for r in evidence.extras if r.name == YIELD)
    rows = evidence.rows or 0
    every = (
        yield_rows[0]
        if yield_rows
        else (0 if rows > SESSIONS_LIST_YIELD_BATCH_SIZE else SESSIONS_LIST_YIELD_BATCH_SIZE)
    )
    sizes = [int(b.attr("rows") or 0) for b in batches]
    io_rows = 0
    if every != 1:
        while io_rows < len(sizes) and sizes[io_rows] == 1 and (every or rows) > 1:
            io_rows += 1
        io_rows = min(io_rows, rows)
    gaps = [nxt.start_ms - (b.start_ms + b.duration_ms) for b, nxt in zip(batches[:io_rows], batches[1:], strict=False)]
    latency = round(min(gaps), 4) if gaps else None
    if io_rows and latency is None:  # every row awaited: the last read ends the list
        latency = (
            round(max(evidence.list_ms - (batches[-1].start_ms - evidence.start_ms + batches[-1].duration_ms), 0.0), 4)
            or None
        )
    how = f"clawsim.list.yield marks at rows {yield_rows[:3]}..." if yield_rows else "no yield marks"
    return Structure(every, io_rows if latency else 0, latency, how + f"; {io_rows} one-row batches followed by a read")


def busy_ms(evidence: ListEvidence) -> float:
    """Time the list's own callbacks held the thread: its batch spans, else its rows span."""
    batches = _batch_spans(evidence)
    if batches:
        return sum(b.duration_ms for b in batches)
    return evidence.rows_ms or 0.0
