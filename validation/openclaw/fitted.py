"""clawsim fit on the captured real timelines, its predictions against the real measurements.

Contract: :func:`fit_columns` takes the results frame (one row per release x rows x flipper, with
``timeline`` naming the captured file) and returns it with the ``fitted_*`` / ``fit30_*`` columns
filled (``fit_md.fit_markdown`` turns that frame into ``fit.md``). Everything here reads only the
committed timelines and runs clawsim (no Node), and is deterministic: the same timelines give the
same bytes. "real" means the timeline's own figures: full scans = ``plugins.metadata.scan`` spans
under the rows span without ``cacheHit``; list_ms = the ``gateway.sessions.list`` span (what a
user's timeline has; the drive's timer around the handler is ``real_list_ms`` in results.csv).
Relative errors are (predicted - real) / real. All times are ms.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

import clawsim
from clawsim.fitting import fit
from clawsim.scenario.overrides import Override, apply_overrides
from clawsim.timeline import list_evidence, read_timeline

HERE = Path(__file__).resolve().parent
REPLICATIONS = 20
SOURCE_ROWS = 30  # the out-of-sample fits are made from the 30-row list
PIN_RELEASE = {"2026.6.8": "2026.6.9"}  # the next release wraps the list in the pin
NEVER_HITS = "2026.6.5"
EXAMPLE = "timelines/2026.6.8-rows200-flipperon.jsonl"


@cache
def fitted(timeline: str) -> clawsim.Scenario:
    """The scenario ``clawsim.fit`` makes from a captured timeline (path relative to HERE)."""
    return fit(HERE / timeline, replications=REPLICATIONS).scenario


def real_list(timeline: str) -> tuple[int, float]:
    """(full scans under the rows span, list span ms) of the timeline's one list."""
    (evidence,) = [e for e in list_evidence(read_timeline(HERE / timeline)) if e.rows]
    return evidence.misses, round(evidence.list_ms, 3)


def predict(scenario: clawsim.Scenario, rows: int, fix: str) -> tuple[float, float]:
    """Mean scans and list_ms of the scenario's list at ``rows`` rows with ``registry.fix: fix``."""
    point = apply_overrides(scenario, [Override("--set", "list.rows", str(rows)),
                                       Override("--set", "registry.fix", fix)])  # fmt: skip
    frame = clawsim.simulate(point)
    first = frame[frame.list_index == 0]
    return round(float(first.scans.mean()), 2), round(float(first.list_ms.mean()), 3)


def _fit_row(record: dict, source30: str | None) -> dict:
    own = fitted(record["timeline"])
    scans, list_ms = predict(own, record["rows"], "none")
    pin_scans, pin_ms = predict(own, record["rows"], "pin")
    real_scans, real_ms = real_list(record["timeline"])
    row = {"real_list_span_ms": real_ms, "fitted_scans": scans, "fitted_list_ms": list_ms,
           "fitted_pin_scans": pin_scans, "fitted_pin_list_ms": pin_ms,
           "fitted_scans_err": err(scans, real_scans), "fitted_list_ms_err": err(list_ms, real_ms)}  # fmt: skip
    if source30 is not None and record["rows"] != SOURCE_ROWS:
        scans30, ms30 = predict(fitted(source30), record["rows"], "none")
        row.update(fit30_scans=scans30, fit30_list_ms=ms30,
                   fit30_scans_err=err(scans30, real_scans), fit30_list_ms_err=err(ms30, real_ms))  # fmt: skip
    return row


def err(predicted: float, real: float) -> float:
    """(predicted - real) / real, rounded to 4 places."""
    return round((predicted - real) / real, 4) if real else (0.0 if predicted == 0 else float("inf"))


def fit_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the fit columns (re)computed from the timelines it names."""
    out = frame.drop(columns=[c for c in frame.columns if c.startswith(("fitted_", "fit30_"))] +
                     (["real_list_span_ms"] if "real_list_span_ms" in frame else []))  # fmt: skip
    ok = out["timeline"].notna()
    by_key = {(r["release"], r["rows"], r["flipper"]): r["timeline"] for r in out[ok].to_dict(orient="records")}
    rows = []
    for record in out.to_dict(orient="records"):
        source = by_key.get((record["release"], SOURCE_ROWS, record["flipper"]))
        rows.append(_fit_row(record, source) if isinstance(record.get("timeline"), str) else {})
    return pd.concat([out, pd.DataFrame(rows, index=out.index)], axis=1)
