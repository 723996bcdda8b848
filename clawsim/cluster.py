"""Dask: reach a scheduler within a bounded time, and notice when its workers are gone.

``connect(address, timeout_s)`` first asks the address for its identity over Dask's own
protocol, under one deadline: an empty address, an unknown scheme, a closed port, a port
where something that is not a Dask scheduler answers (or nothing answers) all end within
``timeout_s`` with one ExecutionError line. ``no_workers_watch`` is what a sweep asks when
no run has finished for a while: it ends the sweep once the cluster has had no worker for
``timeout_s`` (every worker died, or none was ever started).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from .errors import ExecutionError

TIMEOUT_S = 30.0  # default for --scheduler-timeout: connecting, and a cluster without workers


@dataclass(frozen=True)
class Cluster:
    """A connected Dask client, as what a sweep needs: an executor, a watch and a close."""

    address: str
    executor: Executor
    watch: Callable[[], str | None]
    close: Callable[[], None]


def connect(address: str, timeout_s: float = TIMEOUT_S) -> Cluster:
    """Connect to the Dask scheduler at ``address`` or raise ExecutionError within ``timeout_s``."""
    address = address.strip()
    if not address:
        raise ExecutionError("--scheduler: the address is empty; give the scheduler's address, e.g. tcp://HOST:8786")
    try:
        from distributed import Client
    except ImportError:
        raise ExecutionError("--scheduler needs Dask: pip install 'clawsim[dask]'") from None
    _check_scheduler(address, timeout_s)
    _quiet()
    try:
        client = Client(address, timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - whatever distributed raises, the user needs one line
        raise ExecutionError(f"cannot connect to the Dask scheduler at {address}: {_reason(exc)}") from None
    return Cluster(address, client.get_executor(pure=False), no_workers_watch(client, address, timeout_s), client.close)


def _quiet() -> None:
    """Keep Dask's own log lines (rescheduling, the cancelled tasks of a stopped sweep, with
    their tracebacks) off the user's terminal: clawsim says in one line what went wrong."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    logging.getLogger("tornado.application").setLevel(logging.CRITICAL)


def _check_scheduler(address: str, timeout_s: float) -> None:
    try:
        reply = asyncio.run(_identity(address, timeout_s))
    except TimeoutError:
        raise ExecutionError(
            f"the Dask scheduler at {address} did not answer within {timeout_s:g} s (--scheduler-timeout)"
        ) from None
    except OSError as exc:  # nothing listens there, or the host is unknown
        raise ExecutionError(f"cannot reach the Dask scheduler at {address}: {_reason(exc)}") from None
    except ValueError as exc:  # an unknown scheme or a malformed address
        raise ExecutionError(f"--scheduler {address}: {_reason(exc)}") from None
    except Exception:  # noqa: BLE001 - garbage on the port can make distributed raise anything
        raise ExecutionError(
            f"{address} answers, but not as a Dask scheduler (what it sent is not Dask's protocol)"
        ) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ExecutionError(f"{address} answers, but not as a Dask scheduler")


async def _identity(address: str, timeout_s: float) -> Any:
    from distributed.comm import connect as comm_connect

    # distributed gives up on a refused port after timeout_s (OSError: "cannot reach"); the
    # extra second lets it say so before our deadline, which catches what never answers.
    deadline = time.monotonic() + timeout_s + 1.0

    def left() -> float:
        return max(deadline - time.monotonic(), 0.001)

    comm = await asyncio.wait_for(comm_connect(address, timeout=timeout_s), left())
    try:
        await asyncio.wait_for(comm.write({"op": "identity"}), left())
        return await asyncio.wait_for(comm.read(), left())
    finally:
        comm.abort()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def no_workers_watch(client: Any, address: str, timeout_s: float) -> Callable[[], str | None]:
    """A watch (see ``clawsim.sweep.execute``): a reason to stop once ``client``'s cluster has
    had no worker (or its scheduler has not answered) for ``timeout_s``."""
    since: list[float | None] = [None]

    def watch() -> str | None:
        try:
            workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        except Exception:  # noqa: BLE001 - a scheduler that does not answer counts as no workers
            workers = 0
        if workers:
            since[0] = None
            return None
        first = since[0] = since[0] or time.monotonic()
        if time.monotonic() - first < timeout_s:
            return None
        return f"the Dask cluster at {address} has had no worker for {timeout_s:g} s (--scheduler-timeout)"

    return watch


def executor_watch(executor: Executor, timeout_s: float = TIMEOUT_S) -> Callable[[], str | None] | None:
    """The no-worker watch of a Dask client's executor (``Client.get_executor()``), else None."""
    client = getattr(executor, "_client", None)
    if client is None or type(client).__name__ != "Client":
        return None
    return no_workers_watch(client, str(getattr(client.scheduler, "address", "the scheduler")), timeout_s)
