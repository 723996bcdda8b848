"""The chain's loop phases: what one iteration of Node's loop does to every state.

An iteration outside the list's callbacks is overhead (``iteration_ms``), the timers phase (each
due timer flips, re-arms, works) and the poll phase (the poisson arrivals of the window
run). An awaited I/O is a sequence of such iterations until a poll phase begins after its
completion, the loop blocking when nothing keeps it busy. Every function updates the
walk's totals (``Walk.acc``) by linearity; populations are changed in place or returned.
"""

from __future__ import annotations

import numpy as np

from .chain_state import Population, Walk
from .coverage import too_long_wait
from .expectation import EPS

LUMP = 4  # poisson arrival counts above this share one branch (at their conditional mean)
MAX_WAIT_PASSES = 10_000  # loop passes of one awaited I/O the chain follows


def advance(walk: Walk, pop: Population, dt: float | np.ndarray) -> None:
    """Time passes by ``dt`` (a number or one per state), in place."""
    walk.acc.ms += float(np.sum(pop.p * dt))
    pop.since_poll_ms = pop.since_poll_ms + dt
    if walk.params.k:
        pop.due_ms = pop.due_ms - (dt[:, None] if isinstance(dt, np.ndarray) and np.ndim(dt) else dt)
        pop.clock_fraction_ms = np.mod(pop.clock_fraction_ms + dt, 1.0)


def timers_phase(walk: Walk, pop: Population) -> np.ndarray:
    """Fire every timer due at this phase's start, in due order; each re-arms from its
    firing, then works. Returns the time each state's timers took."""
    params = walk.params
    spent = np.zeros(len(pop))
    if not params.k or not len(pop):
        return spent
    remaining = pop.due_ms <= EPS
    rows_all = np.arange(len(pop))
    while remaining.any():
        masked = np.where(remaining, pop.due_ms, np.inf)
        i = np.argmin(masked, axis=1)
        has = np.asarray(remaining.any(axis=1))
        rows, idx = rows_all[has], i[has]
        walk.acc.flips += float(pop.p[rows].sum())
        pop.flip(has)
        pop.due_ms[rows, idx] = params.armed_ms[idx] - pop.clock_fraction_ms[rows]  # floor(now) + trunc(period) - now
        work = np.where(has, params.timer_work_ms[i], 0.0)
        advance(walk, pop, work)
        spent += work
        remaining[rows, idx] = False
    return spent


def poisson_branches(walk: Walk, mean: np.ndarray) -> list[tuple[np.ndarray, float | np.ndarray]]:
    """(probability per state, arrivals) branches; counts above ``LUMP`` share a branch
    at their conditional mean (arrivals matter only through their work)."""
    p0 = np.exp(-mean)
    if walk.params.arrival_work_ms == 0:  # only whether some arrival flipped matters
        return [(p0, 0.0), (1 - p0, 1.0)]
    out: list[tuple[np.ndarray, float | np.ndarray]] = []
    pn, cum, head = p0, np.zeros_like(mean), np.zeros_like(mean)
    for n in range(LUMP + 1):
        out.append((pn, float(n)))
        cum = cum + pn
        head = head + n * pn
        pn = pn * mean / (n + 1)
    tail = np.clip(1.0 - cum, 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        nbar = np.where(tail > 1e-15, (mean - head) / np.maximum(tail, 1e-300), LUMP + 1)
    out.append((tail, nbar))
    return out


def poll_busy(walk: Walk, pop: Population) -> tuple[Population, np.ndarray]:
    """A poll phase of a busy loop: the arrivals since the last one run now. Returns
    the branched population and the time each state's arrivals took."""
    params = walk.params
    mean = params.arrivals_per_ms * pop.since_poll_ms
    walk.acc.flips += float(np.sum(pop.p * mean))
    if params.arrivals_per_ms == 0:
        pop = pop.copy()
        pop.since_poll_ms = np.zeros(len(pop))
        return pop, np.zeros(len(pop))
    parts, works = [], []
    for q, n in poisson_branches(walk, mean):
        b = pop.copy()
        b.p = b.p * q
        b.since_poll_ms = np.zeros(len(b))
        work = np.broadcast_to(n * params.arrival_work_ms, (len(b),)).astype(float)
        if np.any(np.asarray(n) > 0):
            b.flip(np.broadcast_to(np.asarray(n) > 0, (len(b),)))
        advance(walk, b, work)
        parts.append(b)
        works.append(work)
    return Population.concat(parts, params.k), np.concatenate(works)


def iteration(walk: Walk, pop: Population) -> Population:
    """From the end of a check phase to the next check phase: overhead, timers, poll."""
    advance(walk, pop, walk.params.iteration_ms)
    timers_phase(walk, pop)
    return poll_busy(walk, pop)[0]


def io_wait(walk: Walk, pop: Population, latency: float) -> Population:
    """An awaited I/O from the end of a row, with no immediates pending.

    The loop iterates (overhead, timers phase, poll phase) until a poll phase begins at
    or after the completion; that phase resumes the row (the arrivals of its window are
    taken to run before it). A poll phase that runs arrivals' work keeps the loop busy
    for another iteration; one that runs none lets the loop block: it wakes for the next
    timer due before the completion, or else at the completion, arrivals in between
    flipping as they come (their work is charged as the mean residual at completion,
    M/D/1: rate w^2 / (2 (1 - rho)); exact with work_ms 0).
    """
    params = walk.params
    pending, out = pop.copy(), []
    pending.since_row_end_ms = np.zeros(len(pending))
    for _ in range(MAX_WAIT_PASSES):
        if not len(pending):
            break
        advance(walk, pending, params.iteration_ms)
        spent = timers_phase(walk, pending)
        pending.since_row_end_ms = pending.since_row_end_ms + params.iteration_ms + spent
        branched, work = poll_busy(walk, pending)
        done = branched.since_row_end_ms >= latency - EPS
        out.append(branched.take(done))
        busy = ~done & (work > 0)
        nxt = branched.take(busy)
        nxt.since_row_end_ms = nxt.since_row_end_ms + work[busy]
        idle = branched.take(~done & (work == 0))
        woke, finished = block(walk, idle, latency)
        out.extend(finished)
        pending = Population.concat([nxt, *woke], params.k)
    else:  # pragma: no cover - a wait longer than MAX_WAIT_PASSES loop iterations
        raise too_long_wait()
    return Population.concat(out, params.k)


def block(walk: Walk, pop: Population, latency: float) -> tuple[list[Population], list[Population]]:
    """The loop blocks in poll: until a timer is due or the I/O completes; arrivals
    during the block flip. Returns (woken by a timer, resumed) populations."""
    if not len(pop):
        return [], []
    params = walk.params
    rest = latency - pop.since_row_end_ms
    nxt = pop.due_ms.min(axis=1) if params.k else np.full(len(pop), np.inf)
    window = np.minimum(rest, np.maximum(nxt, 0.0))
    walk.acc.flips += float(np.sum(pop.p * params.arrivals_per_ms * window))
    p0 = np.exp(-params.arrivals_per_ms * window)
    woken = nxt < rest - EPS
    results = []
    for mask, dt, since_poll in (
        (woken, np.maximum(nxt, 0.0), 0.0),
        (~woken, rest + params.residual_ms, params.residual_ms),
    ):
        part = pop.take(mask)
        step = dt[mask]
        advance(walk, part, step)
        part.since_poll_ms = np.full(len(part), since_poll)
        part.since_row_end_ms = part.since_row_end_ms + step
        quiet, flipped = part.copy(), part.copy()
        quiet.p = quiet.p * p0[mask]
        flipped.p = flipped.p * (1 - p0[mask])
        flipped.flip()
        results.append([quiet, flipped])
    return results[0], results[1]
