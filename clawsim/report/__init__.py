"""Reports of a result folder: PNG charts, ``index.md`` and a self-contained ``index.html``.

The public API::

    from clawsim.report import charts, summarize, write_report
    table = summarize(frame, ["registry.fix"], ["scans", "list_ms"])  # mean, 95 % CI, min, max per group
    for chart in charts(frame, scenario):   # what each chart plots, as a tidy table
        print(chart.file, chart.data)
    write_report("results/rows-x-concurrency", html=True)

How the numbers are made (the captions say the same): a run's lists are averaged into
one value per run; a point is the mean over its runs (the replications) with the 95 %
confidence interval of Student's t; bands and bars are that interval, a lighter band or
thin line the minimum to maximum. Fields a chart does not show become extra lines,
panels, or are held at one value, named in the caption (``layout``). Growth with rows is
a power fit for scans (exponent ± standard error) and an affine fit for list_ms (fixed
ms + ms per row). PNGs are deterministic for a given matplotlib and FreeType (``draw``).
Modules: ``stats`` (summaries and fits), ``layout`` (where each field goes), ``select``
(which charts), ``draw`` and ``tradeoff`` (drawing), ``numbers`` (how a number is written),
``page`` (markdown and HTML), ``gallery`` (the committed reports under ``reports/``).
"""

from __future__ import annotations

from ..errors import ReportError
from .draw import render
from .layout import held_values
from .page import caption, draw_report, index_html, index_markdown, point_table, write_report
from .select import Chart, charts, ratio_table, series, tradeoff_table
from .stats import (
    AffineFit,
    PowerFit,
    affine_fit,
    ci95_half_width,
    concurrency_path,
    growth_exponent,
    growth_table,
    paired_differences,
    per_run,
    power_fit,
    saturation,
    summarize,
)

__all__ = [
    "AffineFit",
    "Chart",
    "PowerFit",
    "ReportError",
    "affine_fit",
    "caption",
    "charts",
    "ci95_half_width",
    "concurrency_path",
    "draw_report",
    "growth_exponent",
    "growth_table",
    "held_values",
    "index_html",
    "index_markdown",
    "paired_differences",
    "per_run",
    "point_table",
    "power_fit",
    "ratio_table",
    "render",
    "saturation",
    "series",
    "summarize",
    "tradeoff_table",
    "write_report",
]
