"""Lemmas B.2, B.5 and B.7 of the paper's Appendix B, evaluated exactly or numerically.

Each lemma returns what the paper states: Lemma B.2 the bound ``(1 + alpha H)^i - 1`` on
``||P^i - I||`` (eq. (30)); Lemmas B.5 and B.7 both sides of their (in)equality, as
``Sides(lhs, rhs)``. Their symbolic proofs are in ``bounds.proofs``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from .exact import _binomials, binomial_tail, polynomial
from .numeric import log_comb
from .params import BoundsInputError, exact_point, numeric_point, to_fraction

__all__ = ["Sides", "RationalBracket", "Lemma", "LEMMAS", "lemma_b2", "lemma_b5", "lemma_b7",
           "to_float"]


class Sides(NamedTuple):
    """Left- and right-hand side of a lemma's (in)equality."""

    lhs: object
    rhs: object


class RationalBracket(NamedTuple):
    """Rationals with ``lower < value < upper`` for an irrational ``value``."""

    lower: Fraction
    upper: Fraction


def to_float(value: Fraction) -> float:
    """The float nearest to a rational; +-inf beyond float64 (never an OverflowError)."""
    try:
        return float(value)
    except OverflowError:  # float(value) again (as math.copysign would) overflows too
        return math.inf if value > 0 else -math.inf


def _integer(name: str, value, minimum: int) -> int:
    f = to_fraction(name, value) if not isinstance(value, (float, np.floating)) else value
    if f != int(f) or int(f) < minimum:
        raise BoundsInputError(f"{name} = {value} is not an integer >= {minimum}")
    return int(f)


def lemma_b2(alpha, H, i, *, exact=False):
    """Lemma B.2, eq. (30): ``||P^i - I|| <= (1 + alpha H)^i - 1`` for i = 0..K; returns the bound.

    Numeric: scalars or arrays (broadcast), float64, inf beyond float64. Exact: Fraction.
    """
    if exact:
        p = exact_point(1, 0, alpha, H)
        return (1 + p["alpha"] * p["H"]) ** _integer("i", i, 0) - 1
    i = np.asarray(i, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(i) & (i >= 0) & (i == np.floor(i)))
    if bad.any():
        raise BoundsInputError(f"i = {i[bad].flat[0]:g} is not an integer >= 0")
    p = numeric_point(i + 1, 0, alpha, H)  # validates alpha, H (K is a stand-in)
    with np.errstate(over="ignore"):
        x = p["alpha"] * p["H"]
        out = np.expm1(i * np.log1p(np.where(np.isinf(x), 1.0, x)))
    out = np.where(np.isinf(x), np.where(i == 0, 0.0, np.inf), out)  # alpha*H overflowed: >= x
    return float(out) if out.ndim == 0 else out


def _e_power_bracket(n: int) -> RationalBracket:
    """Rationals bracketing ``e^n`` (n >= 1): the Taylor sum to degree 3n+20 below, plus the
    Lagrange remainder bound ``n^(N+1) 3^n / (N+1)!`` above."""
    N = 3 * n + 20
    term, total = Fraction(1), Fraction(1)
    for j in range(1, N + 1):
        term = term * n / j
        total += term
    return RationalBracket(total, total + term * n / (N + 1) * 3 ** n)


def lemma_b5(K, L, *, exact=False) -> Sides:
    """Lemma B.5: ``C(K, L) < (e K / L)^L``, both sides, for 1 <= L <= K.

    The paper states it for L = 0..K, but ``(eK/L)^L`` is undefined at L = 0 (and the lemma is
    only used with L >= 1). Exact mode: ``lhs`` an int-valued Fraction, ``rhs`` a
    :class:`RationalBracket` around the irrational right side, so ``lhs < rhs.lower`` certifies
    the inequality. Numeric mode: floats (arrays broadcast), inf beyond float64.
    """
    if exact:
        K, L = _integer("K", K, 1), _integer("L", L, 1)
        if L > K:
            raise BoundsInputError(f"L = {L} is outside 1..K = 1..{K}")
        e_power = _e_power_bracket(L)
        scale = Fraction(K, L) ** L
        return Sides(Fraction(math.comb(K, L)), RationalBracket(e_power.lower * scale, e_power.upper * scale))
    p = numeric_point(K, L, 1.0, 1.0)
    K, L = p["K"], p["L"]
    if (L < 1).any():
        raise BoundsInputError("L = 0 is outside 1..K: (eK/L)^L is undefined at L = 0")
    with np.errstate(over="ignore"):
        lhs, rhs = np.exp(log_comb(K, L)), np.exp(L * (1 + np.log(K / L)))
    return Sides(float(lhs), float(rhs)) if lhs.ndim == 0 else Sides(lhs, rhs)


def lemma_b7(K, L, gamma, *, exact=False) -> Sides:
    """Lemma B.7, eq. (38), both sides, for L = 0..K-1 and any real gamma:
    ``sum_{l=L+1}^{K} C(K, l) gamma^l`` and ``gamma^(L+1) sum_{l=1}^{K-L} C(K-l, L) (1+gamma)^(l-1)``.

    Exact mode: rational gamma, Fraction sides. Numeric mode: float gamma (scalar or array), both
    sides computed exactly from the float's rational value and rounded once (+-inf beyond float64).
    """
    K, L = _integer("K", K, 1), _integer("L", L, 0)
    if L > K - 1:
        raise BoundsInputError(f"L = {L} is outside 0..K-1 = 0..{K - 1}")

    def sides(g: Fraction) -> Sides:
        rhs = g ** (L + 1) * polynomial(_binomials(K - 1, L, K - L, -1, 0), 1 + g)
        return Sides(binomial_tail(K, L, g), rhs)

    if exact:
        return sides(to_fraction("gamma", gamma))
    g = np.asarray(gamma, dtype=float)
    if not np.isfinite(g).all():
        raise BoundsInputError(f"gamma = {g[~np.isfinite(g)].flat[0]} is not finite")
    pairs = [sides(Fraction(float(v))) for v in g.flat]
    lhs = np.array([to_float(s.lhs) for s in pairs]).reshape(g.shape)
    rhs = np.array([to_float(s.rhs) for s in pairs]).reshape(g.shape)
    return Sides(float(lhs), float(rhs)) if g.ndim == 0 else Sides(lhs, rhs)


@dataclass(frozen=True)
class Lemma:
    """A lemma of Appendix B: reference, conditions, its (in)equality in SymPy, its evaluation."""

    name: str
    reference: str
    conditions: str
    relation: str  # "<=", "<" or "=="
    lhs_builder: str | None  # None: the left side is a matrix norm (Lemma B.2)
    rhs_builder: str
    evaluate: Callable

    @property
    def expr(self):
        """The (in)equality as a SymPy relation; for Lemma B.2 the bound alone."""
        import sympy

        from . import symbolic
        rhs = getattr(symbolic, self.rhs_builder)()
        if self.lhs_builder is None:
            return rhs
        lhs = getattr(symbolic, self.lhs_builder)()
        return {"<": sympy.StrictLessThan, "<=": sympy.LessThan, "==": sympy.Eq}[self.relation](
            lhs, rhs, evaluate=False)

    def latex(self) -> str:
        import sympy
        return sympy.latex(self.expr)


#: "B.2" / "B.5" / "B.7" -> Lemma
LEMMAS = {
    "B.2": Lemma("B.2", "Lemma B.2, eq. (30)", "Assumption 3.5; i = 0..K", "<=", None, "lemma_b2",
                 lemma_b2),
    "B.5": Lemma("B.5", "Lemma B.5 (Cormen et al.)", "1 <= L <= K (printed: L = 0..K)", "<",
                 "lemma_b5_lhs", "lemma_b5_rhs", lemma_b5),
    "B.7": Lemma("B.7", "Lemma B.7, eq. (38)", "L = 0..K-1, gamma real", "==", "lemma_b7_lhs",
                 "lemma_b7_rhs", lemma_b7),
}
