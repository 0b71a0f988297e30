"""Parameters of the bounds: parsing and domain checks.

Domain errors (K not a positive integer, L outside 0..K, alpha, H, h not positive and finite,
M not a positive integer) raise :class:`BoundsInputError`. A point inside the domain that breaks a
theorem's own conditions is *not applicable* (see ``bounds.theorems``).
Exact points hold ints and Fractions; numeric points hold float64 arrays broadcast to one shape.
"""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np

__all__ = ["BoundsInputError", "NotApplicable", "format_value", "to_fraction", "exact_point",
           "numeric_point", "NAMES"]

NAMES = ("K", "L", "alpha", "H", "h", "M")
_INTEGERS = ("K", "L", "M")
_POSITIVE_INTEGER = "is not a positive integer"
_POSITIVE_FINITE = "is not positive and finite"


class BoundsInputError(ValueError):
    """A parameter outside the domain of every bound (names the parameter, value, condition)."""


class NotApplicable(ValueError):
    """A parameter point that breaks the conditions of the theorem asked for."""


def format_value(value) -> str:
    """A value for messages and tables: ``1/4`` for Fractions, ``0.25`` or ``5`` for floats."""
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and value == int(value) \
            and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def to_fraction(name: str, value) -> Fraction:
    """An exact rational from an int, Fraction, SymPy Rational or a string "p/q" / "0.25"."""
    if isinstance(value, (bool, float, np.floating)):
        raise BoundsInputError(f"{name} = {value!r}: exact mode needs an int, a Fraction or a "
                               "string like '1/4', not a float")
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, np.integer):
        return Fraction(int(value))
    if isinstance(value, str) or type(value).__module__.startswith("sympy"):
        try:
            return Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            pass
    raise BoundsInputError(f"{name} = {value!r} is not a rational number (write e.g. 1/4 or 0.25)")


def exact_point(K, L, alpha, H, h=None, M=None) -> dict:
    """Validated exact parameters: K, L, M ints; alpha, H, h Fractions (h, M may be None)."""
    p = {}
    for name, value in zip(NAMES, (K, L, alpha, H, h, M)):
        if value is None and name in ("h", "M"):
            p[name] = None
            continue
        f = to_fraction(name, value)
        if name in _INTEGERS:
            if f.denominator != 1:
                raise BoundsInputError(f"{name} = {f} is not an integer")
            f = int(f)
        p[name] = f
    for name, bad, condition in (
        ("K", p["K"] < 1, _POSITIVE_INTEGER),
        ("alpha", p["alpha"] <= 0, _POSITIVE_FINITE),
        ("H", p["H"] <= 0, _POSITIVE_FINITE),
        ("h", p["h"] is not None and p["h"] <= 0, _POSITIVE_FINITE),
        ("M", p["M"] is not None and p["M"] < 1, _POSITIVE_INTEGER),
    ):
        if bad:
            raise BoundsInputError(f"{name} = {p[name]} {condition}")
    if not 0 <= p["L"] <= p["K"]:
        raise BoundsInputError(f"L = {p['L']} is outside 0..K = 0..{p['K']}")
    return p


def numeric_point(K, L, alpha, H, h=None, M=None) -> dict:
    """Validated float64 parameters, broadcast to one shape (h, M may be None)."""
    given = {n: v for n, v in zip(NAMES, (K, L, alpha, H, h, M)) if v is not None}
    try:
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in given.values()))
    except (TypeError, ValueError) as exc:
        raise BoundsInputError(f"parameters must be numbers of broadcastable shapes ({exc})") from None
    p = dict.fromkeys(NAMES)
    p.update({n: np.array(a) for n, a in zip(given, arrays)})
    with np.errstate(invalid="ignore"):
        for name in given:
            v = p[name]
            if name in _INTEGERS:
                minimum = -np.inf if name == "L" else 1  # L's range is checked below
                ok = np.isfinite(v) & (v == np.floor(v)) & (v >= minimum)
                condition = "is not an integer" if name == "L" else _POSITIVE_INTEGER
            else:
                ok, condition = np.isfinite(v) & (v > 0), _POSITIVE_FINITE
            _raise_first(p, name, ~ok, condition)
        _raise_first(p, "L", (p["L"] < 0) | (p["L"] > p["K"]), "is outside 0..K = 0..{K}")
    return p


def _raise_first(p: dict, name: str, bad, condition: str) -> None:
    """Raise BoundsInputError naming the first point where ``bad`` holds."""
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    at = f" (at index {index})" if bad.ndim else ""
    value = format_value(p[name][index])
    condition = condition.format(K=format_value(p["K"][index]))
    raise BoundsInputError(f"{name} = {value}{at} {condition}")
