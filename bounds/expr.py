"""A small expression language for the parameter conditions of statements.

A condition is written once, as relations between expressions of a statement's parameters::

    alpha, H = Sym("alpha"), Sym("H")
    Condition("0 < alpha <= 1/H", (alpha > 0, alpha <= 1 / H))

and every reader derives what it needs from that one definition: exact checks on ints and
Fractions, vectorised checks on float64 arrays (``np.minimum`` for ``min``), the one-line message
that names the broken relation and its values, the SymPy relation (``bounds.symbolic``), and the
bounds a Hypothesis strategy may draw a parameter from (:meth:`Relation.bound_for`).

Powers take integer exponents (``(1 + alpha*L)**(2*N) < 2``; shown as ``(1+alpha*L)^(2*N)``).
A relation whose right side divides by a positive parameter is *checked* with the denominator
cleared (``alpha <= 1/H`` as ``alpha*H <= 1``), so that a float check never depends on how 1/H
rounds; the message shows the cleared form ("alpha*H = 2 > 1"), the display the written one.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["Expr", "Sym", "Num", "Relation", "Condition", "minimum", "maximum", "as_expr"]

#: what an expression evaluates over: "exact" (ints, Fractions), "numpy" (float arrays)
_MIN: dict[str, Callable[[Any, Any], Any]] = {"exact": min, "numpy": np.minimum}
_MAX: dict[str, Callable[[Any, Any], Any]] = {"exact": max, "numpy": np.maximum}


class Expr:
    """A node of an expression over named parameters."""

    @property
    def precedence(self) -> int:
        """Binding strength in text: atoms 9, products 2, sums 1."""
        return 9

    def evaluate(self, values: Mapping[str, Any], backend: str = "exact") -> Any:
        raise NotImplementedError  # pragma: no cover

    def text(self) -> str:
        raise NotImplementedError  # pragma: no cover

    def sympy(self, symbols: Mapping[str, Any]) -> Any:
        raise NotImplementedError  # pragma: no cover

    def names(self) -> tuple[str, ...]:
        """The parameters it reads, in order of first appearance."""
        raise NotImplementedError  # pragma: no cover

    def _wrap(self, parent: int) -> str:
        return f"({self.text()})" if self.precedence < parent else self.text()

    def __add__(self, other: object) -> Expr:
        return _Binary("+", self, as_expr(other))

    def __radd__(self, other: object) -> Expr:
        return _Binary("+", as_expr(other), self)

    def __sub__(self, other: object) -> Expr:
        return _Binary("-", self, as_expr(other))

    def __rsub__(self, other: object) -> Expr:
        return _Binary("-", as_expr(other), self)

    def __mul__(self, other: object) -> Expr:
        return _Binary("*", self, as_expr(other))

    def __rmul__(self, other: object) -> Expr:
        return _Binary("*", as_expr(other), self)

    def __truediv__(self, other: object) -> Expr:
        return _Binary("/", self, as_expr(other))

    def __rtruediv__(self, other: object) -> Expr:
        return _Binary("/", as_expr(other), self)

    def __pow__(self, other: object) -> Expr:  # an integer exponent: (1 + alpha*L)**(2*N)
        return _Binary("^", self, as_expr(other))

    def __le__(self, other: object) -> Relation:
        return Relation(self, "<=", as_expr(other))

    def __lt__(self, other: object) -> Relation:
        return Relation(self, "<", as_expr(other))

    def __ge__(self, other: object) -> Relation:
        return Relation(self, ">=", as_expr(other))

    def __gt__(self, other: object) -> Relation:
        return Relation(self, ">", as_expr(other))

    def __repr__(self) -> str:
        return f"<Expr {self.text()}>"


@dataclass(frozen=True, repr=False, eq=False)
class Sym(Expr):
    """A parameter, by name."""

    name: str

    def evaluate(self, values: Mapping[str, Any], backend: str = "exact") -> Any:
        return values[self.name]

    def text(self) -> str:
        return self.name

    def sympy(self, symbols: Mapping[str, Any]) -> Any:
        return symbols[self.name]

    def names(self) -> tuple[str, ...]:
        return (self.name,)


@dataclass(frozen=True, repr=False, eq=False)
class Num(Expr):
    """A rational constant."""

    value: Fraction

    def evaluate(self, values: Mapping[str, Any], backend: str = "exact") -> Any:
        v = self.value
        if backend == "numpy":
            return float(v)
        return int(v) if v.denominator == 1 else v

    def text(self) -> str:
        return str(self.value)

    def sympy(self, symbols: Mapping[str, Any]) -> Any:
        import sympy

        return sympy.Rational(self.value.numerator, self.value.denominator)

    def names(self) -> tuple[str, ...]:
        return ()


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "^": operator.pow}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}


@dataclass(frozen=True, repr=False, eq=False)
class _Binary(Expr):
    op: str
    left: Expr
    right: Expr

    @property
    def precedence(self) -> int:
        return _PRECEDENCE[self.op]

    def evaluate(self, values: Mapping[str, Any], backend: str = "exact") -> Any:
        left, right = self.left.evaluate(values, backend), self.right.evaluate(values, backend)
        if self.op == "^" and backend == "exact":
            return Fraction(left) ** int(right)  # exponents are integers
        if self.op == "^":
            with np.errstate(over="ignore"):  # beyond float64: inf, decided as such
                return np.power(np.asarray(left, dtype=float), right)
        return _OPS[self.op](left, right)

    def text(self) -> str:  # "K-L", "alpha*H", "1/H": compact, as the paper's conditions read
        right_parent = self.precedence + (self.op in "-/^")  # a-(b-c), a/(b*c), a^(b^c)
        return f"{self.left._wrap(self.precedence)}{self.op}{self.right._wrap(right_parent)}"

    def sympy(self, symbols: Mapping[str, Any]) -> Any:
        return _OPS[self.op](self.left.sympy(symbols), self.right.sympy(symbols))  # "^": Pow

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.left.names() + self.right.names()))


@dataclass(frozen=True, repr=False, eq=False)
class _Extremum(Expr):
    kind: str  # "min" or "max"
    args: tuple[Expr, ...]

    def evaluate(self, values: Mapping[str, Any], backend: str = "exact") -> Any:
        function = (_MIN if self.kind == "min" else _MAX)[backend]
        result = self.args[0].evaluate(values, backend)
        for arg in self.args[1:]:
            result = function(result, arg.evaluate(values, backend))
        return result

    def text(self) -> str:
        return f"{self.kind}({', '.join(a.text() for a in self.args)})"

    def sympy(self, symbols: Mapping[str, Any]) -> Any:
        import sympy

        return (sympy.Min if self.kind == "min" else sympy.Max)(*(a.sympy(symbols) for a in self.args))

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for a in self.args for n in a.names()))


def minimum(*args: object) -> Expr:
    """``min(a, b, ...)`` (``np.minimum`` over arrays, ``sympy.Min`` in SymPy)."""
    return _Extremum("min", tuple(as_expr(a) for a in args))


def maximum(*args: object) -> Expr:
    """``max(a, b, ...)``."""
    return _Extremum("max", tuple(as_expr(a) for a in args))


def as_expr(value: object) -> Expr:
    """An Expr, or a constant for an int or Fraction."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, (int, Fraction)) and not isinstance(value, bool):
        return Num(Fraction(value))
    raise TypeError(f"{value!r} is not an expression or a rational constant")


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
_NEGATION = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}


@dataclass(frozen=True, repr=False, eq=False)
class Relation:
    """``lhs op rhs`` with op one of <=, <, >=, >."""

    lhs: Expr
    op: str
    rhs: Expr

    def checked(self) -> Relation:
        """The relation as it is checked: a right side ``n/d`` becomes ``lhs*d op n`` (d is a
        positive parameter, so the direction is kept)."""
        rhs = self.rhs
        if isinstance(rhs, _Binary) and rhs.op == "/" and isinstance(rhs.right, Sym):
            return Relation(self.lhs * rhs.right, self.op, rhs.left)
        return self

    def holds(self, values: Mapping[str, Any], backend: str = "exact") -> Any:
        """Whether it holds (a bool, or a bool array with ``backend="numpy"``)."""
        c = self.checked()
        return _COMPARE[c.op](c.lhs.evaluate(values, backend), c.rhs.evaluate(values, backend))

    def failure(self, values: Mapping[str, Any], format_value: Callable[[Any], str]) -> str:
        """Why it fails at the scalar point: "alpha*H = 2 > 1", "h = 2 > H = 1"."""
        c = self.checked()
        rhs = "" if isinstance(c.rhs, Num) else f" = {format_value(c.rhs.evaluate(values))}"
        return (f"{c.lhs.text()} = {format_value(c.lhs.evaluate(values))} {_NEGATION[c.op]} "
                f"{c.rhs.text()}{rhs}")

    def text(self) -> str:
        return f"{self.lhs.text()} {self.op} {self.rhs.text()}"

    def sympy(self, symbols: Mapping[str, Any]) -> Any:
        """The SymPy relation, unevaluated (so that ``alpha > 0`` stays visible)."""
        import sympy

        kind = {"<=": sympy.LessThan, "<": sympy.StrictLessThan, ">=": sympy.GreaterThan,
                ">": sympy.StrictGreaterThan}[self.op]
        return kind(self.lhs.sympy(symbols), self.rhs.sympy(symbols), evaluate=False)

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.lhs.names() + self.rhs.names()))

    def subject(self) -> tuple[str, ...]:
        """The parameters of the side that is tested (the checked left side): what a message
        about a failure is about ("alpha*H = 2 > 1" is about alpha and H)."""
        return self.checked().lhs.names()

    def bound_for(self, name: str, values: Mapping[str, Any]) -> tuple[str, Any, bool] | None:
        """What the relation says about parameter ``name`` once the others in ``values`` are
        known: ``("upper" | "lower", value, strict)``, or None when it is not of the form
        ``name op e`` or ``name * e op c`` (e, c known and e positive)."""
        c = self.checked()
        sides = [(c.lhs, c.op, c.rhs), (c.rhs, _FLIP[c.op], c.lhs)]
        for side, op, other in sides:
            if not set(other.names()) <= set(values):
                continue
            limit = None
            if isinstance(side, Sym) and side.name == name:
                limit = other.evaluate(values)
            elif isinstance(side, _Binary) and side.op == "*":
                for mine, factor in ((side.left, side.right), (side.right, side.left)):
                    if isinstance(mine, Sym) and mine.name == name and set(factor.names()) <= set(values):
                        scale = factor.evaluate(values)
                        if scale > 0:
                            limit = Fraction(other.evaluate(values)) / Fraction(scale)
            if limit is not None:
                return ("upper" if op in ("<=", "<") else "lower", limit, op in ("<", ">"))
        return None

    def __bool__(self) -> bool:
        raise TypeError(f"{self.text()!r} is a relation between expressions, not a bool; "
                        "write chains like 0 < a <= b as two relations")

    def __repr__(self) -> str:
        return f"<Relation {self.text()}>"


_FLIP = {"<=": ">=", "<": ">", ">=": "<=", ">": "<"}


@dataclass(frozen=True, repr=False, eq=False)
class Condition:
    """A condition on a statement's parameters: its text as the paper writes it and the
    relations it means (all must hold)."""

    text: str
    relations: tuple[Relation, ...]

    def broken(self, values: Mapping[str, Any]) -> Relation | None:
        """The first relation the exact (or scalar float) point breaks, or None."""
        for relation in self.relations:
            if not relation.holds(values):
                return relation
        return None

    def holds(self, values: Mapping[str, Any], backend: str = "exact") -> Any:
        """Whether every relation holds (a bool array with ``backend="numpy"``)."""
        result: Any = True
        for relation in self.relations:
            result = result & relation.holds(values, backend) if backend == "numpy" else (
                result and relation.holds(values, backend))
        return result

    def reason(self, values: Mapping[str, Any], format_value: Callable[[Any], str]) -> str:
        """"alpha*H = 2 > 1 breaks the condition 0 < alpha <= 1/H" at a point that breaks it."""
        relation = self.broken(values)
        if relation is None:
            raise ValueError(f"the point satisfies {self.text}")
        return f"{relation.failure(values, format_value)} breaks the condition {self.text}"

    def subject(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        """The parameters the failure at this point is about (see :meth:`Relation.subject`)."""
        relation = self.broken(values)
        return relation.subject() if relation is not None else ()

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for r in self.relations for n in r.names()))

    def sympy(self, symbols: Mapping[str, Any]) -> list[Any]:
        return [r.sympy(symbols) for r in self.relations]

    def __repr__(self) -> str:
        return f"<Condition {self.text}>"
