"""The constants of iBaML's Theorems 1 and 2 (Zhang, Li, Gao, Giannakis, AAAI 2023), derived.

The paper states ``|explicit - true| <= F_t eps_t + A_t delta_t`` (Theorem 1) and
``|g_hat - true| <= F'_t eps_t + G'_t delta'_t`` (Theorem 2, eq. (18)) with constants "dependent
on rho_t", and gives them in an appendix that is not published with it. The constants here are
derived from the proof structure (the decomposition is in docs/related/ibaml.md) and are valid
upper bounds; they are ours, not the paper's.

Parameters (Assumptions 2-5 and the theorems' definitions; all >= 0, ``sigma`` and ``D_min`` > 0):

* ``A``, ``B`` -- L^val is A-Lipschitz and B-smooth in v; ``C`` -- nabla_2 L^val is C-Lipschitz in v;
* ``D``, ``E`` -- L^tr is D-smooth and its Hessian E-Lipschitz (``D`` is the paper's D_t, a
  smoothness constant, not the prior covariance);
* ``sigma`` -- the smallest singular value of H_t(v_hat) and H_t(v_bar) (Assumption 4);
* ``D_min`` -- the smallest prior variance (Assumption 5);
* ``rho`` -- max(|grad L^tr(v_bar)|_inf, |grad L^tr(v_hat)|_inf);
* ``epsilon`` = |v_hat - v_bar|, ``delta`` = |nabla A_hat - G H^{-1}(v_hat)|, ``delta_prime`` the CG error.

Every function takes keyword arguments and returns an exact Fraction when ``exact=True`` (ints,
Fractions or strings like "1/4" in; floats are refused) and a float otherwise. Remark 3: when L^tr
is H-Lipschitz, ``rho <= H``, and every constant here is non-decreasing in ``rho``, so ``rho=H``
gives task constants.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Any

__all__ = ["g_norm_bound", "h_difference_bound", "theorem1_F", "theorem1_bound", "theorem2_G",
           "theorem2_bound"]

_POSITIVE = ("sigma", "D_min")


def _values(exact: bool, **given):
    """Check and convert the named parameters (>= 0; sigma, D_min > 0)."""
    out = {}
    for name, value in given.items():
        if isinstance(value, bool):
            raise ValueError(f"{name}={value!r} must be a number")
        if exact:
            if isinstance(value, float):
                raise ValueError(f"{name}={value!r}: exact mode needs an int, a Fraction or a string "
                                 "like '1/4', not a float")
            x: Any
            try:
                x = Fraction(value) if isinstance(value, (numbers.Rational, str)) else None
            except (ValueError, ZeroDivisionError):
                x = None
            if x is None:
                raise ValueError(f"{name}={value!r} is not a rational number (write e.g. 1/4)")
        else:
            try:
                x = float(Fraction(value)) if isinstance(value, str) else float(value)
            except (TypeError, ValueError, ZeroDivisionError):
                raise ValueError(f"{name}={value!r} is not a real number") from None
            if not math.isfinite(x):
                raise ValueError(f"{name}={value!r} must be finite")
        if x < 0 or (name in _POSITIVE and x == 0):
            need = "> 0" if name in _POSITIVE else ">= 0"
            raise ValueError(f"{name}={value!r} must be {need}")
        out[name] = x
    return out


def _g_norm(rho, D_min):
    return max(1 / D_min, 1 / (2 * D_min * D_min)) + rho / D_min


def _h_difference(D, E, D_min, rho):
    return E + 2 * D * (1 / D_min + 2 * rho)


def _F(A, B, C, D, E, sigma, D_min, rho):
    gamma = _g_norm(rho, D_min)
    return (A * D / (D_min * sigma) + A * gamma * _h_difference(D, E, D_min, rho) / sigma ** 2
            + B * gamma / sigma + C)


def g_norm_bound(*, rho: Any, D_min: Any, exact: bool = False) -> Any:
    """``|G_t(v)|_2 <= max(1/D_min, 1/(2 D_min^2)) + rho / D_min`` for G_t of eq. (11).

    G = [[D^{-1}, 0], [-diag(grad_m L^tr) D^{-1}, D^{-2}/2]]: its block diagonal has norm
    max_i max(1/d_i, 1/(2 d_i^2)), the off-diagonal block max_i |grad_m,i L^tr| / d_i.
    """
    p = _values(exact, rho=rho, D_min=D_min)
    return _g_norm(p["rho"], p["D_min"])


def h_difference_bound(*, D: Any, E: Any, D_min: Any, rho: Any, exact: bool = False) -> Any:
    """``|H_t(v_hat) - H_t(v_bar)|_2 <= (E + 2 D (1/D_min + 2 rho)) eps`` (Lemma 1's H_t): the factor.

    The Hessians differ by at most E eps; the diagonal blocks (1/d + 2x)^2/2 at x = grad_d L^tr
    differ by 2 |x - y| |1/d + x + y| <= 2 D eps (1/D_min + 2 rho).
    """
    p = _values(exact, D=D, E=E, D_min=D_min, rho=rho)
    return _h_difference(p["D"], p["E"], p["D_min"], p["rho"])


def theorem1_F(*, A: Any, B: Any, C: Any, D: Any, E: Any, sigma: Any, D_min: Any, rho: Any,
               exact: bool = False) -> Any:
    """F_t of Theorem 1 (derived): ``A D/(D_min sigma) + A gamma h/sigma^2 + B gamma/sigma + C``.

    gamma = :func:`g_norm_bound`, h = :func:`h_difference_bound`. The proof splits
    explicit - true = (nabla A_hat - G^ H^^-1) a^ + (G^ - G-) H^^-1 a^ + G- H-^-1 (H- - H^) H^^-1 a^
    + G- H-^-1 (a^ - a-) + (b^ - b-), with a = nabla_1 L^val, b = nabla_2 L^val, ^ at v_hat, - at
    v_bar; |G^ - G-| <= D eps / D_min. Theorem 2's F'_t is the same constant.
    """
    p = _values(exact, A=A, B=B, C=C, D=D, E=E, sigma=sigma, D_min=D_min, rho=rho)
    return _F(**p)


def theorem1_bound(*, A: Any, B: Any, C: Any, D: Any, E: Any, sigma: Any, D_min: Any, rho: Any,
                   epsilon: Any, delta: Any, exact: bool = False) -> Any:
    """Theorem 1's right-hand side ``F_t eps_t + A_t delta_t`` with :func:`theorem1_F`."""
    p = _values(exact, A=A, B=B, C=C, D=D, E=E, sigma=sigma, D_min=D_min, rho=rho,
                epsilon=epsilon, delta=delta)
    eps, delta = p.pop("epsilon"), p.pop("delta")
    return _F(**p) * eps + p["A"] * delta


def theorem2_G(*, rho: Any, D_min: Any, exact: bool = False) -> Any:
    """G'_t of Theorem 2 (derived): the bound :func:`g_norm_bound` on |G_t(v_hat)|_2."""
    return g_norm_bound(rho=rho, D_min=D_min, exact=exact)


def theorem2_bound(*, A: Any, B: Any, C: Any, D: Any, E: Any, sigma: Any, D_min: Any, rho: Any,
                   epsilon: Any, delta_prime: Any, exact: bool = False) -> Any:
    """Theorem 2's right-hand side (eq. (18)) ``F'_t eps_t + G'_t delta'_t``, F' = :func:`theorem1_F`.

    g_hat - true = G^ (u^ - H^^-1 a^) + [the last four terms of Theorem 1's split].
    """
    p = _values(exact, A=A, B=B, C=C, D=D, E=E, sigma=sigma, D_min=D_min, rho=rho,
                epsilon=epsilon, delta_prime=delta_prime)
    eps, dp = p.pop("epsilon"), p.pop("delta_prime")
    return _F(**p) * eps + _g_norm(p["rho"], p["D_min"]) * dp
