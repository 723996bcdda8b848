"""The scenario schema: strict pydantic models and the facts they know about themselves.

Strict mode with unknown keys rejected, so ``yield_every: no`` (YAML 1.1 reads it as
``False``) is an error rather than a silent 0. Consumers read derived facts from the
properties here (``ListSpec.row_lookups``, ``Scenario.active_actors``, ``ActorBase.spins``,
``Scenario.dimensions``...) instead of re-deriving them. All times are milliseconds of
simulated time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..errors import ScenarioError
from .bounds import MAX_ACTOR_COPIES, MAX_COUNT, MAX_LISTS_PER_RUN, Count, Ms, PerSecond, PositiveCount, PositiveMs
from .costs import CostMs
from .messages import one_line
from .names import check_folder_name
from .paths import PathError, derived
from .policy import MemoPolicy, PolicyName, memo_policy
from .strict import Strict
from .workspaces import Workspaces, WorkspacesField

PAIRED_DIMENSIONS = ("variant", "registry.fix")  # see Scenario.paired_dimensions


def cross(message: str, *fields: str) -> PydanticCustomError:
    """The error of a rule that ties fields together, raised by a model validator: ``fields``
    are dotted paths from the scenario's top, the first one the culprit; the loader reports
    the error on the first field's line and names the other fields' lines."""
    return PydanticCustomError("cross_field", "{message}", {"message": message, "fields": fields})


class PerRowIO(Strict):
    """An awaited I/O (the transcript read) after each of the first ``rows`` rows."""

    rows: Count = Field(description="how many of the list's first rows await the I/O (at most list.rows take effect)")
    latency_ms: PositiveMs = Field(description="latency of each awaited I/O (ms); the loop is free meanwhile")


class ListSpec(Strict):
    """The ``sessions.list`` calls: their row loop and how they are started."""

    rows: PositiveCount = Field(
        default=100, description="rows per list (openclaw's SESSIONS_LIST_DEFAULT_LIMIT is 100)"
    )
    yield_every: Count = Field(
        default=10,
        description="a setImmediate yield before row i when i > 0 and i % yield_every == 0; 0 = never yields",
    )
    lookups_per_row: Count = Field(
        default=2, description="plugin-metadata lookups per row; lookup j uses memo key (workspace, j)"
    )
    row_cost_ms: Ms = Field(default=0.28, description="synchronous work per row besides its lookups (ms)")
    setup_ms: CostMs = Field(
        default=0.0,
        description="synchronous work once per list before its rows (ms; store load, lookups besides the rows'): "
        "a number or a distribution like memo.scan_ms",
    )
    lookup_mode: Literal["per_row", "hoisted", "prepared"] = Field(
        default="per_row",
        description="per_row: every row looks up; hoisted: once per list, before the rows; "
        "prepared: a snapshot threaded in, no lookups",
    )
    per_row_io: PerRowIO | None = Field(
        default=None, description="optional: the first rows each await an I/O (a transcript read) [default: none]"
    )
    count: PositiveCount = Field(default=1, description="lists per run, back to back (or gap_ms apart)")
    gap_ms: Ms | None = Field(
        default=None,
        description="a setTimeout of this many ms between one list's end and the next start [default: none]",
    )
    poll_every_ms: PositiveMs | None = Field(
        default=None,
        description="a polling client: a list every poll_every_ms (setInterval; lists may overlap); needs duration_ms",
    )
    duration_ms: PositiveMs | None = Field(
        default=None, description="how long the polling client polls (ms); needs poll_every_ms"
    )
    start_ms: Ms = Field(default=0.0, description="when the first list request arrives (ms; from I/O, in a poll phase)")

    @model_validator(mode="after")
    def _one_start_mode(self) -> ListSpec:
        polling = self.poll_every_ms is not None or self.duration_ms is not None
        if polling and (self.poll_every_ms is None or self.duration_ms is None):
            raise ValueError("poll_every_ms and duration_ms go together")
        if polling and (self.count != 1 or self.gap_ms is not None):
            raise ValueError("use either count/gap_ms or poll_every_ms/duration_ms, not both")
        if self.lists_per_run > MAX_LISTS_PER_RUN:
            field = "list.duration_ms" if self.polled else "list.count"
            raise cross(
                f"a run would start {self.lists_per_run} lists; at most {MAX_LISTS_PER_RUN} (each list is one record)",
                field,
            )
        return self

    @property
    def lists_per_run(self) -> int:
        """Lists a run starts at most: ``count``, or one per poll over ``duration_ms`` plus the first
        (a poll period is whole milliseconds, at least 1, as Node's timers make it)."""
        if self.poll_every_ms is None or self.duration_ms is None:
            return self.count
        return int(self.duration_ms // max(1, math.trunc(self.poll_every_ms))) + 1

    @property
    def row_lookups(self) -> int:
        """Lookups each row makes in the row loop (0 when hoisted or prepared)."""
        return self.lookups_per_row if self.lookup_mode == "per_row" else 0

    @property
    def hoisted_lookups(self) -> int:
        """Lookups made once before the row loop (``lookup_mode: hoisted``)."""
        return self.lookups_per_row if self.lookup_mode == "hoisted" else 0

    @property
    def io_rows(self) -> int:
        """Rows followed by an awaited I/O (the first ``per_row_io.rows``)."""
        return self.per_row_io.rows if self.per_row_io else 0

    @property
    def polled(self) -> bool:
        """Whether lists are started by a polling client (and may overlap)."""
        return self.poll_every_ms is not None


class RegistrySpec(Strict):
    """The process-global active workspace and the fix applied to its readers."""

    initial_workspace: str = Field(
        default="/gateway", min_length=1, description="the global's value at start (the gateway's default workspace)"
    )
    fix: Literal["none", "pin"] = Field(
        default="none",
        description="none: rows read the live global; pin: the workspace is pinned at list start "
        "(AsyncLocalStorage, openclaw PR #90819)",
    )

    @property
    def pinned(self) -> bool:
        """Whether lists run inside the pin (the fix)."""
        return self.fix == "pin"


class MemoSpec(Strict):
    """The plugin-metadata snapshot memo; a miss is a synchronous full scan."""

    policy: PolicyName = Field(
        default="lru",
        description="none: every lookup scans; single: one slot; lru: capacity entries, least recently used "
        "evicted; fifo: capacity entries, oldest stored evicted (a hit does not refresh); ttl: entries expire",
    )
    key: Literal["workspace", "global"] = Field(
        default="workspace",
        description="workspace: key (workspace, j); global: key (j) only (PR 77985's unkeyed cache)",
    )
    current_snapshot: bool = Field(
        default=False, description="the gateway's published snapshot serves initial_workspace without a scan"
    )
    capacity: PositiveCount | None = Field(
        default=None,
        description="entries an lru or fifo memo keeps [default: 8]; an optional bound for ttl; not for none or single",
    )
    ttl_ms: PositiveMs | None = Field(
        default=None, description="ttl: how long an entry serves after it was stored (ms)"
    )
    scan_ms: CostMs = Field(
        default=100.0,
        description="a miss's synchronous full-scan cost (ms): a number, or {dist: lognormal, p50, p95} | "
        "{dist: uniform, low, high} | {dist: empirical, values}",
    )
    hit_ms: Ms = Field(default=0.0, description="a hit's cost (ms)")
    miss_overhead_ms: CostMs = Field(
        default=0.0,
        description="synchronous work right after each full scan, outside its span (ms): a number or a "
        "distribution like scan_ms",
    )
    pre_miss_ms: CostMs = Field(
        default=0.0,
        description="synchronous work right before the first full scan of a batch of rows, outside its span (ms; "
        "once per batch that scans, e.g. after the workspace changed): a number or a distribution like scan_ms",
    )
    # Yes in the June 2026 releases (G1/G2), no from G3 (docs/sources.md §1.3).
    hit_spans: bool = Field(
        default=True,
        description="a traced hit emits a plugins.metadata.scan span with cacheHit (the June 2026 releases); "
        "false: only full scans appear, as in later releases",
    )

    @model_validator(mode="after")
    def _policy_fields(self) -> MemoSpec:
        if self.policy == "ttl" and self.ttl_ms is None:
            raise ValueError("policy ttl needs ttl_ms")
        if self.policy != "ttl" and self.ttl_ms is not None:
            raise ValueError(f"ttl_ms only applies to policy ttl, not {self.policy}")
        if self.policy in ("none", "single") and self.capacity is not None:
            raise ValueError(f"capacity does not apply to policy {self.policy}")
        return self

    @property
    def fingerprinted(self) -> bool:
        """Whether an entry is valid by construction: its key holds every input it depends on."""
        return self.keyed and not self.rules.expires

    @property
    def rules(self) -> MemoPolicy:
        """What the policy means (``scenario.policy``): slots, expiry, eviction order."""
        return memo_policy(self.policy, self.capacity, self.ttl_ms)

    @property
    def slots(self) -> int | None:
        """Entries the memo may hold (None = unbounded)."""
        return self.rules.slots

    @property
    def keyed(self) -> bool:
        """Whether the memo key holds the workspace (else PR 77985's unkeyed cache: key (j) only)."""
        return self.key == "workspace"


_KIND = (
    "immediate: re-armed with setImmediate (every check phase) | interval: a setInterval | poisson: inbound turns "
    "| burst: a setInterval whose ticks start size activations, one per check phase"
)
_PERIOD = "interval and burst only: the setInterval period (ms, at least 1), re-armed from each firing (no catch-up)"
_SIZE = "burst only: activations per burst, the first in the timer's callback, then one per check phase"
_RATE = "poisson only: activations per second per copy, delivered as I/O in the poll phase (they queue)"


class ActorBase(Strict):
    """Concurrent agent turns, crons or the PR's flipper: each activation sets the global,
    looks its workspace up ``lookups`` times, then holds the loop for ``work_ms``."""

    # Fields that only some kinds take, and those kinds: named in the error for the others.
    _ONLY: ClassVar[dict[str, tuple[str, ...]]] = {
        "period_ms": ("interval", "burst"),
        "rate_per_s": ("poisson",),
        "size": ("burst",),
    }

    name: str = Field(min_length=1, description="the actor's label (in traces and chart labels)")
    kind: str = Field(description=_KIND)
    period_ms: float | None = Field(default=None, description=_PERIOD)
    rate_per_s: float | None = Field(default=None, description=_RATE)
    size: int | None = Field(default=None, description=_SIZE)
    count: Count = Field(
        default=1,
        description="copies of this actor, each with its own random stream (0 = none; sweep it for concurrency)",
    )
    work_ms: Ms = Field(default=0.0, description="how long each activation holds the loop after its lookups (ms)")
    workspaces: WorkspacesField = Field(
        default=Workspaces("unique"),
        description="which workspace each activation sets: unique (a new one each time) | cycle:K | random:K | fixed:NAME",
    )
    lookups: Count = Field(default=0, description="memo lookups of its own workspace per activation")
    start_ms: Ms = Field(default=0.0, description="when the actor's first activation may happen (ms)")

    @model_validator(mode="before")
    @classmethod
    def _kind_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        kind = data.get("kind")
        for field, owners in cls._ONLY.items():
            if kind in owners and data.get(field) is None:
                raise ValueError(f"kind {kind} needs {field}")
            if kind not in owners and data.get(field) is not None:
                which = f"kind {owners[0]}" if len(owners) == 1 else f"kinds {' and '.join(owners)}"
                raise ValueError(f"{field} only applies to {which}, not {kind}")
        return data

    @property
    def active(self) -> bool:
        """Whether any copy of the actor runs (``count > 0``)."""
        return self.count > 0

    @property
    def spins(self) -> bool:
        """Whether the actor keeps the loop from ever blocking (it re-arms every check phase)."""
        return self.kind == "immediate" and self.active


class ImmediateActor(ActorBase):
    """Re-arms with ``setImmediate``: runs once in every check phase (the PR's flipper)."""

    kind: Literal["immediate"] = Field(description=_KIND)
    period_ms: None = Field(default=None, description=_PERIOD)
    rate_per_s: None = Field(default=None, description=_RATE)
    size: None = Field(default=None, exclude=True, description=_SIZE)  # not in dumps: resolved files unchanged


class IntervalActor(ActorBase):
    """A ``setInterval`` of ``period_ms``, re-armed from each firing (no catch-up)."""

    kind: Literal["interval"] = Field(description=_KIND)
    period_ms: Annotated[Ms, Field(ge=1)] = Field(description=_PERIOD)
    rate_per_s: None = Field(default=None, description=_RATE)
    size: None = Field(default=None, exclude=True, description=_SIZE)  # not in dumps: resolved files unchanged


class PoissonActor(ActorBase):
    """Inbound turns at ``rate_per_s`` per copy, delivered as I/O in the poll phase (they queue)."""

    kind: Literal["poisson"] = Field(description=_KIND)
    period_ms: None = Field(default=None, description=_PERIOD)
    rate_per_s: PerSecond = Field(description=_RATE)
    size: None = Field(default=None, exclude=True, description=_SIZE)  # not in dumps: resolved files unchanged


class BurstActor(ActorBase):
    """A ``setInterval`` of ``period_ms`` whose every tick starts a burst of ``size``
    activations: one in the tick's callback, then one per check phase (re-armed with
    ``setImmediate``), e.g. a turn that streams its tool calls in bursts."""

    kind: Literal["burst"] = Field(description=_KIND)
    period_ms: Annotated[Ms, Field(ge=1)] = Field(description=_PERIOD)
    rate_per_s: None = Field(default=None, description=_RATE)
    size: PositiveCount = Field(description=_SIZE)


# ``ActorKind`` names the members of ``ActorSpec``'s union (tests/test_dispatch.py checks it).
ActorSpec = Annotated[ImmediateActor | IntervalActor | PoissonActor | BurstActor, Field(discriminator="kind")]
ActorKind = Literal["immediate", "interval", "poisson", "burst"]


class LoopSpec(Strict):
    """Costs of the event loop itself, and how the engine runs it."""

    iteration_ms: PositiveMs = Field(
        default=0.005, description="cost of one event-loop iteration (ms); an idle loop never stands still"
    )
    max_sim_ms: PositiveMs = Field(
        default=3_600_000.0,
        description="a run whose loop cannot keep up stops here (ms); its open lists are recorded with completed: false",
    )
    # Equal in distribution (tests/test_aggregation.py).
    engine: Literal["aggregated", "reference"] = Field(
        default="aggregated",
        description="aggregated: poisson arrivals delivered per poll phase (fast under many agents); "
        "reference: one event per arrival (equal in distribution, slower)",
    )


# Aliases defined outside Scenario, whose field ``list`` shadows the builtin there.
ActorList = list[ActorSpec]
SweepValues = Annotated[list[Any], Field(min_length=1)]


class Scenario(Strict):
    """One simulated world. ``sweep`` maps dotted paths to values to try; ``variants``
    names alternative worlds, each a mapping of dotted paths to values."""

    name: str = Field(default="scenario", description="names the result folder (results/NAME) [default: the file name]")
    description: str = Field(default="", description="free text, echoed in the report")
    seed: Count = Field(default=0, description="every run's random streams derive from (seed, run index) only")
    replications: PositiveCount = Field(default=1, description="runs per sweep point, each with its own random streams")
    loop: LoopSpec = Field(default=LoopSpec(), description="the event loop's own costs and the engine")
    list: ListSpec = Field(
        default=ListSpec(), description="the sessions.list calls: rows, yields, lookups, how they start"
    )
    registry: RegistrySpec = Field(
        default=RegistrySpec(), description="the process-global active workspace and the fix"
    )
    memo: MemoSpec = Field(
        default=MemoSpec(), description="the plugin-metadata memo; a miss is a synchronous full scan"
    )
    actors: ActorList = Field(
        default=[],
        description="concurrent agent turns, crons, the PR's flipper: each activation sets the global workspace",
    )
    variants: dict[str, dict[str, Any]] = Field(
        default={},
        description="named alternative worlds, each a mapping of dotted paths to values (the outer plan dimension)",
    )
    sweep: dict[str, SweepValues] = Field(
        default={},
        description="dotted paths -> values to try; the plan is their product (last key fastest) x replications",
    )

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        check_folder_name(name)
        return name

    @model_validator(mode="after")
    def _runnable(self) -> Scenario:
        copies = sum(a.count for a in self.actors)
        if copies > MAX_ACTOR_COPIES:
            biggest = max(range(len(self.actors)), key=lambda i: self.actors[i].count)
            raise cross(
                f"{copies} actor copies in all; at most {MAX_ACTOR_COPIES} (each copy is simulated "
                "with its own random stream)",
                f"actors.{biggest}.count",
            )
        if self.list.start_ms >= self.loop.max_sim_ms:
            raise cross(
                f"the first list starts at {self.list.start_ms:g} ms, not before loop.max_sim_ms "
                f"({self.loop.max_sim_ms:g} ms): every run would stop before it and record nothing",
                "list.start_ms",
                "loop.max_sim_ms",
            )
        runs = max(1, len(self.variants)) * math.prod(len(v) for v in self.sweep.values()) * self.replications
        if runs > MAX_COUNT:
            raise cross(
                f"the plan has {runs:.3g} runs; at most {MAX_COUNT} (a run index must fit the result table)",
                "replications",
                "sweep",
            )
        return self

    def with_values(self, values: Mapping[str, Any]) -> Scenario:
        """A validated copy with each dotted path of ``values`` set to its value, in order
        (``{"list.rows": 300, "actors.0.rate_per_s": 2.5}``, any path a sweep accepts); a set
        path leaves the sweep. This scenario is not changed. ScenarioError, one line naming the
        values and the field, for a path that is not a field, an element that does not exist
        (``actors.3``) or a copy that is not valid. A sweep or variants left in the copy are
        checked point by point when its plan resolves them."""
        given = ", ".join(f"{path}={value!r}" for path, value in values.items())
        try:
            return derived(self, values)
        except PathError as err:
            problem = "not a scenario field (see `clawsim schema`)" if err.invalid else "no such element"
            raise ScenarioError(f"{given}: {err.path}: {problem}") from None
        except ValidationError as err:
            raise ScenarioError(f"{given}: {one_line(err)}") from None

    @property
    def active_actors(self) -> tuple[ImmediateActor | IntervalActor | PoissonActor | BurstActor, ...]:
        """The actors with at least one copy, in file order."""
        return tuple(a for a in self.actors if a.active)

    @property
    def actor_kinds(self) -> frozenset[str]:
        """Kinds of the active actors."""
        return frozenset(a.kind for a in self.active_actors)

    @property
    def spinning(self) -> bool:
        """Whether an immediate actor keeps the loop spinning (it never blocks idle)."""
        return any(a.spins for a in self.actors)

    @property
    def dimension_values(self) -> dict[str, tuple[Any, ...]]:
        """Each dimension of the plan with the values it takes, in plan order: ``variant`` (if
        any variants) with the variants' names, then each swept path with its values."""
        found: dict[str, tuple[Any, ...]] = {"variant": tuple(self.variants)} if self.variants else {}
        return found | {path: tuple(values) for path, values in self.sweep.items()}

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Columns that tell plan points apart: ``variant`` (if any variants), then the swept paths."""
        return tuple(self.dimension_values)

    @property
    def paired_dimensions(self) -> tuple[str, ...]:
        """The dimensions whose values are alternative fixes of one situation (``variant``, a
        swept ``registry.fix``): the runs that differ only there share their random streams
        (common random numbers), and the report compares them pairwise."""
        return tuple(d for d in self.dimensions if d in PAIRED_DIMENSIONS)

    @property
    def resolved(self) -> bool:
        """Whether this is one point (no sweep, no variants), as the engine runs it."""
        return not self.sweep and not self.variants
