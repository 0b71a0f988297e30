"""Input validation shared by the estimators: one error class, one-line messages.

Every message names the offending argument, its value and the condition it breaks, so that the
``binomgbml`` dispatcher (which catches ``ValueError``) can print it as one line.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["EstimatorInputError", "check_int", "check_positive", "finite_result"]


class EstimatorInputError(ValueError):
    """Bad input to a Trajectory or an estimator (out of range, mismatched shapes, non-scalar loss)."""


def check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer with ``lo <= value <= hi``; else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise EstimatorInputError(f"{name}={value!r} must be an integer")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        bound = f"{lo} <= {name}" + (f" <= {hi}" if hi is not None else "")
        raise EstimatorInputError(f"{name}={value} is out of range: need {bound}")
    return value


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite real number > 0; else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise EstimatorInputError(f"{name}={value!r} must be a real number")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise EstimatorInputError(f"{name}={value} must be finite and > 0")
    return value


def finite_result(estimator: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Decorate an estimator ``(traj, *args, **kwargs) -> tensor`` so that a non-finite estimate
    (float overflow of products of alpha H^k, or a CG that blew up) raises instead of returning
    inf / NaN. Under ``torch.func.vmap`` (a meta-batch with ``vmap_tasks=True``) a data-dependent
    check cannot run: it is skipped there, and the caller checks the batched result."""

    @functools.wraps(estimator)
    def checked(traj, *args, **kwargs):
        out = estimator(traj, *args, **kwargs)
        try:
            finite = bool(torch.isfinite(out).all())
        except RuntimeError as exc:
            if "data-dependent control flow" not in str(exc):  # vmap's refusal; anything else is real
                raise
            return out
        if not finite:
            given = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
            raise EstimatorInputError(
                f"{estimator.__name__}({given}) is not finite in {out.dtype} on a trajectory with "
                f"alpha={traj.alpha}, K={traj.K}: it overflowed; need a smaller alpha or smaller "
                f"Hessians (for imaml, a larger lam)")
        return out

    return checked
