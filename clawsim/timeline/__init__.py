"""A run's events and the files they are written as, and the evidence read back from a timeline.

Modules: ``model`` (the events: ``Span`` and ``Instant``, in no file format), ``names`` (the
one home of their names and tracks), ``order`` (the order a real gateway writes them in),
``openclaw`` (openclaw's diagnostics timeline, JSON Lines) and ``reader`` (streaming one back),
``chrome`` (a Chrome trace: Chrome Trace Event JSON), ``gantt`` (the picture of the event
loop), ``evidence`` (what a timeline says about each ``sessions.list`` call, for the fit) and
``synthetic`` (hand-built events of one list, shaped like the gateway's).

Pure data in, data out (stdlib; pandas only inside :func:`evidence_frame`).

What an engine emits for a traced run (checked by :func:`write_timeline`, which raises ValueError):

- :class:`Span` records with unique string ``span_id``s; ``parent_id`` names another span of the
  same run (or None); a child lies inside its parent's interval; ``duration_ms >= 0``; times in
  ms from the run's t=0. Spans on one ``track`` nest (Chrome draws a track as one thread).
- names: the gateway's own for the list (:data:`~clawsim.timeline.names.OPENCLAW_SPAN_NAMES`),
  ``clawsim.*`` for everything else (``clawsim.actor.turn``, ``clawsim.list.batch``, ...; all in
  :mod:`clawsim.timeline.names`). One
  list is a root ``gateway.sessions.list`` (attributes ``agentId``, ``configuredAgentsOnly``) with
  one child ``.rows`` (``storeEntries``: rows built); each lookup a ``plugins.metadata.scan``
  child of the rows span, ``cacheHit: True`` on hits only, with ``hasWorkspaceDir`` /
  ``hasInstalledIndex``. The gateway's other children of a list (``.store_load``,
  ``.model_catalog``, ``.active_run_flags``) are work the engine does not model: it never
  writes them, and the readers and ``synthetic`` timelines take them as a real gateway writes them.
- :class:`Instant` records named ``clawsim.*`` (``clawsim.registry.set`` with ``workspace``,
  ``clawsim.list.yield`` with ``row``), with ``parent_id`` where the engine knows it (else the
  writer takes the innermost span open on the instant's track).
- one :func:`write_timeline` call per run (span ids count per call; give each run its own pid
  to put several in one file).
"""

from __future__ import annotations

from .chrome import chrome_trace, write_chrome_trace
from .evidence import (
    SESSIONS_LIST_YIELD_BATCH_SIZE,
    ListEvidence,
    ListInference,
    Lookup,
    evidence_frame,
    infer_list,
    list_evidence,
)
from .model import Attributes, AttrValue, Instant, LoggedMark, LoggedSpan, Span, freeze_attributes
from .openclaw import EPOCH, SCHEMA_VERSION, write_timeline
from .order import completion_order, ordered_events
from .reader import TimelineError, read_timeline

__all__ = [
    "EPOCH",
    "SESSIONS_LIST_YIELD_BATCH_SIZE",
    "ListEvidence",
    "ListInference",
    "Lookup",
    "chrome_trace",
    "evidence_frame",
    "infer_list",
    "list_evidence",
    "write_chrome_trace",
    "SCHEMA_VERSION",
    "AttrValue",
    "Attributes",
    "Instant",
    "LoggedMark",
    "LoggedSpan",
    "Span",
    "TimelineError",
    "completion_order",
    "freeze_attributes",
    "ordered_events",
    "read_timeline",
    "write_timeline",
]
