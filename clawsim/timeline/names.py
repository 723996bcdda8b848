"""The one home of the names in a trace: the gateway's span names, clawsim's own, the tracks.

The engine's tracer (``engine.tracer``), the timeline writers and readers, the picture
(``gantt``), the evidence and the fit all import these; docs/trace.md lists them. The
gateway's names are its diagnostics timeline's; clawsim's are namespaced ``clawsim.*``.
"""

from __future__ import annotations

from typing import Final

# The gateway's own (openclaw's diagnostics timeline).
LIST_SPAN: Final = "gateway.sessions.list"
ROWS_SPAN: Final = "gateway.sessions.list.rows"
SCAN_SPAN: Final = "plugins.metadata.scan"
OPENCLAW_SPAN_NAMES: Final = frozenset(
    {
        LIST_SPAN,
        "gateway.sessions.list.store_load",
        "gateway.sessions.list.model_catalog",
        ROWS_SPAN,
        "gateway.sessions.list.active_run_flags",
        SCAN_SPAN,
    }
)

# clawsim's own, where the gateway emits nothing.
CLAWSIM_PREFIX: Final = "clawsim."
BATCH: Final = "clawsim.list.batch"  # the rows built in one callback (on the loop track)
YIELD: Final = "clawsim.list.yield"  # an instant at each setImmediate yield (on the list's track)
SET: Final = "clawsim.registry.set"  # an instant at each setActivePluginRegistry call
TURN: Final = "clawsim.actor.turn"  # one actor activation holding the thread
SNAPSHOT: Final = "clawsim.metadata.snapshot"  # a lookup served by the gateway's current snapshot
SETUP: Final = "clawsim.list.setup"  # the list's fixed work before its rows (list.setup_ms)
MISS_OVERHEAD: Final = "clawsim.memo.miss_overhead"  # work right after a full scan (memo.miss_overhead_ms)
PRE_MISS: Final = "clawsim.memo.pre_miss"  # work right before a batch's first full scan (memo.pre_miss_ms)

# Tracks (the lanes of a trace viewer) and the attribute that carries one.
LOOP: Final = "loop"  # what holds the thread
TRACK_ATTRIBUTE: Final = "clawsim.track"
