"""iBaML (Zhang et al., AAAI 2023): exact reference, PyTorch estimators, statement verdicts, bounds.

* the exact reference (estimators.reference_bayes) against itself by independent routes (forward
  mode through the closed form vs Lemma 1) and against SymPy;
* the estimators (estimators.bayesian) against the exact reference to ~1e-12 in float64;
* every statement's verdict reached by its check, and every witness replayed exactly;
* (the derived constants of Theorems 1-2, bounds.papers.ibaml: tests/test_bounds_related.py).
"""

from __future__ import annotations

import json
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from estimators import (
    EstimatorInputError,
    bayes_explicit,
    bayes_inner_loop,
    ibaml,
    linear_gaussian_task,
)
from estimators import reference_bayes as rb
from estimators.bayesian import BayesianTask
from verify.checks import plain_from_json
from verify.errors import VerifyInputError
from verify.related import ibaml as checks

WITNESSES = Path(__file__).resolve().parent.parent / "docs" / "witnesses"
RTOL = 1e-12


# --------------------------------------------------------------------------------------------
# helpers


def _tensor(x, dtype=torch.float64):
    return torch.tensor(np.array(x, dtype=float), dtype=dtype)


def _task(case, dtype=torch.float64) -> BayesianTask:
    return linear_gaussian_task(_tensor(case["X"], dtype), _tensor(case["y"], dtype), _tensor(case["X_val"], dtype),
                                _tensor(case["y_val"], dtype), float(case["sigma2"]), float(case["kappa"]))


def _close(actual: torch.Tensor, exact, rtol=RTOL):
    expected = np.array([float(x) for x in exact])
    scale = max(np.abs(expected).max(), 1e-300)
    assert np.abs(actual.detach().cpu().numpy() - expected).max() <= rtol * scale, (actual, expected)


def _poly_task(model: dict, dtype=torch.float64) -> BayesianTask:
    """The polynomial model of verify.related.ibaml as a torch task (L^tr and L^val from their
    exact polynomial coefficients; the KL term of L^val from estimators.bayesian)."""
    from estimators.bayesian import kl_divergence

    M = checks._model(model)

    def torch_poly(poly):
        def f(x):
            out = torch.zeros((), dtype=x.dtype)
            for exps, c in poly.terms.items():
                out = out + float(c) * torch.prod(x ** torch.tensor(exps, dtype=x.dtype))
            return out
        return f

    ltr = torch_poly(checks._heat(checks._nll(model["train"], model["sigma2"], M.d, 2 * M.d), M.d))
    lval = torch_poly(M.val_nll)
    kappa = float(model["kappa"])
    return BayesianTask(lambda m_t, d_t: ltr(torch.cat([m_t, d_t])),
                        lambda m_t, d_t, m, d: lval(torch.cat([m_t, d_t])) + kappa * kl_divergence(m_t, d_t, m, d))


_linear = checks._linear_cases()


# --------------------------------------------------------------------------------------------
# the exact reference


@settings(max_examples=15)
@given(_linear)
def test_reference_oracle_equals_lemma1_exactly(case):
    """Forward mode through the closed form (20a)/(20b corrected) == G H^{-1} nabla_1 + nabla_2 at v*."""
    ref = checks._linear_reference(case)
    theta = case["theta"]
    assert ref.oracle_meta_gradient(theta) == ref.implicit_meta_gradient(theta, ref.vi_optimum(theta))


@settings(max_examples=10)
@given(_linear)
def test_reference_cg_reaches_the_exact_solve(case):
    """Exact CG with 2d steps on the positive definite H(v) equals the exact solve."""
    ref = checks._linear_reference(case)
    theta = case["theta"]
    v = ref.inner_loop(theta, F(1, 64), 1)[-1]
    assert ref.implicit_meta_gradient(theta, v, steps=2 * ref.d) == ref.implicit_meta_gradient(theta, v)


def test_reference_kl_gradient_and_heat_operator_against_sympy():
    m, s, M, D = sp.symbols("m s M D", positive=True)
    kl = (s / D + (m - M) ** 2 / D - 1 + sp.log(D) - sp.log(s)) / 2
    point = {m: sp.Rational(1, 3), s: sp.Rational(2, 5), M: sp.Rational(-1, 2), D: sp.Rational(3, 2)}
    expected = [sp.diff(kl, x).subs(point) for x in (m, s)]
    got = rb.kl_gradient([F(1, 3), F(2, 5)], [F(-1, 2), F(3, 2)])
    assert got == [F(int(e.p), int(e.q)) for e in expected]
    # forward mode through kl() gives the same derivative
    assert rb.forward_derivatives(lambda v: rb.kl(v, [F(-1, 2), F(3, 2)]), [F(1, 3), F(2, 5)]) == got
    # E theta^4 for theta ~ N(m, s) is m^4 + 6 m^2 s + 3 s^2 (Gaussian moments)
    quartic = checks.Poly({(4, 0): 1}, 2)
    assert checks._heat(quartic, 1).terms == {(4, 0): F(1), (2, 1): F(6), (0, 2): F(3)}


def test_reference_refuses_bad_input():
    with pytest.raises(rb.ReferenceBayesError, match="sigma2"):
        rb.LinearGaussian.create([[1]], [1], [[1]], [1], 0)
    ref = rb.LinearGaussian.create([[1]], [1], [[1]], [1], 1)
    with pytest.raises(rb.ReferenceBayesError, match="variance"):
        ref.oracle_meta_gradient([0, -1])
    with pytest.raises(rb.ReferenceBayesError, match="smaller alpha"):
        ref.inner_loop([0, 1], 8, 3)
    with pytest.raises(rb.ReferenceBayesError, match="logarithm"):
        rb.kl([rb.Dual(F(1), 1), rb.Dual(F(1), 1)], [F(0), F(1)]) * rb.Dual(F(1), 1)


# --------------------------------------------------------------------------------------------
# the estimators against the exact reference


@settings(max_examples=8)
@given(_linear, st.integers(1, 3), st.sampled_from([F(1, 64), F(1, 32)]))
def test_bayes_explicit_equals_exact_unrolled(case, K, alpha):
    ref, theta = checks._linear_reference(case), case["theta"]
    _close(bayes_explicit(_task(case), _tensor(theta), float(alpha), K), ref.explicit_meta_gradient(theta, alpha, K))
    v0 = [x + F(1, 8) for x in theta]
    _close(bayes_explicit(_task(case), _tensor(theta), float(alpha), K, v0=_tensor(v0)),
           ref.explicit_meta_gradient(theta, alpha, K, v0))
    _close(bayes_inner_loop(_task(case), _tensor(theta), float(alpha), K)[-1], ref.inner_loop(theta, alpha, K)[-1])


@settings(max_examples=8)
@given(_linear, st.integers(1, 4))
def test_ibaml_equals_exact_implicit_gradient(case, steps):
    ref, theta = checks._linear_reference(case), case["theta"]
    v_hat = ref.inner_loop(theta, F(1, 64), 2)[-1]
    task, th, vh = _task(case), _tensor(theta), _tensor(v_hat)
    _close(ibaml(task, th, vh, solver="dense").grad, ref.implicit_meta_gradient(theta, v_hat))
    result = ibaml(task, th, vh, steps)
    assert result.solver == "cg" and result.fallback is None and result.iterations <= steps
    _close(result.grad, ref.implicit_meta_gradient(theta, v_hat, steps=steps), rtol=1e-10)
    # at the VI optimum with 2d CG steps: the oracle meta-gradient (21)
    v_star = ref.vi_optimum(theta)
    _close(ibaml(task, th, _tensor(v_star), 2 * ref.d).grad, ref.oracle_meta_gradient(theta), rtol=1e-10)


def test_ibaml_float32_and_diagnostics():
    case = {"X": [[1, F(1, 2)], [F(-1, 3), 1]], "y": [1, F(-1, 2)], "X_val": [[F(1, 2)], [1]], "y_val": [2],
            "sigma2": F(1, 2), "kappa": F(1, 2), "theta": [F(1, 5), F(-1, 2), F(1, 2), F(2, 3)]}
    ref, theta = checks._linear_reference(case), case["theta"]
    v = ref.vi_optimum(theta)
    result = ibaml(_task(case, torch.float32), _tensor(theta, torch.float32), _tensor(v, torch.float32), 4)
    assert result.grad.dtype == torch.float32
    _close(result.grad, ref.oracle_meta_gradient(theta), rtol=1e-5)
    assert len(result.residual_norms) == result.iterations + 1 and result.residual_norms[-1] < 1e-4
    assert all(c > 0 for c in result.curvatures) and result.positive_definite is None
    dense = ibaml(_task(case), _tensor(theta), _tensor(v), solver="dense")
    assert dense.positive_definite and dense.iterations == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: GPU estimators not tested")
def test_ibaml_on_cuda():
    case = {"X": [[1, 2]], "y": [1, 0], "X_val": [[1]], "y_val": [1], "sigma2": F(1), "kappa": F(1, 2),
            "theta": [F(1, 2), F(1)]}
    ref = checks._linear_reference(case)
    dev = torch.device("cuda")
    task = linear_gaussian_task(*(_tensor(case[k]).to(dev) for k in ("X", "y", "X_val", "y_val")), 1.0, 0.5)
    theta = _tensor(case["theta"]).to(dev)
    _close(ibaml(task, theta, _tensor(ref.vi_optimum(case["theta"])).to(dev), 2).grad,
           ref.oracle_meta_gradient(case["theta"]), rtol=1e-10)
    _close(bayes_explicit(task, theta, 1 / 32, 2), ref.explicit_meta_gradient(case["theta"], F(1, 32), 2))


def _witness_case(name):
    return plain_from_json({k: v for k, v in json.loads((WITNESSES / name).read_text()).items()
                              if k not in ("id", "error", "bound", "exact")})


def test_ibaml_guard_on_an_indefinite_system():
    """The (15) witness model with a validation target that exposes the negative curvature: CG meets
    p^T H p < 0 at once; "cg" refuses, "auto" solves densely and equals the exact G H^{-1} b + c."""
    case = _witness_case("ibaml.eq15.json")
    case["model"]["val"]["y"] = [F(1)]  # nabla_1 L^val then has a mean component
    M, theta, v = checks._model(case["model"]), case["theta"], case["v_hat"]
    H = checks._H(M, theta, v)
    b, c = M.val_gradients(v, theta)
    g = M.train_gradient(v)
    exact = checks._add(checks._mv(rb.eq11_G(theta, g), rb.solve(H, b)), c)
    task, th, vh = _poly_task(case["model"]), _tensor(theta), _tensor(v)
    with pytest.raises(EstimatorInputError, match="not positive definite"):
        ibaml(task, th, vh, 3, solver="cg")
    result = ibaml(task, th, vh, 3)
    assert result.solver == "dense" and "p^T H p" in result.fallback and result.positive_definite is False
    assert result.curvatures[0] < 0
    _close(result.grad, exact)


def test_ibaml_cg_can_miss_the_indefiniteness():
    """On the (15) witness itself nabla_1 L^val lies in a positive eigendirection: CG converges in one
    step without meeting the negative curvature (the guard is necessary, not sufficient)."""
    case = _witness_case("ibaml.eq15.json")
    M, theta, v = checks._model(case["model"]), case["theta"], case["v_hat"]
    result = ibaml(_poly_task(case["model"]), _tensor(theta), _tensor(v), 2)
    assert result.solver == "cg" and result.fallback is None
    assert ibaml(_poly_task(case["model"]), _tensor(theta), _tensor(v), solver="dense").positive_definite is False
    exact = rb.solve(checks._H(M, theta, v), M.val_gradients(v, theta)[0])
    _close(result.u, exact)


def test_ibaml_refuses_a_singular_system():
    """y = theta^2 + e, y = 2, prior N(0, 1), v_hat = (0, 1/2): the mean entry of H_t is exactly 0."""
    model = {"d": 1, "sigma2": F(1), "kappa": F(0), "train": {"a": [[F(0)]], "B": [[[F(1)]]], "y": [F(2)]},
             "val": {"a": [[F(1)]], "B": [[[F(0)]]], "y": [F(1)]}}
    assert checks._H(checks._model(model), [0, 1], [0, F(1, 2)])[0][0] == 0
    with pytest.raises(EstimatorInputError, match="singular"):
        ibaml(_poly_task(model), _tensor([0, 1]), _tensor([0, 0.5]), solver="dense")


def test_estimators_refuse_bad_input():
    case = {"X": [[1]], "y": [1], "X_val": [[1]], "y_val": [1], "sigma2": 1, "kappa": 0}
    task, theta = _task(case), _tensor([0, 1])
    bad = [
        (lambda: ibaml(task, theta, theta, 0), "steps=0 is out of range"),
        (lambda: ibaml(task, theta, theta), "needs steps"),
        (lambda: ibaml(task, theta, theta, 2, solver="lu"), "solver='lu'"),
        (lambda: ibaml(task, theta, theta, 2, tol=-1), "tol=-1"),
        (lambda: ibaml(task, _tensor([0, -1]), theta, 2), "variance entry 0 is -1.0"),
        (lambda: ibaml(task, theta, _tensor([0, 1, 2, 3]), 2), "need \\(2,\\)"),
        (lambda: ibaml(task, _tensor([0, 1, 2]), theta, 2), "need \\(2d,\\)"),
        (lambda: ibaml(task, theta, theta.float(), 2), "torch.float32"),
        (lambda: bayes_explicit(task, theta, 0.0, 2), "alpha=0.0"),
        (lambda: bayes_explicit(task, theta, 0.1, 0), "K=0"),
        (lambda: bayes_explicit(task, theta, 50.0, 3), "smaller alpha"),
        (lambda: ibaml(BayesianTask(lambda m, d: torch.stack([m.sum(), d.sum()]), task.val_loss), theta, theta, 1),
         "train_nll must return a scalar"),
        (lambda: linear_gaussian_task(_tensor([[1]]), _tensor([1, 2]), _tensor([[1]]), _tensor([1]), 1.0),
         "need d x N and \\(N,\\)"),
    ]
    for call, message in bad:
        with pytest.raises(EstimatorInputError, match=message):
            call()


# --------------------------------------------------------------------------------------------
# statement verdicts (reached by the checks) and witnesses (replayed exactly)




@pytest.mark.parametrize("sid", ["ibaml.eq15", "ibaml.eq20b", "ibaml.posterior"])
def test_witness_replays_exactly(sid):
    witness = json.loads((WITNESSES / f"{sid}.json").read_text())
    assert witness["id"] == sid
    violated, message = checks.get(sid).replay(witness)
    assert violated, message
    case = plain_from_json({k: v for k, v in witness.items() if k not in ("id", "error", "bound", "exact")})
    assert checks.get(sid).validate(case) is None  # every assumption met, exactly


def test_witness_values():
    """The witnesses' exact numbers: (20b) is off by a factor 2 in the data term."""
    w = json.loads((WITNESSES / "ibaml.eq20b.json").read_text())
    assert w["exact"]["error"] == "1/2"
    case = plain_from_json({k: w[k] for k in ("X", "y", "X_val", "y_val", "sigma2", "kappa", "theta")})
    assert checks._printed_20b(case) == [F(1, 5)]  # 1/(1/(2 * 1/2) + 4)
    assert checks._linear_reference(case).vi_optimum(case["theta"])[1] == F(1, 6)  # 1/(1/(1/2) + 4)
    w = json.loads((WITNESSES / "ibaml.eq15.json").read_text())
    case = _witness_case("ibaml.eq15.json")
    H = checks._H(checks._model(case["model"]), case["theta"], case["v_hat"])
    assert H[0][0] == F(-7, 8) and w["exact"]["error"] != "0"


def test_replay_rejects_cases_outside_the_domain():
    witness = json.loads((WITNESSES / "ibaml.eq15.json").read_text())
    witness["v_bar"] = ["1/2", "1/4"]  # no longer stationary for the stored prior
    with pytest.raises(VerifyInputError, match="stationary"):
        checks.get("ibaml.eq15").replay(witness)
    witness = json.loads((WITNESSES / "ibaml.eq20b.json").read_text())
    witness["theta"] = ["0", "-1"]
    with pytest.raises(VerifyInputError, match="cannot be replayed"):
        checks.get("ibaml.eq20b").replay(witness)


def test_theorem_assumptions_hold_globally_somewhere():
    data = checks.global_theorem_instance()
    assert checks._validate_theorem(data) is None
    assert checks._theorem1(data)[0] and checks._theorem2(data)[0]


def test_remark2_differs_from_lemma1_when_the_variance_is_learned():
    """With d_t learned (Lemma 1), the mean block of G H^{-1} is D^{-1} [H^{-1}]_mm, which differs from
    (13)'s D^{-1} (H_mm)^{-1} as soon as grad^2_{m d} L^tr != 0 (here a cubic term's cross derivative)."""
    model = {"d": 1, "sigma2": F(1), "kappa": F(0), "train": {"a": [[F(1)]], "B": [[[F(1)]]], "y": [F(1)]},
             "val": {"a": [[F(1)]], "B": [[[F(0)]]], "y": [F(0)]}}
    M = checks._model(model)
    v_bar = [F(1, 2), F(1, 8)]
    theta = checks._prior_for(M, v_bar)
    g, S = M.train_gradient(v_bar), M.train_hessian(v_bar)
    assert theta == [F(17, 30), F(4, 15)] and S[0][1] == 6
    H = rb.lemma1_H(theta, g, S)
    assert checks._pd(H)  # a strict local minimum
    mean_block = checks._mm(rb.eq11_G(theta, g), checks._inv(H))[0][0]
    assert (mean_block, (1 / theta[1]) / H[0][0]) == (F(525, 976), F(15, 32))


def test_exact_sign_and_spectral_decisions():
    surd = checks._Surd
    assert surd(3, -1, 8).sign() == 1 and surd(2, -1, 4).sign() == 0 and surd(-3, 1, 8).sign() == -1
    N = [[F(4), F(0)], [F(0), F(1)]]  # eigenvalues 4 and 1
    assert checks._lambda_max_at_least(N, surd(4)) and not checks._lambda_max_at_least(N, surd(0, 1, 17))
    assert checks._lambda_max_at_least(N, surd(0, 1, 16))  # sqrt(16) = 4: the tie is decided exactly
    assert checks._sqrt_le_sum(F(8), [(F(1), F(2)), (F(1), F(2))])  # sqrt 8 = 2 sqrt 2: a tie


@pytest.mark.slow
def test_adversarial_theorem_search():
    """Float search from 2 starts for each theorem; the best case is re-checked exactly."""
    for which in ("1", "2"):
        result = checks.adversarial_theorem(which, starts=2, seed=0, iters=20)
        assert result.verdict == "holds" and result.max_ratio <= 1 + 1e-9, result.note
