"""Vectorised float64 kernels for the formulas of statements, over NumPy arrays, in log space.

Every bound is a non-negative number that may exceed float64 (``(1+alpha*H)^K`` for K = 10,000)
while its parts under- or overflow separately, so each bound is first computed as its natural
logarithm (``-inf`` for an exact zero) and exponentiated once at the end: a value beyond float64
becomes ``inf`` and a value below it ``0.0``, never NaN. K, L, M are float arrays with integer
values; all arrays are broadcast together beforehand.

Accuracy: the logarithms are accurate to a few ulps of their magnitude, so a bound is accurate to
about ``|log(bound)| * 1e-16`` relative, plus the conditioning of the bound in x itself
(``K * x / (1 + x)`` ulps for (1+x)^K).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betainc, gammaln

__all__ = ["log_comb", "log_expm1", "log_one_minus_power", "log_binomial_tail", "log_of", "log_product",
           "log_sum"]

_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def _stirling_error(m: ArrayLike) -> np.ndarray:
    """``log(m!) - (m log m - m + log(2 pi m)/2)`` for m >= 1 (Stirling's remainder, small)."""
    m = np.asarray(m, dtype=float)
    out = np.empty_like(m)
    small = m < 16
    ms = m[small]
    out[small] = gammaln(ms + 1) - (ms * np.log(ms) - ms + _HALF_LOG_2PI + 0.5 * np.log(ms))
    mb = m[~small]
    inv2 = 1.0 / (mb * mb)
    out[~small] = (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 / 1188)))) / mb
    return out


def log_comb(n: ArrayLike, k: ArrayLike) -> np.ndarray:
    """``log C(n, k)`` for integer-valued float arrays; ``-inf`` where k < 0 or k > n.

    Written as ``k log(n/k) + (n-k) log(n/(n-k)) + log(n / (2 pi k (n-k)))/2`` plus Stirling
    remainders, a sum of terms without cancellation, so it is accurate to a few ulps of the
    result (``gammaln(n+1) - gammaln(k+1) - gammaln(n-k+1)`` loses ``log(n!)`` ulps).
    """
    n, k = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(k, dtype=float))
    out = np.full(n.shape, -np.inf)
    edge = ((k == 0) | (k == n)) & (n >= 0)
    out[edge] = 0.0
    inner = (k > 0) & (k < n)
    nn, kk = n[inner], k[inner]
    rest = nn - kk
    out[inner] = (-kk * np.log(kk / nn) - rest * np.log1p(-kk / nn)
                  + 0.5 * np.log(nn / (kk * rest)) - _HALF_LOG_2PI
                  + _stirling_error(nn) - _stirling_error(kk) - _stirling_error(rest))
    return out


def log_expm1(t: ArrayLike) -> np.ndarray:
    """``log(exp(t) - 1)`` for t >= 0 (``-inf`` at 0), without overflow."""
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(t > 30, t + np.log1p(-np.exp(-np.minimum(t, 700))),
                        np.log(np.expm1(np.minimum(t, 30))))


def log_one_minus_power(base_log: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``log(1 - b^n)`` for ``b = exp(base_log)`` in [0, 1], n >= 0 (``-inf`` when n = 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n == 0, 0.0, n * base_log)  # n*log(0) with n = 0 would be NaN
        return np.log(-np.expm1(t))


def log_binomial_tail(K: ArrayLike, L: ArrayLike, x: ArrayLike) -> np.ndarray:
    """``log sum_{l=L+1}^{K} C(K, l) x^l`` (the sum in eq. (11c)); ``-inf`` where L >= K.

    Main path: the sum is ``(1+x)^K P(Bin(K, p) > L)`` with ``p = x/(1+x)``, a regularised
    incomplete beta function ``I_p(L+1, K-L)``. Where that probability underflows (deep tail),
    the terms decrease from l = L+1 on, and the sum is its first term times
    ``1 + r_1 + r_1 r_2 + ...`` with ``r_j = x (K-L-j) / (L+1+j)``, summed until negligible.
    At L = 0 the sum is ``(1+x)^K - 1``, computed as in (11a) so that both agree bit for bit.
    """
    K, L, x = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (K, L, x)))
    out = np.full(K.shape, -np.inf)
    live = L < K
    Kl, Ll, xl = K[live], L[live], x[live]
    tail_probability = betainc(Ll + 1, Kl - Ll, xl / (1 + xl))
    deep = tail_probability < 1e-280
    with np.errstate(divide="ignore"):
        values = Kl * np.log1p(xl) + np.log(tail_probability)
    if deep.any():
        Kd, Ld, xd = Kl[deep], Ll[deep], xl[deep]
        ratio_sum, term, j = np.ones_like(xd), np.ones_like(xd), 0
        active = np.ones(xd.shape, dtype=bool)
        while active.any():
            j += 1
            active &= Ld + j < Kd + 0.5
            term = np.where(active, term * xd * (Kd - Ld - j) / (Ld + 1 + j), 0.0)
            ratio_sum += term
            active &= term > 1e-18 * ratio_sum
        with np.errstate(divide="ignore"):  # x = alpha*H may underflow to 0: the log is -inf
            values[deep] = log_comb(Kd, Ld + 1) + (Ld + 1) * np.log(xd) + np.log(ratio_sum)
    out[live] = values
    whole = L == 0  # the full sum (1+x)^K - 1: the same expression as (11a), bit for bit
    out[whole] = log_expm1(K[whole] * np.log1p(x[whole]))
    return out


def log_of(x: ArrayLike) -> np.ndarray:
    """``log x`` for x >= 0 (``-inf`` at 0, ``inf`` at inf)."""
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(x, dtype=float))


def log_product(*logs: ArrayLike) -> np.ndarray:
    """``log`` of a product of non-negative factors from their logs: ``-inf`` where a factor is 0,
    even when another is inf (a zero factor makes the product 0, never NaN)."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in logs))
    zero = np.zeros(arrays[0].shape, dtype=bool)
    total = np.zeros(arrays[0].shape)
    for a in arrays:
        zero |= a == -np.inf
        total = total + np.where(a == -np.inf, 0.0, a)
    return np.where(zero, -np.inf, total)


def log_sum(*logs: ArrayLike) -> np.ndarray:
    """``log`` of a sum of non-negative terms from their logs (``logaddexp``, no overflow)."""
    out = np.asarray(logs[0], dtype=float)
    for v in logs[1:]:
        out = np.logaddexp(out, v)
    return out
