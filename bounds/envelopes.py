"""The super-exponential envelopes of Theorems 3.8 and 3.10 and their constants C_alpha, C'_alpha.

The theorems say that some constant C_alpha = O(K/(L+1)) (resp. C'_alpha = O((K-1)/L)) makes the
binomial bound (12c) (resp. (13c)) decrease super-exponentially in L once
``0 < alpha <= 1/(C_alpha H)``. Their proofs bound (12c), (13c) by the envelopes below (Lemma B.5,
and Lemma B.7 for (13c)) and the constants by ``C_alpha <= e K/(L+1)`` and
``C'_alpha <= e (K-1)/L``. Numeric only (e is irrational): float64 arrays, inf beyond float64.
"""

from __future__ import annotations

import numpy as np

from .numeric import log_expm1
from .params import NotApplicable, numeric_point
from .theorems import get_theorem, require_applicable

__all__ = ["theorem_3_8_envelope", "theorem_3_8_c_alpha", "theorem_3_10_envelope",
           "theorem_3_10_c_alpha", "c_alpha_condition"]


def _checked(theorem, K, L, alpha, H, h=None, M=None) -> dict:
    p = numeric_point(K, L, alpha, H, h, M)
    require_applicable(theorem, p, scalar=p["K"].ndim == 0)
    return p


def _scalar(out):
    return float(out) if np.ndim(out) == 0 else out


def _finish(log_value):
    """exp of a log-space result: inf beyond float64; NaN would be a bug and raises."""
    with np.errstate(over="ignore", under="ignore"):
        out = np.exp(log_value)
    if np.isnan(out).any():
        raise RuntimeError("internal error: an envelope gave NaN")
    return _scalar(out)


def theorem_3_8_envelope(K, L, alpha, H):
    """``(alpha H e K / (L+1))^(L+1)``, strictly above (12c) (Lemma B.5 with L+1)."""
    p = _checked("3.8", K, L, alpha, H)
    with np.errstate(divide="ignore"):  # alpha*H may underflow to 0
        return _finish((p["L"] + 1) * (np.log(p["alpha"] * p["H"] * p["K"] / (p["L"] + 1)) + 1))


def theorem_3_8_c_alpha(K, L):
    """The proof's bound on Theorem 3.8's constant: ``C_alpha <= e K / (L+1)``."""
    p = numeric_point(K, L, 1.0, 1.0)
    return _scalar(np.e * p["K"] / (p["L"] + 1))


def theorem_3_10_envelope(K, L, alpha, H, h, M):
    """``(H/h) [alpha H e (K-1)/L]^L [1 - (1-alpha h)^M]
    + (1-alpha h)^M [alpha H e (K-M-1)/L]^L [(1+alpha H)^(K-L-M) - 1]`` (proof of Thm 3.10)."""
    p = _checked("3.10", K, L, alpha, H, h, M)
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
        return _finish(np.logaddexp(first, second))


def theorem_3_10_c_alpha(K, L):
    """The proof's bound on Theorem 3.10's constant: ``C'_alpha <= e (K-1) / L`` (L >= 1)."""
    p = numeric_point(K, L, 1.0, 1.0)
    if (p["L"] < 1).any():
        raise NotApplicable("Theorem 3.10: C'_alpha = e (K-1)/L needs L >= 1")
    return _scalar(np.e * (p["K"] - 1) / p["L"])


def c_alpha_condition(theorem, K, L, alpha, H):
    """Whether ``0 < alpha <= 1/(C H)`` holds with the proof's constant C of ``theorem``
    ("3.8": e K/(L+1); "3.10": e (K-1)/L)."""
    constants = {"3.8": theorem_3_8_c_alpha, "3.10": theorem_3_10_c_alpha}
    number = get_theorem(theorem).number
    if number not in constants:
        raise ValueError(f"theorem = {number!r} is not one of '3.8', '3.10' (the theorems with a "
                         "constant C_alpha)")
    c = constants[number](K, L)
    p = numeric_point(K, L, alpha, H)
    out = p["alpha"] * p["H"] * c <= 1
    return bool(out) if np.ndim(out) == 0 else out
