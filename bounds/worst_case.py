"""The worst case of an estimator's error over commuting Hessians, exactly.

With a common eigenbasis the error matrix of fo, trunc and binom is diagonal, with entry ``f(x)``
per eigendirection, ``x_k = alpha lambda_k`` the per-step eigenvalues (:func:`scalar_error`).
``f`` is multilinear (every ``x_k`` occurs in at most one factor of each product / subset term),
so ``|f|`` is largest at a vertex of the box of the assumption's spectrum intervals, and ``f`` is
symmetric within groups of steps that share an interval (and, for trunc, a side of K - L): only
the number of steps of each group at its upper end matters, ``prod (n_g + 1)`` vertex classes,
polynomial in K (:func:`commuting_worst_case`). The value is attained with d = 1 (scalar
Hessians), so it is a lower bound on the worst case over all Hessian sequences the assumption
allows, and the exact worst case over commuting ones. Proof and tests: docs/tightness.md.

Pure rational arithmetic (no NumPy): ``plot --tightness`` shades from it up to each bound, and
``verify.tightness`` starts from it before its non-commuting search.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

__all__ = ["BOUNDED", "commuting_worst_case", "scalar_error", "spectrum_intervals", "worst_case_at"]

#: the estimators whose error the theorems bound
BOUNDED = ("fo", "trunc", "binom")


def scalar_error(estimator: str, x: Sequence[Fraction], L: int) -> Fraction:
    """The error of ``estimator`` in one common eigendirection, ``x_k = alpha lambda_k``:

    fo ``prod_k (1 - x_k) - 1``; trunc ``prod_k (1 - x_k) - prod_{k >= K-L} (1 - x_k)``;
    binom ``prod_k (1 - x_k) - sum_{l <= L} (-1)^l e_l(x)`` (eq. (8) with scalars; e_l the
    elementary symmetric polynomials). Each is multilinear in x.
    """
    K = len(x)
    full = math.prod((1 - v for v in x), start=Fraction(1))
    if estimator == "fo":
        return full - 1
    if estimator == "trunc":
        return full - math.prod((1 - v for v in x[K - L:]), start=Fraction(1))
    if estimator != "binom":
        raise ValueError(f"estimator={estimator!r} is not one of {', '.join(BOUNDED)}")
    e = [Fraction(1)] + [Fraction(0)] * L  # e_0..e_L of the steps seen so far
    for v in x:
        for level in range(L, 0, -1):
            e[level] += e[level - 1] * v
    return full - sum(((-1) ** level * e[level] for level in range(L + 1)), Fraction(0))


def _symmetry_groups(estimator: str, L: int, spans) -> dict:
    """Steps grouped so that the scalar error is symmetric within a group: the same interval and,
    for trunc, the same side of K - L (its second product runs over k >= K - L only)."""
    K = len(spans)
    groups: dict = {}
    for k, (lo, hi) in enumerate(spans):
        groups.setdefault((lo, hi, estimator == "trunc" and k >= K - L), []).append(k)
    return groups


def commuting_worst_case(estimator: str, spans: Sequence[tuple[Any, Any]], alpha: Any,
                         L: int) -> tuple[Fraction, list[Fraction]]:
    """``(max |f|, lambdas)`` over the box of per-step intervals ``spans`` (exact Fractions).

    The maximum of the multilinear ``|f|`` (:func:`scalar_error`) is at a vertex; by symmetry only
    the number of steps of each group at its upper end matters (``prod (n_g + 1)`` vertex
    classes). A class's error takes O(#groups) exact powers for fo and trunc; for binom the
    truncated series ``prod_k (1 - x_k t) mod t^(L+1)`` is updated in O(L) from one class to the
    next along the largest group (times ``(1 - x_hi t) / (1 - x_lo t)``). ``lambdas`` are the
    eigenvalues of the maximising vertex, one per step (the first steps of a group at the upper
    end); ties go to the first class enumerated, all steps at their lower end first.
    """
    alpha = Fraction(alpha)
    spans = [(Fraction(lo), Fraction(hi)) for lo, hi in spans]
    groups = [(alpha * lo, alpha * hi, side, steps)
              for (lo, hi, side), steps in _symmetry_groups(estimator, L, spans).items()]
    groups.sort(key=lambda g: len(g[3]) if g[0] != g[1] else -1)  # the largest varying one last
    inner = groups[-1]
    ranges = [range(len(g[3]) + 1) if g[0] != g[1] else range(1) for g in groups]
    best = None
    for counts in itertools.product(*ranges[:-1]):
        at_hi = [*counts, 0]
        series = _series(groups, at_hi, L) if estimator == "binom" else None
        for j in ranges[-1]:
            at_hi[-1] = j
            value = abs(_class_error(estimator, groups, at_hi, series))
            if best is None or value > best[0]:
                best = (value, list(at_hi))
            if series is not None and j < ranges[-1][-1]:  # one inner step from lo to hi
                series = _divide(_times(series, inner[1]), inner[0])
    assert best is not None  # every range is non-empty
    value, at_hi = best
    lambdas = [Fraction(0)] * len(spans)
    for (x_lo, x_hi, _, steps), j in zip(groups, at_hi):
        for i, k in enumerate(steps):
            lambdas[k] = (x_hi if i < j else x_lo) / alpha
    return value, lambdas


def _class_error(estimator: str, groups, at_hi, series) -> Fraction:
    """:func:`scalar_error` at a vertex class: ``at_hi[g]`` steps of group g at its upper end."""
    def product(which):
        return math.prod(((1 - x_lo) ** (len(steps) - j) * (1 - x_hi) ** j
                          for (x_lo, x_hi, side, steps), j in zip(groups, at_hi) if which(side)),
                         start=Fraction(1))

    full = product(lambda side: True)
    if estimator == "fo":
        return full - 1
    if estimator == "trunc":
        return full - product(lambda side: side)
    return full - sum(series, Fraction(0))  # binom: minus sum_{l <= L} (-1)^l e_l(x)


def _series(groups, at_hi, L: int) -> list[Fraction]:
    """Coefficients of ``prod_k (1 - x_k t)`` up to t^L: ``(-1)^l e_l(x)``, l = 0..L."""
    series = [Fraction(1)] + [Fraction(0)] * L
    for (x_lo, x_hi, _, steps), j in zip(groups, at_hi):
        for x in [x_hi] * j + [x_lo] * (len(steps) - j):
            series = _times(series, x)
    return series


def _times(series: list, x: Fraction) -> list:
    """``series * (1 - x t)`` mod t^(L+1)."""
    return [series[0]] + [c - x * prev for c, prev in zip(series[1:], series)]


def _divide(series: list, x: Fraction) -> list:
    """``series / (1 - x t)`` mod t^(L+1) (exact: the series has that factor)."""
    out = [series[0]]
    for c in series[1:]:
        out.append(c + x * out[-1])
    return out


def spectrum_intervals(theorem: str, point: Mapping[str, Any]) -> list[tuple[Fraction, Fraction]]:
    """The interval ``(lo_k, hi_k)`` of each H^k's spectrum, k = 0..K-1, under ``theorem``'s
    assumptions at ``point`` (read from their definitions, :func:`bounds.statement.spectrum`):
    [-H, H] (Theorem 3.6), [0, H] (3.8), [-H, H] then [h, H] for the last M steps (3.10).
    ``ValueError`` where an interval is open (no box to maximise over)."""
    from .evaluation import get_theorem
    from .statement import spectrum

    thm = get_theorem(theorem)
    out = []
    for k, (lo, hi) in enumerate(spectrum(thm.hypotheses.assumptions, point)):
        if lo is None or hi is None:
            raise ValueError(f"{thm.name}: the spectrum of H^{k} is not bounded on both sides")
        out.append((Fraction(lo), Fraction(hi)))
    return out


def worst_case_at(theorem: str, estimator: str, point: Mapping[str, Any]) -> tuple[Fraction, list[Fraction]]:
    """``(max error / ||g||, lambdas)`` of ``estimator`` over commuting Hessians under
    ``theorem``'s assumption at ``point`` (exact: K, L, alpha, H, h, M as ints and Fractions; the
    caller checks the theorem's conditions): :func:`commuting_worst_case` over
    :func:`spectrum_intervals`."""
    return commuting_worst_case(estimator, spectrum_intervals(theorem, point), point["alpha"], point["L"])
