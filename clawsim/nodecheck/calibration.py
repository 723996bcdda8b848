"""Calibration: this machine's Node costs beyond the busy-waits, measured through the harness.

``calibrate`` measures; ``calibration_yaml`` / ``load_calibration`` write and read it;
``cached_calibration`` measures once per ``(node, realtime)`` in a process;
``apply_calibration`` adds the overheads to a scenario's costs. All in milliseconds.
"""

from __future__ import annotations

import copy
import platform
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import NodeCheckError
from ..scenario import Scenario, distribution
from .harness import Record, find_node, node_version, run_resolved

#: A calibration as ``calibrate`` returns it: ``loop``, ``overhead_ms``, ``clock``, ``node``, ``host``.
Calibration = dict[str, Any]

CAL_ROW_MS = 0.01  # the busy-wait of one calibration row
FLIPPER = [{"name": "flipper", "kind": "immediate"}]
IO_ROWS, IO_LATENCY_MS = 40, 1.0  # the awaited-read scenarios: reads, and each one's latency

# Measures one calibration scenario: (the median of ``key`` over its lists, its records).
Measure = Callable[..., tuple[float, list[Record]]]


def _calibration_scenario(name: str, **fields: Any) -> Scenario:
    memo = fields.pop("memo", {"policy": "lru", "scan_ms": 0.05})
    actors = fields.pop("actors", [])
    registry = {"fix": fields.pop("fix", "none")}
    lst = {"rows": 2000, "yield_every": 0, "lookups_per_row": 0, "row_cost_ms": CAL_ROW_MS, "count": 7, **fields}
    return Scenario.model_validate({"name": name, "list": lst, "memo": memo, "actors": actors, "registry": registry})


def _median(records: list[Record], key: str) -> float:
    """The median over a run's lists, the first (the coldest) left out."""
    return statistics.median(r[key] for r in (records[1:] if len(records) > 2 else records))


def calibrate(node: str | None = None, realtime: bool = False) -> Calibration:
    """Measure this machine's Node and return the cost parameters that make clawsim match it.

    Runs small scenarios through the harness (CPU clock; each list 7 times, the median of
    the last 6 kept) and solves for (all in ms):

    - ``loop.iteration_ms``: a bare loop iteration (timers, poll, check) whose check phase
      dispatches one immediate: measured while a list awaits I/O and an immediate actor
      flips on every iteration (the wait divided by the flips, less the activation);
    - ``overhead_ms.row``: the JavaScript of one row beyond its busy-wait (loop, getter,
      the busy-wait's own clock reads);
    - ``overhead_ms.hit`` / ``hit_pinned`` / ``scan``: one memo lookup that hits (outside,
      inside a pin: the AsyncLocalStorage read) or misses, beyond its busy-wait;
    - ``overhead_ms.yield`` / ``yield_pinned``: a row loop's ``await setImmediate`` round
      trip beyond a bare iteration (the promise and its continuation; inside a pin, the
      async hooks too): clawsim has no per-yield cost, so it goes into the rows;
    - ``overhead_ms.activation``: one immediate actor's activation and re-arm;
    - ``overhead_ms.io`` / ``io_busy``: one awaited I/O beyond its latency (a worker wakes,
      writes the FIFO, a pool thread's read completes), in wall time, with an idle loop /
      with an immediate actor spinning it; ``io_hop`` / ``io_hop_busy``: the same less the
      device's own lateness (``compare`` adds the lateness each run measured).

    ``apply_calibration`` adds these to a scenario's costs; ``compare`` does it for you.
    ``realtime``: measure under ``chrt -f 5`` (see ``run_node``).
    """
    node = node or find_node()

    def measure(name: str, key: str = "list_cpu_ms", **fields: Any) -> tuple[float, list[Record]]:
        records = run_resolved(_calibration_scenario(name, **fields), node=node, realtime=realtime)
        return _median(records, key), records

    over = _cpu_overheads(measure)
    io = _io_overheads(measure, over["row"], over["activation"])
    iteration = io.pop("iteration")
    for name in ("yield", "yield_pinned"):  # the round trip less the bare iteration clawsim already counts
        over[name] = max(0.0, over[name] - iteration)
    return {
        "loop": {"iteration_ms": round(iteration, 6)},
        "overhead_ms": {name: round(value, 6) for name, value in {**over, **io}.items()},
        "clock": "cpu",
        "node": node_version(node),
        "host": f"{platform.node()} {platform.machine()}",
    }


def _cpu_overheads(measure: Measure) -> dict[str, float]:
    """Rows, hits, scans, yields (whole round trips: ``calibrate`` takes the bare iteration off) and
    activations, in CPU ms."""
    n = 2000
    base, _ = measure("cal-rows", rows=n)
    row = max(0.0, (base - n * CAL_ROW_MS) / n)
    hits, _ = measure("cal-hits", rows=n, lookups_per_row=2)
    hits_pinned, _ = measure("cal-hits-pinned", rows=n, lookups_per_row=2, fix="pin")
    m = 500
    scans, _ = measure("cal-scans", rows=m, lookups_per_row=2, memo={"policy": "none", "scan_ms": 0.05})
    y = 1000
    yields, _ = measure("cal-yields", rows=y + 1, yield_every=1)
    yields_pinned, _ = measure("cal-yields-pinned", rows=y + 1, yield_every=1, fix="pin")
    flipped, _ = measure("cal-actor", rows=y + 1, yield_every=1, actors=FLIPPER)
    return {  # in the order of the calibration's overhead_ms
        "row": row,
        "hit": max(0.0, (hits - base) / (2 * n - 2)),
        "hit_pinned": max(0.0, (hits_pinned - base) / (2 * n - 2)),
        "scan": max(0.0, (scans - m * (CAL_ROW_MS + row) - 2 * m * 0.05) / (2 * m)),
        "yield": (yields - (y + 1) * (CAL_ROW_MS + row)) / y,
        "yield_pinned": (yields_pinned - (y + 1) * (CAL_ROW_MS + row)) / y,
        "activation": max(0.0, (flipped - yields) / y),
    }


def _io_overheads(measure: Measure, row: float, activation: float) -> dict[str, float]:
    """Awaited reads beyond their latency (wall ms), and the bare loop iteration they reveal."""
    k, latency = IO_ROWS, IO_LATENCY_MS
    reads = {"rows": k, "latency_ms": latency}
    io_idle, _ = measure("cal-io", "list_ms", rows=k, per_row_io=reads)
    _, idle = measure("cal-io-hop", rows=k, per_row_io=reads)
    _, busy = measure("cal-io-busy", rows=k, per_row_io=reads, actors=FLIPPER)

    def hop(records: list[Record]) -> float:
        """A read's hop beyond the device's lateness: the pool thread's read, the async wake-up."""
        return max(
            0.0,
            statistics.median(
                (r["io_ms_total"] - r["io_late_ms"]) / r["io_writes"] - latency for r in records[1:] if r["io_writes"]
            ),
        )

    waits = [r["io_ms_total"] for r in busy[1:]]
    per_flip = statistics.median(r["io_ms_total"] / max(r["flips"], 1) for r in busy[1:])
    return {
        "io": max(0.0, (io_idle - k * (CAL_ROW_MS + row + latency)) / k),
        "io_busy": max(0.0, statistics.median(waits) / k - latency),
        "io_hop": hop(idle),
        "io_hop_busy": hop(busy),
        "iteration": max(1e-6, per_flip - activation),
    }


def calibration_yaml(calibration: Calibration) -> str:
    """The calibration as YAML, with a header saying what each block is for."""
    import yaml

    head = (
        f"# clawsim calibrate: Node {calibration.get('node', '?')} on {calibration.get('host', '?')}, "
        f"{calibration.get('clock', 'cpu')} clock.\n"
        "# loop: paste into a scenario to simulate this machine's event loop.\n"
        "# overhead_ms: added to a scenario's costs by `clawsim check-node --calibration FILE`\n"
        "# (row and yield / yield_every -> list.row_cost_ms, hit -> memo.hit_ms, scan -> memo.scan_ms,\n"
        "# activation -> each actor's work_ms, io (io_busy with an immediate actor) ->\n"
        "# list.per_row_io.latency_ms; the *_pinned ones with registry.fix: pin). All in ms.\n"
    )
    return head + yaml.safe_dump(calibration, sort_keys=False)


def load_calibration(path: str | Path) -> Calibration:
    """A calibration written by ``calibration_yaml`` (``clawsim calibrate``)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise NodeCheckError(f"{path}: cannot read a calibration: {exc}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("loop", {}), dict)
        or not isinstance(data.get("overhead_ms", {}), dict)
    ):
        raise NodeCheckError(f"{path}: not a calibration (expected 'loop' and 'overhead_ms' mappings)")
    return data


# Calibrations measured in this process, by (node executable, realtime).
_CACHE: dict[tuple[str, bool], Calibration] = {}


def cached_calibration(node: str | None = None, realtime: bool = False) -> Calibration:
    """``calibrate(node, realtime)`` once per process for each ``(node, realtime)``; a copy each call.

    ``node=None`` is the PATH's node, so it shares its entry with that node's path.
    """
    key = (node or find_node(), realtime)
    if key not in _CACHE:
        _CACHE[key] = calibrate(*key)
    return copy.deepcopy(_CACHE[key])


def apply_calibration(scenario: Scenario, calibration: Calibration, io_measured: bool = False) -> Scenario:
    """The scenario with the machine's measured overheads added to its costs.

    ``loop.iteration_ms`` is replaced. Added: to ``list.row_cost_ms`` the row overhead and
    a yield's overhead spread over the ``yield_every`` rows of a batch; to ``memo.hit_ms``
    the hit overhead; to a fixed ``memo.scan_ms`` the scan overhead (a distribution is left
    as is: microseconds against milliseconds); to each actor's ``work_ms`` the activation;
    to ``per_row_io.latency_ms`` the I/O overhead (``io_busy`` when an immediate actor keeps
    the loop spinning; not with ``io_measured``, when the caller sets the read latency from
    a measurement). The pinned variants apply with ``registry.fix: pin``. An empty
    calibration changes nothing.
    """
    if not calibration:
        return scenario
    over = calibration.get("overhead_ms", {})
    pinned = scenario.registry.pinned
    lst, memo = scenario.list, scenario.memo
    values: dict[str, Any] = {}
    if "iteration_ms" in calibration.get("loop", {}):
        values["loop.iteration_ms"] = calibration["loop"]["iteration_ms"]
    per_yield = over.get("yield_pinned" if pinned else "yield", 0.0)
    values["list.row_cost_ms"] = lst.row_cost_ms + (
        over.get("row", 0.0) + (per_yield / lst.yield_every if lst.yield_every else 0.0)
    )
    if lst.per_row_io and not io_measured:
        io_over = over.get("io_busy" if scenario.spinning else "io", 0.0)
        values["list.per_row_io.latency_ms"] = lst.per_row_io.latency_ms + io_over
    values["memo.hit_ms"] = memo.hit_ms + over.get("hit_pinned" if pinned else "hit", 0.0)
    scan = distribution(memo.scan_ms)
    if not scan.drawn:
        values["memo.scan_ms"] = scan.mean + over.get("scan", 0.0)
    for i, actor in enumerate(scenario.actors):
        values[f"actors.{i}.work_ms"] = actor.work_ms + over.get("activation", 0.0)
    return scenario.with_values(values)
