"""Constants and bounds of Ji, Yang, Liang, "Theoretical Convergence of Multi-Step MAML" (JMLR 23, 2022).

Every formula is written once, as a plain arithmetic function of its named parameters, and
evaluated three ways: exactly (``exact=True``: ints, Fractions or strings like ``"1/8"`` in,
a Fraction out), in float64 (the default), or symbolically (:func:`expression`, SymPy). The
paper's notation: N inner steps, inner step size ``alpha``, gradient-Lipschitz constant ``L``,
Hessian-Lipschitz constant ``rho`` (Assumptions 1 and 4); ``G = 1 + alpha L``.

The published formulas are reconstructed from the proof skeleton of the paper (see
docs/related/ji2022.md for the source of each one and the step of the proof it comes from).

>>> from bounds import related_ji2022 as ji
>>> ji.lemma14_constant("1/16", 1, 2, exact=True)     # C_b = (1 + alpha L)^(2N) - 1
Fraction(17985, 65536)
>>> ji.step_size_rule("1/8", 4, 2, exact=True)        # alpha = c / (N L)
Fraction(1, 64)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .params import to_float
from .params import BoundsInputError, to_fraction

__all__ = [
    "FORMULAS", "Formula", "exp_bracket", "expression", "growth", "lemma11_bound",
    "lemma12_bound", "lemma13_bound", "lemma14_constant", "lemma15_bound", "lemma15_condition",
    "lemma18_bound", "lemma19_bound", "product_difference_bound", "prop1_constant",
    "prop1_smoothness", "prop2_first_moment", "prop2_second_moment", "prop7_smoothness",
    "step_size_alpha_max", "step_size_c_max", "step_size_growth", "step_size_growth_bound",
    "step_size_rule", "step_size_uniform_condition",
]

#: parameter -> (condition, predicate on an exact or float value)
_KINDS = {
    "positive": ("> 0", lambda v: v > 0),
    "nonnegative": (">= 0", lambda v: v >= 0),
    "integer>=1": ("an integer >= 1", lambda v: v == int(v) and v >= 1),
    "integer>=0": ("an integer >= 0", lambda v: v == int(v) and v >= 0),
}
_PARAMETERS = {
    "alpha": "positive", "L": "positive", "rho": "nonnegative", "c": "positive",
    "N": "integer>=1", "j": "integer>=0", "n": "integer>=0",
    "grad_norm": "nonnegative", "sigma": "nonnegative",
    "grad_T_norm": "nonnegative", "grad_S_norm": "nonnegative", "grad_T_sq": "nonnegative",
    "b_sq": "nonnegative", "mean_grad_norm": "nonnegative", "mean_grad_S_plus_b": "nonnegative",
    "s": "nonnegative", "v": "nonnegative",
}


def _value(name: str, value, exact: bool):
    kind = _PARAMETERS[name]
    x: Any
    if exact:
        x = to_fraction(name, value)
    else:
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
            raise BoundsInputError(f"{name} = {value!r} is not a real number")
        try:
            x = float(Fraction(value)) if isinstance(value, str) else float(value)
        except (ValueError, ZeroDivisionError):
            raise BoundsInputError(f"{name} = {value!r} is not a real number") from None
        if not math.isfinite(x):
            raise BoundsInputError(f"{name} = {value!r} is not finite")
    condition, ok = _KINDS[kind]
    if not ok(x):
        raise BoundsInputError(f"{name} = {value} is not {condition}" if condition[0].isalpha()
                               else f"{name} = {value} breaks {name} {condition}")
    return int(x) if kind.startswith("integer") else x


@dataclass(frozen=True)
class Formula:
    """One formula of the paper: id, where it is printed, what it bounds, its parameters."""

    id: str
    reference: str
    text: str
    parameters: tuple[str, ...]
    formula: Callable  # plain arithmetic: Fractions, floats or SymPy symbols in

    def __call__(self, *args, exact: bool = False, **kwargs):
        """The formula at the given parameters: a Fraction (``exact=True``) or a float, which is
        +-inf where the value is beyond float64 (computed exactly there, then rounded)."""
        names = self.parameters
        if len(args) > len(names):
            raise TypeError(f"{self.id} takes {len(names)} parameters ({', '.join(names)})")
        given = dict(zip(names, args)) | kwargs
        missing = [n for n in names if n not in given]
        extra = [n for n in given if n not in names]
        if missing or extra:
            raise TypeError(f"{self.id} takes the parameters {', '.join(names)}; "
                            f"missing {missing}, unexpected {extra}")
        values = {n: _value(n, given[n], exact) for n in names}
        if exact:
            return self.formula(**values)
        try:
            out = self.formula(**values)
        except (OverflowError, ZeroDivisionError):
            out = math.nan
        if isinstance(out, float) and not math.isfinite(out):  # beyond float64: exact, rounded once
            out = self.formula(**{n: Fraction(v) for n, v in values.items()})
            out = out if isinstance(out, bool) else to_float(out)
        return out


#: id -> Formula, in the paper's order
FORMULAS: dict[str, Formula] = {}


def _formula(id_: str, reference: str, text: str):
    def register(fn):
        import inspect

        params = tuple(inspect.signature(fn).parameters)
        f = Formula(id_, reference, text, params, fn)
        object.__setattr__(f, "__doc__", fn.__doc__)
        FORMULAS[id_] = f
        return f

    return register


def growth(alpha: Any, L: Any, j: Any) -> Any:
    """``(1 + alpha L)^j``: the growth factor of j inner steps (every constant below uses it)."""
    return (1 + alpha * L) ** j


@_formula("ji2022.lemma11", "Ji et al. Lemma 11",
          "||w_j - u_j|| <= (1 + alpha L)^j ||w - u||, j = 0..N")
def lemma11_bound(alpha, L, j):
    """Lemma 11: two inner GD paths from w and u stay within ``(1 + alpha L)^j ||w - u||``."""
    return growth(alpha, L, j)


@_formula("ji2022.lemma12", "Ji et al. Lemma 12 (and Lemma 17, finite-sum: l_S)",
          "||grad l(w_j)|| <= (1 + alpha L)^j ||grad l(w)||, j = 0..N")
def lemma12_bound(alpha, L, j):
    """Lemmas 12 and 17: the gradient along the inner path grows by at most ``(1 + alpha L)^j``."""
    return growth(alpha, L, j)


@_formula("ji2022.lemma13", "Ji et al. Lemma 13 (= BinomGBML Lemma B.2 with H = L)",
          "||I - prod_j (I - alpha V_j)|| <= (1 + alpha L)^n - 1 for n matrices with ||V_j|| <= L")
def lemma13_bound(alpha, L, n):
    """Lemma 13: ``(1 + alpha L)^n - 1``, the binomial expansion of the product bounded termwise."""
    return growth(alpha, L, n) - 1


@_formula("ji2022.lemma14", "Ji et al. Lemma 14, eq. (65)",
          "||grad L_i(w) - grad l_i(w)|| <= C_b ||grad l_i(w)||, C_b = (1 + alpha L)^(2N) - 1")
def lemma14_constant(alpha, L, N):
    """Lemma 14, eq. (65): ``C_b = (1 + alpha L)^(2N) - 1``
    (= ((1+aL)^N - 1)(1+aL)^N from Lemmas 12, 13 plus ((1+aL)^N - 1) from the mean-value step)."""
    return growth(alpha, L, 2 * N) - 1


@_formula("ji2022.lemma15.condition", "Ji et al. Lemma 15 (the rearrangement divides by 1 - C_b)",
          "C_b < 1, i.e. (1 + alpha L)^(2N) < 2")
def lemma15_condition(alpha, L, N):
    """Whether Lemma 15's rearrangement is valid: ``C_b < 1``, i.e. ``(1 + alpha L)^(2N) < 2``."""
    return growth(alpha, L, 2 * N) < 2


@_formula("ji2022.lemma15", "Ji et al. Lemma 15",
          "E_i ||grad l_i(w)|| <= (||grad L(w)|| + sigma) / (1 - C_b), needs C_b < 1")
def lemma15_bound(alpha, L, N, grad_norm, sigma):
    """Lemma 15: ``(||grad L(w)|| + sigma) / (1 - C_b)`` with ``grad_norm = ||grad L(w)||``.

    Only meaningful for ``C_b < 1`` (:func:`lemma15_condition`); at ``C_b > 1`` it is negative.
    """
    return (grad_norm + sigma) / (1 - (growth(alpha, L, 2 * N) - 1))


@_formula("ji2022.lemma18", "Ji et al. Lemma 18",
          "||grad L_i(w) - grad l_T(w)|| <= ((1+aL)^N - 1) ||grad l_T(w)|| "
          "+ (1+aL)^N ((1+aL)^N - 1) ||grad l_S(w)||")
def lemma18_bound(alpha, L, N, grad_T_norm, grad_S_norm):
    """Lemma 18 (finite-sum): Lemma 13 on the product, Lemma 17 on the mean-value step."""
    G = growth(alpha, L, N)
    return (G - 1) * grad_T_norm + G * (G - 1) * grad_S_norm


@_formula("ji2022.lemma19", "Ji et al. Lemma 19, eqs. (73)-(74) (constants re-derived)",
          "||grad L_i(w)||^2 <= 2 (1+aL)^(4N) ||grad l_T_i(w)||^2 + 2 (1+aL)^(2N) ((1+aL)^N - 1)^2 b_i^2")
def lemma19_bound(alpha, L, N, grad_T_sq, b_sq):
    """Lemma 19 as re-derived from its two steps: Lemma 18, then Assumption 5
    (``||grad l_S_i|| <= ||grad l_T_i|| + b_i``) give ``||grad L_i|| <= G^(2N) ||grad l_T_i||
    + G^N (G^N - 1) b_i``; squared with ``(x + y)^2 <= 2x^2 + 2y^2`` (G = 1 + alpha L)."""
    G = growth(alpha, L, N)
    return 2 * G ** 4 * grad_T_sq + 2 * G ** 2 * (G - 1) ** 2 * b_sq


@_formula("ji2022.eq28", "Ji et al. proof of Proposition 1, eqs. (27)-(28)",
          "||prod_j (I - a H(w_j)) - prod_j (I - a H(u_j))|| <= (rho/L) (1+aL)^(N-1) ((1+aL)^N - 1) ||w - u||")
def product_difference_bound(alpha, L, rho, N):
    """Eq. (28): the telescoped recursion (27), M_m <= (1+aL) M_(m+1) + a rho (1+aL)^(N-1) ||w-u||."""
    return rho / L * growth(alpha, L, N - 1) * (growth(alpha, L, N) - 1)


@_formula("ji2022.prop1.C_L", "Ji et al. Proposition 1, eq. (13)",
          "C_L = (rho/L) (1+aL)^(2N-1) ((1+aL)^N - 1)")
def prop1_constant(alpha, L, rho, N):
    """Eq. (13): ``C_L`` = eq. (28) times the Lemma 12 factor ``(1 + alpha L)^N``."""
    return product_difference_bound.formula(alpha, L, rho, N) * growth(alpha, L, N)


@_formula("ji2022.prop1", "Ji et al. Proposition 1",
          "||grad L(w) - grad L(u)|| <= ((1+aL)^(2N) L + C_L E_i ||grad l_i(w)||) ||w - u||")
def prop1_smoothness(alpha, L, rho, N, mean_grad_norm):
    """Proposition 1: the meta-gradient's Lipschitz parameter ``L_w`` at w, with
    ``mean_grad_norm = E_i ||grad l_i(w)||``."""
    return growth(alpha, L, 2 * N) * L + prop1_constant.formula(alpha, L, rho, N) * mean_grad_norm


@_formula("ji2022.prop7", "Ji et al. Proposition 7, eq. (21)",
          "||grad L(w) - grad L(u)|| <= ((1+aL)^(2N) L + C_L E_i (||grad l_S_i(w)|| + b_i)) ||w - u||")
def prop7_smoothness(alpha, L, rho, N, mean_grad_S_plus_b):
    """Proposition 7 (finite-sum): as Proposition 1 with ``E_i ||grad l_i(w)||`` replaced by
    ``mean_grad_S_plus_b = E_i (||grad l_S_i(w)|| + b_i)`` (eq. (52), Assumption 5)."""
    return growth(alpha, L, 2 * N) * L + prop1_constant.formula(alpha, L, rho, N) * mean_grad_S_plus_b


@_formula("ji2022.prop2.first", "Ji et al. Proposition 2 (first moment)",
          "E ||w~_j - w_j|| <= ((1+aL)^j - 1) s / L, s = sigma_g / sqrt(S)")
def prop2_first_moment(alpha, L, j, s):
    """Proposition 2, first moment: the SGD path (6) vs the GD path (1) after j steps, where
    ``s`` bounds the (conditional) mean norm of each step's gradient error."""
    return (growth(alpha, L, j) - 1) * s / L


@_formula("ji2022.prop2.second", "Ji et al. Proposition 2 (second moment)",
          "E ||w~_j - w_j||^2 <= alpha v ((1+aL)^(2j) - 1) / (L (2 + aL)), v = sigma_g^2 / S")
def prop2_second_moment(alpha, L, j, v):
    """Proposition 2, second moment: ``alpha^2 v sum_(t<j) (1+aL)^(2t)`` summed, for unbiased step
    errors of (conditional) variance at most ``v``."""
    return alpha * v * (growth(alpha, L, 2 * j) - 1) / (L * (2 + alpha * L))


# --------------------------------------------------------------------------------------------
# the step-size rule: alpha inversely proportional to N


@_formula("ji2022.stepsize", "Ji et al. Section 3.4 remark (a), Corollaries 6 and 10",
          "alpha = c / (N L)")
def step_size_rule(c, N, L):
    """The inner step-size rule ``alpha = c / (N L)`` (Corollary 6: c = 1/8)."""
    return c / (N * L)


@_formula("ji2022.stepsize.growth", "Ji et al. proof of Corollary 6, eqs. (45)-(47)",
          "(1 + alpha L)^N = (1 + c/N)^N at alpha = c/(N L)")
def step_size_growth(c, N):
    """``(1 + alpha L)^N`` at the rule: ``(1 + c/N)^N``, increasing in N, below ``e^c``."""
    return (1 + c / N) ** N


@_formula("ji2022.stepsize.bound", "Ji et al. proof of Corollary 6 (the e^c bound, made rational)",
          "(1 + c/N)^N <= sum_(k=0)^N c^k / k! < e^c")
def step_size_growth_bound(c, N):
    """A rational upper bound on ``(1 + c/N)^N``: the Taylor sum ``sum_(k<=N) c^k / k!`` (termwise,
    C(N, k) / N^k <= 1 / k!), itself below ``e^c`` for c > 0."""
    term, total = c ** 0, c ** 0
    for k in range(1, N + 1):
        term = term * c / k
        total = total + term
    return total


def step_size_c_max() -> float:
    """``ln(2) / 2``: the largest c for which the rule keeps ``C_b < 1`` for every N."""
    return math.log(2) / 2


def step_size_alpha_max(N: Any, L: Any) -> float:
    """``(2^(1/(2N)) - 1) / L``: alpha below it gives ``C_b < 1`` (float; exact:
    :func:`lemma15_condition`)."""
    N, L = _value("N", N, False), _value("L", L, False)
    return math.expm1(math.log(2) / (2 * N)) / L


def exp_bracket(x: Any, *, terms: int = 60) -> tuple[Fraction, Fraction]:
    """Rationals ``lo <= e^x <= hi`` for a rational ``0 <= x <= 8``: the Taylor sum and the
    Lagrange remainder ``e^x x^(n+1) / (n+1)!`` with ``e^x < 3^x`` bounded by ``3^ceil(x)``."""
    x = to_fraction("x", x)
    if not 0 <= x <= 8:
        raise BoundsInputError(f"x = {x} is outside 0 <= x <= 8")
    term, total = Fraction(1), Fraction(1)
    for k in range(1, terms + 1):
        term = term * x / k
        total += term
    remainder = term * x / (terms + 1) * 3 ** math.ceil(x)
    return total, total + remainder


def step_size_uniform_condition(c: Any) -> bool:
    """Exactly: does ``alpha = c/(N L)`` keep ``C_b < 1`` for every N, i.e. ``e^(2c) <= 2``?
    (``(1 + c/N)^(2N)`` increases to ``e^(2c)``, and ``e^(2c) != 2`` for rational c.)"""
    c = _value("c", c, True)
    if 2 * c > 1:  # e^(2c) > 1 + 2c > 2
        return False
    lo, hi = exp_bracket(2 * c)
    if hi < 2:
        return True
    if lo > 2:
        return False
    raise ArithmeticError(f"c = {c}: e^(2c) not separated from 2 by the bracket")  # pragma: no cover


def expression(id_: str) -> Any:
    """The SymPy expression of formula ``id_`` in the symbols of its parameter names."""
    import sympy

    f = FORMULAS[id_]
    symbols = {n: sympy.Symbol(n, positive=True) if _PARAMETERS[n] == "positive"
               else sympy.Symbol(n, integer=True, nonnegative=True) if _PARAMETERS[n].startswith("integer")
               else sympy.Symbol(n, nonnegative=True) for n in f.parameters}
    if id_ == "ji2022.stepsize.bound":  # a sum over k = 0..N
        k = sympy.Symbol("k", integer=True, nonnegative=True)
        return sympy.Sum(symbols["c"] ** k / sympy.factorial(k), (k, 0, symbols["N"]))
    return f.formula(**symbols)
