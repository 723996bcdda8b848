"""YAML that expands, nests or grows without bound is refused fast, in one line; lines stay right.

Real files in a temporary folder, read through ``load_scenario`` and the CLI.
"""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

import clawsim
from clawsim.cli import app
from clawsim.scenario.bounds import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)


def billion_laughs() -> str:
    """~1 KB that a naive loader expands to 9^9 (~387 million) strings."""
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text + "list: {rows: *i}\n"


HOSTILE = {
    "alias_bomb": (billion_laughs(), f"expands to more than {MAX_NODES} values"),
    "deep_flow": ("list: " + "[" * 100_000 + "]" * 100_000 + "\n", f"nested more than {MAX_DEPTH} levels deep"),
    "deep_mapping": ("list: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n", f"nested more than {MAX_DEPTH} levels"),
    "recursive_alias": ("list: &x {rows: 1, more: *x}\n", "inside its own anchor"),
}


def write(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def refused(path) -> tuple[str, float]:
    started = time.perf_counter()
    with pytest.raises(clawsim.ScenarioError) as caught:
        clawsim.load_scenario(path)
    return str(caught.value), time.perf_counter() - started


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_unbounded_yaml_is_refused_within_a_second(tmp_path, name):
    text, fragment = HOSTILE[name]
    path = write(tmp_path, name, text)
    message, seconds = refused(path)
    assert seconds < 1.0, f"{name} took {seconds:.2f} s"
    assert fragment in message and message.startswith(f"{path}:")
    assert "\n" not in message and "lol" not in message  # one line, no expanded value echoed
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output + result.stderr


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text('description: "' + "x" * (50 * 1024 * 1024) + '"\n')
    message, seconds = refused(path)
    assert seconds < 1.0 and message == f"{path}: larger than {MAX_FILE_BYTES} bytes (1 MiB), the limit for a scenario"
    for text in ["description: " + "y" * MAX_FILE_BYTES, "description: " + "é" * (MAX_FILE_BYTES // 2)]:
        with pytest.raises(clawsim.ScenarioError, match="<scenario>: larger than 1048576 bytes"):
            clawsim.parse_scenario(text)


@pytest.mark.slow
def test_a_large_legitimate_file_still_loads(tmp_path):
    """The limits leave room: 100,000 measured values (~800 KB) are a valid empirical cost."""
    values = ", ".join(f"{40 + (i % 997) / 10:.1f}" for i in range(100_000))
    path = write(tmp_path, "wide", f"memo:\n  scan_ms: {{dist: empirical, values: [{values}]}}\n")
    assert path.stat().st_size < MAX_FILE_BYTES
    assert len(clawsim.load_scenario(path).memo.scan_ms.values) == 100_000


def test_aliases_within_bounds_still_work(tmp_path):
    path = write(
        tmp_path, "anchors", "memo:\n  scan_ms: &c {dist: uniform, low: 1, high: 2}\nsweep:\n  memo.scan_ms: [*c, 5]\n"
    )
    scenario = clawsim.load_scenario(path)
    assert scenario.sweep["memo.scan_ms"][0] == {"dist": "uniform", "low": 1, "high": 2}


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("list:\n  rows: 10\n  yield_every: 2\n  rows: 20\n", 4, "duplicate key 'rows' (also at line 2)"),
        ("list: {rows: 1}\nseed: 1\nlist: {rows: 2}\n", 3, "duplicate key 'list' (also at line 1)"),
        ("list:\n  rows: 10\n~: 1\n", 3, "None: Keys should be strings"),
        ("list:\n  rows: 10\n\n  \x00yield_every: 3\n", 4, "character #x0000 is not allowed"),
        ("list: !!python/object/apply:os.system [echo hi]\n", 1, "could not determine a constructor"),
    ],
    ids=["duplicate_nested_key", "duplicate_top_key", "null_key", "nul_byte", "python_tag"],
)
def test_problems_are_reported_on_their_own_line(tmp_path, text, line, fragment):
    path = tmp_path / "bad.yaml"
    path.write_bytes(text.encode("utf-8"))
    message, _ = refused(path)
    assert message.startswith(f"{path}:{line}: ") and fragment in message, message
    assert "\n" not in message


def test_crlf_and_bom_files_keep_working_and_keep_their_lines(tmp_path):
    path = tmp_path / "crlf.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: crlf\r\nlist:\r\n  rows: 10\r\n")
    assert clawsim.load_scenario(path).list.rows == 10
    path.write_bytes(b"\xef\xbb\xbfname: crlf\r\nlist:\r\n  rows: 10\r\n  rowz: 3\r\n")
    message, _ = refused(path)
    assert message == f"{path}:4: list.rowz: unknown field"
