"""Fit a scenario to a real gateway's diagnostics timeline (``clawsim fit``, ``clawsim.fit``).

From the ``sessions.list`` calls of a timeline (real, or written by ``clawsim trace``: the
same reader reads both) this derives, with the evidence for each: rows, lookups per row,
the yield batch (the gateway's constant 10), the full-scan and hit costs, the per-row cost
left over, whether the memo keeps entries at all, and the rate of workspace-changing setter
calls (``estimate.py``). The result is a scenario whose ``sweep: {registry.fix: [none, pin]}``
answers "what does the pin buy on this install", plus a check of the fitted scenario
against the observed lists (``check.py``). ``terms.py`` regresses a list's time on its cost
terms, ``emit.py`` writes the fitted scenario and the parameter table, and ``predict.py``
gives list_ms elsewhere (``clawsim fit --predict``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import FitError
from ..scenario import Scenario
from ..timeline import Instant, ListEvidence, Span, TimelineError, completion_order, list_evidence, read_timeline
from ..timeline.evidence import walk_batches
from .check import cold_frame, compare_frame, decomposition_frame, match_rate, summary_frame
from .emit import fitted_scenario, parameters_frame
from .estimate import Rate, hoisted, lookups_per_row, setter_rate, structure, windows, without_hoisted
from .predict import Prediction, predict, settings, simulated_counts
from .terms import Terms, fit_terms


@dataclass(frozen=True)
class FitResult:
    """A fit: the scenario, its YAML (with provenance comments), parameters with intervals,
    the evidence per list, observed vs simulated figures of the fitted lists (``check`` per list,
    ``summary`` per list size), the cost terms (``terms``; None without row lookups) and their
    ``decomposition`` of a fitted list's time, and the ``cold`` lists (the first of their process)
    left out of the terms with their one-off cost."""

    scenario: Scenario
    yaml: str
    parameters: Any  # DataFrame: parameter, value, lo, hi, evidence
    lists: Any  # DataFrame: one row per list of the timeline
    check: Any  # DataFrame: observed vs simulated scans, hits, list_ms
    notes: tuple[str, ...]
    terms: Terms | None = None
    decomposition: Any = None  # DataFrame: term, value_ms, lo, hi, ms per list, share
    summary: Any = None  # DataFrame: per list size
    cold: Any = None  # DataFrame: the cold lists
    warm: bool = False  # whether the terms come from warm lists
    memo_warm: bool = False  # whether the warm lists found the memo warm (their first row hit)

    def predict(self, setting: str, replications: int | None = None) -> Prediction:
        """list_ms at ``setting`` (``rows=300``, ``fix=pin``, ``actors=none``, comma-separated or
        any ``--set PATH=VALUE``), with its 95 % prediction interval (``predict.py``)."""
        if self.terms is None:
            raise FitError("the timeline's lists have no row lookups: the cost terms, and so predictions, need them")
        values = settings(setting)
        if replications is not None:
            values["replications"] = replications
        return predict(self.terms, simulated_counts(self.scenario, values, self.memo_warm), setting)


Source = str | Path | Sequence[str | Path] | Iterable[Any]


def _one_file(path: str | Path) -> list[ListEvidence]:
    try:
        return list(list_evidence(read_timeline(path, marks=True)))
    except FileNotFoundError:
        raise FitError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FitError(f"{path}: is a folder; give a diagnostics timeline (.jsonl)") from None
    except TimelineError as exc:
        raise FitError(str(exc)) from None


def _first_of_process(evidence: list[ListEvidence]) -> list[bool]:
    """Whether each list is the first of its process in its file (a cold list)."""
    first: dict[int, int] = {}
    for i, e in enumerate(evidence):
        if e.pid not in first or e.start_ms < evidence[first[e.pid]].start_ms:
            first[e.pid] = i
    return [first[e.pid] == i for i, e in enumerate(evidence)]


def _evidence(source: Source) -> tuple[list[ListEvidence], list[bool], str]:
    if isinstance(source, (str, Path)):
        source = [source]
    events = list(source)
    if events and all(isinstance(e, (str, Path)) for e in events):
        evidence: list[ListEvidence] = []
        cold: list[bool] = []
        for path in events:
            one = _one_file(path)
            evidence += one
            cold += _first_of_process(one)
        names = [Path(p).name for p in events]
        return evidence, cold, names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    spans = [e for e in events if isinstance(e, Span)]
    instants = [e for e in events if isinstance(e, Instant)]
    if spans and len(spans) + len(instants) == len(events):
        one = list(list_evidence(completion_order(spans, instants)))
        return one, _first_of_process(one), "<events>"
    raise FitError("clawsim.fit takes timeline paths or a list of spans and instants (clawsim.timeline)")


def _select(evidence: list[ListEvidence], which: int | None, name: str) -> list[int]:
    usable = [i for i, e in enumerate(evidence) if e.rows]
    if not evidence:
        raise FitError(f"{name}: holds no gateway.sessions.list span; is it a gateway's diagnostics timeline?")
    if not usable:
        raise FitError(f"{name}: its lists have no gateway.sessions.list.rows span with storeEntries")
    if not any(evidence[i].lookups for i in usable):
        raise FitError(
            f"{name}: its lists hold no plugins.metadata.scan spans (were diagnostics on? OPENCLAW_DIAGNOSTICS=1)"
        )
    if which is None:
        return [i for i in usable if evidence[i].lookups]
    if not 0 <= which < len(usable):
        raise FitError(f"{name}: --list {which}: the timeline has lists 0..{len(usable) - 1}")
    return [usable[which]]


def _rate(all_windows: list, keeps: bool) -> Rate:
    if keeps:
        return setter_rate(all_windows)
    return Rate(
        None,
        None,
        None,
        0,
        0,
        "the memo keeps no entries (misses after a batch's first row): "
        "every lookup is a full scan whatever the concurrency, which therefore cannot be seen",
    )


def _begin_with_misses(lists: list[ListEvidence], per_row: int) -> bool:
    """Whether most lists' first row missed. A warm list whose first row misses (the workspace
    changed since the last list: a pinned list under concurrency, which shows no flips) is
    simulated as a list on a cold memo, which misses there too."""
    if not per_row:
        return True
    first = [walk_batches(e, per_row).first_row_missed[:1] == (True,) for e in lists]
    return sum(first) * 2 > len(first)


def fit(source: Source, *, list_index: int | None = None, replications: int = 20, check: bool = True) -> FitResult:
    """Fit a scenario to the lists of one or more timelines of one install (all lists, or list
    ``list_index``). Lists that are the first of their process (cold) are left out of the fit
    when warmer lists are given, and reported with their one-off cost."""
    evidence, first, name = _evidence(source)
    picked = _select(evidence, list_index, name)
    warm = [i for i in picked if not first[i]]
    chosen = [evidence[i] for i in (warm or picked)]
    cold = [evidence[i] for i in picked if first[i]] if warm else []
    hoist = hoisted(chosen[0])
    rowwise = [without_hoisted(e) for e in chosen]
    per_row, per_row_how = lookups_per_row(rowwise)
    all_windows = [windows(e, per_row) for e in rowwise] if per_row else []
    keeps = sum(w.misses_after_first_row for w in all_windows) == 0
    rate = _rate(all_windows, keeps)
    walk = structure(chosen[0])
    if hoist:
        walk = replace(walk, hoisted=hoist)
    terms = fit_terms(rowwise, per_row) if per_row else None
    scenario, text, notes = fitted_scenario(
        name, evidence, chosen, per_row, per_row_how, keeps, rate, replications, walk, terms
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
                name, evidence, chosen, per_row, per_row_how, keeps, rate, replications, walk, terms
            )
    params = parameters_frame(chosen, per_row, per_row_how, keeps, rate, terms)
    from ..timeline import evidence_frame

    lists = evidence_frame(evidence)
    lists["cold"] = first
    memo_warm = bool(warm) and not _begin_with_misses(rowwise, per_row)
    table = compare_frame(scenario, chosen, terms, memo_warm) if check else None
    return FitResult(
        scenario,
        text,
        params,
        lists,
        table,
        notes,
        terms,
        decomposition_frame(terms) if terms is not None else None,
        summary_frame(table) if table is not None else None,
        cold_frame(terms, cold, per_row) if terms is not None else None,
        bool(warm),
        memo_warm,
    )


__all__ = ["FitResult", "Prediction", "fit"]
