"""Exact real numbers of the form ``sum_k c_k sqrt(r_k)`` (rational c_k, r_k >= 0), compared exactly.

Norms of rational vectors are square roots of rationals, so bounds like
``||x|| <= A ||y|| + B E_i ||z_i||`` compare sums of square roots. A :class:`Surd` keeps such a
sum with its radicands grouped by square class (``sqrt(8) = 2 sqrt(2)``: two radicands are in one
class when their product is a rational square). Square roots of rationals in distinct classes are
linearly independent over the rationals, so a sum is zero exactly when every grouped coefficient
is zero; otherwise its sign is found by rational interval enclosures (``math.isqrt`` at doubling
precision), which terminate because the number is not zero.
"""

from __future__ import annotations

from fractions import Fraction
from math import isqrt

__all__ = ["Surd", "norm"]

#: give up (ArithmeticError) beyond this many bits of enclosure precision
_MAX_BITS = 1 << 15


def _square_root(n: int) -> int | None:
    r = isqrt(n)
    return r if r * r == n else None


class Surd:
    """``sum_m coef_m sqrt(m)`` over square-class representatives m (positive integers)."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[int, Fraction] | None = None):
        self.terms: dict[int, Fraction] = {}
        for m, c in (terms or {}).items():
            self._add(m, Fraction(c))

    def _add(self, m: int, c: Fraction) -> None:
        """Add ``c sqrt(m)`` for an integer m >= 0, merged into its square class."""
        if c == 0 or m == 0:
            return
        for rep in self.terms:
            k = _square_root(m * rep)
            if k is not None:  # sqrt(m) = k / sqrt(rep) = (k / rep) sqrt(rep)
                total = self.terms[rep] + c * Fraction(k, rep)
                if total:
                    self.terms[rep] = total
                else:
                    del self.terms[rep]
                return
        k = _square_root(m)
        if k is not None and 1 not in self.terms:
            self.terms[1] = c * k
        elif k is not None:  # pragma: no cover -- the loop above merges perfect squares into 1
            self.terms[1] += c * k
        else:
            self.terms[m] = c

    @classmethod
    def sqrt(cls, q) -> Surd:
        """``sqrt(q)`` for a rational ``q >= 0`` (``sqrt(p/q) = sqrt(p q) / q``)."""
        q = Fraction(q)
        if q < 0:
            raise ValueError(f"sqrt of a negative number {q}")
        return cls({q.numerator * q.denominator: Fraction(1, q.denominator)})

    @classmethod
    def of(cls, x) -> Surd:
        return x if isinstance(x, Surd) else cls({1: Fraction(x)})

    def __add__(self, other) -> Surd:
        out = Surd(self.terms)
        for m, c in Surd.of(other).terms.items():
            out._add(m, c)
        return out

    __radd__ = __add__

    def __neg__(self) -> Surd:
        return Surd({m: -c for m, c in self.terms.items()})

    def __sub__(self, other) -> Surd:
        return self + (-Surd.of(other))

    def __rsub__(self, other) -> Surd:
        return Surd.of(other) - self

    def __mul__(self, other) -> Surd:
        out = Surd()
        for m1, c1 in self.terms.items():
            for m2, c2 in Surd.of(other).terms.items():
                out._add(m1 * m2, c1 * c2)
        return out

    __rmul__ = __mul__

    def __truediv__(self, q) -> Surd:
        q = Fraction(q)
        return Surd({m: c / q for m, c in self.terms.items()})

    def enclosure(self, bits: int) -> tuple[Fraction, Fraction]:
        """Rationals ``lo <= self <= hi`` with each square root enclosed to ``2^-bits``."""
        lo = hi = Fraction(0)
        scale = 1 << bits
        for m, c in self.terms.items():
            r = isqrt(m * scale * scale)
            a, b = Fraction(r, scale), Fraction(r + 1, scale)
            lo, hi = (lo + c * a, hi + c * b) if c > 0 else (lo + c * b, hi + c * a)
        return lo, hi

    def sign(self) -> int:
        """-1, 0 or +1, exactly."""
        if not self.terms:
            return 0
        signs = {c > 0 for c in self.terms.values()}
        if len(signs) == 1:
            return 1 if signs.pop() else -1
        bits = 32
        while bits <= _MAX_BITS:
            lo, hi = self.enclosure(bits)
            if lo > 0:
                return 1
            if hi < 0:
                return -1
            bits *= 2
        raise ArithmeticError(f"sign not decided at 2^-{_MAX_BITS}: {self!r}")  # pragma: no cover

    def __le__(self, other) -> bool:
        return (Surd.of(other) - self).sign() >= 0

    def __lt__(self, other) -> bool:
        return (Surd.of(other) - self).sign() > 0

    def __ge__(self, other) -> bool:
        return Surd.of(other) <= self

    def __gt__(self, other) -> bool:
        return Surd.of(other) < self

    def __eq__(self, other) -> bool:
        return isinstance(other, (Surd, int, Fraction)) and (self - other).sign() == 0

    __hash__ = None  # type: ignore[assignment]  # mutable equality: not hashable

    def __bool__(self) -> bool:
        return bool(self.terms)

    def __float__(self) -> float:
        lo, hi = self.enclosure(64)
        return float((lo + hi) / 2)

    def rational(self) -> Fraction | None:
        """The value as a Fraction when it is rational, else None."""
        if not self.terms:
            return Fraction(0)
        return self.terms[1] if list(self.terms) == [1] else None

    def __repr__(self) -> str:
        parts = [f"{c}" if m == 1 else f"{c}*sqrt({m})" for m, c in sorted(self.terms.items())]
        return " + ".join(parts) if parts else "0"


def norm(v) -> Surd:
    """The Euclidean norm of a vector of rationals, exactly."""
    return Surd.sqrt(sum((Fraction(x) ** 2 for x in v), Fraction(0)))
