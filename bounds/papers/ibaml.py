"""The constants of iBaML's Theorems 1 and 2 (Zhang, Li, Gao, Giannakis, AAAI 2023), derived; defined once.

The paper states ``|explicit - true| <= F_t eps_t + A_t delta_t`` (Theorem 1) and
``|g_hat - true| <= F'_t eps_t + G'_t delta'_t`` (Theorem 2, eq. (18)) with constants "dependent
on rho_t", given in an appendix that is not published with it. The constants here are derived
from the proof structure (docs/related/ibaml.md has the decomposition) and checked by
``verify.related.ibaml`` (``ibaml.thm1``, ``ibaml.thm2``: holds); they are not the paper's.

Parameters (Assumptions 2-5 and the theorems' definitions): ``A``, ``B`` (L^val is A-Lipschitz and
B-smooth in v), ``C`` (nabla_2 L^val is C-Lipschitz in v), ``D``, ``E`` (L^tr is D-smooth, its
Hessian E-Lipschitz; D is the paper's D_t, not the prior covariance), ``sigma`` (the smallest
singular value of H_t at v_hat and v_bar), ``D_min`` (the smallest prior variance), ``rho``
(max(|grad L^tr(v_bar)|_inf, |grad L^tr(v_hat)|_inf)), ``epsilon`` = |v_hat - v_bar|, ``delta`` =
|nabla A_hat - G H^{-1}(v_hat)|, ``delta_prime`` (the CG error). Remark 3: when L^tr is
H-Lipschitz, rho <= H, and every constant is non-decreasing in rho, so rho = H gives task constants.
"""

from __future__ import annotations

from fractions import Fraction as F
from typing import Any

import numpy as np

from ..numeric import log_of, log_product, log_sum
from ..params import Parameter
from ..statement import Assumption, Formula, Hypotheses, Variant
from .parts import Part, quantity, statement_theorem, symbol

__all__ = ["PARAMETERS", "ASSUMPTIONS", "THEOREMS", "STATEMENTS", "QUANTITIES", "DEFAULTS",
           "THEOREM1", "THEOREM2", "GAMMA", "H_DIFFERENCE"]

TITLE = "iBaML (Zhang et al. 2023), Theorems 1-2: derived constants"


def _constant(name: str, description: str, kind: Any = "nonnegative", symbol_: str = "") -> Parameter:
    return Parameter(name, kind, description, symbol=symbol_ or name, sample=(0, 4), favour=(0, 1))


P_A = _constant("A", "the Lipschitz constant A of L^val in v")
P_B = _constant("B", "the smoothness B of L^val in v")
P_C = _constant("C", "the Lipschitz constant C of nabla_2 L^val in v")
P_D = _constant("D", "the smoothness D of L^tr")
P_E = _constant("E", "the Hessian-Lipschitz constant E of L^tr")
P_SIGMA = Parameter("sigma", "positive", "the smallest singular value sigma of H_t", symbol=r"\sigma",
                    sample=(F(1, 4), 4))
P_D_MIN = Parameter("D_min", "positive", "the smallest prior variance D_min", symbol=r"D_{\min}",
                    sample=(F(1, 4), 4))
P_RHO = _constant("rho", "rho_t = max |grad L^tr|_inf at v_hat and v_bar", symbol_=r"\rho")
P_EPSILON = _constant("epsilon", "eps_t = |v_hat - v_bar|", symbol_=r"\epsilon")
P_DELTA = _constant("delta", "delta_t = |nabla A_hat - G H^-1(v_hat)|", symbol_=r"\delta")
P_DELTA_PRIME = _constant("delta_prime", "the conjugate-gradient error delta'_t", symbol_=r"\delta'")
_CONSTANTS = (P_A, P_B, P_C, P_D, P_E, P_SIGMA, P_D_MIN, P_RHO)
#: the parameters, in the order of the command line
PARAMETERS = (*_CONSTANTS, P_EPSILON, P_DELTA, P_DELTA_PRIME)
OTHER_PARAMETERS: tuple[Parameter, ...] = ()
#: the point ``binomgbml bounds --paper ibaml`` evaluates without flags (a flag replaces its value)
DEFAULTS = {"A": F(1), "B": F(2), "C": F(1, 2), "D": F(3), "E": F(1), "sigma": F(1, 2), "D_min": F(1, 4),
            "rho": F(2), "epsilon": F(1, 100), "delta": F(1, 100), "delta_prime": F(1, 100)}

ASSUMPTIONS = {a.name: a for a in (
    Assumption("ibaml.1", "iBaML Assumption 1", "L^tr is twice differentiable"),
    Assumption("ibaml.2", "iBaML Assumption 2", "L^val is A-Lipschitz and B-smooth in v (between v_hat and v_bar)"),
    Assumption("ibaml.3", "iBaML Assumption 3", "nabla_2 L^val is C-Lipschitz in v (between v_hat and v_bar)"),
    Assumption("ibaml.4", "iBaML Assumption 4", "L^tr is D-smooth with an E-Lipschitz Hessian; "
                                               "H_t(v_hat), H_t(v_bar) have singular values >= sigma"),
    Assumption("ibaml.5", "iBaML Assumption 5", "the prior variances are >= D_min"),
)}
_ASSUMED = tuple(ASSUMPTIONS.values())


# ================================================================================================
# the derived constants (docs/related/ibaml.md): each written once

def _gamma(rho: Any, D_min: Any) -> Any:
    """|G_t(v)|_2 <= max(1/D_min, 1/(2 D_min^2)) + rho / D_min: G = [[D^-1, 0], [-diag(grad_m
    L^tr) D^-1, D^-2/2]]; its block diagonal has norm max_i max(1/d_i, 1/(2 d_i^2)), the
    off-diagonal block max_i |grad_m,i L^tr| / d_i."""
    return max(1 / D_min, 1 / (2 * D_min * D_min)) + rho / D_min


def _log_gamma(rho: Any, D_min: Any) -> Any:
    return log_sum(np.maximum(-np.log(D_min), -np.log(2.0) - 2 * np.log(D_min)), log_of(rho) - np.log(D_min))


def _sym_gamma() -> Any:
    import sympy

    rho, d = symbol(P_RHO), symbol(P_D_MIN)
    return sympy.Max(1 / d, 1 / (2 * d ** 2)) + rho / d


def _h(D: Any, E: Any, D_min: Any, rho: Any) -> Any:
    """|H_t(v_hat) - H_t(v_bar)|_2 <= (E + 2 D (1/D_min + 2 rho)) eps: the Hessians differ by E eps;
    the diagonal blocks (1/d + 2x)^2/2 at x = grad_d L^tr differ by 2|x - y||1/d + x + y|."""
    return E + 2 * D * (1 / D_min + 2 * rho)


def _log_h(D: Any, E: Any, D_min: Any, rho: Any) -> Any:
    return log_sum(log_of(E), log_product(np.log(2.0), log_of(D), np.log(1 / D_min + 2 * rho)))


def _sym_h() -> Any:
    D, E, d, rho = (symbol(p) for p in (P_D, P_E, P_D_MIN, P_RHO))
    return E + 2 * D * (1 / d + 2 * rho)


def _F(A: Any, B: Any, C: Any, D: Any, E: Any, sigma: Any, D_min: Any, rho: Any, *rest: Any) -> Any:
    """F_t = A D/(D_min sigma) + A gamma h/sigma^2 + B gamma/sigma + C (= F'_t of Theorem 2)."""
    gamma = _gamma(rho, D_min)
    return A * D / (D_min * sigma) + A * gamma * _h(D, E, D_min, rho) / sigma ** 2 + B * gamma / sigma + C


def _log_F(A: Any, B: Any, C: Any, D: Any, E: Any, sigma: Any, D_min: Any, rho: Any, *rest: Any) -> Any:
    lg, ls = _log_gamma(rho, D_min), np.log(sigma)
    return log_sum(log_product(log_of(A), log_of(D), -np.log(D_min), -ls),
                   log_product(log_of(A), lg, _log_h(D, E, D_min, rho), -2 * ls),
                   log_product(log_of(B), lg, -ls), log_of(C))


def _sym_F() -> Any:
    A, B, C, D, sigma, d = (symbol(p) for p in (P_A, P_B, P_C, P_D, P_SIGMA, P_D_MIN))
    gamma = _sym_gamma()
    return A * D / (d * sigma) + A * gamma * _sym_h() / sigma ** 2 + B * gamma / sigma + C


F_GAMMA = Formula(lambda A, B, C, D, E, sigma, D_min, rho, *rest: _gamma(rho, D_min),
                  lambda A, B, C, D, E, sigma, D_min, rho, *rest: _log_gamma(rho, D_min), _sym_gamma,
                  "max(1/D_min, 1/(2 D_min^2)) + rho/D_min")
F_H = Formula(lambda A, B, C, D, E, sigma, D_min, rho, *rest: _h(D, E, D_min, rho),
              lambda A, B, C, D, E, sigma, D_min, rho, *rest: _log_h(D, E, D_min, rho), _sym_h,
              "E + 2 D (1/D_min + 2 rho)")
F_F = Formula(_F, _log_F, _sym_F, "A D/(D_min sigma) + A gamma h/sigma^2 + B gamma/sigma + C")


def _bound(second: Any, second_log: Any, weight: Parameter, factor_sym: Any) -> Formula:
    """F eps + (second constant) (weight): Theorem 1 (A delta) or Theorem 2 (G' delta')."""
    def exact(A: Any, B: Any, C: Any, D: Any, E: Any, sigma: Any, D_min: Any, rho: Any, eps: Any, w: Any) -> Any:
        return _F(A, B, C, D, E, sigma, D_min, rho) * eps + second(A, rho, D_min) * w

    def log(A: Any, B: Any, C: Any, D: Any, E: Any, sigma: Any, D_min: Any, rho: Any, eps: Any, w: Any) -> Any:
        return log_sum(log_product(_log_F(A, B, C, D, E, sigma, D_min, rho), log_of(eps)),
                       log_product(second_log(A, rho, D_min), log_of(w)))

    def sym() -> Any:
        return _sym_F() * symbol(P_EPSILON) + factor_sym() * symbol(weight)
    sym.__name__ = f"_sym_bound_{weight.name}"
    return Formula(exact, log, sym, f"F eps + {'A delta' if weight is P_DELTA else 'G delta_prime'}")


F_THM1 = _bound(lambda A, rho, D_min: A, lambda A, rho, D_min: log_of(A), P_DELTA, lambda: symbol(P_A))
F_THM2 = _bound(lambda A, rho, D_min: _gamma(rho, D_min), lambda A, rho, D_min: _log_gamma(rho, D_min),
                P_DELTA_PRIME, _sym_gamma)

_DERIVED = "docs/related/ibaml.md: the constants derived from the proof structure"
_HOLDS = (Variant("printed", "printed", "holds", proof=_DERIVED),)
_HYP1 = Hypotheses((*_CONSTANTS, P_EPSILON, P_DELTA), _ASSUMED)
_HYP2 = Hypotheses((*_CONSTANTS, P_EPSILON, P_DELTA_PRIME), _ASSUMED)
_F_PART = Part("F", "F_t of Theorem 1 (= F'_t of Theorem 2), derived", "F_t", "F_t", F_F)
GAMMA = quantity("ibaml.thm2", "gamma", "iBaML eq. (11), derived", "|G_t(v)|_2 <= gamma", F_GAMMA, _HYP2)
H_DIFFERENCE = quantity("ibaml.thm1", "h", "iBaML Lemma 1's H_t, derived",
                        "|H_t(v_hat) - H_t(v_bar)|_2 <= h eps", F_H, _HYP1)
THEOREM1 = statement_theorem(
    "ibaml.thm1", "iBaML Theorem 1 (constants derived)", _HYP1,
    [Part("bound", "|explicit - true| <= F_t eps_t + A_t delta_t", "Theorem 1", r"F_t\epsilon_t + A\delta_t", F_THM1),
     _F_PART], _HOLDS, quantities={"h": H_DIFFERENCE})
THEOREM2 = statement_theorem(
    "ibaml.thm2", "iBaML Theorem 2, eq. (18) (constants derived)", _HYP2,
    [Part("bound", "|g_hat - true| <= F'_t eps_t + G'_t delta'_t", "(18)", r"F'_t\epsilon_t + G'_t\delta'_t", F_THM2),
     _F_PART, Part("G", "G'_t of Theorem 2 = the bound gamma on |G_t(v_hat)|_2, derived", "G'_t", "G'_t", F_GAMMA)],
    _HOLDS, quantities={"gamma": GAMMA})
QUANTITIES = {"gamma": GAMMA, "h": H_DIFFERENCE}

#: "ibaml.thm1" / "ibaml.thm2" -> Theorem
THEOREMS = {t.number: t for t in (THEOREM1, THEOREM2)}
LEMMAS: dict[str, Any] = {}
#: every statement defined here, by id
STATEMENTS = {b.id: b for t in THEOREMS.values() for b in t.bounds.values()}
