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
