"""Lemmas B.2, B.5, B.7, the envelopes, and the symbolic proofs (Lemma B.7, Theorem 3.6 ordering)."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

import bounds
from bounds import proofs
from test_bounds_formulas import reference_bounds


def test_lemma_b7_proof_is_verified_for_k_up_to_40():
    proof = proofs.prove_lemma_b7(k_max=40)
    assert proof.verified, str(proof)
    claims = " ".join(s.claim for s in proof.steps)
    assert "(38) for every 0 <= L < K <= 40" in claims and "recurrence S[K]" in claims
    assert any("symbolic K" in s.method for s in proof.steps)


def test_theorem_3_6_ordering_proof_is_verified():
    proof = proofs.prove_theorem_3_6_ordering(k_max=40)
    assert proof.verified, str(proof)
    assert any("difference identity" in s.claim for s in proof.steps)


def test_theorem_3_8_binomial_sum_proof_is_verified():
    assert proofs.prove_theorem_3_8_binomial_sum(k_max=40).verified


def test_a_failing_step_makes_the_proof_fail():
    proof = proofs.Proof("x")
    proof.check("true", "by hand", True)
    assert proof.verified
    proof.check("false", "by hand", False)
    assert not proof.verified and "FAIL" in str(proof)
    assert not proofs.Proof("empty").verified


def test_lemma_b7_printed_step_d_is_false_and_corrected_limit_holds():
    # erratum witness: K=3, L=1, gamma=1: S[3] = C(3,2) + C(3,3) = 4, printed (d) gives 6
    s_k, printed = proofs.lemma_b7_printed_step_d(3, 1, 1)
    assert (s_k, printed) == (4, 6)
    # with the upper limit K-L-1 instead of K-L+1, step (d) holds (here: 2 + 2 = 4)
    corrected = sum(math.comb(3 - l, 1) * 2 ** (l - 1) for l in range(1, 3 - 1 - 1 + 1)) + 2 ** (3 - 1 - 1) * 1
    assert corrected == s_k


@given(K=st.integers(1, 30), data=st.data(),
       gamma=st.fractions(min_value=-3, max_value=3, max_denominator=12))
def test_lemma_b7_sides_equal_and_match_direct_sums(K, data, gamma):
    L = data.draw(st.integers(0, K - 1))
    sides = bounds.lemma_b7(K, L, gamma, exact=True)
    lhs = sum(math.comb(K, l) * gamma ** l for l in range(L + 1, K + 1))
    rhs = gamma ** (L + 1) * sum(math.comb(K - l, L) * (1 + gamma) ** (l - 1) for l in range(1, K - L + 1))
    assert sides == (lhs, rhs) and lhs == rhs


def test_lemma_b7_numeric_and_range():
    sides = bounds.lemma_b7(6, 2, np.array([-1.5, 0.25, 2.0]))
    for g, left in zip([-1.5, 0.25, 2.0], sides.lhs):
        assert left == float(sum(math.comb(6, l) * Fraction(g) ** l for l in range(3, 7)))
    assert np.array_equal(sides.lhs, sides.rhs)
    with pytest.raises(bounds.BoundsInputError, match="L = 6 is outside 0..K-1 = 0..5"):
        bounds.lemma_b7(6, 6, "1/2", exact=True)
    # sides beyond float64 round to +-inf (exactly: (1 + 10^10)^2000 - 1 > 10^20000)
    big = bounds.lemma_b7(2000, 0, np.array([1e10, -1e10]))
    assert big.lhs.tolist() == big.rhs.tolist() == [np.inf, np.inf]
    assert bounds.lemma_b7(2001, 0, -1e10) == (-np.inf, -np.inf)


@pytest.mark.parametrize("K,L", [(1, 1), (5, 2), (40, 7), (1000, 500), (10_000, 3)])
def test_lemma_b5_holds_with_a_rational_certificate(K, L):
    lhs, rhs = bounds.lemma_b5(K, L, exact=True)
    assert lhs == math.comb(K, L)
    assert lhs < rhs.lower < rhs.upper
    # the bracket really contains (eK/L)^L: compare logs in float with margin
    log_rhs = L * (1 + math.log(K / L))
    def log(f):  # of a huge Fraction
        return math.log(f.numerator) - math.log(f.denominator)
    assert log(rhs.lower) <= log_rhs + 1e-9 and log_rhs - 1e-9 <= log(rhs.upper)


def test_lemma_b5_numeric_and_l_zero():
    lhs, rhs = bounds.lemma_b5(np.array([5, 10]), np.array([2, 3]))
    assert lhs.tolist() == pytest.approx([10, 120], rel=1e-13)
    assert rhs.tolist() == pytest.approx([(math.e * 5 / 2) ** 2, (math.e * 10 / 3) ** 3], rel=1e-13)
    with pytest.raises(bounds.BoundsInputError, match="L = 0"):
        bounds.lemma_b5(5, 0)


def test_lemma_b2():
    assert bounds.lemma_b2("1/4", 1, 3, exact=True) == Fraction(5, 4) ** 3 - 1
    assert bounds.lemma_b2(0.25, 1.0, np.arange(4)).tolist() == pytest.approx(
        [float(Fraction(5, 4) ** i - 1) for i in range(4)], rel=1e-15)
    assert bounds.lemma_b2(0.25, 1.0, 10 ** 6) == np.inf
    assert bounds.lemma_b2(1e300, 1e300, np.arange(3)).tolist() == [0, np.inf, np.inf]  # alpha*H overflows
    # (11a) is Lemma B.2 at i = K
    assert bounds.lemma_b2("1/3", 2, 7, exact=True) == reference_bounds("3.6", 7, 0, "1/3", 2)["fo"]
    with pytest.raises(bounds.BoundsInputError, match="i = -1"):
        bounds.lemma_b2(0.25, 1.0, -1)
    for i, shown in [(1.5, "1.5"), (np.nan, "nan"), (np.array([0, 2, -3]), "-3")]:  # names i, not K
        with pytest.raises(bounds.BoundsInputError, match=f"^i = {shown} is not an integer >= 0$"):
            bounds.lemma_b2(0.25, 1.0, i)


@given(K=st.integers(2, 60), data=st.data(), x=st.floats(0.01, 1.0))
def test_envelopes_lie_above_the_binomial_bounds(K, data, x):
    L = data.draw(st.integers(0, K - 1))
    b38 = bounds.evaluate("3.8", K, L, x, 1.0)["binom"]
    assert b38 < bounds.theorem_3_8_envelope(K, L, x, 1.0)
    if min(L, K - L) >= 1:
        M = data.draw(st.integers(1, min(L, K - L)))
        h = data.draw(st.floats(0.01, 1.0))
        b310 = bounds.evaluate("3.10", K, L, x, 1.0, h, M)["binom"]
        assert b310 <= bounds.theorem_3_10_envelope(K, L, x, 1.0, h, M) * (1 + 1e-12)


def test_c_alpha_constants_and_condition():
    assert bounds.theorem_3_8_c_alpha(10, 4) == pytest.approx(math.e * 10 / 5)
    assert bounds.theorem_3_10_c_alpha(10, 4) == pytest.approx(math.e * 9 / 4)
    assert bounds.c_alpha_condition("3.8", 10, 4, 1 / (math.e * 2), 1.0)
    assert not bounds.c_alpha_condition("3.8", 10, 4, 0.25, 1.0)
    assert bounds.c_alpha_condition(bounds.theorem_3_10, 10, 4, 0.99 / (math.e * 9 / 4), 1.0)
    assert not bounds.c_alpha_condition("3.10", 10, 4, 1.01 / (math.e * 9 / 4), 1.0)
    with pytest.raises(ValueError, match="theorem = '3.6' is not one of '3.8', '3.10'"):
        bounds.c_alpha_condition("3.6", 10, 4, 0.01, 1.0)
    # under the condition the envelope is at most 1 and, in L, below a geometric decay
    env = [bounds.theorem_3_8_envelope(10, L, 0.03, 1.0) for L in range(1, 10)]
    assert all(b < a * 0.5 for a, b in zip(env, env[1:]))
    statement = bounds.THEOREMS["3.8"].extras["envelope"]
    assert statement.evaluate(10, 3, 0.03, 1.0) == bounds.theorem_3_8_envelope(10, 3, 0.03, 1.0)
    assert "e" in statement.latex()
    with pytest.raises(bounds.NotApplicable):
        bounds.theorem_3_8_envelope(10, 3, 2.0, 1.0)


@pytest.mark.parametrize("K", range(2, 9))
def test_theorem_3_6_ordering_holds_exactly(K):
    for L in range(1, K):
        for x in (Fraction(1, 100), Fraction(1, 4), Fraction(3)):
            b = bounds.evaluate("3.6", K, L, x, 1, exact=True)
            assert b["binom"] < b["trunc"] < b["fo"]
    b = bounds.evaluate("3.6", K, 0, "1/4", 1, exact=True)
    assert b["binom"] == b["trunc"] == b["fo"]  # L = 0: all three estimators are FO


def test_lemma_objects_carry_reference_relation_and_evaluation():
    b7 = bounds.LEMMAS["B.7"]
    assert b7.reference == "Lemma B.7, eq. (38)" and "=" in b7.latex() and "\\binom{K - l}{L}" in b7.latex()
    assert b7.evaluate(5, 2, "1/2", exact=True) == bounds.lemma_b7(5, 2, "1/2", exact=True)
    b5 = bounds.LEMMAS["B.5"]
    assert "<" in b5.latex() and "1 <= L" in b5.conditions
    # the SymPy relation, evaluated at a point, agrees with the certified exact comparison
    import sympy
    from bounds.symbolic import K, L
    assert b5.expr.subs({K: 10, L: 3}) == sympy.true
    from bounds.symbolic import i
    assert bounds.LEMMAS["B.2"].expr.subs({i: 0}) == 0


def test_theorem_conditions_as_sympy_relations():
    import sympy
    from bounds.symbolic import H, alpha
    conditions = bounds.THEOREMS["3.8"].conditions_expr
    assert conditions[1].subs({alpha: sympy.Rational(1, 2), H: 2}) == sympy.true
    assert conditions[1].subs({alpha: sympy.Rational(1, 2), H: 3}) == sympy.false
    assert len(bounds.THEOREMS["3.10"].conditions_expr) == 6


@pytest.mark.parametrize("K,L,alpha,H,h,M", [(10, 3, 0.05, 2.0, 0.5, 2), (7, 2, 0.25, 1.0, 1.0, 1),
                                             (40, 10, 0.01, 3.0, 0.3, 5), (9, 4, 0.1, 1.0, 0.1, 4)])
def test_envelopes_equal_the_printed_formulas(K, L, alpha, H, h, M):
    # proof of Theorem B.3: (alpha H e K/(L+1))^(L+1); proof of Theorem B.6: the two-term envelope
    e = math.e
    env38 = (alpha * H * e * K / (L + 1)) ** (L + 1)
    z = (1 - alpha * h) ** M
    env310 = (H / h * (alpha * H * e * (K - 1) / L) ** L * (1 - z)
              + z * (alpha * H * e * (K - M - 1) / L) ** L * ((1 + alpha * H) ** (K - L - M) - 1))
    assert bounds.theorem_3_8_envelope(K, L, alpha, H) == pytest.approx(env38, rel=1e-12)
    assert bounds.theorem_3_10_envelope(K, L, alpha, H, h, M) == pytest.approx(env310, rel=1e-12)
    assert bounds.theorem_3_8_c_alpha(K, L) == pytest.approx(e * K / (L + 1), rel=1e-15)
    assert bounds.theorem_3_10_c_alpha(K, L) == pytest.approx(e * (K - 1) / L, rel=1e-15)
