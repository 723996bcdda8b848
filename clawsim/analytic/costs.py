"""Scan costs as the models see them: the mean, and the sum of k scans on a few points.

The distributions themselves (moments, the lognormal's ``mu``/``sigma`` from p50/p95) live
in ``clawsim.scenario.costs``; this module only discretizes them. Every discretization
keeps the mean exact: each point is the conditional mean of an equal-mass bin.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from ..scenario import Constant, CostMs, Empirical, Lognormal, Uniform, distribution

POINTS = 24  # points of a discretized scan-cost distribution

Points = tuple[np.ndarray, np.ndarray]  # (values in ms, probabilities), values ascending


def scan_mean(cost: CostMs) -> float:
    """Mean of one scan's cost in ms."""
    return distribution(cost).mean


def requantize(values: np.ndarray, probs: np.ndarray, m: int = POINTS) -> Points:
    """At most ``m`` equal-mass points with the same mean (conditional means of bins), sorted."""
    order = np.argsort(values)
    values, probs = values[order], probs[order]
    if len(values) <= m:
        return values, probs
    edges = np.searchsorted(np.cumsum(probs), np.linspace(0, 1, m + 1)[1:-1])
    out_v, out_p = [], []
    for chunk in np.split(np.arange(len(values)), edges):
        if len(chunk):
            p = probs[chunk].sum()
            if p > 0:
                out_v.append(float((values[chunk] * probs[chunk]).sum() / p))
                out_p.append(float(p))
    return np.asarray(out_v), np.asarray(out_p)


def _lognormal_points(cost: Lognormal, points: int) -> Points:
    """Equal-mass bins of the normal exponent, each represented by its conditional mean."""
    mu, sigma = cost.mu, cost.sigma
    nd = NormalDist()
    z = [nd.inv_cdf(q) for q in np.linspace(0, 1, points + 1)[1:-1]]
    edges = [-math.inf, *z, math.inf]
    vals = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        # E[e^{mu+sigma Z} | lo < Z < hi] * P = e^{mu+sigma^2/2} (Phi(hi - sigma) - Phi(lo - sigma))
        mass = nd.cdf(hi - sigma) - nd.cdf(lo - sigma)
        vals.append(math.exp(mu + sigma * sigma / 2) * mass * points)
    return np.asarray(vals), np.full(points, 1 / points)


def one_scan(cost: CostMs, points: int = POINTS) -> Points:
    """One scan's cost on at most ``points`` equal-mass points (a constant on one)."""
    dist = distribution(cost)
    if isinstance(dist, Constant):
        return np.array([dist.value]), np.array([1.0])
    if isinstance(dist, Lognormal):
        return _lognormal_points(dist, points)
    if isinstance(dist, Uniform):
        width = (dist.high - dist.low) / points
        return dist.low + width * (np.arange(points) + 0.5), np.full(points, 1 / points)
    assert isinstance(dist, Empirical)
    vals = np.asarray(dist.values, dtype=float)
    return requantize(vals, np.full(len(vals), 1 / len(vals)), points)


class ScanSums:
    """Discretized distribution of the sum of k scans, on at most ``points`` points (cached by k).

    ``mean`` is one scan's mean; ``constant`` says whether the cost is a plain number
    (then every sum is one point and the models are exact).
    """

    def __init__(self, cost: CostMs, points: int = POINTS):
        self.points = points
        self.mean = scan_mean(cost)
        self.constant = isinstance(distribution(cost), Constant)
        self._cache = {1: one_scan(cost, points)}

    def of(self, k: int) -> Points:
        """The sum of ``k`` independent scans (k <= 0: exactly 0 ms)."""
        if k <= 0:
            return np.array([0.0]), np.array([1.0])
        if k not in self._cache:
            # halving keeps the number of convolutions logarithmic in k
            half = self.of(k // 2)
            rest = self.of(k - k // 2)
            v = (half[0][:, None] + rest[0][None, :]).ravel()
            p = (half[1][:, None] * rest[1][None, :]).ravel()
            self._cache[k] = requantize(v, p, self.points)
        return self._cache[k]
