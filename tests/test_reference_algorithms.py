"""Algorithms 1 and 2 as printed and as corrected, compared with eq. (8).

Verdicts pinned here (docs/errata.md):
* Algorithm 1 as printed reads the Hessians at phi^1..phi^K (u^{l,k} at phi^k, k = L-l..K-l): it
  never reads H^0, needs H^K, and equals eq. (8) of the shifted sequence H^1..H^K -- not eq. (8).
  With u^{l,k} = H^{k-1} v^{l,k} it equals eq. (8).
* Algorithm 2 as printed (T strictly lower-triangular) is not eq. (8); with T lower-triangular
  including the diagonal it is.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from test_reference_cases import assert_exact, rational_case, rational_cases

from estimators import reference as R


def scalar_stack(*hs):
    return np.array([[[Fraction(h)]] for h in hs], dtype=object)


ONE = np.array([Fraction(1)], dtype=object)
HALF = Fraction(1, 2)


# -- corrected: equal eq. (8) -----------------------------------------------------------------------


@given(rational_cases())
def test_corrected_algorithms_equal_eq8_exact(case):
    H, g, alpha = case
    for L in range(H.shape[0] + 1):
        want = R.truncated_expansion(H, g, alpha, L)
        assert_exact(R.algorithm_1_corrected(H, g, alpha, L), want)
        assert_exact(R.algorithm_2_corrected(H, g, alpha, L), want)


# -- Algorithm 1 as printed: the Hessian index is shifted by one ----------------------------------------


def test_algorithm_1_printed_fails_on_the_errata_witness():
    # docs/errata.md, Algorithm 1: K = 2, L = 1, H^0 = 1, H^1 = 0, H^K = 0, alpha = 1/2, g = 1
    H = scalar_stack(1, 0)
    printed = R.algorithm_1_printed(H, ONE, HALF, 1, H_K=scalar_stack(0)[0])
    assert_exact(printed, [Fraction(1)])
    assert_exact(R.truncated_expansion(H, ONE, HALF, 1), [Fraction(1, 2)])
    assert_exact(R.algorithm_1_corrected(H, ONE, HALF, 1), [Fraction(1, 2)])


@given(rational_cases(min_K=2))
def test_algorithm_1_printed_is_eq8_of_the_shifted_sequence(case):
    H, g, alpha = case
    K = H.shape[0]
    H_K = H[0].copy() * 2  # any symmetric matrix plays the Hessian at phi^K
    shifted = np.concatenate([H[1:], H_K[None]])
    for L in range(1, K):
        assert_exact(R.algorithm_1_printed(H, g, alpha, L, H_K),
                     R.truncated_expansion(shifted, g, alpha, L))


@pytest.mark.parametrize("seed", range(3))
def test_algorithm_1_printed_differs_from_eq8_on_random_non_commuting(seed):
    H, g, alpha = rational_case(seed, K=4, d=2)
    for L in range(1, 4):
        printed = R.algorithm_1_printed(H, g, alpha, L, -H[0])  # any H_K with H_K g != H^0 g
        assert any(a != b for a, b in zip(printed, R.truncated_expansion(H, g, alpha, L)))


# -- Algorithm 2 as printed: T must include the diagonal ---------------------------------------------


def test_algorithm_2_printed_fails_on_the_errata_witness():
    # docs/errata.md, Algorithm 2: K = 2, L = 1, H^0 = 1, H^1 = 0, alpha = 1/2, g = 1
    H = scalar_stack(1, 0)
    assert_exact(R.algorithm_2_printed(H, ONE, HALF, 1), [Fraction(1)])
    assert_exact(R.truncated_expansion(H, ONE, HALF, 1), [Fraction(1, 2)])
    assert_exact(R.algorithm_2_corrected(H, ONE, HALF, 1), [Fraction(1, 2)])


@pytest.mark.parametrize("seed", range(3))
def test_algorithm_2_printed_differs_from_eq8_on_random_non_commuting(seed):
    H, g, alpha = rational_case(seed, K=5, d=2)
    for L in range(1, 5):
        printed = R.algorithm_2_printed(H, g, alpha, L)
        assert any(a != b for a, b in zip(printed, R.truncated_expansion(H, g, alpha, L)))


@given(rational_cases(min_K=2))
def test_algorithm_2_printed_at_L1_drops_H0(case):
    # with the diagonal of T missing, the L = 1 output is g - a sum_{k=1}^{K-1} H^k g
    H, g, alpha = case
    assert_exact(R.algorithm_2_printed(H, g, alpha, 1), R.truncated_expansion(H[1:], g, alpha, 1))


def test_printed_algorithms_take_L_in_1_to_K_minus_1_as_printed():
    H, g, alpha = rational_case(0, K=3, d=2)
    for L in (0, 3):
        with pytest.raises(R.ReferenceInputError, match=rf"L = {L}: must satisfy 1 <= L <= 2"):
            R.algorithm_2_printed(H, g, alpha, L)
        with pytest.raises(R.ReferenceInputError, match=r"1 <= L <= 2"):
            R.algorithm_1_printed(H, g, alpha, L, H[0])


def test_algorithm_1_printed_needs_a_symmetric_H_K_of_matching_shape():
    H, g, alpha = rational_case(0, K=3, d=2)
    with pytest.raises(R.ReferenceInputError, match=r"H_K: has shape \(3, 3\); expected \(2, 2\)"):
        R.algorithm_1_printed(H, g, alpha, 1, np.eye(3, dtype=int).astype(object))
    bad = np.array([[Fraction(0), Fraction(1)], [Fraction(2), Fraction(0)]], dtype=object)
    with pytest.raises(R.ReferenceInputError, match=r"H_K\[0\]: not exactly symmetric"):
        R.algorithm_1_printed(H, g, alpha, 1, bad)
