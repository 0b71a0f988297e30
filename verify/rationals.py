"""Exact rational helpers: parsing "p/q" strings, formatting, squared norms, rounding to rationals."""

from __future__ import annotations

import math
import numbers
import re
from fractions import Fraction
from typing import Any

import numpy as np

from .errors import VerifyInputError

__all__ = ["MAX_EXPONENT", "as_fraction", "det", "fraction_array", "fraction_shown", "fraction_str", "is_psd",
           "rationalize", "spectrum_violation", "sq_norm", "to_float_array"]

#: the largest decimal exponent accepted in a number string ("1e400" is exact, "1e99999999" would
#: take hours to expand into an integer)
MAX_EXPONENT = 10_000
_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)\s*$")


def as_fraction(value: Any, name: str = "value") -> Fraction:
    """An int, Fraction, SymPy Rational, float or "p/q" string as an exact Fraction."""
    if isinstance(value, bool):
        raise VerifyInputError(f"{name}={value!r} must be a number or a 'p/q' string, not a bool")
    if isinstance(value, str):
        exponent = _EXPONENT.search(value)
        if exponent and abs(int(exponent.group(1))) > MAX_EXPONENT:
            raise VerifyInputError(f"{name}={value!r:.40}: the exponent is beyond +-{MAX_EXPONENT}")
    if isinstance(value, (numbers.Rational, str)):
        try:
            return Fraction(str(value) if not isinstance(value, numbers.Rational) else value)
        except (ValueError, ZeroDivisionError):
            raise VerifyInputError(f"{name}={value!r:.40} is not a rational number 'p/q'") from None
    if hasattr(value, "p") and hasattr(value, "q"):  # sympy.Rational
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, numbers.Real) and np.isfinite(float(value)):
        return Fraction(float(value))
    raise VerifyInputError(f"{name}={value!r:.40} must be a finite number or a 'p/q' string")


def fraction_array(values: Any, name: str = "value") -> np.ndarray:
    """A nested list / array of numbers or "p/q" strings as an object array of Fractions."""
    arr = np.asarray(values, dtype=object)
    if any(isinstance(x, (list, tuple)) for x in arr.ravel()):
        raise VerifyInputError(f"{name} is ragged: nested lists of unequal lengths, expected a rectangular array")
    return np.vectorize(lambda x: as_fraction(x, name), otypes=[object])(arr) if arr.size else arr


def fraction_str(x: Any) -> str:
    """"p/q" (or "p") for an exact rational."""
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def fraction_shown(x: Any, digits: int = 40) -> str:
    """An exact rational for a message: "p/q" while p and q have at most ``digits`` digits, else
    its value to 6 significant digits ("~1.23457e+301"), computed without float overflow."""
    x = Fraction(x)
    if max(abs(x.numerator), x.denominator) < 10 ** digits:
        return fraction_str(x)
    exponent = abs(x.numerator).bit_length() - x.denominator.bit_length()
    e10 = math.floor(exponent * math.log10(2))  # |x| / 10^e10 lies within a factor 20 of 1
    mantissa = float(abs(x) / Fraction(10) ** e10)
    shift = math.floor(math.log10(mantissa))
    return f"~{'-' if x < 0 else ''}{mantissa / 10 ** shift:.6g}e{e10 + shift:+d}"


def to_float_array(values: Any) -> np.ndarray:
    """float64 copy of an array of Fractions (or floats)."""
    return np.asarray(values, dtype=object).astype(float)


def sq_norm(v: Any) -> Fraction:
    """Exact squared Euclidean norm of a vector of rationals."""
    return sum((Fraction(x) ** 2 for x in np.asarray(v, dtype=object).ravel()), Fraction(0))


def rationalize(x: Any, max_denominator: int) -> np.ndarray:
    """Nearest rationals with denominators <= ``max_denominator``, elementwise (object array)."""
    arr = np.asarray(x, dtype=float)
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        out[idx] = Fraction(float(v)).limit_denominator(max_denominator)
    return out


def det(matrix: Any) -> Fraction:
    """Exact determinant of a square matrix of rationals (Gaussian elimination over Fractions)."""
    A = [[Fraction(x) for x in row] for row in np.asarray(matrix, dtype=object)]
    n, result = len(A), Fraction(1)
    for c in range(n):
        pivot = next((r for r in range(c, n) if A[r][c] != 0), None)
        if pivot is None:
            return Fraction(0)
        if pivot != c:
            A[c], A[pivot] = A[pivot], A[c]
            result = -result
        result *= A[c][c]
        for r in range(c + 1, n):
            f = A[r][c] / A[c][c]
            A[r] = [a - f * b for a, b in zip(A[r], A[c])]
    return result


def is_psd(matrix: Any) -> bool:
    """Exactly: is the symmetric rational matrix positive semidefinite (all principal minors >= 0)?"""
    from itertools import combinations

    A = np.asarray(matrix, dtype=object)
    n = A.shape[0]
    return all(det(A[np.ix_(idx, idx)]) >= 0
               for size in range(1, n + 1) for idx in combinations(range(n), size))


def spectrum_violation(matrix: Any, lo: Any, hi: Any) -> str | None:
    """Why the rational matrix is not symmetric with spectrum in [lo, hi] (exactly), else None;
    an end that is None is open."""
    A = np.asarray(matrix, dtype=object)
    if not (A == A.T).all():
        return "not symmetric"
    eye = np.eye(A.shape[0], dtype=int).astype(object)
    if lo is not None and not is_psd(A - eye * Fraction(lo)):
        return f"has an eigenvalue below {fraction_str(lo)}"
    if hi is not None and not is_psd(eye * Fraction(hi) - A):
        return f"has an eigenvalue above {fraction_str(hi)}"
    return None
