"""iMAML (Rajeswaran, Finn, Kakade, Levine 2019): statements, estimators, exact references, bounds.

Verdicts are pinned by running each check (small budget, fixed seed) and asserting the verdict
it reaches; committed witnesses (docs/witnesses/imaml.*.json) replay exactly, and the canonical
ones are recomputed here with plain Fraction arithmetic. The estimators are compared with the
exact references (estimators.reference_implicit, Fractions) to 1e-12 relative in float64; the
references with SymPy's symbolic differentiation, exactly.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from estimators import (
    CGResult,
    EstimatorInputError,
    Trajectory,
    fo,
    imaml,
    imaml_cg,
    imaml_exact,
)
from estimators import reference as ref
from estimators import reference_implicit as RI
from verify.errors import VerifyInputError
from verify.related import imaml as V

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-12



def fr(M):
    return np.array(M, dtype=object) * F(1)


# -- the statements -----------------------------------------------------------------------------


def test_adversarial_search_keeps_lemma3_within_its_bound():
    result = V.get("imaml.lemma3.sharp").run(examples=2, starts=1, seed=3)
    assert result.verdict == "holds" and result.max_ratio <= 1


def test_a_tampered_witness_is_refused_as_outside_the_hypotheses():
    witness = json.loads((ROOT / "docs/witnesses/imaml.cor1.core.same_eps.json").read_text())
    witness["P"] = [["0", "0"], ["0", "3"]]  # spectrum beyond L_F = 2
    with pytest.raises(VerifyInputError, match="the imaml.cor1.core.same_eps witness cannot be replayed"):
        V.get(witness["id"]).replay(witness)


def test_witnesses_recomputed_with_plain_fractions():
    # F.1: data x = 1, y = 1: L(phi) = (phi - 1)^2 / 2, printed 1/2 phi^2 + phi b with b = 1
    L = lambda p: (p - 1) ** 2 / F(2)
    q = lambda p: p * p / F(2) + p
    assert L(F(0)) - L(F(1)) == F(1, 2) and q(F(0)) - q(F(1)) == F(-3, 2)
    # Appendix A: CG from x0 = 0, zero steps: returns 0, not g = 1
    assert list(ref.imaml_cg([[F(0)]], [F(1)], F(1), 0, x0="zero")) == [0]
    # Reptile: L^ = 0, theta = 0 -> phi = 0: Reptile's step is 0, FOMAML's grad of
    # L(phi) = -phi^2/2 + phi at 0 is 1
    assert F(0) - F(0) == 0 and -F(0) + 1 == 1
    # Corollary 1 with eps-accurate gradients, d = 1: F = 3/4 theta^2, L_F = 2, eps = 1, theta_0 = 1,
    # e_k = -1: theta_k - 2/3 = (1/3)(1/4)^k > 0, so |grad F| = 3/2 theta_k > 1 for every k <= 6
    theta = F(1)
    for _ in range(7):
        assert F(3, 2) * theta > 1
        theta -= (F(3, 2) * theta - 1) / 2
    # Assumption 2: A = b = 0, lam = 1: Alg*(theta) = theta, so theta = 4 breaks ||Alg*|| <= D = 1
    assert list(RI.inner_solution([[0]], [0], [4], 1)) == [4]


def test_the_sharpened_lemma3_constant_is_approached():
    # d = 1: lam I + H = mu, lam I + H* = mu + rho delta, g = g* = B, g_i exact: the error
    # B (1 - 1/(1 + rho delta)) is lam rho B delta / mu^2 up to a factor 1 / (1 + rho delta)
    delta = F(1, 1000)
    case = {"params": {"lam": F(1), "mu": F(1), "beta": F(4), "rho": F(1), "B": F(1), "L": F(0),
                       "delta": delta, "delta_prime": F(0)},
            "H_star": fr([[delta]]), "H": fr([[0]]), "g_star": fr([1]), "g": fr([1]), "g_i": fr([1])}
    sharp = V.get("imaml.lemma3.sharp")
    assert sharp.validate(case) is None
    holds, err, bound = sharp.examine(case)
    assert holds and err / bound == (1 / (1 + delta)) ** 2  # ratio 1000/1001: the constant is sharp
    holds, err, bound = V.get("imaml.lemma3.core").examine(case)
    assert holds and err / bound == (1 / (2 * (1 + delta))) ** 2  # the printed 2 is not needed


def test_vacuity_argument_refutes_its_example_and_conditionals_report_it():
    shows, detail = V.get("imaml.assumption2").refute(V._assumption2_example())
    assert shows and "> D^2 = 1" in detail
    result = V.get("imaml.thm2").run(examples=3)
    assert result.verdict == "vacuous" and "imaml.assumption2 is unsatisfiable" in result.note


# -- the exact references (estimators.reference_implicit) against SymPy -------------------------


def _sym(M):
    return sympy.Matrix([[sympy.Rational(x.numerator, x.denominator) for x in row] for row in M])


@st.composite
def quadratic_tasks(draw, max_d=3):
    """A with A + lam I positive definite (by a diagonal shift), b, C, c, theta, lam: Fractions."""
    d = draw(st.integers(1, max_d))
    frac = st.fractions(-2, 2, max_denominator=3)
    M = np.array([[draw(frac) for _ in range(d)] for _ in range(d)], dtype=object)
    lam = draw(st.fractions(F(1, 4), 3, max_denominator=4))
    A = (M + M.T) / 2
    A = A + np.eye(d, dtype=int).astype(object) * (2 * d - lam + F(1, 8))  # diagonally dominant
    vec = lambda: np.array([draw(frac) for _ in range(d)], dtype=object)
    N = np.array([[draw(frac) for _ in range(d)] for _ in range(d)], dtype=object)
    C = (N + N.T) / 2
    return A, vec(), C, vec(), vec(), lam


@settings(max_examples=12)
@given(quadratic_tasks())
def test_meta_gradient_equals_sympy_derivative_of_the_composed_loss(task):
    A, b, C, c, theta, lam = task
    d = len(b)
    t = sympy.Matrix(sympy.symbols(f"t0:{d}"))
    As, Cs, lam_s = _sym(A), _sym(C), sympy.Rational(lam.numerator, lam.denominator)
    phi = (As + lam_s * sympy.eye(d)).LUsolve(lam_s * t - _sym([b]).T)  # Alg*, symbolically
    Fth = (phi.T * Cs * phi / 2 + _sym([c]) * phi)[0]
    point = dict(zip(t, [sympy.Rational(x.numerator, x.denominator) for x in theta]))
    want = [sympy.diff(Fth, ti).subs(point) for ti in t]
    got = RI.quadratic_meta_gradient(A, b, theta, lam, RI.quadratic_gradient(C, c))
    assert [F(str(w)) for w in want] == list(got)
    J = RI.implicit_jacobian(A, lam)  # Lemma 1: J (I + A/lam) = I exactly
    assert (J @ (np.eye(d, dtype=int).astype(object) + A / lam) == np.eye(d, dtype=int)).all()


@settings(max_examples=12)
@given(quadratic_tasks(max_d=2), st.integers(0, 3), st.fractions(F(1, 8), F(1, 2), max_denominator=8))
def test_maml_regularized_equals_sympy_derivative_of_the_unrolled_loop(task, K, alpha):
    A, b, C, c, theta, lam = task
    d = len(b)
    t = sympy.Matrix(sympy.symbols(f"t0:{d}"))
    As, a_s = _sym(A), sympy.Rational(alpha.numerator, alpha.denominator)
    lam_s = sympy.Rational(lam.numerator, lam.denominator)
    phi = t
    for _ in range(K):  # phi <- phi - alpha grad_phi G(phi, theta)
        phi = phi - a_s * (As * phi + _sym([b]).T + lam_s * (phi - t))
    Fth = (phi.T * _sym(C) * phi / 2 + _sym([c]) * phi)[0]
    point = dict(zip(t, [sympy.Rational(x.numerator, x.denominator) for x in theta]))
    want = [F(str(sympy.diff(Fth, ti).subs(point))) for ti in t]
    assert want == list(RI.maml_regularized(A, b, theta, lam, alpha, K, RI.quadratic_gradient(C, c)))


def test_nesterov_is_exact_and_converges_and_refuses_irrational_momentum():
    Q, q = fr([[2, 1], [1, 3]]), fr([1, -1])
    x_star = np.linalg.solve(np.array(Q, dtype=float), np.array(q, dtype=float))
    eig = np.linalg.eigvalsh(np.array(Q, dtype=float))
    y = RI.nesterov(Q, q, 4, 1, 60)  # kappa = 4 bounds the spectrum [1.38, 3.62]
    assert all(isinstance(v, F) for v in y) and eig.min() >= 1 and eig.max() <= 4
    assert np.allclose(y.astype(float), x_star, rtol=1e-12, atol=0)
    assert list(RI.nesterov(Q, q, 4, 1, 0)) == [0, 0]
    assert list(RI.nesterov(fr([[2]]), fr([3]), 2, 2, 1)) == [F(3, 2)]  # kappa = 1: one exact step
    with pytest.raises(ref.ReferenceInputError, match="kappa = beta/mu = 2 is not the square"):
        RI.nesterov(Q, q, 2, 1, 3)


def test_references_refuse_bad_input_with_one_line_messages():
    for call, needle in [
        (lambda: RI.inner_solution([[-2]], [0], [0], 1), "A \\+ lam I is not positive definite"),
        (lambda: RI.inner_solution([[1, 2], [0, 1]], [0, 0], [0, 0], 1), "not exactly symmetric"),
        (lambda: RI.inner_solution([[1]], [0, 1], [0], 1), "b: has length 2"),
        (lambda: RI.implicit_jacobian([[1]], 0), "lam = 0"),
        (lambda: RI.inner_solution([[float("nan")]], [0], [0], 1), "not finite"),
        (lambda: RI.maml_regularized([[1]], [0], [0], 1, F(1, 2), -1, lambda p: p), "K >= 0"),
    ]:
        with pytest.raises(ref.ReferenceInputError, match=needle) as info:
            call()
        assert "\n" not in str(info.value)


def test_cg_residuals_are_the_true_residuals_and_vanish_at_d_steps():
    H, g, lam = fr([[1, 1, 0], [1, 2, 1], [0, 1, 3]]), fr([1, 0, -1]), F(2)
    residuals = RI.cg_residuals(H, g, lam, 3, x0="g")
    A = np.eye(3, dtype=int).astype(object) + H / lam
    assert list(residuals[0]) == list(g - A @ g) and all(x == 0 for x in residuals[3])


# -- the estimators against the exact references ------------------------------------------------


def spd_hessian(seed: int, d: int, lam: float, low: float = 0.2):
    """A symmetric indefinite H with spectrum of I + H/lam in [low, 3], and g (float64)."""
    rng = np.random.default_rng(seed)
    Qm, _ = np.linalg.qr(rng.normal(size=(d, d)))
    spectrum = np.concatenate([[low, 3.0], rng.uniform(low, 3.0, size=d)])[:d]
    H = lam * ((Qm * (spectrum - 1)) @ Qm.T)
    return (H + H.T) / 2, rng.normal(size=d)


def rel(a, b) -> float:
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def trajectory(H, g):
    return Trajectory.from_hessians(H[None], g, 0.1, H_final=H)


@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_imaml_exact_equals_the_exact_implicit_meta_gradient(seed, d):
    H, g = spd_hessian(seed, d, 1.5)
    exact = ref.imaml_exact(fr([[F(x) for x in row] for row in H]), fr([F(x) for x in g]), F(3, 2))
    assert rel(imaml_exact(trajectory(H, g), 1.5), exact.astype(float)) < RTOL * 10  # cond <= 15


def test_imaml_exact_on_a_linear_model_equals_the_fraction_closed_form():
    """Linear regression with the MSE loss: the training Hessian A = 2 X^T X / n, computed in
    Fractions from the data (floats converted exactly); g from the trajectory."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1, bias=False).double()
    xs, ys = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 1, dtype=torch.float64)
    xq, yq = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 1, dtype=torch.float64)
    traj = Trajectory.from_model(model, torch.nn.functional.mse_loss, (xs, ys), (xq, yq), 2, 0.05, hvp="reverse")
    X = RI.exact_array(xs.numpy().tolist(), "X", 2)
    A = 2 * X.T @ X / 8
    lam = F(1, 2)
    exact = ref.imaml_exact(A, RI.exact_array(traj.g.numpy().tolist(), "g", 1), lam)
    assert rel(imaml_exact(traj, 0.5), exact.astype(float)) < RTOL
    result = imaml_cg(traj, 0.5, 3, mu=0.5 * float(np.linalg.eigvalsh(np.array(A, dtype=float)).min() / 0.5 + 0.5))
    assert rel(result.x, exact.astype(float)) < 1e-10


@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.data())
def test_imaml_cg_iterates_and_residual_history_equal_the_exact_cg(seed, d, data):
    lam = 2.0
    H, g = spd_hessian(seed, d, lam)
    steps = data.draw(st.integers(1, d), label="steps")
    x0 = data.draw(st.sampled_from(["g", "zero"]), label="x0")
    Hq = fr([[F(x) for x in row] for row in H])
    gq = fr([F(x) for x in g])
    result = imaml_cg(trajectory(H, g), lam, steps, x0=x0)
    scale = 15 * np.linalg.norm(g)  # cond(I + H/lam) <= 15
    assert result.iterations == steps and len(result.residual_norms) == steps + 1
    assert np.linalg.norm(result.x.numpy() - ref.imaml_cg(Hq, gq, F(2), steps, x0=x0).astype(float)) <= RTOL * 15 * scale
    exact_norms = [math.sqrt(float(sum(x * x for x in r))) for r in RI.cg_residuals(Hq, gq, F(2), steps, x0)]
    assert np.allclose(result.residual_norms, exact_norms, rtol=0, atol=RTOL * 15 * scale)
    spectrum = np.linalg.eigvalsh(np.eye(d) + H / lam)
    assert all(spectrum.min() * (1 - 1e-12) <= c <= spectrum.max() * (1 + 1e-12) for c in result.curvatures)


def test_imaml_cg_error_bound_and_stopping():
    lam = 2.0
    H, g = spd_hessian(5, 6, lam)
    mu = lam * 0.2  # lam I + H >= mu I: the spectrum of I + H/lam starts at 0.2
    exact = np.linalg.solve(np.eye(6) + H / lam, g)
    for steps in range(7):
        r = imaml_cg(trajectory(H, g), lam, steps, mu=mu)
        assert isinstance(r, CGResult) and r.nonpositive_curvature is None
        assert np.linalg.norm(r.x.numpy() - exact) <= r.error_bound * (1 + 1e-12)
    r = imaml_cg(trajectory(H, g), lam, 50, rtol=1e-8)
    assert r.converged and r.residual_norms[-1] <= 1e-8 * np.linalg.norm(g) < r.residual_norms[-2]
    assert r.iterations == len(r.residual_norms) - 1 < 50
    assert not imaml_cg(trajectory(H, g), lam, 2).converged
    # x0 = g, 0 steps: first-order MAML (iMAML Appendix A)
    assert torch.equal(imaml_cg(trajectory(H, g), lam, 0).x, fo(trajectory(H, g)))


def test_nonpositive_curvature_is_detected():
    H = np.diag([-4.0, 2.0])  # I + H/2 = diag(-1, 2): indefinite
    g = np.array([1.0, 0.1])  # g.Ag = -1 + 0.02 < 0: the first direction has negative curvature
    traj = trajectory(H, g)
    with pytest.raises(EstimatorInputError, match=r"non-positive curvature p.Ap/p.p = -0.97 at step 0"):
        imaml_cg(traj, 2.0, 3, x0="zero")
    with pytest.raises(EstimatorInputError, match="non-positive curvature"):
        imaml(traj, 2.0, 3, x0="zero")  # was only refused at p.Ap = 0 exactly
    r = imaml_cg(traj, 2.0, 3, x0="zero", on_nonpositive="stop")
    assert r.nonpositive_curvature == 0 and r.iterations == 0 and not r.converged and r.error_bound is None
    assert r.curvatures[0] == pytest.approx(-0.98 / 1.01, rel=1e-14)
    with pytest.raises(EstimatorInputError, match="Cholesky failed"):
        imaml_exact(traj, 2.0)


def test_a_wrong_mu_is_contradicted_by_the_curvature():
    H, g = spd_hessian(3, 4, 1.0, low=0.2)
    with pytest.raises(EstimatorInputError, match="mu=0.9 is contradicted at CG step"):
        imaml_cg(trajectory(H, g), 1.0, 4, mu=0.9)  # true strong convexity: 0.2


@pytest.mark.parametrize("kwargs,needle", [
    ({"steps": 0, "x0": "zero"}, "steps=0 is out of range: need 1 <= steps"),
    ({"rtol": -1.0}, "rtol=-1.0"), ({"mu": 0.0}, "mu=0.0"), ({"on_nonpositive": "skip"}, "on_nonpositive='skip'"),
    ({"x0": "ones"}, "x0='ones'"), ({"lam": -1.0}, "lam=-1.0"),
])
def test_imaml_cg_arguments_are_checked(kwargs, needle):
    H, g = spd_hessian(1, 2, 1.0)
    args = {"lam": 1.0, "steps": 2, **kwargs}
    with pytest.raises(EstimatorInputError, match=needle) as info:
        imaml_cg(trajectory(H, g), args.pop("lam"), args.pop("steps"), **args)
    assert "\n" not in str(info.value)


def test_float32_and_overflow():
    H, g = spd_hessian(2, 4, 1.0)
    t32 = Trajectory.from_hessians(torch.tensor(H[None], dtype=torch.float32), torch.tensor(g, dtype=torch.float32),
                                   0.1, H_final=torch.tensor(H, dtype=torch.float32))
    exact = np.linalg.solve(np.eye(4) + H, g)
    assert imaml_exact(t32, 1.0).dtype == torch.float32 and rel(imaml_exact(t32, 1.0), exact) < 1e-5
    assert rel(imaml_cg(t32, 1.0, 4, mu=0.2).x, exact) < 1e-5
    big = Trajectory.from_hessians(np.zeros((1, 2, 2)), np.array([1e300, 1e300]), 0.1, H_final=np.eye(2) * 1e300)
    with pytest.raises(EstimatorInputError, match="not finite"):
        imaml_cg(big, 1e-300, 2)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: GPU estimators not tested")
def test_implicit_estimators_on_cuda():
    H, g = spd_hessian(4, 5, 1.0)
    t = Trajectory.from_hessians(torch.tensor(H[None]).cuda(), torch.tensor(g).cuda(), 0.1, H_final=torch.tensor(H).cuda())
    exact = np.linalg.solve(np.eye(5) + H, g)
    assert rel(imaml_exact(t, 1.0).cpu(), exact) < 1e-12
    assert rel(imaml_cg(t, 1.0, 5, mu=0.2).x.cpu(), exact) < 1e-10


# -- implicit-gradient claims for check_estimator (issue 10, item 5) ----------------------------


def test_implicit_claims_accept_the_toolkit_estimators_and_catch_wrong_ones():
    assert V.check_implicit_estimator(imaml_exact, claim="imaml.exact", examples=15)["imaml.exact"]["examples"] == 15
    cg = lambda traj, lam, steps: imaml_cg(traj, lam, steps).x
    for steps in (0, 1, 2):
        assert V.check_implicit_estimator(cg, claim="imaml.cg", steps=steps, examples=10)
    with pytest.raises(AssertionError, match="estimator violates imaml.exact"):
        V.check_implicit_estimator(lambda traj, lam: traj.g, claim="imaml.exact", examples=10)
    with pytest.raises(AssertionError, match="estimator violates imaml.cg"):  # claims 2 steps, takes 1
        V.check_implicit_estimator(lambda traj, lam, steps: imaml_cg(traj, lam, 1).x, claim="imaml.cg",
                                   steps=2, examples=30)
    with pytest.raises(ValueError, match="claim='imaml.fast'"):
        V.implicit_claim_error("imaml.fast", [0.0], [[1.0]], [1.0], 1.0)
