"""The commands a user types: overrides, the plan, the schema, traces, fits, tables that fit."""

from __future__ import annotations

import json

import yaml
from conftest import ROOT
from typer.testing import CliRunner

from clawsim.cli import app
from clawsim.cli.inspect import schema_json

HARNESS = str(ROOT / "scenarios" / "pr90819-harness.yaml")


def invoke(*args: str, **env: str):
    return CliRunner().invoke(app, list(args), env=env or None)


def test_set_and_sweep_override_the_file_and_are_recorded(tmp_path):
    out = tmp_path / "o"
    result = invoke(
        "run",
        HARNESS,
        "--set",
        "list.rows=500",
        "--sweep",
        "actors.0.count=0,1",
        "-n",
        "2",
        "--out",
        str(out),
        "--format",
        "csv",
        "--no-report",
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("run,point,replication,list_index,registry.fix,actors.0.count,rows")
    assert len(lines) == 1 + 2 * 2 * 2  # fix x count x replications
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    assert resolved["list"]["rows"] == 500 and resolved["replications"] == 2
    assert resolved["sweep"] == {"registry.fix": ["none", "pin"], "actors.0.count": [0, 1]}
    meta = json.loads((out / "meta.json").read_text())
    assert meta["overrides"] == ["--set list.rows=500", "--sweep actors.0.count=0,1", "--replications 2"]


def test_a_bad_override_names_the_option():
    result = invoke("validate", HARNESS, "--set", "list.rows=abc")
    assert result.exit_code == 2
    assert result.stderr.strip() == "clawsim: --set list.rows=abc: list.rows: Input should be a valid integer"
    assert "Traceback" not in result.stderr
    assert "not a scenario field" in invoke("validate", HARNESS, "--sweep", "list.rowz=1,2").stderr
    assert "expected PATH=VALUE" in invoke("validate", HARNESS, "--set", "rows").stderr


def test_validate_prints_the_plan():
    result = invoke("validate", str(ROOT / "scenarios" / "rows-x-concurrency.yaml"))
    assert result.exit_code == 0
    assert "84 points x 20 replications = 1,680 runs" in result.stdout
    assert "list.rows       7 values: 10, 32, 100, 316, 1000, 3162, 10000" in result.stdout
    variants = invoke("validate", str(ROOT / "scenarios" / "alternatives.yaml")).stdout
    assert "variants (11, the outer dimension):" in variants and "lru512" in variants


def test_the_committed_schema_is_what_clawsim_schema_prints():
    result = invoke("schema")
    assert result.exit_code == 0 and result.stdout == schema_json()
    assert (ROOT / "docs" / "scenario.schema.json").read_text() == schema_json()
    document = json.loads(schema_json())
    actors = document["properties"]["actors"]["items"]
    assert set(actors["discriminator"]["mapping"]) == {"immediate", "interval", "poisson", "burst"}


def _schema_fields(node, path="", seen=None):
    """(dotted path, property schema) of every property in the JSON Schema, $defs included."""
    for name, prop in node.get("properties", {}).items():
        yield f"{path}{name}", prop
    for name, sub in node.get("$defs", {}).items():
        yield from _schema_fields(sub, f"{name}.")


def test_every_scenario_field_is_explained_to_editors_and_help():
    import pydoc

    from clawsim.scenario import schema
    from clawsim.scenario.strict import Strict

    document = json.loads(schema_json())
    fields = dict(_schema_fields(document))
    assert len(fields) >= 70  # every model's properties, not an empty walk
    blank = [path for path, prop in fields.items() if not prop.get("description", "").strip()]
    assert blank == []
    models = [m for m in vars(schema).values() if isinstance(m, type) and issubclass(m, Strict) and m is not Strict]
    for model in models:
        text = pydoc.render_doc(model, renderer=pydoc.plaintext)
        for name, info in model.model_fields.items():
            assert info.description and f"{name}: {info.description}" in text, (model.__name__, name)
    assert document["$defs"]["ListSpec"]["description"].startswith("The ``sessions.list`` calls")
    assert "Fields:" not in json.dumps(document)  # the schema keeps each model's short description


def test_trace_writes_the_three_formats(tmp_path):
    result = invoke("trace", HARNESS, "--out", str(tmp_path), "--from", "0", "--to", "80")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run-0.timeline.jsonl",
        "run-0.timeline.png",
        "run-0.trace.json",
        "run-1.timeline.jsonl",
        "run-1.timeline.png",
        "run-1.trace.json",
        "runs-0-1.timeline.png",
    ]
    assert invoke("trace", HARNESS, "--out", str(tmp_path), "--run", "9").exit_code == 2
    assert "must be before --to" in invoke("trace", HARNESS, "--out", str(tmp_path), "--from", "9", "--to", "1").stderr


def test_run_trace_and_html_land_in_the_result_folder(tmp_path):
    out = tmp_path / "o"
    result = invoke("run", HARNESS, "--out", str(out), "--trace", "--html")
    assert result.exit_code == 0, result.stderr
    assert (out / "traces" / "runs-0-1.timeline.png").is_file() and (out / "index.html").is_file()
    again = invoke("run", HARNESS, "--out", str(out))  # replaced as a whole; this what-if's traces kept
    assert again.exit_code == 0 and (out / "traces" / "runs-0-1.timeline.png").is_file()
    other = invoke("run", HARNESS, "--out", str(out), "--set", "list.rows=20")  # no stale traces
    assert other.exit_code == 0 and not (out / "traces").exists()


def test_fit_writes_a_scenario_and_refuses_to_overwrite(tmp_path):
    timeline = str(ROOT / "tests" / "data" / "timelines" / "2026.6.8-rows30-flipperon.jsonl")
    target = tmp_path / "fit.yaml"
    result = invoke("fit", timeline, "-o", str(target), "-n", "4")
    assert result.exit_code == 0, result.stderr
    assert "setter calls per s" in result.stdout and "observed_scans" in result.stdout.replace("\n", "")
    assert target.read_text().startswith("# Fitted by `clawsim fit`")
    assert invoke("fit", timeline, "-o", str(target)).exit_code == 2  # exists
    run = invoke("run", str(target), "--out", str(tmp_path / "r"), "--format", "csv", "--no-report")
    assert run.exit_code == 0


def test_fit_on_a_file_that_is_not_a_timeline(tmp_path):
    bad = tmp_path / "x.jsonl"
    bad.write_text("hello\nworld\n")
    result = invoke("fit", str(bad), "-o", str(tmp_path / "f.yaml"))
    assert result.exit_code == 2 and result.stderr.startswith("clawsim: ") and "Traceback" not in result.stderr


def test_tables_fit_80_columns_and_never_cut_a_number(capsys, monkeypatch):
    from clawsim.console import print_table

    rows = [
        {
            "run": "1",
            "registry.fix": "none",
            "distinct_workspaces": "1,234,567.1",
            "list_ms": "11,635.2",
            "loop_delay_max_ms": "272.0",
            "scans": "110.4 ± 7.5",
            "changes": "19",
            "yields": "19",
        }
    ]
    columns = list(rows[0])
    print_table(rows, columns, ["registry.fix"], 40, keep=["run", "scans", "list_ms"])
    out, err = capsys.readouterr()
    assert max(map(len, out.splitlines())) <= 40
    assert "110.4 ± 7.5" in out and "11,635.2" in out
    assert "left out to fit 40 columns" in err
    print_table(rows, columns, ["registry.fix"], None)  # piped: everything
    out, _ = capsys.readouterr()
    assert all(v in out for v in rows[0].values())
