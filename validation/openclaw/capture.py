"""Capture warm real timelines for the transfer table (opt-in; needs the releases installed by install.sh).

    python validation/openclaw/capture.py [--reps 5] [--rows 60 150 300] [--releases 2026.6.8 2026.6.9]
        [--flipper off on cycle2 cycle5] [--max-load 1.5]

For every (release, rows, flipper) and repetition it runs ``drive.mjs --warmup 1`` in a fresh Node 22
process: one warm-up ``sessions.list`` (a long-running gateway has listed before; the first list of
a process carries one-off costs), then the measured list, both in the process's diagnostics
timeline. Repetitions are interleaved (repetition 1 of every configuration, then repetition 2, ...)
so a slow spell of the shared machine spreads over the configurations instead of landing on one.
Each configuration's processes are appended to ``transfer/<release>-rows<N>-flipper<f>.jsonl.gz``
(one pid per process); ``transfer/captures.csv`` holds one row per process (the drive's counts,
``list_ms`` of the measured list, the 1-minute load average). The captured configurations' files
and rows are replaced; other configurations' rows in ``captures.csv`` are kept.
With ``--max-load L`` each process starts only once the 1-minute load average is at most L (the
machine is shared; a busy spell slows a process 2-4x), waiting up to ``--patience`` seconds (600),
then starting anyway.
Flipper ``cycleK``: the flipper activates K workspaces in turn (``drive.mjs``), a cycle the memo
holds (K = 2: 4 keys in the 8-entry LRU) or cannot (K = 5: 10 keys).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from run import HERE, Config, cache_dir, drive

OUT = HERE / "transfer"
RELEASES = ("2026.6.8", "2026.6.9")
ROWS = (60, 150, 300)
FLIPPER = ("off", "on")
FLIPPERS = ("off", "on", "cycle2", "cycle5")


def quiet(max_load: float | None, patience_s: float = 600.0) -> float:
    """Wait until the 1-minute load average is at most ``max_load`` (None: no wait; at most
    ``patience_s``); the load average then."""
    deadline = time.monotonic() + patience_s
    while max_load is not None and os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def capture(
    configs: list[Config], reps: int, max_load: float | None = None, out_dir: Path = OUT, patience_s: float = 600.0
) -> pd.DataFrame:
    """Drive every configuration ``reps`` times, interleaved, into ``out_dir``; the per-process table."""
    cache = cache_dir()
    out_dir.mkdir(exist_ok=True)
    for config in configs:
        (out_dir / f"{config.name}.jsonl.gz").unlink(missing_ok=True)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        timeline = Path(tmp) / "timeline.jsonl"
        for rep in range(reps):
            for config in configs:
                load = quiet(max_load, patience_s)
                report = drive(cache, config, timeline, warmup=1)
                with gzip.open(out_dir / f"{config.name}.jsonl.gz", "at", encoding="utf-8") as out:
                    out.write(timeline.read_text(encoding="utf-8"))
                records.append(
                    {
                        "release": config.release, "rows": config.rows, "flipper": config.flipper, "rep": rep,
                        "pinned": bool(report["pinned_in_dist"]), "flips": report["flips"],
                        "full_scans": report["full_scans"], "hits": report["cache_hits"],
                        "list_ms": round(report["list_ms"], 3), "list_span_ms": report["list_span_ms"],
                        "load_1m": round(load, 2), "node": report["node"],
                    }
                )  # fmt: skip
                print(f"{config.name} rep {rep}: {json.dumps(records[-1])}", file=sys.stderr)
    frame = pd.DataFrame.from_records(records)
    path = out_dir / "captures.csv"
    if path.is_file():
        old = pd.read_csv(path)
        keep = ~old.set_index(["release", "rows", "flipper"]).index.isin(
            [(c.release, c.rows, c.flipper) for c in configs]
        )
        frame = pd.concat([old[keep], frame], ignore_index=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", nargs="+", default=list(RELEASES))
    parser.add_argument("--rows", nargs="+", type=int, default=list(ROWS))
    parser.add_argument("--flipper", nargs="+", default=list(FLIPPER), choices=FLIPPERS)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--patience", type=float, default=600.0, help="seconds to wait for --max-load per process")
    parser.add_argument("--out", type=Path, default=OUT, help="the folder of the captures (default transfer/)")
    parser.add_argument(
        "--max-load", type=float, default=None, help="start a process only at this 1-minute load or below"
    )
    args = parser.parse_args(argv)
    configs = [Config(r, n, f) for r in args.releases for n in args.rows for f in args.flipper]
    capture(configs, args.reps, args.max_load, args.out, args.patience)
    return 0


if __name__ == "__main__":
    sys.exit(main())
