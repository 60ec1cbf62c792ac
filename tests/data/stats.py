"""Small statistics helpers used by the report generator."""

from __future__ import annotations

import math
from collections.abc import Sequence


def mean(values: Sequence[float]) -> float:
    """Return the arithmetic mean of values; raise ValueError when empty."""
    if not values:
        raise ValueError("mean of empty sequence")
    return sum(values) / len(values)


def variance(values: Sequence[float]) -> float:
    """Return the population variance of values."""
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)


def stdev(values: Sequence[float]) -> float:
    """Return the population standard deviation of values."""
    <CURSOR>

def median(values: Sequence[float]) -> float:
    """Return the median of values."""
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    if n % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2
