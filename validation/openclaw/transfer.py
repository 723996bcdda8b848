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
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pandas as pd

from clawsim.fitting import FitResult, fit
from clawsim.timeline import list_evidence, read_timeline

HERE = Path(__file__).resolve().parent
CAPTURES = HERE / "transfer"
SOURCE = "2026.6.8"
PINNED = "2026.6.9"
REPLICATIONS = 10
LIMITS = {"rows": 0.25, "idle": 0.35, "pin": 0.35}


def capture_file(release: str, rows: int, flipper: str) -> Path:
    return CAPTURES / f"{release}-rows{rows}-flipper{flipper}.jsonl.gz"


def row_counts() -> list[int]:
    return sorted({int(p.name.split("-rows")[1].split("-")[0]) for p in CAPTURES.glob("*.jsonl.gz")})


def warm_list_ms(path: Path) -> list[float]:
    """list_ms of the measured (last) list of every process in a capture file."""
    last: dict[int, tuple[float, float]] = {}
    for e in list_evidence(read_timeline(path)):
        if e.rows and (e.pid not in last or e.start_ms > last[e.pid][0]):
            last[e.pid] = (e.start_ms, e.list_ms)
    return [ms for _, ms in last.values()]


def _cell(kind: str, source: str, fitted: FitResult, setting: str, target: Path) -> dict:
    prediction = fitted.predict(setting)
    observed = warm_list_ms(target)
    median = statistics.median(observed)
    return {
        "kind": kind, "source": source, "setting": setting, "target": target.name.removesuffix(".jsonl.gz"),
        "processes": len(observed), "observed_median_ms": round(median, 1),
        "observed_min_ms": round(min(observed), 1), "observed_max_ms": round(max(observed), 1),
        "predicted_ms": round(prediction.list_ms, 1), "lo_ms": round(prediction.lo_ms, 1),
        "hi_ms": round(prediction.hi_ms, 1), "err": round((prediction.list_ms - median) / median, 4),
        "median_inside_interval": bool(prediction.lo_ms <= median <= prediction.hi_ms),
    }  # fmt: skip


def transfer_frame() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cells and the terms fitted from every capture file."""
    cells, terms = [], []
    counts = row_counts()
    for release in (SOURCE, PINNED):
        for flipper in ("on", "off"):
            for rows in counts:
                path = capture_file(release, rows, flipper)
                if not path.is_file():
                    continue
                fitted = fit(path, replications=REPLICATIONS)
                terms.append(_terms_row(path, fitted))
                name = path.name.removesuffix(".jsonl.gz")
                for other in counts:
                    cells.append(_cell("rows", name, fitted, f"rows={other}", capture_file(release, other, flipper)))
                if release != SOURCE or flipper != "on":
                    continue
                for other in counts:
                    cells.append(
                        _cell("idle", name, fitted, f"rows={other},actors=none", capture_file(SOURCE, other, "off"))
                    )
                    cells.append(_cell("pin", name, fitted, f"rows={other},fix=pin", capture_file(PINNED, other, "on")))
    return pd.DataFrame(cells), pd.DataFrame(terms)


def _terms_row(path: Path, fitted: FitResult) -> dict:
    row: dict = {"capture": path.name.removesuffix(".jsonl.gz"), "lists": len(fitted.terms.counts)}
    for r in fitted.decomposition.itertuples():
        row[r.term] = None if r.value_ms is None else round(r.value_ms, 3)
        row[f"{r.term} lo"] = None if r.lo is None else round(r.lo, 3)
        row[f"{r.term} hi"] = None if r.hi is None else round(r.hi, 3)
    row["spread"] = None if fitted.terms.spread is None else round(fitted.terms.spread, 3)
    row["one_off_ms"] = round(float(fitted.cold.one_off_ms.median()), 1) if len(fitted.cold) else None
    return row


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


def _pct(v: float) -> str:
    return f"{v * 100:+.1f}%"


def _table(head: list[str], body: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in body)]


def markdown(cells: pd.DataFrame, terms: pd.DataFrame, captures: pd.DataFrame | None) -> str:
    """transfer.md: the cells, the judgement per kind, the release difference, the terms."""
    lines = ["# Transfer: a fitted install predicts other row counts, idle, and pinned", "",
             "Generated by `python validation/openclaw/run.py --transfer` from the captures in `transfer/`",
             "(`capture.py`: warm lists, processes interleaved). err = (predicted - median of the target's",
             "processes) / that median; the interval is the prediction's 95 % interval for one list.", ""]  # fmt: skip
    if captures is not None:
        loads = captures.load_1m
        lines += [f"Captured with {len(captures)} processes; 1-minute load average {loads.min():.1f} .. "
                  f"{loads.max():.1f} (median {loads.median():.1f}) on {captures.attrs.get('cpus', 2)} cores.", ""]  # fmt: skip
    for kind, title in (("rows", "Other row counts (same release, same flipper)"),
                        ("idle", f"The same install with the flipper off ({SOURCE})"),
                        ("pin", f"The pinned release ({SOURCE} -> {PINNED}, flipper on)")):  # fmt: skip
        part = cells[(cells.kind == kind) & (cells.source != cells.target)]
        if part.empty:
            continue
        limit = LIMITS[kind]
        inside = int((part.err.abs() <= limit).sum())
        lines += [f"## {title}", "",
                  f"{inside} of {len(part)} cells within ±{limit:.0%} (median |err| {part.err.abs().median():.1%}); "
                  f"the observed median inside the 95 % interval in {int(part.median_inside_interval.sum())} of {len(part)}.", ""]  # fmt: skip
        body = [[r.source, r.setting, r.target, str(r.processes), f"{r.observed_median_ms:.1f}",
                 f"{r.observed_min_ms:.1f} .. {r.observed_max_ms:.1f}", f"{r.predicted_ms:.1f}",
                 f"{r.lo_ms:.1f} .. {r.hi_ms:.1f}", _pct(r.err)] for r in part.itertuples()]  # fmt: skip
        lines += _table(["fitted from", "predict", "target", "n", "median", "min .. max", "predicted",
                         "95% interval", "err"], body) + [""]  # fmt: skip
    same = cells[(cells.kind == "rows") & (cells.source == cells.target)]
    if not same.empty:
        lines += ["## In sample", "", f"max |err| {same.err.abs().max():.1%} over {len(same)} fits.", ""]
    diff = release_rows(row_counts())
    if diff:
        lines += [f"## How far the releases differ with the flipper off ({SOURCE} vs {PINNED})", ""]
        lines += _table(list(diff[0]), [[str(v) if k != "difference" else _pct(v) for k, v in d.items()] for d in diff])
        lines += [""]
    lines += ["## The terms fitted from each capture (95 % intervals)", ""]
    cols = ["fixed per list", "per row", "per miss: scan", "per miss: after", "per yield"]
    body = [[r["capture"], str(r["lists"])] + [_term(r, c) for c in cols] +
            ["" if pd.isna(r["spread"]) else f"{r['spread']:.2f}", "" if pd.isna(r["one_off_ms"]) else f"{r['one_off_ms']:.0f}"]
            for r in terms.to_dict(orient="records")]  # fmt: skip
    lines += _table(["capture", "lists", *cols, "spread (log sd)", "cold one-off ms (median)"], body)
    return "\n".join(lines) + "\n"


def _term(row: dict, col: str) -> str:
    value = row.get(col)
    if value is None or pd.isna(value):
        return "-"
    return f"{value:.2f} ({row[f'{col} lo']:.2f} .. {row[f'{col} hi']:.2f})"


def write_transfer() -> str:
    """transfer.csv, transfer-terms.csv and transfer.md from the committed captures."""
    cells, terms = transfer_frame()
    cells.to_csv(HERE / "transfer.csv", index=False, lineterminator="\n")
    terms.to_csv(HERE / "transfer-terms.csv", index=False, lineterminator="\n")
    path = CAPTURES / "captures.csv"
    captures = pd.read_csv(path) if path.is_file() else None
    text = markdown(cells, terms, captures)
    (HERE / "transfer.md").write_text(text, encoding="utf-8")
    return text
