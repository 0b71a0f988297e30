"""The constants and bounds of Ji, Yang, Liang, "Theoretical Convergence of Multi-Step MAML" (JMLR 23, 2022).

Each formula is defined once, here: Lemmas 11-15, 17-19, Propositions 1, 2 (its deterministic
core) and 7 with eq. (28), and the step-size rule alpha = c/(N L) of Section 3.4 and the proof of
Corollary 6. The seed text has its formulas stripped; each is reconstructed from the proof
skeleton that survives (docs/related/ji2022.md gives the source of each). Notation: N inner
steps, inner step size ``alpha``, gradient-Lipschitz constant ``L``, Hessian-Lipschitz constant
``rho`` (Assumptions 1 and 4), ``G = 1 + alpha L``; the norms a bound is linear in are
parameters too (``grad_norm`` = ||grad L(w)||, ``sigma``, ``b_sq`` = b_i^2, ...).

Every status is the verdict of the check of ``verify.related.ji2022`` with the variant's id
(``Variant.check``): Lemma 15 as the surviving words state it (no condition on alpha) is false in
general (``ji2022.lemma15.unconditional``) and holds with C_b < 1 (``ji2022.lemma15``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from ..exact import exp_bracket
from ..expr import Condition
from ..numeric import log_expm1, log_of, log_product, log_sum
from ..params import BoundsInputError, Parameter, exact_point, numeric_point
from ..statement import Assumption, Formula, Hypotheses, Variant
from .parts import Part, statement_theorem, symbol

__all__ = ["PARAMETERS", "ASSUMPTIONS", "THEOREMS", "STATEMENTS", "DEFAULTS", "LEMMA11", "LEMMA12",
           "LEMMA13", "LEMMA14", "LEMMA15", "LEMMA17", "LEMMA18", "LEMMA19", "PROP1", "PROP2", "PROP7",
           "STEPSIZE", "LEMMA15_CONDITION", "step_size_c_max", "step_size_alpha_max",
           "step_size_uniform_condition"]

TITLE = "Ji, Yang, Liang (JMLR 2022), multi-step MAML: constants and bounds"
F = Fraction

# ================================================================================================
# parameters, assumptions, conditions

P_ALPHA = Parameter("alpha", "positive", "the inner step size alpha", symbol=r"\alpha",
                    sample=(F(1, 16), 2), favour=(F(1, 8),), scale=None)
P_L = Parameter("L", "positive", "the gradient-Lipschitz constant L", sample=(F(1, 4), 4))
P_RHO = Parameter("rho", "nonnegative", "the Hessian-Lipschitz constant rho", symbol=r"\rho",
                  sample=(0, 4), favour=(0, 1))
P_N = Parameter("N", "integer", "the inner steps N", minimum=1, sample=(1, 8))
P_J = Parameter("j", "integer", "the inner step j", minimum=0, sample=(0, 8))
P_n = Parameter("n", "integer", "the number n of factors", minimum=0, sample=(0, 8))
P_C = Parameter("c", "positive", "the constant c of the step-size rule", sample=(F(1, 16), 2),
                favour=(F(1, 8),))


def _norm(name: str, description: str, symbol_: str) -> Parameter:
    return Parameter(name, "nonnegative", description, symbol=symbol_, sample=(0, 4), favour=(0, 1))


P_GRAD = _norm("grad_norm", "||grad L(w)||", r"\|\nabla L(w)\|")
P_SIGMA = _norm("sigma", "the task variance sigma of Assumption 2", r"\sigma")
P_GRAD_T = _norm("grad_T_norm", "||grad l_T_i(w)||", r"\|\nabla l_{T_i}(w)\|")
P_GRAD_S = _norm("grad_S_norm", "||grad l_S_i(w)||", r"\|\nabla l_{S_i}(w)\|")
P_GRAD_T_SQ = _norm("grad_T_sq", "||grad l_T_i(w)||^2", r"\|\nabla l_{T_i}(w)\|^2")
P_B_SQ = _norm("b_sq", "b_i^2 of Assumption 5", r"b_i^2")
P_MEAN = _norm("mean_grad_norm", "E_i ||grad l_i(w)||", r"E_i\|\nabla l_i(w)\|")
P_MEAN_S = _norm("mean_grad_S_plus_b", "E_i (||grad l_S_i(w)|| + b_i)", r"E_i(\|\nabla l_{S_i}(w)\| + b_i)")
P_S = _norm("s", "s = sigma_g / sqrt(S)", "s")
P_V = _norm("v", "v = sigma_g^2 / S", "v")
#: the parameters, in the order of the command line
PARAMETERS = (P_ALPHA, P_L, P_RHO, P_N, P_J, P_n, P_C, P_GRAD, P_SIGMA, P_GRAD_T, P_GRAD_S, P_GRAD_T_SQ,
              P_B_SQ, P_MEAN, P_MEAN_S, P_S, P_V)
OTHER_PARAMETERS: tuple[Parameter, ...] = ()
#: the point ``binomgbml bounds --paper ji2022`` evaluates without flags (a flag replaces its value)
DEFAULTS = {"alpha": F(1, 16), "L": F(3, 2), "rho": F(1, 2), "N": 3, "j": 2, "n": 3, "c": F(1, 8),
            "grad_norm": F(2), "sigma": F(1, 3), "grad_T_norm": F(1), "grad_S_norm": F(1, 2),
            "grad_T_sq": F(2), "b_sq": F(1, 9), "mean_grad_norm": F(3, 4),
            "mean_grad_S_plus_b": F(5, 4), "s": F(1, 5), "v": F(1, 25)}

_alpha, _L, _rho, _N, _j, _n, _c = (p.sym for p in (P_ALPHA, P_L, P_RHO, P_N, P_J, P_n, P_C))


def _assumption(item: str, text: str) -> Assumption:
    return Assumption(f"ji2022.{item}", f"Ji et al. Assumption {item}", text)


A1 = _assumption("1", "the losses are bounded below (1), have L-Lipschitz gradients (2) and "
                      "rho-Lipschitz Hessians (3)")
A2 = _assumption("2", "E_i ||grad l_i(w) - grad l(w)||^2 <= sigma^2")
A3 = _assumption("3", "the stochastic gradients are unbiased with variance <= sigma_g^2 / S")
A4 = _assumption("4", "Assumption 1 for the finite-sum losses l_S_i, l_T_i")
A5 = _assumption("5", "||grad l_S_i(w) - grad l_T_i(w)|| <= b_i")
ASSUMPTIONS = {a.name: a for a in (A1, A2, A3, A4, A5)}

#: Lemma 15's rearrangement divides by 1 - C_b: C_b = (1 + alpha L)^(2N) - 1 < 1
LEMMA15_CONDITION = Condition("C_b < 1, i.e. (1 + alpha L)^(2N) < 2", ((1 + _alpha * _L) ** (2 * _N) < 2,))


# ================================================================================================
# the formulas: G^n = (1 + alpha L)^n and what is built from it

def _G(alpha: Any, L: Any) -> Any:
    return 1 + alpha * L


def _logG(alpha: Any, L: Any) -> Any:
    return np.log1p(alpha * L)


def _sG() -> Any:
    return 1 + symbol(P_ALPHA) * symbol(P_L)


def _growth(power: Any, text: str, sympy_power: Any) -> Formula:
    """(1 + alpha L)^power(args) for the formulas' arguments (alpha, L, exponent parameter)."""
    def sym() -> Any:
        return _sG() ** sympy_power()
    sym.__name__ = f"_sym_growth_{text}"
    return Formula(lambda alpha, L, e: _G(alpha, L) ** power(e), lambda alpha, L, e: power(e) * _logG(alpha, L),
                   sym, text)


#: Lemmas 11, 12, 17: (1 + alpha L)^j
F_GROWTH_J = _growth(lambda j: j, "(1 + alpha L)^j", lambda: symbol(P_J))


def _sym_lemma13() -> Any:
    return _sG() ** symbol(P_n) - 1


#: Lemma 13 (= BinomGBML Lemma B.2 with H = L): (1 + alpha L)^n - 1
F_LEMMA13 = Formula(lambda alpha, L, n: _G(alpha, L) ** n - 1,
                    lambda alpha, L, n: log_expm1(n * _logG(alpha, L)), _sym_lemma13, "(1 + alpha L)^n - 1")


def _sym_cb() -> Any:
    return _sG() ** (2 * symbol(P_N)) - 1


#: Lemma 14, eq. (65): C_b = (1 + alpha L)^(2N) - 1
F_CB = Formula(lambda alpha, L, N: _G(alpha, L) ** (2 * N) - 1,
               lambda alpha, L, N: log_expm1(2 * N * _logG(alpha, L)), _sym_cb, "(1 + alpha L)^(2N) - 1")


def _lemma15_numeric(alpha: Any, L: Any, N: Any, grad_norm: Any, sigma: Any) -> Any:
    """(grad_norm + sigma) / (2 - G^(2N)), t = log G^(2N): directly while G^(2N) < 2; beyond,
    -exp(log(total) - t - log(1 - 2 e^-t)), negative and never overflowing (G^(2N) beyond
    float64 gives a subnormal or -0, not NaN)."""
    t = 2 * N * _logG(alpha, L)
    total = np.asarray(grad_norm + sigma, dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        below = total / (2 - np.exp(np.minimum(t, np.log(2.0))))
        beyond = -np.exp(log_of(total) - t - np.log1p(-2 * np.exp(-t)))
    return np.where(t < np.log(2.0), below, beyond)


def _sym_lemma15() -> Any:
    return (symbol(P_GRAD) + symbol(P_SIGMA)) / (1 - _sym_cb())


#: Lemma 15: E_i ||grad l_i(w)|| <= (||grad L(w)|| + sigma) / (1 - C_b)
F_LEMMA15 = Formula(lambda alpha, L, N, g, sigma: (g + sigma) / (2 - _G(alpha, L) ** (2 * N)), None,
                    _sym_lemma15, "(||grad L(w)|| + sigma) / (1 - C_b)", numeric=_lemma15_numeric)


def _lemma18_exact(alpha: Any, L: Any, N: Any, gT: Any, gS: Any) -> Any:
    G = _G(alpha, L) ** N
    return (G - 1) * gT + G * (G - 1) * gS


def _lemma18_log(alpha: Any, L: Any, N: Any, gT: Any, gS: Any) -> Any:
    t = N * _logG(alpha, L)
    return log_product(log_expm1(t), log_sum(log_of(gT), t + log_of(gS)))


def _sym_lemma18() -> Any:
    G = _sG() ** symbol(P_N)
    return (G - 1) * symbol(P_GRAD_T) + G * (G - 1) * symbol(P_GRAD_S)


#: Lemma 18: ((1+aL)^N - 1) ||grad l_T|| + (1+aL)^N ((1+aL)^N - 1) ||grad l_S||
F_LEMMA18 = Formula(_lemma18_exact, _lemma18_log, _sym_lemma18,
                    "((1+aL)^N - 1) ||grad l_T(w)|| + (1+aL)^N ((1+aL)^N - 1) ||grad l_S(w)||")


def _lemma19_exact(alpha: Any, L: Any, N: Any, gT2: Any, b2: Any) -> Any:
    G = _G(alpha, L) ** N
    return 2 * G ** 4 * gT2 + 2 * G ** 2 * (G - 1) ** 2 * b2


def _lemma19_log(alpha: Any, L: Any, N: Any, gT2: Any, b2: Any) -> Any:
    t = N * _logG(alpha, L)
    return np.log(2.0) + log_sum(log_product(4 * t, log_of(gT2)),
                                 log_product(2 * t, 2 * log_expm1(t), log_of(b2)))


def _sym_lemma19() -> Any:
    G = _sG() ** symbol(P_N)
    return 2 * G ** 4 * symbol(P_GRAD_T_SQ) + 2 * G ** 2 * (G - 1) ** 2 * symbol(P_B_SQ)


#: Lemma 19, eqs. (73)-(74), constants re-derived: 2 G^(4N) ||grad l_T||^2 + 2 G^(2N) (G^N - 1)^2 b_i^2
F_LEMMA19 = Formula(_lemma19_exact, _lemma19_log, _sym_lemma19,
                    "2 (1+aL)^(4N) ||grad l_T(w)||^2 + 2 (1+aL)^(2N) ((1+aL)^N - 1)^2 b_i^2")


def _eq28_exact(alpha: Any, L: Any, rho: Any, N: Any, *rest: Any) -> Any:
    return rho / L * _G(alpha, L) ** (N - 1) * (_G(alpha, L) ** N - 1)


def _eq28_log(alpha: Any, L: Any, rho: Any, N: Any, *rest: Any) -> Any:
    t = _logG(alpha, L)
    return log_product(log_of(rho) - np.log(L), (N - 1) * t, log_expm1(N * t))


def _sym_eq28() -> Any:
    G, N = _sG(), symbol(P_N)
    return symbol(P_RHO) / symbol(P_L) * G ** (N - 1) * (G ** N - 1)


#: eq. (28): ||prod(w) - prod(u)|| <= (rho/L) (1+aL)^(N-1) ((1+aL)^N - 1) ||w - u||
F_EQ28 = Formula(_eq28_exact, _eq28_log, _sym_eq28, "(rho/L) (1+aL)^(N-1) ((1+aL)^N - 1)")


def _cl_exact(alpha: Any, L: Any, rho: Any, N: Any, *rest: Any) -> Any:
    return _eq28_exact(alpha, L, rho, N) * _G(alpha, L) ** N


def _cl_log(alpha: Any, L: Any, rho: Any, N: Any, *rest: Any) -> Any:
    return log_product(_eq28_log(alpha, L, rho, N), N * _logG(alpha, L))


def _sym_cl() -> Any:
    return _sym_eq28() * _sG() ** symbol(P_N)


#: eq. (13): C_L = eq. (28) times the Lemma 12 factor (1+aL)^N
F_CL = Formula(_cl_exact, _cl_log, _sym_cl, "(rho/L) (1+aL)^(2N-1) ((1+aL)^N - 1)")


def _smoothness(weight: Parameter) -> Formula:
    """Propositions 1 and 7: L_w = (1+aL)^(2N) L + C_L * weight."""
    def exact(alpha: Any, L: Any, rho: Any, N: Any, w: Any) -> Any:
        return _G(alpha, L) ** (2 * N) * L + _cl_exact(alpha, L, rho, N) * w

    def log(alpha: Any, L: Any, rho: Any, N: Any, w: Any) -> Any:
        return log_sum(2 * N * _logG(alpha, L) + np.log(L), log_product(_cl_log(alpha, L, rho, N), log_of(w)))

    def sym() -> Any:
        return _sG() ** (2 * symbol(P_N)) * symbol(P_L) + _sym_cl() * symbol(weight)
    sym.__name__ = f"_sym_smoothness_{weight.name}"
    return Formula(exact, log, sym, f"(1+aL)^(2N) L + C_L {weight.description}")


F_PROP1, F_PROP7 = _smoothness(P_MEAN), _smoothness(P_MEAN_S)


def _sym_first() -> Any:
    return (_sG() ** symbol(P_J) - 1) * symbol(P_S) / symbol(P_L)


def _sym_second() -> Any:
    alpha, L = symbol(P_ALPHA), symbol(P_L)
    return alpha * symbol(P_V) * (_sG() ** (2 * symbol(P_J)) - 1) / (L * (2 + alpha * L))


#: Proposition 2: E||w~_j - w_j|| <= ((1+aL)^j - 1) s / L and
#: E||w~_j - w_j||^2 <= alpha v ((1+aL)^(2j) - 1) / (L (2 + aL))
F_FIRST = Formula(lambda alpha, L, j, s, v: (_G(alpha, L) ** j - 1) * s / L,
                  lambda alpha, L, j, s, v: log_product(log_expm1(j * _logG(alpha, L)), log_of(s)) - np.log(L),
                  _sym_first, "((1+aL)^j - 1) s / L")
F_SECOND = Formula(lambda alpha, L, j, s, v: alpha * v * (_G(alpha, L) ** (2 * j) - 1) / (L * (2 + alpha * L)),
                   lambda alpha, L, j, s, v: (log_product(np.log(alpha), log_of(v), log_expm1(2 * j * _logG(alpha, L)))
                                              - np.log(L) - np.log(2 + alpha * L)),
                   _sym_second, "alpha v ((1+aL)^(2j) - 1) / (L (2 + aL))")


def _taylor(c: Any, N: int) -> Any:
    """sum_(k=0)^N c^k / k!."""
    term = total = Fraction(1)
    for k in range(1, N + 1):
        term = term * c / k
        total = total + term
    return total


def _taylor_log(c: Any, N: Any) -> Any:
    """log sum_(k<=N) c^k/k! = c + log Q(N+1, c), Q the regularised upper incomplete gamma function
    (Q(N+1, c) = e^-c sum_(k<=N) c^k / k!). Where Q underflows (c far beyond N), the sum is read
    from its top terms: log(c^N/N!) + log sum_i prod_(m<i) (N-m)/c, 400 terms (ratio <= N/c)."""
    from scipy.special import gammaincc, gammaln

    c, N = np.broadcast_arrays(np.asarray(c, dtype=float), np.asarray(N, dtype=float))
    with np.errstate(divide="ignore"):
        out = c + np.log(gammaincc(N + 1, c))
    low = ~np.isfinite(out)
    if low.any():
        cl, Nl = c[low], N[low]
        term, total = np.ones_like(cl), np.ones_like(cl)
        for m in range(400):
            term = term * np.maximum(Nl - m, 0) / cl
            total = total + term
        out = np.array(out)
        out[low] = Nl * np.log(cl) - gammaln(Nl + 1) + np.log(total)
    return out


def _sym_taylor() -> Any:
    import sympy

    k = sympy.Symbol("k", integer=True, nonnegative=True)
    return sympy.Sum(symbol(P_C) ** k / sympy.factorial(k), (k, 0, symbol(P_N)))


#: the step-size rule alpha = c/(N L) (Section 3.4 (a), Corollaries 6 and 10); at it
#: (1 + alpha L)^N = (1 + c/N)^N <= sum_(k<=N) c^k/k! < e^c (proof of Corollary 6, (45)-(47))
F_STEP = Formula(lambda c, N, L: c / (N * L), lambda c, N, L: np.log(c) - np.log(N) - np.log(L),
                 lambda: symbol(P_C) / (symbol(P_N) * symbol(P_L)), "c / (N L)")
F_STEP_GROWTH = Formula(lambda c, N, L: (1 + c / N) ** N, lambda c, N, L: N * np.log1p(c / N),
                        lambda: (1 + symbol(P_C) / symbol(P_N)) ** symbol(P_N), "(1 + c/N)^N")
F_STEP_BOUND = Formula(lambda c, N, L: _taylor(c, N), lambda c, N, L: _taylor_log(c, N), _sym_taylor,
                       "sum_(k=0)^N c^k / k!")


# ================================================================================================
# the statements

def _holds(check: str = "", proof: str = "") -> tuple[Variant, ...]:
    return (Variant("printed", "printed", "holds", proof=proof, check=check),)


def _theorem(number: str, reference: str, parameters: tuple, assumptions: tuple, parts: list,
             variants: tuple[Variant, ...] | None = None, arguments: tuple = ()) -> Any:
    hyp = Hypotheses(parameters, assumptions, (), parameters, arguments)
    return statement_theorem(f"ji2022.{number}", reference, hyp, parts, variants or _holds())


_GROWTH_ARGS = (_alpha, _L, _j)
LEMMA11 = _theorem("lemma11", "Ji et al. Lemma 11", (P_ALPHA, P_L, P_J), (A1,),
                   [Part("factor", "||w_j - u_j|| <= (1 + alpha L)^j ||w - u||, j = 0..N", "Lemma 11",
                         "(1+\\alpha L)^j", F_GROWTH_J)], arguments=_GROWTH_ARGS)
LEMMA12 = _theorem("lemma12", "Ji et al. Lemma 12", (P_ALPHA, P_L, P_J), (A1,),
                   [Part("factor", "||grad l(w_j)|| <= (1 + alpha L)^j ||grad l(w)||, j = 0..N", "Lemma 12",
                         "(1+\\alpha L)^j", F_GROWTH_J)], arguments=_GROWTH_ARGS)
LEMMA17 = _theorem("lemma17", "Ji et al. Lemma 17 (finite-sum; as Lemma 12 for l_S)", (P_ALPHA, P_L, P_J), (A4,),
                   [Part("factor", "||grad l_S(w_j)|| <= (1 + alpha L)^j ||grad l_S(w)||, j = 0..N",
                         "Lemma 17", "(1+\\alpha L)^j", F_GROWTH_J)], arguments=_GROWTH_ARGS)
LEMMA13 = _theorem("lemma13", "Ji et al. Lemma 13", (P_ALPHA, P_L, P_n), (),
                   [Part("bound", "||I - prod_j (I - alpha V_j)|| <= (1 + alpha L)^n - 1 for n matrices "
                         "with ||V_j|| <= L", "Lemma 13", "(1+\\alpha L)^n - 1", F_LEMMA13)])
LEMMA14 = _theorem("lemma14", "Ji et al. Lemma 14, eq. (65)", (P_ALPHA, P_L, P_N), (A1,),
                   [Part("C_b", "||grad L_i(w) - grad l_i(w)|| <= C_b ||grad l_i(w)||, "
                         "C_b = (1 + alpha L)^(2N) - 1", "(65)", "C_b", F_CB)])
LEMMA15 = _theorem(
    "lemma15", "Ji et al. Lemma 15", (P_ALPHA, P_L, P_N, P_GRAD, P_SIGMA), (A1, A2),
    [Part("bound", "E_i ||grad l_i(w)|| <= (||grad L(w)|| + sigma) / (1 - C_b)", "Lemma 15",
          r"\frac{\|\nabla L\| + \sigma}{1 - C_b}", F_LEMMA15)],
    (Variant("printed", "printed", "false in general", check="ji2022.lemma15.unconditional",
             proof="docs/related/ji2022.md: the words state no condition on alpha; refuted at alpha L = 1"),
     Variant("condition", "restricted", "holds", conditions=(LEMMA15_CONDITION,), check="ji2022.lemma15",
             proof="the rearrangement divides by 1 - C_b > 0")))
LEMMA18 = _theorem("lemma18", "Ji et al. Lemma 18", (P_ALPHA, P_L, P_N, P_GRAD_T, P_GRAD_S), (A4,),
                   [Part("bound", "||grad L_i(w) - grad l_T(w)|| <= ((1+aL)^N - 1) ||grad l_T(w)|| "
                         "+ (1+aL)^N ((1+aL)^N - 1) ||grad l_S(w)||", "Lemma 18", "e_{18}", F_LEMMA18)])
LEMMA19 = _theorem("lemma19", "Ji et al. Lemma 19, eqs. (73)-(74) (constants re-derived)",
                   (P_ALPHA, P_L, P_N, P_GRAD_T_SQ, P_B_SQ), (A4, A5),
                   [Part("bound", "||grad L_i(w)||^2 <= 2 (1+aL)^(4N) ||grad l_T_i(w)||^2 "
                         "+ 2 (1+aL)^(2N) ((1+aL)^N - 1)^2 b_i^2", "(73)-(74)", "e_{19}", F_LEMMA19)])
PROP1 = _theorem("prop1", "Ji et al. Proposition 1, eq. (13)", (P_ALPHA, P_L, P_RHO, P_N, P_MEAN), (A1,),
                 [Part("L_w", "||grad L(w) - grad L(u)|| <= ((1+aL)^(2N) L + C_L E_i ||grad l_i(w)||) ||w - u||",
                       "Proposition 1", "L_w", F_PROP1),
                  Part("C_L", "C_L = (rho/L) (1+aL)^(2N-1) ((1+aL)^N - 1)", "(13)", "C_L", F_CL),
                  Part("eq28", "||prod_j (I - a H(w_j)) - prod_j (I - a H(u_j))|| <= (rho/L) (1+aL)^(N-1) "
                       "((1+aL)^N - 1) ||w - u||", "(28)", "e_{28}", F_EQ28)])
PROP7 = _theorem("prop7", "Ji et al. Proposition 7, eq. (21)", (P_ALPHA, P_L, P_RHO, P_N, P_MEAN_S), (A4, A5),
                 [Part("L_w", "||grad L(w) - grad L(u)|| <= ((1+aL)^(2N) L + C_L E_i (||grad l_S_i(w)|| + b_i)) "
                       "||w - u||", "Proposition 7", "L_w", F_PROP7)])
PROP2 = _theorem("prop2", "Ji et al. Proposition 2 (deterministic core)", (P_ALPHA, P_L, P_J, P_S, P_V),
                 (A1, A3),
                 [Part("first", "E ||w~_j - w_j|| <= ((1+aL)^j - 1) s / L, s = sigma_g / sqrt(S)",
                       "first moment", r"m_1", F_FIRST),
                  Part("second", "E ||w~_j - w_j||^2 <= alpha v ((1+aL)^(2j) - 1) / (L (2 + aL)), "
                       "v = sigma_g^2 / S", "second moment", r"m_2", F_SECOND)])
STEPSIZE = _theorem("stepsize", "Ji et al. Section 3.4 (a), proof of Corollary 6", (P_C, P_N, P_L), (),
                    [Part("step", "alpha = c / (N L)", "alpha = c/(N L)", r"\alpha", F_STEP),
                     Part("growth", "(1 + alpha L)^N = (1 + c/N)^N at alpha = c/(N L)", "(1 + c/N)^N",
                          r"(1 + c/N)^N", F_STEP_GROWTH),
                     Part("growth_bound", "(1 + c/N)^N <= sum_(k=0)^N c^k / k! < e^c",
                          "sum c^k/k!", r"\sum_{k\le N} c^k/k!", F_STEP_BOUND)])

#: "ji2022.lemma11" ... "ji2022.stepsize" -> Theorem
THEOREMS = {t.number: t for t in (LEMMA11, LEMMA12, LEMMA13, LEMMA14, LEMMA15, LEMMA17, LEMMA18, LEMMA19,
                                  PROP1, PROP2, PROP7, STEPSIZE)}
LEMMAS: dict[str, Any] = {}
#: every statement defined here, by id
STATEMENTS = {b.id: b for t in THEOREMS.values() for b in t.bounds.values()}


# ================================================================================================
# the step-size rule for every N (ji2022.stepsize.uniform)

def step_size_c_max() -> float:
    """``ln(2) / 2``: the largest c for which the rule keeps ``C_b < 1`` for every N."""
    return math.log(2) / 2


def step_size_alpha_max(N: Any, L: Any) -> float:
    """``(2^(1/(2N)) - 1) / L``: alpha below it gives ``C_b < 1`` (float; exactly:
    :data:`LEMMA15_CONDITION`)."""
    p = numeric_point((P_N, P_L), {"N": N, "L": L})
    return math.expm1(math.log(2) / (2 * float(p["N"]))) / float(p["L"])


def step_size_uniform_condition(c: Any) -> bool:
    """Exactly: does ``alpha = c/(N L)`` keep ``C_b < 1`` for every N, i.e. ``e^(2c) <= 2``?
    (``(1 + c/N)^(2N)`` increases to ``e^(2c)``, and ``e^(2c) != 2`` for rational c.)"""
    c = exact_point((P_C,), {"c": c})["c"]
    if 2 * c > 1:  # e^(2c) > 1 + 2c > 2
        return False
    lo, hi = exp_bracket(2 * c)
    if hi < 2:
        return True
    if lo > 2:
        return False
    raise BoundsInputError(f"c = {c}: e^(2c) not separated from 2 by the bracket", ("c",))  # pragma: no cover
