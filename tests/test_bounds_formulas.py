"""Independent reference for the bound tests: the paper's formulas summed term by term with
``fractions.Fraction`` and ``math.comb`` (no code shared with ``bounds``)."""

from fractions import Fraction
from math import comb


def reference_bounds(theorem, K, L, alpha, H, h=None, M=None):
    a, H = Fraction(alpha), Fraction(H)
    x = a * H
    if theorem == "3.6":  # (11a)-(11c)
        return {"fo": (1 + x) ** K - 1,
                "trunc": (1 + x) ** K - (1 + x) ** L,
                "binom": sum((comb(K, l) * x ** l for l in range(L + 1, K + 1)), Fraction(0))}
    if theorem == "3.8":  # (12a)-(12c)
        return {"fo": 1 - (1 - x) ** K,
                "trunc": 1 - (1 - x) ** (K - L),
                "binom": comb(K, L + 1) * x ** (L + 1)}
    y = a * Fraction(h)  # (13a)-(13c)
    return {"fo": max((1 + x) ** (K - M) * (1 - y) ** M - 1, 1 - (1 - x) ** K),
            "trunc": ((1 + x) ** (K - M) - (1 + x) ** (L - M)) * (1 - y) ** M,
            "binom": x ** (L + 1) * sum((comb(K - l, L) * (1 - y) ** (l - 1) for l in range(1, M + 1)), Fraction(0))
            + (1 - y) ** M * sum((comb(K - M, l) * x ** l for l in range(L + 1, K - M + 1)), Fraction(0))}


def test_reference_hand_values():
    # K=2, alpha*H = 1/2 worked by hand from (11a)-(11c), (12a)-(12c), (13a)-(13c)
    assert reference_bounds("3.6", 2, 1, Fraction(1, 2), 1) == {
        "fo": Fraction(5, 4), "trunc": Fraction(3, 4), "binom": Fraction(1, 4)}
    assert reference_bounds("3.8", 2, 1, Fraction(1, 2), 1) == {
        "fo": Fraction(3, 4), "trunc": Fraction(1, 2), "binom": Fraction(1, 4)}
    # K=2, L=1, M=1, y = 1/4: fo = max(3/2 * 3/4 - 1, 3/4); trunc = (3/2 - 1) * 3/4;
    # binom = (1/2)^2 * C(1, 1) + (3/4) * (empty sum)
    assert reference_bounds("3.10", 2, 1, Fraction(1, 2), 1, Fraction(1, 2), 1) == {
        "fo": Fraction(3, 4), "trunc": Fraction(3, 8), "binom": Fraction(1, 4)}
