"""Ji, Yang, Liang (2022), multi-step MAML: bounds, exact references, estimators, pinned verdicts.

About 20 s on 2 cores: each statement's check runs 20 Hypothesis cases without shrinking, and
the violated ones replay their saved witnesses (docs/witnesses/ji2022.*.json) exactly.
"""

import dataclasses
import json
import pathlib
from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import bounds
from bounds.papers import ji2022 as ji
from estimators import (
    Trajectory,
    maml,
    maml_autograd,
    multistep_maml,
    resampling_meta_gradient,
)
from estimators import reference_multistep as ref
from estimators.reference import ReferenceInputError
from verify.related import ji2022 as J
from verify.related.surds import Surd, norm
from verify.witness import dumps

WITNESSES = pathlib.Path(__file__).resolve().parents[1] / "docs" / "witnesses"


# a cubic training loss and a validation loss whose Hessians vary along the inner path
TRN = ref.PolynomialLoss({(3, 0): 1, (1, 2): F(1, 2), (0, 2): 1, (2, 1): -1, (1, 0): F(1, 3)}, 2)
VAL = ref.PolynomialLoss({(2, 0): 1, (0, 3): F(1, 4), (1, 1): 2}, 2)
THETA, ALPHA = [F(1, 2), F(-1, 3)], F(1, 4)


# --------------------------------------------------------------------------------------------
def test_bound_constants_are_attained_on_a_concave_quadratic():
    """l = -lam/2 ||w||^2: the exact meta-gradient (reference) meets Lemmas 11, 12, 14 and the first
    term of Proposition 1 with equality, so the constants are the right ones, not just valid."""
    lam, alpha, N = F(3, 4), F(1, 5), 3
    loss = ref.RidgeLoss([[-lam, 0], [0, -lam]], [0, 0], [0, 0], 0, 0, 0)
    w, u = np.array([F(1), F(-2)], dtype=object), np.array([F(1, 3), F(1, 2)], dtype=object)
    path_w, path_u = ref.inner_path(loss, w, alpha, N), ref.inner_path(loss, u, alpha, N)
    assert norm(path_w[N] - path_u[N]) == bounds.evaluate("ji2022.lemma11", alpha, lam, N, exact=True)["factor"] * norm(w - u)
    assert norm(loss.gradient(path_w[N])) == bounds.evaluate("ji2022.lemma12", alpha, lam, N, exact=True)["factor"] * norm(loss.gradient(w))
    meta = ref.meta_gradient_unrolled(loss, loss, w, alpha, N)
    assert norm(meta - loss.gradient(w)) == bounds.evaluate("ji2022.lemma14", alpha, lam, N, exact=True)["C_b"] * norm(loss.gradient(w))
    change = norm(meta - ref.meta_gradient_unrolled(loss, loss, u, alpha, N))
    assert change == bounds.evaluate("ji2022.prop1", alpha, lam, 0, N, 0, exact=True)["L_w"] * norm(w - u)  # rho = 0: C_L = 0


# --------------------------------------------------------------------------------------------
# estimators.reference_multistep


@st.composite
def polynomials(draw, d=2):
    monomials = [m for m in np.ndindex(*(5,) * d) if 1 <= sum(m) <= 4]
    chosen = draw(st.lists(st.sampled_from(monomials), min_size=1, max_size=5, unique=True))
    terms = {tuple(int(e) for e in m): draw(st.fractions(-1, 1, max_denominator=3)) for m in chosen}
    terms[(1, 2)] = F(1)  # non-quadratic: the Hessian varies along the path
    return ref.PolynomialLoss(terms, d)


@settings(max_examples=10)
@given(polynomials(), polynomials(), st.lists(st.fractions(-1, 1, max_denominator=4), min_size=2,
                                              max_size=2), st.integers(1, 3))
def test_three_routes_to_the_meta_gradient_agree_exactly(trn, val, theta, N):
    unrolled = ref.meta_gradient_unrolled(trn, val, theta, F(1, 4), N)
    assert (unrolled == ref.meta_gradient_product(trn, val, theta, F(1, 4), N)).all()
    if N <= 2:  # the symbolic route's degree grows like 3^N
        assert (unrolled == ref.meta_gradient_symbolic(trn, val, theta, F(1, 4), N)).all()


def _sympy(p: ref.PolynomialLoss, xs):
    return sum((sp.Rational(c.numerator, c.denominator) * sp.prod([x ** e for x, e in zip(xs, m)])
                for m, c in p.terms.items()), sp.Integer(0))


@settings(max_examples=20)
@given(polynomials(), polynomials(), st.fractions(-2, 2, max_denominator=5))
def test_polynomial_arithmetic_is_sympys(p, q, c):
    """+, -, * (with polynomials and rationals), partial and value against SymPy's expansion."""
    xs = sp.symbols("x0:2")
    got = p * q - c * p + 2 - q * F(1, 3) + (-p)
    expected = sp.Poly(sp.expand(_sympy(p, xs) * _sympy(q, xs) - c * _sympy(p, xs) + 2
                                 - _sympy(q, xs) / 3 - _sympy(p, xs)), *xs)
    assert got.terms == {m: F(int(v.p), int(v.q)) for m, v in expected.terms()}
    assert (p - p).terms == {} and (1 - p).terms == (-(p - 1)).terms
    assert got.partial(1).terms == {m: F(int(v.p), int(v.q)) for m, v in expected.diff(xs[1]).terms()
                                    if v}
    assert got([F(1, 3), F(-2)]) == expected.eval({xs[0]: sp.Rational(1, 3), xs[1]: -2})


def test_the_product_order_matters_on_the_witness():
    w = json.loads((WITNESSES / "ji2022.eq3.reversed.json").read_text())["case"]
    trn, p = J._poly(J.case_from_json(w["trn"])), J.case_from_json(w["params"])
    theta = J.case_from_json(w["theta"])
    symbolic = ref.meta_gradient_symbolic(trn, trn, theta, p["alpha"], p["N"])
    assert (symbolic == ref.meta_gradient_product(trn, trn, theta, p["alpha"], p["N"])).all()
    assert not (symbolic == ref.meta_gradient_product(trn, trn, theta, p["alpha"], p["N"],
                                                      order="decreasing")).all()


@pytest.mark.parametrize("x", [[F(1, 3), F(-1, 2)], [F(5), F(1)], [F(-4), F(2)]])  # band, above, below
def test_ridge_gradient_and_hessian_are_the_derivatives_of_its_value(x):
    loss = ref.RidgeLoss([[1, F(1, 2)], [F(1, 2), -1]], [F(1, 3), 0], [F(3, 5), F(4, 5)], 2, -1, F(1, 2))
    for k in range(2):
        probe = [ref.Dual(v, int(i == k)) for i, v in enumerate(x)]
        assert loss.value(probe).du == loss.gradient(x)[k]
        assert [g.du for g in loss.gradient(probe)] == list(loss.hessian(x)[:, k])
    assert loss.hessian_lipschitz() == (F(2), True)  # |c| ||a||^3, ||a|| = 1


def test_resampling_reference_reduces_to_the_finite_sum_meta_gradient():
    N = 3
    assert (ref.resampling_meta_gradient([TRN] * N, [TRN] * N, VAL, THETA, ALPHA)
            == ref.meta_gradient_unrolled(TRN, VAL, THETA, ALPHA, N)).all()


@pytest.mark.parametrize("call,message", [
    (lambda: ref.meta_gradient_unrolled(TRN, VAL, [0.5, 0], ALPHA, 2), "theta[0]=0.5 must be"),
    (lambda: ref.meta_gradient_product(TRN, VAL, THETA, ALPHA, 0), "N=0 must be an integer >= 1"),
    (lambda: ref.meta_gradient_product(TRN, VAL, THETA, ALPHA, 2, order="up"), "order='up'"),
    (lambda: ref.RidgeLoss([[1, 2], [0, 1]], [0, 0], [1, 0], 1, -1, 1), "A must be symmetric"),
    (lambda: ref.RidgeLoss([[1]], [0], [1], 1, F(1, 2), 1), "need lo <= 0 <= hi"),
    (lambda: ref.PolynomialLoss({(1,): 1}, 2), "exponent (1,) must be 2 integers"),
    (lambda: TRN * 0.5, "factor=0.5 must be an int, a Fraction or a 'p/q' string"),
    (lambda: TRN + ref.PolynomialLoss.variable(3, 0), "polynomials in 2 and 3 variables"),
    (lambda: ref.PolynomialLoss.variable(2, 2), "variable index 2 must be an integer in 0..1"),
    (lambda: ref.resampling_meta_gradient([TRN], [TRN, TRN], VAL, THETA, ALPHA), "need N=1"),
])
def test_reference_bad_input(call, message):
    with pytest.raises(ReferenceInputError) as info:
        call()
    assert message in str(info.value)


# --------------------------------------------------------------------------------------------
# estimators.multistep against the exact reference


class Point(torch.nn.Module):
    """A model whose output is its parameter vector, so a loss of the output is a loss of w."""

    def __init__(self, theta, dtype=torch.float64):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([float(t) for t in theta], dtype=dtype))

    def forward(self, x):
        return self.w


def poly_loss(out, terms):
    total = out.new_zeros(())
    for m, c in terms:
        t = out.new_tensor(float(c))
        for i, e in enumerate(m):
            for _ in range(e):
                t = t * out[i]
        total = total + t
    return total


def batch(loss: ref.PolynomialLoss, device="cpu"):
    return torch.zeros(1, device=device), list(loss.terms.items())


def _close(got: torch.Tensor, exact, rtol):
    want = np.array([float(x) for x in exact])
    err = np.abs(got.detach().cpu().double().numpy() - want).max()
    assert err <= rtol * np.abs(want).max(), (err, want)


@pytest.mark.parametrize("N", [1, 2, 4])
def test_multistep_maml_equals_the_exact_meta_gradient(N):
    exact = ref.meta_gradient_unrolled(TRN, VAL, THETA, ALPHA, N)
    model = Point(THETA)
    _close(multistep_maml(model, poly_loss, batch(TRN), batch(VAL), N, float(ALPHA)), exact, 1e-12)
    _close(maml_autograd(model, poly_loss, batch(TRN), batch(VAL), N, float(ALPHA)), exact, 1e-12)


def test_toolkit_product_convention_is_the_papers_eq3():
    """maml on the exact Hessians of the path is eq. (3) (increasing j), not the reversed product."""
    N = 3
    path = ref.inner_path(TRN, THETA, ALPHA, N)
    H = np.array([TRN.hessian(w).astype(float) for w in path[:N]])
    traj = Trajectory.from_hessians(H, VAL.gradient(path[N]).astype(float), float(ALPHA))
    exact = ref.meta_gradient_unrolled(TRN, VAL, THETA, ALPHA, N)
    _close(maml(traj), exact, 1e-12)
    reversed_ = ref.meta_gradient_product(TRN, VAL, THETA, ALPHA, N, order="decreasing")
    assert np.abs(maml(traj).numpy() - reversed_.astype(float)).max() > 1e-3


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_resampling_meta_gradient_equals_eq7_exactly(dtype, rtol):
    S = [TRN, ref.PolynomialLoss({(2, 0): 1, (0, 3): F(1, 3)}, 2), TRN]
    D = [ref.PolynomialLoss({(3, 0): F(1, 2), (1, 1): 1}, 2), TRN, VAL]
    exact = ref.resampling_meta_gradient(S, D, VAL, THETA, ALPHA)
    got = resampling_meta_gradient(Point(THETA, dtype), poly_loss, [batch(s) for s in S],
                                   [batch(d) for d in D], batch(VAL), float(ALPHA))
    assert got.dtype == dtype
    _close(got, exact, rtol)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_resampling_meta_gradient_on_cuda():
    model = Point(THETA).cuda()
    got = resampling_meta_gradient(model, poly_loss, [batch(TRN, "cuda")] * 2, [batch(TRN, "cuda")] * 2,
                                   batch(VAL, "cuda"), float(ALPHA))
    _close(got, ref.meta_gradient_unrolled(TRN, VAL, THETA, ALPHA, 2), 1e-12)


@pytest.mark.parametrize("call,message", [
    (lambda m: resampling_meta_gradient(m, poly_loss, [batch(TRN)], [], batch(VAL), 0.1),
     "hessian_batches has 0 batches: need one per inner step, N=1"),
    (lambda m: resampling_meta_gradient(m, poly_loss, [], [], batch(VAL), 0.1), "N (= len(inner_batches))=0"),
    (lambda m: resampling_meta_gradient(m, poly_loss, batch(TRN), [batch(TRN)], batch(VAL), 0.1),
     "looks like one (inputs, targets) pair"),
    (lambda m: resampling_meta_gradient("m", poly_loss, [batch(TRN)], [batch(TRN)], batch(VAL), 0.1),
     "model=str must be a torch.nn.Module"),
    (lambda m: resampling_meta_gradient(m, poly_loss, [batch(TRN)], [batch(TRN)], batch(VAL), -1),
     "alpha=-1.0 must be finite and > 0"),
    (lambda m: resampling_meta_gradient(m, poly_loss, [batch(TRN)] * 30, [batch(TRN)] * 30, batch(VAL), 50.0),
     "need a smaller alpha"),
])
def test_estimator_bad_input(call, message):
    with pytest.raises(ValueError) as info:
        call(Point(THETA))
    assert message in str(info.value) and "\n" not in str(info.value)


# --------------------------------------------------------------------------------------------
# verify.related.ji2022: verdicts, witnesses, assumptions


@pytest.mark.parametrize("sid", ["ji2022.eq3.reversed", "ji2022.lemma15.unconditional"])
def test_witness_replays_exactly_inside_the_assumptions(sid):
    path = WITNESSES / f"{sid}.json"
    witness = json.loads(path.read_text())
    assert witness["id"] == sid and J.get(sid).validate(J.case_from_json(witness["case"])) is None
    violated, message = J.get(sid).replay(witness)
    assert violated and message.startswith(f"error = {witness['exact']['error']}, bound = {witness['exact']['bound']}")
    assert dumps(witness) == path.read_text()  # the file is what verify writes


def test_lemma15_witness_has_no_finite_multiplier():
    """At the witness grad L(w) = 0 and sigma = 0 while grad l(w) != 0: no bound K (||grad L|| +
    sigma) holds there, whatever the constant; and alpha L = 1 breaks C_b < 1."""
    case = J.case_from_json(json.loads((WITNESSES / "ji2022.lemma15.unconditional.json").read_text())["case"])
    p, (task,) = case["params"], J._lemma15_tasks(case)
    assert (ref.meta_gradient_unrolled(task, task, case["w"], p["alpha"], p["N"]) == 0).all()
    assert J._sigma(case["shifts"]) == 0 and norm(task.gradient(case["w"])) > 0
    assert not ji.LEMMA15_CONDITION.holds(p)


def test_a_violation_outside_the_assumptions_is_refused():
    concave = {"params": {"alpha": F(2), "N": 1, "L": F(1, 2)},
               "tasks": [{"A": [[F(-1, 2)]], "b": [F(0)], "a": [F(0)], "c": F(0), "lo": F(0), "hi": F(0)}],
               "w": [F(1)], "shifts": [[F(1)]]}
    s = dataclasses.replace(J.get("ji2022.lemma15.unconditional"), cases=lambda: st.just(concave))
    with pytest.raises(J.OutsideAssumptions, match="not certified bounded below"):
        s.run(examples=1, starts=0, seed=0)


def test_every_assumption_set_is_satisfiable():
    sat = J.satisfiability()
    assert set(sat) == {"assumption1", "assumption1+2", "assumption1+2+3", "assumption4+5",
                        "lemma15.condition"}
    assert all(v["satisfiable"] for v in sat.values())


def test_adversarial_search_confirms_proposition_1_exactly():
    result = J.adversarial_search("ji2022.prop1", starts=1, seed=0, maxiter=40)
    assert result.verdict == "holds" and 0 < result.max_ratio <= 1


def test_surds_are_exact():
    assert Surd.sqrt(8) == 2 * Surd.sqrt(2) and (Surd.sqrt(8) - 2 * Surd.sqrt(2)).sign() == 0
    assert Surd.sqrt(F(1, 2)) * Surd.sqrt(2) == 1 and norm([3, 4]).rational() == 5
    assert Surd.sqrt(2) + Surd.sqrt(3) < Surd.sqrt(F(99, 10))  # 3.14626... < 3.14642...
    close = Surd.sqrt(10 ** 12 + 1) - Surd.sqrt(10 ** 12)  # ~5e-7, found by refinement
    assert close.sign() == 1 and 0 < float(close) < 1e-6


