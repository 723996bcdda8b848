"""The scenario schema: strict pydantic models and the facts they know about themselves.

Strict mode with unknown keys rejected, so ``yield_every: no`` (YAML 1.1 reads it as
``False``) is an error rather than a silent 0. Consumers read derived facts from the
properties here (``ListSpec.row_lookups``, ``Scenario.active_actors``, ``ActorBase.spins``,
``Scenario.dimensions``...) instead of re-deriving them. All times are milliseconds of
simulated time.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .costs import CostMs
from .workspaces import Workspaces, WorkspacesField


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PerRowIO(_Strict):
    """An awaited I/O (the transcript read) after each of the first ``rows`` rows."""

    rows: int = Field(ge=0)
    latency_ms: float = Field(gt=0)


class ListSpec(_Strict):
    """The ``sessions.list`` calls: their row loop and how they are started."""

    rows: int = Field(default=100, ge=1)
    yield_every: int = Field(default=10, ge=0)
    lookups_per_row: int = Field(default=2, ge=0)
    row_cost_ms: float = Field(default=0.28, ge=0)
    lookup_mode: Literal["per_row", "hoisted", "prepared"] = "per_row"
    per_row_io: PerRowIO | None = None
    count: int = Field(default=1, ge=1)
    gap_ms: float | None = Field(default=None, ge=0)
    poll_every_ms: float | None = Field(default=None, gt=0)
    duration_ms: float | None = Field(default=None, gt=0)
    start_ms: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _one_start_mode(self) -> ListSpec:
        polling = self.poll_every_ms is not None or self.duration_ms is not None
        if polling and (self.poll_every_ms is None or self.duration_ms is None):
            raise ValueError("poll_every_ms and duration_ms go together")
        if polling and (self.count != 1 or self.gap_ms is not None):
            raise ValueError("use either count/gap_ms or poll_every_ms/duration_ms, not both")
        return self

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


class RegistrySpec(_Strict):
    """The process-global active workspace and the fix applied to its readers."""

    initial_workspace: str = Field(default="/gateway", min_length=1)
    fix: Literal["none", "pin"] = "none"


class MemoSpec(_Strict):
    """The plugin-metadata snapshot memo; a miss is a synchronous full scan."""

    policy: Literal["none", "single", "lru", "ttl"] = "lru"
    key: Literal["workspace", "global"] = "workspace"
    current_snapshot: bool = False
    capacity: int | None = Field(default=None, ge=1)
    ttl_ms: float | None = Field(default=None, gt=0)
    scan_ms: CostMs = 100.0
    hit_ms: float = Field(default=0.0, ge=0)
    # Whether a memo hit emits a plugins.metadata.scan span (cacheHit: true) in a traced run's
    # diagnostics timeline: yes in the June 2026 releases (G1/G2), no from G3 (docs/sources.md §1.3).
    hit_spans: bool = True

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
        return self.key == "workspace" and self.policy != "ttl"

    @property
    def slots(self) -> int | None:
        """Entries the memo may hold (None = unbounded)."""
        if self.policy == "lru":
            return self.capacity or 8
        return {"none": 0, "single": 1}.get(self.policy, self.capacity)


class ActorBase(_Strict):
    """Concurrent agent turns, crons or the PR's flipper: each activation sets the global,
    looks its workspace up ``lookups`` times, then holds the loop for ``work_ms``."""

    # Fields that only one kind takes, and that kind: named in the error for the others.
    _ONLY: ClassVar[dict[str, str]] = {"period_ms": "interval", "rate_per_s": "poisson"}

    name: str = Field(min_length=1)
    kind: str
    period_ms: float | None = None
    rate_per_s: float | None = None
    count: int = Field(default=1, ge=0)
    work_ms: float = Field(default=0.0, ge=0)
    workspaces: WorkspacesField = Workspaces("unique")
    lookups: int = Field(default=0, ge=0)
    start_ms: float = Field(default=0.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _kind_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        kind = data.get("kind")
        for field, owner in cls._ONLY.items():
            if owner == kind and data.get(field) is None:
                raise ValueError(f"kind {kind} needs {field}")
            if owner != kind and data.get(field) is not None:
                raise ValueError(f"{field} only applies to kind {owner}, not {kind}")
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

    kind: Literal["immediate"]
    period_ms: None = None
    rate_per_s: None = None


class IntervalActor(ActorBase):
    """A ``setInterval`` of ``period_ms``, re-armed from each firing (no catch-up)."""

    kind: Literal["interval"]
    period_ms: float = Field(ge=1)
    rate_per_s: None = None


class PoissonActor(ActorBase):
    """Inbound turns at ``rate_per_s`` per copy, delivered as I/O in the poll phase (they queue)."""

    kind: Literal["poisson"]
    period_ms: None = None
    rate_per_s: float = Field(gt=0)


ActorSpec = Annotated[Union[ImmediateActor, IntervalActor, PoissonActor], Field(discriminator="kind")]
ActorKind = Literal["immediate", "interval", "poisson"]


class LoopSpec(_Strict):
    """Costs of the event loop itself."""

    iteration_ms: float = Field(default=0.005, gt=0)
    max_sim_ms: float = Field(default=3_600_000.0, gt=0)


# Aliases defined outside Scenario, whose field ``list`` shadows the builtin there.
ActorList = list[ActorSpec]
SweepValues = Annotated[list[Any], Field(min_length=1)]


class Scenario(_Strict):
    """One simulated world. ``sweep`` maps dotted paths to values to try; ``variants``
    names alternative worlds, each a mapping of dotted paths to values."""

    name: str = "scenario"
    description: str = ""
    seed: int = Field(default=0, ge=0)
    replications: int = Field(default=1, ge=1)
    loop: LoopSpec = LoopSpec()
    list: ListSpec = ListSpec()
    registry: RegistrySpec = RegistrySpec()
    memo: MemoSpec = MemoSpec()
    actors: ActorList = []
    variants: dict[str, dict[str, Any]] = {}
    sweep: dict[str, SweepValues] = {}

    @property
    def active_actors(self) -> tuple[ImmediateActor | IntervalActor | PoissonActor, ...]:
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
    def dimensions(self) -> tuple[str, ...]:
        """Columns that tell plan points apart: ``variant`` (if any variants), then the swept paths."""
        return (("variant",) if self.variants else ()) + tuple(self.sweep)

    @property
    def resolved(self) -> bool:
        """Whether this is one point (no sweep, no variants), as the engine runs it."""
        return not self.sweep and not self.variants
