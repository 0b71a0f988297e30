"""SymPy symbols of the statements' parameters (imported on first use; ``import bounds`` doesn't).

Each declared parameter is a SymPy symbol with the assumptions its kind implies: an integer
K >= 1 is ``integer=True, positive=True``, an integer L >= 0 ``nonnegative=True``, alpha, H, h
``positive=True``, rho >= 0 ``nonnegative=True``, gamma ``real=True``. The BinomGBML ones
(``bounds.papers.PARAMETERS``) are in ``SYMBOLS`` and module attributes (``bounds.symbolic.K``,
``alpha``, ...), with the summation index ``l``; a related paper's are ``symbol(parameter)`` of its
own declarations (papers reuse letters: L is an integer in BinomGBML, a Lipschitz constant in
Ji et al.). A statement's SymPy expression is built from these by its definition
(``Formula.sympy``); :func:`substitute` reads a value for each free symbol by its name.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy as sp

from .papers import PARAMETERS
from .params import Parameter, to_fraction

__all__ = ["SYMBOLS", "symbol", "rational", "substitute", "sp",
           "K", "L", "M", "i", "l", "alpha", "H", "h", "gamma"]


def symbol(parameter: Parameter) -> sp.Symbol:
    """The SymPy symbol of a parameter, with the assumptions its kind implies."""
    if parameter.integer:
        sign = {"positive": True} if parameter.minimum >= 1 else {"nonnegative": True} \
            if parameter.minimum >= 0 else {}
        return sp.Symbol(parameter.name, integer=True, **sign)
    return sp.Symbol(parameter.name, **{parameter.kind: True})


#: parameter name -> SymPy symbol, for every declared parameter
SYMBOLS: dict[str, sp.Symbol] = {name: symbol(p) for name, p in PARAMETERS.items()}

K, L, M, i = SYMBOLS["K"], SYMBOLS["L"], SYMBOLS["M"], SYMBOLS["i"]
alpha, H, h, gamma = SYMBOLS["alpha"], SYMBOLS["H"], SYMBOLS["h"], SYMBOLS["gamma"]
#: the summation index of the binomial sums
l = sp.Symbol("l", integer=True)


def rational(value: Any) -> Any:
    """A SymPy Rational from an int, Fraction or "p/q" string (``bounds.params.to_fraction``)."""
    if isinstance(value, sp.Basic):
        return value
    f = to_fraction("value", value)
    return sp.Rational(f.numerator, f.denominator)


def substitute(expr: Any, **values: Any) -> Any:
    """Substitute exact values (None entries skipped) for the free symbols of these names and
    evaluate sums: the plain SymPy path.

    Returns a ``Fraction`` when the result is rational, else the SymPy number."""
    subs = {SYMBOLS[name]: rational(v) for name, v in values.items() if v is not None and name in SYMBOLS}
    subs.update({s: rational(values[s.name]) for s in getattr(expr, "free_symbols", ())
                 if values.get(s.name) is not None})
    result = expr.subs(subs).doit()
    if isinstance(result, sp.Rational):
        return Fraction(int(result.p), int(result.q))
    return result
