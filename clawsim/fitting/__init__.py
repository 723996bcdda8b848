"""Fit a scenario to a real gateway's diagnostics timeline (``clawsim fit``, ``clawsim.fit``).

From the ``sessions.list`` calls of a timeline (real, or written by ``clawsim trace``: the
same reader reads both) this derives, with the evidence for each: rows, lookups per row,
the yield batch (the gateway's constant 10), the full-scan and hit costs, the per-row cost
left over, whether the memo keeps entries at all, and the rate of workspace-changing setter
calls (``estimate.py``). The result is a scenario whose ``sweep: {registry.fix: [none, pin]}``
answers "what does the pin buy on this install", plus a check of the fitted scenario
against the observed lists (``check.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import FitError
from ..scenario import Scenario
from ..timeline import Instant, ListEvidence, Span, TimelineError, completion_order, list_evidence, read_timeline
from .check import compare_frame, match_rate
from .emit import fitted_scenario, parameters_frame
from .estimate import Rate, hoisted, lookups_per_row, setter_rate, structure, windows, without_hoisted


@dataclass(frozen=True)
class FitResult:
    """A fit: the scenario, its YAML (with provenance comments), parameters with intervals,
    the evidence per list, and observed vs simulated figures of the fitted lists."""

    scenario: Scenario
    yaml: str
    parameters: Any  # DataFrame: parameter, value, lo, hi, evidence
    lists: Any  # DataFrame: one row per list of the timeline
    check: Any  # DataFrame: observed vs simulated scans, hits, list_ms
    notes: tuple[str, ...]


def _evidence(source: str | Path | Iterable[Any]) -> tuple[list[ListEvidence], str]:
    if isinstance(source, (str, Path)):
        name = Path(source).name
        try:
            return list(list_evidence(read_timeline(source, marks=True))), name
        except FileNotFoundError:
            raise FitError(f"{source}: no such file") from None
        except IsADirectoryError:
            raise FitError(f"{source}: is a folder; give a diagnostics timeline (.jsonl)") from None
        except TimelineError as exc:
            raise FitError(str(exc)) from None
    events = list(source)
    spans = [e for e in events if isinstance(e, Span)]
    instants = [e for e in events if isinstance(e, Instant)]
    if spans and len(spans) + len(instants) == len(events):
        return list(list_evidence(completion_order(spans, instants))), "<events>"
    raise FitError("clawsim.fit takes a timeline path or a list of spans and instants (clawsim.timeline)")


def _select(evidence: list[ListEvidence], which: int | None, name: str) -> list[ListEvidence]:
    usable = [e for e in evidence if e.rows]
    if not evidence:
        raise FitError(f"{name}: holds no gateway.sessions.list span; is it a gateway's diagnostics timeline?")
    if not usable:
        raise FitError(f"{name}: its lists have no gateway.sessions.list.rows span with storeEntries")
    if not any(e.lookups for e in usable):
        raise FitError(
            f"{name}: its lists hold no plugins.metadata.scan spans (were diagnostics on? OPENCLAW_DIAGNOSTICS=1)"
        )
    if which is None:
        return [e for e in usable if e.lookups]
    if not 0 <= which < len(usable):
        raise FitError(f"{name}: --list {which}: the timeline has lists 0..{len(usable) - 1}")
    return [usable[which]]


def fit(
    source: str | Path | Iterable[Any], *, list_index: int | None = None, replications: int = 20, check: bool = True
) -> FitResult:
    """Fit a scenario to the lists of a timeline (all of them, or list ``list_index``)."""
    evidence, name = _evidence(source)
    chosen = _select(evidence, list_index, name)
    hoist = hoisted(chosen[0])
    rowwise = [without_hoisted(e) for e in chosen]
    per_row, per_row_how = lookups_per_row(rowwise)
    all_windows = [windows(e, per_row) for e in rowwise] if per_row else []
    keeps = sum(w.misses_after_first_row for w in all_windows) == 0
    rate: Rate = (
        setter_rate(all_windows)
        if keeps
        else Rate(
            None,
            None,
            None,
            0,
            0,
            "the memo keeps no entries (misses after a batch's first row): "
            "every lookup is a full scan whatever the concurrency, which therefore cannot be seen",
        )
    )
    walk = structure(chosen[0])
    if hoist:
        walk = replace(walk, hoisted=hoist)
    scenario, text, notes = fitted_scenario(
        name, evidence, chosen, per_row, per_row_how, keeps, rate, replications, walk
    )
    if check and scenario.actors and scenario.actors[0].kind == "poisson" and rate.per_s:
        matched = match_rate(scenario, chosen, rate.per_s)
        if matched != rate.per_s:
            rate = Rate(
                matched,
                rate.lo_per_s,
                rate.hi_per_s,
                rate.changed,
                rate.batches,
                f"{rate.how}; the window inversion gave {rate.per_s:.3g}/s, which the simulation does not "
                f"match (work of callbacks the timeline does not show), so the rate was matched to the "
                f"observed scans by simulation; interval from the inversion",
            )
            scenario, text, notes = fitted_scenario(
                name, evidence, chosen, per_row, per_row_how, keeps, rate, replications, walk
            )
    params = parameters_frame(chosen, per_row, per_row_how, keeps, rate)
    from ..timeline import evidence_frame

    lists = evidence_frame(evidence)
    table = compare_frame(scenario, chosen) if check else None
    return FitResult(scenario, text, params, lists, table, notes)


__all__ = ["FitResult", "fit"]
