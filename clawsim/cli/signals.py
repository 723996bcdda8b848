"""How every clawsim command stops: one policy for SIGINT, SIGTERM and SIGHUP, and a closed stdout.

- A stop signal (Ctrl-C; ``kill``, ``timeout``, systemd or a batch scheduler; a closed
  terminal) raises ``Interrupted`` in the command wherever it is. A sweep keeps every finished
  run in its journal and says how many, with the command that resumes it; the other commands
  write each file whole (``clawsim.folder``), so they stop leaving nothing half-written. The
  exit status is 128 + the signal: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP).
- A signal the command was started with ignored stays ignored: a shell starts a background job
  (``clawsim run ... &`` in a script) with SIGINT ignored, and ``nohup`` ignores SIGHUP. Stop
  such a job with SIGTERM (``kill PID``), which it always obeys.
- A closed stdout (``clawsim run ... | head -1``) ends the command quietly with status 141
  (128 + SIGPIPE), as a Unix tool killed by SIGPIPE does.

``stopping()`` installs the policy for the duration of a command (the command group's
``invoke`` wraps every command in it; a new command gets it by being registered on ``app``).
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import threading
from collections.abc import Iterator, Sequence
from types import FrameType

from ..errors import STOP_SIGNALS, Interrupted

BROKEN_PIPE_STATUS = 128 + signal.SIGPIPE


_received: list[int] = []  # the stop signals delivered under ``stopping()``, first first


def _stop(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Interrupted(signum=signum)


def received() -> int | None:
    """The first stop signal delivered while the current command ran under ``stopping()``, or
    None. An error raised after one is that stop's doing, not a bug: a library that was running
    when ``Interrupted`` was raised may turn it into its own error (a C extension's import says
    "initialization failed", matplotlib an "Invalid bounding box")."""
    return _received[0] if _received else None


@contextlib.contextmanager
def stopping() -> Iterator[None]:
    """Turn each stop signal that is not ignored into ``Interrupted`` while the block runs
    (outside the main thread, where Python cannot install handlers, nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    previous = {stop: signal.getsignal(stop) for stop in STOP_SIGNALS}
    for stop, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(stop, _stop)
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler if handler is not None else signal.SIG_DFL)


def status(exc: KeyboardInterrupt) -> int:
    """The exit status of a command ended by ``exc``: 128 + its signal (a bare
    KeyboardInterrupt is SIGINT's)."""
    return 128 + (exc.signum if isinstance(exc, Interrupted) else signal.SIGINT)


def resume_command(argv: Sequence[str] | None) -> str | None:
    """The command that continues a stopped ``clawsim ARGV``: the same arguments with
    ``--resume`` (and without ``--force``, which would discard what was kept)."""
    if not argv:
        return None
    args = [a for a in argv if a != "--force"]
    if "--resume" not in args:
        args.append("--resume")
    return "clawsim " + shlex.join(args)
