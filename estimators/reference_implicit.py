"""Exact references for iMAML (Rajeswaran et al. 2019) with quadratic inner losses, in Fractions.

The inner (training) loss is L^_i(phi) = 1/2 phi^T A phi + b^T phi (the form of the iMAML appendix,
F.1), the inner problem G_i(phi, theta) = L^_i(phi) + lam/2 ||phi - theta||^2 (eq. (4)), and the
test loss enters through its gradient ``test_grad(phi)`` (any callable returning exact vectors;
:func:`quadratic_gradient` builds the one of 1/2 phi^T C phi + c^T phi). Then

* :func:`inner_solution` -- Alg*_i(theta) = (A + lam I)^{-1} (lam theta - b) (F.1);
* :func:`implicit_jacobian` -- dAlg*_i/dtheta = (I + A/lam)^{-1} (Lemma 1);
* :func:`quadratic_meta_gradient` -- d_theta L_i(Alg*_i(theta)) = (I + A/lam)^{-1} grad L_i(Alg*_i(theta))
  (eq. (6); F.1's lam (A + lam I)^{-1} grad L_i);
* :func:`maml_regularized` -- MAML's meta-gradient through K gradient steps on G_i (Appendix A),
  by forward-mode differentiation of the unrolled loop;
* :func:`nesterov` -- Nesterov's accelerated method on a quadratic (the solver of Lemma 2 and
  Theorem 2), exact when sqrt(beta / mu) is rational;
* :func:`cg_residuals` -- the residual history g - (I + H/lam) x_k of conjugate gradient.

Every input is converted exactly to Fractions (ints, Fractions, SymPy Rationals, and floats by
their binary value), and every result is a NumPy object array of Fractions. The linear solves and
conjugate gradient are those of :mod:`estimators.reference` (``imaml_exact``, ``imaml_cg``), called
in exact mode. NumPy and :mod:`fractions` only: importable without torch, and independent of the
PyTorch estimators it is the yardstick for.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from math import isqrt
from typing import Any

import numpy as np

from .reference import ReferenceInputError, imaml_cg, imaml_exact

__all__ = [
    "cg_residuals", "exact_array", "implicit_jacobian", "inner_solution", "maml_regularized",
    "nesterov", "quadratic_gradient", "quadratic_meta_gradient",
]

Vector = np.ndarray
GradFn = Callable[[Vector], Vector]


def _fraction(x, name: str) -> Fraction:
    if isinstance(x, (bool, np.bool_)):
        raise ReferenceInputError(f"{name}: entry {x!r} is a bool; expected a real number")
    if isinstance(x, (int, np.integer, Fraction)):
        return Fraction(int(x)) if not isinstance(x, Fraction) else x
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            raise ReferenceInputError(f"{name}: entry {x!r} is not finite")
        return Fraction(float(x))
    if getattr(x, "is_Rational", False):
        return Fraction(int(x.p), int(x.q))
    raise ReferenceInputError(f"{name}: entry {x!r} of type {type(x).__name__} is not a rational number")


def exact_array(value: Any, name: str, ndim: int) -> Any:
    """``value`` as an object array of Fractions with ``ndim`` dimensions (0: a Fraction)."""
    arr = np.array(value, dtype=object)
    if arr.ndim != ndim:
        raise ReferenceInputError(f"{name}: has {arr.ndim} dimension(s) (shape {arr.shape}); expected {ndim}")
    if ndim == 0:
        return _fraction(arr[()], name)
    return np.vectorize(lambda x: _fraction(x, name), otypes=[object])(arr) if arr.size else arr


def _eye(d: int) -> np.ndarray:
    out = np.full((d, d), Fraction(0), dtype=object)
    for i in range(d):
        out[i, i] = Fraction(1)
    return out


def _positive_definite(M: np.ndarray) -> bool:
    """Exactly: is the symmetric rational M positive definite? (LDL^T pivots all > 0)"""
    M = M.copy()
    d = M.shape[0]
    for k in range(d):
        if M[k, k] <= 0:
            return False
        M[k + 1:, k + 1:] = M[k + 1:, k + 1:] - np.outer(M[k + 1:, k], M[k, k + 1:]) / M[k, k]
    return True


def _quadratic(A, lam, name="A"):
    A, lam = exact_array(A, name, 2), exact_array(lam, "lam", 0)
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ReferenceInputError(f"{name}: has shape {A.shape}; expected d x d with d >= 1")
    if not (A == A.T).all():
        raise ReferenceInputError(f"{name}: not exactly symmetric")
    if not lam > 0:
        raise ReferenceInputError(f"lam = {lam}: the regularisation strength must be > 0")
    if not _positive_definite(A + lam * _eye(A.shape[0])):
        raise ReferenceInputError(f"{name}, lam = {lam}: A + lam I is not positive definite, so "
                                  "G(., theta) has no minimiser (eq. (4) needs it strongly convex)")
    return A, lam


def _vector(v, name: str, d: int) -> np.ndarray:
    v = exact_array(v, name, 1)
    if v.shape != (d,):
        raise ReferenceInputError(f"{name}: has length {v.shape[0]}; expected d = {d}")
    return v


def quadratic_gradient(C: Any, c: Any) -> GradFn:
    """The gradient phi -> C phi + c of the test loss 1/2 phi^T C phi + c^T phi (C symmetric)."""
    C = exact_array(C, "C", 2)
    c = _vector(c, "c", C.shape[0])
    if C.shape[0] != C.shape[1] or not (C == C.T).all():
        raise ReferenceInputError(f"C: has shape {C.shape} or is not symmetric; expected symmetric d x d")
    return lambda phi: C @ phi + c


def inner_solution(A: Any, b: Any, theta: Any, lam: Any) -> np.ndarray:
    """Alg*_i(theta) = argmin_phi 1/2 phi^T A phi + b^T phi + lam/2 ||phi - theta||^2
    = (A + lam I)^{-1} (lam theta - b) (iMAML appendix F.1), A + lam I positive definite."""
    A, lam = _quadratic(A, lam)
    d = A.shape[0]
    b, theta = _vector(b, "b", d), _vector(theta, "theta", d)
    return imaml_exact(A, theta - b / lam, lam)  # (I + A/lam)^{-1} (theta - b/lam)


def implicit_jacobian(A: Any, lam: Any) -> np.ndarray:
    """dAlg*_i(theta)/dtheta = (I + A/lam)^{-1} (Lemma 1), column by column."""
    A, lam = _quadratic(A, lam)
    eye = _eye(A.shape[0])
    return np.stack([imaml_exact(A, eye[:, j], lam) for j in range(A.shape[0])], axis=1)


def quadratic_meta_gradient(A: Any, b: Any, theta: Any, lam: Any, test_grad: GradFn) -> np.ndarray:
    """d_theta L_i(Alg*_i(theta)) = (I + A/lam)^{-1} grad L_i(Alg*_i(theta)) (eq. (6); F.1)."""
    phi = inner_solution(A, b, theta, lam)
    A, lam = _quadratic(A, lam)
    return imaml_exact(A, _vector(test_grad(phi), "test_grad(phi)", A.shape[0]), lam)


def maml_regularized(A: Any, b: Any, theta: Any, lam: Any, alpha: Any, K: int,
                     test_grad: GradFn) -> np.ndarray:
    """MAML's meta-gradient in the explicitly regularised setting (iMAML Appendix A): K steps
    phi <- phi - alpha grad_phi G_i(phi, theta) from phi = theta, differentiated in forward mode
    (J <- J - alpha (A J + lam (J - I)), J = dphi/dtheta), then J^T grad L_i(phi^K)."""
    A, lam = _quadratic(A, lam)
    d = A.shape[0]
    b, theta = _vector(b, "b", d), _vector(theta, "theta", d)
    alpha = exact_array(alpha, "alpha", 0)
    if not alpha > 0 or isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 0:
        raise ReferenceInputError(f"alpha = {alpha}, K = {K!r}: need alpha > 0 and an integer K >= 0")
    eye = _eye(d)
    phi, J = theta.copy(), eye.copy()
    for _ in range(int(K)):
        grad_G = A @ phi + b + lam * (phi - theta)
        J = J - alpha * (A @ J + lam * (J - eye))
        phi = phi - alpha * grad_G
    return J.T @ _vector(test_grad(phi), "test_grad(phi)", d)


def nesterov(Q: Any, q: Any, beta: Any, mu: Any, steps: int) -> np.ndarray:
    """Nesterov's accelerated method for f(x) = 1/2 x^T Q x - q^T x (mu <= spectrum(Q) <= beta),
    the constant-momentum form for strongly convex functions (Bubeck 2015, Thm 3.18):
    x_1 = y_1 = 0; y_{s+1} = x_s - grad f(x_s) / beta; x_{s+1} = (1 + c) y_{s+1} - c y_s with
    c = (sqrt(kappa) - 1) / (sqrt(kappa) + 1), kappa = beta / mu. Returns y after ``steps``
    gradient computations (y_1 = 0 for steps = 0). Exact: sqrt(kappa) must be rational."""
    Q = exact_array(Q, "Q", 2)
    d = Q.shape[0]
    q = _vector(q, "q", d)
    beta, mu = exact_array(beta, "beta", 0), exact_array(mu, "mu", 0)
    if not (0 < mu <= beta):
        raise ReferenceInputError(f"mu = {mu}, beta = {beta}: need 0 < mu <= beta")
    kappa = beta / mu
    n, m = isqrt(kappa.numerator), isqrt(kappa.denominator)
    if n * n != kappa.numerator or m * m != kappa.denominator:
        raise ReferenceInputError(f"kappa = beta/mu = {kappa} is not the square of a rational: the "
                                  "momentum (sqrt(kappa)-1)/(sqrt(kappa)+1) is irrational")
    c = (Fraction(n, m) - 1) / (Fraction(n, m) + 1)
    x = np.full(d, Fraction(0), dtype=object)
    y = x.copy()
    for _ in range(int(steps)):
        y_next = x - (Q @ x - q) / beta
        x = (1 + c) * y_next - c * y
        y = y_next
    return y


def cg_residuals(H_K: Any, g: Any, lam: Any, steps: int, x0: str = "zero") -> list[np.ndarray]:
    """r_k = g - (I + H_K/lam) x_k for k = 0..steps, x_k the CG iterates of
    :func:`estimators.reference.imaml_cg` (recomputed from each iterate, not by the recursion)."""
    H_K, lam = exact_array(H_K, "H_K", 2), exact_array(lam, "lam", 0)
    g = _vector(g, "g", H_K.shape[0])
    A = _eye(H_K.shape[0]) + H_K / lam
    return [g - A @ imaml_cg(H_K, g, lam, k, x0=x0) for k in range(int(steps) + 1)]
