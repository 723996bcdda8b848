"""Numbers that cannot be simulated are refused at validation, each on its own line.

Every time and cost is a finite number of ms in [0, 1e12] (``bounds.Ms``); every count fits an
int64 column (``bounds.Count``); a scenario whose runs would record nothing is refused.
"""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

import clawsim
from clawsim.cli import app
from clawsim.scenario import Scenario
from clawsim.scenario.bounds import MAX_COUNT, MAX_MS

ACTOR = "actors:\n  - name: a\n    kind: {kind}\n    {field}: {value}\n"

# (YAML with VALUE where the bad number goes, line of that number, field named in the message)
FIELDS = {
    "row_cost_ms": ("list:\n  row_cost_ms: VALUE\n", 2, "list.row_cost_ms"),
    "gap_ms": ("list:\n  count: 2\n  gap_ms: VALUE\n", 3, "list.gap_ms"),
    "poll_every_ms": ("list:\n  duration_ms: 100\n  poll_every_ms: VALUE\n", 3, "list.poll_every_ms"),
    "duration_ms": ("list:\n  poll_every_ms: 100\n  duration_ms: VALUE\n", 3, "list.duration_ms"),
    "list_start_ms": ("list:\n  start_ms: VALUE\n", 2, "list.start_ms"),
    "latency_ms": ("list:\n  per_row_io:\n    rows: 1\n    latency_ms: VALUE\n", 4, "list.per_row_io.latency_ms"),
    "scan_ms": ("memo:\n  scan_ms: VALUE\n", 2, "memo.scan_ms"),
    "hit_ms": ("memo:\n  hit_ms: VALUE\n", 2, "memo.hit_ms"),
    "ttl_ms": ("memo:\n  policy: ttl\n  ttl_ms: VALUE\n", 3, "memo.ttl_ms"),
    "lognormal_p50": ("memo:\n  scan_ms:\n    dist: lognormal\n    p50: VALUE\n    p95: 2\n", 4, "memo.scan_ms.p50"),
    "lognormal_p95": ("memo:\n  scan_ms:\n    dist: lognormal\n    p50: 1\n    p95: VALUE\n", 5, "memo.scan_ms.p95"),
    "uniform_high": ("memo:\n  scan_ms:\n    dist: uniform\n    low: 1\n    high: VALUE\n", 5, "memo.scan_ms.high"),
    "empirical_value": (
        "memo:\n  scan_ms:\n    dist: empirical\n    values:\n      - 1\n      - VALUE\n",
        6,
        "memo.scan_ms.values.1",
    ),
    "period_ms": (ACTOR.format(kind="interval", field="period_ms", value="VALUE"), 4, "actors.0.period_ms"),
    "work_ms": (ACTOR.format(kind="immediate", field="work_ms", value="VALUE"), 4, "actors.0.work_ms"),
    "actor_start_ms": (ACTOR.format(kind="immediate", field="start_ms", value="VALUE"), 4, "actors.0.start_ms"),
    "rate_per_s": (ACTOR.format(kind="poisson", field="rate_per_s", value="VALUE"), 4, "actors.0.rate_per_s"),
    "iteration_ms": ("loop:\n  iteration_ms: VALUE\n", 2, "loop.iteration_ms"),
    "max_sim_ms": ("loop:\n  max_sim_ms: VALUE\n", 2, "loop.max_sim_ms"),
}
COUNTS = {
    "rows": ("list:\n  rows: VALUE\n", 2, "list.rows"),
    "list_count": ("list:\n  count: VALUE\n", 2, "list.count"),
    "yield_every": ("list:\n  yield_every: VALUE\n", 2, "list.yield_every"),
    "io_rows": ("list:\n  per_row_io:\n    rows: VALUE\n    latency_ms: 1\n", 3, "list.per_row_io.rows"),
    "capacity": ("memo:\n  capacity: VALUE\n", 2, "memo.capacity"),
    "seed": ("seed: VALUE\n", 1, "seed"),
    "replications": ("replications: VALUE\n", 1, "replications"),
    "lookups": (ACTOR.format(kind="immediate", field="lookups", value="VALUE"), 4, "actors.0.lookups"),
}


def refused(tmp_path, text: str) -> tuple[str, str]:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(clawsim.ScenarioError) as caught:
        clawsim.load_scenario(path)
    return str(path), str(caught.value)


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1.0e+308"])
@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_time_and_cost_is_a_finite_bounded_number(tmp_path, name, value):
    template, line, field = FIELDS[name]
    path, message = refused(tmp_path, template.replace("VALUE", value))
    assert message.startswith(f"{path}:{line}: {field}: "), message
    assert "\n" not in message  # only the number's own complaint, not the other union branch's


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_every_count_fits_the_result_table(tmp_path, name):
    template, line, field = COUNTS[name]
    path, message = refused(tmp_path, template.replace("VALUE", str(MAX_COUNT + 1)))
    assert message == f"{path}:{line}: {field}: Input should be less than or equal to {MAX_COUNT}"


def test_values_at_the_bounds_are_accepted():
    scenario = clawsim.parse_scenario(
        f"seed: {MAX_COUNT}\nloop: {{max_sim_ms: {MAX_MS:.1f}}}\nlist: {{gap_ms: 1.0e+12}}"
    )
    assert scenario.seed == MAX_COUNT and scenario.loop.max_sim_ms == MAX_MS


def test_a_wide_lognormal_whose_mean_overflows_is_refused():
    with pytest.raises(clawsim.ScenarioError, match="memo.scan_ms: p95/p50 is so wide that the mean exceeds"):
        clawsim.parse_scenario("memo: {scan_ms: {dist: lognormal, p50: 1.0e-300, p95: 1.0e+12}}")


RICH = [  # between them, every float field of the schema holds a number
    """
    list: {count: 2, gap_ms: 5, start_ms: 1, per_row_io: {rows: 1, latency_ms: 2}}
    memo: {policy: ttl, ttl_ms: 9, hit_ms: 0.1, scan_ms: {dist: lognormal, p50: 1, p95: 2}}
    actors:
      - {name: a, kind: interval, period_ms: 3, work_ms: 1, start_ms: 2}
      - {name: b, kind: poisson, rate_per_s: 3}
    """,
    "list: {poll_every_ms: 5, duration_ms: 50}\nmemo: {scan_ms: {dist: uniform, low: 1, high: 2}}",
    "memo: {scan_ms: {dist: empirical, values: [1, 2]}}",
]


def _float_leaves(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _float_leaves(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _float_leaves(value, (*path, i))
    elif isinstance(data, float):
        yield path


def test_the_bound_covers_every_float_field_of_the_schema():
    """The mechanism, not a list: whichever float a scenario holds (a new field included),
    infinity and 1e13 there are refused at exactly that field."""
    import textwrap

    checked = set()
    for text in RICH:
        data = clawsim.parse_scenario(textwrap.dedent(text)).model_dump(mode="python")
        for path in _float_leaves(data):
            for bad in (float("inf"), MAX_MS * 10):
                broken = copy.deepcopy(data)
                node = broken
                for part in path[:-1]:
                    node = node[part]
                node[path[-1]] = bad
                with pytest.raises(ValidationError) as caught:
                    Scenario.model_validate(broken)
                locs = [tuple(p for p in e["loc"] if p in path or isinstance(p, int)) for e in caught.value.errors()]
                assert path in locs, (path, caught.value.errors())
            checked.add(".".join(str(p) for p in path if not isinstance(p, int)))
    assert {
        "list.gap_ms",
        "memo.scan_ms.p95",
        "memo.scan_ms.high",
        "memo.scan_ms.values",
        "actors.period_ms",
        "actors.rate_per_s",
        "loop.iteration_ms",
        "list.per_row_io.latency_ms",
    } <= checked


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_list_that_would_start_after_max_sim_ms_is_refused(tmp_path, command):
    path = tmp_path / "late.yaml"
    path.write_text("loop:\n  max_sim_ms: 1000\nlist:\n  rows: 10\n  start_ms: 5000\n")
    result = CliRunner().invoke(
        app, [command, str(path), *(["--out", str(tmp_path / "o")] if command == "run" else [])]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output + result.stderr
    assert (
        f"{path}:5: list.start_ms: the first list starts at 5000 ms, not before loop.max_sim_ms (1000 ms)"
        in result.stderr
    )
    assert "(see loop.max_sim_ms, line 2)" in result.stderr


def test_the_same_rule_holds_for_a_sweep_point_and_for_the_default(tmp_path):
    path, message = refused(tmp_path, "loop:\n  max_sim_ms: 1000\nsweep:\n  list.start_ms: [0, 5000]\n")
    assert message.startswith(f"{path}:4: sweep.list.start_ms[1] = 5000: list.start_ms: the first list starts")
    path, message = refused(tmp_path, "list:\n  start_ms: 4.0e+6\n")
    assert message.startswith(f"{path}:2: list.start_ms:") and "(see loop.max_sim_ms, the default)" in message
