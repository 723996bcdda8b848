"""What ``clawsim explore`` writes: the table of every point, the schedules and the picture.

The folder (default ``results/NAME.explore/``) is replaced as a whole, like ``run``'s
(``folder.replace`` under ``folder.held``): ``scenario.resolved.yaml``, ``explore.csv`` (one
row per sweep point: bounds, search, best and worst of each metric, the sampled mean ± CI),
``explore.md`` (a table per point and the properties), ``explore.json`` (all of it, for
programs), one ``*.schedule.json`` per counterexample and per point's worst case, and
``worst-vs-sampled.png``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ResultsError
from ..folder import cannot_write, check_target, held, replace
from ..scenario import Scenario, resolved_yaml
from .model import Bounds
from .runner import PointResult

SHOWN = ("scans", "stale_hits", "flips", "list_ms")
# What explore writes, and the folders `clawsim trace --schedule` writes beside a schedule.
_OURS = re.compile(
    r"^(scenario\.resolved\.yaml|explore\.(csv|md|json)|.*\.schedule\.json|.*\.trace|worst-vs-sampled\.png)$"
)


@dataclass(frozen=True)
class Written:
    """The folder written and the schedule files in it."""

    folder: Path
    schedules: tuple[Path, ...]


def extremes(result: PointResult, metric: str) -> tuple[float, float]:
    """Best and worst of a metric over the schedules searched (list_ms: low / high scan cost)."""
    if metric == "list_ms":
        return result.search.extremes.metric("list_ms_lo")[0], result.search.extremes.metric("list_ms_hi")[1]
    return result.search.extremes.metric(metric)


def table(results: list[PointResult], sampled: pd.DataFrame | None) -> pd.DataFrame:
    """One row per point: the search, best and worst of each metric and the sampled summary."""
    rows = []
    for i, r in enumerate(results):
        row: dict[str, Any] = {"point": r.label, "search": r.search.mode, "schedules": r.search.schedules}
        row["states"] = r.search.states
        for m in SHOWN:
            row[f"{m}_best"], row[f"{m}_worst"] = extremes(r, m)
            if sampled is not None:
                for part in ("mean", "ci95", "min", "max"):
                    row[f"{m}_sampled_{part}"] = float(sampled.iloc[i][f"{m}_{part}"])
        if sampled is not None:
            row["beyond_sampled"] = ", ".join(m for m in SHOWN if row[f"{m}_worst"] > row[f"{m}_sampled_max"])
            row["below_sampled"] = ", ".join(m for m in SHOWN if row[f"{m}_worst"] < row[f"{m}_sampled_max"])
        row["properties"] = "; ".join(f"{v.property.text}: {'holds' if v.holds else 'FAILS'}" for v in r.verdicts)
        rows.append(row)
    return pd.DataFrame(rows)


def sample(scenario: Scenario) -> pd.DataFrame:
    """The seeded engine's runs of every point, summarised (mean ± 95 % CI, min, max)."""
    from ..api import simulate
    from ..report.stats import summarize

    frame = simulate(scenario)
    frame["_point"] = frame["point"]
    return summarize(frame, ["_point"], list(SHOWN))


def write(
    scenario: Scenario,
    results: list[PointResult],
    sampled: pd.DataFrame | None,
    bounds: Bounds,
    out: Path,
    say: Callable[[str], None],
) -> Written:
    """Replace ``out`` with the exploration's files (see the module docstring)."""
    try:
        check_target(out)
        with held(out, say):
            _check_ours(out)
            names = replace(out, lambda staging: _write_set(staging, scenario, results, sampled, bounds))
    except OSError as exc:
        raise ResultsError(cannot_write(out, exc)) from None
    return Written(out, tuple(out / n for n in names))


def _check_ours(out: Path) -> None:
    entries = sorted(os.listdir(out)) if out.is_dir() else []
    foreign = [n for n in entries if not _OURS.match(n) or (out / n).is_symlink()]
    if foreign:
        raise ResultsError(
            f"{out}: holds files clawsim explore did not write ({', '.join(foreign[:3])}); choose another --out"
        )


def schedule_name(result: PointResult, what: str) -> str:
    """A schedule's file name: the point's label and what it shows, made safe for a file name."""
    label = re.sub(r"[^A-Za-z0-9._=-]+", "_", result.label).strip("_") or "point"
    return f"{label}.{what}.schedule.json"


def _write_set(
    staging: Path, scenario: Scenario, results: list[PointResult], sampled: pd.DataFrame | None, bounds: Bounds
) -> list[str]:
    (staging / "scenario.resolved.yaml").write_text(resolved_yaml(scenario))
    frame = table(results, sampled)
    frame.to_csv(staging / "explore.csv", index=False)
    names = []
    files: dict[int, dict[str, str]] = {}
    for i, r in enumerate(results):
        files[i] = {}
        if r.worst is not None:
            files[i]["worst scans"] = schedule_name(r, "worst-scans")
        for n, v in enumerate(r.verdicts):
            if v.counterexample is not None:
                files[i][v.property.text] = schedule_name(r, f"counterexample-{n}")
        for what, name in files[i].items():
            schedule = (
                r.worst
                if what == "worst scans"
                else next(v.counterexample for v in r.verdicts if v.property.text == what)
            )
            assert schedule is not None
            (staging / name).write_text(schedule.to_json())
            names.append(name)
    (staging / "explore.md").write_text(markdown(scenario, results, frame, bounds, files))
    (staging / "explore.json").write_text(json.dumps(_json(results, frame, bounds, files), indent=1) + "\n")
    (staging / "worst-vs-sampled.png").write_bytes(picture(scenario, frame, sampled is not None))
    return names


def bounds_text(bounds: Bounds) -> str:
    total = "no bound on the total" if bounds.total is None else f"at most {bounds.total} in all"
    return (
        f"activations per actor per gap: 0 to {bounds.per_gap} ({total}); workspaces: each actor's own "
        "(unique: never seen; random:K and cycle:K with copies: a pool of K; cycle:K: the next; fixed: its name); "
        "TTL entries may expire, oldest first, in any gap"
    )


def _cell(value: float) -> str:
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"


def sampled_cell(row: pd.Series, m: str) -> str:
    """``mean ± ci (min-max)`` of the sampled runs, or empty without a sample."""
    if f"{m}_sampled_mean" not in row:
        return ""
    ci = row[f"{m}_sampled_ci95"]
    half = "" if pd.isna(ci) or ci == 0 else f" ± {_cell(round(ci, 1))}"
    lo, hi = row[f"{m}_sampled_min"], row[f"{m}_sampled_max"]
    return f"{_cell(round(row[f'{m}_sampled_mean'], 1))}{half} ({_cell(lo)}-{_cell(hi)})"


def beyond(row: pd.Series, m: str) -> str:
    """How the worst case compares with the sampled runs: beyond their maximum (and by how much),
    reached, or (a finding about the bounds) below a run's value: schedules the bounds cut off."""
    if f"{m}_sampled_max" not in row:
        return ""
    worst, most = float(row[f"{m}_worst"]), float(row[f"{m}_sampled_max"])
    if most > worst:
        return f"a sampled run exceeds it ({_cell(most)}): the bounds leave out schedules the engine ran"
    if worst > most:
        return f"beyond every sampled run (max {_cell(most)}; +{_cell(round(worst - most, 1))})"
    return "reached by a sampled run"


def markdown(
    scenario: Scenario,
    results: list[PointResult],
    frame: pd.DataFrame,
    bounds: Bounds,
    files: dict[int, dict[str, str]],
) -> str:
    """explore.md: the bounds, then per point its table, properties and schedule files."""
    lines = [f"# clawsim explore: {scenario.name}", "", f"Bounds: {bounds_text(bounds)}.", ""]
    for i, r in enumerate(results):
        row = frame.iloc[i]
        lines += [f"## {r.label}", "", _search_line(r), ""]
        lines += [
            "| metric | best | worst | sampled mean ± 95 % CI (min-max) | worst vs the sampled runs |",
            "|---|---|---|---|---|",
        ]
        for m in SHOWN:
            best, worst = _cell(row[f"{m}_best"]), _cell(row[f"{m}_worst"])
            lines.append(f"| {m} | {best} | {worst} | {sampled_cell(row, m)} | {beyond(row, m)} |")
        lines.append("")
        for v in r.verdicts:
            state = (
                "holds for every schedule"
                if v.holds and v.proved
                else "holds for every schedule sampled"
                if v.holds
                else "FAILS"
            )
            extra = ""
            if v.counterexample is not None:
                kind = "minimal counterexample" if v.minimal else "counterexample (the worst schedule)"
                extra = f": {kind} `{files[i][v.property.text]}` ({v.counterexample.activations} activations)"
            lines.append(f"- `{v.property.text}` {state}{extra}")
        if "worst scans" in files[i]:
            lines.append(f"- worst scans: `{files[i]['worst scans']}`")
        lines.append("")
    lines += ["![worst case vs sampled](worst-vs-sampled.png)", ""]
    return "\n".join(lines)


def _search_line(r: PointResult) -> str:
    s = r.search
    if s.mode == "exhaustive":
        return f"Exhaustive: {_count(s.schedules)} distinct schedules, {s.states:,} states, {s.seconds:.2f} s."
    return f"Sampled ({s.note}): {s.schedules:,} random schedules, {s.states:,} states seen, {s.seconds:.2f} s."


def _count(n: int) -> str:
    """A schedule count: exact up to 10^9, else three significant digits."""
    return f"{n:,}" if n < 10**9 else f"{float(n):.3g}"


def _json(results: list[PointResult], frame: pd.DataFrame, bounds: Bounds, files: dict[int, dict[str, str]]) -> dict:
    return {
        "bounds": {"per_gap": bounds.per_gap, "total": bounds.total},
        "points": [
            {
                "point": r.point,
                "label": r.label,
                "search": {"mode": r.search.mode, "schedules": str(r.search.schedules), "states": r.search.states},
                "metrics": {m: {"best": extremes(r, m)[0], "worst": extremes(r, m)[1]} for m in SHOWN},
                "properties": [
                    {
                        "property": v.property.text,
                        "holds": v.holds,
                        "proved": v.proved,
                        "minimal": v.minimal,
                        "counterexample": files[i].get(v.property.text),
                    }
                    for v in r.verdicts
                ],
            }
            for i, r in enumerate(results)
        ],
    }


def picture(scenario: Scenario, frame: pd.DataFrame, sampled: bool) -> bytes:
    """Per point, scans, stale hits and list_ms: the range best..worst over every schedule searched, and the
    sampled mean with its 95 % CI and min-max; same data, same bytes."""
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(frame)
    with matplotlib.style.context("default"):
        fig = Figure(figsize=(14, 1.6 + 0.45 * n), dpi=100)
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 3, sharey=True)
        ys = list(range(n))[::-1]
        panels = (("scans", "full scans per list"), ("stale_hits", "stale hits per list"), ("list_ms", "list_ms (ms)"))
        for ax, (m, unit) in zip(axes, panels, strict=True):
            ax.hlines(
                ys, frame[f"{m}_best"], frame[f"{m}_worst"], color="0.75", lw=6, label="best..worst, every schedule"
            )
            ax.plot(frame[f"{m}_worst"], ys, "x", color="tab:red", ms=9, mew=2, label="worst case")
            if sampled:
                ax.hlines(ys, frame[f"{m}_sampled_min"], frame[f"{m}_sampled_max"], color="k", lw=0.8)
                ax.errorbar(
                    frame[f"{m}_sampled_mean"],
                    ys,
                    xerr=frame[f"{m}_sampled_ci95"].fillna(0),
                    fmt="o",
                    color="k",
                    ms=4,
                    capsize=3,
                    label="sampled mean ± 95 % CI (line: min-max)",
                )
            ax.set_xlabel(unit)
            ax.set_xscale("symlog", linthresh=100 if m == "list_ms" else 10)
            ax.grid(axis="x", alpha=0.3)
        axes[0].set_yticks(ys, list(frame["point"]))
        axes[0].legend(loc="lower right", fontsize=7)
        fig.suptitle(f"{scenario.name}: worst case over every schedule vs the seeded sample")
        fig.tight_layout()
        buffer = BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
