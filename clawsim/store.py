"""Result folders: one set of files that belong together, read back with clear errors.

A result folder holds ``runs.parquet`` (the table), ``runs.csv`` (the same table as
text), ``scenario.resolved.yaml`` (the scenario with every default filled in, so the
result explains itself) and ``meta.json`` (versions, seed, run count, wall time, the
sweep's fingerprint and the SHA-256 of each of the three data files). ``clawsim run``
writes the whole set into a fresh folder and swaps it in (``clawsim.folder.replace``);
``read_results`` refuses a folder whose files do not match the hashes in its meta.json,
so a mix of two sweeps is never read. No file is read or written through a link.

runs.parquet keeps every bit of every value. runs.csv (and ``clawsim run --format csv``)
writes the measured times rounded to ``CSV_DECIMALS`` decimals of a millisecond (1 ns of
simulated time), so a sum of simulated times reads ``228.0``, not ``227.99999999999727``;
swept parameters and counts are written exactly as they are.
"""

from __future__ import annotations

import hashlib
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

from . import __version__
from .engine.metrics import KEY_COLUMNS, LIST_METRICS, RUN_METRICS
from .errors import ResultsError, ScenarioError
from .folder import LATEST, is_link, latest, read_bytes
from .scenario import Scenario, parse_scenario, resolved_yaml

RUNS_PARQUET = "runs.parquet"
RUNS_CSV = "runs.csv"
RESOLVED_YAML = "scenario.resolved.yaml"
META_JSON = "meta.json"
DATA_FILES = (RUNS_PARQUET, RUNS_CSV, RESOLVED_YAML)


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through a temporary file in its folder, then rename it into place.

    An OSError (read-only folder, full disk, ...) becomes a one-line ResultsError."""
    try:
        _atomic_write(Path(path), write)
    except OSError as exc:
        raise ResultsError(f"{path}: cannot write it: {exc.strerror or exc}") from None


def _atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """The write of ``atomic_write``; an OSError names ``path`` (``filename``), even one from
    a ``write()`` on a full disk, which names no file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)  # mkstemp makes 0600 files; results are ordinary files
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def point_latest(out: Path) -> None:
    """Record ``out`` as the latest what-if of its scenario's folder (``out.parent/latest``)."""
    atomic_write_text(out.parent / LATEST, out.name + "\n")


def versions() -> dict[str, str]:
    """Versions of clawsim, Python and the libraries that shape results."""
    found = {"python": platform.python_version(), "clawsim": __version__}  # also when run from a checkout
    for name in ("simpy", "numpy", "pandas", "pyarrow", "pydantic", "matplotlib"):
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


CSV_DECIMALS = 6  # decimals of a ms in runs.csv: 1 ns, far below any cost a scenario sets


def csv_text(frame: pd.DataFrame) -> str:
    """The table as CSV text: float metrics (simulated times, the analytic expectations)
    rounded to ``CSV_DECIMALS`` decimals, every other column as it is."""
    metrics = {*LIST_METRICS, *RUN_METRICS}
    rounded = [
        c
        for c in frame.columns
        if (c in metrics or str(c).startswith("expected_")) and pd.api.types.is_float_dtype(frame[c])
    ]
    if rounded:
        frame = frame.assign(**{c: frame[c].round(CSV_DECIMALS) for c in rounded})
    return frame.to_csv(index=False, lineterminator="\n")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_results(out: Path, scenario: Scenario, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Write the four files of a result set into the folder ``out``; meta.json, written last,
    records the SHA-256 of the other three (``clawsim run`` calls this on a fresh folder).
    OSError (a full disk, ...) is raised as it is: the caller knows what it means for the set."""
    out = Path(out)
    data = {
        RUNS_PARQUET: frame_to_parquet_bytes(frame),
        RUNS_CSV: csv_text(frame).encode("utf-8"),
        RESOLVED_YAML: resolved_yaml(scenario).encode("utf-8"),
    }
    for name, content in data.items():
        write_file(out / name, content)
    files = {name: _sha256(content) for name, content in data.items()}
    text = json.dumps({**meta, "files": files, "versions": versions()}, indent=2, sort_keys=True) + "\n"
    write_file(out / META_JSON, text.encode("utf-8"))


def write_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole (through a temporary file); an OSError (a full disk) names ``path``
    and is raised as it is, for a caller that knows what it means for the set it writes."""
    _atomic_write(Path(path), lambda handle: handle.write(data))


def read_results(folder: str | Path) -> tuple[pd.DataFrame, Scenario, dict[str, Any]]:
    """Read a result folder back: (runs table, resolved scenario, meta). A scenario's folder of
    what-ifs (``results/<name>``) gives the latest one run there.

    ResultsError when the folder is missing, is a link, lacks a file, holds a file that does
    not match meta.json's hashes, or holds a table without the scenario's columns."""
    folder = Path(folder)
    if is_link(folder):
        raise ResultsError(f"{folder}: is a symbolic link; clawsim never follows links to a result folder")
    if not folder.is_dir():
        what = "is a file, not a result folder" if folder.exists() else "no such folder"
        raise ResultsError(f"{folder}: {what} (run `clawsim run SCENARIO --out {folder}` first)")
    if (found := latest(folder)) != folder:
        return read_results(found)
    meta = _read_meta(folder)
    raw = {name: _read(folder / name, required=name != RUNS_CSV or "files" in meta) for name in DATA_FILES}
    parquet = folder / RUNS_PARQUET
    try:
        frame = pq.read_table(pa.BufferReader(raw[RUNS_PARQUET])).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise ResultsError(f"{parquet}: not a readable Parquet file ({exc})") from None
    missing = [c for c in KEY_COLUMNS if c not in frame.columns]
    if missing:
        raise ResultsError(f"{parquet}: not a clawsim runs table (missing columns: {', '.join(missing)})")
    resolved = folder / RESOLVED_YAML
    try:
        scenario = parse_scenario(raw[RESOLVED_YAML].decode("utf-8"), str(resolved))
    except UnicodeDecodeError:
        raise ResultsError(f"{resolved}: not UTF-8 text") from None
    except ScenarioError as exc:
        raise ResultsError(str(exc)) from None
    _check_hashes(folder, meta, raw)
    _check_columns(parquet, frame, scenario, meta)
    return frame, scenario, meta


def _read(path: Path, required: bool = True) -> bytes:
    try:
        return read_bytes(path)
    except FileNotFoundError:
        if not required:
            return b""
        what = (
            "cannot tell which scenario produced these results"
            if path.name == RESOLVED_YAML
            else "this folder holds no complete clawsim result set"
        )
        raise ResultsError(f"{path}: missing; {what}") from None
    except IsADirectoryError:
        raise ResultsError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read it: {exc.strerror or exc}") from None


def _read_meta(folder: Path) -> dict[str, Any]:
    path = folder / META_JSON
    raw = _read(path)
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ResultsError(f"{path}: not a clawsim meta.json (a JSON object is expected)")
    return meta


def _check_hashes(folder: Path, meta: dict[str, Any], raw: dict[str, bytes]) -> None:
    """Every data file must be the one meta.json recorded; a folder written before clawsim
    recorded hashes (no ``files`` in meta.json) is read on trust."""
    files = meta.get("files")
    if files is None:
        return
    if not isinstance(files, dict) or set(files) != set(DATA_FILES):
        raise ResultsError(
            f"{folder / META_JSON}: its 'files' record is damaged; rerun `clawsim run` to rewrite the folder"
        )
    for name in DATA_FILES:
        if files[name] != _sha256(raw[name]):
            raise ResultsError(
                f"{folder / name}: does not belong with the other files of {folder} (it changed after "
                "clawsim wrote them together); rerun `clawsim run` to write a whole folder"
            )


def _check_columns(parquet: Path, frame: pd.DataFrame, scenario: Scenario, meta: dict[str, Any]) -> None:
    wanted = [*KEY_COLUMNS, *scenario.dimensions, *LIST_METRICS, *RUN_METRICS]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ResultsError(
            f"{parquet}: not the runs table of {scenario.name!r} (missing columns: {', '.join(missing)})"
        )
    if isinstance(meta.get("lists"), int) and meta["lists"] != len(frame):
        raise ResultsError(
            f"{parquet}: {len(frame)} rows, but meta.json says {meta['lists']} lists; the files do not belong together"
        )
