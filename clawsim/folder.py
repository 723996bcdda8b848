"""Result folders on disk: one writer at a time, replaced as a whole, no link ever followed.

Everything clawsim keeps beside a result folder ``OUT`` lives in OUT's parent:

    .OUT.lock          flock()ed by the one clawsim writing OUT; holds its pid
    .OUT.new-XXXXXX    the next result set while it is written
    .OUT.ready-XXXXXX  the next result set, complete
    .OUT.old-XXXXXX    the previous OUT while it is deleted

``replace`` writes the whole set into ``.OUT.new-*``, renames it ``.OUT.ready-*`` (complete),
renames OUT aside to ``.OUT.old-*``, renames the ready set to OUT and deletes the old one.
The stop signals (SIGINT, SIGTERM, SIGHUP) are held back during the two renames. A crash (SIGKILL, power loss)
leaves one of these states, which the next writer repairs under the lock (``recover``):

- while the set is written: OUT is untouched; the ``.new-*`` folder is deleted.
- after ``.ready-*``, before or after OUT went aside: the ready set is complete, so it is
  swapped in (rolled forward); until then a reader sees the old OUT or, between the two
  renames, no OUT at all ("no such folder"), never a mix.
- after the swap: the ``.old-*`` folder is deleted.

A stale lock (its holder was killed) is free: the kernel drops a dead process's flock.

Without ``--out``, each what-if has its own folder, ``results/<name>/<hash>/`` (``hash``: the
first 8 hex digits of the SHA-256 of the resolved scenario, as meta.json's fingerprint
starts), so ``--set``, ``--seed`` or ``-n`` never replace another what-if's results; the
file ``results/<name>/latest`` names the hash folder of the last run there, and
``clawsim report results/<name>`` or ``read_results`` follow it (``latest``).

Every clawsim command that writes goes through this: ``run`` replaces a result folder;
``report`` and ``trace`` ``update`` one (its other files carried over as hard links, so the
old folder stays whole until the swap); ``fit -o`` holds the lock of its output file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from .errors import STOP_SIGNALS, ResultsError

DEFAULT_ROOT = Path("results")  # ``clawsim run`` writes to DEFAULT_ROOT/<name>/<hash> unless told otherwise
LATEST = "latest"  # DEFAULT_ROOT/<name>/latest: the hash folder of the last run of that scenario name

T = TypeVar("T")
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def _link_error(path: Path) -> ResultsError:
    return ResultsError(
        f"{path}: is a symbolic link; clawsim never follows links in a result folder "
        "(remove it or choose another --out)"
    )


def open_fd(path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that refuses a symbolic link at ``path`` (ResultsError) instead of following it."""
    try:
        return os.open(path, flags | _NOFOLLOW, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _link_error(path) from None
        raise


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file, never through a link; OSError (e.g. FileNotFoundError) as usual."""
    fd = open_fd(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def is_link(path: Path) -> bool:
    return os.path.islink(path)


def check_target(out: Path) -> None:
    """Refuse an ``--out`` that cannot be a result folder: a link, a file, or no parent folder."""
    if out.name in ("", ".", ".."):
        raise ResultsError(f"{out}: not a folder name clawsim can replace; name the result folder itself")
    if is_link(out):
        raise _link_error(out)
    if out.exists() and not out.is_dir():
        raise ResultsError(f"{out}: is a file, not a result folder; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ResultsError(f"{out}: cannot create it: a part of {out.parent} is a file") from None
    except NotADirectoryError:
        raise ResultsError(f"{out}: cannot create it: a part of {out.parent} is a file") from None


def latest(folder: Path) -> Path:
    """``folder``, or the what-if its ``latest`` file names when it is a scenario's folder of
    what-ifs (``results/<name>/``); a result folder never holds a file called ``latest``."""
    pointer = folder / LATEST
    if is_link(pointer) or not pointer.is_file():
        return folder
    name = read_bytes(pointer).decode("utf-8", "replace").strip()
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise ResultsError(f"{pointer}: does not name a result folder beside it; rerun `clawsim run`")
    return folder / name


def _sibling(out: Path, kind: str) -> Path:
    return out.parent / f".{out.name}.{kind}"


@contextlib.contextmanager
def locked(out: Path, instead: str = "choose another --out") -> Iterator[int | None]:
    """Hold the exclusive lock of ``out`` (a folder or a file; ResultsError naming the holder's
    pid if another clawsim holds it, and suggesting ``instead``); yields the pid of a dead
    holder whose stale lock was taken over, or None."""
    path = _sibling(out, "lock")
    try:
        fd, stale = _acquire(path, out, instead)
    except OSError as exc:  # a read-only or full file system
        raise ResultsError(
            f"{out}: cannot write its lock {path.name}: {exc.strerror or exc}; {out} is as it was"
        ) from None
    try:
        yield stale
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still held: a waiter that opened this inode re-checks and retries
        os.close(fd)


@contextlib.contextmanager
def held(out: Path, say: Callable[[str], None] | None = None, instead: str = "choose another --out") -> Iterator[None]:
    """Hold the lock of ``out`` (see ``locked``) with the leftovers of a killed writer repaired
    (see ``recover``); ``say`` hears of a stale lock taken over and of each repair."""
    with locked(out, instead) as stale:
        if stale is not None and say is not None:
            say(f"took over the lock of {out} left by pid {stale}, which is no longer running")
        repaired = recover(out)
        if repaired and say is not None:
            say(repaired)
        yield


def _acquire(path: Path, out: Path, instead: str) -> tuple[int, int | None]:
    while True:
        fd = open_fd(path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _pid(fd)
            os.close(fd)
            raise ResultsError(
                f"{out}: another clawsim (pid {holder}) is writing it; wait for it to finish"
                + (f" or {instead}" if instead else "")
            ) from None
        try:
            same = os.path.samestat(os.fstat(fd), os.lstat(path))
        except FileNotFoundError:
            same = False
        if not same:  # the holder unlinked it as we opened it: lock the new file instead
            os.close(fd)
            continue
        stale = _pid(fd)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:  # a full disk: leave no lock file behind
            os.unlink(path)
            os.close(fd)
            raise
        return fd, stale


def _pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _leftovers(out: Path, kind: str) -> list[Path]:
    prefix = f".{out.name}.{kind}-"
    try:
        return sorted(p for p in out.parent.iterdir() if p.name.startswith(prefix))
    except FileNotFoundError:
        return []


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def recover(out: Path) -> str | None:
    """Repair what a crashed ``replace`` (or a killed write of the file ``out``) left beside
    ``out`` (call it holding the lock); returns a sentence saying what was repaired, or None."""
    said = None
    for path in _leftovers(out, "new"):
        _remove(path)
    ready = _leftovers(out, "ready")
    for extra in ready[:-1]:
        _remove(extra)
    if ready:
        _swap(out, ready[-1])
        said = f"{out}: finished the swap of a result set that a killed clawsim had completed"
    for path in _leftovers(out, "old"):
        _remove(path)
    for path in out.parent.glob(f".{glob.escape(out.name)}.*.tmp"):  # a killed write of a file OUT
        path.unlink(missing_ok=True)
    return said


def replace(out: Path, build: Callable[[Path], T]) -> T:
    """Write a whole result set with ``build(folder)`` into a fresh sibling folder, then swap it
    in for ``out`` (see the module docstring). On any error or Ctrl-C before the swap, ``out``
    is untouched and the unfinished set is deleted."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        result = build(staging)
        _sync_tree(staging)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700 folders; results are ordinary folders
        ready = _sibling(out, "ready-" + staging.name.rsplit("-", 1)[1])
        os.rename(staging, ready)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap(out, ready)
    return result


def update(out: Path, carry: Callable[[str], bool], build: Callable[[Path], T], instead: str = "") -> T:
    """Replace ``out`` (created if missing) under its lock by a new set: the entries of ``out``
    whose name ``carry`` accepts, then what ``build(folder)`` adds (see ``replace``). Entries
    are carried as hard links (clawsim never changes a file in place), copied where the file
    system has none. ResultsError if another clawsim holds ``out`` (suggesting ``instead``), or
    for an OSError (a full disk, a read-only folder): one line naming the file, ``out`` as it was."""
    check_target(out)

    def carried(staging: Path) -> T:
        for name in sorted(os.listdir(out)) if out.is_dir() else []:
            if carry(name):
                _carry(out / name, staging / name)
        return build(staging)

    try:
        with held(out, instead=instead):
            return replace(out, carried)
    except OSError as exc:
        raise ResultsError(cannot_write(out, exc)) from None


def cannot_write(out: Path, exc: OSError) -> str:
    """The line for a write into ``out`` that failed: which file, why, and that ``out`` is intact."""
    name = Path(exc.filename).name if exc.filename else "the new set"
    return f"{out}: cannot write {name}: {exc.strerror or exc}; {out} is as it was"


def _carry(source: Path, target: Path) -> None:
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, copy_function=_link)
    else:
        _link(source, target)


def _link(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        shutil.copy2(source, target, follow_symlinks=False)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold the stop signals back for a step that must happen whole (they arrive after it).

    Blocking them in this thread is not enough where other threads run (a process pool's):
    the kernel hands the signal to one of those, and Python then runs the handler in the
    main thread between any two bytecodes of the step. So in the main thread the handlers
    are swapped for one that only notes the signal, which is raised again after the step."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    previous = {stop: signal.getsignal(stop) for stop in STOP_SIGNALS}
    for stop, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(stop, lambda signum, _frame: noted.append(signum))
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler if handler is not None else signal.SIG_DFL)
        if noted:
            signal.raise_signal(noted[0])


def _swap(out: Path, ready: Path) -> None:
    old = None
    with signals_held():
        if out.exists() or out.is_symlink():
            old = _sibling(out, "old-" + ready.name.rsplit("-", 1)[1])
            os.rename(out, old)
        os.rename(ready, out)
        _fsync_dir(out.parent)
    if old is not None:
        _remove(old)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sync_tree(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_file() and not entry.is_symlink():
            fd = os.open(entry, os.O_RDONLY | _NOFOLLOW)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
