"""Help and hints a user reads: every option a hint names exists, --help reads right at 80
columns, values appear as a user writes them, and the wall time is the command's."""

from __future__ import annotations

import ast
import re

import click
import pytest
import typer
from conftest import ROOT
from typer.testing import CliRunner

import clawsim.cli.fit as fit_cli
from clawsim.cli import app
from clawsim.console import number, yaml_value

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Modules that write other programs' command lines (the Node harness; the gallery's argparse).
OTHER_PROGRAMS = {"clawsim/nodecheck/harness.py", "clawsim/report/gallery.py"}
# The CLI modules and the commands they print for.
MODULE_COMMANDS = {
    "clawsim/cli/run.py": ("run",),
    "clawsim/cli/output.py": ("run",),
    "clawsim/cli/fit.py": ("fit",),
    "clawsim/cli/node.py": ("check-node", "calibrate"),
    "clawsim/cli/trace.py": ("trace",),
    "clawsim/cli/inspect.py": ("validate", "schema"),
    "clawsim/cli/report.py": ("report",),
}


def _commands() -> dict[str, click.Command]:
    group = typer.main.get_command(app)
    ctx = click.Context(group)
    return {name: group.get_command(ctx, name) for name in group.list_commands(ctx)} | {"": group}


def _options(command: click.Command) -> set[str]:
    ctx = click.Context(command)
    return {o for p in command.get_params(ctx) for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}


def _strings(path):
    """Every string constant of a module (f-strings' literal parts included)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def test_every_option_a_hint_names_exists():
    commands = _commands()
    options = {name: _options(cmd) for name, cmd in commands.items()}
    anywhere = set().union(*options.values())
    checked = 0
    for path in sorted((ROOT / "clawsim").rglob("*.py")):
        module = str(path.relative_to(ROOT))
        if module in OTHER_PROGRAMS:
            continue
        mine = set().union(*(options[c] for c in MODULE_COMMANDS.get(module, ()))) or anywhere
        for text in _strings(path):
            for named in OPTION.findall(text):
                checked += 1
                assert named in anywhere, f"{module}: {named!r} is no option of any clawsim command"
                assert named in mine or module not in MODULE_COMMANDS, f"{module}: {named!r} ({text[:60]!r})"
            for command, rest in re.findall(r"clawsim ([a-z][a-z-]*)([^`;\n]*)", text):
                if command in options:
                    for named in OPTION.findall(rest):
                        assert named in options[command], f"{module}: `clawsim {command} ... {named}`"
    assert checked > 50  # the walk reached the messages


def test_a_narrow_fit_keeps_the_comparison_and_its_hint_names_no_missing_option(monkeypatch, tmp_path):
    monkeypatch.setattr(fit_cli, "terminal_width", lambda: 80)
    timeline = ROOT / "tests" / "data" / "timelines" / "2026.6.8-rows30-flipperon.jsonl"
    result = CliRunner().invoke(app, ["fit", str(timeline), "-o", str(tmp_path / "f.yaml")])
    assert result.exit_code == 0, result.stderr
    check = next(block for block in result.stdout.split("\n\n") if "observed_" in block)
    for kept in ("observed_", "simulated_", "rel_"):
        assert kept in check
    assert max(map(len, result.stdout.splitlines())) <= 80
    hints = [line for line in result.stderr.splitlines() if "left out" in line]
    assert hints and all("hits" not in h or "scans" not in h for h in hints)
    fit_options = _options(_commands()["fit"])
    for hint in hints:
        assert set(OPTION.findall(hint)) <= fit_options, hint
    assert "∞" in result.stdout and " inf" not in result.stdout  # the unbounded setter rate


@pytest.mark.parametrize("command", ["", "run", "validate", "trace", "fit", "report", "schema", "check-node"])
def test_help_at_80_columns_keeps_example_lines_whole_and_shows_no_bool(command):
    cmd = _commands()[command]
    result = CliRunner().invoke(app, [*([command] if command else []), "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    shown = [line.strip() for line in result.stdout.splitlines()]
    assert "<bool>" not in result.stdout
    examples = [line.strip() for line in (cmd.help or "").splitlines() if line.startswith("    ")]
    assert examples
    for line in examples:
        assert line in shown, f"{command or 'clawsim'} --help wraps {line!r} at 80 columns"


def test_values_are_written_as_a_user_writes_them():
    assert [number(v) for v in (None, True, False, float("inf"), float("nan"), 1234.56, 7)] == [
        "null",
        "true",
        "false",
        "∞",
        "n/a",
        "1,234.6",
        "7",
    ]
    assert yaml_value({"dist": "lognormal", "p50": 50, "p95": 60}) == "{dist: lognormal, p50: 50, p95: 60}"
    result = CliRunner().invoke(app, ["validate", str(ROOT / "scenarios" / "alternatives.yaml")])
    assert "memo.capacity=null" in result.stdout and "memo.current_snapshot=true" in result.stdout
    assert "None" not in result.stdout and "True" not in result.stdout


def test_html_without_the_report_is_refused_and_wall_time_is_the_commands(tmp_path):
    harness = str(ROOT / "scenarios" / "pr90819-harness.yaml")
    refused = CliRunner().invoke(app, ["run", harness, "--out", str(tmp_path / "a"), "--html", "--no-report"])
    assert refused.exit_code == 2 and "cannot go with --no-report" in refused.stderr
    assert not (tmp_path / "a").exists()
    done = CliRunner().invoke(app, ["run", harness, "--out", str(tmp_path / "b")])
    assert done.exit_code == 0
    line = done.stderr.strip().splitlines()[-1]
    match = re.match(r"clawsim: done in ([0-9.]+) s \(2 runs simulated in ([0-9.]+) s\)", line)
    assert match, line
    assert float(match.group(1)) >= float(match.group(2))


def test_the_time_left_weighs_the_runs_to_come_by_their_cost(monkeypatch):
    import clawsim.cli.run as run_cli
    from clawsim.sweep import run_cost

    scenario = clawsim_scenario("rows-x-concurrency.yaml")
    costs = run_cli._Costs(scenario)
    total_runs = 84 * 20
    assert costs.done(0) == 0 and costs.done(total_runs) == pytest.approx(costs.total)
    # list.rows varies slowest and grows: half the runs are far less than half the work
    assert costs.done(total_runs // 2) < 0.2 * costs.total
    one = scenario.with_values({"list.rows": 10})
    assert run_cost(one.with_values({"list.rows": 10_000})) > 40 * run_cost(one)
    assert run_cost(one.with_values({"list.rows": 10_000, "list.yield_every": 0})) == run_cost(
        one.with_values({"list.yield_every": 0})
    )
    monkeypatch.setattr(run_cli, "COSTED_POINTS", 10)  # too many points to cost: by run count
    uniform = run_cli._Costs(scenario)
    assert uniform.cost == [] and uniform.done(840) == 840 and uniform.total == total_runs


def clawsim_scenario(name: str):
    from clawsim import load_scenario

    return load_scenario(ROOT / "scenarios" / name)
