"""Result folders: replaced as a whole, never mixed, never through a link; --resume and
--force refuse what they cannot vouch for. Real files, real folders (see also
test_folders_signals.py for kills, Ctrl-C and concurrent writers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fill_fs, sweep_text
from typer.testing import CliRunner

import clawsim
from clawsim.cli import app
from clawsim.errors import ResultsError
from clawsim.folder import recover, replace
from clawsim.journal import JOURNAL
from clawsim.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]

SWEEP = sweep_text("folder-sweep", replications=2)
SINGLE = "name: folder-single\nseed: 1\nlist: {rows: 40}\nactors:\n  - {name: a, kind: immediate, workspaces: unique}\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    (tmp_path / "single.yaml").write_text(SINGLE)
    return tmp_path


def cli(*args):
    result = CliRunner().invoke(app, ["run", *map(str, args)])
    assert "Traceback" not in result.stderr
    return result


def one_line_error(result, *words):
    """Exit 2 and a last stderr line that starts with ``clawsim:`` and says each of ``words``."""
    assert result.exit_code == 2, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("clawsim: ") and all(w in line for w in words), line
    return line


def interrupted(path: Path, out: Path, after: int = 3) -> None:
    """A real journal of ``path``'s sweep in ``out``, stopped by Ctrl-C after ``after`` runs."""

    def stop(done, _total):
        if done == after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(clawsim.load_scenario(path), journal_path=out / JOURNAL, progress=stop)


# --------------------------------------------------------------------------- whole-folder replace


def test_charts_and_index_of_a_previous_sweep_never_survive(files):
    out = files / "o"
    assert cli(files / "sweep.yaml", "--out", out).exit_code == 0
    assert (out / "index.md").exists() and list(out.glob("*.png"))
    assert cli(files / "sweep.yaml", "--out", out, "--no-report").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["meta.json", "runs.csv", "runs.parquet", "scenario.resolved.yaml"]
    assert cli(files / "sweep.yaml", "--out", out).exit_code == 0
    assert cli(files / "single.yaml", "--out", out).exit_code == 0  # a single point: no report
    assert not list(out.glob("*.png")) and not (out / "index.md").exists()
    assert [p.name for p in files.iterdir() if p.name.startswith(".")] == []  # no staging or lock left


def test_read_results_refuses_files_that_do_not_belong_together(files):
    a, b = files / "a", files / "b"
    assert cli(files / "sweep.yaml", "--out", a, "--no-report").exit_code == 0
    (files / "sweep.yaml").write_text(SWEEP.replace("seed: 7", "seed: 8"))
    assert cli(files / "sweep.yaml", "--out", b, "--no-report").exit_code == 0
    (a / "runs.parquet").write_bytes((b / "runs.parquet").read_bytes())  # a new table beside an old set
    with pytest.raises(ResultsError, match="runs.parquet: does not belong with the other files"):
        clawsim.read_results(a)
    result = CliRunner().invoke(app, ["report", str(a)])
    one_line_error(result, "does not belong")


def test_a_crashed_swap_is_completed_by_the_next_writer(tmp_path):
    """The states a kill can leave (module docstring of clawsim.folder), repaired under the lock."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "meta.json").write_text("old")
    (tmp_path / ".o.new-aaaa").mkdir()  # killed while writing: deleted
    ready = tmp_path / ".o.ready-bbbb"
    ready.mkdir()
    (ready / "meta.json").write_text("new")
    os.rename(out, tmp_path / ".o.old-bbbb")  # killed between the two renames: OUT is missing
    assert "finished the swap" in recover(out)
    assert (out / "meta.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    assert recover(out) is None


def test_an_error_while_writing_leaves_the_old_folder_untouched(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "meta.json").write_text("old")

    def build(folder):
        (folder / "meta.json").write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        replace(out, build)
    assert (out / "meta.json").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["o"]


BIG_SINGLE = SINGLE + "replications: 400\nsweep: {list.rows: [40, 41]}\n"


def test_a_full_disk_while_journalling_is_one_line_and_keeps_the_old_results(files, tiny_fs):
    out = tiny_fs / "o"
    assert cli(files / "single.yaml", "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    fill_fs(tiny_fs, 64 * 1024)
    (files / "single.yaml").write_text(BIG_SINGLE)
    one_line_error(
        cli(files / "single.yaml", "--out", out, "--no-report"),
        "journal.jsonl: cannot write it",
        "No space left on device",
        "rerun with --resume",
    )
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != JOURNAL} == before
    assert not [p for p in tiny_fs.iterdir() if p.name.startswith(".")]
    clawsim.read_results(out)


def test_a_full_disk_while_writing_the_set_keeps_the_old_folder_and_the_journal(files, tiny_fs, tmp_path):
    run_sweep(clawsim.parse_scenario(BIG_SINGLE, "<test>"), journal_path=tmp_path / "measure.jsonl")
    journal_size = (tmp_path / "measure.jsonl").stat().st_size
    out = tiny_fs / "o"
    assert cli(files / "single.yaml", "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    fill_fs(tiny_fs, journal_size + 3 * 4096)  # room for the journal, not for the new set beside it
    (files / "single.yaml").write_text(BIG_SINGLE)
    one_line_error(
        cli(files / "single.yaml", "--out", out, "--no-report"),
        "cannot write runs.parquet",
        "No space left on device",
        "keeps all 800 runs",
    )
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != JOURNAL} == before
    assert len((out / JOURNAL).read_text().splitlines()) == 1 + 800  # every run kept for --resume
    assert not [p for p in tiny_fs.iterdir() if p.name.startswith(".")]
    (tiny_fs / "filler").unlink()
    assert cli(files / "single.yaml", "--out", out, "--no-report", "--resume").exit_code == 0
    assert len(clawsim.read_results(out)[0]) == 800


# --------------------------------------------------------------------------- interrupted sweeps, --resume, --force


def test_a_run_without_resume_keeps_an_interrupted_sweep(files):
    out = files / "o"
    interrupted(files / "sweep.yaml", out)
    journal = (out / JOURNAL).read_bytes()
    one_line_error(cli(files / "sweep.yaml", "--out", out), "interrupted sweep", "--resume", "--force")
    assert (out / JOURNAL).read_bytes() == journal
    result = cli(files / "sweep.yaml", "--out", out, "--force", "--no-report")
    assert result.exit_code == 0 and "discarding the interrupted sweep" in result.stderr


def test_resume_refuses_the_finished_results_of_another_scenario(files):
    out = files / "o"
    assert cli(files / "sweep.yaml", "--out", out, "--no-report").exit_code == 0
    same = cli(files / "sweep.yaml", "--out", out, "--resume")
    assert same.exit_code == 0 and "already holds the finished results of this sweep" in same.stderr
    (files / "sweep.yaml").write_text(SWEEP.replace("seed: 7", "seed: 9"))
    one_line_error(
        cli(files / "sweep.yaml", "--out", out, "--resume"), "finished results of another sweep", "scenario changed"
    )
    assert clawsim.read_results(out)[1].seed == 7  # left as it was


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("clawsim", "0.0.1", "written by clawsim 0.0.1"),
        ("code", "0123456789abcdef", "model code"),
        ("scenario", "0123456789abcdef", "scenario changed"),
    ],
)
def test_resume_refuses_a_journal_of_another_version_model_or_scenario(files, field, value, words):
    out = files / "o"
    interrupted(files / "sweep.yaml", out)
    lines = (out / JOURNAL).read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["fingerprint"][field] = value
    (out / JOURNAL).write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    one_line_error(cli(files / "sweep.yaml", "--out", out, "--resume"), words, "--force")


def _journal_lines(out):
    return (out / JOURNAL).read_text().splitlines(keepends=True)


DAMAGE = {
    "cut header": (lambda lines: lines[0][:12], "header line is cut short"),
    "{}": (lambda lines: "{}\n", "line 1 is not a clawsim journal header"),
    "42": (lambda lines: "42\n" + "".join(lines[1:]), "line 1 is not a clawsim journal header"),
    "random bytes": (lambda lines: os.urandom(64) + b"\x80", "not a clawsim journal"),
    "empty": (lambda lines: "", "is empty"),
    "a damaged run line": (lambda lines: lines[0] + "[1, 2]\n" + "".join(lines[1:]), "line 2 is damaged"),
    "a run outside the plan": (
        lambda lines: lines[0] + lines[1].replace('"run": ', '"run": 99', 1),
        "outside this plan's 8 runs",
    ),
    "missing records": (lambda lines: lines[0] + json.dumps({"run": 1, "records": []}) + "\n", "has no records"),
    "missing fields": (lambda lines: lines[0] + lines[1].replace('"scans"', '"scams"'), "missing or wrong fields"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_journal_is_one_line_saying_what_is_wrong(files, damage):
    out = files / "o"
    interrupted(files / "sweep.yaml", out)
    change, words = DAMAGE[damage]
    text = change(_journal_lines(out))
    (out / JOURNAL).write_bytes(text if isinstance(text, bytes) else text.encode())
    line = one_line_error(cli(files / "sweep.yaml", "--out", out, "--resume"), words, "--force")
    assert "scenario changed" not in line


def test_a_folder_in_place_of_the_journal_is_refused(files):
    out = files / "o"
    (out / JOURNAL).mkdir(parents=True)
    one_line_error(cli(files / "sweep.yaml", "--out", out, "--resume"), "is a folder, not a journal")


def test_a_journal_cut_mid_line_resumes_and_new_runs_are_not_glued_to_it(files, tmp_path):
    out = files / "o"
    interrupted(files / "sweep.yaml", out, after=3)
    with (out / JOURNAL).open("a") as handle:
        handle.write('{"run": 7, "records": [{"ru')
    run_sweep(clawsim.load_scenario(files / "sweep.yaml"), journal_path=out / JOURNAL, resume=True)
    lines = (out / JOURNAL).read_text().splitlines()
    assert len(lines) == 1 + 8 and all(json.loads(line) for line in lines)  # the cut line was dropped first


# --------------------------------------------------------------------------- links and foreign files


def test_a_planted_journal_link_is_never_followed(files, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = files / "o"
    out.mkdir()
    (out / JOURNAL).symlink_to(victim)
    for extra in ([], ["--resume"], ["--force"]):
        one_line_error(cli(files / "sweep.yaml", "--out", out, *extra), "symbolic link")
    assert victim.read_text() == "precious\n"


def test_links_to_result_files_and_folders_are_refused(files, tmp_path):
    out = files / "o"
    assert cli(files / "sweep.yaml", "--out", out, "--no-report").exit_code == 0
    link = tmp_path / "link"
    link.symlink_to(out)
    one_line_error(cli(files / "sweep.yaml", "--out", link), "symbolic link")
    with pytest.raises(ResultsError, match="symbolic link"):
        clawsim.read_results(link)
    (out / "runs.csv").rename(tmp_path / "runs.csv")
    (out / "runs.csv").symlink_to(tmp_path / "runs.csv")
    with pytest.raises(ResultsError, match="symbolic link"):
        clawsim.read_results(out)


def test_a_folder_with_files_clawsim_did_not_write_is_never_replaced(files):
    out = files / "o"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    for extra in ([], ["--force"]):
        one_line_error(cli(files / "sweep.yaml", "--out", out, *extra), "files clawsim did not write", "thesis.tex")
    assert (out / "thesis.tex").read_text() == "years of work"


# --------------------------------------------------------------------------- output paths


def test_out_on_a_file_under_a_file_and_under_proc(files):
    (files / "plain").write_text("x")
    one_line_error(cli(files / "sweep.yaml", "--out", files / "plain"), "is a file")
    one_line_error(cli(files / "sweep.yaml", "--out", files / "plain" / "sub"), "is a file")
    one_line_error(cli(files / "sweep.yaml", "--out", "/proc/clawsim-results"), "/proc")


@pytest.fixture
def read_only(tiny_fs, files):
    """A result folder on a file system then remounted read-only."""
    out = tiny_fs / "o"
    assert cli(files / "sweep.yaml", "--out", out).exit_code == 0
    if subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], capture_output=True).returncode != 0:
        pytest.skip("cannot remount read-only")
    return out


def test_run_and_report_on_a_read_only_folder(files, read_only):
    one_line_error(cli(files / "sweep.yaml", "--out", read_only), "Read-only file system")
    one_line_error(CliRunner().invoke(app, ["report", str(read_only)]), "Read-only file system")


def _parquet_without(folder: Path, column: str) -> None:
    """A folder as an older clawsim wrote it (no hashes in meta.json), whose table lacks ``column``."""
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "runs.parquet")
    pq.write_table(table.drop_columns([column]), folder / "runs.parquet")
    meta = json.loads((folder / "meta.json").read_text())
    del meta["files"]
    (folder / "meta.json").write_text(json.dumps(meta))


def test_report_on_a_table_without_the_sweeps_columns(files):
    out = files / "o"
    assert cli(files / "sweep.yaml", "--out", out, "--no-report").exit_code == 0
    _parquet_without(out, "list.rows")
    one_line_error(CliRunner().invoke(app, ["report", str(out)]), "missing columns: list.rows")


def _subprocess(*args, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "clawsim", *map(str, args)],
        env=env,
        text=True,
        capture_output="stdout" not in kwargs,
        timeout=120,
        **kwargs,
    )


@pytest.mark.slow
def test_stdout_full_or_closed_is_one_line_and_exit_2(files):
    with open("/dev/full", "w") as full:
        result = _subprocess(
            "run", files / "sweep.yaml", "--out", files / "o", "-f", "csv", stdout=full, stderr=subprocess.PIPE
        )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "clawsim: cannot write to stdout: No space left on device"
    closed = subprocess.run(
        f"{sys.executable} -m clawsim validate {files / 'sweep.yaml'} >&-",
        shell=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=False,
        text=True,
        stderr=subprocess.PIPE,
        timeout=60,
    )
    assert (
        closed.returncode == 2
        and closed.stderr.strip() == "clawsim: stdout is closed; redirect it to a file or /dev/null"
    )


def test_workers_above_the_core_count_are_capped_with_a_note(files):
    cores = len(os.sched_getaffinity(0))
    (files / "many.yaml").write_text(SWEEP.replace("replications: 2", "replications: 5"))  # 20 runs: a pool
    result = cli(files / "many.yaml", "--out", files / "o", "--no-report", "-w", cores + 7)
    assert result.exit_code == 0
    assert f"{cores + 7} workers asked for, but this machine has {cores} cores: using {cores}" in result.stderr
