"""docs/contributing.md's worked example runs as written: its definition module, loaded beside
the real ones, gives a theorem that evaluates (exact, float, SymPy agree), tabulates in every
format with its status, and gets a check from verify whose verdict is the recorded status."""

import importlib.util
import math
import re
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import bounds
import bounds.papers
import bounds.symbolic
from bounds.statement import VERDICT_OF_STATUS
from bounds.tables import bound_rows, format_rows

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "contributing.md"


@pytest.fixture(scope="module")
def example():
    text = GUIDE.read_text()
    definition = text[text.index("**1. The definition"):]
    code = re.search(r"```python\n(.*?)```", definition, re.S).group(1)
    name = "bounds.papers._guide_example"
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "bounds.papers"
    sys.modules[name] = module
    exec(compile(code, str(GUIDE), "exec"), module.__dict__)
    # step 2 of the guide, for the duration of these tests: the theorem joins the index
    bounds.papers.THEOREMS.update(module.THEOREMS)
    yield module
    for number in module.THEOREMS:
        del bounds.papers.THEOREMS[number]
    del sys.modules[name]


def test_the_guide_shows_the_real_index():
    text = GUIDE.read_text()
    assert "PAPERS = {" in text and isinstance(bounds.papers.PAPERS, dict)
    assert "binomgbml" in bounds.papers.PAPERS


def test_the_example_theorem_evaluates_and_tabulates(example):
    theorem = example.THEOREMS["E.1"]
    assert bounds.evaluate("E.1", 5, 1, "1/4", 1, exact=True) == {"fo": Fraction(3125, 1024)}
    K = np.arange(1, 30)
    numeric = bounds.evaluate(theorem, K, 0, 0.25, 1.0)["fo"]
    exact = [Fraction(int(k)) * Fraction(1, 4) * Fraction(5, 4) ** (int(k) - 1) for k in K]
    assert all(math.isclose(a, float(b), rel_tol=1e-12) for a, b in zip(numeric, exact))
    assert bounds.symbolic.substitute(theorem.bounds["fo"].expr, K=5, alpha="1/4", H=1) == Fraction(3125, 1024)
    rows = bound_rows([theorem], [{"K": 5, "L": 1, "alpha": Fraction(1, 4), "H": 1}], exact=True)
    assert rows[0]["fo"] == Fraction(3125, 1024) and rows[0]["status"] == {"fo": "holds"}
    for fmt in ("table", "json", "csv", "latex"):
        assert "3125" in format_rows(rows, fmt)


def test_the_example_gets_a_check_whose_verdict_is_its_status(example):
    from verify.registry import theorem_checks

    theorem = example.THEOREMS["E.1"]
    checks = theorem_checks(theorem)
    assert [c.id for c in checks] == ["example.fo"] and checks[0].assumption == "3.5"
    result = checks[0].run(examples=10, starts=2, seed=0)
    assert result.verdict == VERDICT_OF_STATUS[theorem.bounds["fo"].status] == "holds"
    assert result.max_ratio <= 1
