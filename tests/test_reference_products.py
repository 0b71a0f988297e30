"""P^i, the meta-gradient eq. (4), first-order and truncated eq. (5), against the unrolled loop."""

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from test_reference_cases import (
    assert_close,
    assert_exact,
    float_case,
    rational_case,
    rational_cases,
    unrolled_vjp,
)

from estimators import reference as R


@pytest.mark.parametrize("seed,K,d", [(0, 1, 1), (1, 3, 2), (2, 6, 4), (3, 8, 5)])
def test_meta_gradient_is_the_unrolled_loop_gradient_float(seed, K, d):
    H, g, alpha = float_case(seed, K, d)
    assert_close(R.meta_gradient(H, g, alpha), unrolled_vjp(H, g, alpha, range(K)))


@given(rational_cases())
def test_meta_gradient_is_the_unrolled_loop_gradient_exact(case):
    H, g, alpha = case
    assert_exact(R.meta_gradient(H, g, alpha), unrolled_vjp(H, g, alpha, range(H.shape[0])))


@given(rational_cases())
def test_truncated_is_the_gradient_through_the_last_L_steps(case):
    H, g, alpha = case
    K = H.shape[0]
    for L in range(K + 1):
        assert_exact(R.truncated(H, g, alpha, L), unrolled_vjp(H, g, alpha, range(K - L, K)))


def test_product_order_is_by_increasing_k():
    # non-commuting 2 x 2 case, P^2 = (I - aH^0)(I - aH^1) written out by hand
    a = Fraction(1, 2)
    H0 = np.array([[Fraction(1), Fraction(0)], [Fraction(0), Fraction(0)]], dtype=object)
    H1 = np.array([[Fraction(0), Fraction(1)], [Fraction(1), Fraction(0)]], dtype=object)
    by_hand = np.array([[Fraction(1, 2), Fraction(-1, 4)], [Fraction(-1, 2), Fraction(1)]], dtype=object)
    P2 = R.product(np.stack([H0, H1]), a, 2)
    assert_exact(P2, by_hand)
    assert_exact(R.product(np.stack([H0, H1]), a, 1), np.eye(2, dtype=int) - a * H1)
    assert_exact(R.product(np.stack([H0, H1]), a, 0), np.eye(2, dtype=int).astype(object) + Fraction(0))


@pytest.mark.parametrize("seed", range(3))
def test_product_applied_to_g_is_the_truncated_estimate(seed):
    H, g, alpha = rational_case(seed, K=4, d=3)
    for i in range(5):
        assert_exact(R.product(H, alpha, i) @ g, R.truncated(H, g, alpha, i))


def test_remark_3_4_reductions_of_trunc():
    H, g, alpha = float_case(7, K=5, d=3)
    assert np.array_equal(R.truncated(H, g, alpha, 0), g)  # L = 0: first order
    assert np.array_equal(R.truncated(H, g, alpha, 5), R.meta_gradient(H, g, alpha))  # L = K: MAML
    assert np.array_equal(R.first_order(g), g)


def test_first_order_returns_a_copy_in_the_input_arithmetic():
    g = np.array([Fraction(1, 3), 2], dtype=object)
    out = R.first_order(g)
    assert_exact(out, [Fraction(1, 3), Fraction(2)])
    assert out is not g
    assert R.first_order([1.5, 2.0]).dtype == np.float64


def test_sympy_rationals_in_sympy_rationals_out():
    H, g, alpha = rational_case(4, K=3, d=2)
    to_sym = np.vectorize(lambda x: sympy.Rational(x.numerator, x.denominator), otypes=[object])
    got = R.meta_gradient(to_sym(H), to_sym(g), sympy.Rational(alpha.numerator, alpha.denominator))
    want = R.meta_gradient(H, g, alpha)
    assert all(isinstance(v, sympy.Rational) for v in got)
    assert [sympy.Rational(w.numerator, w.denominator) for w in want] == list(got)


def test_nested_lists_and_ints_are_accepted():
    # ints mix with Fractions (exact mode) and with floats (float mode)
    H = [[[1, 0], [0, 2]]]
    assert_exact(R.meta_gradient(H, [1, 1], Fraction(1, 2)), [Fraction(1, 2), Fraction(0)])
    assert R.meta_gradient(H, [1, 1], 0.5).tolist() == [0.5, 0.0]


def test_float_results_are_new_arrays_never_the_callers_g():
    # at L = 0 several functions return g's value; the caller's array must not be handed back
    H, g, alpha = float_case(8, K=3, d=2)
    kept = g.copy()
    for out in (R.first_order(g), R.truncated(H, g, alpha, 0), R.truncated_expansion(H, g, alpha, 0),
                R.vector_cascade(H, g, alpha, 0), R.hybrid(H, g, alpha, 0, 2),
                R.algorithm_1_corrected(H, g, alpha, 0)):
        assert out is not g
        out += 1.0
        assert np.array_equal(g, kept)
