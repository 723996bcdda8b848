"""Scan costs as the models see them: the mean, and the sum of k scans on a few points.

Each cost kind (``clawsim.scenario.costs``) knows its moments and discretises itself
(``Cost.points``); this module sums scans on those points. Every discretization keeps the
mean exact: each point is the conditional mean of an equal-mass bin.
"""

from __future__ import annotations

import numpy as np

from ..scenario import CostMs, distribution
from ..scenario.costs import requantize

POINTS = 24  # points of a discretized scan-cost distribution

Points = tuple[np.ndarray, np.ndarray]  # (values in ms, probabilities), values ascending


def scan_mean(cost: CostMs) -> float:
    """Mean of one scan's cost in ms."""
    return distribution(cost).mean


class ScanSums:
    """Discretized distribution of the sum of k scans, on at most ``points`` points (cached by k).

    ``mean`` is one scan's mean; ``constant`` says whether the cost is a plain number
    (then every sum is one point and the models are exact).
    """

    def __init__(self, cost: CostMs, points: int = POINTS):
        scan = distribution(cost)
        self.points = points
        self.mean = scan.mean
        self.constant = not scan.drawn
        self._cache = {1: scan.points(points)}

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
