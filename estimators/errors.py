"""Input validation shared by the estimators: one error class, one-line messages.

Every message names the offending argument, its value and the condition it breaks, so that the
``binomgbml`` dispatcher (which catches ``ValueError``) can print it as one line.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["EstimatorInputError", "check_int", "check_positive"]


class EstimatorInputError(ValueError):
    """Bad input to a Trajectory or an estimator (out of range, mismatched shapes, non-scalar loss)."""


def check_int(name: str, value, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer with ``lo <= value <= hi``; else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise EstimatorInputError(f"{name}={value!r} must be an integer")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        bound = f"{lo} <= {name}" + (f" <= {hi}" if hi is not None else "")
        raise EstimatorInputError(f"{name}={value} is out of range: need {bound}")
    return value


def check_positive(name: str, value) -> float:
    """Return ``value`` as a float if it is a finite real number > 0; else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise EstimatorInputError(f"{name}={value!r} must be a real number")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise EstimatorInputError(f"{name}={value} must be finite and > 0")
    return value
