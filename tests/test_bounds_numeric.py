"""Vectorised float64 evaluation: agreement with exact values, inf instead of NaN, validation."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

import bounds
from test_bounds_formulas import reference_bounds

RTOL = 1e-12


def _close(value: float, exact: Fraction) -> bool:
    if exact == 0:
        return value == 0
    return abs(Fraction(value) - exact) <= RTOL * exact


fractions = st.fractions(min_value=Fraction(1, 100), max_value=4, max_denominator=100)


@given(K=st.integers(1, 300), data=st.data(), alpha=fractions, H=fractions)
def test_numeric_agrees_with_exact_within_1e_12(K, data, alpha, H):
    L = data.draw(st.integers(0, K))
    cases = [("3.6", {})]
    if alpha * H <= 1:
        cases.append(("3.8", {}))
        if min(L, K - L) >= 1:
            M = data.draw(st.integers(1, min(L, K - L)))
            h = H * data.draw(st.fractions(min_value=Fraction(1, 50), max_value=1, max_denominator=50))
            cases.append(("3.10", dict(h=h, M=M)))
    for theorem, extra in cases:
        a, Hf = float(alpha), float(H)
        hf = float(extra["h"]) if extra else None
        if a * Hf > 1 or (hf is not None and hf > Hf):
            continue  # rounding moved the point out of the theorem's conditions
        got = bounds.evaluate(theorem, K, L, a, Hf, hf, extra.get("M"))
        # the bounds depend on x = alpha*H and y = alpha*h only: compare at the rounded products
        ref = reference_bounds(theorem, K, L, 1, Fraction(a * Hf),
                               None if hf is None else Fraction(a * hf), extra.get("M"))
        for key in ("fo", "trunc", "binom"):
            if ref[key] > Fraction(10) ** 300 or 0 < ref[key] < Fraction(1, 10 ** 300):
                continue  # beyond float64; test_overflow_gives_inf_never_nan covers it
            assert _close(got[key], ref[key]), (theorem, key, got[key], float(ref[key]))


def test_numeric_on_dyadic_grid_matches_exact_everywhere():
    # dyadic alpha, H: the float products are exact, so every point is comparable
    K, L = np.meshgrid(np.arange(1, 61), np.arange(0, 61), indexing="ij")
    keep = L <= K
    K, L = K[keep], L[keep]
    for alpha, H in [(0.25, 1.0), (0.125, 3.0), (0.5, 2.0), (0.0625, 0.5)]:
        got = bounds.evaluate("3.6", K, L, alpha, H)
        for i in range(0, K.size, 37):
            ref = reference_bounds("3.6", int(K[i]), int(L[i]), Fraction(alpha), Fraction(H))
            for key in ref:
                assert _close(got[key][i], ref[key])


def test_overflow_gives_inf_never_nan():
    K = np.array([10_000, 10 ** 6, 10 ** 6, 10 ** 6, 5])
    L = np.array([0, 10, 999_990, 10 ** 6, 5])
    got = bounds.evaluate("3.6", K, L, 2.0, 50.0)
    for key, value in got.items():
        assert not np.isnan(value).any(), key
    assert np.isinf(got["fo"][:4]).all()
    assert got["trunc"][3] == 0 and got["binom"][3] == 0 and got["binom"][4] == 0
    # alpha*H overflows float64: bounds are >= alpha*H (inf) or exactly 0 (L = K)
    huge = bounds.evaluate("3.6", np.array([1, 1, 3]), np.array([0, 1, 3]), 1e300, 1e300)
    assert {k: v.tolist() for k, v in huge.items()} == {
        "fo": [np.inf] * 3, "trunc": [np.inf, 0, 0], "binom": [np.inf, 0, 0]}
    # deep tail: the regularised beta underflows, the value does not
    tail = bounds.evaluate("3.6", 10_000, 9_990, 0.5, 2.0)["binom"]
    assert _close(tail, Fraction(sum(math.comb(10_000, l) for l in range(9_991, 10_001))))
    g38 = bounds.evaluate("3.8", np.array([10 ** 6, 10 ** 6]), np.array([1, 500_000]), 1.0, 1.0)
    assert not any(np.isnan(v).any() for v in g38.values())
    assert _close(g38["binom"][0], Fraction(math.comb(10 ** 6, 2))) and np.isinf(g38["binom"][1])
    assert (g38["fo"] == 1).all()
    g310 = bounds.evaluate("3.10", 10 ** 6, 400_000, 1.0, 1.0, 1.0, 1000)
    assert not any(np.isnan(v) for v in g310.values())
    assert g310["trunc"] == 0  # (1 - alpha h)^M = 0


def test_large_k_numeric_matches_exact():
    # points whose binomial bounds are far from 1 but inside float64 (and fo, trunc overflow)
    for theorem, args in [("3.6", (10_000, 9_990, "101/100", 1)), ("3.8", (10_000, 200, "1/1000", 1)),
                          ("3.10", (10_000, 9_950, 1, 1, "1/2", 30))]:
        floats = [float(Fraction(a)) for a in args]
        ref = bounds.evaluate(theorem, *(Fraction(f) for f in floats), exact=True)  # same point
        got = bounds.evaluate(theorem, *floats)
        assert Fraction(1, 10 ** 300) < ref["binom"] < 10 ** 300 and ref["binom"] != 1
        for key in ref:
            if ref[key] > Fraction(10) ** 309:
                assert got[key] == np.inf
            else:
                assert _close(got[key], ref[key]), (theorem, key)


def test_broadcasting_and_scalar_types():
    got = bounds.evaluate("3.6", 5, np.arange(6)[:, None], np.array([0.1, 0.25]), 1.0)
    assert got["binom"].shape == (6, 2) and got["binom"].dtype == np.float64
    scalar = bounds.evaluate("3.6", 5, 2, 0.25, 1.0)
    assert all(type(v) is float for v in scalar.values())
    assert scalar["binom"] == got["binom"][2, 1]


def test_applicable_mask_and_array_not_applicable():
    L = np.arange(6)
    mask = bounds.applicable("3.10", 5, L, 0.25, 1.0, 0.1, 1)
    assert mask.tolist() == [False, True, True, True, True, False]
    with pytest.raises(bounds.NotApplicable, match=r"index \(0,\)"):
        bounds.evaluate("3.10", 5, L, 0.25, 1.0, 0.1, 1)
    got = bounds.evaluate("3.10", 5, L[mask], 0.25, 1.0, 0.1, 1)
    assert got["binom"].shape == (4,)
    with pytest.raises(bounds.NotApplicable, match=r"alpha\*H = 2 > 1"):
        bounds.evaluate("3.8", 5, 1, 2.0, 1.0)
    assert "h = 2 > H = 1" in bounds.not_applicable("3.10", 5, 2, 0.25, 1.0, 2.0, 1)
    assert "h is not given" in bounds.not_applicable("3.10", 5, 2, 0.25, 1.0)
    assert "M is not given" in bounds.not_applicable("3.10", 5, 2, 0.25, 1.0, 0.1)
    assert bounds.not_applicable("3.6", 5, 5, 100.0, 100.0) is None


@pytest.mark.parametrize("kwargs,message", [
    (dict(K=0, L=0, alpha=0.1, H=1.0), "K = 0 is not a positive integer"),
    (dict(K=2.5, L=0, alpha=0.1, H=1.0), "K = 2.5 is not a positive integer"),
    (dict(K=5, L=6, alpha=0.1, H=1.0), "L = 6 is outside 0..K = 0..5"),
    (dict(K=5, L=-1, alpha=0.1, H=1.0), "L = -1 is outside 0..K = 0..5"),
    (dict(K=5, L=1.5, alpha=0.1, H=1.0), "L = 1.5 is not an integer"),
    (dict(K=5, L=1, alpha=0.0, H=1.0), "alpha = 0 is not positive and finite"),
    (dict(K=5, L=1, alpha=np.inf, H=1.0), "alpha = inf is not positive and finite"),
    (dict(K=5, L=1, alpha=0.1, H=np.nan), "H = nan is not positive and finite"),
    (dict(K=5, L=1, alpha=0.1, H=-2.0), "H = -2 is not positive and finite"),
    (dict(K=5, L=1, alpha=0.1, H=1.0, h=0.0, M=1), "h = 0 is not positive and finite"),
    (dict(K=5, L=1, alpha=0.1, H=1.0, h=0.1, M=0), "M = 0 is not a positive integer"),
    (dict(K=np.array([5, 0]), L=0, alpha=0.1, H=1.0), r"K = 0 \(at index \(1,\)\)"),
])
def test_bad_inputs_name_parameter_value_and_condition(kwargs, message):
    with pytest.raises(bounds.BoundsInputError, match=message):
        bounds.evaluate("3.10" if "M" in kwargs else "3.6", **kwargs)


def test_unknown_theorem():
    with pytest.raises(ValueError, match="theorem = '3.7' is not one of"):
        bounds.evaluate("3.7", 5, 1, 0.1, 1.0)


def test_at_l_0_all_three_theorem_3_6_bounds_are_the_same_float():
    got = bounds.evaluate("3.6", np.arange(1, 200), 0, 0.05, 1.3)
    assert np.array_equal(got["fo"], got["trunc"]) and np.array_equal(got["fo"], got["binom"])


def test_extreme_random_inputs_never_give_nan():
    rng = np.random.default_rng(5)
    n = 20_000
    K = np.floor(10 ** rng.uniform(0, 7, n))
    L = np.minimum(np.floor(rng.uniform(0, 1, n) * (K + 1)), K)
    L[::7], L[::11] = 0, K[::11]
    x = 10 ** rng.uniform(-300, 0, n)
    x[::5] = 1.0
    M = np.maximum(1, np.floor(rng.uniform(0, 1, n) * np.minimum(L, K - L)))
    y = x * rng.uniform(0, 1, n) + 1e-320
    y[::3] = x[::3]
    inner = (np.minimum(L, K - L) >= 1) & (M <= 50)
    with np.errstate(invalid="raise"):  # an invalid operation anywhere outside a guarded spot fails
        results = [
            bounds.evaluate("3.6", K, L, 10 ** rng.uniform(-300, 300, n), 10 ** rng.uniform(-300, 300, n)),
            bounds.evaluate("3.8", K, L, x, 1.0),
            bounds.evaluate("3.10", K[inner], L[inner], x[inner], 1.0, y[inner], M[inner]),
            bounds.evaluate("3.10", K[inner], L[inner], 1.0, 1.0, 1.0, M[inner]),
            {"envelope": bounds.theorem_3_8_envelope(K, np.minimum(L, K - 1), x, 1.0)},
            {"envelope": bounds.theorem_3_10_envelope(K[inner], L[inner], x[inner], 1.0, y[inner], M[inner])},
        ]
    for result in results:
        for key, value in result.items():
            assert not np.isnan(value).any(), key
            assert (value >= 0).all(), key
