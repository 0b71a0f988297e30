"""The related papers' statements in bounds/papers (iMAML, Ji et al. 2022, iBaML): every formula's
exact, vectorised and SymPy evaluators agree at random points of its hypotheses; the conditions
and messages; the statuses are the verdicts of verify.related's checks; the command line
``binomgbml bounds --paper ...`` in every format. References: SymPy substitution of the
definition's expression (with mpmath at 50 digits for irrational values), values re-derived here."""

from __future__ import annotations

import importlib.util
import io
import json
import math
from contextlib import redirect_stdout
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
import sympy

import bounds
from bounds import symbolic
from bounds.cli import main as bounds_main
from bounds.evaluation import bound_value, broken
from bounds.exact import RationalBracket, exp_bracket, log_bracket, sqrt_bracket
from bounds.papers import PAPERS, ibaml, imaml, ji2022
from bounds.params import BoundsInputError, NotApplicable, exact_point
from bounds.statement import VERDICT_OF_STATUS
from cli_common import run_command

ROOT = Path(__file__).resolve().parents[1]
RELATED = ("imaml", "ji2022", "ibaml")
THEOREMS = [t for key in RELATED for t in PAPERS[key].THEOREMS.values()]
FORMULAS = [(t, b, v) for t in THEOREMS for b in t.bounds.values() for v in b.variants
            if v.kind in ("printed", "corrected")]


def _points(hypotheses, n=25, seed=0):
    """Exact points meeting the hypotheses: each parameter drawn from its sample range (eighths,
    the ends and its favoured values), kept when no condition breaks."""
    rng = np.random.default_rng(seed)
    out, tries = [], 0
    while len(out) < n and tries < 5000:
        tries += 1
        p = {}
        for par in hypotheses.signature:
            lo, hi = F(par.sample[0]), F(par.sample[1])
            if par.integer:
                p[par.name] = int(rng.integers(max(par.minimum, int(lo)), int(hi) + 1))
                continue
            choices = [lo, hi, *map(F, par.favour), lo + (hi - lo) * F(int(rng.integers(1, 8)), 8)]
            value = choices[int(rng.integers(len(choices)))]
            p[par.name] = value if value > 0 or par.kind != "positive" else hi / 8
        p = exact_point(hypotheses.signature, p)
        if broken(hypotheses, p) is None:
            out.append(p)
    return out


def _sympy_value(expr, point):
    return sympy.sympify(symbolic.substitute(expr, **point)).evalf(50)


def _inside(bracket: RationalBracket, value) -> bool:
    """The 50-digit value lies in the bracket (a rational one: equals it to 45 digits)."""
    lo, hi = (sympy.Rational(x.numerator, x.denominator) for x in bracket)
    if bracket.exact:
        return abs(value - lo) <= sympy.Float(10) ** -45 * (1 + abs(lo))
    return lo <= value <= hi


@pytest.mark.parametrize("theorem, bound, variant", FORMULAS, ids=[f"{b.id}.{v.name}" for _, b, v in FORMULAS])
def test_exact_vectorised_and_sympy_evaluators_agree(theorem, bound, variant):
    hyp = bound.hypotheses_of(variant)
    formula = bound.formula_of(variant)
    points = _points(hyp)
    assert len(points) >= 10
    exact = [formula.exact(*hyp.arguments_at(p)) for p in points]
    columns = [np.array([float(v) for v in c]) for c in zip(*(hyp.arguments_at(p) for p in points))]
    floats = formula.floats(*columns)
    for p, e, x in zip(points, exact, np.broadcast_to(floats, (len(points),))):
        if isinstance(e, RationalBracket):
            assert e.upper - e.lower <= F(1, 2 ** 80) * (1 + abs(e.lower)), p
            assert math.isclose(x, float(e), rel_tol=1e-12, abs_tol=1e-12), (p, e, x)
        else:
            assert isinstance(e, F) and math.isclose(x, float(e), rel_tol=1e-12, abs_tol=1e-300), (p, e, x)
    for p, e in list(zip(points, exact))[::3]:
        value = _sympy_value(formula.expr, p)
        if isinstance(e, RationalBracket):
            assert _inside(e, value), (p, e, value)
        else:
            assert sympy.Rational(str(e)) == sympy.nsimplify(value, rational=True) or \
                symbolic.substitute(formula.expr, **p) == e, (p, e, value)


QUANTITIES = [q for q in (*imaml.QUANTITIES.values(), *ibaml.QUANTITIES.values())]


@pytest.mark.parametrize("quantity", QUANTITIES, ids=[f"{q.theorem}.{q.key}" for q in QUANTITIES])
def test_quantities_exact_vectorised_and_sympy_agree(quantity):
    hyp = quantity.hypotheses
    for p in _points(hyp, n=12):
        e = quantity.evaluate(**p, exact=True)
        x = quantity.evaluate(**{k: (float(v) if v is not None else None) for k, v in p.items()})
        assert math.isclose(x, float(e), rel_tol=1e-12), (p, e, x)
        value = _sympy_value(quantity.formula.expr, p)
        if isinstance(e, RationalBracket):
            assert _inside(e, value)
        else:
            assert abs(value - sympy.Rational(str(e))) <= 1e-40 * (1 + abs(value))


def test_values_beyond_float64_are_inf_or_tiny_never_nan():
    assert bounds.evaluate("ji2022.prop1", 0.1, 2, 1, 2000, 0) == {"L_w": math.inf, "C_L": math.inf, "eq28": math.inf}
    assert -1e-300 < bounds.evaluate("ji2022.lemma15", 0.1, 2, 2000, 1, 1)["bound"] < 0  # -2/(1.2^4000 - 2)
    assert not ji2022.LEMMA15_CONDITION.holds({"alpha": 0.1, "L": 2, "N": 2000}, "numpy")
    # rho = 0 with an overflowing growth: C_L is exactly 0, not inf * 0
    out = bounds.evaluate("ji2022.prop1", 0.1, 2, 0, 2000, 1)
    assert out["C_L"] == 0 and out["L_w"] == math.inf
    big = bounds.evaluate("imaml.lemma3", 1e200, 1e-200, 1e200, 1e200, 0.0, 0.0, 0.0)
    assert big == {"bound": 0.0, "B1": math.inf}  # B_1 overflows, times delta = 0
    arrays = bounds.evaluate("ibaml.thm2", *[np.array([1.0, 1e300])] * 5, 0.5, 0.25, 2.0, 1e-3, 1e-3)
    assert np.isfinite(arrays["G"]).all() and np.isinf(arrays["F"][1])


def test_lemma13_is_binomgbml_lemma_b2():
    for alpha, L, n in (("1/4", 1, 3), ("3/7", "5/2", 5), (2, "1/3", 0)):
        assert bounds.evaluate("ji2022.lemma13", alpha, L, n, exact=True)["bound"] == bounds.lemma_b2(alpha, L, n, exact=True)


SAMPLE = {"alpha": "1/16", "L": "3/2", "rho": "1/2", "N": 3, "j": 2, "n": 3, "c": "1/8",
          "grad_norm": "2", "sigma": "1/3", "grad_T_norm": "1", "grad_S_norm": "1/2",
          "grad_T_sq": "2", "b_sq": "1/9", "mean_grad_norm": "3/4",
          "mean_grad_S_plus_b": "5/4", "s": "1/5", "v": "1/25"}


def test_ji2022_values_at_a_point_re_derived():
    a, L, rho, N, j = F(1, 16), F(3, 2), F(1, 2), 3, 2
    G = 1 + a * L

    def at(number):
        t = ji2022.THEOREMS[number]
        return bounds.evaluate(t, **{p.name: SAMPLE[p.name] for p in t.hypotheses.signature}, exact=True)

    assert at("ji2022.lemma11") == at("ji2022.lemma12") == at("ji2022.lemma17") == {"factor": G ** j}
    assert at("ji2022.lemma14") == {"C_b": G ** (2 * N) - 1}
    assert at("ji2022.lemma15") == {"bound": (2 + F(1, 3)) / (2 - G ** (2 * N))}
    assert at("ji2022.lemma18") == {"bound": (G ** N - 1) + G ** N * (G ** N - 1) / 2}
    assert at("ji2022.lemma19") == {"bound": 2 * G ** (4 * N) * 2 + 2 * G ** (2 * N) * (G ** N - 1) ** 2 / 9}
    eq28 = rho / L * G ** (N - 1) * (G ** N - 1)
    assert at("ji2022.prop1") == {"L_w": G ** (2 * N) * L + eq28 * G ** N * F(3, 4), "C_L": eq28 * G ** N, "eq28": eq28}
    assert at("ji2022.prop7")["L_w"] == G ** (2 * N) * L + eq28 * G ** N * F(5, 4)
    assert at("ji2022.prop2") == {"first": (G ** j - 1) * F(1, 5) / L,
                                  "second": a * F(1, 25) * (G ** (2 * j) - 1) / (L * (2 + a * L))}
    assert at("ji2022.stepsize") == {"step": F(1, 8) / (3 * L), "growth": (1 + F(1, 24)) ** 3,
                                     "growth_bound": 1 + F(1, 8) + F(1, 128) + F(1, 3072)}
    assert bounds.evaluate("ji2022.stepsize", "1/8", 5, 2, exact=True)["step"] == F(1, 80)


def test_step_size_alpha_max_separates_the_exact_condition():
    for N, L in ((1, 1), (4, F(3, 2)), (25, F(1, 3))):
        a = ji2022.step_size_alpha_max(N, L)
        assert ji2022.LEMMA15_CONDITION.holds({"alpha": F(a * (1 - 1e-9)), "L": L, "N": N})
        assert not ji2022.LEMMA15_CONDITION.holds({"alpha": F(a * (1 + 1e-9)), "L": L, "N": N})
    for c in ("1/4", "1/3", "5/14", "1/2"):
        assert ji2022.step_size_uniform_condition(c) == (math.exp(2 * F(c)) <= 2)
    assert math.isclose(ji2022.step_size_c_max(), math.log(2) / 2)
    lo, hi = exp_bracket("7/3")
    e = sympy.exp(sympy.Rational(7, 3))
    assert sympy.Rational(str(lo)) < e < sympy.Rational(str(hi)) and hi - lo < F(1, 10 ** 30)


@pytest.mark.parametrize("x", [F(2, 3), F(1), F(10**30, 7), F(1, 10**20), F(3), F(1, 2), F(7, 5)])
def test_log_and_sqrt_brackets_contain_the_values(x):
    log_value = sympy.log(sympy.Rational(x.numerator, x.denominator)).evalf(60)
    e = log_bracket(x)
    assert _inside(e, log_value)
    assert e.upper - e.lower < F(1, 2**80) * max(1, abs(math.log(float(x))))
    s = sqrt_bracket(x)
    assert s.lower ** 2 <= x <= s.upper ** 2 and s.upper - s.lower <= F(1, 2**90) * max(1, int(x) + 1)
    assert sqrt_bracket(F(9, 4)) == (F(3, 2), F(3, 2)) and log_bracket(1) == (0, 0)


def test_imaml_values_and_the_relations_of_the_proofs():
    p = {"lam": F(1, 2), "mu": F(1, 4), "rho": F(3), "B": F(2), "L": F(1)}
    lemma3 = bounds.evaluate("imaml.lemma3", **p, delta=F(1, 10), delta_prime=F(1, 20), exact=True)
    b1 = lemma3["B1"]
    assert b1 == 2 * F(1, 2) * 3 * 2 / F(1, 16) + F(1, 2) / F(1, 4) == 98
    assert lemma3["bound"] == b1 / 10 + F(1, 20)
    floats = bounds.evaluate("imaml.lemma3", **{k: float(v) for k, v in p.items()}, delta=0.1, delta_prime=0.05)
    assert math.isclose(floats["B1"], 98, rel_tol=1e-14)
    sharp = bounds.evaluate("imaml.lemma3", **p, delta=1, delta_prime=0, exact=True, variant="corrected")
    assert sharp["B1"] == 50 < b1  # and no condition on delta (1 > 1/(2 rho))
    thm2 = {"kappa": F(4), "D": F(2), **p, "eps": F(1, 10)}
    delta = imaml.QUANTITIES["delta_proof"].evaluate(**thm2, exact=True)
    delta_prime = imaml.QUANTITIES["delta_prime"].evaluate(**thm2, exact=True)
    assert b1 * delta + delta_prime <= F(1, 10) and delta == min(F(1, 10) / (2 * b1), F(1, 4) / 6)
    assert imaml.QUANTITIES["delta"].evaluate(**thm2, exact=True) == min(F(1, 10) / (2 * b1), F(1, 6))
    counts = bounds.evaluate("imaml.thm2", **thm2, exact=True)
    # Theorem 2's inner count covers Lemma 2's count at the chosen delta (log is increasing)
    assert bounds.evaluate("imaml.lemma2", 4, 2, delta, exact=True)["count"].upper <= counts["inner"].lower
    assert abs(float(counts["inner"]) - 4 * math.log(64 * (98 / 0.1 + 12))) < 1e-12
    x_star = imaml.QUANTITIES["x_star"].evaluate(**thm2, exact=True)
    assert bounds.evaluate("imaml.lemma2", 4, x_star, delta_prime, exact=True)["count"] == counts["solve"]
    assert bounds.evaluate("imaml.cor1", 3, 2, F(1, 2), F(1, 4), exact=True) == {"calls": 4 * 3 * 2 * F(1, 2) * 16}
    cg = imaml.CG_FACTOR.evaluate(F(9, 4), 3, exact=True)
    assert cg.lower == cg.upper == 2 * F(3, 2) * F(1, 5) ** 3
    assert imaml.CG_FACTOR.evaluate(1, 0, exact=True) == (2, 2) and imaml.CG_FACTOR.evaluate(1.0, 0) == 2.0


def test_ibaml_constants_re_derived():
    p = {"A": 1, "B": 2, "C": F(1, 2), "D": 3, "E": 1, "sigma": F(1, 2), "D_min": F(1, 4), "rho": 2}
    one = bounds.evaluate("ibaml.thm1", **p, epsilon=2, delta=3, exact=True)
    two = bounds.evaluate("ibaml.thm2", **p, epsilon=2, delta_prime=3, exact=True)
    assert ibaml.GAMMA.evaluate(**p, epsilon=0, delta_prime=0, exact=True) == max(4, 8) + 8 == two["G"] == 16
    assert ibaml.H_DIFFERENCE.evaluate(**p, epsilon=0, delta=0, exact=True) == 1 + 6 * (4 + 4)
    F1 = F(1 * 3, 1) / (F(1, 4) * F(1, 2)) + 16 * 49 / F(1, 4) + 2 * 16 / F(1, 2) + F(1, 2)
    assert one["F"] == two["F"] == F1 and one["bound"] == 2 * F1 + 3 and two["bound"] == 2 * F1 + 3 * 16
    floats = bounds.evaluate("ibaml.thm1", **{k: float(v) for k, v in p.items()}, epsilon=2.0, delta=3.0)
    assert floats["F"] == pytest.approx(float(F1), rel=1e-14)


@pytest.mark.parametrize("call, message", [
    (lambda: bounds.evaluate("ji2022.prop1", 0, 1, 1, 2, 1), "alpha = 0 is not positive and finite"),
    (lambda: bounds.evaluate("ji2022.lemma13", "1/2", 1, -1, exact=True), "n = -1 is not an integer >= 0"),
    (lambda: bounds.evaluate("ji2022.lemma14", 0.5, 1, 2, exact=True), "exact mode needs an int"),
    (lambda: bounds.evaluate("ji2022.prop2", 1, 1, 1, float("nan"), 0), "s = nan is not non-negative and finite"),
    (lambda: bounds.evaluate("ji2022.stepsize", "x", 2, 1, exact=True), "c = 'x' is not a rational number"),
    (lambda: bounds.evaluate("imaml.lemma2", "1/2", 1, 1, exact=True), "kappa = 1/2 < 1 breaks the condition kappa >= 1"),
    (lambda: bounds.evaluate("imaml.lemma3", 0, 1, 1, 1, 1, 0, 0), "lam = 0 is not positive and finite"),
    (lambda: bounds.evaluate("imaml.lemma3", 1, 1, 1, 1, 1, -1, 0, exact=True), "delta = -1 is not non-negative"),
    (lambda: bounds.evaluate("imaml.lemma3", 1, 1, 1, 1, 1, 1, 0, exact=True),
     "iMAML Lemma 3: 2*rho*delta = 2 >= 1 breaks the condition delta < 1/(2 rho)"),
    (lambda: bounds.evaluate("imaml.lemma2", 4, 0, 1), "x_star = 0 is not positive"),
    (lambda: imaml.CG_FACTOR.evaluate(0.5, 2), "kappa = 0.5 < 1 breaks the condition kappa >= 1"),
    (lambda: bounds.evaluate("imaml.thm2", 4, 2, 1, 1, 0, 1, 0, 1, exact=True), "rho+L = 0 <= 0 breaks the condition"),
    (lambda: bounds.evaluate("ibaml.thm1", 1, 1, 1, 1, 1, 1, 0, 1, 1, 1), "D_min = 0 is not positive"),
    (lambda: bounds.evaluate("ibaml.thm1", -1, 1, 1, 1, 1, 1, 1, 1, 1, 1), "A = -1 is not non-negative"),
    (lambda: bounds.evaluate("ibaml.thm1", 1, 1, 1, 1, 1, 0.5, 1, 1, 1, 1, exact=True), "not a float"),
    (lambda: bounds.evaluate("ibaml.thm1", 1, 1, 1, 1, 1, 1, 1, float("inf"), 1, 1), "rho = inf is not non-negative and finite"),
])
def test_bad_parameters_are_one_line_errors_naming_the_parameter(call, message):
    with pytest.raises((BoundsInputError, NotApplicable)) as info:
        call()
    assert message in str(info.value) and "\n" not in str(info.value)


def test_variants_drop_and_add_hypotheses():
    lemma3 = imaml.LEMMA3.bounds["bound"]
    point = {"lam": 1, "mu": 2, "rho": 1, "B": 1, "L": 1, "delta": F(3, 4), "delta_prime": 0}
    with pytest.raises(NotApplicable, match="delta < 1/\\(2 rho\\)"):
        bound_value(lemma3, lemma3.printed, point, exact=True)
    assert bound_value(lemma3, lemma3.variant("core"), point, exact=True) == (F(1, 2) + F(1, 2)) * F(3, 4)
    assert bound_value(lemma3, lemma3.variant("sharp"), {**point, "delta": 5}, exact=True) == (F(1, 4) + F(1, 2)) * 5
    names = [a.name for a in lemma3.hypotheses_of(lemma3.variant("core")).assumptions]
    assert names == ["imaml.2@points"]
    assert lemma3.holds_for() == "Assumption 2.1-2.3 at phi_i and Alg*_i(theta), delta < max(1, mu)/(2 rho)"
    lemma15 = ji2022.LEMMA15.bounds["bound"]
    assert lemma15.variant("corrected").name == "condition" and lemma15.holds_for().startswith("C_b < 1")
    assert imaml.THEOREM2.bounds["inner"].variant("corrected").name == "core"


def _pinned(module: str, name: str) -> dict:
    spec = importlib.util.spec_from_file_location(f"_pinned_{module}", ROOT / "tests" / f"{module}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, name)


def test_every_status_is_the_verdict_of_its_check():
    """Each variant names the check of verify.related that decides it (its registry id, or the
    check of the statement it is a part of); its status is the verdict that check reaches, as
    pinned by tests/test_verify_registry.py (which runs the checks)."""
    from verify.related import ibaml as vi
    from verify.related import imaml as vm
    from verify.related import ji2022 as vj

    pinned = _pinned("test_verify_registry", "EXPECTED")
    checks = {s.id for m in (vm, vj, vi) for s in m.statements()}
    seen = set()
    for key in RELATED:
        for sid, statement in PAPERS[key].STATEMENTS.items():
            for v in statement.variants:
                check = statement.check_id(v)
                assert check in checks, (sid, v.name, check)
                assert VERDICT_OF_STATUS[v.status] == pinned[check], (sid, v.name, v.status, pinned[check])
                seen.add(check)
    assert {"imaml.lemma3", "imaml.lemma3.core", "imaml.lemma3.sharp", "imaml.thm2.cg", "imaml.cor1.core",
            "ji2022.lemma15.unconditional", "ji2022.prop7", "ji2022.stepsize", "ibaml.thm2"} <= seen


# ---- the command line -------------------------------------------------------------------------

def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out):
        from contextlib import redirect_stderr
        with redirect_stderr(err):
            status = run_command("bounds", bounds_main, argv)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("paper", RELATED)
def test_every_format_for_every_paper(paper):
    status, table, _ = _run(["--paper", paper])
    assert status == 0 and table.startswith(f"# {PAPERS[paper].TITLE}")
    for number in PAPERS[paper].THEOREMS:
        assert f"\n{number} " in table
    status, text, _ = _run(["--paper", paper, "--format", "json", "--exact", "--variant", "all"])
    rows = json.loads(text)["rows"]
    assert status == 0 and {r["theorem"] for r in rows} == set(PAPERS[paper].THEOREMS)
    for r in rows:
        theorem = bounds.evaluation.get_theorem(r["theorem"])
        assert set(r["status"]) == set(theorem.bounds) and set(r["holds_for"]) == set(theorem.bounds)
        assert {p.name for p in theorem.hypotheses.signature} <= set(r)
    status, text, _ = _run(["--paper", paper, "--format", "csv"])
    lines = text.strip().split("\n")
    assert status == 0 and lines[0].startswith("theorem,") and len(lines) == 1 + len(PAPERS[paper].THEOREMS)
    status, text, _ = _run(["--paper", paper, "--format", "latex"])
    assert status == 0 and text.count("\\begin{tabular}") >= 1 and text.rstrip().endswith("\\end{table}")


def test_table_values_statuses_and_marks():
    status, text, _ = _run(["--paper", "imaml", "--theorem", "lemma3", "--variant", "all"])
    assert status == 0
    printed, corrected = [line for line in text.split("\n") if line.startswith("imaml.lemma3")]
    assert "9.85" in printed and " 98 " in printed and "vacuous (hold for Assumption 2.1-2.3" in printed
    assert "5.05" in corrected and " 50 " in corrected and "corrected" in corrected
    status, text, _ = _run(["--paper", "imaml", "--theorem", "lemma3", "--format", "latex", "--variant", "all"])
    assert "$9.85^{\\S}$" in text and "$50^{\\ddagger}$" in text and "vacuous as printed" in text
    status, text, _ = _run(["--paper", "ji2022", "--theorem", "lemma15", "--format", "latex", "--alpha", "1"])
    assert "^{\\dagger}$" in text and "false in general as printed (refuted by an exact witness)" in text
    status, text, _ = _run(["--paper", "imaml", "--theorem", "thm2", "--exact"])
    assert "[44.2344, 44.2345]" in text  # 4 log(63488): rounded outwards
    status, text, _ = _run(["--paper", "imaml", "--theorem", "lemma2", "--exact", "--format", "json"])
    count = json.loads(text)["rows"][0]["count"]
    lo, hi = F(count["lower"]), F(count["upper"])
    assert lo < 4 * sympy.log(80).evalf(40) < hi  # 2 sqrt(4) log(2 * 4 * 1 / (1/10))
    assert F(1, 2 ** 90) > hi - lo > 0


def test_sweeps_evaluate_each_theorem_over_its_own_parameters():
    status, text, _ = _run(["--paper", "ji2022", "--theorem", "lemma11,lemma14", "--N", "1:3", "--j", "0,4",
                            "--format", "json", "--exact"])
    rows = json.loads(text)["rows"]
    assert status == 0 and [r["theorem"] for r in rows] == ["ji2022.lemma11"] * 2 + ["ji2022.lemma14"] * 3
    assert [r["C_b"] for r in rows[2:]] == [str((1 + F(3, 32)) ** (2 * n) - 1) for n in (1, 2, 3)]
    status, text, _ = _run(["--paper", "ji2022", "--alpha", "1,1/100", "--L", "1", "--theorem", "lemma15,lemma14",
                            "--variant", "corrected"])
    assert status == 0 and "n/a" in text and "breaks the condition C_b < 1" in text


@pytest.mark.parametrize("argv, message", [
    (["--paper", "maml"], "--paper: 'maml' is not one of binomgbml, imaml, ji2022, ibaml"),
    (["--paper", "imaml", "--theorem", "thm3"], "--theorem: 'thm3' is not one of lemma2, lemma3, thm2, cor1, all"),
    (["--paper", "imaml", "--rho", "-1"], "--rho: -1 is not non-negative"),
    (["--paper", "imaml", "--lam", "0"], "--lam: 0 is not positive"),
    (["--paper", "ji2022", "--N", "0"], "--N: 0 is not a positive integer"),
    (["--paper", "ji2022", "--alpha", "x"], "--alpha: 'x' is not a number"),
    (["--paper", "imaml", "--theorem", "lemma3", "--delta", "1"],
     "--rho/--delta: 2*rho*delta = 6 >= 1 breaks the condition delta < 1/(2 rho)"),
    (["--paper", "imaml", "--theorem", "lemma2", "--kappa", "1/2"], "--kappa: kappa = 1/2 < 1 breaks the condition kappa >= 1"),
    (["--paper", "ibaml", "--normalize", "fo"], "--normalize: only the BinomGBML bounds are normalised"),
    (["--paper", "ibaml", "--format", "xml"], "--format: 'xml' is not one of table, json, csv, latex"),
    (["--paper", "ibaml", "--variant", "best"], "--variant: 'best' is not one of printed, corrected, all"),
    (["--paper", "ibaml", "--K", "3"], "unrecognized arguments: --K 3"),
])
def test_bad_input_is_one_line_naming_the_flag(argv, message):
    status, out, err = _run(argv)
    assert status == 2 and out == "" and message in err and err.count("\n") == 1, err


def test_the_default_paper_is_binomgbml():
    assert _run([]) == _run(["--paper", "binomgbml"])
    status, text, _ = _run(["--paper=binomgbml", "--theorem", "3.8", "--K", "2", "--L", "1"])
    assert status == 0 and text.split("\n")[0] == "# error bounds / ||g_t^K||"
