"""What the CLI prints: status lines on stderr, tables on stdout that fit the terminal.

A table never truncates a number: each column is at least as wide as its widest cell.
When the natural widths do not fit, headers fold at ``_`` and ``.`` first; if that is
still too wide, the least important columns (the caller's ``keep`` order says which matter
most, else the rightmost go first) are left out and a note on stderr names them and says how
to see them (the caller's ``hint``; piped, a table is printed whole). Piped output has no
width limit. Cells show values as a user writes them (``true``, ``null``, ``∞``), never
Python's reprs.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import Any

GAP = 3  # " │ " between columns
WHOLE = "widen the terminal, or pipe the output: piped, every column is printed"


def note(message: str) -> None:
    """A progress or status line on stderr; stdout stays the data channel."""
    print(f"clawsim: {message}", file=sys.stderr)


def _fold(header: str) -> list[str]:
    """A header split after each ``_`` or ``.`` (``distinct_workspaces`` -> ``distinct_``, ``workspaces``)."""
    return [part for part in re.split(r"(?<=[_.])", header) if part]


def _widths(headers: Sequence[str], cells: Sequence[Sequence[str]], fold: bool) -> list[int]:
    out = []
    for i, header in enumerate(headers):
        head = max(map(len, _fold(header))) if fold else len(header)
        out.append(max([head, *(len(row[i]) for row in cells)]))
    return out


def _fit(
    headers: Sequence[str], cells: Sequence[Sequence[str]], width: int | None, order: Sequence[int]
) -> tuple[set[int], bool]:
    """(indices of the columns kept, fold headers?) so that the table fits ``width`` (None: no
    limit); columns are taken in ``order`` of importance while they fit."""
    if width is None:
        return set(range(len(headers))), False
    for fold in (False, True):
        widths = _widths(headers, cells, fold)
        if sum(widths) + GAP * (len(widths) - 1) <= width:
            return set(range(len(headers))), fold
    widths = _widths(headers, cells, True)
    kept: set[int] = set()
    used = -GAP
    for i in order:
        if used + GAP + widths[i] <= width or not kept:
            kept.add(i)
            used += GAP + widths[i]
    return kept, True


def terminal_width() -> int | None:
    """The terminal's columns, or None when stdout is not a terminal (a pipe or a file)."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def print_table(
    rows: Sequence[Mapping[str, str]],
    columns: Sequence[str],
    left: Sequence[str] = (),
    width: int | None = None,
    keep: Sequence[str] = (),
    hint: str = WHOLE,
) -> None:
    """Print ``rows`` (already formatted cells) under ``columns``; ``left`` columns align left;
    ``keep`` names the columns that matter most, in order (kept first when space is short);
    ``hint`` says how to see the columns left out (it must name only options of the command)."""
    cells = [[row[c] for c in columns] for row in rows]
    first = [columns.index(c) for c in keep if c in columns]
    order = first + [i for i in range(len(columns)) if i not in first]
    kept, fold = _fit(columns, cells, width, order)
    shown = [c for i, c in enumerate(columns) if i in kept]
    dropped = [c for i, c in enumerate(columns) if i not in kept]
    cells = [[v for i, v in enumerate(r) if i in kept] for r in cells]
    widths = _widths(shown, cells, fold)
    head_lines = [_fold(h) if fold else [h] for h in shown]
    depth = max(len(h) for h in head_lines)
    for k in range(depth):
        parts = [
            (h[k] if k < len(h) else "").ljust(w) if c in left else (h[k] if k < len(h) else "").rjust(w)
            for h, w, c in zip(head_lines, widths, shown, strict=True)
        ]
        print(" ┃ ".join(parts).rstrip())
    print("━╋━".join("━" * w for w in widths))
    for row in cells:
        parts = [v.ljust(w) if c in left else v.rjust(w) for v, w, c in zip(row, widths, shown, strict=True)]
        print(" │ ".join(parts).rstrip())
    if dropped:
        note(f"{len(dropped)} columns left out to fit {width} columns: {', '.join(dropped)} ({hint})")


def number(value: object) -> str:
    """A cell: floats with one decimal and thousands separators, integers exact, text as is;
    ``true``/``false`` and ``null`` as YAML writes them, ``∞`` for an unbounded value and
    ``n/a`` for a missing one (NaN)."""
    if value is None or isinstance(value, (bool, dict, list, tuple)):
        return yaml_value(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        return f"{value:,.1f}" if abs(value) < 1e15 else f"{value:.4g}"
    if hasattr(value, "item"):  # numpy scalars
        return number(value.item())
    return str(value)


def yaml_value(value: Any) -> str:
    """A scenario value as a user writes it in YAML or after ``--set PATH=`` (``null``,
    ``true``, ``{dist: lognormal, p50: 50, p95: 60}``), on one line."""
    import yaml

    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, tuple):
        value = list(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, sort_keys=False)
    return text.strip().removesuffix("...").strip()
