"""notebooks/analysis.ipynb runs top to bottom on the small sweep and computes the right exponents."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import clawsim
from clawsim.report import growth_exponent

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "analysis.ipynb"
SMALL = REPO / "scenarios" / "rows-x-concurrency-small.yaml"


def execute(tmp_path: Path, monkeypatch, **env: str) -> nbformat.NotebookNode:
    """Run the notebook in ``tmp_path`` with the given CLAWSIM_* variables; return it executed."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return notebook


def expected_exponents(frame, scenario) -> dict[str, float]:
    """Slopes recomputed here: mean scans per (fix, rows) at the largest agent count."""
    busy = frame[frame["actors.0.count"] == max(scenario.sweep["actors.0.count"])]
    means = busy.groupby(["registry.fix", "list.rows"])["scans"].mean()
    return {fix: growth_exponent(part.index.get_level_values("list.rows"), part.to_numpy())[0]
            for fix, part in means.groupby(level="registry.fix")}


def test_notebook_runs_on_the_small_sweep(tmp_path, monkeypatch):
    notebook = execute(tmp_path, monkeypatch, CLAWSIM_SCENARIO=str(SMALL), CLAWSIM_RESULTS="")
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the plot was not drawn"
    assert "parameters" in notebook.cells[2].metadata.get("tags", [])

    saved = json.loads((tmp_path / "exponents.json").read_text())
    scenario = clawsim.load_scenario(SMALL)
    expected = expected_exponents(clawsim.simulate(scenario), scenario)
    assert saved["scenario"] == "rows-x-concurrency-small" and saved["held"] == {"actors.0.count": 16}
    assert saved["scans_exponent"] == pytest.approx(expected, abs=1e-12)
    assert saved["scans_exponent"]["none"] == pytest.approx(1.0, abs=0.05)
    assert saved["scans_exponent"]["pin"] == pytest.approx(0.0, abs=1e-9)


def test_notebook_reads_a_result_folder(tmp_path, monkeypatch):
    from clawsim.store import write_results

    scenario = clawsim.load_scenario(SMALL)
    frame = clawsim.simulate(scenario)
    write_results(tmp_path / "results", scenario, frame, {})
    execute(tmp_path, monkeypatch, CLAWSIM_SCENARIO="", CLAWSIM_RESULTS=str(tmp_path / "results"),
            CLAWSIM_NOTEBOOK_OUTPUT=str(tmp_path / "from-folder.json"))
    saved = json.loads((tmp_path / "from-folder.json").read_text())
    assert saved["scans_exponent"] == pytest.approx(expected_exponents(frame, scenario), abs=1e-12)
