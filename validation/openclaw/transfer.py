"""The transfer table: a scenario fitted from one warm capture predicts the others (no Node needed).

    python validation/openclaw/run.py --transfer      # from the committed captures in transfer/

Every capture file ``transfer/<release>-rows<N>-flipper<f>.jsonl.gz`` holds the processes of one
configuration (``capture.py``), each a warm-up list then the measured list. ``clawsim.fit`` on a
file leaves the warm-up lists out (the first of their process) and fits the measured ones. Each
flipper-on fit of 2026.6.8 then predicts (``FitResult.predict``):
- ``rows``: every other row count, flipper on, both ways (and its own, in sample);
- ``idle``: the same install with the flipper off (``actors=none``), at every row count;
- ``pin``: the pinned release 2026.6.9 under the flipper (``fix=pin``), at every row count;
and every flipper-off fit the other row counts with the flipper off. Each cell is judged on the
median of the target's processes: err = (predicted - median) / median. ``release`` rows give how
far 2026.6.9 differs from 2026.6.8 with the flipper off (nothing to pin there): the part of a pin
cell's error that is the releases', not the pin's.

``cycle``: a flipper that cycles through K workspaces (``drive.mjs --flipper cycleK``;
``actors.0.workspaces=cycle:K`` in the fitted scenario): K = 2 the memo holds, K = 5 it cannot.
Those captures are sessions of their own, ``transfer/cycle*/`` (each: 2026.6.8 flipper on, cycle2
and cycle5 at every row count, 5 processes each, interleaved), and each flipper-on fit of a session
predicts that session's cycles at every row count, so source and target ran in the same conditions. Every cell also compares the full scans the
fitted scenario predicts there with the target's (the measured list of every process).

``terms`` are the terms fitted from each capture with their 95 % intervals (cluster-robust over the
processes, ``clawsim.fitting.terms``); ``per_process`` the same terms fitted from each process's
measured list alone, beside the load it was captured at: where the terms of two captures differ,
whether the processes differ. ``yield_rows`` gives the stretches across a yield by whether a hit
or a batch's first scan follows (the evidence for the work before a batch's first scan), and
``without_misses_rows`` each 2026.6.8 capture's lists without their misses (what a prediction
for a list that misses nowhere rests on).
"""

from __future__ import annotations

import statistics
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from clawsim.fitting import FitResult, fit
from clawsim.fitting.terms import fit_terms, stretches
from clawsim.timeline import ListEvidence, list_evidence, read_timeline

HERE = Path(__file__).resolve().parent
CAPTURES = HERE / "transfer"
SOURCE = "2026.6.8"
PINNED = "2026.6.9"
REPLICATIONS = 10
LIMITS = {"rows": 0.25, "idle": 0.35, "pin": 0.35, "cycle": 0.35}
CYCLES = (2, 5)  # workspaces a cycling flipper activates in turn: 2 the 8-entry memo holds, 5 not
# The cycle sessions (transfer/cycle/, transfer/cycle-2/, ...): each with its own flipper-on sources.
SESSIONS = tuple(sorted(p for p in CAPTURES.glob("cycle*") if p.is_dir()))


def capture_file(release: str, rows: int, flipper: str) -> Path:
    return CAPTURES / f"{release}-rows{rows}-flipper{flipper}.jsonl.gz"


def row_counts() -> list[int]:
    return sorted({int(p.name.split("-rows")[1].split("-")[0]) for p in CAPTURES.glob("*.jsonl.gz")})


def measured(path: Path) -> list[ListEvidence]:
    """The measured (last) list of every process in a capture file."""
    lists = _lists(path)
    return [lists[i] for i in _measured_indices(path)]


@cache
def _lists(path: Path) -> tuple[ListEvidence, ...]:
    """Every list of a capture file, in the order ``clawsim.fit`` numbers them (read once)."""
    return tuple(list_evidence(read_timeline(path)))


def _measured_indices(path: Path) -> list[int]:
    """The index of the measured (last) list of every process, in the order the processes came."""
    lists, last = _lists(path), {}
    for i, e in enumerate(lists):
        if e.rows and (e.pid not in last or e.start_ms > lists[last[e.pid]].start_ms):
            last[e.pid] = i
    return list(last.values())


def warm_list_ms(path: Path) -> list[float]:
    """list_ms of the measured (last) list of every process in a capture file."""
    return [e.list_ms for e in measured(path)]


def _every_capture(pattern: str) -> list[Path]:
    """The capture files matching ``pattern`` in ``transfer/`` and every cycle session, sorted."""
    return sorted(p for folder in (CAPTURES, *SESSIONS) for p in folder.glob(pattern))


def _name(path: Path) -> str:
    """A capture's name: its file under ``transfer/`` without the suffix (``cycle/2026.6.8-...``)."""
    return str(path.relative_to(CAPTURES)).removesuffix(".jsonl.gz")


def _cell(kind: str, source: str, fitted: FitResult, setting: str, target: Path) -> dict:
    prediction = fitted.predict(setting)
    lists = measured(target)
    observed = [e.list_ms for e in lists]
    scans = sorted({e.misses for e in lists})
    median = statistics.median(observed)
    return {
        "kind": kind, "source": source, "setting": setting, "target": _name(target),
        "processes": len(observed), "observed_median_ms": round(median, 1),
        "observed_min_ms": round(min(observed), 1), "observed_max_ms": round(max(observed), 1),
        "predicted_ms": round(prediction.list_ms, 1), "lo_ms": round(prediction.lo_ms, 1),
        "hi_ms": round(prediction.hi_ms, 1), "err": round((prediction.list_ms - median) / median, 4),
        "median_inside_interval": bool(prediction.lo_ms <= median <= prediction.hi_ms),
        "scans_real": "/".join(map(str, scans)), "scans_predicted": round(prediction.misses, 2),
        "scans_exact": scans == [prediction.misses],
    }  # fmt: skip


def _settings(path: Path, counts: list[int]) -> list[tuple[str, str, Path]]:
    """What a capture file, as a source, predicts: ``(kind, setting, target file)`` per cell.
    Every capture predicts its own release and flipper at every row count; a flipper-on capture of
    2026.6.8 also the idle install and the pinned release; a cycle session's flipper-on capture
    that session's cycles (its cycle captures predict nothing)."""
    release, rest = path.name.removesuffix(".jsonl.gz").split("-rows")
    flipper = rest.split("-flipper")[1]
    if path.parent != CAPTURES:
        if flipper != "on":
            return []
        return [("cycle", f"rows={n},actors.0.workspaces=cycle:{k}",
                 path.parent / capture_file(SOURCE, n, f"cycle{k}").name) for n in counts for k in CYCLES]  # fmt: skip
    out = [("rows", f"rows={n}", capture_file(release, n, flipper)) for n in counts]
    if release == SOURCE and flipper == "on":
        for n in counts:
            out += [("idle", f"rows={n},actors=none", capture_file(SOURCE, n, "off")),
                    ("pin", f"rows={n},fix=pin", capture_file(PINNED, n, "on"))]  # fmt: skip
    return [cell for cell in out if cell[2].is_file()]


def _sources() -> list[Path]:
    """Every capture file in the table's order: transfer/ by release, flipper and rows, then each
    cycle session's flipper-on captures and its cycles (whose terms go beside their sources')."""
    counts = row_counts()
    main = [capture_file(r, n, f) for r in (SOURCE, PINNED) for f in ("on", "off") for n in counts]
    cycles = [s / capture_file(SOURCE, n, f).name for s in SESSIONS
              for n, f in [*((n, "on") for n in counts), *((n, f"cycle{k}") for n in counts for k in CYCLES)]]  # fmt: skip
    return [p for p in (*main, *cycles) if p.is_file()]


def transfer_frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cells and the terms fitted from every capture file."""
    cells, terms = [], []
    counts = row_counts()
    for path in _sources():
        settings = _settings(path, counts)
        fitted = fit(path, replications=REPLICATIONS, check=bool(settings))
        terms.append(_terms_row(path, fitted))
        cells += [_cell(kind, _name(path), fitted, setting, target) for kind, setting, target in settings]
    return pd.DataFrame(cells), pd.DataFrame(terms)


def one_list_frame() -> pd.DataFrame:
    """The same cells out of sample, each flipper-on source of 2026.6.8 fitted from one measured
    list at a time (``fit(..., list_index=i)``): how far one list of one process carries."""
    cells = []
    counts = row_counts()
    for path in (p for p in _sources() if p.name.startswith(SOURCE) and p.name.endswith("-flipperon.jsonl.gz")):
        settings = [c for c in _settings(path, counts) if c[2] != path]
        for rep, index in enumerate(_measured_indices(path)):
            fitted = fit(path, list_index=index, replications=REPLICATIONS, check=False)
            cells += [{**_cell(kind, _name(path), fitted, setting, target), "list": rep}
                      for kind, setting, target in settings]  # fmt: skip
    return pd.DataFrame(cells)


def _terms_row(path: Path, fitted: FitResult) -> dict:
    row: dict = {"capture": _name(path), "lists": len(fitted.terms.counts)}
    for r in fitted.decomposition.itertuples():
        row[r.term] = None if r.value_ms is None else round(r.value_ms, 3)
        row[f"{r.term} lo"] = None if r.lo is None else round(r.lo, 3)
        row[f"{r.term} hi"] = None if r.hi is None else round(r.hi, 3)
    row["spread"] = None if fitted.terms.spread is None else round(fitted.terms.spread, 3)
    row["one_off_ms"] = round(float(fitted.cold.one_off_ms.median()), 1) if len(fitted.cold) else None
    return row


def per_process_frame() -> pd.DataFrame:
    """Per flipper-on capture (``transfer/`` and the cycle session) and process (in capture order,
    so ``rep``): the terms fitted from its measured list alone (intervals within that one list)
    and the load it was captured at."""
    out = []
    for folder, release, rows in (
        (f, r, n) for f in (CAPTURES, *SESSIONS) for r in (SOURCE, PINNED) for n in row_counts()
    ):
        path = folder / capture_file(release, rows, "on").name
        if not path.is_file():
            continue
        captures = _captures(folder)
        for rep, e in enumerate(measured(path)):
            terms = fit_terms([e], 2)
            assert terms is not None, f"{path.name}: a measured list without row lookups"
            after, se = terms.value("miss_overhead_ms"), terms.se("miss_overhead_ms")
            load = None
            if captures is not None:
                hit = captures[(captures.release == release) & (captures.rows == rows)
                               & (captures.flipper == "on") & (captures.rep == rep)].load_1m  # fmt: skip
                load = float(hit.iloc[0]) if len(hit) else None
            half = None if after is None or se is None else terms.quantile * se
            out.append({"capture": _name(path), "rep": rep, "load_1m": load,
                        "list_ms": round(e.list_ms, 1), "per row": round(terms.row_cost_ms, 3),
                        "per miss: scan": round(terms.scan_ms[0], 2),
                        "per miss: after": None if after is None else round(after, 3),
                        "per miss: after lo": None if half is None else round(after - half, 3),
                        "per miss: after hi": None if half is None else round(after + half, 3)})  # fmt: skip
    return pd.DataFrame(out)


def _captures(folder: Path) -> pd.DataFrame | None:
    """A capture folder's ``captures.csv`` (one row per process), if there is one."""
    path = folder / "captures.csv"
    return pd.read_csv(path) if path.is_file() else None


def after_miss_rows() -> list[dict]:
    """Per flipper-on capture: the stretches right after a miss in the measured lists, their
    median, mean and share over 5 ms, and their mean in each fifth of the list (a trend along the
    list would be a scan-order or heap effect)."""
    out = []
    for release in (SOURCE, PINNED):
        for rows in row_counts():
            path = capture_file(release, rows, "on")
            if not path.is_file():
                continue
            gaps, where = [], []
            for e in measured(path):
                design, gap, _ = stretches(e, 2)
                after = design[:, 2] == 1
                gaps += list(gap[after])
                where += list(np.flatnonzero(after) * 5 // len(gap))
            frame = pd.DataFrame({"gap": gaps, "fifth": where})
            fifths = frame.groupby("fifth").gap.mean()
            out.append({"capture": path.name.removesuffix(".jsonl.gz"), "stretches": len(frame),
                        "median ms": f"{frame.gap.median():.2f}", "mean ms": f"{frame.gap.mean():.2f}",
                        "share over 5 ms": f"{(frame.gap > 5).mean():.1%}",
                        "mean per fifth of the list": " / ".join(f"{v:.2f}" for v in fifths)})  # fmt: skip
    return out


BEFORE = "per scanning batch: before"  # the decomposition's name of memo.pre_miss_ms


def yield_rows() -> list[dict]:
    """Per capture (both sessions): the measured lists' stretches across a yield, by whether the
    lookup after it hit or began its batch's scans, beside a row's stretch after a hit and the
    stretches right after a row's first and second scan: the evidence for the work before a
    batch's first scan (``clawsim.fitting.terms``)."""
    out = []
    for path in _every_capture("*.jsonl.gz"):
        kinds: dict[str, list[float]] = {k: [] for k in ("into hit", "into miss", "row", "second", "after")}
        for e in measured(path):
            design, gap, _ = stretches(e, 2)
            cross, first, after = design[:, 3] == 1, design[:, 4] == 1, design[:, 2] == 1
            kinds["into hit"] += list(gap[cross & ~first])
            kinds["into miss"] += list(gap[cross & first])
            kinds["row"] += list(gap[(design[:, 1] == 1) & ~cross & ~after])
            kinds["second"] += list(gap[(design[:, 0] == 1) & after])  # to the row's second lookup, after a scan
            kinds["after"] += list(gap[(design[:, 1] == 1) & after & ~cross])  # to the next row, after a scan
        cell = {k: f"{np.mean(v):.2f} ({len(v)})" if v else "-" for k, v in kinds.items()}
        out.append({"capture": _name(path), "yield into a hit": cell["into hit"], "yield into a first miss": cell["into miss"],
                    "next row after a hit": cell["row"], "second lookup after a scan": cell["second"],
                    "next row after a scan": cell["after"]})  # fmt: skip
    return out


def without_misses_ms(e: ListEvidence) -> float:
    """One measured list's time without its misses, from its own spans and stretches: its list_ms
    less its scan spans, the stretches right after a scan and into a batch's first scan, with each
    scan replaced by the list's mean hit span and each of those stretches by its mean stretch of
    the same kind after a hit (within a row, or to the next row). What the list's processes took
    for the work a list that misses nowhere (the flipper off, a cycle the memo holds) also does."""
    design, gap, counts = stretches(e, 2)
    same, nxt, after, cross, first = (design[:, i] == 1 for i in range(5))
    missed = after | first
    within, row = gap[same & ~missed].mean(), gap[nxt & ~missed & ~cross].mean()
    scans = sum(lk.duration_ms for lk in e.lookups if not lk.cache_hit)
    hit = statistics.fmean(lk.duration_ms for lk in e.lookups if lk.cache_hit)
    replaced = (same & missed).sum() * within + (nxt & missed).sum() * row + counts.misses * hit
    return float(e.list_ms - scans - gap[missed].sum() + replaced)


def without_misses_rows() -> list[dict]:
    """Per 2026.6.8 capture (both sessions): the measured lists' median list_ms and their median
    time without their misses (``without_misses_ms``), with its range over the processes."""
    out = []
    for path in _every_capture(f"{SOURCE}-*.jsonl.gz"):
        lists = measured(path)
        rest = sorted(without_misses_ms(e) for e in lists)
        out.append({"capture": _name(path), "list_ms (median)": f"{statistics.median(e.list_ms for e in lists):.1f}",
                    "without its misses (median)": f"{statistics.median(rest):.1f}",
                    "min .. max": f"{rest[0]:.1f} .. {rest[-1]:.1f}"})  # fmt: skip
    return out


def stability_rows(terms: pd.DataFrame) -> list[dict]:
    """Per release and flipper: each term fitted at every row count, and whether their 95 %
    intervals share a common value (the largest lower end at most the smallest upper end)."""
    out = []
    for prefix in sorted({c.rsplit("-rows", 1)[0] + "|" + c.rsplit("-", 1)[1] for c in terms.capture}):
        release, flipper = prefix.split("|")
        part = terms[terms.capture.str.startswith(release + "-rows") & terms.capture.str.endswith(flipper)]
        for term in ("per row", "per miss: after", "per miss: scan", BEFORE):
            if part[term].isna().all():
                continue
            cells = {
                int(c.split("-rows")[1].split("-")[0]): r
                for c, r in zip(part.capture, part.to_dict(orient="records"), strict=True)
            }
            agree = part[f"{term} lo"].max() <= part[f"{term} hi"].min()
            out.append({"release": release, "flipper": flipper.removeprefix("flipper"), "term": term,
                        **{f"{n} rows": _term(cells[n], term) for n in sorted(cells)},
                        "agree": "yes" if agree else "no"})  # fmt: skip
    return out


def release_rows(counts: list[int]) -> list[dict]:
    """2026.6.9 vs 2026.6.8 with the flipper off: medians and their relative difference."""
    out = []
    for rows in counts:
        a, b = capture_file(SOURCE, rows, "off"), capture_file(PINNED, rows, "off")
        if a.is_file() and b.is_file():
            ma, mb = statistics.median(warm_list_ms(a)), statistics.median(warm_list_ms(b))
            out.append({"rows": rows, f"{SOURCE} ms": round(ma, 1), f"{PINNED} ms": round(mb, 1),
                        "difference": round((mb - ma) / ma, 4)})  # fmt: skip
    return out


def _per_session(part: pd.DataFrame, limit: float) -> list[str]:
    """For cells from more than one capture session (the cycle sessions): the count per session."""
    session = part.source.str.split("/").str[0]
    if session.nunique() < 2:
        return []
    counts = [f"{name}/: {int((p.err.abs() <= limit).sum())} of {len(p)}" for name, p in part.groupby(session)]
    return ["Per session: " + "; ".join(counts) + ".", ""]


def judged(cells: pd.DataFrame) -> pd.DataFrame:
    """Per kind of cell (and the flipper off, the cycles and the pin pooled, which the issue judges
    together): cells out of sample, how many within the kind's limit, and that share."""
    out = cells[cells.source != cells.target].assign(inside=lambda c: c.err.abs() <= c.kind.map(LIMITS))
    rows = [(k, p) for k, p in out.groupby("kind", sort=False)] + [("idle + cycle + pin", out[out.kind != "rows"])]
    return pd.DataFrame(
        [{"kind": k, "cells": len(p), "inside": int(p.inside.sum()), "share": p.inside.mean()} for k, p in rows]
    )


def _pct(v: float) -> str:
    return f"{v * 100:+.1f}%"


def _section(title: str, prose: list[str], rows: list[dict]) -> list[str]:
    """A section of transfer.md: its title, its prose and a table of ``rows`` (one dict a row, the
    first's keys the head); nothing when there are no rows."""
    if not rows:
        return []
    text = ["## " + title, "", *prose] + ([""] if prose else [])
    return text + _table(list(rows[0]), [[str(v) for v in d.values()] for d in rows]) + [""]


def _table(head: list[str], body: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in body)]


def markdown(cells: pd.DataFrame, terms: pd.DataFrame) -> str:
    """transfer.md: the cells, the judgement per kind, the release difference, the terms (per
    capture, their agreement across row counts, per process)."""
    lines = ["# Transfer: a fitted install predicts other row counts, idle, pinned and a workspace cycle", "",
             "Generated by `python validation/openclaw/run.py --transfer` from the captures in `transfer/`",
             "(`capture.py`: warm lists, processes interleaved). err = (predicted - median of the target's",
             "processes) / that median; the interval is the prediction's 95 % interval for one list.", ""]  # fmt: skip
    for label, frame in ((f"{f.relative_to(HERE)}/", _captures(f)) for f in (CAPTURES, *SESSIONS)):
        if frame is not None:
            loads = frame.load_1m
            lines += [f"Captured ({label}) with {len(frame)} processes; 1-minute load average {loads.min():.1f} .. "
                      f"{loads.max():.1f} (median {loads.median():.1f}) on 2 cores.", ""]  # fmt: skip
    summary = judged(cells)
    lines += ["## Summary (cells out of sample, judged on the target's median)", ""]
    lines += _table(["cells", "n", "within the limit", "share"],
                    [[r.kind, str(r.cells), str(r.inside), f"{r.share:.0%}"] for r in summary.itertuples()]) + [""]  # fmt: skip
    for kind, title in (("rows", "Other row counts (same release, same flipper)"),
                        ("idle", f"The same install with the flipper off ({SOURCE})"),
                        ("pin", f"The pinned release ({SOURCE} -> {PINNED}, flipper on)"),
                        ("cycle", f"A workspace cycle ({SOURCE}, the flipper cycling through K workspaces)")):  # fmt: skip
        part = cells[(cells.kind == kind) & (cells.source != cells.target)]
        if part.empty:
            continue
        limit = LIMITS[kind]
        inside = int((part.err.abs() <= limit).sum())
        lines += [f"## {title}", "",
                  f"{inside} of {len(part)} cells within ±{limit:.0%} (median |err| {part.err.abs().median():.1%}); "
                  f"the observed median inside the 95 % interval in {int(part.median_inside_interval.sum())} of {len(part)}; "
                  f"full scans exact in {int(part.scans_exact.sum())} of {len(part)}.", ""]  # fmt: skip
        lines += _per_session(part, limit)
        body = [[r.source, r.setting, r.target, str(r.processes), f"{r.scans_real} / {r.scans_predicted:g}",
                 f"{r.observed_median_ms:.1f}", f"{r.observed_min_ms:.1f} .. {r.observed_max_ms:.1f}",
                 f"{r.predicted_ms:.1f}", f"{r.lo_ms:.1f} .. {r.hi_ms:.1f}", _pct(r.err)] for r in part.itertuples()]  # fmt: skip
        lines += _table(["fitted from", "predict", "target", "n", "scans real / predicted", "median", "min .. max",
                         "predicted", "95% interval", "err"], body) + [""]  # fmt: skip
    same = cells[(cells.kind == "rows") & (cells.source == cells.target)]
    if not same.empty:
        lines += ["## In sample", "", f"max |err| {same.err.abs().max():.1%} over {len(same)} fits.", ""]
    diff = release_rows(row_counts())
    if diff:
        lines += [f"## How far the releases differ with the flipper off ({SOURCE} vs {PINNED})", ""]
        lines += _table(list(diff[0]), [[str(v) if k != "difference" else _pct(v) for k, v in d.items()] for d in diff])
        lines += [""]
    lines += ["## The terms fitted from each capture (95 % intervals)", ""]
    cols = ["fixed per list", "per row", "per miss: scan", "per miss: after", BEFORE, "per yield"]
    body = [[r["capture"], str(r["lists"])] + [_term(r, c) for c in cols] +
            ["" if pd.isna(r["spread"]) else f"{r['spread']:.2f}", "" if pd.isna(r["one_off_ms"]) else f"{r['one_off_ms']:.0f}"]
            for r in terms.to_dict(orient="records")]  # fmt: skip
    lines += _table(["capture", "lists", *cols, "spread (log sd)", "cold one-off ms (median)"], body)
    lines += ["", "Intervals: cluster-robust over the capture's processes (Student t on processes - 1 degrees of",
              "freedom): a process's speed factor moves all of its list, so the spread between fresh processes,",
              "not between the stretches of one list, is what a term's uncertainty is made of.", ""]  # fmt: skip
    lines += _section("The terms across row counts (do they agree within their intervals?)", [], stability_rows(terms))
    lines += _section("The stretch across a yield: the work before a batch's first scan",
                      ["Mean ms (stretches) between consecutive lookup spans of the measured lists, by kind. A yield",
                       "followed by a hit costs what a row's stretch does (the flipper off, the pinned release, a cycle",
                       "the memo holds), one followed by its batch's first scan 0.3 .. 1.2 ms more; the stretch into a row's",
                       "second scan (within the row, after the first) is no longer than the one after the second: the",
                       "work is before the batch's first scan only (`memo.pre_miss_ms`; with a flipper on every yield",
                       "the yield's own cost cannot be told apart from it and is booked there, docs/fit.md)."],
                      yield_rows())  # fmt: skip
    lines += _section("The lists without their misses (what a prediction for a list that misses nowhere rests on)",
                      ["Each measured list of 2026.6.8 less its scans, the stretch after each scan and the stretch into",
                       "each batch's first scan (each replaced by the list's own hit span or stretch after a hit): the",
                       "work a list that does not miss also does, as the processes that did miss ran it. Where a",
                       "session's flipper-on lists took longer for it than the same session's lists that miss nowhere,",
                       "no model fitted from the former can predict the latter closer than that."],
                      without_misses_rows())  # fmt: skip
    lines += _section(
        "The stretch right after a miss (measured lists of the flipper-on captures)", [], after_miss_rows()
    )
    return "\n".join(lines) + "\n" + per_process_markdown(per_process_frame())


def per_process_markdown(frame: pd.DataFrame) -> str:
    """The per-process section: each flipper-on process's terms from its own measured list."""
    if frame.empty:
        return ""
    lines = ["", "## The terms per process (flipper on: each process's measured list fitted alone)", "",
             "The interval is within that one list (HC1 over its stretches). A process that ran slow (a busier",
             "moment of the shared machine) has every term slow; that, not the row count, is where the captures'",
             "terms differ.", ""]  # fmt: skip
    body = [[r["capture"], str(r["rep"]), "" if pd.isna(r["load_1m"]) else f"{r['load_1m']:.2f}", f"{r['list_ms']:.1f}",
             f"{r['per row']:.2f}", f"{r['per miss: scan']:.1f}",
             "-" if pd.isna(r["per miss: after"]) else
             f"{r['per miss: after']:.2f} ({r['per miss: after lo']:.2f} .. {r['per miss: after hi']:.2f})"]
            for r in frame.to_dict(orient="records")]  # fmt: skip
    lines += _table(["capture", "rep", "load 1m", "list_ms", "per row", "per miss: scan", "per miss: after"], body)
    return "\n".join(lines) + "\n"


def _term(row: dict, col: str) -> str:
    value = row.get(col)
    if value is None or pd.isna(value):
        return "-"
    return f"{value:.2f} ({row[f'{col} lo']:.2f} .. {row[f'{col} hi']:.2f})"


def _session(name: str) -> str:
    """The folder a capture's name is in: ``transfer/`` or a cycle session's (``transfer/cycle-2/``)."""
    folder, _, _ = name.rpartition("/")
    return f"transfer/{folder}/" if folder else "transfer/"


def one_list_markdown(one: pd.DataFrame) -> str:
    """The one-list section: per kind and session, how many cells each single list got within the
    kind's limit, and which lists missed."""
    if one.empty:
        return ""
    one = one.assign(session=one.source.map(_session),
                     inside=one.err.abs() <= one.kind.map(LIMITS))  # fmt: skip
    lines = ["", "## From one list (each source's processes fitted one measured list at a time)", "",
             "The same cells out of sample, the source fitted from one process's measured list instead of its",
             "capture's five (`fit(path, list_index=i)`): each prediction carries that one process's speed.", ""]  # fmt: skip
    groups = [*one.groupby(["kind", "session"], sort=False), (("idle + cycle + pin", "all"), one[one.kind != "rows"])]
    body = [[kind, session, str(len(p)), str(int(p.inside.sum())), f"{p.inside.mean():.0%}",
             f"{p.err.abs().median():.1%}", f"{_pct(p.err.min())} .. {_pct(p.err.max())}"]
            for (kind, session), p in groups]  # fmt: skip
    lines += _table(["cells", "session", "n", "within the limit", "share", "median \\|err\\|", "errors"], body)
    missed = one[~one.inside].groupby(["source", "list"]).size()
    if len(missed):
        lines += ["", "Lists with cells outside their limit (source, list: cells): "
                  + "; ".join(f"{src} {rep}: {n}" for (src, rep), n in missed.items()) + "."]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_transfer() -> str:
    """transfer.csv, transfer-one-list.csv, transfer-terms.csv and transfer.md from the committed
    captures."""
    cells, terms = transfer_frame()
    one = one_list_frame()
    cells.to_csv(HERE / "transfer.csv", index=False, lineterminator="\n")
    one.to_csv(HERE / "transfer-one-list.csv", index=False, lineterminator="\n")
    terms.to_csv(HERE / "transfer-terms.csv", index=False, lineterminator="\n")
    text = markdown(cells, terms) + one_list_markdown(one)
    (HERE / "transfer.md").write_text(text, encoding="utf-8")
    return text
