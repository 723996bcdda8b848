"""Cost distributions in ms: each kind knows its moments, how to draw, discretise and quantile itself.

A cost in a scenario is a plain number (a constant) or one of the distributions below,
chosen by its ``dist`` field. ``distribution(cost)`` gives either as a ``Cost``: the engine
draws with ``sampler``/``draws``, the analytic models take ``mean`` and ``points``, explore
takes ``quantile``, and nobody outside this module branches on the kind. A new kind joins the
``Distribution`` union with every ``Cost`` method, or mypy fails at ``distribution`` (and
tests/test_costs.py fails for a kind without an example there).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal, Protocol, TypeAlias, get_args

from pydantic import Field, model_validator

from .bounds import MAX_MS, Ms, PositiveMs
from .strict import Strict

if TYPE_CHECKING:  # numpy is imported where a cost is drawn or discretised, not when a scenario is read
    import numpy as np
    from numpy.typing import NDArray

Z95 = 1.6448536269514722  # standard normal quantile at 0.95
Sampler = Callable[[], float]
Draws = Callable[[int], list[float]]  # the next n draws of a sampler, in one call
Points: TypeAlias = "tuple[NDArray[np.float64], NDArray[np.float64]]"  # (values in ms, probabilities)
Rng: TypeAlias = "np.random.Generator | None"  # None only for a cost that draws nothing


class Cost(Protocol):
    """What every cost kind knows about itself (times in ms).

    ``sampler(rng)()`` draws one cost; ``draws(rng)(n)`` the next ``n``, the same numbers in
    the same order as ``n`` calls of a sampler on the same stream. ``drawn`` is False for a
    constant, which draws nothing (its ``rng`` may be None: no stream need be made).
    ``points(m)``: at most ``m`` equal-mass points (values ascending, probabilities) with the
    cost's exact mean. ``quantile(q)``: the ``q`` quantile, 0 <= q <= 1.
    """

    @property
    def drawn(self) -> bool: ...
    @property
    def mean(self) -> float: ...
    def sampler(self, rng: Rng) -> Sampler: ...
    def draws(self, rng: Rng) -> Draws: ...
    def points(self, m: int) -> Points: ...
    def quantile(self, q: float) -> float: ...


def _stream(rng: Rng) -> np.random.Generator:
    if rng is None:
        raise ValueError("a drawn cost needs a random stream")
    return rng


@dataclass(frozen=True)
class Constant:
    """A cost that is always ``value`` ms (a plain number in the scenario)."""

    value: float

    @property
    def drawn(self) -> bool:
        return False

    @property
    def mean(self) -> float:
        return self.value

    def sampler(self, rng: Rng) -> Sampler:
        """Always ``value``: draws nothing, so ``rng`` may be None."""
        value = self.value
        return lambda: value

    def draws(self, rng: Rng) -> Draws:
        value = self.value
        return lambda count: [value] * count

    def points(self, m: int) -> Points:
        import numpy as np

        return np.array([self.value]), np.array([1.0])

    def quantile(self, q: float) -> float:
        return self.value


class Lognormal(Strict):
    """A lognormal cost given by its median ``p50`` and 95th percentile ``p95``."""

    dist: Literal["lognormal"] = Field(description="lognormal: a cost given by its median and 95th percentile")
    p50: PositiveMs = Field(description="median cost (ms)")
    p95: PositiveMs = Field(description="95th percentile of the cost (ms), at least p50")

    @model_validator(mode="after")
    def _p95_above_p50(self) -> Lognormal:
        if self.p95 < self.p50:
            raise ValueError("p95 must be >= p50")
        # A wide spread makes the mean (and the draws) overflow long before p95 does.
        if self.sigma**2 / 2 > math.log(MAX_MS) - math.log(self.p50):
            raise ValueError(f"p95/p50 is so wide that the mean exceeds {MAX_MS:g} ms")
        return self

    @property
    def mu(self) -> float:
        """Mean of the underlying normal: ln p50."""
        return math.log(self.p50)

    @property
    def sigma(self) -> float:
        """Standard deviation of the underlying normal: (ln p95 - ln p50) / z(0.95)."""
        return (math.log(self.p95) - math.log(self.p50)) / Z95

    @property
    def drawn(self) -> bool:
        return True

    @property
    def mean(self) -> float:
        return self.p50 * math.exp(self.sigma**2 / 2)

    def sampler(self, rng: Rng) -> Sampler:
        mu, sigma, stream = self.mu, self.sigma, _stream(rng)
        return lambda: float(stream.lognormal(mu, sigma))

    def draws(self, rng: Rng) -> Draws:
        mu, sigma, stream = self.mu, self.sigma, _stream(rng)
        return lambda count: stream.lognormal(mu, sigma, count).tolist()

    def points(self, m: int) -> Points:
        """Equal-mass bins of the normal exponent, each represented by its conditional mean."""
        from statistics import NormalDist

        import numpy as np

        mu, sigma = self.mu, self.sigma
        nd = NormalDist()
        z = [nd.inv_cdf(q) for q in np.linspace(0, 1, m + 1)[1:-1]]
        edges = [-math.inf, *z, math.inf]
        vals = []
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            # E[e^{mu+sigma Z} | lo < Z < hi] * P = e^{mu+sigma^2/2} (Phi(hi - sigma) - Phi(lo - sigma))
            mass = nd.cdf(hi - sigma) - nd.cdf(lo - sigma)
            vals.append(math.exp(mu + sigma * sigma / 2) * mass * m)
        return np.asarray(vals), np.full(m, 1 / m)

    def quantile(self, q: float) -> float:
        from statistics import NormalDist

        import numpy as np

        return float(np.exp(self.mu + self.sigma * NormalDist().inv_cdf(q)))


class Uniform(Strict):
    """A cost drawn uniformly from [low, high]."""

    dist: Literal["uniform"] = Field(description="uniform: a cost drawn evenly from [low, high]")
    low: Ms = Field(description="smallest cost (ms)")
    high: Ms = Field(description="largest cost (ms), at least low")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be >= low")
        return self

    @property
    def drawn(self) -> bool:
        return True

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sampler(self, rng: Rng) -> Sampler:
        low, high, stream = self.low, self.high, _stream(rng)
        return lambda: float(stream.uniform(low, high))

    def draws(self, rng: Rng) -> Draws:
        low, high, stream = self.low, self.high, _stream(rng)
        return lambda count: stream.uniform(low, high, count).tolist()

    def points(self, m: int) -> Points:
        """The midpoints of ``m`` equal slices of [low, high]."""
        import numpy as np

        width = (self.high - self.low) / m
        return self.low + width * (np.arange(m, dtype=np.float64) + 0.5), np.full(m, 1 / m, dtype=np.float64)

    def quantile(self, q: float) -> float:
        return self.low + q * (self.high - self.low)


class Empirical(Strict):
    """A cost drawn uniformly from measured values."""

    dist: Literal["empirical"] = Field(description="empirical: a cost drawn uniformly from measured values")
    values: list[Ms] = Field(min_length=1, description="measured costs (ms); each draw picks one, equally likely")

    @property
    def drawn(self) -> bool:
        return True

    @property
    def mean(self) -> float:
        import numpy as np

        return float(np.mean(self.values))

    def sampler(self, rng: Rng) -> Sampler:
        import numpy as np

        values, stream = np.asarray(self.values, dtype=float), _stream(rng)
        return lambda: float(values[stream.integers(len(values))])

    def draws(self, rng: Rng) -> Draws:
        import numpy as np

        values, stream = np.asarray(self.values, dtype=float), _stream(rng)
        return lambda count: values[stream.integers(len(values), size=count)].tolist()

    def points(self, m: int) -> Points:
        import numpy as np

        values = np.asarray(self.values, dtype=float)
        return requantize(values, np.full(len(values), 1 / len(values)), m)

    def quantile(self, q: float) -> float:
        import numpy as np

        return float(np.quantile(self.values, q))


Distribution = Annotated[Lognormal | Uniform | Empirical, Field(discriminator="dist")]
DISTRIBUTIONS: tuple[type[Strict], ...] = get_args(get_args(Distribution)[0])
# Each distribution's ``dist`` value: pydantic's tag for it in an error's location.
DIST_TAGS: frozenset[str] = frozenset(get_args(m.model_fields["dist"].annotation)[0] for m in DISTRIBUTIONS)
CostMs = Ms | Distribution
AnyCost = Constant | Lognormal | Uniform | Empirical


def distribution(cost: CostMs) -> Cost:
    """The ``Cost`` of a scenario cost (a number becomes a ``Constant``)."""
    if isinstance(cost, (int, float)):
        return Constant(float(cost))
    return cost


def requantize(values: NDArray[np.float64], probs: NDArray[np.float64], m: int) -> Points:
    """At most ``m`` equal-mass points with the same mean (conditional means of bins), sorted."""
    import numpy as np

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
