"""Exact arithmetic for the formulas of statements: ints and ``fractions.Fraction`` in, ``Fraction`` out.

Sums are evaluated with big integers (binomial coefficients updated multiplicatively, one common
denominator), not term by term in ``Fraction``, so that K = 10,000 takes a fraction of a second.
Irrational values (powers of e, square roots, logarithms) are bracketed by rationals
(:class:`RationalBracket`; :func:`exp_bracket`, :func:`sqrt_bracket`, :func:`log_bracket`), so
that comparisons with them are decided rigorously.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from math import comb, isqrt
from typing import Any, Iterable, Iterator, NamedTuple

__all__ = ["RationalBracket", "Sides", "binomial_tail", "binomials", "e_power_bracket", "polynomial",
           "exp_bracket", "sqrt_bracket", "log_bracket", "BRACKET_BITS"]

#: width of the brackets of square roots and logarithms: about 2^-BRACKET_BITS (relative)
BRACKET_BITS = 96


class Sides(NamedTuple):
    """Left- and right-hand side of a lemma's (in)equality."""

    lhs: Any
    rhs: Any


class RationalBracket(NamedTuple):
    """Rationals ``lower <= value <= upper`` around a value: ``lower < value < upper`` for an
    irrational value, ``lower == upper == value`` for a rational one (a root of a square)."""

    lower: Fraction
    upper: Fraction

    def scaled(self, factor: Fraction) -> "RationalBracket":
        """The bracket of ``value * factor`` for a rational ``factor >= 0`` (a positive one keeps
        the inequalities strict)."""
        return RationalBracket(self.lower * factor, self.upper * factor)

    def times(self, other: "RationalBracket") -> "RationalBracket":
        """The bracket of the product of the two values."""
        products = [a * b for a in self for b in other]
        return RationalBracket(min(products), max(products))

    @property
    def exact(self) -> bool:
        """Whether the value is the rational ``lower == upper``."""
        return self.lower == self.upper

    def floor(self) -> int:
        """floor(value), or ArithmeticError when the bracket straddles an integer."""
        lo, hi = math.floor(self.lower), math.floor(self.upper)
        if lo != hi:
            raise ArithmeticError(f"floor undecided: value in [{float(self.lower)!r}, {float(self.upper)!r}]")
        return lo

    def ceil(self) -> int:
        """ceil(value), or ArithmeticError when the bracket straddles an integer."""
        lo, hi = math.ceil(self.lower), math.ceil(self.upper)
        if lo != hi:
            raise ArithmeticError(f"ceil undecided: value in [{float(self.lower)!r}, {float(self.upper)!r}]")
        return lo

    def __float__(self) -> float:
        return float((self.lower + self.upper) / 2)


def exp_bracket(x: Any, terms: int = 60) -> RationalBracket:
    """Rationals bracketing ``e^x`` for a rational ``0 <= x``: the Taylor sum to degree ``terms``
    below, plus the Lagrange remainder bound ``x^(n+1) 3^ceil(x) / (n+1)!`` above (e^x < 3^x).
    Tight when ``terms`` is well above x (e.g. 3x + 20)."""
    x = Fraction(x)
    if x < 0:
        raise ValueError(f"x = {x} is negative")
    term, total = Fraction(1), Fraction(1)
    for k in range(1, terms + 1):
        term = term * x / k
        total += term
    return RationalBracket(total, total + term * x / (terms + 1) * 3 ** math.ceil(x))


def e_power_bracket(n: int) -> RationalBracket:
    """Rationals bracketing ``e^n`` (n >= 1): :func:`exp_bracket` to degree 3n+20."""
    return exp_bracket(n, 3 * n + 20)


def sqrt_bracket(x: Any, bits: int = BRACKET_BITS) -> RationalBracket:
    """sqrt(x) for a rational x >= 0: exact (lower == upper) when x is a rational square, else
    consecutive multiples of 2^-bits."""
    x = Fraction(x)
    if x < 0:
        raise ValueError(f"x = {x} is negative: no real square root")
    p, q = isqrt(x.numerator), isqrt(x.denominator)
    if p * p == x.numerator and q * q == x.denominator:
        return RationalBracket(Fraction(p, q), Fraction(p, q))
    scale = 1 << bits
    s = isqrt(x.numerator * scale * scale // x.denominator)  # s^2 <= x 4^bits < (s+1)^2
    return RationalBracket(Fraction(s, scale), Fraction(s + 1, scale))


def _atanh_series(z: Fraction, bits: int) -> RationalBracket:
    """2 atanh(z) = 2 sum z^(2k+1)/(2k+1) for 0 <= z <= 1/3: partial sum (below) and the
    geometric tail bound 2 z^(2N+1) / ((2N+1)(1 - z^2)) (above), rounded outwards."""
    n_terms = bits // 3 + 2  # z^(2N+1) <= 3^-(2N+1) < 2^-bits
    total, power, z2 = Fraction(0), z, z * z
    for k in range(n_terms):
        total += power / (2 * k + 1)
        power *= z2
    tail = power / ((2 * n_terms + 1) * (1 - z2))
    scale = 1 << bits
    return RationalBracket(Fraction(math.floor(2 * total * scale), scale),
                           Fraction(math.ceil(2 * (total + tail) * scale), scale))


def log_bracket(x: Any, bits: int = BRACKET_BITS) -> RationalBracket:
    """log(x) for a rational x > 0 (exactly 0 at x = 1): x = 2^m y with 1 <= y < 2,
    log x = m log 2 + 2 atanh((y-1)/(y+1))."""
    x = Fraction(x)
    if x <= 0:
        raise ValueError(f"x = {x} is not positive: log is undefined")
    if x == 1:
        return RationalBracket(Fraction(0), Fraction(0))
    m = x.numerator.bit_length() - x.denominator.bit_length()
    y = x / Fraction(2) ** m
    if y < 1:
        m, y = m - 1, y * 2
    scale = 1 << bits
    z = (y - 1) / (y + 1)  # in [0, 1/3); round outwards to keep the series' fractions short
    lo_y = _atanh_series(Fraction(math.floor(z * scale), scale), bits)
    hi_y = _atanh_series(Fraction(math.ceil(z * scale), scale), bits)
    log2 = _atanh_series(Fraction(1, 3), bits)
    m_log2 = (m * log2.lower, m * log2.upper) if m >= 0 else (m * log2.upper, m * log2.lower)
    return RationalBracket(m_log2[0] + lo_y.lower, m_log2[1] + hi_y.upper)


def polynomial(coefficients: Iterable[int], z: Fraction) -> Fraction:
    """``sum_j c_j z^j`` exactly, for integer coefficients given in order j = 0, 1, ..., n-1.

    With ``z = r/s`` this is ``N / s^(n-1)`` with the integer ``N = sum_j c_j r^j s^(n-1-j)``.
    ``N`` is built by binary splitting, ``N(c) = N(left) s^(len right) + N(right) r^(len left)``,
    so that the big multiplications are few and balanced (K = 10,000 with z = 221/10000: 0.1 s,
    against 2.6 s for Horner's rule, whose every step multiplies by a growing ``r^j``; with z the
    rational value of a float, 3 s against 100 s). Up to 64 terms Horner's rule alone is as fast.
    """
    z = Fraction(z)
    c = list(coefficients)
    if not c:
        return Fraction(0)
    r, s = z.numerator, z.denominator

    def horner(lo: int, hi: int) -> int:  # sum_{j=lo}^{hi-1} c_j r^(j-lo) s^(hi-1-j), homogeneous
        acc, r_power = 0, 1
        for j in range(lo, hi):
            acc = acc * s + c[j] * r_power
            r_power *= r
        return acc

    if len(c) <= 64:  # short sums (K <= 64): the splitting's overhead is not worth it
        return Fraction(horner(0, len(c)), s ** (len(c) - 1))
    power = functools.cache(pow)  # the splitting asks for O(log n) distinct powers

    def numerator(lo: int, hi: int) -> int:  # the same sum, split in halves
        if hi - lo <= 32:
            return horner(lo, hi)
        mid = (lo + hi) // 2
        return numerator(lo, mid) * power(s, hi - mid) + numerator(mid, hi) * power(r, mid - lo)

    return Fraction(numerator(0, len(c)), s ** (len(c) - 1))


def binomials(n: int, k: int, count: int, step_n: int, step_k: int) -> Iterator[int]:
    """C(n, k), C(n + step_n, k + step_k), ... (``count`` terms), updated multiplicatively."""
    c = comb(n, k)
    for _ in range(count):
        yield c
        if step_k:  # C(n, k+1) = C(n, k) (n-k) / (k+1)
            c = c * (n - k) // (k + 1)
            k += 1
        else:  # C(n-1, k) = C(n, k) (n-k) / n
            c = c * (n - k) // n if n else 0
            n -= 1


def binomial_tail(K: int, L: int, x: Fraction) -> Fraction:
    """``sum_{l=L+1}^{K} C(K, l) x^l`` exactly (the sum in eq. (11c); 0 when L >= K)."""
    if L >= K:
        return Fraction(0)
    x = Fraction(x)
    return x ** (L + 1) * polynomial(binomials(K, L + 1, K - L, 0, 1), x)
