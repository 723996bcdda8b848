"""Every error clawsim raises on purpose derives from ``ClawsimError``.

``str()`` of each is one line a user can act on (it names the file, line and field, or the
folder and what is wrong); the CLI prints it after ``clawsim:`` and exits with the class's
``exit_code``. Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

import signal

# The signals that stop clawsim: Ctrl-C, `kill`/`timeout`/a scheduler, a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ClawsimError(Exception):
    """Base class of clawsim's errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 2


class ScenarioError(ClawsimError, ValueError):
    """A scenario file that cannot be used; ``str()`` names file, line and field."""


class ResultsError(ClawsimError):
    """A result folder that cannot be read or written; ``str()`` says which file and why."""


class ResumeError(ClawsimError):
    """A journal or result folder that ``--resume`` cannot vouch for."""


class ReportError(ClawsimError):
    """A result folder that gives nothing to chart; ``str()`` says why."""


class NodeCheckError(ClawsimError, RuntimeError):
    """Node.js could not run the check (not installed, crashed, timed out, bad output)."""


class NotAnalytic(ClawsimError, ValueError):
    """The scenario is outside every closed form; ``str()`` names the reason."""


class NotExplorable(ClawsimError, ValueError):
    """The scenario is outside what ``clawsim explore`` searches; ``str()`` names the reason."""


class ScheduleError(ClawsimError, ValueError):
    """A schedule file that does not fit its scenario; ``str()`` names the file and the choice."""


class UsageError(ClawsimError, TypeError):
    """The Python API was called with arguments of the wrong kind."""


class FitError(ClawsimError):
    """A file that cannot be fitted: not a timeline, no lists, or no scan spans."""


class ExecutionError(ClawsimError):
    """The workers could not run the sweep (Dask scheduler unreachable or not Dask, workers
    gone, a pool worker killed); ``str()`` says what happened and what was kept."""


class Interrupted(KeyboardInterrupt):
    """A stop signal (SIGINT, SIGTERM or SIGHUP, ``signum``) ended the work.

    ``kept`` says what was kept ("kept 12 of 48 finished runs in o/journal.jsonl"), and
    ``resumable`` whether ``--resume`` (``resume=True``) continues from it; ``str()`` is one
    line saying all three. The CLI exits 128 + ``signum`` (130, 143, 129)."""

    def __init__(self, kept: str = "", signum: int = signal.SIGINT, resumable: bool = False):
        super().__init__(kept)
        self.kept, self.signum, self.resumable = kept, int(signum), resumable

    def line(self, resume: str = "rerun with --resume to continue") -> str:
        """The one line to print; ``resume`` is how to continue (used when ``resumable``)."""
        parts = [f"stopped by {signal.Signals(self.signum).name}", self.kept]
        return "; ".join([p for p in parts if p] + ([resume] if self.resumable else []))

    def __str__(self) -> str:
        return self.line()


def signal_of(exc: BaseException) -> int:
    """The stop signal behind a KeyboardInterrupt (an Interrupted's, else SIGINT)."""
    return exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
