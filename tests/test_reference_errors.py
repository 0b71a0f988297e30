"""Bad input: one clear ReferenceInputError (a ValueError) naming the argument and the condition."""

from fractions import Fraction

import numpy as np
import pytest
import sympy

from estimators import reference as R

H = np.array([[[1.0, 0.5], [0.5, -1.0]], [[0.0, 2.0], [2.0, 1.0]]])
g = np.array([1.0, -1.0])


@pytest.mark.parametrize("call,message", [
    (lambda: R.meta_gradient(np.zeros((0, 2, 2)), g, 0.1), r"H: K = 0 Hessians; need K >= 1"),
    (lambda: R.meta_gradient(np.zeros((2, 2, 3)), g, 0.1), r"H: matrices are 2 x 3; need square"),
    (lambda: R.meta_gradient(np.zeros((2, 2)), g, 0.1), r"H: has 2 dimension\(s\) \(shape \(2, 2\)\); expected 3"),
    (lambda: R.meta_gradient(H, [1.0, 2.0, 3.0], 0.1), r"g: has length 3; expected d = 2"),
    (lambda: R.meta_gradient(H, g, [0.1]), r"alpha: has 1 dimension\(s\).*expected 0"),
    (lambda: R.meta_gradient(H + np.array([[0, 1e-6], [0, 0]]), g, 0.1),
     r"H\[0\]: not symmetric: \|H\[0,1\] - H\[1,0\]\| = 1e-06 exceeds 1e-10 \* max\|H\|"),
    (lambda: R.meta_gradient(H, np.array([np.nan, 1.0]), 0.1), r"g: has non-finite entries"),
    (lambda: R.meta_gradient(H, [np.nan, 1.0], 0.1), r"g: entry nan is not finite"),
    (lambda: R.meta_gradient(H, g, float("inf")), r"alpha: entry inf is not finite"),
    (lambda: R.meta_gradient(H, g, Fraction(1, 3)),
     r"mixed exact and float entries: H has float entries while alpha has Fraction/SymPy"),
    (lambda: R.meta_gradient([[[Fraction(1), 0.5], [0.5, 1]]], [1, 1], 1),
     r"mixed exact and float entries"),
    (lambda: R.meta_gradient([[[Fraction(1), Fraction(1)], [Fraction(2), Fraction(1)]]], [1, 1], 1),
     r"H\[0\]: not exactly symmetric: entry \(0,1\) = 1 but \(1,0\) = 2"),
    (lambda: R.meta_gradient([[[1, 2], [3]]], [1, 1], 1), r"H: not a rectangular array"),
    (lambda: R.meta_gradient(H, g, sympy.sqrt(2)), r"alpha: entry sqrt\(2\) is a SymPy .*not a Rational"),
    (lambda: R.meta_gradient(H, g, "1/2"), r"alpha: entry '1/2' of type str is not an int, float"),
    (lambda: R.meta_gradient(H, g, True), r"alpha: entry True is a bool"),
    (lambda: R.meta_gradient([[[10**400]]], [1], 1), r"H: an integer entry is too large for float64"),
    (lambda: R.meta_gradient(H, np.array([1 + 1j, 0]), 0.1), r"g: dtype complex128 is not a real"),
    (lambda: R.truncated(H, g, 0.1, 3), r"L = 3: must satisfy 0 <= L <= 2 \(K = 2\)"),
    (lambda: R.truncated(H, g, 0.1, -1), r"L = -1: must satisfy 0 <= L <= 2"),
    (lambda: R.truncated(H, g, 0.1, 1.0), r"L = 1.0: must be an integer"),
    (lambda: R.product(H, 0.1, 3), r"i = 3: must satisfy 0 <= i <= 2"),
    (lambda: R.expansion_dp(H, g, 0.1, 5), r"L = 5: must satisfy 0 <= L <= 2"),
    (lambda: R.hybrid(H, g, 0.1, 2, 1), r"L = 2: must satisfy 0 <= L <= 1 \(C = 1; eq. \(39\)"),
    (lambda: R.hybrid(H, g, 0.1, 0, 3), r"C = 3: must satisfy 0 <= C <= 2"),
    (lambda: R.lemma_a4(H, 0.1, 0), r"L = 0: must satisfy 1 <= L <= 2"),
    (lambda: R.lemma_a5(H, g, 0.1, 2, 2), r"l = 2: must satisfy 1 <= l <= 1 \(L = 2; Lemma A.5"),
    (lambda: R.lemma_b4(H, g, 0.1, 2), r"L = 2: must satisfy 1 <= L <= 1 \(K = 2; Lemma B.4"),
    (lambda: R.imaml_exact(H[0], g, 0), r"lam = 0.0: the regularisation strength must be > 0"),
    (lambda: R.imaml_exact(H[0], g, -1.5), r"lam = -1.5: .* must be > 0"),
    (lambda: R.imaml_cg(H[0], g, 1.0, 2, x0="ones"), r"x0 = 'ones': must be 'zero' or 'g'"),
    (lambda: R.imaml_cg(H[0], g, 1.0, -1), r"steps = -1: must satisfy 0 <= steps"),
    (lambda: R.imaml_exact(H, g, 1.0), r"H_K: has 3 dimension\(s\)"),
    (lambda: R.first_order([]), r"g: has length 0"),
    # a long offending value is shown on one line, shortened
    (lambda: R.imaml_cg(H[0], g, 1.0, 2, x0=np.zeros(300)), r"x0 = array\(\[0\., .*\.\.\.: must be 'zero' or 'g'"),
    (lambda: R.truncated(H, g, 0.1, np.arange(300)), r"L = array\(\[ ?0, 1, .*\.\.\.: must be an integer"),
])
def test_bad_input_raises_one_clear_error(call, message):
    with pytest.raises(R.ReferenceInputError, match=message) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_enumeration_refuses_large_K_and_points_to_the_polynomial_method():
    big = np.zeros((21, 1, 1))
    with pytest.raises(R.ReferenceInputError, match=r"K = 21 exceeds 20.*expansion_dp\(H, g, alpha, L\)"):
        R.truncated_expansion(big, [1.0], 0.1, 1)
    with pytest.raises(R.ReferenceInputError, match=r"operator_cascade"):
        R.truncated_expansion_matrix(big, 0.1, 1)
    with pytest.raises(R.ReferenceInputError, match=r"expansion_dp\(H\[K-C:\], g, alpha, L\)"):
        R.hybrid(big, [1.0], 0.1, 1, 21)
    assert R.hybrid(big, [1.0], 0.1, 1, 20).tolist() == [1.0]  # C <= 20 is fine


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_float_overflow_is_an_error_not_inf_or_nan():
    huge = np.array([[[1e200]]] * 3)
    with pytest.raises(R.ReferenceInputError, match=r"meta_gradient: the float64 result is not finite"):
        R.meta_gradient(huge, [1.0], 1.0)


def test_symmetry_tolerance_is_relative():
    # asymmetry below 1e-10 * max|H| is accepted in float mode, and stays exact-zero in exact mode
    big = np.array([[[1e6, 1.0], [1.0 + 1e-5, 0.0]]])
    assert R.meta_gradient(big, [1.0, 0.0], 1e-6).shape == (2,)
    with pytest.raises(R.ReferenceInputError, match=r"H\[0\]: not symmetric"):  # just above
        R.meta_gradient(big + np.array([[[0.0, 0.0], [2e-4, 0.0]]]), [1.0, 0.0], 1e-6)
    tiny = Fraction(1, 10**12)
    exact = np.array([[[Fraction(10**6), Fraction(1)], [1 + tiny, Fraction(0)]]], dtype=object)
    with pytest.raises(R.ReferenceInputError, match=r"H\[0\]: not exactly symmetric"):
        R.meta_gradient(exact, [1, 0], Fraction(1, 10**6))
