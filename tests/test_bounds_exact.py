"""Exact evaluation of Theorems 3.6, 3.8, 3.10 against term-by-term Fraction/math.comb sums."""

import math
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

import bounds
from test_bounds_formulas import reference_bounds

FIGURE_2 = dict(K=5, alpha=Fraction(1, 4), H=1, h=Fraction(1, 10), M=1)


@pytest.mark.parametrize("theorem", ["3.6", "3.8"])
@pytest.mark.parametrize("L", range(6))
def test_figure_2_setting_exact(theorem, L):
    got = bounds.evaluate(theorem, 5, L, "1/4", 1, exact=True)
    assert got == reference_bounds(theorem, 5, L, "1/4", 1)
    assert all(type(v) is Fraction for v in got.values())


@pytest.mark.parametrize("L", range(1, 5))
def test_figure_2_setting_exact_theorem_3_10(L):
    got = bounds.evaluate("3.10", L=L, exact=True, **FIGURE_2)
    assert got == reference_bounds("3.10", L=L, **FIGURE_2)


def test_figure_2_known_values():
    # hand-checked: (5/4)^5 - 1 = 2101/1024; sum_{l>=2} C(5,l)/4^l = (640+160+20+1)/1024
    got = bounds.evaluate("3.6", 5, 1, "1/4", 1, exact=True)
    assert got == {"fo": Fraction(2101, 1024), "trunc": Fraction(1845, 1024), "binom": Fraction(821, 1024)}
    assert bounds.evaluate("3.8", 5, 2, "1/4", 1, exact=True)["binom"] == Fraction(10, 64)


@pytest.mark.parametrize("L", [0, 5])
def test_figure_2_theorem_3_10_outside_its_condition(L):
    reason = bounds.not_applicable("3.10", L=L, **FIGURE_2)
    assert "M = 1 > min(L, K-L) = 0" in reason
    with pytest.raises(bounds.NotApplicable, match="min"):
        bounds.evaluate("3.10", L=L, exact=True, **FIGURE_2)


fractions = st.fractions(min_value=Fraction(1, 50), max_value=3, max_denominator=60)


@given(K=st.integers(1, 40), data=st.data(), alpha=fractions, H=fractions)
def test_exact_matches_reference_on_random_points(K, data, alpha, H):
    L = data.draw(st.integers(0, K))
    assert bounds.evaluate("3.6", K, L, alpha, H, exact=True) == reference_bounds("3.6", K, L, alpha, H)
    if alpha * H <= 1:
        assert bounds.evaluate("3.8", K, L, alpha, H, exact=True) == reference_bounds("3.8", K, L, alpha, H)
        if min(L, K - L) >= 1:
            M = data.draw(st.integers(1, min(L, K - L)))
            h = H * data.draw(st.fractions(min_value=Fraction(1, 20), max_value=1, max_denominator=20))
            assert (bounds.evaluate("3.10", K, L, alpha, H, h, M, exact=True)
                    == reference_bounds("3.10", K, L, alpha, H, h, M))
    else:
        assert "alpha*H" in bounds.not_applicable("3.8", K, L, alpha, H)


def test_exact_inputs_accept_strings_fractions_sympy_and_reject_floats():
    import sympy
    ref = bounds.evaluate("3.6", 7, 2, Fraction(1, 3), 2, exact=True)
    assert bounds.evaluate("3.6", "7", "2", "1/3", "2", exact=True) == ref
    assert bounds.evaluate("3.6", 7, 2, sympy.Rational(1, 3), sympy.Integer(2), exact=True) == ref
    with pytest.raises(bounds.BoundsInputError, match=r"alpha = 0\.25.*not a float"):
        bounds.evaluate("3.6", 7, 2, 0.25, 2, exact=True)
    with pytest.raises(bounds.BoundsInputError, match="L = 1/2 is not an integer"):
        bounds.evaluate("3.6", 7, "1/2", "1/3", 2, exact=True)


def test_k_10000_stays_exact():
    K, x = 10_000, Fraction(1, 4)
    got = bounds.evaluate("3.6", K, 3, x, 1, exact=True)
    assert all(type(v) is Fraction for v in got.values())
    assert got["fo"] == (1 + x) ** K - 1
    # independent route for (11c): the complement of the first L+1 binomial terms
    assert got["binom"] == (1 + x) ** K - sum(math.comb(K, l) * x ** l for l in range(4))
    assert got["binom"].denominator == 4 ** K  # no rounding anywhere: the full dyadic denominator
    g38 = bounds.evaluate("3.8", K, 9_000, x, 1, exact=True)
    assert g38["binom"] == math.comb(K, 9_001) * x ** 9_001
    L, M = 9_900, 50
    g310 = bounds.evaluate("3.10", K, L, x, 1, Fraction(1, 10), M, exact=True)
    y = x / 10
    first = sum(math.comb(K - l, L) * (1 - y) ** (l - 1) for l in range(1, M + 1))
    rest = sum(math.comb(K - M, l) * x ** l for l in range(L + 1, K - M + 1))
    assert g310["binom"] == x ** (L + 1) * first + (1 - y) ** M * rest


@pytest.mark.parametrize("theorem,args", [
    ("3.6", dict(K=6, L=2, alpha="1/3", H="3/2")),
    ("3.8", dict(K=6, L=2, alpha="1/3", H="3/2")),
    ("3.10", dict(K=7, L=3, alpha="1/3", H="3/2", h="1/5", M=2)),
])
def test_sympy_expressions_evaluate_to_the_same_rationals(theorem, args):
    thm = bounds.THEOREMS[theorem]
    ref = reference_bounds(theorem, **args)
    for key, statement in thm.statements.items():
        assert statement.sympy_value(**args) == ref[key]


def test_statements_carry_references_and_latex():
    thm = bounds.THEOREMS["3.10"]
    assert thm.binom.reference == "Theorem 3.10, eq. (13c)"
    assert [s.reference.split()[-1] for s in bounds.THEOREMS["3.6"].statements.values()] == ["(11a)", "(11b)", "(11c)"]
    assert "\\binom{K - l}{L}" in thm.binom.latex() and "\\sum_{l=1}^{M}" in thm.binom.latex()
    assert "\\max" in thm.fo.latex()
    assert any("Assumption 3.9" in a for a in thm.assumptions)
    assert [c.text for c in bounds.THEOREMS["3.8"].conditions] == ["0 < alpha <= 1/H"]


def test_erratum_b2_binomial_bound_of_theorem_3_8_is_not_always_below_truncated():
    # Section 3.2 after Theorem 3.8: "the error bound of BinomMAML ... outperforms TruncMAML when
    # L > 0". False in general: K=5, L=1, alpha*H = 1 gives (12c) = C(5, 2) = 10 > (12b) = 1.
    got = bounds.evaluate("3.8", 5, 1, 1, 1, exact=True)
    assert got == {"fo": 1, "trunc": 1, "binom": 10} == reference_bounds("3.8", 5, 1, 1, 1)
    # ... while it holds in the Figure 2 setting for every 1 <= L < K
    for L in range(1, 5):
        fig = bounds.evaluate("3.8", 5, L, "1/4", 1, exact=True)
        assert fig["binom"] < fig["trunc"]


def test_theorem_3_8_binomial_bound_at_l_0_is_looser_than_fo():
    # (12c) at L = 0 is K alpha H, above (12a) = 1 - (1 - alpha H)^K for K >= 2 (Bernoulli)
    got = bounds.evaluate("3.8", 5, 0, "1/4", 1, exact=True)
    assert got["binom"] == Fraction(5, 4) > got["fo"] == 1 - Fraction(3, 4) ** 5


@given(coefficients=st.lists(st.integers(-10 ** 30, 10 ** 30), max_size=100),
       z=st.fractions(min_value=-5, max_value=5, max_denominator=10 ** 6))
def test_polynomial_binary_splitting_equals_the_direct_sum(coefficients, z):
    from bounds.exact import polynomial
    direct = sum((Fraction(c) * z ** j for j, c in enumerate(coefficients)), Fraction(0))
    assert polynomial(coefficients, z) == direct
    assert polynomial(iter(coefficients), z) == direct  # any iterable, e.g. a generator
