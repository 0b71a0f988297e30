"""Eq. (8): explicit subset enumeration and the polynomial recursion, against independent yardsticks
(the degree-<=L part of P^K g as a polynomial in alpha, math.comb for constant Hessians, SymPy
for commuting diagonal ones, the unrolled loop for L = K)."""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from test_reference_cases import (
    alpha_truncation,
    assert_close,
    assert_exact,
    float_case,
    rational_case,
    rational_cases,
    unrolled_vjp,
)

from estimators import reference as R


@given(rational_cases())
def test_eq8_is_the_degree_L_part_of_the_meta_gradient_in_alpha(case):
    H, g, alpha = case
    K = H.shape[0]
    for L in range(K + 1):
        want = alpha_truncation(lambda a: R.meta_gradient(H, g, a), alpha, K, L)
        assert_exact(R.truncated_expansion(H, g, alpha, L), want)
        assert_exact(R.expansion_dp(H, g, alpha, L), want)


EQ8_METHODS = {  # every way the reference evaluates eq. (8), besides the enumeration itself
    "expansion_dp": R.expansion_dp,
    "vector_cascade (Theorem 3.2)": R.vector_cascade,
    "operator_cascade (Proposition 3.1)": lambda H, g, alpha, L: R.operator_cascade(H, alpha, L) @ g,
    "algorithm_1_corrected": R.algorithm_1_corrected,
    "algorithm_2_corrected": R.algorithm_2_corrected,
}


@pytest.mark.parametrize("method", EQ8_METHODS)
@pytest.mark.parametrize("seed,K,d", [(0, 3, 2), (1, 6, 3), (2, 9, 4), (3, 10, 2)])
def test_every_method_agrees_with_the_enumeration_float(method, seed, K, d):
    H, g, alpha = float_case(seed, K, d)
    for L in range(K + 1):
        assert_close(EQ8_METHODS[method](H, g, alpha, L), R.truncated_expansion(H, g, alpha, L))


@pytest.mark.parametrize("seed", range(3))
def test_enumeration_and_recursion_agree_exact_non_commuting(seed):
    H, g, alpha = rational_case(seed, K=7, d=3)
    for L in range(8):
        assert_exact(R.expansion_dp(H, g, alpha, L), R.truncated_expansion(H, g, alpha, L))


def test_matrix_expansion_applied_to_g_is_eq8():
    H, g, alpha = rational_case(5, K=5, d=2)
    for L in range(6):
        assert_exact(R.truncated_expansion_matrix(H, alpha, L) @ g, R.truncated_expansion(H, g, alpha, L))


@given(rational_cases())
def test_remark_3_4_reductions_of_binom(case):
    H, g, alpha = case
    K = H.shape[0]
    assert_exact(R.truncated_expansion(H, g, alpha, 0), g)  # L = 0: first order
    assert_exact(R.truncated_expansion(H, g, alpha, K), unrolled_vjp(H, g, alpha, range(K)))  # L = K
    assert_exact(R.expansion_dp(H, g, alpha, K), R.meta_gradient(H, g, alpha))


@pytest.mark.parametrize("K,L", [(5, 2), (20, 3), (1000, 4)])
def test_constant_hessian_gives_binomial_coefficients(K, L):
    # H^k = h I for all k: eq. (8) = sum_{l<=L} C(K, l) (-alpha h)^l g, exactly
    h, alpha = Fraction(3, 2), Fraction(1, 5)
    g = np.array([Fraction(1), Fraction(-2)], dtype=object)
    H = np.array([[[h, Fraction(0)], [Fraction(0), h]]] * K, dtype=object)
    factor = sum(math.comb(K, l) * (-alpha * h) ** l for l in range(L + 1))
    assert_exact(R.expansion_dp(H, g, alpha, L), g * factor)
    if K <= 20:
        assert_exact(R.truncated_expansion(H, g, alpha, L), g * factor)


def test_commuting_diagonal_hessians_give_elementary_symmetric_polynomials():
    # diagonal H^k: coordinate i of eq. (8) is sum_{l<=L} e_l(-alpha h_{0,i}, ..., -alpha h_{K-1,i}) g_i
    K, L = 6, 3
    rng = np.random.default_rng(11)
    diag = rng.integers(-4, 5, (K, 2))
    H = np.array([np.diag([Fraction(int(x)) for x in row]) for row in diag], dtype=object)
    g = np.array([Fraction(2), Fraction(-1, 3)], dtype=object)
    alpha = Fraction(1, 3)
    t = sympy.Symbol("t")
    want = []
    for i in range(2):
        poly = sympy.Poly(sympy.prod([1 + t * sympy.Rational(-alpha * int(diag[k, i])) for k in range(K)]), t)
        coeffs = poly.all_coeffs()[::-1]  # coefficient of t^l is e_l
        want.append(Fraction(str(sum(coeffs[: L + 1]) * sympy.Rational(str(g[i])))))
    assert_exact(R.expansion_dp(H, g, alpha, L), want)
    assert_exact(R.truncated_expansion(H, g, alpha, L), want)


def test_recursion_at_large_K_matches_the_unrolled_loop_at_L_equal_K():
    H, g, _ = float_case(3, K=300, d=4)
    H = H / np.linalg.norm(H, 2, axis=(1, 2))[:, None, None]
    alpha = 0.01  # K alpha ||H|| = 3: the terms of eq. (8) stay of order 1 (no cancellation)
    assert_close(R.expansion_dp(H, g, alpha, 300), unrolled_vjp(H, g, alpha, range(300)))  # 1e-15


def test_expansion_is_not_symmetric_in_the_order_of_products():
    # pins the ordering convention: reversing the products (k decreasing) changes eq. (8)
    H, g, alpha = rational_case(9, K=3, d=2)
    ordered = R.truncated_expansion(H, g, alpha, 2)
    reversed_order = g - alpha * sum(H[k] @ g for k in range(3)) + alpha**2 * sum(
        H[j] @ (H[i] @ g) for i in range(3) for j in range(i + 1, 3))
    assert any(a != b for a, b in zip(ordered, reversed_order))
