"""The ``clawsim`` command: it parses options, calls the Python API and prints.

Exit codes: 0 success, 1 a check failed (``check-node``), 2 bad input (a scenario, a
timeline, a result folder or an option), 128 + the signal when stopped (130 SIGINT, 143
SIGTERM, 129 SIGHUP; ``signals`` says how every command stops), 141 when stdout was closed
(``| head``). Errors become exit codes in one place, the command group's ``invoke``. Each command lives in its own module and imports
what it needs when it runs, so ``clawsim --help`` starts without pandas or matplotlib.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import ClawsimError, Interrupted
from ..folder import DEFAULT_ROOT
from .signals import BROKEN_PIPE_STATUS, received, resume_command, status, stopping

_started = time.perf_counter()  # when the command started (reset as each command is invoked)


def elapsed_s() -> float:
    """Seconds since the command started: the wall time a user waited, imports and report included."""
    return time.perf_counter() - _started


HELP = f"""\
clawsim simulates openclaw's `sessions.list` racing concurrent `setActivePluginRegistry`
calls on Node's event loop: a memo keyed on a mutable global misses after every yield,
and each miss is a synchronous full scan. Times are milliseconds of simulated time.

A scenario is a YAML file (every field: the README's format reference, or `clawsim schema`):

    name: pr90819-harness
    memo: {{policy: lru, capacity: 8, scan_ms: 2.5}}
    list: {{rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}}
    actors:
      - {{name: flipper, kind: immediate, workspaces: unique}}
    sweep:
      registry.fix: [none, pin]

**Start here**

    # check a file, print its run plan
    clawsim validate scenarios/pr90819-harness.yaml
    # 40 scans without the pin, 2 with it
    clawsim run scenarios/pr90819-harness.yaml
    clawsim run FILE --set list.rows=500 --sweep actors.0.rate_per_s=1,10
    # one run as a timeline and a picture
    clawsim trace scenarios/pr90819-harness.yaml
    # a scenario from your gateway
    clawsim fit gateway.timeline.jsonl -o mine.yaml
    # editor completion for scenarios
    clawsim schema > clawsim.schema.json

Results go to {DEFAULT_ROOT}/NAME/HASH/, one folder per what-if (NAME: the scenario's name;
HASH: of the resolved scenario; {DEFAULT_ROOT}/NAME/latest names the last), unless --out
says otherwise.
"""


_ARGV = "clawsim.argv"  # the command line's arguments, in the context's meta (for the resume command)


class _Commands(TyperGroup):
    """The command group; its ``invoke`` runs every command under the stop policy
    (``signals.stopping``) and is the one place where errors become exit codes."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        argv = list(args)
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta[_ARGV] = argv
        return ctx

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_flags(command, ctx)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _plain_flags(self, ctx)
        super().format_help(ctx, formatter)

    def invoke(self, ctx: Any) -> Any:
        try:
            with stopping():
                return super().invoke(ctx)
        except (ClawsimError, KeyboardInterrupt, OSError) as exc:
            raise typer.Exit(exit_code(exc, ctx.meta.get(_ARGV))) from None
        except Exception:
            if (signum := received()) is None:
                raise  # a bug: its traceback
            raise typer.Exit(exit_code(Interrupted(signum=signum), ctx.meta.get(_ARGV))) from None


def _plain_flags(command: Any, ctx: Any) -> None:
    """A flag takes no value: --help shows no ``<bool>`` type beside it."""
    for param in command.get_params(ctx):
        if getattr(param, "is_flag", False):
            param.metavar = ""


def exit_code(exc: BaseException, argv: list[str] | None = None) -> int:
    """Print ``clawsim: <what happened>`` on stderr and return the exit code: a ClawsimError's
    ``exit_code`` (2); 128 + the signal for a stop signal (with the command that resumes a
    sweep, from ``argv``); 141, silently, for a closed stdout; 2 for stdout that cannot be
    written. Any other error is a bug and is re-raised with its traceback."""
    if isinstance(exc, ClawsimError):
        _stderr(f"clawsim: {exc}")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        if not isinstance(exc, Interrupted):
            exc = Interrupted()
        command = resume_command(argv)
        _stderr(f"clawsim: {exc.line(f'resume with: {command}') if command else exc.line()}")
        return status(exc)
    if isinstance(exc, BrokenPipeError):  # the reader went away (`| head`): not an error of ours
        _silence_stdout()
        return BROKEN_PIPE_STATUS
    if isinstance(exc, OSError) and exc.filename is None:  # a write to stdout: closed, full or a broken pipe
        _stderr(f"clawsim: cannot write to stdout: {exc.strerror or exc}")
        _silence_stdout()
        return 2
    if isinstance(exc, OSError):  # a file named on the command line that cannot be read or written
        _stderr(f"clawsim: {exc.filename}: {exc.strerror or exc}")
        return 2
    raise exc


def _stderr(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass  # stderr itself is closed: the exit code is all that is left


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"clawsim {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """clawsim: a deterministic discrete-event simulator of sessions.list under concurrency."""
    global _started
    _started = time.perf_counter()


def main() -> None:
    """Console entry point: refuses a closed stdout, and flushes stdout before exiting, so that
    a full disk or a closed pipe behind it is one line and exit 2, never a traceback."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            if fd == 1:  # without this, the first file clawsim opens would become fd 1
                _stderr(f"clawsim: {name} is closed; redirect it to a file or /dev/null")
            sys.exit(2)
    try:
        app()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
    except KeyboardInterrupt as exc:  # Ctrl-C before a command started (while parsing options)
        code = exit_code(exc)
    try:
        sys.stdout.flush()
    except OSError as exc:
        code = exit_code(exc)
    sys.exit(code)


# The commands register themselves on ``app`` when imported.
from . import inspect, run, explore, trace, report, fit, node  # noqa: E402,F401,I001  (the order of --help)

__all__ = ["app", "exit_code", "main"]
