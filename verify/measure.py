"""Errors of the paper's estimators against the exact meta-gradient P^K g.

Two measurements, for two purposes:

* :func:`error_matrices` -- float64, batched over many Hessian sequences at once: the matrix
  ``E = P^K - A`` whose spectral norm is the worst-case error over g (``A`` the estimator's matrix:
  I for first-order, P^L for truncated, the L-truncated expansion of eq. (8) for binomial). It only
  *proposes* candidates to the search; no verdict rests on it.
* :func:`exact_error` -- the error vector ``P^K g - estimate`` computed by the independent dense
  reference ``estimators.reference`` in exact rational arithmetic. Every reported violation is
  confirmed through it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .rationals import fraction_array, sq_norm, to_float_array

__all__ = ["BOUNDED", "error_matrices", "exact_error", "spectral_witness_direction"]

#: estimators whose error the paper bounds
BOUNDED = ("fo", "trunc", "binom")


def error_matrices(hessians: Any, alpha: float, L: int, estimator: str) -> np.ndarray:
    """``P^K - A`` for Hessians of shape (..., K, d, d) (float64), ``A`` the estimator's matrix.

    ``P^i = (I - alpha H^{K-i}) ... (I - alpha H^{K-1})`` (eq. (4)); ``A`` is I ("fo"), P^L
    ("trunc", eq. (5)) or ``I + sum_{l<=L} sum_{k_1<..<k_l} prod_i (-alpha H^{k_i})`` ("binom",
    eq. (8), accumulated by appending factors in increasing k).
    """
    hessians = np.asarray(hessians, dtype=float)
    K, d = hessians.shape[-3], hessians.shape[-1]
    eye = np.broadcast_to(np.eye(d), hessians.shape[:-3] + (d, d))
    factors = eye[..., None, :, :] - alpha * hessians
    P, P_L = eye, eye
    for i in range(1, K + 1):
        P = factors[..., K - i, :, :] @ P
        if i == L:
            P_L = P
    if estimator == "fo":
        return P - eye
    if estimator == "trunc":
        return P - P_L
    if estimator != "binom":
        raise ValueError(f"estimator={estimator!r} is not one of {', '.join(BOUNDED)}")
    partial = [eye] + [np.zeros_like(eye)] * L  # partial[l]: ordered l-fold products so far
    for k in range(K):
        step = -alpha * hessians[..., k, :, :]
        for l in range(min(L, k + 1), 0, -1):
            partial[l] = partial[l] + partial[l - 1] @ step
    return P - sum(partial)


def exact_error(hessians: Any, g: Any, alpha: Any, L: int, estimator: str) -> np.ndarray:
    """Exact error vector ``P^K g - estimate`` through ``estimators.reference`` (Fractions)."""
    from estimators import reference as ref

    H, g = fraction_array(hessians), fraction_array(g)
    exact = np.asarray(ref.meta_gradient(H, g, alpha), dtype=object)
    if estimator == "fo":
        estimate = ref.first_order(g)
    elif estimator == "trunc":
        estimate = ref.truncated(H, g, alpha, L)
    elif estimator == "binom":
        estimate = ref.truncated_expansion(H, g, alpha, L)
    else:
        raise ValueError(f"estimator={estimator!r} is not one of {', '.join(BOUNDED)}")
    return exact - np.asarray(estimate, dtype=object)


def spectral_witness_direction(matrix: Any) -> np.ndarray:
    """Unit right singular vector of the largest singular value (float64)."""
    _, _, vt = np.linalg.svd(to_float_array(matrix))
    return vt[0]


def error_sq(hessians: Any, g: Any, alpha: Any, L: int, estimator: str) -> Fraction:
    """Exact squared error norm (Fraction)."""
    return sq_norm(exact_error(hessians, g, alpha, L, estimator))
