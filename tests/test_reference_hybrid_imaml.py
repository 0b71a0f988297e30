"""The hybrid binom-trunc estimator, eq. (39), and iMAML's implicit meta-gradient and its CG
approximation."""

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from test_reference_cases import (
    assert_close,
    assert_exact,
    float_case,
    rational_case,
    rational_cases,
)

from estimators import reference as R

# -- hybrid, eq. (39) -----------------------------------------------------------------------------


@given(rational_cases(), st.data())
def test_hybrid_is_eq8_with_the_early_hessians_set_to_zero(case, data):
    # Appendix D.1: "setting H^k = 0, 0 <= k < K - C" in eq. (8)
    H, g, alpha = case
    K = H.shape[0]
    C = data.draw(st.integers(0, K))
    L = data.draw(st.integers(0, C))
    zeroed = H.copy()
    zeroed[: K - C] = Fraction(0)
    assert_exact(R.hybrid(H, g, alpha, L, C), R.truncated_expansion(zeroed, g, alpha, L))
    assert_exact(R.hybrid(H, g, alpha, L, C), R.expansion_dp(H[K - C:], g, alpha, L) if C else g)


@given(rational_cases())
def test_hybrid_reductions(case):
    H, g, alpha = case
    K = H.shape[0]
    for L in range(K + 1):
        assert_exact(R.hybrid(H, g, alpha, L, K), R.truncated_expansion(H, g, alpha, L))  # C = K
    for C in range(K + 1):
        assert_exact(R.hybrid(H, g, alpha, C, C), R.truncated(H, g, alpha, C))  # L = C: trunc
        assert_exact(R.hybrid(H, g, alpha, 0, C), g)  # L = 0: first order


def test_hybrid_via_algorithm_1_as_the_text_says_drops_one_hessian_too_many():
    # docs/errata.md, Appendix D.1: zeroing k = 0..K-C (not 0..K-C-1) before the corrected
    # Algorithm 1 loses H^{K-C}. Witness K = 2, L = 1, C = 1, H^0 = 0, H^1 = 1, alpha = 1/2, g = 1.
    H = np.array([[[Fraction(0)]], [[Fraction(1)]]], dtype=object)
    g = np.array([Fraction(1)], dtype=object)
    text = H.copy()
    text[: 2 - 1 + 1] = Fraction(0)
    assert_exact(R.hybrid(H, g, Fraction(1, 2), 1, 1), [Fraction(1, 2)])
    assert_exact(R.algorithm_1_corrected(text, g, Fraction(1, 2), 1), [Fraction(1)])


def test_hybrid_float_non_commuting():
    H, g, alpha = float_case(2, K=8, d=3)
    for C in range(9):
        for L in range(C + 1):
            assert_close(R.hybrid(H, g, alpha, L, C), R.expansion_dp(H[8 - C:], g, alpha, L)
                         if C else g)


# -- iMAML ----------------------------------------------------------------------------------------


def spd_case(seed, d):
    """A rational symmetric H_K (indefinite) and lam with I + H_K / lam positive definite."""
    H, g, _ = rational_case(seed, K=1, d=d)
    lam = Fraction(int(np.max(np.abs(np.array(H[0], dtype=float)).sum(axis=1))) + 1)  # > |eig|
    return H[0], g, lam


def to_sympy(M):
    return sympy.Matrix(M.tolist()).applyfunc(lambda x: sympy.Rational(x.numerator, x.denominator))


@pytest.mark.parametrize("seed,d", [(0, 1), (1, 3), (2, 5)])
def test_imaml_exact_solves_the_implicit_system_exactly(seed, d):
    H_K, g, lam = spd_case(seed, d)
    x = R.imaml_exact(H_K, g, lam)
    assert_exact(x + (H_K @ x) / lam, g)  # (I + H_K / lam) x = g


def test_imaml_exact_float_matches_the_rational_solve():
    H_K, g, lam = spd_case(3, 4)
    exact = R.imaml_exact(H_K, g, lam)
    got = R.imaml_exact(H_K.astype(float), g.astype(float), float(lam))
    assert_close(got, exact.astype(float))


@pytest.mark.parametrize("seed,d", [(0, 3), (1, 4), (4, 5)])
def test_cg_iterates_are_the_krylov_galerkin_solutions(seed, d):
    # x_k = x0 + B c with B = [r0, A r0, ..., A^{k-1} r0] and B^T A B c = B^T r0 (exact, SymPy)
    H_K, g, lam = spd_case(seed, d)
    A = to_sympy(np.eye(d, dtype=int) + H_K / lam)
    gs = to_sympy(g[:, None])
    for x0 in ("zero", "g"):
        x0s = sympy.zeros(d, 1) if x0 == "zero" else gs
        r0 = gs - A * x0s
        for steps in range(1, d):
            B = sympy.Matrix.hstack(*[A**j * r0 for j in range(steps)])
            c = (B.T * A * B).LUsolve(B.T * r0)
            want = [Fraction(str(v)) for v in x0s + B * c]
            assert_exact(R.imaml_cg(H_K, g, lam, steps, x0=x0), want)
        # d steps: CG terminates at the exact solution
        assert_exact(R.imaml_cg(H_K, g, lam, d, x0=x0), R.imaml_exact(H_K, g, lam))
        assert_exact(R.imaml_cg(H_K, g, lam, d + 3, x0=x0), R.imaml_exact(H_K, g, lam))


def test_cg_with_zero_steps_returns_the_start():
    H_K, g, lam = spd_case(0, 3)
    assert_exact(R.imaml_cg(H_K, g, lam, 0, x0="g"), g)  # first-order MAML (iMAML appendix A)
    assert_exact(R.imaml_cg(H_K, g, lam, 0, x0="zero"), [Fraction(0)] * 3)


def test_cg_float_converges_to_the_solve():
    H_K, g, lam = spd_case(5, 6)
    got = R.imaml_cg(H_K.astype(float), g.astype(float), float(lam), 30)
    assert_close(got, R.imaml_exact(H_K, g, lam).astype(float))  # measured 2e-16


def test_singular_implicit_system_and_cg_breakdown_are_reported():
    H_K = np.array([[Fraction(-2), Fraction(0)], [Fraction(0), Fraction(1)]], dtype=object)
    g = np.array([Fraction(1), Fraction(1)], dtype=object)
    with pytest.raises(R.ReferenceInputError, match="I \\+ H_K/lam is singular"):
        R.imaml_exact(H_K, g, Fraction(2))
    # A = I + H_K/lam = diag(-1, 1) (indefinite), g = (1, 1): p.Ap = r0.A r0 = 0 at the first step
    H_K = np.array([[Fraction(-2), Fraction(0)], [Fraction(0), Fraction(0)]], dtype=object)
    with pytest.raises(R.ReferenceInputError, match="broke down at step 1"):
        R.imaml_cg(H_K, g, Fraction(1), 2)
