"""The fitted scenario (YAML with its provenance as comments) and the parameter table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import fmean
from typing import Any

import yaml

from ..scenario import Scenario, parse_scenario
from ..scenario.schema import LoopSpec
from ..timeline.evidence import SESSIONS_LIST_YIELD_BATCH_SIZE, ListEvidence
from ..timeline.names import BATCH
from .estimate import Rate, Structure, busy_ms
from .terms import Terms, t975

MAX_EMPIRICAL = 64  # scan durations kept in the fitted distribution (quantiles beyond this)
MIN_EMPIRICAL = 8  # fewer full scans than this: a constant at their mean
LRU_SLOTS = 8  # the June 2026 releases' memo (docs/sources.md §1.3)


def scan_durations(chosen: Sequence[ListEvidence]) -> list[float]:
    return sorted(lk.duration_ms for e in chosen for lk in e.lookups if not lk.cache_hit)


def hit_durations(chosen: Sequence[ListEvidence]) -> list[float]:
    return [lk.duration_ms for e in chosen for lk in e.lookups if lk.cache_hit]


def _quantiles(values: list[float], m: int) -> list[float]:
    """At most ``m`` values standing for the sorted ``values`` (mid-quantiles)."""
    if len(values) <= m:
        return [round(v, 4) for v in values]
    n = len(values)
    return [round(values[min(n - 1, int((i + 0.5) * n / m))], 4) for i in range(m)]


def scan_cost(values: list[float]) -> Any:
    if len(values) >= MIN_EMPIRICAL:
        return {"dist": "empirical", "values": _quantiles(values, MAX_EMPIRICAL)}
    return round(fmean(values), 4) if values else 0.0


def row_cost_ms(chosen: Sequence[ListEvidence]) -> float:
    """The list's own busy time (batch spans, else the rows span) minus its lookups and, for a
    real timeline, the loop's own iterations, per row, averaged over the lists."""
    per_list = []
    for e in chosen:
        lookups_ms = sum(lk.duration_ms for lk in e.lookups)
        simulated = any(r.name == BATCH for r in e.extras)
        yields = 0 if simulated else max(math.ceil((e.rows or 0) / SESSIONS_LIST_YIELD_BATCH_SIZE) - 1, 0)
        other = busy_ms(e) - lookups_ms - yields * LoopSpec().iteration_ms
        per_list.append(max(other, 0.0) / (e.rows or 1))
    return round(fmean(per_list), 4)


def actors(rate: Rate) -> list[dict[str, Any]]:
    """The setter calls as actors: none, a flipper on every iteration, or Poisson turns."""
    if rate.per_s is None or rate.per_s == 0:
        return []
    if math.isinf(rate.per_s):
        return [{"name": "flipper", "kind": "immediate", "workspaces": "unique"}]
    return [{"name": "turns", "kind": "poisson", "rate_per_s": round(rate.per_s, 4), "workspaces": "unique"}]


def _header(
    name: str,
    evidence: Sequence[ListEvidence],
    chosen: Sequence[ListEvidence],
    per_row_how: str,
    keeps: bool,
    rate: Rate,
    walk: Structure,
) -> list[str]:
    scans = scan_durations(chosen)
    return [
        f"Fitted by `clawsim fit` from {name}: {len(chosen)} of its {len(evidence)} gateway.sessions.list spans",
        f"(rows {', '.join(str(e.rows) for e in chosen)}; {sum(len(e.lookups) for e in chosen)} plugins.metadata.scan "
        f"spans under the rows spans, {len(scans)} of them full scans).",
        f"list.lookups_per_row: {per_row_how}.",
        f"list.yield_every: {walk.yield_every} ({walk.how}).",
        f"memo.scan_ms: the {len(scans)} full-scan durations (spans without cacheHit).",
        "memo.hit_ms: mean duration of the cacheHit spans; list.row_cost_ms, list.setup_ms, memo.miss_overhead_ms, "
        "memo.pre_miss_ms and a flipper's work_ms: the cost terms regressed on the stretches between the lookup spans "
        "(docs/fit.md), or, without row lookups, the rows span minus its lookups, per row.",
        "memo.policy: "
        + (
            "lru with the releases' 8 entries: misses come only at batch starts"
            if keeps
            else "none: full scans after a batch's first row, where every row reads the same workspace, "
            "can only come from the memo itself"
        ),
        f"actors: {rate.how}.",
        "Run `clawsim run` on this file: registry.fix none vs pin is what the pin buys on this install.",
    ]


def _cost_terms(data: dict[str, Any], terms: Terms) -> None:
    """The regressed terms into the scenario (negative estimates, noise around 0, as 0)."""
    data["list"]["row_cost_ms"] = round(max(terms.row_cost_ms, 0.0), 4)
    if terms.setup_ms > 0:
        data["list"]["setup_ms"] = round(terms.setup_ms, 4)
    over = terms.value("miss_overhead_ms")
    if over is not None and over > 0:
        data["memo"]["miss_overhead_ms"] = round(over, 4)
    pre = terms.value("pre_miss_ms")
    if pre is not None and pre > 0:
        data["memo"]["pre_miss_ms"] = round(pre, 4)
    per_yield = terms.value("yield_ms")
    flipper = [a for a in data["actors"] if a["kind"] == "immediate"]
    if flipper and per_yield is not None and per_yield > LoopSpec().iteration_ms:
        # one activation per yield inside a list: what the loop's turn took beyond its own overhead
        flipper[0]["work_ms"] = round(per_yield - LoopSpec().iteration_ms, 4)


def fitted_scenario(
    name: str,
    evidence: Sequence[ListEvidence],
    chosen: Sequence[ListEvidence],
    per_row: int,
    per_row_how: str,
    keeps: bool,
    rate: Rate,
    replications: int,
    walk: Structure,
    terms: Terms | None = None,
) -> tuple[Scenario, str, tuple[str, ...]]:
    """The scenario, its YAML text and the notes a user should read. With ``terms`` (the stretch
    regression), the per-row cost, the fixed per-list cost, the work after each miss, the work
    before a batch's first scan and a flipper's per-yield work (where a yield's cost is told
    apart from that work) are theirs; without, the per-row cost is the rows span minus its
    lookups, per row."""
    hits = hit_durations(chosen)
    memo: dict[str, Any] = {"policy": "lru", "capacity": LRU_SLOTS} if keeps else {"policy": "none"}
    memo.update(
        scan_ms=scan_cost(scan_durations(chosen)),
        hit_ms=round(fmean(hits), 4) if hits else 0.0,
        hit_spans=bool(hits) or not keeps,
    )
    stem = name.rsplit(".", 1)[0] if name != "<events>" else "events"
    data: dict[str, Any] = {
        "name": f"fit-{stem}"[:100],
        "description": f"fitted by clawsim fit from {name}",
        "replications": replications,
        "list": {
            "rows": max(e.rows or 1 for e in chosen),
            "yield_every": walk.yield_every,
            "lookups_per_row": per_row,
            "row_cost_ms": row_cost_ms(chosen),
        },
        "memo": memo,
        "actors": actors(rate),
        "sweep": {"registry.fix": ["none", "pin"]},
    }
    if terms is not None:
        _cost_terms(data, terms)
    if walk.hoisted and not per_row:
        data["list"].update(lookup_mode="hoisted", lookups_per_row=walk.hoisted)
    if walk.io_rows and walk.io_latency_ms:
        data["list"]["per_row_io"] = {"rows": walk.io_rows, "latency_ms": walk.io_latency_ms}
    notes = _header(name, evidence, chosen, per_row_how, keeps, rate, walk)
    text = "".join(f"# {line}\n" for line in notes) + yaml.safe_dump(data, sort_keys=False)
    return parse_scenario(text, f"fit-{stem}.yaml"), text, tuple(notes)


def _median_ci(values: list[float]) -> tuple[float, float, float]:
    """Median with a distribution-free 95 % interval from order statistics."""
    import numpy as np
    from scipy.special import bdtr

    n = len(values)
    cdf = bdtr(np.arange(n + 1), n, 0.5)  # binom(n, 0.5).cdf; its ppf(q) is the first k with cdf(k) >= q
    lo_i, hi_i = (int(k) for k in np.searchsorted(cdf, (0.025, 0.975)))
    return (
        values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2,
        values[max(lo_i - 1, 0)],
        values[min(hi_i, n - 1)],
    )


def _mean_ci(values: list[float]) -> tuple[float, float | None, float | None]:
    if len(values) < 2:
        return (values[0] if values else math.nan), None, None
    mean = fmean(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    half = t975(len(values) - 1) * sd / math.sqrt(len(values))
    return mean, max(mean - half, 0.0), mean + half  # a duration is never negative


def _term_ci(terms: Terms | None, kind: str, values: list[float]) -> tuple[float, float | None, float | None]:
    """The mean span with its 95 % interval: the terms' (cluster-robust over several lists,
    ``terms.Terms``) when fitted from several lists, else Student t over the spans."""
    if terms is None or terms.clusters < 2:
        return _mean_ci(values)
    mean, var = terms.scan_ms if kind == "scan" else terms.hit_ms
    half = terms.quantile * math.sqrt(var)
    return mean, max(mean - half, 0.0), mean + half  # a duration is never negative


def _how(terms: Terms | None, what: str, values: list[float]) -> str:
    if terms is not None and terms.clusters > 1:
        return f"{len(values)} {what} of {terms.clusters} lists, Student t over the lists"
    return f"{len(values)} {what}, Student t"


def parameters_frame(
    chosen: Sequence[ListEvidence], per_row: int, per_row_how: str, keeps: bool, rate: Rate, terms: Terms | None = None
) -> Any:
    """One row per fitted parameter: value, 95 % interval (lo, hi; empty when exact) and evidence."""
    import pandas as pd

    scans, hits = scan_durations(chosen), hit_durations(chosen)
    rows: list[tuple[str, Any, Any, Any, str]] = [
        ("list.rows", max(e.rows or 1 for e in chosen), None, None, "storeEntries of the rows span"),
        ("list.lookups_per_row", per_row, None, None, per_row_how),
        ("list.yield_every", SESSIONS_LIST_YIELD_BATCH_SIZE, None, None, "the gateway's constant"),
        (
            ("list.row_cost_ms", row_cost_ms(chosen), None, None, "rows span minus its lookups, per row")
            if terms is None
            else ("list.row_cost_ms", max(terms.row_cost_ms, 0.0), None, None, "the per-row term (below)")
        ),
        (
            "memo.policy",
            "lru" if keeps else "none",
            None,
            None,
            "misses only at batch starts" if keeps else "misses after a batch's first row",
        ),
    ]
    if scans:
        rows.append(("scan_ms p50", *_median_ci(scans), f"{len(scans)} full scans (order-statistic interval)"))
        rows.append(("scan_ms p95", scans[min(len(scans) - 1, int(0.95 * len(scans)))], None, None, "empirical"))
        rows.append(("scan_ms mean", *_term_ci(terms, "scan", scans), _how(terms, "full scans", scans)))
    if hits:
        rows.append(("memo.hit_ms", *_term_ci(terms, "hit", hits), _how(terms, "cacheHit spans", hits)))
    rows.append(("setter calls per s", rate.per_s, rate.lo_per_s, rate.hi_per_s, rate.how))
    return pd.DataFrame(rows, columns=["parameter", "value", "lo", "hi", "evidence"])
