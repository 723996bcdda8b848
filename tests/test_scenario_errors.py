"""Bad scenario files: a clear FILE:LINE: FIELD message, exit code 2, no traceback."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

import clawsim
from clawsim.cli import app
from clawsim.scenario import ScenarioError

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)

BAD = {
    "wrong_type": ("list:\n  rows: abc\n", 2, "list.rows: Input should be a valid integer"),
    "float_rows": ("list:\n  rows: 1.5\n", 2, "list.rows: Input should be a valid integer"),
    "unknown_key": ("list:\n  rows: 10\n  rowz: 5\n", 3, "list.rowz: unknown field"),
    "unknown_top": ("lists:\n  rows: 10\n", 1, "lists: unknown field"),
    "negative_rows": ("list:\n  rows: -5\n", 2, "list.rows: Input should be greater than or equal to 1"),
    "yield_every_no": (
        "list:\n  rows: 10\n  yield_every: no\n",
        3,
        "list.yield_every: Input should be a valid integer (got false",
    ),
    "bad_sweep_path": ("list:\n  rows: 10\nsweep:\n  list.rowz: [1, 2]\n", 4, "sweep.list.rowz: not a scenario field"),
    "bad_sweep_index": ("sweep:\n  actors.3.rate_per_s: [1, 2]\n", 2, "sweep.actors.3.rate_per_s: no such element"),
    "bad_sweep_value": ("list:\n  rows: 10\nsweep:\n  list.rows:\n    - 10\n    - -1\n", 6, "sweep.list.rows[1] = -1"),
    "empty_sweep": ("sweep:\n  list.rows: []\n", 2, "sweep.list.rows: List should have at least 1 item"),
    "empty": ("", 1, "the file is empty"),
    "comments_only": ("# nothing here\n", 1, "the file is empty"),
    "not_yaml": ("this is: [not yaml\n", 2, "not valid YAML"),
    "not_a_mapping": ("- a\n- b\n", 1, "a scenario must be a mapping"),
    "ttl_without_ttl_ms": ("memo:\n  policy: ttl\n", 1, "memo: policy ttl needs ttl_ms"),
    "interval_without_period": (
        "actors:\n  - name: a\n    kind: interval\n",
        2,
        "actors.0: kind interval needs period_ms",
    ),
    "bad_workspaces": (
        "actors:\n  - name: a\n    kind: immediate\n    workspaces: cycle:0\n",
        4,
        "actors.0.workspaces: workspaces must be one of",
    ),
    "unknown_dist": ("memo:\n  scan_ms: {dist: gamma, k: 2}\n", 2, "memo.scan_ms: Input tag 'gamma'"),
    "dist_missing_field": ("memo:\n  scan_ms: {dist: lognormal, p50: 10}\n", 2, "memo.scan_ms.p95: Field required"),
    "bad_enum": ("registry:\n  fix: pinned\n", 2, "registry.fix: Input should be 'none' or 'pin'"),
    "poll_without_duration": ("list:\n  poll_every_ms: 1000\n", 1, "list: poll_every_ms and duration_ms go together"),
    "bad_variant": (
        "variants:\n  big:\n    memo.capasity: 512\n",
        3,
        "variants.big.memo.capasity: not a scenario field",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_names_file_line_and_field(tmp_path, name):
    text, line, fragment = BAD[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        clawsim.load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("name", ["yield_every_no", "unknown_key", "not_yaml", "empty"])
def test_cli_exits_2_without_traceback_or_output(tmp_path, command, name):
    text, line, fragment = BAD[name]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    args = [command, str(path)] + (["--out", str(out)] if command == "run" else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert f"bad.yaml:{line}: " in result.stderr and fragment in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert result.stdout == ""
    assert not out.exists()  # nothing half-written


def test_missing_binary_and_folder_inputs(tmp_path):
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x89PNG\x00\x01")
    for path, fragment in [
        (tmp_path / "nope.yaml", "no such file"),
        (binary, "not a text file"),
        (tmp_path, "is a folder"),
    ]:
        result = CliRunner().invoke(app, ["validate", str(path)])
        assert result.exit_code == 2 and fragment in result.stderr


def test_strict_mode_rejects_what_lax_mode_would_coerce():
    for text in ["list: {rows: '10'}", "list: {rows: true}", "memo: {scan_ms: '2.5'}", "seed: 1.0"]:
        with pytest.raises(ScenarioError):
            clawsim.parse_scenario(text)


def test_every_shipped_scenario_validates():
    from conftest import ROOT

    files = sorted((ROOT / "scenarios").rglob("*.yaml")) + sorted((ROOT / "validation").rglob("*.yaml"))
    assert files
    for path in files:
        clawsim.load_scenario(path)


def test_defaults_are_written_into_the_resolved_scenario():
    from clawsim.scenario import resolved_yaml

    text = resolved_yaml(clawsim.parse_scenario(textwrap.dedent("list: {rows: 5}")))
    for expected in ["yield_every: 10", "lookups_per_row: 2", "policy: lru", "fix: none", "iteration_ms: 0.005"]:
        assert expected in text
