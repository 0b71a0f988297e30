"""The statements of BinomGBML, Section 3.2 and Appendix B: each defined once, here.

Parameters K (inner steps), L (truncation), alpha (inner step size), H (Lipschitz constant of the
gradient), h (strong-convexity constant), M (strongly convex points); assumptions 3.5, 3.7, 3.9
as spectrum intervals; Theorems 3.6, 3.8, 3.10 with their bounds (11a)-(13c), each bound's formula
as SymPy, exact and log-space evaluators side by side, and its variants (as printed, corrected,
restricted) with their status; the envelopes and constants of the proofs; Lemmas B.2, B.5, B.7;
the claims of the text (ordering, sharpness, looseness, super-exponential decay).

Formulas take the theorem's arguments: K, L, x = alpha*H (and y = alpha*h, M for Theorem 3.10).
Every status here is backed by the check ``verify`` runs under the variant's id
(tests/test_verify_registry.py fails when they disagree); docs/errata.md has the witnesses and
the proofs of the corrected forms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from math import comb
from typing import Any

import numpy as np

from ..evaluation import checked_numeric, numeric_result
from ..exact import (
    RationalBracket,
    Sides,
    binomial_tail,
    binomials,
    e_power_bracket,
    polynomial,
)
from ..expr import Condition, minimum
from ..numeric import log_binomial_tail, log_comb, log_expm1, log_one_minus_power
from ..params import (
    BoundsInputError,
    NotApplicable,
    Parameter,
    exact_point,
    numeric_point,
    to_float,
    to_fraction,
)
from ..statement import (
    COMMUTING,
    Assumption,
    Bound,
    Claim,
    Formula,
    Hypotheses,
    Quantity,
    Relation,
    Theorem,
    Variant,
)

__all__ = ["PARAMETERS", "ASSUMPTIONS", "THEOREMS", "LEMMAS", "STATEMENTS", "theorem_3_6",
           "theorem_3_8", "theorem_3_10", "lemma_b2", "lemma_b5", "lemma_b7", "theorem_3_8_envelope",
           "theorem_3_8_c_alpha", "theorem_3_10_envelope", "theorem_3_10_c_alpha",
           "c_alpha_condition", "Lemma"]


def _sp() -> Any:
    """The SymPy symbols (``bounds.symbolic``), imported on first use of an expression."""
    from .. import symbolic

    return symbolic


# ================================================================================================
# parameters, assumptions, conditions

P_K = Parameter("K", "integer", "inner steps K", minimum=1, sample=(1, 6))
P_L = Parameter("L", "integer", "truncation L", minimum=0, maximum="K")
P_ALPHA = Parameter("alpha", "positive", "inner step size alpha", symbol=r"\alpha",
                    sample=(Fraction(1, 12), 2), favour=(1, Fraction(1, 4)), scale="H")
P_H = Parameter("H", "positive", "Lipschitz constant H of the gradient")
P_h = Parameter("h", "positive", "the strong-convexity constant h", needed_by="Assumption 3.9",
                sample=(Fraction(1, 100), 1), favour=(Fraction(1, 10), Fraction(1, 100)), scale="H")
P_M = Parameter("M", "integer", "the number M of strongly convex points", minimum=1,
                needed_by="Assumption 3.9")
#: the paper's parameters, in the order ``bounds.evaluate`` takes them
PARAMETERS = (P_K, P_L, P_ALPHA, P_H, P_h, P_M)
#: Lemma B.2's power i and Lemma B.7's real gamma
P_i = Parameter("i", "integer", "power i of Lemma B.2", minimum=0)
P_GAMMA = Parameter("gamma", "real", "real gamma of Lemma B.7", sample=(-3, 3), favour=(-1, 0, 1))
OTHER_PARAMETERS = (P_i, P_GAMMA)

_K, _L, _alpha, _H, _h, _M = (p.sym for p in PARAMETERS)

A_3_5 = Assumption("3.5", "Assumption 3.5", "the training loss has an H-Lipschitz gradient",
                   spectrum=lambda p: [(-p["H"], p["H"])] * p["K"], parameters=("K", "H"))
A_3_7 = Assumption("3.7", "Assumption 3.7", "the training loss is convex",
                   spectrum=lambda p: [(0, None)] * p["K"], parameters=("K",))
A_3_9 = Assumption("3.9", "Assumption 3.9", "the training loss is locally h-strongly convex around "
                   "the last M inner iterates, M <= min(L, K-L)",
                   spectrum=lambda p: [(None, None)] * (p["K"] - p["M"]) + [(p["h"], None)] * p["M"],
                   parameters=("K", "h", "M"))
ASSUMPTIONS = {a.name: a for a in (A_3_5, A_3_7, A_3_9)}

STEP = Condition("0 < alpha <= 1/H", (_alpha > 0, _alpha <= 1 / _H))
SMALL_H = Condition("0 < h <= H", (_h > 0, _h <= _H))
M_RANGE = Condition("1 <= M <= min(L, K-L)", (_M >= 1, _M <= minimum(_L, _K - _L)))
L_INNER = Condition("1 <= L <= K-1", (_L >= 1, _L <= _K - 1))

_X, _Y = _alpha * _H, _alpha * _h
_ARGS = (_K, _L, _X)
HYPOTHESES_3_6 = Hypotheses((P_K, P_L, P_ALPHA, P_H), (A_3_5,), (), PARAMETERS, _ARGS)
HYPOTHESES_3_8 = Hypotheses((P_K, P_L, P_ALPHA, P_H), (A_3_5, A_3_7), (STEP,), PARAMETERS, _ARGS)
HYPOTHESES_3_10 = Hypotheses(PARAMETERS, (A_3_5, A_3_9), (STEP, SMALL_H, M_RANGE), PARAMETERS,
                             (_K, _L, _X, _Y, _M))

_NAMES = {"fo": "first-order (FOMAML) error bound", "trunc": "truncated (TruncMAML) error bound",
          "binom": "binomial (BinomMAML) error bound"}
_ESTIMATOR = {"fo": "FOMAML", "trunc": "TruncMAML", "binom": "BinomMAML"}
_SYMBOL = {"fo": r"e^{\mathrm{FO}}", "trunc": r"e^{\mathrm{Tr}}", "binom": r"e^{\mathrm{Bin}}"}


def _bound(theorem: str, key: str, equation: str, hypotheses: Hypotheses, formula: Formula,
           *variants: Variant, status: Any = "holds", attained_at: Any = None) -> Bound:
    printed = Variant("printed", "printed", status, attained_at=attained_at,
                      proof=f"Theorem {theorem}, eq. {equation}")
    return Bound(f"thm{theorem}.{key}", f"Theorem {theorem}, eq. {equation}",
                 f"{_ESTIMATOR[key]} error <= bound {equation} |g|", hypotheses,
                 (printed, *variants), theorem=theorem, key=key, equation=equation,
                 description=_NAMES[key], formula=formula, symbol=_SYMBOL[key])


_COMMUTING_HOLDS = "the printed proof is valid for commuting Hessians"


def _commuting(proof: str = _COMMUTING_HOLDS) -> Variant:
    return Variant("commuting", "restricted", "holds", assumptions=(COMMUTING,), proof=proof)


def _tail(n: Any, x: Any) -> Any:
    """SymPy: sum_{l=L+1}^{n} C(n, l) x^l."""
    s = _sp()
    return s.sp.Sum(s.sp.binomial(n, s.l) * x ** s.l, (s.l, s.L + 1, n))


# ================================================================================================
# Theorem 3.6 (Assumption 3.5): eqs. (11a)-(11c), restated as Theorem B.1

def _log_3_6(K: Any, L: Any, x: Any, log_of: Any, zero_at_K: bool) -> Any:
    """x = alpha*H may have overflowed to inf: each bound is then exactly 0 (trunc and binom at
    L = K) or at least x, i.e. beyond float64: set so explicitly."""
    overflow = np.isinf(x)
    out = log_of(K, L, np.where(overflow, 1.0, x))
    if overflow.any():
        out = np.where(overflow, np.where((L == K) & zero_at_K, -np.inf, np.inf), out)
    return out


def _sym_11a() -> Any:
    s = _sp()
    return (1 + s.alpha * s.H) ** s.K - 1


def _sym_11b() -> Any:
    s = _sp()
    return (1 + s.alpha * s.H) ** s.K - (1 + s.alpha * s.H) ** s.L


def _sym_11c() -> Any:
    s = _sp()
    return _tail(s.K, s.alpha * s.H)


F_11A = Formula(lambda K, L, x: (1 + x) ** K - 1,
                lambda K, L, x: _log_3_6(K, L, x, lambda K, L, x: log_expm1(K * np.log1p(x)), False),
                _sym_11a, "(1 + alpha H)^K - 1")
F_11B = Formula(lambda K, L, x: (1 + x) ** K - (1 + x) ** L,
                lambda K, L, x: _log_3_6(K, L, x, lambda K, L, x: L * np.log1p(x)  # (1+x)^L ((1+x)^(K-L) - 1)
                                         + log_expm1((K - L) * np.log1p(x)), True),
                _sym_11b, "(1 + alpha H)^K - (1 + alpha H)^L")
F_11C = Formula(lambda K, L, x: binomial_tail(K, L, x),
                lambda K, L, x: _log_3_6(K, L, x, log_binomial_tail, True),
                _sym_11c, "sum_{l=L+1}^{K} C(K, l) (alpha H)^l")

def _neg_h(p: Mapping[str, Any]) -> list[Any]:
    """"attained upon setting H^k = -H I" (text after Theorem 3.6)."""
    return [-p["H"]] * p["K"]


BOUND_11A = _bound("3.6", "fo", "(11a)", HYPOTHESES_3_6, F_11A, attained_at=_neg_h)
BOUND_11B = _bound("3.6", "trunc", "(11b)", HYPOTHESES_3_6, F_11B, attained_at=_neg_h)
BOUND_11C = _bound("3.6", "binom", "(11c)", HYPOTHESES_3_6, F_11C, attained_at=_neg_h)


def _order_sides(p: Mapping[str, Any]) -> list[Fraction]:
    e = theorem_3_6.exact_values(p)
    return [e["binom"], e["trunc"], e["fo"]]


ORDER_3_6 = Relation(
    "thm3.6.order", "Theorem 3.6", "e_bin < e_tr < e_fo", HYPOTHESES_3_6,
    (Variant("printed", "printed", "false in general", proof="docs/errata.md V5 (fails at L = 0 and L = K)"),
     Variant("corrected", "restricted", "holds", conditions=(L_INNER,),
             proof="bounds.proofs.prove_theorem_3_6_ordering (the range the proof assumes)",
             text="e_bin < e_tr < e_fo for 1 <= L <= K - 1")),
    sides=_order_sides, op="<")
SHARP_3_6 = Claim("thm3.6.sharp", "Theorem 3.6, text after it", "(11a-c) attained at H^k = -H I",
                  HYPOTHESES_3_6, (Variant("printed", "printed", "holds"),), kind="attained")

theorem_3_6: Theorem = Theorem("3.6", "Theorem 3.6 (restated as Theorem B.1)", HYPOTHESES_3_6,
                      {"fo": BOUND_11A, "trunc": BOUND_11B, "binom": BOUND_11C},
                      claims=(ORDER_3_6, SHARP_3_6))


# ================================================================================================
# Theorem 3.8 (Assumptions 3.5, 3.7; 0 < alpha <= 1/H): eqs. (12a)-(12c), restated as Theorem B.3

def _sym_12a() -> Any:
    s = _sp()
    return 1 - (1 - s.alpha * s.H) ** s.K


def _sym_12b() -> Any:
    s = _sp()
    return 1 - (1 - s.alpha * s.H) ** (s.K - s.L)


def _sym_12c() -> Any:
    s = _sp()
    return s.sp.binomial(s.K, s.L + 1) * (s.alpha * s.H) ** (s.L + 1)


def _log_12c(K: Any, L: Any, x: Any) -> Any:
    with np.errstate(divide="ignore"):
        return log_comb(K, L + 1) + (L + 1) * np.log(x)


def _log_power_gap(n: Any, x: Any) -> Any:
    """log(1 - (1 - x)^n)."""
    with np.errstate(divide="ignore"):
        return log_one_minus_power(np.log1p(-x), n)


def _log_min(value: Any, cap: float) -> Any:
    """log(min(value, cap)) for value >= 0 (-inf at 0)."""
    with np.errstate(divide="ignore"):
        return np.log(np.minimum(value, cap))


def _sym_min(expr: Any, cap: int) -> Any:
    return _sp().sp.Min(expr, cap)


# corrected (12a), (12b): every factor I - alpha H^k is a contraction (0 <= H^k <= H, alpha H <= 1),
# so telescoping gives (K - L) alpha H, and ||P^K - P^L|| <= ||P^K|| + ||P^L|| <= 2 (docs/errata.md V1, V2)
F_12A_CORRECTED = Formula(lambda K, L, x: min(K * x, 2), lambda K, L, x: _log_min(K * x, 2.0),
                          lambda: _sym_min(_sp().K * _sp().alpha * _sp().H, 2), "min(K alpha H, 2)")
F_12B_CORRECTED = Formula(lambda K, L, x: min((K - L) * x, 2),
                          lambda K, L, x: _log_min((K - L) * x, 2.0),
                          lambda: _sym_min((_sp().K - _sp().L) * _sp().alpha * _sp().H, 2),
                          "min((K - L) alpha H, 2)")
_V1 = "docs/errata.md V1: telescoping over contractions; ||P^K|| + 1 <= 2"
_V2 = "docs/errata.md V2: P^K - P^L = (Q - I) P^L, ||P^L|| <= 1, V1's telescoping"

BOUND_12A = _bound("3.8", "fo", "(12a)", HYPOTHESES_3_8,
                   Formula(lambda K, L, x: 1 - (1 - x) ** K, lambda K, L, x: _log_power_gap(K, x),
                           _sym_12a, "1 - (1 - alpha H)^K"),
                   _commuting(), Variant("corrected", "corrected", "corrected", F_12A_CORRECTED, proof=_V1,
                                         text="FOMAML error <= min(K aH, 2) |g| (corrected (12a))"),
                   status="false in general", attained_at=lambda p: [p["H"]] * p["K"])
BOUND_12B = _bound("3.8", "trunc", "(12b)", HYPOTHESES_3_8,
                   Formula(lambda K, L, x: 1 - (1 - x) ** (K - L),
                           lambda K, L, x: _log_power_gap(K - L, x), _sym_12b, "1 - (1 - alpha H)^(K-L)"),
                   _commuting(), Variant("corrected", "corrected", "corrected", F_12B_CORRECTED, proof=_V2,
                                         text="TruncMAML error <= min((K - L) aH, 2) |g| (corrected (12b))"),
                   status="false in general",
                   attained_at=lambda p: [p["H"]] * (p["K"] - p["L"]) + [0 * p["H"]] * p["L"])
BOUND_12C = _bound("3.8", "binom", "(12c)", HYPOTHESES_3_8,
                   Formula(lambda K, L, x: comb(K, L + 1) * x ** (L + 1), _log_12c, _sym_12c,
                           "C(K, L+1) (alpha H)^(L+1)"))  # C(K, K+1) = 0


# the envelope of (12c) in the proof (Lemma B.5 with L+1) and the constant C_alpha

def theorem_3_8_envelope(K: Any, L: Any, alpha: Any, H: Any) -> Any:
    """``(alpha H e K / (L+1))^(L+1)``, strictly above (12c) (Lemma B.5 with L+1)."""
    p = checked_numeric(theorem_3_8, K=K, L=L, alpha=alpha, H=H)
    with np.errstate(divide="ignore"):  # alpha*H may underflow to 0
        return numeric_result((p["L"] + 1) * (np.log(p["alpha"] * p["H"] * p["K"] / (p["L"] + 1)) + 1),
                              "an envelope")


def _exact_envelope_3_8(K: int, L: int, x: Fraction) -> RationalBracket:
    return e_power_bracket(L + 1).scaled((x * K / (L + 1)) ** (L + 1))


def theorem_3_8_c_alpha(K: Any, L: Any) -> Any:
    """The proof's bound on Theorem 3.8's constant: ``C_alpha <= e K / (L+1)``."""
    p = numeric_point((P_K, P_L), {"K": K, "L": L})
    return _scalar(np.e * p["K"] / (p["L"] + 1))


def _sym_envelope_3_8() -> Any:
    s = _sp()
    return (s.alpha * s.H * s.sp.E * s.K / (s.L + 1)) ** (s.L + 1)


ENVELOPE_3_8 = Quantity("3.8", "envelope", "Theorem 3.8 proof, Lemma B.5", "super-exponential envelope of (12c)",
                        Formula(_exact_envelope_3_8, None, _sym_envelope_3_8), theorem_3_8_envelope)
C_ALPHA_3_8 = Quantity("3.8", "c_alpha", "Theorem 3.8 proof", "bound e K/(L+1) on the constant C_alpha",
                       Formula(lambda K, L: e_power_bracket(1).scaled(Fraction(K, L + 1)), None,
                               lambda: _sp().sp.E * _sp().K / (_sp().L + 1)), theorem_3_8_c_alpha)

SHARP_3_8 = Claim("thm3.8.sharp", "Section 3.2, after Theorem 3.8",
                  "(12a) attained at H^k = H I; (12b) at H I for k < K-L, 0 after", HYPOTHESES_3_8,
                  (Variant("printed", "printed", "holds"),), kind="attained")
L_BELOW_K = Condition("L <= K-1", (_L <= _K - 1,))
L_BELOW_K_MINUS_1 = Condition("L <= K-2", (_L <= _K - 2,))
LOOSE_3_8 = Claim("thm3.8.loose", "Section 3.2, after Theorem 3.8",
                  "the BinomMAML bound (12c) is loose (never attained for L < K)",
                  HYPOTHESES_3_8.extended(conditions=(L_BELOW_K,)),
                  (Variant("printed", "printed", "false in general",
                           proof="docs/errata.md V4 (attained at L = K - 1, H^k = H I)"),
                   Variant("corrected", "restricted", "holds", conditions=(L_BELOW_K_MINUS_1,),
                           text="(12c) is not attained for L <= K - 2 (d = 1 Hessians)")),
                  kind="not attained", subject="binom")


def _under_envelope(sid: str, reference: str, text: str, hypotheses: Hypotheses, envelope: Quantity,
                    op: Any, theorem: Any) -> Relation:
    """"The binomial bound lies under the proof's envelope" (the super-exponential decay claims),
    decided with the envelope's rational bracket; ``theorem()`` is the theorem (defined below)."""
    def sides(p: Mapping[str, Any]) -> list[Any]:
        t = theorem()
        return [t.exact_values(p)["binom"], envelope.formula.exact(*t.arguments(p))]

    return Relation(sid, reference, text, hypotheses, (Variant("printed", "printed", "holds"),),
                    sides=sides, op=op)


SUPEREXP_3_8 = _under_envelope(
    "thm3.8.superexp", "Theorem 3.8 and its proof",
    "(12c) < (aH e K/(L+1))^{L+1}: super-exponential decay once aH eK/(L+1) < 1",
    HYPOTHESES_3_8, ENVELOPE_3_8, "<", lambda: theorem_3_8)

theorem_3_8: Theorem = Theorem("3.8", "Theorem 3.8 (restated as Theorem B.3)", HYPOTHESES_3_8,
                      {"fo": BOUND_12A, "trunc": BOUND_12B, "binom": BOUND_12C},
                      {"envelope": ENVELOPE_3_8, "c_alpha": C_ALPHA_3_8},
                      (SHARP_3_8, LOOSE_3_8, SUPEREXP_3_8))


# ================================================================================================
# Theorem 3.10 (Assumptions 3.5, 3.9; 0 < alpha <= 1/H): eqs. (13a)-(13c), restated as Theorem B.6

def _exact_13a(K: int, L: int, x: Fraction, y: Fraction, M: int) -> Fraction:
    z = 1 - y
    return max((1 + x) ** (K - M) * z ** M - 1, 1 - (1 - x) ** K)


def _exact_13b(K: int, L: int, x: Fraction, y: Fraction, M: int) -> Fraction:
    return ((1 + x) ** (K - M) - (1 + x) ** (L - M)) * (1 - y) ** M


def _exact_13c(K: int, L: int, x: Fraction, y: Fraction, M: int) -> Fraction:
    z = 1 - y
    first = polynomial(binomials(K - 1, L, M, -1, 0), z)  # sum_{l=1}^{M} C(K-l, L) z^(l-1)
    return x ** (L + 1) * first + z ** M * binomial_tail(K - M, L, x)


def _log_z_power_m(y: Any, M: Any) -> Any:
    """log((1 - y)^M), -inf at y = 1."""
    with np.errstate(divide="ignore"):
        return np.where(y == 1, -np.inf, M * np.log1p(-y))


def _log_13a(K: Any, L: Any, x: Any, y: Any, M: Any) -> Any:
    with np.errstate(divide="ignore"):
        s = (K - M) * np.log1p(x) + _log_z_power_m(y, M)
        first = np.where(s > 0, log_expm1(np.maximum(s, 0.0)), -np.inf)
        second = log_one_minus_power(np.log1p(-x), K)
    return np.maximum(first, second)


def _log_13b(K: Any, L: Any, x: Any, y: Any, M: Any) -> Any:
    log1px = np.log1p(x)
    return (L - M) * log1px + _log_z_power_m(y, M) + log_expm1((K - L) * log1px)


def _log_first_sum_13c(K: Any, L: Any, z: Any, M: Any) -> Any:
    """``log sum_{l=1}^{M} C(K-l, L) z^(l-1)`` (first sum of eq. (13c)), 0 <= z < 1.

    The terms decrease in l; the sum is ``C(K-1, L) (1 + rho_2 + ...)`` with
    ``rho_{l+1} = rho_l z (K-l-L)/(K-l)``, iterated up to max(M) with a mask, stopping early once
    what remains, at most ``(M-l) rho_l``, is negligible.
    """
    total, rho = np.ones_like(z), np.ones_like(z)
    l = 1
    active = M > 1
    while active.any():
        with np.errstate(invalid="ignore", divide="ignore"):  # inactive entries may hit 0/0
            rho = np.where(active, rho * z * (K - l - L) / (K - l), 0.0)
        total += rho
        l += 1
        active &= (l + 1 < M + 0.5) & ((M - l) * rho > 1e-18 * total)
    return log_comb(K - 1, L) + np.log(total)


def _log_13c(K: Any, L: Any, x: Any, y: Any, M: Any) -> Any:
    with np.errstate(divide="ignore"):
        first = (L + 1) * np.log(x) + _log_first_sum_13c(K, L, 1 - y, M)
        second = _log_z_power_m(y, M) + log_binomial_tail(K - M, L, x)
    return np.logaddexp(first, second)


def _sym_13a() -> Any:
    s = _sp()
    a, H, h, K, M = s.alpha, s.H, s.h, s.K, s.M
    return s.sp.Max((1 + a * H) ** (K - M) * (1 - a * h) ** M - 1, 1 - (1 - a * H) ** K)


def _sym_13b() -> Any:
    s = _sp()
    a, H, h, K, L, M = s.alpha, s.H, s.h, s.K, s.L, s.M
    return ((1 + a * H) ** (K - M) - (1 + a * H) ** (L - M)) * (1 - a * h) ** M


def _sym_13c() -> Any:
    s = _sp()
    a, H, h, K, L, M, l = s.alpha, s.H, s.h, s.K, s.L, s.M, s.l
    first = s.sp.Sum(s.sp.binomial(K - l, L) * (1 - a * h) ** (l - 1), (l, 1, M))
    return (a * H) ** (L + 1) * first + (1 - a * h) ** M * _tail(K - M, a * H)


# corrected (13a): P^K - I = (Q - I) P^M + (P^M - I), Q the first K - M factors, P^M the last M:
# ||Q - I|| <= (1+aH)^{K-M} - 1 (Lemma B.2's proof), ||P^M|| <= (1-ah)^M, and telescoping over
# the last M factors (each of norm <= 1 - ah) ||P^M - I|| <= aH sum_{j<M} (1-ah)^j
# = (H/h) [1 - (1-ah)^M]; also ||P^K - I|| <= ||Q|| ||P^M|| + 1 (docs/errata.md V3)

def _exact_13a_corrected(K: int, L: int, x: Fraction, y: Fraction, M: int) -> Fraction:
    grow, zm = (1 + x) ** (K - M), (1 - y) ** M
    return min((grow - 1) * zm + x / y * (1 - zm), grow * zm + 1)


def _log_13a_corrected(K: Any, L: Any, x: Any, y: Any, M: Any) -> Any:
    with np.errstate(divide="ignore"):
        grow, zm = (K - M) * np.log1p(x), _log_z_power_m(y, M)
        first = np.logaddexp(log_expm1(grow) + zm, np.log(x) - np.log(y) + np.log(-np.expm1(zm)))
        second = np.logaddexp(grow + zm, 0.0)
    return np.minimum(first, second)


def _sym_13a_corrected() -> Any:
    s = _sp()
    a, H, h, K, M = s.alpha, s.H, s.h, s.K, s.M
    grow, zm = (1 + a * H) ** (K - M), (1 - a * h) ** M
    return s.sp.Min((grow - 1) * zm + H / h * (1 - zm), grow * zm + 1)


BOUND_13A = _bound("3.10", "fo", "(13a)", HYPOTHESES_3_10,
                   Formula(_exact_13a, _log_13a, _sym_13a,
                           "max{(1 + alpha H)^(K-M) (1 - alpha h)^M - 1, 1 - (1 - alpha H)^K}"),
                   _commuting(),
                   Variant("corrected", "corrected", "corrected",
                           Formula(_exact_13a_corrected, _log_13a_corrected, _sym_13a_corrected,
                                   "min{[(1 + alpha H)^(K-M) - 1] (1 - alpha h)^M + (H/h) [1 - (1 - alpha h)^M], "
                                   "(1 + alpha H)^(K-M) (1 - alpha h)^M + 1}"),
                           proof="docs/errata.md V3: Lemma B.2 on the first K - M factors, telescoping "
                                 "over the last M",
                           text="FOMAML error <= min{[(1+aH)^{K-M} - 1](1-ah)^M + (H/h)[1 - (1-ah)^M], "
                                "(1+aH)^{K-M}(1-ah)^M + 1} |g| (corrected (13a))"),
                   status="false in general")
BOUND_13B = _bound("3.10", "trunc", "(13b)", HYPOTHESES_3_10,
                   Formula(_exact_13b, _log_13b, _sym_13b,
                           "[(1 + alpha H)^(K-M) - (1 + alpha H)^(L-M)] (1 - alpha h)^M"))
BOUND_13C = _bound("3.10", "binom", "(13c)", HYPOTHESES_3_10,
                   Formula(_exact_13c, _log_13c, _sym_13c,
                           "(alpha H)^(L+1) sum_{l=1}^{M} C(K-l, L) (1 - alpha h)^(l-1) + "
                           "(1 - alpha h)^M sum_{l=L+1}^{K-M} C(K-M, l) (alpha H)^l"))


def theorem_3_10_envelope(K: Any, L: Any, alpha: Any, H: Any, h: Any, M: Any) -> Any:
    """``(H/h) [alpha H e (K-1)/L]^L [1 - (1-alpha h)^M]
    + (1-alpha h)^M [alpha H e (K-M-1)/L]^L [(1+alpha H)^(K-L-M) - 1]`` (proof of Thm 3.10)."""
    p = checked_numeric(theorem_3_10, K=K, L=L, alpha=alpha, H=H, h=h, M=M)
    K, L, M, x, y = p["K"], p["L"], p["M"], p["alpha"] * p["H"], p["alpha"] * p["h"]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # logs of the factors; a factor 0 (y = 1, K-M-1 = 0, K-L-M = 0) makes its term -inf
        log_zm = np.where(y == 1, -np.inf, M * np.log1p(-y))            # (1 - alpha h)^M
        first = (np.log(p["H"] / p["h"]) + L * (np.log(x * (K - 1) / L) + 1)
                 + np.log(-np.expm1(log_zm)))
        growth = (K - L - M) * np.log1p(x)
        vanishes = (y == 1) | (K - M - 1 == 0) | (growth == 0)
        second = np.where(vanishes, -np.inf,
                          log_zm + L * (np.log(x * (K - M - 1) / L) + 1) + log_expm1(growth))
        return numeric_result(np.logaddexp(first, second), "an envelope")


def _exact_envelope_3_10(K: int, L: int, x: Fraction, y: Fraction, M: int) -> RationalBracket:
    zm = (1 - y) ** M
    rest = (x / y * (x * (K - 1) / L) ** L * (1 - zm)
            + zm * (x * (K - M - 1) / L) ** L * ((1 + x) ** (K - L - M) - 1))
    return e_power_bracket(L).scaled(rest)  # both terms carry e^L


def theorem_3_10_c_alpha(K: Any, L: Any) -> Any:
    """The proof's bound on Theorem 3.10's constant: ``C'_alpha <= e (K-1) / L`` (L >= 1)."""
    p = numeric_point((P_K, P_L), {"K": K, "L": L})
    if (p["L"] < 1).any():
        raise NotApplicable("Theorem 3.10: C'_alpha = e (K-1)/L needs L >= 1", ("L",))
    return _scalar(np.e * (p["K"] - 1) / p["L"])


def _sym_envelope_3_10() -> Any:
    s = _sp()
    a, H, h, K, L, M, E = s.alpha, s.H, s.h, s.K, s.L, s.M, s.sp.E
    return (H / h * (a * H * E * (K - 1) / L) ** L * (1 - (1 - a * h) ** M)
            + (1 - a * h) ** M * (a * H * E * (K - M - 1) / L) ** L * ((1 + a * H) ** (K - L - M) - 1))


ENVELOPE_3_10 = Quantity("3.10", "envelope", "Theorem 3.10 proof, Lemmas B.5 and B.7",
                         "super-exponential envelope of (13c)",
                         Formula(_exact_envelope_3_10, None, _sym_envelope_3_10), theorem_3_10_envelope)
C_ALPHA_3_10 = Quantity("3.10", "c_alpha", "Theorem 3.10 proof", "bound e (K-1)/L on the constant C'_alpha",
                        Formula(lambda K, L: e_power_bracket(1).scaled(Fraction(K - 1, L)), None,
                                lambda: _sp().sp.E * (_sp().K - 1) / _sp().L), theorem_3_10_c_alpha)


SUPEREXP_3_10 = _under_envelope(
    "thm3.10.superexp", "Theorem 3.10 and its proof",
    "(13c) <= the majorant of the proof (Lemmas B.5, B.7): super-exponential decay",
    HYPOTHESES_3_10, ENVELOPE_3_10, "<=", lambda: theorem_3_10)

theorem_3_10: Theorem = Theorem("3.10", "Theorem 3.10 (restated as Theorem B.6)", HYPOTHESES_3_10,
                       {"fo": BOUND_13A, "trunc": BOUND_13B, "binom": BOUND_13C},
                       {"envelope": ENVELOPE_3_10, "c_alpha": C_ALPHA_3_10}, (SUPEREXP_3_10,))

#: "3.6" / "3.8" / "3.10" -> Theorem
THEOREMS = {t.number: t for t in (theorem_3_6, theorem_3_8, theorem_3_10)}


def c_alpha_condition(theorem: Any, K: Any, L: Any, alpha: Any, H: Any) -> Any:
    """Whether ``0 < alpha <= 1/(C H)`` holds with the proof's constant C of ``theorem``
    ("3.8": e K/(L+1); "3.10": e (K-1)/L)."""
    from ..evaluation import get_theorem

    number = get_theorem(theorem).number
    constants = {n: t.quantities["c_alpha"].function for n, t in THEOREMS.items() if "c_alpha" in t.quantities}
    assert all(callable(f) for f in constants.values())
    if number not in constants:
        raise ValueError(f"theorem = {number!r} is not one of {', '.join(map(repr, constants))} (the "
                         "theorems with a constant C_alpha)")
    c = constants[number](K, L)  # type: ignore[misc]
    p = numeric_point((P_K, P_L, P_ALPHA, P_H),
                      {"K": K, "L": L, "alpha": alpha, "H": H})
    out = p["alpha"] * p["H"] * c <= 1
    return bool(out) if np.ndim(out) == 0 else out


def _scalar(out: Any) -> Any:
    return float(out) if np.ndim(out) == 0 else out


# ================================================================================================
# Lemmas B.2, B.5, B.7 of Appendix B

def _integer(name: str, value: Any, minimum: int) -> int:
    f = to_fraction(name, value) if not isinstance(value, (float, np.floating)) else value
    if f != int(f) or int(f) < minimum:
        raise BoundsInputError(f"{name} = {value} is not an integer >= {minimum}", (name,))
    return int(f)


def lemma_b2(alpha: Any, H: Any, i: Any, *, exact: bool = False) -> Any:
    """Lemma B.2, eq. (30): ``||P^i - I|| <= (1 + alpha H)^i - 1`` for i = 0..K; returns the bound.

    Numeric: scalars or arrays (broadcast), float64, inf beyond float64. Exact: Fraction.
    """
    if exact:
        p = exact_point((P_ALPHA, P_H), {"alpha": alpha, "H": H})
        return (1 + p["alpha"] * p["H"]) ** _integer("i", i, 0) - 1
    i = np.asarray(i, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(i) & (i >= 0) & (i == np.floor(i)))
    if bad.any():
        raise BoundsInputError(f"i = {i[bad].flat[0]:g} is not an integer >= 0", ("i",))
    p = numeric_point((P_K, P_L, P_ALPHA, P_H),
                      {"K": i + 1, "L": 0, "alpha": alpha, "H": H})  # validates alpha, H (K: a stand-in)
    with np.errstate(over="ignore"):
        x = p["alpha"] * p["H"]
        out = np.expm1(i * np.log1p(np.where(np.isinf(x), 1.0, x)))
    out = np.where(np.isinf(x), np.where(i == 0, 0.0, np.inf), out)  # alpha*H overflowed: >= x
    return float(out) if out.ndim == 0 else out


def lemma_b5(K: Any, L: Any, *, exact: bool = False) -> Sides:
    """Lemma B.5: ``C(K, L) < (e K / L)^L``, both sides, for 1 <= L <= K.

    The paper states it for L = 0..K, but ``(eK/L)^L`` is undefined at L = 0 (and the lemma is
    only used with L >= 1). Exact mode: ``lhs`` an int-valued Fraction, ``rhs`` a
    :class:`RationalBracket` around the irrational right side, so ``lhs < rhs.lower`` certifies
    the inequality. Numeric mode: floats (arrays broadcast), inf beyond float64.
    """
    if exact:
        K, L = _integer("K", K, 1), _integer("L", L, 1)
        if L > K:
            raise BoundsInputError(f"L = {L} is outside 1..K = 1..{K}", ("L",))
        return Sides(Fraction(math.comb(K, L)), e_power_bracket(L).scaled(Fraction(K, L) ** L))
    p = numeric_point((P_K, P_L), {"K": K, "L": L})
    K, L = p["K"], p["L"]
    if (L < 1).any():
        raise BoundsInputError("L = 0 is outside 1..K: (eK/L)^L is undefined at L = 0", ("L",))
    with np.errstate(over="ignore"):
        lhs, rhs = np.exp(log_comb(K, L)), np.exp(L * (1 + np.log(K / L)))
    return Sides(float(lhs), float(rhs)) if lhs.ndim == 0 else Sides(lhs, rhs)


def _lemma_b7_sides(K: int, L: int, g: Fraction) -> Sides:
    rhs = g ** (L + 1) * polynomial(binomials(K - 1, L, K - L, -1, 0), 1 + g)
    return Sides(binomial_tail(K, L, g), rhs)


def lemma_b7(K: Any, L: Any, gamma: Any, *, exact: bool = False) -> Sides:
    """Lemma B.7, eq. (38), both sides, for L = 0..K-1 and any real gamma:
    ``sum_{l=L+1}^{K} C(K, l) gamma^l`` and ``gamma^(L+1) sum_{l=1}^{K-L} C(K-l, L) (1+gamma)^(l-1)``.

    Exact mode: rational gamma, Fraction sides. Numeric mode: float gamma (scalar or array), both
    sides computed exactly from the float's rational value and rounded once (+-inf beyond float64).
    """
    K, L = _integer("K", K, 1), _integer("L", L, 0)
    if L > K - 1:
        raise BoundsInputError(f"L = {L} is outside 0..K-1 = 0..{K - 1}", ("L",))
    if exact:
        return _lemma_b7_sides(K, L, to_fraction("gamma", gamma))
    g = np.asarray(gamma, dtype=float)
    if not np.isfinite(g).all():
        raise BoundsInputError(f"gamma = {g[~np.isfinite(g)].flat[0]} is not finite", ("gamma",))
    pairs = [_lemma_b7_sides(K, L, Fraction(float(v))) for v in g.flat]
    lhs = np.array([to_float(s.lhs) for s in pairs]).reshape(g.shape)
    rhs = np.array([to_float(s.rhs) for s in pairs]).reshape(g.shape)
    return Sides(float(lhs), float(rhs)) if g.ndim == 0 else Sides(lhs, rhs)


_KL = (P_K, P_L)
_L_BELOW = Condition("0 <= L <= K-1", (_L <= _K - 1,))
_L_POSITIVE = Condition("1 <= L <= K", (_L >= 1,))


def _b5_sides(p: Mapping[str, Any]) -> list[Any]:
    """C(K, L) and (eK/L)^L; at L = 0 the printed range reads the right side as 1 (x^0 = 1, and
    its limit as L -> 0+)."""
    if p["L"] == 0:
        return [Fraction(comb(p["K"], 0)), Fraction(1)]
    return list(lemma_b5(p["K"], p["L"], exact=True))


def _b7_sides(p: Mapping[str, Any]) -> list[Any]:
    return list(_lemma_b7_sides(p["K"], p["L"], p["gamma"]))


LEMMA_B2 = Claim("lemB.2", "Lemma B.2, eq. (30)",
                 "||P^i - I|| <= (1 + aH)^i - 1 (i = K: P^i is the product of the last i factors)",
                 HYPOTHESES_3_6, (Variant("printed", "printed", "holds"),), kind="bound",
                 subject="thm3.6.fo")
LEMMA_B5 = Relation("lemB.5", "Lemma B.5", "C(K, L) < (eK/L)^L for L = 0, ..., K", Hypotheses(_KL),
                    (Variant("printed", "printed", "false in general",
                             proof="docs/errata.md B3, V5 (fails at L = 0)"),
                     Variant("corrected", "restricted", "holds", conditions=(_L_POSITIVE,),
                             proof="rational certificates (bounds.lemma_b5)",
                             text="C(K, L) < (eK/L)^L for L = 1, ..., K")),
                    sides=_b5_sides, op="<")
LEMMA_B7 = Relation("lemB.7", "Lemma B.7, eq. (38)", "binomial tail identity, any real gamma",
                    Hypotheses((P_K, P_L, P_GAMMA), conditions=(_L_BELOW,)),
                    (Variant("printed", "printed", "holds", proof="bounds.proofs.prove_lemma_b7"),),
                    sides=_b7_sides, op="==")


class Lemma:
    """A lemma of Appendix B: its statement (for verify), its (in)equality in SymPy, its evaluation."""

    def __init__(self, name: str, statement: Any, conditions: str, relation: str,
                 lhs: Any, rhs: Any, evaluate: Any) -> None:
        self.name, self.statement, self.conditions, self.relation = name, statement, conditions, relation
        self._lhs, self._rhs, self.evaluate = lhs, rhs, evaluate

    @property
    def reference(self) -> str:
        return str(self.statement.reference)

    @property
    def expr(self) -> Any:
        """The (in)equality as a SymPy relation; for Lemma B.2 the bound alone."""
        sp = _sp().sp
        rhs = self._rhs()
        if self._lhs is None:
            return rhs
        kind = {"<": sp.StrictLessThan, "<=": sp.LessThan, "==": sp.Eq}[self.relation]
        return kind(self._lhs(), rhs, evaluate=False)

    def latex(self) -> str:
        return str(_sp().sp.latex(self.expr))

    def __repr__(self) -> str:
        return f"<Lemma {self.name}: {self.reference}>"


def _sym_b2() -> Any:
    s = _sp()
    return (1 + s.alpha * s.H) ** s.i - 1


def _sym_b5() -> tuple[Any, Any]:
    s = _sp()
    return s.sp.binomial(s.K, s.L), (s.sp.E * s.K / s.L) ** s.L


def _sym_b7_lhs() -> Any:
    s = _sp()
    return _tail(s.K, s.gamma)


def _sym_b7_rhs() -> Any:
    s = _sp()
    return s.gamma ** (s.L + 1) * s.sp.Sum(s.sp.binomial(s.K - s.l, s.L) * (1 + s.gamma) ** (s.l - 1),
                                           (s.l, 1, s.K - s.L))


#: "B.2" / "B.5" / "B.7" -> Lemma
LEMMAS = {
    "B.2": Lemma("B.2", LEMMA_B2, "Assumption 3.5; i = 0..K", "<=", None, _sym_b2, lemma_b2),
    "B.5": Lemma("B.5", LEMMA_B5, "1 <= L <= K (printed: L = 0..K)", "<",
                 lambda: _sym_b5()[0], lambda: _sym_b5()[1], lemma_b5),
    "B.7": Lemma("B.7", LEMMA_B7, "L = 0..K-1, gamma real", "==", _sym_b7_lhs, _sym_b7_rhs, lemma_b7),
}

#: every statement of the paper defined here, by registry id
STATEMENTS = {s.id: s for s in (
    LEMMA_B2, LEMMA_B5, LEMMA_B7,
    *(s for t in THEOREMS.values() for s in (*t.bounds.values(), *t.claims)))}
