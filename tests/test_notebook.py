"""notebooks/analysis.ipynb: committed with its outputs, which re-executing reproduces; public API only.

The notebook is executed here as committed (the small sweep, the committed gallery grid) and
its every output compared with the committed one: text exactly, images by RMS difference
(PNG bytes are the same within one matplotlib build). The numbers it saves are recomputed
here from the raw runs without clawsim.report.
"""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import nbformat
import pytest
from matplotlib.testing.compare import compare_images
from nbclient import NotebookClient

import clawsim
import clawsim.report
from clawsim.report import growth_exponent

pytestmark = pytest.mark.slow  # seconds each: left out of the quick loop (-m "not slow")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "analysis.ipynb"
SMALL = REPO / "scenarios" / "rows-x-concurrency-small.yaml"
GRID = REPO / "reports" / "rows-x-concurrency"


def execute(monkeypatch, **env: str) -> nbformat.NotebookNode:
    """Run the notebook from its own folder with the given CLAWSIM_* variables; return it executed."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the kernel imports the clawsim under test, not an installed one
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    return notebook


def outputs(notebook) -> list[list[dict]]:
    return [cell.outputs for cell in notebook.cells if cell.cell_type == "code"]


def expected_exponents(frame, scenario) -> dict[str, float]:
    """Slopes recomputed here: mean scans per (fix, rows) at the largest agent count."""
    busy = frame[frame["actors.0.count"] == max(scenario.sweep["actors.0.count"])]
    means = busy.groupby(["registry.fix", "list.rows"])["scans"].mean()
    return {
        fix: growth_exponent(part.index.get_level_values("list.rows"), part.to_numpy())[0]
        for fix, part in means.groupby(level="registry.fix")
    }


def expected_saved(grid, scenario) -> dict[str, float]:
    """Mean scans without minus with the pin at the longest list, per agent count, from the raw runs."""
    longest = grid[grid["list.rows"] == max(scenario.sweep["list.rows"])]
    means = longest.groupby(["actors.0.count", "registry.fix"])["scans"].mean().unstack()
    return {str(count): round(row["none"] - row["pin"], 1) for count, row in means.iterrows()}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    out = tmp_path_factory.mktemp("notebook") / "exponents.json"
    try:
        notebook = execute(monkeypatch, CLAWSIM_SCENARIO="", CLAWSIM_GRID="", CLAWSIM_NOTEBOOK_OUTPUT=str(out))
    finally:
        monkeypatch.undo()
    return notebook, json.loads(out.read_text())


def test_the_notebook_reproduces_its_committed_outputs(executed, tmp_path):
    notebook, _ = executed
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert "parameters" in committed.cells[2].metadata.get("tags", [])
    got, want = outputs(notebook), outputs(committed)
    assert sum(len(o) for o in want) >= 10, "the notebook is committed with its outputs"
    images = 0
    for index, (new, old) in enumerate(zip(got, want, strict=True)):
        assert [o.output_type for o in new] == [o.output_type for o in old], index
        for a, b in zip(new, old, strict=True):
            assert a.output_type != "error" and a.get("name") != "stderr", a
            assert a.get("text") == b.get("text"), index
            data_a, data_b = a.get("data", {}), b.get("data", {})
            assert {k: v for k, v in data_a.items() if k != "image/png"} == {
                k: v for k, v in data_b.items() if k != "image/png"
            }, index
            if "image/png" in data_a:
                images += 1
                (tmp_path / "new.png").write_bytes(base64.b64decode(data_a["image/png"]))
                (tmp_path / "old.png").write_bytes(base64.b64decode(data_b["image/png"]))
                assert compare_images(str(tmp_path / "old.png"), str(tmp_path / "new.png"), tol=5) is None
    assert images == 4  # growth, duration, concurrency, one run's timeline


def test_the_numbers_it_saves_are_the_simulated_ones(executed):
    _, saved = executed
    scenario = clawsim.load_scenario(SMALL)
    assert saved["scenario"] == "rows-x-concurrency-small" and saved["held"] == {"actors.0.count": 16}
    assert saved["scans_exponent"] == pytest.approx(expected_exponents(clawsim.simulate(scenario), scenario), abs=1e-12)
    assert saved["scans_exponent"]["none"] == pytest.approx(1.0, abs=0.05)
    assert saved["scans_exponent"]["pin"] == pytest.approx(0.0, abs=1e-9)
    grid, grid_scenario, _ = clawsim.read_results(GRID)
    assert saved["scans_saved_at_longest"] == pytest.approx(expected_saved(grid, grid_scenario))
    assert saved["scans_saved_at_longest"]["0"] == 0 and saved["scans_saved_at_longest"]["16"] > 1000


def test_the_notebook_reads_any_grid_folder(tmp_path, monkeypatch):
    from clawsim.store import write_results

    scenario = clawsim.load_scenario(SMALL)
    frame = clawsim.simulate(scenario)
    write_results(tmp_path / "grid", scenario, frame, {})
    notebook = execute(
        monkeypatch,
        CLAWSIM_SCENARIO=str(SMALL),
        CLAWSIM_GRID=str(tmp_path / "grid"),
        CLAWSIM_NOTEBOOK_OUTPUT=str(tmp_path / "saved.json"),
    )
    assert not [o for cell in outputs(notebook) for o in cell if o.output_type == "error"]
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert saved["scans_saved_at_longest"] == pytest.approx(expected_saved(frame, scenario))


def test_the_notebook_uses_the_public_api_only():
    public = {"clawsim": set(clawsim.__all__), "clawsim.report": set(clawsim.report.__all__)}
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("clawsim"):
                assert node.module in public, node.module
                assert {a.name for a in node.names} <= public[node.module], ast.unparse(node)
            if isinstance(node, ast.Import):
                assert all(a.name in ("clawsim", "os", "json") or not a.name.startswith("clawsim") for a in node.names)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "clawsim":
                assert node.attr in public["clawsim"], node.attr
