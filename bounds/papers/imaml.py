"""The statements of iMAML (Rajeswaran, Finn, Kakade, Levine 2019) with evaluable formulas, defined once.

Appendix E of papers/imaml-2019-appendix.txt (docs/related/imaml.md has the OCR repairs):
Lemma 2 (Nesterov's iteration count), Lemma 3 (the implicit-gradient accuracy B_1 delta + delta'),
Theorem 2 (the two iteration counts, the accuracies of its proof, footnote 2's conjugate-gradient
factor) and Corollary 1 (the number of calls). Parameters have the appendix's names: ``lam``
(lambda), ``mu``, ``kappa`` (beta/mu of Assumption 2.2; L/mu in Lemma 2), ``rho``, ``B``, ``L``,
``D``, ``delta``, ``delta_prime``, ``eps``; ``x_star`` (||x*|| of Lemma 2), ``M``, ``L_F``,
``gap`` (F(theta_0) - min F) of Corollary 1, ``steps`` of conjugate gradient.

Assumption 2 cannot hold (items 2 and 4 together: docs/related/imaml.md, imaml.assumption2), so
Lemma 3, Theorem 2 and Corollary 1 are vacuous as printed; their variants say what the checks of
``verify.related.imaml`` found instead: each variant is decided by the check of its registry id
(``imaml.lemma3.core``, ``imaml.lemma3.sharp``, ``imaml.thm2.core``, ...).

Exact values are Fractions, or a :class:`bounds.RationalBracket` (``lower <= value <= upper``,
width about 2^-96) around an iteration count, which involves a square root and a logarithm.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..exact import RationalBracket, log_bracket, sqrt_bracket
from ..expr import Condition, maximum
from ..numeric import log_of, log_product, log_sum
from ..params import Parameter
from ..statement import Assumption, Formula, Hypotheses, Variant
from .parts import Part, quantity, statement_theorem, symbol

__all__ = ["PARAMETERS", "ASSUMPTIONS", "THEOREMS", "STATEMENTS", "QUANTITIES", "DEFAULTS",
           "LEMMA2", "LEMMA3", "THEOREM2", "COROLLARY1", "CG_FACTOR"]

TITLE = "iMAML (Rajeswaran et al. 2019), Appendix E: constants and iteration counts"
F = Fraction

# ================================================================================================
# parameters, assumptions, conditions

P_LAM = Parameter("lam", "positive", "the regularisation lam (lambda)", symbol=r"\lambda")
P_MU = Parameter("mu", "positive", "the strong convexity mu of G_i(., theta)", symbol=r"\mu",
                 sample=(F(1, 8), 2))
P_KAPPA = Parameter("kappa", "positive", "the condition number kappa", symbol=r"\kappa",
                    sample=(1, 16), favour=(1, 4))
P_RHO = Parameter("rho", "nonnegative", "the Hessian-Lipschitz constant rho", symbol=r"\rho",
                  sample=(0, 4), favour=(0, 1))
P_B = Parameter("B", "nonnegative", "the gradient bound B of the test loss", sample=(0, 3))
P_L = Parameter("L", "nonnegative", "the smoothness L of the test loss", sample=(0, 3))
P_D = Parameter("D", "positive", "the radius D of Alg*_i(theta)")
P_DELTA = Parameter("delta", "nonnegative", "the inner accuracy delta", symbol=r"\delta",
                    sample=(0, 1), favour=(F(1, 10),))
P_DELTA_PRIME = Parameter("delta_prime", "nonnegative", "the accuracy delta' of g_i",
                          symbol=r"\delta'", sample=(0, 1), favour=(0,))
P_EPS = Parameter("eps", "positive", "the target accuracy eps", symbol=r"\epsilon",
                  sample=(F(1, 16), 1), favour=(F(1, 10),))
P_X_STAR = Parameter("x_star", "positive", "||x*|| (or an upper bound on it)",
                     symbol=r"\|x^\star\|")
P_M = Parameter("M", "integer", "the tasks M per iteration", minimum=1, sample=(1, 4))
P_L_F = Parameter("L_F", "positive", "the smoothness L_F of the meta-objective F", symbol="L_F")
P_GAP = Parameter("gap", "nonnegative", "the gap F(theta_0) - min F", symbol=r"\Delta_F")
P_STEPS = Parameter("steps", "integer", "the conjugate-gradient steps", minimum=0, sample=(0, 8))
#: the parameters, in the order of the command line
PARAMETERS = (P_LAM, P_MU, P_KAPPA, P_RHO, P_B, P_L, P_D, P_DELTA, P_DELTA_PRIME, P_EPS, P_X_STAR,
              P_M, P_L_F, P_GAP, P_STEPS)
OTHER_PARAMETERS: tuple[Parameter, ...] = ()
#: the point ``binomgbml bounds --paper imaml`` evaluates without flags (a flag replaces its value)
DEFAULTS = {"lam": F(1, 2), "mu": F(1, 4), "kappa": F(4), "rho": F(3), "B": F(2), "L": F(1),
            "D": F(2), "delta": F(1, 10), "delta_prime": F(1, 20), "eps": F(1, 10), "x_star": F(1),
            "M": 1, "L_F": F(2), "gap": F(1), "steps": 3}

(_lam, _mu, _kappa, _rho, _B, _L, _D, _delta, _delta_prime, _eps, _x_star, _M, _L_F, _gap,
 _steps) = (p.sym for p in PARAMETERS)


def _assumption(item: str, text: str, short: str = "") -> Assumption:
    return Assumption(f"imaml.{item}", f"iMAML Assumption {item}", text, short=short)


A2_1 = _assumption("2.1", "the test loss L_i is B-Lipschitz and L-smooth")
A2_2 = _assumption("2.2", "for all theta, G_i(., theta) is beta-smooth and mu-strongly convex, "
                          "kappa = beta/mu")
A2_3 = _assumption("2.3", "the training loss has a rho-Lipschitz Hessian")
A2_4 = _assumption("2.4", "for all theta, Alg*_i(theta) is unique and ||Alg*_i(theta)|| <= D")
ASSUMPTION_2 = (A2_1, A2_2, A2_3, A2_4)
_A2 = tuple(a.name for a in ASSUMPTION_2)
A2_AT_POINTS = Assumption("imaml.2@points", "iMAML Assumption 2.1-2.3, pointwise",
                          "items 1-3 of Assumption 2 at the two points the proof uses, "
                          "phi_i and Alg*_i(theta)",
                          short="Assumption 2.1-2.3 at phi_i and Alg*_i(theta)")
A2_4_AT_THETA = Assumption("imaml.2.4@theta", "iMAML Assumption 2.4 at theta",
                           "Alg*_i(theta) is unique and ||Alg*_i(theta)|| <= D at the theta considered",
                           short="Assumption 2.4 at the theta considered, quadratic training loss")
CG = Assumption("imaml.cg", "iMAML Theorem 2, footnote 2",
                "conjugate gradient from 0 instead of Nesterov's method for the sub-problem (7)",
                short="conjugate gradient for (7)")
GD_HALF_EPS = Assumption("imaml.cor1.core", "iMAML Corollary 1, deterministic core",
                         "gradient descent with step 1/L_F on an L_F-smooth F, meta-gradients "
                         "accurate to eps/2 (Theorem 2 run at eps/2), M = 1",
                         short="gradient descent with meta-gradients accurate to eps/2")
ASSUMPTIONS = {a.name: a for a in (*ASSUMPTION_2, A2_AT_POINTS, A2_4_AT_THETA, CG, GD_HALF_EPS)}

KAPPA = Condition("kappa >= 1", (_kappa >= 1,))
DELTA_POSITIVE = Condition("delta > 0", (_delta > 0,))
#: Lemma 3 as printed (l. 203); its proof needs delta <= mu/(2 rho); the check draws either
DELTA_PRINTED = Condition("delta < 1/(2 rho)", (2 * _rho * _delta < 1,))
DELTA_EITHER = Condition("delta < max(1, mu)/(2 rho)", (2 * _rho * _delta < maximum(1, _mu),))
#: the logarithms of Theorem 2's counts are of positive numbers
COUNTS = Condition("B > 0, rho + L > 0", (_B > 0, _rho + _L > 0))


# ================================================================================================
# the formulas (each written once; exact, vectorised and SymPy side by side)

def _b1_exact(factor: int) -> Any:
    return lambda lam, mu, rho, B, L, *rest: factor * lam * rho * B / mu ** 2 + lam * L / mu


def _b1_log(factor: int) -> Any:
    def log(lam: Any, mu: Any, rho: Any, B: Any, L: Any, *rest: Any) -> Any:
        first = log_product(np.log(factor * lam), log_of(rho), log_of(B), -2 * np.log(mu))
        return log_sum(first, log_product(np.log(lam), log_of(L), -np.log(mu)))
    return log


def _b1_sympy(factor: int) -> Any:
    def b1() -> Any:
        lam, mu, rho, B, L = (symbol(p) for p in (P_LAM, P_MU, P_RHO, P_B, P_L))
        return factor * lam * rho * B / mu ** 2 + lam * L / mu
    b1.__name__ = f"_sym_b1_{factor}"
    return b1


#: B_1 = 2 lam rho B / mu^2 + lam L / mu (Lemma 3, l. 205-206; Theorem 2, l. 279-280); the sharp
#: constant lam rho B / mu^2 + lam L / mu (docs/related/imaml.md, imaml.lemma3.sharp)
F_B1 = Formula(_b1_exact(2), _b1_log(2), _b1_sympy(2), "2 lam rho B / mu^2 + lam L / mu")
F_B1_SHARP = Formula(_b1_exact(1), _b1_log(1), _b1_sympy(1), "lam rho B / mu^2 + lam L / mu")


def _lemma3_formula(b1: Formula) -> Formula:
    """B_1 delta + delta' for the constant ``b1``."""
    def exact(lam: Any, mu: Any, rho: Any, B: Any, L: Any, delta: Any, delta_prime: Any) -> Any:
        return b1.exact(lam, mu, rho, B, L) * delta + delta_prime

    def log(lam: Any, mu: Any, rho: Any, B: Any, L: Any, delta: Any, delta_prime: Any) -> Any:
        assert b1.log is not None
        return log_sum(log_product(b1.log(lam, mu, rho, B, L), log_of(delta)), log_of(delta_prime))

    def sympy() -> Any:
        return b1.expr * symbol(P_DELTA) + symbol(P_DELTA_PRIME)
    sympy.__name__ = f"_sym_lemma3_{b1.sympy.__name__}"
    return Formula(exact, log, sympy, f"({b1.text}) delta + delta'")


def _two_sqrt_log(kappa: Any, argument: Fraction) -> RationalBracket:
    """2 sqrt(kappa) log(argument), bracketed (the counts of Lemma 2 and Theorem 2)."""
    return sqrt_bracket(kappa).times(log_bracket(argument)).scaled(Fraction(2))


def _count(log_argument: Any) -> Any:
    """A float count 2 sqrt(kappa) log(x) from log(x) (log x in log space: never overflows)."""
    return lambda kappa, *rest: 2 * np.sqrt(kappa) * log_argument(kappa, *rest)


def _log_lemma2_argument(kappa: Any, x_star: Any, delta: Any) -> Any:
    return np.log(2.0) + np.log(kappa) + np.log(x_star) - np.log(delta)


def _sym_lemma2() -> Any:
    kappa, x, delta = (symbol(p) for p in (P_KAPPA, P_X_STAR, P_DELTA))
    return 2 * _sympy().sqrt(kappa) * _sympy().log(2 * kappa * x / delta)


#: Lemma 2 (l. 79): Nesterov's method needs at most 2 sqrt(kappa) log(2 kappa ||x*|| / delta) gradients
F_LEMMA2 = Formula(lambda kappa, x_star, delta: _two_sqrt_log(kappa, 2 * kappa * x_star / delta), None,
                   _sym_lemma2, "2 sqrt(kappa) log(2 kappa ||x*|| / delta)",
                   numeric=_count(_log_lemma2_argument))


def _inner_argument(kappa: Any, D: Any, lam: Any, mu: Any, rho: Any, B: Any, L: Any, eps: Any) -> Any:
    return 8 * kappa * D * (F_B1.exact(lam, mu, rho, B, L) / eps + rho / mu)


def _log_inner_argument(kappa: Any, D: Any, lam: Any, mu: Any, rho: Any, B: Any, L: Any, eps: Any) -> Any:
    assert F_B1.log is not None
    return (np.log(8.0) + np.log(kappa) + np.log(D)
            + log_sum(F_B1.log(lam, mu, rho, B, L) - np.log(eps), log_of(rho) - np.log(mu)))


def _log_solve_argument(kappa: Any, D: Any, lam: Any, mu: Any, rho: Any, B: Any, L: Any, eps: Any) -> Any:
    return np.log(4.0) + np.log(kappa) + np.log(lam) + log_of(B) - np.log(mu) - np.log(eps)


def _sym_thm2(which: str) -> Any:
    def count() -> Any:
        sp = _sympy()
        kappa, D, lam, mu, rho, B, eps = (symbol(p) for p in (P_KAPPA, P_D, P_LAM, P_MU, P_RHO, P_B, P_EPS))
        argument = (8 * kappa * D * (F_B1.expr / eps + rho / mu) if which == "inner"
                    else 4 * kappa * lam * B / (mu * eps))
        return 2 * sp.sqrt(kappa) * sp.log(argument)
    count.__name__ = f"_sym_thm2_{which}"
    return count


#: Theorem 2 (l. 285, 290): Nesterov's method for the inner problem, and for the sub-problem (7)
F_INNER = Formula(lambda kappa, D, lam, mu, rho, B, L, eps: _two_sqrt_log(
                      kappa, _inner_argument(kappa, D, lam, mu, rho, B, L, eps)),
                  None, _sym_thm2("inner"), "2 sqrt(kappa) log(8 kappa D (B_1/eps + rho/mu))",
                  numeric=_count(_log_inner_argument))
F_SOLVE = Formula(lambda kappa, D, lam, mu, rho, B, L, eps: _two_sqrt_log(kappa, 4 * kappa * lam * B / (mu * eps)),
                  None, _sym_thm2("solve"), "2 sqrt(kappa) log(4 kappa lam B / (mu eps))",
                  numeric=_count(_log_solve_argument))


def _sym_calls() -> Any:
    M, L_F, gap, eps = (symbol(p) for p in (P_M, P_L_F, P_GAP, P_EPS))
    return 4 * M * L_F * gap / eps ** 2


#: Corollary 1 (l. 324): at most 4 M L_F (F(theta_0) - min F) / eps^2 calls to Implicit-Meta-Gradient
F_CALLS = Formula(lambda M, L_F, gap, eps: 4 * M * L_F * gap / eps ** 2,
                  lambda M, L_F, gap, eps: log_product(np.log(4 * M * L_F), log_of(gap), -2 * np.log(eps)),
                  _sym_calls, "4 M L_F (F(theta_0) - min F) / eps^2")


def _sympy() -> Any:
    import sympy

    return sympy


# ================================================================================================
# the statements: Lemma 2, Lemma 3, Theorem 2, Corollary 1

def _vacuous(reference: str) -> Variant:
    return Variant("printed", "printed", "vacuous",
                   proof=f"{reference} assumes Assumption 2, which no instance meets "
                         "(docs/related/imaml.md, imaml.assumption2)")


_LEMMA2_HYP = Hypotheses((P_KAPPA, P_X_STAR, P_DELTA), (), (KAPPA, DELTA_POSITIVE))
LEMMA2 = statement_theorem(
    "imaml.lemma2", "iMAML Lemma 2", _LEMMA2_HYP,
    [Part("count", "Nesterov's method is within delta of x* after 2 sqrt(kappa) log(2 kappa ||x*|| "
                   "/ delta) gradients", "Lemma 2", r"N_{\mathrm{Nesterov}}", F_LEMMA2)],
    [Variant("printed", "printed", "holds", proof="cited result; checked on quadratics (imaml.lemma2)")])

_LEMMA3_HYP = Hypotheses((P_LAM, P_MU, P_RHO, P_B, P_L, P_DELTA, P_DELTA_PRIME), ASSUMPTION_2,
                         (DELTA_PRINTED,))
LEMMA3 = statement_theorem(
    "imaml.lemma3", "iMAML Lemma 3", _LEMMA3_HYP,
    [Part("bound", "||g_i - d_theta L_i(Alg*_i(theta))|| <= B_1 delta + delta'", "Lemma 3",
          r"B_1\delta + \delta'", _lemma3_formula(F_B1), {"sharp": _lemma3_formula(F_B1_SHARP)}),
     Part("B1", "the constant B_1 of Lemma 3 and Theorem 2", "B_1", "B_1", F_B1, {"sharp": F_B1_SHARP})],
    [_vacuous("Lemma 3"),
     Variant("core", "restricted", "holds", assumptions=(A2_AT_POINTS,), conditions=(DELTA_EITHER,),
             drops=(*_A2, DELTA_PRINTED.text), proof="the proof's hypotheses, pointwise (imaml.lemma3.core)"),
     Variant("sharp", "corrected", "corrected", assumptions=(A2_AT_POINTS,), drops=(*_A2, DELTA_PRINTED.text),
             proof="docs/related/imaml.md imaml.lemma3.sharp: the resolvent identity, no condition on delta",
             text="||g_i - d_theta L_i(Alg*_i(theta))|| <= (lam rho B/mu^2 + lam L/mu) delta + delta'")])


def _accuracy(rho_term: Any) -> Any:
    """delta = min(eps / (2 B_1), rho_term / (2 rho)) of Theorem 2's proof; rho = 0 leaves out the
    second term (Theorem 2's conditions keep B_1 > 0 when rho = 0)."""
    def exact(kappa: Any, D: Any, lam: Any, mu: Any, rho: Any, B: Any, L: Any, eps: Any) -> Any:
        first = eps / (2 * F_B1.exact(lam, mu, rho, B, L))
        return first if rho == 0 else min(first, rho_term(mu) / (2 * rho))

    def numeric(kappa: Any, D: Any, lam: Any, mu: Any, rho: Any, B: Any, L: Any, eps: Any) -> Any:
        assert F_B1.log is not None
        first = np.exp(np.log(eps / 2) - F_B1.log(lam, mu, rho, B, L))
        second = np.exp(np.log(rho_term(mu) / 2) - log_of(rho))
        return np.minimum(first, second)

    def sympy() -> Any:
        sp, (rho, mu, eps) = _sympy(), (symbol(p) for p in (P_RHO, P_MU, P_EPS))
        first = eps / (2 * F_B1.expr)
        return sp.Piecewise((first, sp.Eq(rho, 0)), (sp.Min(first, rho_term(mu) / (2 * rho)), True))
    sympy.__name__ = f"_sym_delta_{rho_term.__name__}"
    return exact, numeric, sympy


def _one(mu: Any) -> Any:
    return 1


def _mu_term(mu: Any) -> Any:
    return mu


_THM2_HYP = Hypotheses((P_KAPPA, P_D, P_LAM, P_MU, P_RHO, P_B, P_L, P_EPS), ASSUMPTION_2, (KAPPA, COUNTS))
_d_printed, _d_proof = _accuracy(_one), _accuracy(_mu_term)
QUANTITIES = {q.key: q for q in (
    quantity("imaml.thm2", "delta", "iMAML Theorem 2, proof (l. 297)", "delta = min(eps/(2 B_1), 1/(2 rho)), as printed",
             Formula(_d_printed[0], None, _d_printed[2], "min(eps/(2 B_1), 1/(2 rho))", numeric=_d_printed[1]),
             _THM2_HYP),
    quantity("imaml.thm2", "delta_proof", "iMAML Theorem 2, proof (l. 257-258, 297)",
             "delta = min(eps/(2 B_1), mu/(2 rho)), what Lemma 3's proof needs",
             Formula(_d_proof[0], None, _d_proof[2], "min(eps/(2 B_1), mu/(2 rho))", numeric=_d_proof[1]),
             _THM2_HYP),
    quantity("imaml.thm2", "delta_prime", "iMAML Theorem 2, proof (l. 297)", "delta' = eps/2",
             Formula(lambda *a: a[-1] / 2, lambda *a: np.log(a[-1] / 2), lambda: symbol(P_EPS) / 2, "eps/2"),
             _THM2_HYP),
    quantity("imaml.thm2", "x_star", "iMAML Theorem 2, proof (l. 307)",
             "||x*|| <= lam B / mu for the solution x* of the sub-problem (7)",
             Formula(lambda kappa, D, lam, mu, rho, B, L, eps: lam * B / mu,
                     lambda kappa, D, lam, mu, rho, B, L, eps: np.log(lam) + log_of(B) - np.log(mu),
                     lambda: symbol(P_LAM) * symbol(P_B) / symbol(P_MU), "lam B / mu"),
             _THM2_HYP),
)}
THEOREM2 = statement_theorem(
    "imaml.thm2", "iMAML Theorem 2", _THM2_HYP,
    [Part("inner", "Nesterov's method for the inner problem: 2 sqrt(kappa) log(8 kappa D (B_1/eps + "
                   "rho/mu)) iterations", "inner count", r"N_{\mathrm{inner}}", F_INNER),
     Part("solve", "Nesterov's method (or CG) for (7): 2 sqrt(kappa) log(4 kappa lam B/(mu eps)) "
                   "iterations", "solve count", r"N_{\mathrm{solve}}", F_SOLVE)],
    [_vacuous("Theorem 2"),
     Variant("core", "restricted", "holds", assumptions=(A2_4_AT_THETA,), drops=("imaml.2.4",),
             proof="exact end-to-end runs with the printed counts (imaml.thm2.core)"),
     Variant("cg", "restricted", "holds", assumptions=(A2_4_AT_THETA, CG), drops=("imaml.2.4",),
             proof="exact end-to-end runs with conjugate gradient for (7) (imaml.thm2.cg)")],
    quantities=QUANTITIES)

_COR1_HYP = Hypotheses((P_M, P_L_F, P_GAP, P_EPS), ASSUMPTION_2)
COROLLARY1 = statement_theorem(
    "imaml.cor1", "iMAML Corollary 1", _COR1_HYP,
    [Part("calls", "Algorithm 1 finds ||grad F|| <= eps within 4 M L_F (F(theta_0) - min F)/eps^2 "
                   "calls", "Corollary 1", r"N_{\mathrm{calls}}", F_CALLS)],
    [_vacuous("Corollary 1 (through Theorem 1/2)"),
     Variant("core", "restricted", "holds", assumptions=(GD_HALF_EPS,), drops=_A2,
             proof="docs/related/imaml.md imaml.cor1.core: 8/3 L_F gap/eps^2 iterations suffice")])


# ================================================================================================
# footnote 2: the conjugate-gradient factor

def _cg_exact(kappa: Any, steps: int) -> RationalBracket:
    s = sqrt_bracket(kappa)
    # q = (s - 1) / (s + 1) is increasing in s: its ends come from the ends of s
    q = RationalBracket((s.lower - 1) / (s.lower + 1), (s.upper - 1) / (s.upper + 1))
    return RationalBracket(2 * s.lower * q.lower ** steps, 2 * s.upper * q.upper ** steps)


def _cg_numeric(kappa: Any, steps: Any) -> Any:
    s = np.sqrt(kappa)
    return 2 * s * ((s - 1) / (s + 1)) ** steps


def _sym_cg() -> Any:
    s = _sympy().sqrt(symbol(P_KAPPA))
    return 2 * s * ((s - 1) / (s + 1)) ** symbol(P_STEPS)


#: ||x_k - x*|| <= 2 sqrt(kappa) ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^k ||x_0 - x*|| (the standard
#: bound footnote 2 appeals to, in the 2-norm, from ||e_k||_A <= 2 q^k ||e_0||_A)
CG_FACTOR = quantity("imaml.thm2", "cg_factor", "iMAML Theorem 2, footnote 2",
                     "conjugate gradient: ||x_k - x*|| <= factor ||x_0 - x*||",
                     Formula(_cg_exact, None, _sym_cg, "2 sqrt(kappa) ((sqrt(kappa)-1)/(sqrt(kappa)+1))^k",
                             numeric=_cg_numeric),
                     Hypotheses((P_KAPPA, P_STEPS), (), (KAPPA,)))
QUANTITIES["cg_factor"] = CG_FACTOR

#: "imaml.lemma2" / "imaml.lemma3" / "imaml.thm2" / "imaml.cor1" -> Theorem
THEOREMS = {t.number: t for t in (LEMMA2, LEMMA3, THEOREM2, COROLLARY1)}
LEMMAS: dict[str, Any] = {}
#: every statement defined here, by id
STATEMENTS = {b.id: b for t in THEOREMS.values() for b in t.bounds.values()}
