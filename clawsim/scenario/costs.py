"""Cost distributions in ms: each knows its moments and how to draw from a stream.

A cost in a scenario is a plain number (a constant) or one of the distributions below,
chosen by its ``dist`` field. ``distribution(cost)`` gives the object with ``mean`` and
``sampler(rng)`` for either, so the engine and the analytic model never branch on the kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from .bounds import MAX_MS, Ms, PositiveMs
from .strict import Strict

if TYPE_CHECKING:  # numpy is imported where a sampler is made, not when a scenario is read
    import numpy as np

Z95 = 1.6448536269514722  # standard normal quantile at 0.95
Sampler = Callable[[], float]


@dataclass(frozen=True)
class Constant:
    """A cost that is always ``value`` ms (a plain number in the scenario)."""

    value: float

    @property
    def mean(self) -> float:
        return self.value

    def sampler(self, rng: np.random.Generator | None) -> Sampler:
        """Always ``value``: draws nothing, so ``rng`` may be None."""
        value = self.value
        return lambda: value


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
    def mean(self) -> float:
        return self.p50 * math.exp(self.sigma**2 / 2)

    def sampler(self, rng: np.random.Generator) -> Sampler:
        mu, sigma = self.mu, self.sigma
        return lambda: float(rng.lognormal(mu, sigma))


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
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sampler(self, rng: np.random.Generator) -> Sampler:
        low, high = self.low, self.high
        return lambda: float(rng.uniform(low, high))


class Empirical(Strict):
    """A cost drawn uniformly from measured values."""

    dist: Literal["empirical"] = Field(description="empirical: a cost drawn uniformly from measured values")
    values: list[Ms] = Field(min_length=1, description="measured costs (ms); each draw picks one, equally likely")

    @property
    def mean(self) -> float:
        import numpy as np

        return float(np.mean(self.values))

    def sampler(self, rng: np.random.Generator) -> Sampler:
        import numpy as np

        values = np.asarray(self.values, dtype=float)
        return lambda: float(values[rng.integers(len(values))])


Distribution = Annotated[Lognormal | Uniform | Empirical, Field(discriminator="dist")]
CostMs = Ms | Distribution
AnyCost = Constant | Lognormal | Uniform | Empirical


def distribution(cost: CostMs) -> AnyCost:
    """The distribution object of a scenario cost (a number becomes a ``Constant``)."""
    if isinstance(cost, (int, float)):
        return Constant(float(cost))
    return cost
