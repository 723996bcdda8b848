"""Charts that do not mislead at a glance: a categorical axis is never joined by a line, the
conditions are in the title, the options chart shows list_ms and no empty panel, and an
affine fit with a negative cost is named as a misfit, never printed as a cost."""

from __future__ import annotations

import pytest
from conftest import ROOT
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import clawsim
from clawsim.report import charts
from clawsim.report.draw import draw_lines, render
from clawsim.report.page import index_markdown, tables
from clawsim.report.stats import implausible_affine
from clawsim.report.tradeoff import draw_tradeoff


def _charts(name: str):
    scenario = clawsim.load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    frame = clawsim.simulate(scenario, workers=2)
    return frame, scenario, {c.file: c for c in charts(frame, scenario)}


@pytest.fixture(scope="module")
def small():
    return _charts("rows-x-concurrency-small")


def _figure(chart):
    fig = Figure(figsize=(8, 6))
    FigureCanvasAgg(fig)
    return fig


def test_yield_every_is_categorical_with_never_and_no_joining_line():
    scenario = clawsim.load_scenario(ROOT / "scenarios" / "alternatives-no-yields.yaml")
    scenario = scenario.with_values({"list.rows": 100, "replications": 2})  # one row count: quick
    frame = clawsim.simulate(scenario)
    chart = {c.file: c for c in charts(frame, scenario)}["loop-delay-vs-yield-every.png"]
    assert chart.xscale == "categorical"
    [ax] = draw_lines(_figure(chart), chart)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["never", "10"]
    assert ax.get_lines() and all(line.get_linestyle() == "None" for line in ax.get_lines())
    assert "not joined" in chart.note


def test_held_conditions_are_in_the_title_and_the_headings(small):
    frame, scenario, found = small
    assert found["scans-vs-concurrency.png"].conditions == "1,000 rows"
    assert found["tradeoff.png"].heading.endswith("(16 copies of 'agent')")
    page = index_markdown(frame, scenario, {}, list(found.values()))
    assert "## Full scans per list vs concurrency (1,000 rows)" in page


def test_a_negative_fixed_cost_is_flagged_not_printed(small):
    frame, scenario, found = small
    chart = found["list-ms-vs-rows.png"]
    fits = chart.data.drop_duplicates(["fixed_ms", "per_row_ms"])
    assert (fits["fixed_ms"] < 0).sum() == 1  # fix none at 16 agents: the means are not affine in rows
    axes = draw_lines(_figure(chart), chart)  # one panel per agent count
    legend = [t.get_text() for ax in axes for t in ax.get_legend().get_texts()]
    assert any("not affine" in text for text in legend)
    assert not any("-" in text.split(":")[-1] and "ms/row" in text for text in legend)
    growth = dict((heading, cells) for heading, _, cells in tables(frame, scenario))["Growth with rows"]
    flagged = growth[growth["list_ms fixed (ms)"].str.startswith("not affine")]
    assert len(flagged) == 1 and flagged.iloc[0]["registry.fix"] == "none"
    assert not growth["list_ms fixed (ms)"].str.startswith("-").any()
    assert implausible_affine(230.0, 0.34) is None and implausible_affine(-29.0, 23.5)


def test_the_options_chart_shows_list_ms_and_no_empty_stale_panel(small):
    _, _, found = small
    chart = found["tradeoff.png"]
    axes = draw_tradeoff(_figure(chart), chart)
    labels = [ax.get_xlabel() for ax in axes]
    assert any("list_ms" in label for label in labels)
    assert not any("stale" in label for label in labels) and "no option served a stale hit" in chart.note
    assert render(chart, "caption")  # draws whole


def test_stale_hits_keep_their_panel_when_an_option_serves_them():
    scenario = clawsim.load_scenario(ROOT / "scenarios" / "alternatives.yaml").with_values({"replications": 2})
    frame = clawsim.simulate(scenario, workers=2)
    chart = {c.file: c for c in charts(frame, scenario)}["tradeoff.png"]
    labels = [ax.get_xlabel() for ax in draw_tradeoff(_figure(chart), chart)]
    assert any("stale" in label for label in labels) and chart.title.endswith("stale hits")
