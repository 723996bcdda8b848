"""Every shipped scenario gets its report: no error, no case silently dropped, no negative band.

The gallery scenarios (``clawsim.report.gallery.GALLERY``) are reported by
``tests/test_report.py::test_gallery_is_regenerated_by_its_command``; every other shipped
scenario is simulated here, written as a result folder and reported (markdown and HTML).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import clawsim
from clawsim.report import charts, write_report
from clawsim.report.gallery import GALLERY
from clawsim.store import write_results

pytestmark = pytest.mark.slow  # seconds each: left out of the quick loop (-m "not slow")

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(
    p.relative_to(REPO).as_posix()
    for p in [*REPO.glob("scenarios/**/*.yaml"), *REPO.glob("validation/scenarios/*.yaml")]
)
OTHERS = [s for s in SHIPPED if s not in GALLERY.values()]


def test_the_gallery_scenarios_are_shipped_ones():
    assert set(GALLERY.values()) <= set(SHIPPED) and len(OTHERS) >= 15


def _shown(chart) -> set[str]:
    return {chart.x_path, *chart.lines, *([chart.panel] if chart.panel else [])}


@pytest.mark.parametrize("source", OTHERS)
def test_every_shipped_scenario_gets_its_report(tmp_path, source):
    scenario = clawsim.load_scenario(REPO / source)
    frame = clawsim.simulate(scenario)
    write_results(tmp_path, scenario, frame, {"source": source})
    pngs = write_report(tmp_path, html=True)
    index = (tmp_path / "index.md").read_text()
    assert pngs and all(f"]({p.name})" in index for p in pngs)
    assert (tmp_path / "index.html").read_text().count("data:image/png;base64,") == len(pngs)
    dims = (["variant"] if scenario.variants else []) + list(scenario.sweep)
    for chart in charts(frame, scenario):
        if chart.kind == "heatmap":
            continue
        for path in dims:  # every swept field is on the chart or named as held in its caption
            assert path in _shown(chart) or path == "registry.fix" or f"{path} = " in chart.note, (chart.file, path)
        data = chart.data
        prefixes = [""] if chart.kind == "lines" else [f"{m}_" for m in ("scans", "loop_delay_max_ms", "stale_hits")]
        for p in prefixes:
            assert (data[f"{p}min"] <= data[f"{p}mean"]).all() and (data[f"{p}mean"] <= data[f"{p}max"]).all()
            half = data[f"{p}ci95"].to_numpy(dtype=float)
            assert ((half >= 0) | np.isnan(half)).all()
            assert np.isnan(half).all() == (scenario.replications == 1)
