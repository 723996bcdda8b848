"""The committed gallery under ``reports/``: the result folders the README shows, and their one command.

``python -m clawsim.report.gallery`` (from the repository root) re-simulates each gallery
scenario and rewrites ``reports/<name>/``: runs.parquet, runs.csv, the resolved scenario,
meta.json (without wall time, so the bytes depend on the inputs only), the PNGs and
index.md. Users' own runs go elsewhere (``clawsim run``'s result folder), so following the
quick start never rewrites a committed file. ``tests/test_report.py`` regenerates the
gallery into a temporary folder and compares it with the committed one. ``--notebook``
then re-executes ``notebooks/analysis.ipynb`` in place (it reads the gallery), so it is
committed with deterministic outputs; ``tests/test_notebook.py`` checks they reproduce.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .. import load_scenario, simulate
from ..store import write_results
from .page import draw_report

GALLERY = {
    "rows-x-concurrency": "scenarios/rows-x-concurrency.yaml",
    "alternatives": "scenarios/alternatives.yaml",
}
COMMAND = "python -m clawsim.report.gallery"


def regenerate(root: Path = Path("."), out: Path | None = None, names: list[str] | None = None) -> list[Path]:
    """Rebuild the gallery folders from the scenarios under ``root`` into ``out`` (default ``root/reports``).

    Returns the folders written, in ``GALLERY`` order. Same scenarios, same bytes (PNGs:
    for a given matplotlib and FreeType).
    """
    out = out if out is not None else root / "reports"
    written = []
    for name, source in GALLERY.items():
        if names and name not in names:
            continue
        scenario = load_scenario(root / source)
        frame = simulate(scenario, workers=min(2, os.cpu_count() or 1))
        meta = {
            "scenario": scenario.name,
            "source": source,
            "seed": scenario.seed,
            "runs": int(frame["run"].nunique()),
            "lists": len(frame),
            "regenerate": COMMAND,
        }
        folder = out / name
        write_results(folder, scenario, frame, meta)
        draw_report(folder, frame, scenario, meta)  # a folder only this command writes
        written.append(folder)
    return written


NOTEBOOK = "notebooks/analysis.ipynb"


def execute_notebook(path: Path) -> None:
    """Execute the notebook in place, from its folder, without timing metadata (so its outputs are deterministic).

    Needs nbclient and ipykernel (``pip install '.[notebooks]'``). The gallery must be
    written first: the notebook reads ``reports/rows-x-concurrency``.
    """
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        raise SystemExit(f"{COMMAND} --notebook needs nbclient: pip install '.[notebooks]'") from None
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.write(notebook, path)
    (path.parent / "exponents.json").unlink(missing_ok=True)  # the notebook's own output file, not committed


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m clawsim.report.gallery [--out DIR] [--notebook] [NAME ...]``."""
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"only these: {', '.join(GALLERY)} [default: all]")
    parser.add_argument("--out", type=Path, default=None, help="folder to write into [default: reports/]")
    parser.add_argument("--notebook", action="store_true", help=f"then re-execute {NOTEBOOK} in place, outputs kept")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(GALLERY))
    if unknown:
        parser.error(f"not in the gallery: {', '.join(unknown)} (choose from {', '.join(GALLERY)})")
    for folder in regenerate(Path("."), args.out, args.names or None):
        print(f"gallery: {folder}/index.md")
    if args.notebook:
        execute_notebook(Path(NOTEBOOK))
        print(f"gallery: {NOTEBOOK} executed")


if __name__ == "__main__":
    main()
