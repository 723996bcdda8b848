"""Schedules: one choice per gap of a list, as a small file that replays exactly.

A schedule names, for each gap of the list walk where anything happens, the TTL entries that
expire (``expire``: the n oldest stored) and the activations in order, each ``[actor,
workspace]`` with the workspace spelled as the engine spells it: the initial workspace, a
``fixed:`` name, ``actor/i`` for a member of a cycle or a ``random:K`` pool, and any other
name for a never-seen workspace of a ``unique`` actor. Gaps are numbered from 0 (before the
list's first batch); gaps left out have no activation. ``point`` names the sweep point
(variant and swept values) the schedule belongs to; ``expect`` holds the metrics it gives.

``concrete`` turns a path the search found (tokens renamed by symmetry at every step) into
such a schedule; ``read_schedule`` checks a file against its scenario and turns it back into
model choices, refusing what does not fit in one line (``ScheduleError``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ScheduleError
from ..scenario import Scenario
from .model import METRICS, Choice, Model, State, Token, _expire, _tokens, canonical

FORMAT = 1
MAX_SCHEDULE_BYTES = 10_000_000


@dataclass(frozen=True)
class Gap:
    """What happens in gap ``index``: ``expire`` oldest TTL entries, then the activations."""

    index: int
    expire: int
    activations: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Schedule:
    """A schedule of one sweep point of a scenario (see the module's docstring)."""

    scenario: str
    point: dict[str, Any]
    gaps: tuple[Gap, ...]
    expect: dict[str, float]
    claim: str | None = None  # the property it violates, or why it was written

    @property
    def activations(self) -> int:
        return sum(len(g.activations) for g in self.gaps)

    def to_json(self) -> str:
        data = {
            "clawsim_schedule": FORMAT,
            "scenario": self.scenario,
            "point": self.point,
            "claim": self.claim,
            "expect": {k: round(v, 6) for k, v in self.expect.items()},
            "gaps": [
                {
                    "gap": g.index,
                    **({"expire": g.expire} if g.expire else {}),
                    "activations": [list(a) for a in g.activations],
                }
                for g in self.gaps
            ],
        }
        return json.dumps(data, indent=1) + "\n"


def expect_of(inc: list[float]) -> dict[str, float]:
    """The metrics a schedule gives, as a schedule file states them."""
    values = dict(zip(METRICS, inc, strict=True))
    return {
        "scans": values["scans"],
        "hits": values["hits"],
        "stale_hits": values["stale_hits"],
        "flips": values["flips"],
        "activations": values["activations"],
        "list_ms": values["list_ms_hi"],
    }


class _Names:
    """Spells tokens as workspace names, and reads names back into tokens."""

    def __init__(self, model: Model):
        self.model = model
        self.spelled: dict[Token, str] = {}
        self.per_actor: dict[int, int] = {}

    def spell(self, token: Token, actor: int) -> str:
        if token[0] == "n":
            return token[1]
        name = self.model.actor(token[1]).name if token[0] in ("c", "p") else self.model.actor(actor).name
        if token[0] in ("c", "p"):
            return f"{name}/{token[2]}"
        if token not in self.spelled:
            n = self.per_actor.get(actor, 0)
            self.per_actor[actor] = n + 1
            self.spelled[token] = f"{name}#0/{n}"
        return self.spelled[token]


def concrete(model: Model, path: tuple[Choice, ...], point: dict[str, Any], prop: str | None = None) -> Schedule:
    """The schedule a search path stands for, with real workspace names, and its metrics."""
    names = _Names(model)
    state: State = model.start
    gaps, total = [], [0.0] * len(METRICS)
    serial = 0
    for g, (step, (expired, acts)) in enumerate(zip(model.steps, path, strict=True)):
        back = canonical(model, state)[1]
        fresh: dict[Token, Token] = {}
        mid = _expire(state, expired)
        concrete_acts = []
        for actor, token in acts:
            if token[0] in ("n", "c"):  # named tokens are never renamed
                real = token
            elif token in fresh:
                real = fresh[token]
            elif token in back:
                real = back[token]
            elif token[0] == "u":
                real, serial = ("u", 10**9 + serial), serial + 1
            else:  # an unseen pool member: the first one the state does not hold
                taken = set(_tokens(mid))
                real = next(t for t in _pool(model, token[1]) if t not in taken)
            fresh[token] = real
            concrete_acts.append((actor, real))
            mid = model.activate(mid, model.actor(actor), real, step)[0]
        state, inc = model.apply(state, step, (expired, tuple(concrete_acts)))
        total = [a + b for a, b in zip(total, inc, strict=True)]
        if expired or concrete_acts:
            spelled = tuple((model.actor(a).name, names.spell(t, a)) for a, t in concrete_acts)
            gaps.append(Gap(g, expired, spelled))
    return Schedule(model.scenario.name, point, tuple(gaps), expect_of(total), prop)


def _pool(model: Model, index: int) -> list[Token]:
    return [("p", index, i) for i in range(model.actor(index).k)]


def replay(model: Model, gaps: tuple[Gap, ...], where: str = "schedule") -> tuple[tuple[Choice, ...], dict[str, float]]:
    """The model's choices for these gaps (names read back into tokens) and the metrics they give;
    ScheduleError names the gap and the activation that does not fit."""
    by_index = {g.index: g for g in gaps}
    entry = {g.index: f"gaps[{i}] (gap {g.index})" for i, g in enumerate(gaps)}
    by_name = {a.name: a for a in model.actors}
    unique: dict[str, Token] = {}
    state, total, path = model.start, [0.0] * len(METRICS), []
    for g, step in enumerate(model.steps):
        gap = by_index.get(g, Gap(g, 0, ()))
        if gap.expire and (not model.ttl or gap.expire > len(state[2])):
            raise ScheduleError(
                f"{where}: {entry[g]}.expire: {gap.expire} entries cannot expire (the memo holds {len(state[2])}{'' if model.ttl else ' and has no TTL'})"
            )
        mid = state
        acts = []
        for k, (name, workspace) in enumerate(gap.activations):
            actor = by_name.get(name)
            if actor is None:
                raise ScheduleError(
                    f"{where}: {entry[g]}.activations[{k}]: unknown actor {name!r} (active actors: {', '.join(by_name) or 'none'})"
                )
            token = _token(model, actor.index, workspace, mid, unique, f"{where}: {entry[g]}.activations[{k}]")
            acts.append((actor.index, token))
            if actor.form == "cycle":  # advance the cycle as the activation will
                mid, _ = model.activate(mid, actor, token, step)
        choice = (gap.expire, tuple(acts))
        state, inc = model.apply(state, step, choice)
        total = [a + b for a, b in zip(total, inc, strict=True)]
        path.append(choice)
    return tuple(path), expect_of(total)


def _token(model: Model, index: int, workspace: str, state: State, unique: dict[str, Token], where: str) -> Token:
    actor = model.actor(index)
    match actor.form:
        case "fixed":
            if workspace != actor.fixed:
                raise ScheduleError(f"{where}: {actor.name} sets only {actor.fixed!r}, not {workspace!r}")
            return ("n", workspace)
        case "cycle":
            i = state[3][model.cycle_of[index]]
            if workspace != f"{actor.name}/{i}":
                raise ScheduleError(
                    f"{where}: {actor.name} cycles; its next workspace is {actor.name}/{i}, not {workspace!r}"
                )
            return ("c", index, i)
        case "random":
            prefix, _, number = workspace.rpartition("/")
            if prefix != actor.name or not number.isdigit() or int(number) >= actor.k:
                raise ScheduleError(
                    f"{where}: {actor.name} draws from {actor.name}/0..{actor.name}/{actor.k - 1}, not {workspace!r}"
                )
            return ("p", index, int(number))
        case _:
            if workspace in unique or workspace == model.initial[1]:
                raise ScheduleError(
                    f"{where}: {actor.name} sets a never-seen workspace each time; {workspace!r} was seen before"
                )
            unique[workspace] = ("u", len(unique))
            return unique[workspace]


def write_schedule(schedule: Schedule, path: Path) -> None:
    path.write_text(schedule.to_json())


def read_schedule(path: Path) -> Schedule:
    """A schedule file, its shape checked; ``ScheduleError`` names the file and the field."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScheduleError(f"{path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_SCHEDULE_BYTES:
        raise ScheduleError(f"{path}: {len(raw):,} bytes; a schedule is at most {MAX_SCHEDULE_BYTES:,}")
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ScheduleError(f"{path}{line}: not a schedule (JSON or YAML): {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or data.get("clawsim_schedule") != FORMAT:
        raise ScheduleError(f"{path}: not a clawsim schedule (clawsim_schedule: {FORMAT} missing)")
    return _schedule(data, path)


def _schedule(data: dict, path: Path) -> Schedule:
    def need(cond: bool, field: str, what: str) -> None:
        if not cond:
            raise ScheduleError(f"{path}: {field}: {what}")

    need(isinstance(data.get("scenario"), str), "scenario", "the scenario's name (text) is required")
    point = data.get("point") or {}
    need(isinstance(point, dict), "point", "a mapping of swept fields (and variant) to values")
    gaps_raw = data.get("gaps")
    if not isinstance(gaps_raw, list):
        raise ScheduleError(f"{path}: gaps: a list of {{gap, expire, activations}}")
    gaps, seen = [], set()
    for i, g in enumerate(gaps_raw):
        need(
            isinstance(g, dict) and set(g) <= {"gap", "expire", "activations"},
            f"gaps[{i}]",
            "keys gap, expire, activations",
        )
        index, expire, acts = g.get("gap"), g.get("expire", 0), g.get("activations", [])
        need(type(index) is int and index >= 0 and index not in seen, f"gaps[{i}].gap", "a gap number >= 0, each once")
        need(type(expire) is int and expire >= 0, f"gaps[{i}].expire", "a count of entries >= 0")
        need(isinstance(acts, list), f"gaps[{i}].activations", "a list of [actor, workspace]")
        pairs = []
        for k, a in enumerate(acts):
            ok = isinstance(a, list) and len(a) == 2 and all(isinstance(x, str) and x for x in a)
            need(ok, f"gaps[{i}].activations[{k}]", "[actor name, workspace name]")
            pairs.append((a[0], a[1]))
        seen.add(index)
        gaps.append(Gap(index, expire, tuple(pairs)))
    expect = data.get("expect") or {}
    need(isinstance(expect, dict), "expect", "a mapping of metrics to values")
    prop = data.get("claim")
    return Schedule(data["scenario"], dict(point), tuple(sorted(gaps, key=lambda g: g.index)), dict(expect), prop)


def check_fits(schedule: Schedule, model: Model, path: Path) -> tuple[tuple[Choice, ...], dict[str, float]]:
    """The schedule's choices for ``model`` (its scenario's point); ScheduleError when the
    schedule is of another scenario, has more gaps than the list, or names unknown actors."""
    if schedule.scenario != model.scenario.name:
        raise ScheduleError(f"{path}: scenario: the schedule is of {schedule.scenario!r}, not {model.scenario.name!r}")
    steps = len(model.steps)
    for g in schedule.gaps:
        if g.index >= steps:
            raise ScheduleError(
                f"{path}: gaps: gap {g.index} does not exist; this list has {steps} gaps (0..{steps - 1})"
            )
    return replay(model, schedule.gaps, str(path))


def _same_value(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def schedule_run(scenario: Scenario, schedule: Schedule) -> int:
    """The plan's first run of the schedule's point (checked by ``schedule_point`` first)."""
    from ..scenario import plan

    runs = plan(scenario)
    for p in range(runs.points):
        params = dict(runs[p * runs.replications].params)
        if params.keys() == schedule.point.keys() and all(_same_value(params[k], schedule.point[k]) for k in params):
            return p * runs.replications
    raise ScheduleError(f"point {schedule.point} is not a point of {scenario.name!r}")


def schedule_point(scenario: Scenario, schedule: Schedule, path: Path) -> Scenario:
    """The resolved scenario of the sweep point a schedule names; ScheduleError if the
    schedule is of another scenario or names no point of its plan."""
    from ..scenario import plan

    if schedule.scenario != scenario.name:
        raise ScheduleError(f"{path}: scenario: the schedule is of {schedule.scenario!r}, not {scenario.name!r}")
    runs = plan(scenario)
    labels = []
    for p in range(runs.points):
        spec = runs[p * runs.replications]
        params = dict(spec.params)
        if params.keys() == schedule.point.keys() and all(_same_value(params[k], schedule.point[k]) for k in params):
            return spec.scenario
        labels.append(json.dumps(params, default=str))
    raise ScheduleError(
        f"{path}: point: {json.dumps(schedule.point, default=str)} is not a point of {scenario.name!r} (its points: {', '.join(labels[:4])}{', ...' if len(labels) > 4 else ''})"
    )


@dataclass(frozen=True)
class Loaded:
    """A schedule file checked against its scenario: the point's resolved scenario, the
    schedule, its model choices and the metrics the model gives for it."""

    scenario: Scenario
    schedule: Schedule
    choices: tuple[Choice, ...]
    expect: dict[str, float]


def load_schedule(scenario: Scenario, path: Path) -> Loaded:
    """Read ``path`` and check it against ``scenario`` (see ``check_fits``)."""
    schedule = read_schedule(path)
    point = schedule_point(scenario, schedule, path)
    choices, expect = check_fits(schedule, Model(point), path)
    return Loaded(point, schedule, choices, expect)


def engine_gaps(schedule: Schedule) -> dict[str, Any]:
    """The schedule as the engines take it: ``{"gaps": [{gap, expire, activations}]}``."""
    return {
        "gaps": [
            {"gap": g.index, "expire": g.expire, "activations": [list(a) for a in g.activations]} for g in schedule.gaps
        ]
    }
