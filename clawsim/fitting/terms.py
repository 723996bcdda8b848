"""The cost terms of a list, regressed on its timestamps (docs/fit.md, "The cost model").

A list's time is a fixed part plus, per row, the row's own work outside its lookup spans, plus
each lookup's span (a hit's, or a full scan's), plus the work right after each miss that lies
outside the scan's span, plus the work right before the first full scan of a batch (once per batch
that scans: what a changed workspace costs before its scan starts), plus what each yield costs (the
loop's turn and whatever ran in it, e.g. a concurrent callback's work). One list has hundreds of
lookups, so the terms are identified from the *stretches between consecutive lookup spans* of its
row loop: each stretch is

    within_row_ms * [same row] + row_ms * [next row] + miss_overhead_ms * [after a miss]
        + yield_ms * [across a yield] + pre_miss_ms * [into its batch's first miss]

plus noise (timestamps are whole ms), fitted by least squares over every stretch of every list
given. The standard errors are cluster-robust by list (CR1): one speed factor per process moves
all of a list's stretches and spans together (a process that runs slow runs all of its list slow;
validation/openclaw/transfer.md, "The terms per process"), so the stretches of one list are not
independent, and the spread between lists (fresh processes) is what a term's uncertainty is made of;
their intervals take the Student quantile on (lists - 1) degrees of freedom. With one list that
spread is not seen: the errors are then heteroscedasticity-robust (HC1) over its stretches (a
stretch after a scan is noisier), within that list only. The mean hit and scan spans take their
uncertainty the same way (between lists, or between spans of the one list).
The fixed part is what the list's edges leave: its ``list_ms`` minus all the above for its own
rows, hits, misses and yields (the store load, the extra lookups a list makes besides its rows'
and the edges of its first and last row). A term no stretch exercises (no misses: an idle list;
no yields: 10 rows or fewer) is not identified and is None.

Where every yield is followed by its batch's first miss and every such miss by a yield (a flipper
that changes the workspace on every loop turn), a yield's own cost and the work before the miss
are one stretch and cannot be told apart: the stretch is booked as work before the miss
(``Terms.yield_folded``; the yield then costs nothing of its own). The captures say why
(validation/openclaw/transfer.md): where a yield is followed by a hit (the flipper off, the pinned
release, a workspace cycle the memo holds) its stretch is the row's, while a yield followed by a
miss costs ~1 ms more, and the second miss of the same row shows no such work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..timeline.evidence import SESSIONS_LIST_YIELD_BATCH_SIZE, ListEvidence, batch_sizes, walk_batches

# Columns of a stretch's design row.
COLUMNS = ("within_row_ms", "row_ms", "miss_overhead_ms", "yield_ms", "pre_miss_ms")
# Per-list counts that multiply the terms of a list's time (``counts``); "scan_ms"/"hit_ms" multiply
# the mean span of a scan / a hit.
COUNTS = ("setup_ms", "per_row_ms", "hit_ms", "scan_ms", "miss_overhead_ms", "yield_ms", "pre_miss_ms")
Z975 = 1.959963984540054  # standard normal quantile at 0.975


def t975(df: int) -> float:
    """Student's t two-sided 95 % quantile on ``df`` degrees of freedom (``scipy.stats.t.ppf(0.975,
    df)``, from scipy.special: importing scipy.stats costs ~0.6 s more, a fit of a day's timeline
    takes ~9 s)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.975))


@dataclass(frozen=True)
class ListCounts:
    """What one list did, as the terms count it: rows, lookups per row, hits and misses among the
    lookups of its rows span (a real list makes a few besides its rows': they count as the
    engine's first-row lookups would), yields, the time of those lookups' spans, and the batches
    whose row lookups scanned (each pays the work before its first scan once)."""

    rows: int
    per_row: int
    hits: int
    misses: int
    yields: int
    spans_ms: float
    list_ms: float
    scan_batches: int = 0


def _layout(evidence: ListEvidence, per_row: int, batch: int) -> tuple[int, np.ndarray]:
    """The index of the first row lookup (lookups a list makes besides its rows' are placed as
    ``walk_batches`` places them) and the batch index of each row."""
    walk = walk_batches(evidence, per_row, batch)
    sizes = batch_sizes(evidence, batch)
    return walk.lead, np.repeat(np.arange(len(sizes)), sizes)


def stretches(evidence: ListEvidence, per_row: int, batch: int = SESSIONS_LIST_YIELD_BATCH_SIZE) -> tuple:
    """``(X, y, counts)``: the design rows (``COLUMNS``) and durations of the stretches between
    consecutive row lookups of one list, and its ``ListCounts``."""
    rows = evidence.rows or 0
    lead, batch_of_row = _layout(evidence, per_row, batch)
    looked = evidence.lookups[lead : lead + rows * per_row]
    n = len(looked)
    start = np.fromiter((lk.start_ms for lk in looked), float, n)
    duration = np.fromiter((lk.duration_ms for lk in looked), float, n)
    miss = np.fromiter((not lk.cache_hit for lk in looked), bool, n)
    position = np.arange(n) % per_row
    row = np.arange(n) // per_row
    nxt = slice(1, None)
    gap = start[nxt] - (start[:-1] + duration[:-1])
    same_row = position[nxt] != 0
    crosses = batch_of_row[row[nxt]] != batch_of_row[row[:-1]] if n > 1 else np.zeros(0, bool)
    first = _first_misses(miss, batch_of_row[row])
    design = np.column_stack([same_row, ~same_row, miss[:-1], crosses, first[nxt]]).astype(float)
    counts = ListCounts(
        rows=rows,
        per_row=per_row,
        hits=evidence.hits,
        misses=evidence.misses,
        yields=max(len(batch_sizes(evidence, batch)) - 1, 0),
        spans_ms=sum(lk.duration_ms for lk in evidence.lookups),
        list_ms=evidence.list_ms,
        scan_batches=int(first.sum()),
    )
    return design, gap, counts


def _first_misses(miss: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Per lookup: whether it is the first miss of its batch (``batch``: each lookup's batch)."""
    first = np.zeros(len(miss), bool)
    batches_missed = batch[miss]
    if len(batches_missed):
        where = np.flatnonzero(miss)
        first[where[np.r_[True, batches_missed[1:] != batches_missed[:-1]]]] = True
    return first


@dataclass(frozen=True)
class Terms:
    """The fitted terms. ``coef``/``cov``: the stretch regression (``COLUMNS``; NaN where not
    identified); ``fixed_ms``: each list's fixed part; ``hit_ms``/``scan_ms``: mean span and its
    variance of the mean; ``spread``: the standard deviation of log(observed / fitted list_ms)
    over the lists (None with one list: run-to-run spread not seen) and ``center`` the median of
    that log ratio (0 with one list: the median list is the fitted one times ``exp(center)``, since
    a slow process slows all of its list); ``counts`` per list; ``yield_folded``: every yield of
    the lists ended before its batch's first miss and vice versa, so their stretch is booked as
    work before the miss (``pre_miss_ms``) and a yield costs nothing of its own."""

    coef: np.ndarray
    cov: np.ndarray
    stretches: int
    residual_sd_ms: float
    fixed_ms: tuple[float, ...]
    hit_ms: tuple[float, float]
    scan_ms: tuple[float, float]
    spread: float | None
    counts: tuple[ListCounts, ...]
    center: float = 0.0
    clusters: int = 1
    yield_folded: bool = False

    @property
    def quantile(self) -> float:
        """The two-sided 95 % quantile for the terms' intervals: Student's t on (lists - 1) degrees
        of freedom when clustered over lists, else the normal one."""
        return t975(self.clusters - 1) if self.clusters > 1 else Z975

    def value(self, name: str) -> float | None:
        """A regression term's value (None where not identified)."""
        v = float(self.coef[COLUMNS.index(name)])
        return None if math.isnan(v) else v

    def se(self, name: str) -> float | None:
        i = COLUMNS.index(name)
        v = float(self.cov[i, i])
        return None if math.isnan(v) else math.sqrt(max(v, 0.0))

    @property
    def per_row(self) -> int:
        return self.counts[0].per_row

    @property
    def row_cost_ms(self) -> float:
        """A row's work outside its lookup spans: the stretch to the next row plus the stretches
        between its own lookups."""
        within = self.value("within_row_ms") or 0.0
        return (self.value("row_ms") or 0.0) + (self.per_row - 1) * within

    @property
    def setup_ms(self) -> float:
        return float(np.mean(self.fixed_ms))

    def vector(self) -> np.ndarray:
        """The terms in ``COUNTS`` order (a term not identified counts as 0)."""
        over, yld, pre = (self.value(name) or 0.0 for name in ("miss_overhead_ms", "yield_ms", "pre_miss_ms"))
        return np.array([self.setup_ms, self.row_cost_ms, self.hit_ms[0], self.scan_ms[0], over, yld, pre])

    def count_vector(self, c: ListCounts) -> np.ndarray:
        return np.array([1.0, c.rows, c.hits, c.misses, c.misses, c.yields, c.scan_batches])

    def covariance(self) -> np.ndarray:
        """Covariance of ``vector()``: the regression block (per-row as its linear combination), the
        span means, and the fixed part's. The fixed part is each list's time minus its observed
        spans and its regression terms, so it moves against the regression terms (not the span
        means) and adds the between-list variance of its mean."""
        k = len(COUNTS)
        jac = np.zeros((k, len(COLUMNS)))  # d(vector)/d(coef): row cost = row + (L-1) within
        jac[1, 0], jac[1, 1], jac[4, 2], jac[5, 3], jac[6, 4] = self.per_row - 1, 1.0, 1.0, 1.0, 1.0
        reg = jac @ np.nan_to_num(self.cov) @ jac.T
        mean = np.mean([self.count_vector(c) for c in self.counts], axis=0)
        mean[0] = 0.0
        cross = -reg @ mean
        cov = reg.copy()
        cov[0, :] += cross
        cov[:, 0] += cross
        between = float(np.var(self.fixed_ms, ddof=1)) / len(self.fixed_ms) if len(self.fixed_ms) > 1 else 0.0
        cov[0, 0] = float(mean @ reg @ mean) + between
        cov[2, 2] += self.hit_ms[1]
        cov[3, 3] += self.scan_ms[1]
        return cov

    def predicted_ms(self, c: ListCounts) -> float:
        return float(self.count_vector(c) @ self.vector())


def _ols(design: np.ndarray, gap: np.ndarray, lists: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """OLS on the identified columns (NaN elsewhere); its covariance, cluster-robust over the lists
    (CR1) when there are several, else HC1; the residual sd; the number of clusters."""
    p = design.shape[1]
    used = np.flatnonzero(design.any(axis=0))
    coef, cov = np.full(p, np.nan), np.full((p, p), np.nan)
    if len(used) == 0 or len(gap) <= len(used):
        return coef, cov, math.nan, 1
    x = design[:, used]
    beta, *_ = np.linalg.lstsq(x, gap, rcond=None)
    resid = gap - x @ beta
    bread = np.linalg.pinv(x.T @ x)
    n, k = x.shape
    groups, inverse = np.unique(lists, return_inverse=True)
    if len(groups) > 1:
        # Each list's rows in their order (a stable sort), summed as x[lists == g].sum(axis=0) would:
        # the same floats without a mask over every row per list (1,000 lists of a day: ~1 s).
        order = np.argsort(inverse, kind="stable")
        parts = np.split(x[order] * resid[order, None], np.flatnonzero(np.diff(inverse[order])) + 1)
        scores = np.array([part.sum(axis=0) for part in parts])
        g = len(groups)
        sandwich = bread @ (scores.T @ scores) @ bread * (g / (g - 1)) * ((n - 1) / (n - k))
    else:
        meat = (x * resid[:, None] ** 2).T @ x
        sandwich = bread @ meat @ bread * n / (n - k)
    coef[used] = beta
    cov[np.ix_(used, used)] = sandwich
    return coef, cov, float(np.sqrt(resid @ resid / (n - k))), max(len(groups), 1)


def _mean_var(per_list: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Mean of the values of all lists and the variance of that mean: cluster-robust over the
    lists when several have values, else over the values (0 with fewer than two values)."""
    values = [v for part in per_list for v in part]
    if not values:
        return 0.0, 0.0
    arr = np.asarray(values, float)
    mean, n = float(arr.mean()), len(arr)
    sums = [float(np.sum(np.asarray(part, float) - mean)) for part in per_list if len(part)]
    if len(sums) > 1:
        g = len(sums)
        return mean, float(np.sum(np.square(sums))) / n**2 * g / (g - 1)
    return mean, (float(arr.var(ddof=1)) / n if n > 1 else 0.0)


def fit_terms(
    chosen: Sequence[ListEvidence], per_row: int, batch: int = SESSIONS_LIST_YIELD_BATCH_SIZE
) -> Terms | None:
    """The terms regressed on every stretch of the lists ``chosen`` (None without row lookups)."""
    if per_row <= 0 or not chosen:
        return None
    parts = [stretches(e, per_row, batch) for e in chosen]
    design = np.vstack([p[0] for p in parts])
    gap = np.concatenate([p[1] for p in parts])
    lists = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(parts)])
    counts = tuple(p[2] for p in parts)
    design, folded = _fold_yields(design)
    coef, cov, sd, clusters = _ols(design, gap, lists)
    hits = [[lk.duration_ms for lk in e.lookups if lk.cache_hit] for e in chosen]
    scans = [[lk.duration_ms for lk in e.lookups if not lk.cache_hit] for e in chosen]
    draft = Terms(
        coef,
        cov,
        len(gap),
        sd,
        (0.0,),
        _mean_var(hits),
        _mean_var(scans),
        None,
        counts,
        clusters=clusters,
        yield_folded=folded,
    )
    rest = draft.vector()
    rest[:4] = 0.0  # the fixed part: the list minus its observed spans and its regression terms
    rest[1] = draft.row_cost_ms
    fixed = tuple(c.list_ms - c.spans_ms - float(draft.count_vector(c) @ rest) for c in counts)
    fitted = replace(draft, fixed_ms=fixed)
    spread, center = None, 0.0
    if len(counts) > 1:
        ratios = [math.log(c.list_ms / fitted.predicted_ms(c)) for c in counts if fitted.predicted_ms(c) > 0]
        spread = float(np.std(ratios, ddof=1)) if len(ratios) > 1 else None
        center = float(np.median(ratios)) if ratios else 0.0
    return replace(fitted, spread=spread, center=center)


def _fold_yields(design: np.ndarray) -> tuple[np.ndarray, bool]:
    """The design with the yield column dropped (zeroed) where it equals the pre-miss column in
    every stretch (each yield ends before its batch's first miss and vice versa: the two costs
    are one stretch, booked before the miss), and whether it was."""
    y, pre = COLUMNS.index("yield_ms"), COLUMNS.index("pre_miss_ms")
    if not design[:, y].any() or not np.array_equal(design[:, y], design[:, pre]):
        return design, False
    folded = design.copy()
    folded[:, y] = 0.0
    return folded, True
