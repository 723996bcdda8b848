"""The self-contained HTML report, opened in a real headless browser (Debian's chromium).

The page is checked as a user would get it: loaded from a file with no network, every
image decoded (``complete`` and a natural width equal to the PNG's own), no error event,
tables and the resolved scenario present. Skipped when chromium is not installed.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import textwrap
from pathlib import Path

import pytest

import clawsim
from clawsim.report import write_report
from clawsim.store import write_results

pytestmark = pytest.mark.slow  # seconds each: left out of the quick loop (-m "not slow")

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=10000",
]

SCENARIO = """
    name: tiny-html
    seed: 5
    replications: 3
    memo: {policy: lru, capacity: 8, scan_ms: 2.5}
    list: {rows: 100, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
    actors:
      - {name: flipper, kind: immediate, workspaces: unique, count: 1}
    sweep:
      list.rows: [10, 100]
      registry.fix: [none, pin]
"""

# Records, on <html>, how many images there are, how many decoded, their widths, and any error event.
PROBE = """<script>
window.addEventListener('error', e => {
  const el = document.documentElement;
  el.dataset.errors = (el.dataset.errors || '') + '[' + (e.message || (e.target && e.target.tagName)) + ']';
}, true);
window.addEventListener('load', () => {
  const el = document.documentElement, images = [...document.images];
  el.dataset.images = images.length;
  el.dataset.decoded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  el.dataset.widths = images.map(i => i.naturalWidth).join(',');
});
</script>"""


def png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", data[16:20])[0]


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    scenario = clawsim.parse_scenario(textwrap.dedent(SCENARIO), "<test>")
    write_results(folder, scenario, clawsim.simulate(scenario), {"source": "<test>"})
    write_report(folder, html=True)
    return folder


def test_html_is_self_contained_and_deterministic(report_folder):
    page = (report_folder / "index.html").read_text()
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)  # nothing fetched from elsewhere
    assert page.count("<img ") == len(list(report_folder.glob("*.png")))
    assert "Student t over 3 replications" in page and "<table>" in page and "name: tiny-html" in page
    write_report(report_folder, html=True)
    assert (report_folder / "index.html").read_text() == page


@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (apt-get install chromium)")
def test_html_renders_in_a_headless_browser_with_every_image_loaded(report_folder, tmp_path):
    page = (report_folder / "index.html").read_text().replace("</title>", "</title>" + PROBE, 1)
    probed = tmp_path / "probed.html"
    probed.write_text(page)
    command = [BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", probed.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    root = re.search(r"<html[^>]*>", dom)
    assert root, dom[:500]
    attributes = dict(re.findall(r'data-([a-z]+)="([^"]*)"', root.group(0)))
    widths = [png_width(p.read_bytes()) for p in sorted(report_folder.glob("*.png"), key=lambda p: page.find(p.name))]
    assert "errors" not in attributes, attributes
    assert attributes["images"] == attributes["decoded"] == str(len(widths)) != "0"
    assert sorted(map(int, attributes["widths"].split(","))) == sorted(widths)
    assert "Per sweep point" in dom and "The scenario, resolved" in dom
