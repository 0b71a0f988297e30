"""Parameters of statements: their declaration, parsing and domain checks.

A statement declares its parameters (:class:`Parameter`: a name, integer or positive real, the
range of an integer). A value outside the domain (K not a positive integer, L outside 0..K,
alpha not positive and finite, ...) raises :class:`BoundsInputError`, naming the parameter, the
value and the condition. A point inside the domain that breaks a statement's own conditions is
*not applicable* (:class:`NotApplicable`, see ``bounds.evaluation``).

Exact points hold ints and Fractions; numeric points hold float64 arrays broadcast to one shape.
Errors name parameters (``alpha``), never command-line flags; each error records the parameters
it is about (``error.parameters``) so that a command line can name its own flags instead
(``cli_common``).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from .expr import Sym

__all__ = ["BoundsInputError", "NotApplicable", "Parameter", "format_value", "to_fraction",
           "exact_point", "numeric_point", "to_float"]

_POSITIVE_FINITE = "is not positive and finite"
_NONNEGATIVE_FINITE = "is not non-negative and finite"


class _NamedError(ValueError):
    """An input error about some parameters. ``str(error)`` reads with the parameters' names;
    ``error.render(flags)`` with names mapped to a command line's flags (``"{alpha}"`` markers in
    the template are replaced by ``flags("alpha")``)."""

    def __init__(self, template: str, parameters: Sequence[str] = ()) -> None:
        self.template = template
        self.parameters = tuple(parameters)
        super().__init__(self.render(lambda name: name))

    def render(self, flag: Any) -> str:
        text = self.template
        for name in self.parameters:
            text = text.replace("{" + name + "}", flag(name))
        return text


class BoundsInputError(_NamedError):
    """A parameter outside the domain of every bound (names the parameter, value, condition)."""


class NotApplicable(_NamedError):
    """A parameter point that breaks the conditions of the statement asked for."""


@dataclass(frozen=True)
class Parameter:
    """A parameter of a statement, e.g. ``Parameter("L", "integer", minimum=0, maximum="K")``.

    * ``kind``: "integer" (``minimum``; and ``maximum``, the name of a parameter it may not
      exceed), "positive" (a positive finite real), "nonnegative" (a finite real >= 0) or
      "real" (a finite real);
    * ``description``: what it is ("the strong-convexity constant h"), used in messages and help;
    * ``needed_by``: for a parameter some statements do without: who needs it ("Assumption 3.9"),
      so that a point without it reads "h is not given (Assumption 3.9 needs the
      strong-convexity constant h)";
    * ``symbol``: its LaTeX (``\\alpha``); ``sympy`` assumptions follow from ``kind``;
    * ``sample``, ``favour``, ``scale``: where checks draw examples (not a fact of any statement):
      values in ``sample = (lo, hi)`` times the value of the parameter ``scale`` (alpha in units
      of 1/H: the bounds read alpha H), cut to what the conditions allow, the ``favour`` values
      often (the first one on every other start of an adversarial search: alpha H = 1, the edge
      of alpha <= 1/H); an integer without another bound is drawn up to ``sample[1]``.
    """

    name: str
    kind: Literal["integer", "positive", "nonnegative", "real"]
    description: str = ""
    minimum: int = 0
    maximum: str | None = None
    needed_by: str = ""
    symbol: str = ""
    sample: tuple[Any, Any] = (Fraction(1, 4), 4)
    favour: tuple[Any, ...] = (1,)
    scale: str | None = None

    @property
    def sym(self) -> Sym:
        """The parameter in condition expressions (``bounds.expr``)."""
        return Sym(self.name)

    @property
    def integer(self) -> bool:
        return self.kind == "integer"

    def missing(self) -> str:
        """Why a point without this parameter is not applicable."""
        return f"{self.name} is not given ({self.needed_by} needs {self.description})"

    def range_text(self) -> str:
        """Its domain in words, for help texts: "an integer 0 <= L <= K", "positive"."""
        if not self.integer:
            return self.kind
        return f"an integer {self.minimum} <= {self.name}" + (f" <= {self.maximum}" if self.maximum else "")


def format_value(value: Any) -> str:
    """A value for messages and tables: ``1/4`` for Fractions, ``0.25`` or ``5`` for floats."""
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and value == int(value) \
            and abs(float(value)) < 1e16:
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def to_fraction(name: str, value: Any, *, floats: Literal["refuse", "decimal"] = "refuse") -> Fraction:
    """An exact rational from an int, Fraction, SymPy Rational or a string "p/q" / "0.25".

    A float is refused by default (exact mode: write "1/10", not 0.1); with
    ``floats="decimal"`` it is read as the decimal it prints as (0.1 is 1/10, as on the command
    line), not as its binary value.
    """
    if isinstance(value, (float, np.floating)) and floats == "decimal":
        if not np.isfinite(value):
            raise BoundsInputError(f"{name} = {value!r} is not a finite number", (name,))
        return Fraction(repr(float(value)))
    if isinstance(value, (bool, float, np.floating)):
        raise BoundsInputError(f"{name} = {value!r}: exact mode needs an int, a Fraction or a "
                               "string like '1/4', not a float", (name,))
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, np.integer):
        return Fraction(int(value))
    if isinstance(value, str) or type(value).__module__.startswith("sympy"):
        try:
            return Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            pass
    raise BoundsInputError(f"{name} = {value!r} is not a rational number (write e.g. 1/4 or 0.25)",
                           (name,))


def to_float(value: Fraction) -> float:
    """The float nearest to a rational; +-inf beyond float64 (never an OverflowError)."""
    try:
        return float(value)
    except OverflowError:  # float(value) again (as math.copysign would) overflows too
        return float("inf") if value > 0 else float("-inf")


def _integer_condition(p: Parameter) -> str:
    return "is not a positive integer" if p.minimum == 1 else f"is not an integer >= {p.minimum}"


def exact_point(parameters: Iterable[Parameter], values: Mapping[str, Any]) -> dict[str, Any]:
    """Validated exact parameters: integers as ints, the others as Fractions; a parameter whose
    value is None (not given) stays None."""
    parameters = tuple(parameters)
    p: dict[str, Any] = {}
    for par in parameters:
        value = values.get(par.name)
        if value is None:
            p[par.name] = None
            continue
        f = to_fraction(par.name, value)
        if par.integer:
            if f.denominator != 1:
                raise BoundsInputError(f"{par.name} = {f} is not an integer", (par.name,))
            p[par.name] = int(f)
        else:
            p[par.name] = f
    for par in parameters:
        v = p[par.name]
        if v is None or par.maximum is not None:
            continue
        if par.integer and v < par.minimum:
            raise BoundsInputError(f"{par.name} = {v} {_integer_condition(par)}", (par.name,))
        if par.kind == "positive" and v <= 0:
            raise BoundsInputError(f"{par.name} = {v} {_POSITIVE_FINITE}", (par.name,))
        if par.kind == "nonnegative" and v < 0:
            raise BoundsInputError(f"{par.name} = {v} {_NONNEGATIVE_FINITE}", (par.name,))
    for par in parameters:
        v, top = p[par.name], par.maximum
        if v is not None and top is not None and p.get(top) is not None \
                and not par.minimum <= v <= p[top]:
            raise BoundsInputError(f"{par.name} = {v} is outside {par.minimum}..{top} = "
                                   f"{par.minimum}..{p[top]}", (par.name,))
    return p


def numeric_point(parameters: Iterable[Parameter], values: Mapping[str, Any]) -> dict[str, Any]:
    """Validated float64 parameters, broadcast to one shape (a parameter not given is None)."""
    parameters = tuple(parameters)
    given = {par.name: values[par.name] for par in parameters if values.get(par.name) is not None}
    try:
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in given.values()))
    except (TypeError, ValueError) as exc:
        raise BoundsInputError(f"parameters must be numbers of broadcastable shapes ({exc})") from None
    p: dict[str, Any] = {par.name: None for par in parameters}
    p.update({n: np.array(a) for n, a in zip(given, arrays)})
    with np.errstate(invalid="ignore"):
        for par in parameters:
            v = p[par.name]
            if v is None:
                continue
            if par.integer:
                ranged = par.maximum is not None  # its range is checked below
                minimum = -np.inf if ranged else par.minimum
                ok = np.isfinite(v) & (v == np.floor(v)) & (v >= minimum)
                condition = "is not an integer" if ranged else _integer_condition(par)
            elif par.kind == "positive":
                ok, condition = np.isfinite(v) & (v > 0), _POSITIVE_FINITE
            elif par.kind == "nonnegative":
                ok, condition = np.isfinite(v) & (v >= 0), _NONNEGATIVE_FINITE
            else:
                ok, condition = np.isfinite(v), "is not finite"
            _raise_first(p, par.name, ~ok, condition)
        for par in parameters:
            top = par.maximum
            if p[par.name] is not None and top is not None and p.get(top) is not None:
                _raise_first(p, par.name, (p[par.name] < par.minimum) | (p[par.name] > p[top]),
                             f"is outside {par.minimum}..{top} = {par.minimum}..{{top}}", top)
    return p


def _raise_first(p: dict, name: str, bad: np.ndarray, condition: str, top: str | None = None) -> None:
    """Raise BoundsInputError naming the first point where ``bad`` holds."""
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    at = f" (at index {index})" if bad.ndim else ""
    value = format_value(p[name][index])
    if top is not None:
        condition = condition.format(top=format_value(p[top][index]))
    raise BoundsInputError(f"{name} = {value}{at} {condition}", (name,))
