"""Proposition 3.1, Theorem 3.2, eq. (23a), Lemmas A.4, A.5 and B.4 on non-commuting Hessians.

Verdicts pinned here (docs/errata.md): Proposition 3.1, Theorem 3.2 and Lemma A.4 hold as printed;
Lemma A.5 as printed (eq. (25), v^{l-1,K-l}) is false, its proof's last line (v^{l,K-l}) holds;
Lemma B.4 as printed (prod_{i=1}^{l}) is false, the form of its proof (eq. (33), prod_{i=1}^{L})
holds.
"""

from fractions import Fraction

import numpy as np
import pytest
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


def F(*xs):
    return np.array([Fraction(x) for x in xs], dtype=object)


# -- Proposition 3.1 and Theorem 3.2: hold ------------------------------------------------------


@given(rational_cases())
def test_proposition_3_1_operator_cascade_equals_the_truncated_expansion(case):
    H, _, alpha = case
    for L in range(H.shape[0] + 1):
        assert_exact(R.operator_cascade(H, alpha, L), R.truncated_expansion_matrix(H, alpha, L))


@given(rational_cases())
def test_theorem_3_2_vector_cascade_equals_eq8(case):
    H, g, alpha = case
    for L in range(H.shape[0] + 1):
        assert_exact(R.vector_cascade(H, g, alpha, L), R.truncated_expansion(H, g, alpha, L))


def test_cascade_at_L_equal_K_is_the_full_product():
    H, _, alpha = rational_case(3, K=5, d=3)
    assert_exact(R.operator_cascade(H, alpha, 5), R.product(H, alpha, 5))


def test_cascade_at_large_L_needs_no_deep_recursion():
    # L = K = 1500 operators (beyond Python's default recursion limit), against the unrolled loop
    H, g, _ = float_case(6, K=1500, d=2)
    H = H / np.linalg.norm(H, 2, axis=(1, 2))[:, None, None]
    alpha = 1 / 1500  # K alpha ||H|| = 1: no growth, no cancellation
    assert_close(R.vector_cascade(H, g, alpha, 1500), unrolled_vjp(H, g, alpha, range(1500)))


def test_intermediate_v_boundary_values():
    # eq. (23a): v^{0,k} = g; v^{l,K-l+1} is the empty sum P^{l-1} g; v^{L,0} is the cascade
    H, g, alpha = rational_case(4, K=5, d=2)
    assert_exact(R.intermediate_v(H, g, alpha, 0, 3), g)
    for l in range(1, 6):
        assert_exact(R.intermediate_v(H, g, alpha, l, 5 - l + 1), R.product(H, alpha, l - 1) @ g)
        assert_exact(R.intermediate_v(H, g, alpha, l, 0), R.vector_cascade(H, g, alpha, l))


# -- Lemma A.4: holds ------------------------------------------------------------------------------


@given(rational_cases())
def test_lemma_a4_holds(case):
    H, _, alpha = case
    for L in range(1, H.shape[0] + 1):
        lhs, rhs = R.lemma_a4(H, alpha, L)
        assert_exact(lhs, rhs)
        assert_exact(lhs, R.truncated_expansion_matrix(H, alpha, L))


# -- Lemma A.5: false as printed, true as its proof ends ---------------------------------------------


@given(rational_cases(min_K=2))
def test_lemma_a5_corrected_holds(case):
    H, g, alpha = case
    K = H.shape[0]
    for L in range(2, K + 1):
        for l in range(1, L):
            lhs, rhs = R.lemma_a5_corrected(H, g, alpha, l, L)
            assert_exact(lhs, rhs)


def test_lemma_a5_as_printed_fails_on_the_errata_witness():
    # docs/errata.md, Lemma A.5: K = 2, L = 2, l = 1, H^0 = 0, H^1 = 1, alpha = 1/2, g = 1
    H = np.array([[[0]], [[1]]], dtype=object) + Fraction(0)
    lhs, rhs = R.lemma_a5(H, F(1), Fraction(1, 2), 1, 2)
    assert_exact(lhs, F(Fraction(1, 2)))  # P^1 g = (1 - 1/2) 1
    assert_exact(rhs, F(1))  # v^{0,1} = g
    assert lhs[0] != rhs[0]


@pytest.mark.parametrize("seed", range(4))
def test_lemma_a5_as_printed_fails_on_random_non_commuting(seed):
    H, g, alpha = rational_case(seed, K=4, d=2)
    for L in range(2, 5):
        for l in range(1, L):
            lhs, rhs = R.lemma_a5(H, g, alpha, l, L)
            assert any(a != b for a, b in zip(lhs, rhs))


# -- Lemma B.4: false as printed (prod to l), true as in its proof (prod to L) -------------------------


@given(rational_cases(min_K=2))
def test_lemma_b4_holds_in_the_form_of_its_proof(case):
    H, g, alpha = case
    for L in range(1, H.shape[0]):
        lhs, rhs = R.lemma_b4(H, g, alpha, L)
        assert_exact(lhs, rhs)


@pytest.mark.parametrize("seed,K,d", [(0, 5, 3), (1, 8, 2)])
def test_lemmas_a4_a5_b4_float_non_commuting(seed, K, d):
    H, g, alpha = float_case(seed, K, d)
    for L in range(1, K + 1):
        assert_close(*R.lemma_a4(H, alpha, L))
        for l in range(1, L):
            assert_close(*R.lemma_a5_corrected(H, g, alpha, l, L))
        if L < K:
            lhs, rhs = R.lemma_b4(H, g, alpha, L)
            assert_close(lhs, rhs)
            assert_close(lhs, R.meta_gradient(H, g, alpha) - R.expansion_dp(H, g, alpha, L))


def test_lemma_b4_as_printed_fails_on_the_errata_witness():
    # docs/errata.md, Lemma B.4: K = 3, L = 2, H^k = 1, alpha = 1/2, g = 1
    H = np.array([[[1]]] * 3, dtype=object) + Fraction(0)
    lhs, rhs = R.lemma_b4_printed(H, F(1), Fraction(1, 2), 2)
    assert_exact(lhs, F(Fraction(-1, 8)))  # -(1/2)^3: the one term with three factors
    assert_exact(rhs, F(Fraction(1, 4)))  # (-1/2)(-1/2): prod over i <= l = 1 only, times -aH^2
    _, rhs_proof = R.lemma_b4(H, F(1), Fraction(1, 2), 2)
    assert_exact(rhs_proof, lhs)


def test_lemma_b4_as_printed_is_undefined_beyond_K_equal_2L():
    H, g, alpha = rational_case(0, K=5, d=2)
    with pytest.raises(R.ReferenceInputError, match=r"k_i is undefined for l > L"):
        R.lemma_b4_printed(H, g, alpha, 2)


@pytest.mark.parametrize("seed", range(3))
def test_lemma_b4_as_printed_fails_on_random_non_commuting(seed):
    H, g, alpha = rational_case(seed, K=4, d=2)
    for L in (2, 3):
        lhs, rhs = R.lemma_b4_printed(H, g, alpha, L)
        assert any(a != b for a, b in zip(lhs, rhs))
