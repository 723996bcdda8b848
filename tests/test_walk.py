"""The one walk of a list (``engine.walk.list_steps``): its steps, and that no one else walks a list."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from clawsim.engine import walk
from clawsim.engine.walk import PIN, AwaitIO, HoistedLookups, Rows, Yield, list_steps
from clawsim.scenario import ListSpec, PerRowIO

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)


def test_the_steps_of_a_pinned_hoisted_list_with_reads():
    spec = ListSpec(
        rows=25,
        yield_every=10,
        lookups_per_row=3,
        row_cost_ms=0.5,
        lookup_mode="hoisted",
        per_row_io=PerRowIO(rows=2, latency_ms=4.0),
    )
    assert list(list_steps(spec, pinned=True)) == [
        PIN,
        HoistedLookups(3),
        Rows(0, 1, 0, 0.5),
        AwaitIO(4.0),
        Rows(1, 1, 0, 0.5),
        AwaitIO(4.0),
        Rows(2, 8, 0, 0.5),
        Yield(10),
        Rows(10, 10, 0, 0.5),
        Yield(20),
        Rows(20, 5, 0, 0.5),
    ]


def test_the_steps_of_a_plain_list_and_one_that_never_yields():
    assert list(list_steps(ListSpec(rows=20, yield_every=10, lookups_per_row=2), pinned=False)) == [
        Rows(0, 10, 2, 0.28),
        Yield(10),
        Rows(10, 10, 2, 0.28),
    ]
    assert list(list_steps(ListSpec(rows=20, yield_every=0), pinned=False)) == [Rows(0, 20, 2, 0.28)]


def test_the_walk_exists_once():
    """The engine and both analytic models take their steps from ``list_steps``: no other module
    lays out batches or decides on hoisted lookups or the pin for a list."""
    walk = ROOT / "clawsim" / "engine" / "walk.py"
    laid_out = re.compile(r"\bbatches\(|hoisted_lookups|lookup_mode == |\bio_rows\b.*range|yield_every\b.*%")
    others = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "clawsim" / "engine").glob("*.py"))
        + sorted((ROOT / "clawsim" / "analytic").glob("*.py"))
        if path != walk
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if laid_out.search(line)
    ]
    assert others == []
    for consumer in ("engine/listing.py", "analytic/immediate.py", "analytic/chain.py", "explore/model.py"):
        assert "list_steps(" in (ROOT / "clawsim" / consumer).read_text()


def test_a_short_list_walks_steps_made_once_a_long_one_a_generator():
    """Runs of one plan point share their spec object, and so its steps (made once); a list
    longer than ``CACHED_ROWS`` is walked as it goes, with the same steps."""
    short, long = ListSpec(rows=95, yield_every=10), ListSpec(rows=walk.CACHED_ROWS + 5, yield_every=10)
    assert list_steps(short, True) is list_steps(short, True)
    assert list(list_steps(short, True)) == list(walk._steps(short, True))
    assert list_steps(short, False) != list_steps(short, True)
    assert not isinstance(list_steps(long, False), tuple)
    assert list(list_steps(long, False)) == list(walk._steps(long, False))
