"""Judging one Node run against clawsim's: every list's metrics, each by its ``Rule``.

``judge_run`` gives the rows ``compare`` collects; a row's ``status`` is ``pass``, ``fail``,
or ``busy`` (outside a non-exact rule while other processes held Node's thread for more than
``BUSY_LIMIT`` of the list). All times in milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..scenario import ImmediateActor, RunSpec, Scenario, distribution
from .harness import Record
from .rules import EXACT, METRICS, SPREAD_SEEDS, Rule, rules

BUSY_LIMIT = 0.05  # a list whose thread waited for a CPU longer than this share of it is "busy"
IO_NOTE = "with reads of {:.3f} ms (device lateness and pool hop)"

#: Per list index, per count: clawsim's (mean, sd) over SPREAD_SEEDS seeds.
Spread = list[dict[str, tuple[float, float]]]


def judge_run(
    spec: RunSpec,
    sim: list[Record],
    got: list[Record],
    io_sim: list[Record] | None = None,
    latency: float | None = None,
    spread: Spread | None = None,
) -> list[dict[str, Any]]:
    """Every list's rows for one Node run against clawsim's (and a ``lists`` row if their numbers differ)."""
    scenario = spec.scenario
    how = rules(scenario)
    keys = {"run": spec.run, **dict(spec.params)}
    out = [] if len(sim) == len(got) else [{**keys, **_lists_row(scenario, sim, got)}]
    turn_ms = _turn_ms(scenario)
    for i, (s, n) in enumerate(zip(sim, got, strict=False)):
        expected, notes = _expected(scenario, s, n, how)
        pair = _ListPair(scenario, s, n, expected, notes, _nth(io_sim, i), latency, _nth(spread, i), turn_ms)
        busy = _busy(n)
        for metric in METRICS:
            rule = how[metric]
            value, ok, text = pair.judge(metric, rule)
            err = abs(value - s[metric])
            rel = err / abs(s[metric]) if s[metric] else (0.0 if err == 0 else math.inf)
            out.append(
                {
                    **keys,
                    "list_index": s["list_index"],
                    "metric": metric,
                    "clawsim": s[metric],
                    "node": value,
                    "abs_err": float(err),
                    "rel_err": rel,
                    "rule": str(rule),
                    "status": _status(ok, rule.kind != "exact", busy),
                    "ok": bool(ok),
                    "busy": busy,
                    "note": text,
                }
            )
    return out


def _lists_row(scenario: Scenario, sim: list[Record], got: list[Record]) -> dict[str, Any]:
    """The ``lists`` row: polled lists may start one more or one fewer on Node (a tick moved)."""
    polled = scenario.list.polled
    rule = Rule("within", atol=1.0) if polled else EXACT
    diff = abs(len(got) - len(sim))
    busy = max((_busy(n) for n in got), default=0.0)
    ok = rule.judge(len(sim), len(got))
    return {
        "list_index": -1,
        "metric": "lists",
        "clawsim": len(sim),
        "node": len(got),
        "abs_err": float(diff),
        "rel_err": diff / len(sim),
        "rule": str(rule),
        "status": _status(ok, polled, busy),
        "ok": ok,
        "busy": busy,
        "note": "number of lists",
    }


def _nth(values: list[Any] | None, i: int) -> Any:
    """``values[i]``, or None past its end or without values."""
    return values[i] if values is not None and i < len(values) else None


@dataclass(frozen=True)
class _ListPair:
    """One list as clawsim simulated it (``sim``) and Node ran it (``node``), and what judges it.

    ``expected``/``notes``: clawsim's values adjusted for Node's stalls (``_expected``);
    ``informed``: clawsim re-run with Node's read latency ``latency`` (lists that await reads);
    ``spread``: clawsim's (mean, sd) per count over other seeds; ``turn_ms``: one timer or
    Poisson turn's thread time.
    """

    scenario: Scenario
    sim: Record
    node: Record
    expected: Record
    notes: dict[str, str]
    informed: Record | None
    latency: float | None
    spread: dict[str, tuple[float, float]] | None
    turn_ms: float

    def judge(self, metric: str, rule: Rule) -> tuple[float, bool, str]:
        """Node's value of ``metric``, whether it passes ``rule``, and the row's note."""
        if metric == "list_ms":
            return self._list_ms(rule)
        value = self.node[metric]
        if rule.kind == "spread":
            mean, sd = self.spread[metric] if self.spread else (self.sim[metric], 0.0)
            step = max(1, self.scenario.list.row_lookups) if metric in ("scans", "hits", "stale_hits") else 1
            text = f"clawsim over {SPREAD_SEEDS} seeds: {mean:.1f} ± {sd:.1f}"
            return value, rule.judge(mean, value, sd=sd, step=step), text
        if metric in ("flips", "changes") and self.informed and rule.kind != "exact":
            expected = self.informed[metric]
            return value, rule.judge(expected, value), f"expected {expected} " + IO_NOTE.format(self.latency)
        return value, rule.judge(self.expected[metric], value), self.notes.get(metric, "")

    def _list_ms(self, rule: Rule) -> tuple[float, bool, str]:
        s, n = self.sim, self.node
        value = n["list_cpu_ms"] if rule.clock == "cpu" else n["list_ms"]
        base = self.informed["list_ms"] if self.informed else s["list_ms"]
        # Scans and turns that Node made or drew differently (random draws, timers, stalls) cost what they cost.
        target = base + _extra_scan_ms(self.scenario, s, n) + (n["flips"] - s["flips"]) * self.turn_ms
        waited = f", waited for a CPU {n['waited_ms']:.1f} ms" if n.get("waited_ms") is not None else ""
        text = f"wall {n['list_ms']:.1f} ms, cpu {n['list_cpu_ms']:.1f} ms{waited}"
        if self.informed:
            text += f"; expected {target:.1f} ms " + IO_NOTE.format(self.latency)
        elif abs(target - s["list_ms"]) > 0.05:
            text += f"; expected {target:.1f} ms with Node's scans and turns"
        return value, rule.judge(target, value), text


def _extra_scan_ms(scenario: Scenario, sim: Record, node: Record) -> float:
    """What the scans Node made beyond clawsim's cost (drawn costs: Node's own draws)."""
    scan = distribution(scenario.memo.scan_ms)
    if not scan.drawn:
        per_scan = sim["scan_ms_total"] / sim["scans"] if sim["scans"] else scan.mean
        return (node["scans"] - sim["scans"]) * per_scan
    return float(node["scan_ms_total"] - sim["scan_ms_total"])


def _turn_ms(scenario: Scenario) -> float:
    """Mean thread time of one activation of the timer-driven and Poisson actors."""
    actors = [a for a in scenario.active_actors if not isinstance(a, ImmediateActor)]
    return sum(a.work_ms for a in actors) / len(actors) if actors else 0.0


def _busy(record: Record) -> float:
    """The share of a Node list's wall time its thread spent waiting for a CPU (NaN if unknown)."""
    waited = record.get("waited_ms")
    return waited / record["list_ms"] if waited is not None and record["list_ms"] > 0 else float("nan")


def _status(ok: bool, excusable: bool, busy: float) -> str:
    if ok:
        return "pass"
    return "busy" if excusable and busy > BUSY_LIMIT else "fail"


def _expected(scenario: Scenario, sim: Record, node: Record, how: dict[str, Rule]) -> tuple[Record, dict[str, str]]:
    """clawsim's values, adjusted for the awaited reads during which Node's thread stalled.

    An awaited read after which no actor ran before the next row (``io_no_turn``: the
    thread was descheduled, or paused, for longer than the I/O) lets that row read the
    value the previous row read: with unique workspaces and no pin, L fewer scans, L more
    hits and one workspace fewer than clawsim, whose loop never stalls.
    """
    stalls = node.get("io_no_turn", 0)
    lookups = scenario.list.row_lookups
    expected = dict(sim)
    if not stalls or not scenario.spinning or how["scans"].kind != "exact" or scenario.registry.pinned or not lookups:
        return expected, {}
    expected["scans"] -= lookups * stalls
    expected["hits"] += lookups * stalls
    expected["distinct_workspaces"] -= stalls
    why = f"expected {{}}: {stalls} awaited read(s) stalled past their latency (no loop turn before the next row)"
    return expected, {m: why.format(expected[m]) for m in ("scans", "hits", "distinct_workspaces")}
