"""One list's expected figures (a frozen value and the dict ``expectations()`` returns), and what
both models share: the model names and the time tolerance ``EPS``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Model = Literal["immediate", "chain"]

# Both models: times closer than this (ms) are the same time (ties are engine-order dependent).
EPS = 1e-9


@dataclass(frozen=True)
class Expectation:
    """Expected totals of one list (one replication).

    ``exact`` says the engine must agree exactly (up to float rounding of times and, for
    drawn scan costs, in expectation); ``model`` names the model that computed it.
    """

    list_index: int
    scans: float
    hits: float
    stale_hits: float
    lookups: float
    flips: float
    yields: float
    list_ms: float
    exact: bool
    model: Model

    def as_dict(self) -> dict[str, Any]:
        """The public record: ``list_index``, ``expected_<figure>`` floats, ``exact``, ``model`` (in this order)."""
        return {
            "list_index": self.list_index,
            "expected_scans": float(self.scans),
            "expected_hits": float(self.hits),
            "expected_stale_hits": float(self.stale_hits),
            "expected_lookups": float(self.lookups),
            "expected_flips": float(self.flips),
            "expected_yields": float(self.yields),
            "expected_list_ms": float(self.list_ms),
            "exact": bool(self.exact),
            "model": self.model,
        }
