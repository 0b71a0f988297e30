"""Local case generators for the reference tests (random non-commuting indefinite Hessians),
the independent yardsticks the reference is compared with, and tests of both.

Imported by the other tests/test_reference_*.py files.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

#: float64 agreement required between independent computations (relative to the result's scale)
RTOL = 1e-12


def sym(A):
    return (A + np.swapaxes(A, -1, -2)) / 2


def commute(A, B) -> bool:
    return bool(np.all(A @ B == B @ A))


def float_case(seed: int, K: int, d: int):
    """K symmetric indefinite d x d Hessians (consecutive ones non-commuting for d >= 2), g, alpha."""
    rng = np.random.default_rng(seed)
    while True:
        H = sym(rng.standard_normal((K, d, d)))
        if d == 1 or all(not np.allclose(H[k] @ H[k + 1], H[k + 1] @ H[k]) for k in range(K - 1)):
            break
    return H, rng.standard_normal(d), float(rng.uniform(0.1, 0.6))


def rational_case(seed: int, K: int, d: int):
    """Like :func:`float_case` with Fraction entries (numerators in [-5, 5], denominators 1..4)."""
    rng = np.random.default_rng(seed)

    def frac(*shape):
        num = rng.integers(-5, 6, shape)
        den = rng.integers(1, 5, shape)
        return np.vectorize(lambda p, q: Fraction(int(p), int(q)), otypes=[object])(num, den)

    while True:
        H = sym(frac(K, d, d))
        if d == 1 or all(not commute(H[k], H[k + 1]) for k in range(K - 1)):
            break
    return H, frac(d), Fraction(int(rng.integers(1, 4)), int(rng.integers(2, 7)))


_FRACTION = st.builds(Fraction, st.integers(-6, 6), st.sampled_from([1, 2, 3, 4]))


@st.composite
def rational_cases(draw, max_K: int = 4, max_d: int = 3, min_K: int = 1):
    """Hypothesis: (H, g, alpha) with small rational entries, symmetric, usually non-commuting."""
    K = draw(st.integers(min_K, max_K))
    d = draw(st.integers(1, max_d))
    n_upper = d * (d + 1) // 2
    entries = draw(st.lists(_FRACTION, min_size=K * n_upper + d, max_size=K * n_upper + d))
    H = np.empty((K, d, d), dtype=object)
    it = iter(entries)
    for k in range(K):
        for i in range(d):
            for j in range(i, d):
                H[k, i, j] = H[k, j, i] = next(it)
    g = np.array(list(it), dtype=object)
    alpha = Fraction(draw(st.integers(1, 8)), 8)
    return H, g, alpha


def assert_close(x, y, rtol: float = RTOL):
    """float64 agreement: max |x - y| <= rtol * max(1, max |y|)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    assert x.shape == y.shape
    scale = max(1.0, float(np.max(np.abs(y))))
    assert np.max(np.abs(x - y)) <= rtol * scale, (x, y)


def assert_exact(x, y):
    """Exact agreement of two arrays of Fractions (and no float sneaked in)."""
    x, y = np.asarray(x, dtype=object), np.asarray(y, dtype=object)
    assert x.shape == y.shape
    assert all(isinstance(v, Fraction) for v in x.flat), x
    assert all(a == b for a, b in zip(x.flat, y.flat)), (x, y)


# -- independent yardsticks -----------------------------------------------------------------------


def unrolled_vjp(H, g, alpha, steps):
    """d/dtheta <g, phi^K> for the inner loop phi^{k+1} = phi^k - alpha H^k phi^k (the gradient
    steps of the quadratic losses phi^T H^k phi / 2) over ``steps``: the Jacobian of phi^K is built
    by pushing the identity forward through the loop, then transposed onto g."""
    d = H.shape[1]
    J = np.eye(d) if H.dtype != object else np.array(
        [[Fraction(int(i == j)) for j in range(d)] for i in range(d)], dtype=object)
    for k in steps:
        J = J - alpha * (H[k] @ J)
    return J.T @ g


def alpha_truncation(value_at, alpha, K: int, L: int):
    """sum_{l <= L} c_l alpha^l where value_at(a) = sum_{l <= K} c_l a^l (exact Lagrange fit at
    a = 1..K+1): the degree-<=L part of a polynomial in alpha, found without expanding it."""
    nodes = [Fraction(j) for j in range(1, K + 2)]
    values = [value_at(a) for a in nodes]
    coeffs = [np.array([Fraction(0)] * len(values[0]), dtype=object) for _ in range(K + 1)]
    for j, (xj, yj) in enumerate(zip(nodes, values)):
        basis = [Fraction(1)]  # coefficients of prod_{m != j} (a - x_m) / (x_j - x_m)
        for m, xm in enumerate(nodes):
            if m != j:
                basis = [(b0 - xm * b1) / (xj - xm) for b0, b1 in zip([Fraction(0)] + basis, basis + [Fraction(0)])]
        for l in range(K + 1):
            coeffs[l] = coeffs[l] + basis[l] * yj
    return sum(coeffs[l] * alpha**l for l in range(L + 1))


# -- tests of the generators and yardsticks ---------------------------------------------------------


def test_float_case_is_symmetric_indefinite_non_commuting():
    H, _, _ = float_case(0, K=4, d=3)
    assert np.array_equal(H, np.swapaxes(H, 1, 2))
    eig = np.linalg.eigvalsh(H)
    assert eig.min() < 0 < eig.max()
    assert not any(np.allclose(H[k] @ H[k + 1], H[k + 1] @ H[k]) for k in range(3))


def test_rational_case_is_exactly_symmetric_non_commuting():
    H, _, _ = rational_case(1, K=3, d=2)
    assert all(isinstance(v, Fraction) for v in H.flat)
    assert all(H[k][i, j] == H[k][j, i] for k in range(3) for i in range(2) for j in range(2))
    assert not any(commute(H[k], H[k + 1]) for k in range(2))


def test_unrolled_vjp_matches_a_scalar_product_by_hand():
    # K = 2, d = 1: (1 - a h0)(1 - a h1) g
    H = np.array([[[Fraction(2)]], [[Fraction(-3)]]], dtype=object)
    got = unrolled_vjp(H, np.array([Fraction(5)], dtype=object), Fraction(1, 4), range(2))
    assert got[0] == (1 - Fraction(2, 4)) * (1 + Fraction(3, 4)) * 5


def test_alpha_truncation_of_a_known_polynomial():
    # value(a) = (1 + 2a)^3 = 1 + 6a + 12a^2 + 8a^3; degree <= 1 part at a = 1/2 is 1 + 3
    got = alpha_truncation(lambda a: np.array([(1 + 2 * a) ** 3], dtype=object), Fraction(1, 2), 3, 1)
    assert got[0] == 4


@given(rational_cases())
def test_rational_cases_are_symmetric(case):
    H, _, alpha = case
    assert all(H[k][i, j] == H[k][j, i] for k in range(H.shape[0])
               for i in range(H.shape[1]) for j in range(H.shape[1]))
    assert 0 < alpha <= 1
