"""Traces of one run: a neutral model, the openclaw diagnostics timeline, Chrome traces, list evidence.

Pure data in, data out (stdlib; pandas only inside :func:`evidence_frame`).
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
