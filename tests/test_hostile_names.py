"""A scenario ``name`` is one plain folder name (it names ``results/<name>/``): anything that
could write elsewhere, or could not be a folder at all, is refused at validation."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import clawsim
from clawsim.cli import app

BAD_NAMES = {
    "parent": ("'../x'", "contains '/'"),
    "absolute": ("/abs/path", "contains '/'"),
    "backslash": ("'a\\b'", "contains '\\\\'"),
    "empty": ('""', "'' is not a folder name"),
    "dot": ("'.'", "'.' is not a folder name"),
    "dotdot": ("'..'", "'..' is not a folder name"),
    "tab": ('"a\\tb"', "control character U+0009"),
    "newline": ('"a\\nb"', "control character U+000A"),
    "nul": ('"a\\0b"', "control character U+0000"),
    "too_long": ('"' + "é" * 128 + '"', "256 bytes of UTF-8; a folder name has at most 255"),
    "surrogate": ('"a\\ud800"', "not valid Unicode"),
}


@pytest.mark.parametrize("case", sorted(BAD_NAMES))
def test_a_name_that_is_not_a_plain_folder_name_is_refused(tmp_path, monkeypatch, case):
    value, fragment = BAD_NAMES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(f"list: {{rows: 5}}\nname: {value}\n", encoding="utf-8")
    with pytest.raises(clawsim.ScenarioError) as caught:
        clawsim.load_scenario(path)
    assert str(caught.value).startswith(f"{path}:2: name: ") and fragment in str(caught.value), str(caught.value)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # nothing written anywhere


def test_a_name_taken_from_the_file_name_says_so(tmp_path):
    path = tmp_path / "..yaml"  # its stem is "."
    path.write_text("list: {rows: 5}\n")
    with pytest.raises(clawsim.ScenarioError, match=r"name: '\.' is not a folder name.*taken from the file name"):
        clawsim.load_scenario(path)


def test_plain_names_still_work():
    for name in ["busy-gateway", "gateway é 2", "a" * 255, "..x", "x.."]:
        assert clawsim.parse_scenario(f"name: '{name}'").name == name


def test_variant_names_never_name_files(tmp_path):
    """Variants label rows and chart lines, never files: any text is a variant name."""
    scenario = clawsim.parse_scenario("variants:\n  '../x': {registry.fix: pin}\n  'a b': {}\n")
    frame = clawsim.simulate(scenario)
    assert list(frame["variant"]) == ["../x", "a b"]
