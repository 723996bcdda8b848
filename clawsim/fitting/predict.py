"""list_ms of the fitted install elsewhere: other rows, another fix, other actors (``clawsim fit --predict``).

The counts come from the engine (the fitted scenario with the settings applied: how many rows,
hits, full scans and yields a list makes there), the time from the fitted terms
(``terms.Terms``): ``list_ms = setup + rows * per_row + hits * hit + misses * (scan + overhead)
+ yields * yield + scanning batches * pre-miss``. When the terms were fitted on warm lists (not the first of their process),
the simulated list is the second of two back to back, so its memo is as warm as theirs. The
per-yield term holds what concurrent callbacks did in the loop's turn, so a prediction without
the fitted install's actors charges no yields (and one with actors from an idle fit charges only
the idle turn: a callback never seen cannot be priced). The work before a batch's first scan is
charged once per batch that scans (``ListStats.scan_batches``): a workspace cycle the memo holds
scans in no batch and pays none of it, the pinned release only in the batch whose workspace
changed since the last list.

The point prediction is the median list: the terms' mean on the simulated counts times
``exp(center)``, the median of log(observed / fitted) over the fitted lists (a process that runs
slow runs all of its list slow, so the lists' time is skewed and its mean lies above its median;
validation judges medians). The 95 % prediction interval is for one new list, around that median
on the log scale:
``sd^2 = w (x' S x / mean^2 + spread^2) + run variance / mean^2``, where ``x' S x`` is the terms'
covariance on the predicted counts (cluster-robust over the n fitted lists, ``terms.Terms``: the
uncertainty of the terms from the spread between processes, which also carries the uncertainty of
the median), the run variance is the spread of the simulated lists' time (e.g. Poisson turns
making more or fewer scans), and ``spread`` the standard deviation of log(observed / fitted) over
the n fitted lists (how far one new process may run from the median); both estimated from n lists,
so widened by w = (t_{n-1} / z)^2; the quantile is z. With one fitted list that spread is not seen
(w = 1, spread 0: the terms' uncertainty within the list only), and the interval says so
(``spread_seen``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from ..errors import FitError, ScenarioError
from ..scenario import Scenario
from .terms import COUNTS, Z975, ListCounts, Terms

ALIASES = {"rows": "list.rows", "fix": "registry.fix"}


def settings(text: str) -> dict[str, Any]:
    """``rows=300,fix=pin,actors=none`` as dotted paths and values (aliases ``rows``, ``fix``;
    ``actors=none``: no actors; any other path a sweep accepts, values read as YAML); FitError on
    a setting without ``=`` (a path that is not a field fails when it is applied)."""
    out: dict[str, Any] = {}
    # A comma starts a new setting only before ``PATH=`` (a flow value may hold commas).
    for part in filter(None, (p.strip() for p in re.split(r",(?=\s*[\w.]+\s*=)", text))):
        path, sep, value = part.partition("=")
        path = ALIASES.get(path.strip(), path.strip())
        if not sep or not path:
            raise FitError(f"--predict {text}: expected PATH=VALUE, e.g. rows=300, fix=pin, actors=none")
        if path == "actors" and value.strip() in ("none", "[]"):
            out["actors"] = []
            continue
        try:
            out[path] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            raise FitError(f"--predict {text}: {value!r} is not a YAML value") from None
    if not out:
        raise FitError(f"--predict {text!r}: give PATH=VALUE, e.g. rows=300, fix=pin, actors=none")
    return out


@dataclass(frozen=True)
class Prediction:
    """One prediction: the settings, the simulated mean counts, the predicted list_ms with its 95 %
    interval, and the predicted time per term (``COUNTS`` order)."""

    label: str
    rows: int
    hits: float
    misses: float
    yields: float
    list_ms: float
    lo_ms: float
    hi_ms: float
    spread_seen: bool
    per_term_ms: tuple[float, ...]


def simulated_counts(scenario: Scenario, values: Mapping[str, Any], warm: bool) -> list[ListCounts]:
    """The counts of the simulated lists (one per replication) at the settings ``values``."""
    from ..engine.metrics import ListStats
    from ..engine.run import simulate_once
    from ..scenario import plan

    try:
        point = scenario.with_values({"registry.fix": "none", "list.count": 2 if warm else 1, **values})
    except ScenarioError as exc:
        raise FitError(f"--predict: {exc}") from None
    index = 1 if warm else 0
    simulated: list[ListStats] = []
    for run in plan(point):  # the engine's counters: the batches that scanned are no results column
        lists: list[ListStats] = []
        simulate_once(run.scenario, run.stream, lists=lists)
        simulated += [s for s in lists if s.list_index == index]
    unfinished = sum(not s.completed for s in simulated)
    if unfinished:  # a cut list's time is max_sim_ms, not a list's: no prediction averages it
        raise FitError(
            f"--predict: at {', '.join(f'{k}={v}' for k, v in values.items()) or 'the fitted settings'}: "
            f"{unfinished} of {len(simulated)} simulated lists did not finish within loop.max_sim_ms "
            f"({point.loop.max_sim_ms:g} ms): the install is overloaded there and has no list time to predict"
        )
    per_row = point.list.row_lookups
    # The per-yield term is the loop's turn plus what the install's concurrent callbacks did in it
    # (a flipper's setter call: ~2.5 ms in 2026.6.8); without them a turn costs next to nothing
    # (the flipper-off captures of validation/openclaw fit -0.2 .. 0.8 ms), so it is not charged.
    charged = bool(point.active_actors) or not scenario.active_actors
    return [
        ListCounts(point.list.rows, per_row, s.hits, s.scans, s.yields if charged else 0, 0.0,
                   s.list_ms, s.scan_batches)
        for s in simulated
    ]  # fmt: skip


def _priced(terms: Terms, name: str, needed: float) -> bool:
    """Whether a term the stretches did not identify is priced all the same: a yield folded into
    the work before a miss (``Terms.yield_folded``), or the work before a first scan in no more
    batches than the fitted lists scanned in (a first-row miss has no stretch before it: its work
    is in the fixed part)."""
    if name == "yield_ms":
        return terms.yield_folded
    return name == "pre_miss_ms" and needed <= max(c.scan_batches for c in terms.counts)


def predict(terms: Terms, counts: Sequence[ListCounts], label: str) -> Prediction:
    """list_ms for lists making ``counts``, with the interval described in the module docstring."""
    if not counts:
        raise FitError(f"--predict {label}: the simulation recorded no list")
    theta, cov = terms.vector(), terms.covariance()
    x = np.array([terms.count_vector(c) for c in counts])
    needs = x.mean(axis=0)
    for name, index, what in (("miss_overhead_ms", 4, "misses"), ("yield_ms", 5, "yields"),
                              ("pre_miss_ms", 6, "batches that scan")):  # fmt: skip
        if needs[index] > 0 and terms.value(name) is None and not _priced(terms, name, needs[index]):
            raise FitError(
                f"--predict {label}: the prediction has {what} but the timeline "
                f"identifies no {name} (none in its row loops); fit a timeline that has them"
            )
    per_run = x @ theta
    mean = float(per_run.mean())
    median = mean * math.exp(terms.center)  # the median list: the mean's terms times the median run factor
    spread = terms.spread if terms.spread is not None else 0.0
    run_var = float(per_run.var(ddof=1)) if len(per_run) > 1 else 0.0
    # the terms and the spread are estimated from n lists: their parts are widened by (t_{n-1} / z)^2
    widen = (terms.quantile / Z975) ** 2
    terms_var = max(float(needs @ cov @ needs), 0.0) / mean**2
    log_sd = math.sqrt(widen * (terms_var + spread**2) + run_var / mean**2)
    q = Z975
    return Prediction(
        label,
        counts[0].rows,
        float(needs[2]),
        float(needs[3]),
        float(needs[5]),
        median,
        median * math.exp(-q * log_sd),
        median * math.exp(q * log_sd),
        terms.spread is not None,
        tuple(float(v) for v in needs * theta),
    )


__all__ = ["ALIASES", "COUNTS", "Prediction", "predict", "settings", "simulated_counts"]
