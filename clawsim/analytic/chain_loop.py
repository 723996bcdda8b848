"""The chain's loop phases: what one iteration of Node's loop does to every state.

An iteration outside the list's callbacks is overhead (``delta``), the timers phase (each
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
    pop.sp = pop.sp + dt
    if walk.params.k:
        pop.due = pop.due - (dt[:, None] if isinstance(dt, np.ndarray) and np.ndim(dt) else dt)
        pop.tf = np.mod(pop.tf + dt, 1.0)


def timers_phase(walk: Walk, pop: Population) -> np.ndarray:
    """Fire every timer due at this phase's start, in due order; each re-arms from its
    firing, then works. Returns the time each state's timers took."""
    params = walk.params
    spent = np.zeros(len(pop))
    if not params.k or not len(pop):
        return spent
    remaining = pop.due <= EPS
    rows_all = np.arange(len(pop))
    while remaining.any():
        masked = np.where(remaining, pop.due, np.inf)
        i = np.argmin(masked, axis=1)
        has = np.asarray(remaining.any(axis=1))
        rows, idx = rows_all[has], i[has]
        walk.acc.flips += float(pop.p[rows].sum())
        pop.flip(has)
        pop.due[rows, idx] = params.armed[idx] - pop.tf[rows]  # floor(now) + trunc(period) - now
        work = np.where(has, params.twork[i], 0.0)
        advance(walk, pop, work)
        spent += work
        remaining[rows, idx] = False
    return spent


def poisson_branches(walk: Walk, mean: np.ndarray) -> list[tuple[np.ndarray, float | np.ndarray]]:
    """(probability per state, arrivals) branches; counts above ``LUMP`` share a branch
    at their conditional mean (arrivals matter only through their work)."""
    p0 = np.exp(-mean)
    if walk.params.wp == 0:  # only whether some arrival flipped matters
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
    mean = params.lam * pop.sp
    walk.acc.flips += float(np.sum(pop.p * mean))
    if params.lam == 0:
        pop = pop.copy()
        pop.sp = np.zeros(len(pop))
        return pop, np.zeros(len(pop))
    parts, works = [], []
    for q, n in poisson_branches(walk, mean):
        b = pop.copy()
        b.p = b.p * q
        b.sp = np.zeros(len(b))
        work = np.broadcast_to(n * params.wp, (len(b),)).astype(float)
        if np.any(np.asarray(n) > 0):
            b.flip(np.broadcast_to(np.asarray(n) > 0, (len(b),)))
        advance(walk, b, work)
        parts.append(b)
        works.append(work)
    return Population.concat(parts, params.k), np.concatenate(works)


def iteration(walk: Walk, pop: Population) -> Population:
    """From the end of a check phase to the next check phase: overhead, timers, poll."""
    advance(walk, pop, walk.params.delta)
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
    pending.x = np.zeros(len(pending))
    for _ in range(MAX_WAIT_PASSES):
        if not len(pending):
            break
        advance(walk, pending, params.delta)
        spent = timers_phase(walk, pending)
        pending.x = pending.x + params.delta + spent
        branched, work = poll_busy(walk, pending)
        done = branched.x >= latency - EPS
        out.append(branched.take(done))
        busy = ~done & (work > 0)
        nxt = branched.take(busy)
        nxt.x = nxt.x + work[busy]
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
    rest = latency - pop.x
    nxt = pop.due.min(axis=1) if params.k else np.full(len(pop), np.inf)
    window = np.minimum(rest, np.maximum(nxt, 0.0))
    walk.acc.flips += float(np.sum(pop.p * params.lam * window))
    p0 = np.exp(-params.lam * window)
    woken = nxt < rest - EPS
    results = []
    for mask, dt, sp in ((woken, np.maximum(nxt, 0.0), 0.0), (~woken, rest + params.residual, params.residual)):
        part = pop.take(mask)
        step = dt[mask]
        advance(walk, part, step)
        part.sp = np.full(len(part), sp)
        part.x = part.x + step
        quiet, flipped = part.copy(), part.copy()
        quiet.p = quiet.p * p0[mask]
        flipped.p = flipped.p * (1 - p0[mask])
        flipped.flip()
        results.append([quiet, flipped])
    return results[0], results[1]
