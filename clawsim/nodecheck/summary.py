"""Reading a comparison frame: ``summary`` (clawsim and Node side by side) and ``passed``."""

from __future__ import annotations

import pandas as pd

# The frame's columns that are not a row's keys (run, swept parameters, list_index).
_VALUE_COLUMNS = ("metric", "clawsim", "node", "abs_err", "rel_err", "rule", "status", "ok", "busy", "note", "attempt")
_SEVERITY = {"pass": 0, "busy": 1, "fail": 2}


def summary(frame: pd.DataFrame, metrics: tuple[str, ...] = ("scans", "flips", "list_ms")) -> pd.DataFrame:
    """One row per (run, list): clawsim and Node side by side for ``metrics``, and the
    worst status of the list's rows."""
    keys = [c for c in frame.columns if c not in _VALUE_COLUMNS]
    rows = frame[frame.metric.isin(metrics)]
    wide = rows.pivot_table(index=keys, columns="metric", values=["clawsim", "node"], aggfunc="first", dropna=False)
    wide.columns = [f"{metric} {side}" for side, metric in wide.columns]
    wide = wide[[f"{m} {side}" for m in metrics for side in ("clawsim", "node") if f"{m} {side}" in wide.columns]]
    worst = frame.groupby(keys, dropna=False)["status"].agg(lambda s: max(s, key=_SEVERITY.__getitem__))
    return wide.join(worst).reset_index()


def passed(frame: pd.DataFrame, strict: bool = False) -> bool:
    """No row failed (``strict``: and none was excused as ``busy``); False for an empty frame."""
    if not len(frame):
        return False
    bad = ("fail", "busy") if strict else ("fail",)
    return not frame["status"].isin(bad).any()
