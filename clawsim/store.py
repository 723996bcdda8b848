"""Result folders: written atomically, read back with clear errors.

A result folder holds ``runs.parquet`` (the table), ``runs.csv`` (the same table as
text), ``scenario.resolved.yaml`` (the scenario with every default filled in, so the
result explains itself) and ``meta.json`` (versions, seed, run count, wall time).
Every file is written to a temporary name in the same folder and renamed into place,
so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ResultsError, ScenarioError
from .scenario import Scenario, parse_scenario, resolved_yaml

RUNS_PARQUET = "runs.parquet"
RUNS_CSV = "runs.csv"
RESOLVED_YAML = "scenario.resolved.yaml"
META_JSON = "meta.json"


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through a temporary file in its folder, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)  # mkstemp makes 0600 files; results are ordinary files
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def versions() -> dict[str, str]:
    """Versions of clawsim, Python and the libraries that shape results."""
    found = {"python": platform.python_version()}
    for name in ("clawsim", "simpy", "numpy", "pandas", "pyarrow", "pydantic", "matplotlib"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def frame_to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue().to_pybytes()


def write_results(out: Path, scenario: Scenario, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Write the four files of a result folder, each atomically."""
    out = Path(out)
    atomic_write(out / RUNS_PARQUET, lambda h: h.write(frame_to_parquet_bytes(frame)))
    atomic_write_text(out / RUNS_CSV, frame.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(out / RESOLVED_YAML, resolved_yaml(scenario))
    atomic_write_text(out / META_JSON, json.dumps({**meta, "versions": versions()}, indent=2, sort_keys=True) + "\n")


def read_results(folder: str | Path) -> tuple[pd.DataFrame, Scenario, dict[str, Any]]:
    """Read a result folder back: (runs table, resolved scenario, meta)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such folder (run `clawsim run SCENARIO --out {folder}` first)")
    parquet = folder / RUNS_PARQUET
    if not parquet.is_file():
        raise ResultsError(f"{parquet}: missing; this folder holds no clawsim results")
    try:
        frame = pq.read_table(parquet).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise ResultsError(f"{parquet}: not a readable Parquet file ({exc})") from None
    missing = {"run", "list_index", "scans", "list_ms"} - set(frame.columns)
    if missing:
        raise ResultsError(f"{parquet}: not a clawsim runs table (missing columns: {', '.join(sorted(missing))})")
    resolved = folder / RESOLVED_YAML
    try:
        scenario = parse_scenario(resolved.read_text(encoding="utf-8"), str(resolved))
    except FileNotFoundError:
        raise ResultsError(f"{resolved}: missing; cannot tell which scenario produced these results") from None
    except ScenarioError as exc:
        raise ResultsError(str(exc)) from None
    meta_path = folder / META_JSON
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        meta = {}
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{meta_path}: not valid JSON ({exc})") from None
    return frame, scenario, meta
