"""``plot --tightness``: each bound's curve with the band down to the worst case that happens.

The lower edge of the band is the exact worst case of the estimator's error over commuting
Hessians under the theorem's assumption (:func:`bounds.worst_case.worst_case_at`), attained by
scalar Hessians: a certified lower bound on the true worst case, so the true worst case lies in
the band. It is divided by the same exact fo bound as the curves when they are normalised, and
converted to float once. ``binomgbml tightness`` gives the same values with witness files and a
non-commuting search on top (docs/tightness.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..evaluation import get_theorem
from ..params import to_float
from ..worst_case import BOUNDED, worst_case_at
from .output import log_drawable

__all__ = ["CAPTION", "COLUMNS", "attained_values", "row_fields", "shade"]

#: the CSV columns of a plot drawn with --tightness
COLUMNS = tuple(f"attained_{e}" for e in BOUNDED)
#: the caption sentence of a plot drawn with --tightness
CAPTION = (" Shaded: from the largest error attained under the theorem's assumption (the exact "
           "worst case over commuting Hessians, attained with scalar Hessians; binomgbml tightness "
           "gives the witnesses) up to the bound; the true worst case lies in the band.")
#: opacity of a band
ALPHA = 0.18


def attained_values(theorem: str, params: dict, variant: str = "printed",
                    normalize: str | None = None) -> dict[str, float]:
    """``{estimator: worst case / ||g||}`` at an applicable exact point, divided exactly by the fo
    bound of ``variant`` when ``normalize`` is "fo" (as the curves are)."""
    denominator = Fraction(get_theorem(theorem).exact_values(params, variant)["fo"]) if normalize else None
    out = {}
    for est in BOUNDED:
        value, _ = worst_case_at(theorem, est, params)
        out[est] = to_float(value / denominator if denominator is not None else value)
    return out


def row_fields(values: dict[str, float] | None) -> dict[str, Any]:
    """The CSV fields of one point (empty where the theorem does not apply)."""
    return {f"attained_{e}": (None if values is None else values[e]) for e in BOUNDED}


def shade(ax: Any, xs: Sequence[float], bound_values: Sequence[Any], attained: Sequence[Any],
          estimators: Sequence[str], colors: dict[str, Any]) -> None:
    """Shade, per estimator, between its attained values and its bound values over ``xs`` (the
    applicable points), with a thin line on the lower edge; only points where both are drawable
    on the log axis (:func:`log_drawable`: not 0, e.g. trunc and binom at L = K)."""
    for est in estimators:
        x_lo, lower = log_drawable(xs, [a[est] for a in attained])
        x_hi, upper = log_drawable(xs, [b[est] for b in bound_values])
        keep = sorted(set(x_lo.tolist()) & set(x_hi.tolist()))
        if not keep:
            continue
        lo = dict(zip(x_lo.tolist(), lower.tolist()))
        hi = dict(zip(x_hi.tolist(), upper.tolist()))
        ax.fill_between(keep, [lo[x] for x in keep], [hi[x] for x in keep], color=colors[est],
                        alpha=ALPHA, linewidth=0)
        ax.plot(keep, [lo[x] for x in keep], color=colors[est], linewidth=0.6, alpha=0.8)
