"""The process-global active workspace and the AsyncLocalStorage pin.

``setActivePluginRegistry`` writes the global; ``getActivePluginRegistryWorkspaceDirFromState``
reads it. With the fix, a list runs inside ``withPinnedActivePluginRegistryWorkspaceDir``:
the global is captured once at entry and every read in that async context returns the
captured value, while other contexts (actors, other lists) read and write the live global.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from ..timeline.names import LOOP, SET
from .tracer import Tracer


@dataclass(frozen=True, slots=True)
class AsyncContext:
    """An async context; ``pinned`` is the captured workspace, or None outside any pin."""

    pinned: str | None = None


ROOT_CONTEXT = AsyncContext()


class Registry:
    """The live global plus counters of setter calls (``flips``) and value changes."""

    __slots__ = ("workspace", "flips", "changes", "changed_at", "tracer")

    def __init__(self, initial_workspace: str, tracer: Tracer | None = None):
        self.tracer = tracer
        self.workspace = initial_workspace
        self.flips = 0
        self.changes = 0
        self.changed_at = float("-inf")

    def set(self, workspace: str, now: float) -> None:
        """``setActivePluginRegistry``: never blocked, pinned or not."""
        self.flips += 1
        if self.tracer is not None:
            self.tracer.instant(SET, now, LOOP, workspace=workspace, changed=workspace != self.workspace)
        if workspace != self.workspace:
            self.changes += 1
            self.changed_at = now
            self.workspace = workspace

    def set_many(self, workspaces: list[str], times: list[float]) -> None:
        """``set(workspaces[i], times[i])`` for each i in order, untraced, in one call: the setter
        calls, the value changes, when the last one happened and the last value."""
        if not workspaces:
            return
        assert self.tracer is None, "a traced run sets the global one call at a time"
        self.flips += len(workspaces)
        changed = list(map(operator.ne, workspaces, [self.workspace, *workspaces[:-1]]))
        changes = changed.count(True)
        if changes:
            self.changes += changes
            self.changed_at = times[len(changed) - 1 - changed[::-1].index(True)]
            self.workspace = workspaces[-1]

    def read(self, context: AsyncContext) -> str:
        """The pinned value inside a pin scope, else the live global."""
        return context.pinned if context.pinned is not None else self.workspace

    def pin(self, context: AsyncContext) -> AsyncContext:
        """Enter a pin scope: capture the global now; a nested pin reuses the outer one."""
        if context.pinned is not None:
            return context
        return AsyncContext(pinned=self.workspace)
