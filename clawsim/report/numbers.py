"""How the report writes numbers: decimals by size, ``mean ± half-width``, never ``-0.00``."""

from __future__ import annotations

import numpy as np


def decimals(value: float, digits: int = 2) -> int:
    """``digits``, or fewer for large values: 1 from 100, 0 from 1000 (more would be noise)."""
    size = abs(value) if np.isfinite(value) else 0.0
    return min(digits, 0 if size >= 1000 else 1 if size >= 100 else digits)


def fmt(value: float, digits: int = 2) -> str:
    """``value`` with ``decimals(value, digits)`` decimals, never ``-0.00``; ``n/a`` if not finite."""
    if not np.isfinite(value):
        return "n/a"
    places = decimals(value, digits)
    return f"{round(float(value), places) + 0.0:,.{places}f}"


def plus_minus(value: float, error: float, digits: int = 2) -> str:
    """``value ± error`` (both with the value's decimals), or just ``value`` when the error is not finite."""
    if not np.isfinite(value) or not np.isfinite(error):
        return fmt(value, digits)
    places = decimals(value, digits)
    return f"{fmt(value, places)} ± {round(float(error), places) + 0.0:,.{places}f}"


def _plain(value: float, places: int) -> str:
    """``value`` with ``places`` decimals, or none when it is a whole number."""
    return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e15 else fmt(value, places)


def summary_cell(mean: float, half: float, low: float, high: float, digits: int = 1) -> str:
    """One point's metric as the summary tables write it: ``mean ± half-width (min–max)``;
    just the value when every run gave it; no ``±`` with one run; ``n/a`` when no run
    finished (the caller says why)."""
    if not np.isfinite(mean):
        return "n/a"
    places = decimals(mean, digits)
    if float(low) == float(high):
        return _plain(mean, places)
    head = fmt(mean, places)
    if np.isfinite(half):
        head += f" ± {round(float(half), places) + 0.0:,.{places}f}"
    return f"{head} ({_plain(low, places)}–{_plain(high, places)})"
