"""The statement definitions (bounds/papers/): every formula's three evaluators agree, the
variants are well formed, the corrected bounds are what docs/errata.md proves, and the evaluation
API gives each variant. Independent references: SymPy substitution of the definition's own
expression, and the corrected formulas re-derived here with Fractions."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import bounds
import bounds.symbolic
from bounds.expr import Condition, Sym, minimum
from bounds.statement import STATUSES, VERDICT_OF_STATUS, Bound


def _points(theorem, n=60, seed=0):
    """Exact points inside the theorem's conditions, drawn from its hypotheses (the sampler of
    verify.strategies, with a NumPy generator), whatever its parameters."""
    from verify.strategies import _Empty, draw_point

    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        try:
            p = draw_point(theorem.hypotheses, lambda lo, hi: int(rng.integers(lo, hi + 1)),
                           lambda lo, hi, favour: [*favour, lo, hi, lo + (hi - lo) * Fraction(int(rng.integers(1, 8)), 8)]
                           [int(rng.integers(len(favour) + 3))], caps={"K": 9})
        except _Empty:
            continue
        if bounds.not_applicable(theorem, **p) is None:
            out.append(p)
    return out


FORMULAS = [(t, b, v) for t in bounds.THEOREMS.values() for b in t.bounds.values() for v in b.variants
            if v.formula is not None or v.kind == "printed"]


@pytest.mark.parametrize("theorem, bound, variant", FORMULAS,
                         ids=[f"{b.id}.{v.name}" for _, b, v in FORMULAS])
def test_exact_log_and_sympy_evaluators_agree(theorem, bound, variant):
    formula = bound.formula_of(variant)
    points = _points(theorem)
    assert points
    exact = [Fraction(formula.exact(*theorem.arguments(p))) for p in points]
    with np.errstate(divide="ignore"):
        columns = [np.array([float(v) for v in c]) for c in zip(*(theorem.arguments(p) for p in points))]
        logs = formula.log(*columns)
    for p, e, lg in zip(points, exact, logs):
        assert (e == 0 and lg == -np.inf) or math.isclose(math.exp(lg), float(e), rel_tol=1e-12), (p, e, lg)
    for p, e in list(zip(points, exact))[::7]:  # SymPy is slow: a sample
        assert bounds.symbolic.substitute(formula.expr, **p) == e, p


def test_every_statement_has_a_printed_variant_and_known_statuses():
    for s in bounds.STATEMENTS.values():
        assert s.variants[0].kind == "printed" and s.status in STATUSES
        assert all(v.status in VERDICT_OF_STATUS for v in s.variants)
        assert len({s.variant_id(v) for v in s.variants}) == len(s.variants)


def test_bounds_false_in_general_have_a_correction_and_say_where_they_hold():
    false = [b for t in bounds.THEOREMS.values() for b in t.bounds.values() if b.status == "false in general"]
    assert {b.id for b in false} == {"thm3.8.fo", "thm3.8.trunc", "thm3.10.fo"}
    for b in false:
        corrected = b.variant("corrected")
        assert corrected.kind == "corrected" and corrected.status == "corrected"
        assert corrected.proof.startswith("docs/errata.md V")
        assert b.holds_for() == "commuting Hessians"
    for t in bounds.THEOREMS.values():  # a bound that holds is its own correction
        for b in t.bounds.values():
            if b.status == "holds":
                assert b.variant("corrected") is b.printed and b.holds_for() is None


@pytest.mark.parametrize("K, L, x", [(K, L, x) for K in range(1, 9) for L in range(K + 1)
                                     for x in (Fraction(1, 16), Fraction(1, 4), Fraction(3, 4), Fraction(1))])
def test_corrected_theorem_3_8_is_min_of_telescoping_and_2(K, L, x):
    """docs/errata.md V1, V2: min(K alpha H, 2) and min((K - L) alpha H, 2); each at least the
    printed bound, which holds and is attained for commuting Hessians (H^k = H I)."""
    got = bounds.evaluate("3.8", K, L, x, 1, exact=True, variant="all")
    assert got["corrected"]["fo"] == min(K * x, 2) >= got["printed"]["fo"]
    assert got["corrected"]["trunc"] == min((K - L) * x, 2) >= got["printed"]["trunc"]
    assert got["corrected"]["binom"] == got["printed"]["binom"]  # (12c) holds as printed


def _corrected_13a(K, x, y, M):
    """docs/errata.md V3, term by term: (Q - I) P^M + (P^M - I), and ||Q|| ||P^M|| + 1."""
    grow, zm = (1 + x) ** (K - M), (1 - y) ** M
    telescoped = sum(x * (1 - y) ** j for j in range(M))  # sum_j ||A||^j aH over the last M factors
    return min((grow - 1) * zm + telescoped, grow * zm + 1)


@pytest.mark.parametrize("K", range(2, 9))
def test_corrected_theorem_3_10_fo_is_sharper_than_m_alpha_h(K):
    for M in range(1, K // 2 + 1):
        for L in range(M, K - M + 1):
            for x in (Fraction(1, 8), Fraction(1, 2), Fraction(1)):
                for y in (x / 100, x / 10, x):  # y = alpha h with alpha = x, H = 1: h = y / x
                    got = bounds.evaluate("3.10", K, L, x, 1, y / x, M, exact=True, variant="all")
                    corrected = got["corrected"]["fo"]
                    assert corrected == _corrected_13a(K, x, y, M)
                    # at most the first correction, [(1+aH)^{K-M} - 1](1-ah)^M + M aH
                    assert corrected <= ((1 + x) ** (K - M) - 1) * (1 - y) ** M + M * x
                    assert corrected >= got["printed"]["fo"]


def test_evaluate_variants_numeric_and_exact_agree():
    K, L, alpha, H = np.arange(1, 9), 1, 0.5, 1.0
    L = np.minimum(L, K)
    numeric = bounds.evaluate("3.8", K, L, alpha, H, variant="corrected")
    for i, k in enumerate(K):
        exact = bounds.evaluate("3.8", int(k), int(L[i]), "1/2", 1, exact=True, variant="corrected")
        for key in ("fo", "trunc", "binom"):
            assert math.isclose(numeric[key][i], float(exact[key]), rel_tol=1e-12)
    with pytest.raises(ValueError, match="variant = 'best'"):
        bounds.evaluate("3.8", 5, 1, 0.25, 1.0, variant="best")


def test_statement_objects_carry_their_data():
    thm = bounds.THEOREMS["3.10"]
    fo = thm.bounds["fo"]
    assert fo.id == "thm3.10.fo" and fo.equation == "(13a)" and fo.status == "false in general"
    assert [v.name for v in fo.variants] == ["printed", "commuting", "corrected"]
    assert "Min" in str(fo.formula_of(fo.variant("corrected")).expr)
    # the assumption is data: the spectrum interval of each Hessian
    point = {"K": 4, "H": Fraction(1), "h": Fraction(1, 10), "M": 1}
    assert bounds.statement.spectrum(thm.hypotheses.assumptions, point) == [(-1, 1)] * 3 + [(Fraction(1, 10), 1)]
    assert bounds.statement.spectrum(bounds.THEOREMS["3.8"].hypotheses.assumptions, point) == [(0, 1)] * 4
    assert thm.hypotheses.label == "3.9" and [p.name for p in thm.hypotheses.parameters] == list("KL") + ["alpha", "H", "h", "M"]


def test_conditions_are_one_predicate_for_checks_messages_and_sympy():
    K, L, M = Sym("K"), Sym("L"), Sym("M")
    c = Condition("1 <= M <= min(L, K-L)", (M >= 1, M <= minimum(L, K - L)))
    assert c.holds({"K": 5, "L": 2, "M": 2}) and not c.holds({"K": 5, "L": 4, "M": 2})
    assert c.reason({"K": 5, "L": 4, "M": 2}, str) == "M = 2 > min(L, K-L) = 1 breaks the condition 1 <= M <= min(L, K-L)"
    arrays = {"K": np.array([5.0, 5.0]), "L": np.array([2.0, 4.0]), "M": np.array([2.0, 2.0])}
    assert c.holds(arrays, "numpy").tolist() == [True, False]
    import sympy
    from bounds.symbolic import K as sK, L as sL, M as sM
    relations = c.sympy({"K": sK, "L": sL, "M": sM})
    assert relations[1].subs({sK: 5, sL: 4, sM: 2}) == sympy.false
    # a bound on one parameter, for strategies: M <= 1 once K, L are known
    assert c.relations[1].bound_for("M", {"K": 5, "L": 4}) == ("upper", 1, False)
    step = bounds.THEOREMS["3.8"].conditions[0]
    assert step.relations[1].bound_for("alpha", {"H": Fraction(4)}) == ("upper", Fraction(1, 4), False)
    assert step.reason({"alpha": Fraction(2), "H": 1}, str) == "alpha*H = 2 > 1 breaks the condition 0 < alpha <= 1/H"


def test_relations_decide_brackets_rigorously():
    b5 = bounds.STATEMENTS["lemB.5"]
    assert b5.compare({"K": 10, "L": 3})[0] and not b5.compare({"K": 1, "L": 0})[0]
    env = bounds.STATEMENTS["thm3.8.superexp"]
    holds, value, bracket = env.compare({"K": 6, "L": 2, "alpha": Fraction(1, 4), "H": 1})
    envelope = (0.25 * math.e * 6 / 3) ** 3  # (alpha H e K / (L+1))^(L+1)
    assert holds and value == 20 * Fraction(1, 4) ** 3 < bracket.lower < bracket.upper
    assert float(bracket.upper - bracket.lower) < 1e-12 and math.isclose(float(bracket.lower), envelope, rel_tol=1e-15)


def test_every_bound_variant_evaluates_at_the_figure_2_point():
    for sid, s in bounds.STATEMENTS.items():
        if not isinstance(s, Bound):
            continue
        for v in s.variants:
            value = bounds.evaluation.bound_value(s, v, {"K": 5, "L": 2, "alpha": Fraction(1, 4), "H": 1,
                                                          "h": Fraction(1, 10), "M": 1}, exact=True)
            assert isinstance(value, Fraction) and value >= 0, (sid, v.name)


def test_import_bounds_needs_no_sympy_until_an_expression_is_asked_for():
    """Neither for BinomGBML's statements nor for the related papers', nor for the bounds CLI."""
    import subprocess
    import sys
    code = ("import sys, bounds; bounds.evaluate('3.8', 5, 1, '1/4', 1, exact=True, variant='all');"
            "bounds.STATEMENTS['thm3.8.fo'].variant('corrected');"
            "bounds.evaluate('imaml.thm2', 4, 2, '1/2', '1/4', 3, 2, 1, '1/10', exact=True);"
            "bounds.evaluate('ji2022.prop1', 0.1, 2, 1, 5, 1); import bounds.cli;"
            "print('sympy' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_corrected_fo_reaches_2_where_telescoping_is_weaker():
    assert bounds.evaluate("3.8", 5, 0, 1, 1, exact=True, variant="corrected")["fo"] == 2
    assert list(itertools.islice(bounds.THEOREMS, 3)) == ["3.6", "3.8", "3.10"]
