"""iMAML's constants and iteration counts (Rajeswaran, Finn, Kakade, Levine 2019), exact or float.

The iMAML appendix (papers/imaml-2019-appendix.txt, Appendix E) states its bounds in the
parameters of Assumption 2: the regulariser ``lam`` (lambda), the strong convexity ``mu`` and
smoothness ``beta`` of the inner objective G_i(., theta), ``kappa = beta / mu``, the Hessian
Lipschitz constant ``rho`` of the training loss, the gradient bound ``B`` and smoothness ``L`` of
the test loss, the radius ``D`` of Alg*_i(theta), the accuracies ``delta``, ``delta_prime``,
``eps``. Every function here evaluates one printed formula (docs/related/imaml.md has the
inventory, the repairs of the OCR'd text and the verdicts).

Two modes: floats (NumPy broadcasting; the default) or ``exact=True`` (ints, Fractions, SymPy
Rationals or strings like "1/4" in). In exact mode a rational result is a Fraction, and an
irrational one (a square root or a logarithm) an :class:`Enclosure` ``lower <= value <= upper``
with rational ends, so that comparisons drawn from it are proofs. A parameter outside its domain
raises :class:`bounds.BoundsInputError` naming it.
"""

from __future__ import annotations

import math
from fractions import Fraction
from math import isqrt
from typing import Any, NamedTuple

import numpy as np

from .params import BoundsInputError, format_value, to_fraction

__all__ = [
    "ENCLOSURE_BITS", "Enclosure", "cg_error_factor", "corollary1_calls", "kappa",
    "lemma2_iterations", "lemma3_bound", "lemma3_constant", "lemma3_delta_limit",
    "log_enclosure", "solve_solution_bound", "sqrt_enclosure", "theorem2_accuracies",
    "theorem2_inner_iterations", "theorem2_solve_iterations",
]

#: width of the enclosures of square roots and logarithms: about 2^-ENCLOSURE_BITS (relative)
ENCLOSURE_BITS = 96


class Enclosure(NamedTuple):
    """Rationals with ``lower <= value <= upper`` around an irrational (or unknown) value."""

    lower: Fraction
    upper: Fraction

    def floor(self) -> int:
        """floor(value), or ArithmeticError when the enclosure straddles an integer."""
        lo, hi = math.floor(self.lower), math.floor(self.upper)
        if lo != hi:
            raise ArithmeticError(f"floor undecided: value in [{float(self.lower)!r}, {float(self.upper)!r}]")
        return lo

    def ceil(self) -> int:
        """ceil(value), or ArithmeticError when the enclosure straddles an integer."""
        lo, hi = math.ceil(self.lower), math.ceil(self.upper)
        if lo != hi:
            raise ArithmeticError(f"ceil undecided: value in [{float(self.lower)!r}, {float(self.upper)!r}]")
        return lo

    def __float__(self) -> float:
        return float((self.lower + self.upper) / 2)


# ----------------------------------------------------------------------------------------------
# rigorous square roots and logarithms of rationals


def sqrt_enclosure(x: Any, bits: int = ENCLOSURE_BITS) -> Enclosure:
    """sqrt(x) for a rational x >= 0, exact (lower == upper) when x is a rational square."""
    x = to_fraction("x", x)
    if x < 0:
        raise BoundsInputError(f"x = {x} is negative: no real square root")
    p, q = isqrt(x.numerator), isqrt(x.denominator)
    if p * p == x.numerator and q * q == x.denominator:
        return Enclosure(Fraction(p, q), Fraction(p, q))
    scale = 1 << bits
    s = isqrt(x.numerator * scale * scale // x.denominator)  # s^2 <= x 4^bits < (s+1)^2
    return Enclosure(Fraction(s, scale), Fraction(s + 1, scale))


def _atanh_series(z: Fraction, bits: int) -> Enclosure:
    """2 atanh(z) = 2 sum z^(2k+1)/(2k+1) for 0 <= z <= 1/3: partial sum (below) and the
    geometric tail bound 2 z^(2N+1) / ((2N+1)(1 - z^2)) (above), rounded outwards."""
    n_terms = bits // 3 + 2  # z^(2N+1) <= 3^-(2N+1) < 2^-bits
    total, power, z2 = Fraction(0), z, z * z
    for k in range(n_terms):
        total += power / (2 * k + 1)
        power *= z2
    tail = power / ((2 * n_terms + 1) * (1 - z2))
    scale = 1 << bits
    return Enclosure(Fraction(math.floor(2 * total * scale), scale),
                     Fraction(math.ceil(2 * (total + tail) * scale), scale))


def log_enclosure(x: Any, bits: int = ENCLOSURE_BITS) -> Enclosure:
    """log(x) for a rational x > 0: x = 2^m y with 1 <= y < 2, log x = m log 2 + 2 atanh((y-1)/(y+1))."""
    x = to_fraction("x", x)
    if x <= 0:
        raise BoundsInputError(f"x = {x} is not positive: log is undefined")
    if x == 1:
        return Enclosure(Fraction(0), Fraction(0))
    m = x.numerator.bit_length() - x.denominator.bit_length()
    y = x / Fraction(2) ** m
    if y < 1:
        m, y = m - 1, y * 2
    scale = 1 << bits
    z = (y - 1) / (y + 1)  # in [0, 1/3); round outwards to keep the series' fractions short
    lo_y = _atanh_series(Fraction(math.floor(z * scale), scale), bits)
    hi_y = _atanh_series(Fraction(math.ceil(z * scale), scale), bits)
    log2 = _atanh_series(Fraction(1, 3), bits)
    m_log2 = (m * log2.lower, m * log2.upper) if m >= 0 else (m * log2.upper, m * log2.lower)
    return Enclosure(m_log2[0] + lo_y.lower, m_log2[1] + hi_y.upper)


def _times(a: Enclosure, b: Enclosure) -> Enclosure:
    products = [a.lower * b.lower, a.lower * b.upper, a.upper * b.lower, a.upper * b.upper]
    return Enclosure(min(products), max(products))


# ----------------------------------------------------------------------------------------------
# parameters


def _params(exact: bool, conditions: dict) -> list:
    """Validate ``{name: (value, condition)}`` (condition "> 0" or ">= 0"); Fractions or floats."""
    out = []
    for name, (value, condition) in conditions.items():
        v: Any
        if exact:
            v = to_fraction(name, value)
            bad = v <= 0 if condition == "> 0" else v < 0
            shown = v
        else:
            try:
                v = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise BoundsInputError(f"{name} = {value!r} is not a number") from None
            with np.errstate(invalid="ignore"):
                ok = np.isfinite(v) & ((v > 0) if condition == "> 0" else (v >= 0))
            bad = not ok.all()
            shown = v[~ok].flat[0] if bad else None
            v = float(v) if v.ndim == 0 else v
        if bad:
            need = "positive" if condition == "> 0" else "non-negative"
            raise BoundsInputError(f"{name} = {format_value(shown)} is not {need} and finite")
        out.append(v)
    return out


def _two_sqrt_log(kappa_value, argument, exact: bool):
    """2 sqrt(kappa) log(argument): the iteration counts of Lemma 2 and Theorem 2."""
    if exact:
        if argument <= 0:
            raise BoundsInputError(f"the logarithm's argument {argument} is not positive")
        product = _times(sqrt_enclosure(kappa_value), log_enclosure(argument))
        return Enclosure(2 * product.lower, 2 * product.upper)
    with np.errstate(divide="ignore"):
        return 2 * np.sqrt(kappa_value) * np.log(argument)


# ----------------------------------------------------------------------------------------------
# the appendix's formulas


def kappa(beta: Any, mu: Any, *, exact: bool = False) -> Any:
    """kappa := beta / mu, the condition number of Assumption 2.2 (and of Lemma 2: L / mu).

    beta >= mu > 0 (a function cannot be more strongly convex than it is smooth).
    """
    beta, mu = _params(exact, {"beta": (beta, "> 0"), "mu": (mu, "> 0")})
    if np.any(np.asarray(beta < mu)):
        raise BoundsInputError(f"beta = {format_value(beta)} is below mu = {format_value(mu)}: need beta >= mu")
    return beta / mu


def lemma3_constant(lam: Any, mu: Any, rho: Any, B: Any, L: Any, *, sharp: bool = False,
                    exact: bool = False) -> Any:
    """B_1 = 2 lam rho B / mu^2 + lam L / mu (Lemma 3's factor of delta; B_1 of Theorem 2).

    ``sharp=True``: lam rho B / mu^2 + lam L / mu, which the same hypotheses give (with no
    condition on delta) since G is mu-strongly convex at every point (docs/related/imaml.md).
    """
    lam, mu, rho, B, L = _params(exact, {"lam": (lam, "> 0"), "mu": (mu, "> 0"),
                                         "rho": (rho, ">= 0"), "B": (B, ">= 0"), "L": (L, ">= 0")})
    return (1 if sharp else 2) * lam * rho * B / mu ** 2 + lam * L / mu


def lemma3_bound(lam: Any, mu: Any, rho: Any, B: Any, L: Any, delta: Any, delta_prime: Any, *,
                 sharp: bool = False, exact: bool = False) -> Any:
    """Lemma 3: ||g_i - d_theta L_i(Alg*_i(theta))|| <= B_1 delta + delta_prime."""
    delta, delta_prime = _params(exact, {"delta": (delta, ">= 0"), "delta_prime": (delta_prime, ">= 0")})
    return lemma3_constant(lam, mu, rho, B, L, sharp=sharp, exact=exact) * delta + delta_prime


def lemma3_delta_limit(mu: Any, rho: Any, *, printed: bool = False, exact: bool = False) -> Any:
    """Lemma 3's condition delta < mu / (2 rho), which its proof uses (||M^-1 Delta|| <= 1/2).

    ``printed=True``: 1 / (2 rho), as the appendix reads (in Lemma 3 and in Theorem 2's proof).
    rho = 0 puts no condition on delta: inf (float) or None (exact).
    """
    mu, rho = _params(exact, {"mu": (mu, "> 0"), "rho": (rho, ">= 0")})
    top = 1 if printed else mu
    if exact:
        return None if rho == 0 else top / (2 * rho)
    with np.errstate(divide="ignore"):
        return np.divide(top, 2 * np.asarray(rho, dtype=float)) if np.ndim(rho) else \
            (math.inf if rho == 0 else top / (2 * rho))


def theorem2_accuracies(eps: Any, lam: Any, mu: Any, rho: Any, B: Any, L: Any, *,
                        exact: bool = False) -> Any:
    """The proof of Theorem 2: delta = min(eps / (2 B_1), mu / (2 rho)) and delta' = eps / 2.

    Returns ``(delta, delta_prime)``; a term with a zero denominator is left out of the min, and
    delta is inf (float) or None (exact) when both are.
    """
    (eps,) = _params(exact, {"eps": (eps, "> 0")})
    b1 = lemma3_constant(lam, mu, rho, B, L, exact=exact)
    limit = lemma3_delta_limit(mu, rho, exact=exact)
    if exact:
        candidates = [c for c in (eps / (2 * b1) if b1 else None, limit) if c is not None]
        return (min(candidates) if candidates else None), eps / 2
    with np.errstate(divide="ignore"):
        return np.minimum(np.divide(eps, 2 * np.asarray(b1, dtype=float)), limit), eps / 2


def lemma2_iterations(kappa: Any, x_star: Any, delta: Any, *, exact: bool = False) -> Any:
    """Lemma 2: Nesterov's method reaches ||x - x*|| <= delta within 2 sqrt(kappa) log(2 kappa ||x*|| / delta)
    gradient computations (from x = 0; ``x_star`` is ||x*|| or an upper bound on it, > 0)."""
    kappa, x_star, delta = _params(exact, {"kappa": (kappa, "> 0"), "x_star": (x_star, "> 0"),
                                           "delta": (delta, "> 0")})
    return _two_sqrt_log(kappa, 2 * kappa * x_star / delta, exact)


def theorem2_inner_iterations(kappa: Any, D: Any, lam: Any, mu: Any, rho: Any, B: Any, L: Any,
                              eps: Any, *, exact: bool = False) -> Any:
    """Theorem 2: 2 sqrt(kappa) log(8 kappa D (B_1 / eps + rho / mu)) iterations of Nesterov's
    method for the inner problem (phi_i), with B_1 of :func:`lemma3_constant`."""
    kappa, D, eps = _params(exact, {"kappa": (kappa, "> 0"), "D": (D, "> 0"), "eps": (eps, "> 0")})
    b1 = lemma3_constant(lam, mu, rho, B, L, exact=exact)
    return _two_sqrt_log(kappa, 8 * kappa * D * (b1 / eps + rho / mu), exact)


def solve_solution_bound(lam: Any, mu: Any, B: Any, *, exact: bool = False) -> Any:
    """The proof of Theorem 2: the solution x* of the sub-problem (7) has ||x*|| <= lam B / mu."""
    lam, mu, B = _params(exact, {"lam": (lam, "> 0"), "mu": (mu, "> 0"), "B": (B, ">= 0")})
    return lam * B / mu


def theorem2_solve_iterations(kappa: Any, lam: Any, mu: Any, B: Any, eps: Any, *,
                              exact: bool = False) -> Any:
    """Theorem 2: 2 sqrt(kappa) log(4 kappa lam B / (mu eps)) iterations of Nesterov's method (or
    conjugate gradient, footnote 2) for the sub-problem (7) (g_i)."""
    kappa, B, eps = _params(exact, {"kappa": (kappa, "> 0"), "B": (B, "> 0"), "eps": (eps, "> 0")})
    return _two_sqrt_log(kappa, 2 * kappa * solve_solution_bound(lam, mu, B, exact=exact) / (eps / 2), exact)


def corollary1_calls(M: Any, L_F: Any, gap: Any, eps: Any, *, exact: bool = False) -> Any:
    """Corollary 1: at most 4 M L_F (F(theta_0) - min F) / eps^2 calls to Implicit-Meta-Gradient
    (M tasks per iteration, so 4 L_F gap / eps^2 gradient-descent iterations)."""
    M, L_F, gap, eps = _params(exact, {"M": (M, "> 0"), "L_F": (L_F, "> 0"), "gap": (gap, ">= 0"),
                                       "eps": (eps, "> 0")})
    return 4 * M * L_F * gap / eps ** 2


def cg_error_factor(kappa: Any, steps: Any, *, exact: bool = False) -> Any:
    """The standard conjugate-gradient bound the footnote to Theorem 2 appeals to, in the 2-norm:
    ||x_k - x*|| <= 2 sqrt(kappa) ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^k ||x_0 - x*||
    (from ||e_k||_A <= 2 q^k ||e_0||_A); returns the factor for k = ``steps``."""
    (kappa,) = _params(exact, {"kappa": (kappa, "> 0")})
    if np.any(np.asarray(kappa < 1)):
        raise BoundsInputError(f"kappa = {format_value(kappa)} is below 1: a condition number is >= 1")
    if isinstance(steps, bool) or int(np.max(steps)) != np.max(steps) or np.min(steps) < 0:
        raise BoundsInputError(f"steps = {steps} is not an integer >= 0")
    if not exact:
        s = np.sqrt(kappa)
        return 2 * s * ((s - 1) / (s + 1)) ** np.asarray(steps)
    s = sqrt_enclosure(kappa)
    steps = int(steps)
    # q = (s - 1) / (s + 1) is increasing in s: its ends come from the ends of s
    q = Enclosure((s.lower - 1) / (s.lower + 1), (s.upper - 1) / (s.upper + 1))
    return Enclosure(2 * s.lower * q.lower ** steps, 2 * s.upper * q.upper ** steps)
