"""Estimators on explicit Hessians against the dense reference and exact arithmetic.

Yardsticks: estimators/reference.py (independent NumPy / Fraction code: explicit subset sums,
direct products, LAPACK solves) and, where the inputs are dyadic rationals that float64 holds
exactly, the exact-rational reference compared with ==.

Tolerance: float64 results agree to 1e-12 relative to the scale prod_k (1 + alpha ||H^k||) ||g||,
which bounds the sum of the norms of every term of the expansion (so cancellation in the result
cannot make a correct answer look wrong, nor hide a wrong one of that size).
"""

from fractions import Fraction
from math import ceil

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import estimators
from estimators import (
    EstimatorInputError,
    Trajectory,
    binom,
    fo,
    hybrid,
    imaml,
    maml,
    trunc,
)
from estimators import reference as ref

RTOL = 1e-12


def random_hessians(seed: int, K: int, d: int, scale: float = 1.0):
    """Symmetric, indefinite, (generically) non-commuting Hessians and a vector g, float64."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(K, d, d)) * scale
    H = (A + A.transpose(0, 2, 1)) / 2
    g = rng.normal(size=d)
    return H, g


def scale_of(H, g, alpha):
    return np.prod([1 + alpha * np.linalg.norm(h, 2) for h in H]) * np.linalg.norm(g)


def assert_close(est: torch.Tensor, expected, H, g, alpha):
    expected = np.asarray(expected, dtype=np.float64)
    err = np.linalg.norm(est.numpy() - expected)
    assert err <= RTOL * scale_of(H, g, alpha), (err, scale_of(H, g, alpha))


trajectories = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 4),
                         st.sampled_from([0.05, 0.3, 1.0, 2.5]))


# -- every estimator equals the reference ---------------------------------------------------------

@given(trajectories, st.data())
def test_binom_equals_eq8_by_subset_enumeration(params, data):
    seed, K, d, alpha = params
    L = data.draw(st.integers(0, K), label="L")
    H, g = random_hessians(seed, K, d)
    est = binom(Trajectory.from_hessians(H, g, alpha), L)
    assert est.dtype == torch.float64 and est.shape == (d,)
    assert_close(est, ref.truncated_expansion(H, g, alpha, L), H, g, alpha)


@given(trajectories, st.data())
def test_binom_chunked_equals_unchunked(params, data):
    seed, K, d, alpha = params
    L = data.draw(st.integers(0, K), label="L")
    chunk = data.draw(st.integers(1, K + 1), label="chunk_size")
    H, g = random_hessians(seed, K, d)
    traj = Trajectory.from_hessians(H, g, alpha)
    assert_close(binom(traj, L, chunk_size=chunk), ref.truncated_expansion(H, g, alpha, L), H, g, alpha)


@given(trajectories, st.data())
def test_points_schedule_equals_eq8_and_eq39(params, data):
    """The cascade swept over the points (one call per point) gives eq. (8) and eq. (39) too."""
    seed, K, d, alpha = params
    C = data.draw(st.integers(0, K), label="C")
    L = data.draw(st.integers(0, C), label="L")
    chunk = data.draw(st.one_of(st.none(), st.integers(1, K + 1)), label="chunk_size")
    H, g = random_hessians(seed, K, d)
    traj = Trajectory.from_hessians(H, g, alpha)
    est = binom(traj, L, schedule="points", chunk_size=chunk)
    assert_close(est, ref.truncated_expansion(H, g, alpha, L), H, g, alpha)
    est = hybrid(traj, L, C, schedule="points", chunk_size=chunk)
    assert_close(est, ref.hybrid(H, g, alpha, L, C), H, g, alpha)


@given(trajectories, st.data())
def test_binom_rescaled_uses_alpha_prime(params, data):
    """Appendix C.2: alpha' = L alpha / K replaces alpha in eq. (8)."""
    seed, K, d, alpha = params
    L = data.draw(st.integers(0, K), label="L")
    H, g = random_hessians(seed, K, d)
    est = binom(Trajectory.from_hessians(H, g, alpha), L, rescale=True)
    alpha_prime = L * alpha / K
    assert_close(est, ref.truncated_expansion(H, g, alpha_prime, L), H, g, alpha_prime)


@given(trajectories, st.data())
def test_trunc_and_maml_equal_products(params, data):
    seed, K, d, alpha = params
    L = data.draw(st.integers(0, K), label="L")
    H, g = random_hessians(seed, K, d)
    traj = Trajectory.from_hessians(H, g, alpha)
    assert_close(trunc(traj, L), ref.truncated(H, g, alpha, L), H, g, alpha)
    assert_close(maml(traj), ref.meta_gradient(H, g, alpha), H, g, alpha)
    assert np.array_equal(fo(traj).numpy(), ref.first_order(g))


@given(trajectories, st.data())
def test_hybrid_equals_eq39(params, data):
    seed, K, d, alpha = params
    C = data.draw(st.integers(0, K), label="C")
    L = data.draw(st.integers(0, C), label="L")
    H, g = random_hessians(seed, K, d)
    traj = Trajectory.from_hessians(H, g, alpha)
    est = hybrid(traj, L, C)
    assert_close(est, ref.hybrid(H, g, alpha, L, C), H, g, alpha)
    # Appendix D.1's reductions: C = K is eq. (8), L = C is TruncMAML (eq. (5))
    assert_close(hybrid(traj, L, K), ref.truncated_expansion(H, g, alpha, L), H, g, alpha)
    assert_close(hybrid(traj, C, C), trunc(traj, C).numpy(), H, g, alpha)


@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.data())
def test_imaml_equals_reference_cg_and_converges_to_the_solve(seed, d, data):
    steps = data.draw(st.integers(0, d), label="steps")
    x0 = data.draw(st.sampled_from(["g", "zero"]), label="x0")
    H, g = random_hessians(seed, 2, d)
    H_K = H[1] @ H[1].T  # positive semidefinite, so I + H_K/lam is positive definite
    lam = 1.5
    traj = Trajectory.from_hessians(H[:1], g, 0.1, H_final=H_K)
    cond_scale = (1 + np.linalg.norm(H_K, 2) / lam) * np.linalg.norm(g)
    est = imaml(traj, lam, steps, x0=x0)
    expected = ref.imaml_cg(H_K, g, lam, steps, x0=x0)
    # CG divides by small inner products: allow the float64 error of a solve of this conditioning
    cond = np.linalg.cond(np.eye(d) + H_K / lam)
    assert np.linalg.norm(est.numpy() - expected) <= 1e-12 * cond * cond_scale
    full = imaml(traj, lam, 4 * d, x0=x0)
    exact = ref.imaml_exact(H_K, g, lam)
    assert np.linalg.norm(full.numpy() - exact) <= 1e-10 * cond * np.linalg.norm(exact)


def test_imaml_zero_steps_from_g_is_first_order_and_one_step_from_zero_is_a_line_search():
    H, g = random_hessians(7, 2, 3)
    H_K = H[1] @ H[1].T
    traj = Trajectory.from_hessians(H[:1], g, 0.1, H_final=H_K)
    assert torch.equal(imaml(traj, 2.0, 0, x0="g"), torch.as_tensor(g))
    A = np.eye(3) + H_K / 2.0
    one_step = (g @ g) / (g @ A @ g) * g  # exact minimiser of the CG quadratic along g
    assert np.allclose(imaml(traj, 2.0, 1, x0="zero").numpy(), one_step, rtol=1e-14, atol=0)


# -- identities the paper states, checked on the estimators themselves ---------------------------

@given(trajectories)
def test_binom_at_the_ends_is_fo_and_maml(params):
    """Remark 3.4: L = 0 is FOMAML (exactly), L = K is MAML."""
    seed, K, d, alpha = params
    H, g = random_hessians(seed, K, d)
    traj = Trajectory.from_hessians(H, g, alpha)
    assert torch.equal(binom(traj, 0), fo(traj))
    assert_close(binom(traj, K), maml(traj).numpy(), H, g, alpha)
    assert_close(hybrid(traj, K, K), maml(traj).numpy(), H, g, alpha)


def test_generated_hessians_do_not_commute_and_are_indefinite():
    H, _ = random_hessians(0, 3, 4)
    assert np.linalg.norm(H[0] @ H[1] - H[1] @ H[0]) > 0.1
    eig = np.linalg.eigvalsh(H[0])
    assert eig.min() < 0 < eig.max()


def test_binom_in_float64_is_exact_on_dyadic_inputs():
    """Quarter-integer H, alpha = 1/2, integer g: every partial sum is a dyadic rational that
    float64 holds exactly, so the estimator must equal the exact-rational reference exactly."""
    rng = np.random.default_rng(3)
    K, d = 5, 3
    A = rng.integers(-4, 5, size=(K, d, d))
    H_int = A + A.transpose(0, 2, 1)                      # symmetric integer matrices
    H_frac = [[[Fraction(int(x), 4) for x in row] for row in mat] for mat in H_int]
    g_int = rng.integers(-3, 4, size=d)
    H_float = H_int / 4.0
    traj = Trajectory.from_hessians(H_float, g_int.astype(np.float64), 0.5)
    for L in range(K + 1):
        exact = ref.truncated_expansion(H_frac, [Fraction(int(x)) for x in g_int], Fraction(1, 2), L)
        assert [Fraction(float(x)) for x in binom(traj, L)] == list(exact)
        assert [Fraction(float(x)) for x in binom(traj, L, schedule="points")] == list(exact)
    exact = ref.meta_gradient(H_frac, [Fraction(int(x)) for x in g_int], Fraction(1, 2))
    assert [Fraction(float(x)) for x in maml(traj)] == list(exact)


# -- the cascade's shape: L stages of K-L+1 parallel HVPs, one batched call per stage ----------

class CountingTrajectory(Trajectory):
    """A Trajectory that records the index batch of every hvp call."""

    calls: list

    def hvp(self, ks, V):
        self.calls.append(torch.as_tensor(ks).tolist())
        return super().hvp(ks, V)


def counting(H, g, alpha):
    traj = Trajectory.from_hessians(H, g, alpha)
    traj.__class__ = CountingTrajectory
    traj.calls = []
    return traj


@pytest.mark.parametrize("K,L", [(5, 1), (5, 2), (5, 4), (5, 5), (7, 3), (1, 1)])
def test_binom_is_L_stages_of_K_minus_L_plus_1_parallel_hvps(K, L):
    H, g = random_hessians(1, K, 2)
    traj = counting(H, g, 0.2)
    binom(traj, L)
    # stage l = 0..L-1 uses the Hessians at phi^{L-l-1} .. phi^{K-l-1} (corrected Algorithm 2)
    assert traj.calls == [list(range(L - l - 1, K - l)) for l in range(L)]


@pytest.mark.parametrize("K,L,start", [(5, 1, 0), (5, 2, 0), (5, 4, 0), (5, 5, 0), (7, 3, 0),
                                       (1, 1, 0), (6, 2, 2)])
def test_points_schedule_is_one_call_per_point_with_at_most_L_rows(K, L, start):
    """k = K-1 down to start, one call per point, all of its rows at phi^k: the levels j with
    max(1, start+L-k) <= j <= min(L, K-k); L(K-start-L+1) HVPs in all, as in the stages."""
    H, g = random_hessians(1, K, 2)
    traj = counting(H, g, 0.2)
    hybrid(traj, L, K - start, schedule="points")
    expected = [[k] * (min(L, K - k) - max(1, start + L - k) + 1) for k in range(K - 1, start - 1, -1)]
    assert traj.calls == expected
    assert sum(map(len, traj.calls)) == L * (K - start - L + 1)


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_binom_chunks_split_each_stage(chunk):
    K, L = 6, 2
    H, g = random_hessians(2, K, 2)
    traj = counting(H, g, 0.2)
    binom(traj, L, chunk_size=chunk)
    width = K - L + 1
    assert len(traj.calls) == L * ceil(width / chunk)
    assert all(len(c) <= chunk for c in traj.calls)


def test_maml_and_trunc_are_sequential_single_hvps():
    H, g = random_hessians(3, 4, 2)
    traj = counting(H, g, 0.2)
    trunc(traj, 3)
    assert traj.calls == [[3], [2], [1]]


# -- dtype and device follow the inputs -----------------------------------------------------------

def test_float32_agrees_with_float64_within_1e_5():
    """float32 tolerance: 1e-5 relative to the expansion scale (a handful of roundings of 6e-8)."""
    H, g = random_hessians(4, 5, 4)
    t64 = Trajectory.from_hessians(H, g, 0.2)
    t32 = Trajectory.from_hessians(H.astype(np.float32), g.astype(np.float32), 0.2)
    for est in (lambda t: binom(t, 2), maml, lambda t: hybrid(t, 1, 3)):
        a, b = est(t32), est(t64)
        assert a.dtype == torch.float32
        assert torch.linalg.norm(a.double() - b) <= 1e-5 * scale_of(H, g, 0.2)


def test_fraction_and_integer_arrays_become_float64():
    H = [[[Fraction(1, 3), Fraction(1)], [Fraction(1), Fraction(-2)]]]
    traj = Trajectory.from_hessians(np.array(H, dtype=object), [1, 2], Fraction(1, 2))
    assert traj.g.dtype == torch.float64 and traj.alpha == 0.5
    assert np.allclose(maml(traj).numpy(), [1 - 0.5 * (1 / 3 + 2), 2 - 0.5 * (1 - 4)], rtol=1e-15)


def test_torch_inputs_keep_their_dtype_and_hvp_is_the_batched_product():
    H, g = random_hessians(5, 3, 3)
    traj = Trajectory.from_hessians(torch.tensor(H), torch.tensor(g), 0.5)
    V = torch.randn(4, 3, dtype=torch.float64)
    out = traj.hvp([2, 0, 0, 1], V)
    for j, k in enumerate([2, 0, 0, 1]):
        assert np.allclose(out[j].numpy(), H[k] @ V[j].numpy(), rtol=1e-15, atol=1e-15)
    g_t = torch.tensor(g)
    assert traj.d == 3 and torch.equal(traj.unflatten(g_t)["theta"], g_t)


# -- validation: clear one-line errors naming the value -------------------------------------------

@pytest.fixture
def traj():
    H, g = random_hessians(6, 4, 3)
    return Trajectory.from_hessians(H, g, 0.1)


@pytest.mark.parametrize("call,needle", [
    (lambda t: binom(t, -1), "L=-1"),
    (lambda t: binom(t, 5), "L=5"),
    (lambda t: binom(t, 1.5), "L=1.5"),
    (lambda t: binom(t, True), "L=True"),
    (lambda t: trunc(t, 9), "L=9"),
    (lambda t: binom(t, 2, chunk_size=0), "chunk_size=0"),
    (lambda t: binom(t, 2, schedule="rows"), "schedule='rows' must be one of stages, points"),
    (lambda t: hybrid(t, 1, 2, schedule="x"), "schedule='x'"),
    (lambda t: hybrid(t, 3, 2), "L=3"),
    (lambda t: hybrid(t, 1, 5), "C=5"),
    (lambda t: imaml(t, 1.0, 2), "H_final"),
    (lambda t: t.hvp([4], torch.zeros(1, 3, dtype=torch.float64)), "ks=[4]"),
    (lambda t: t.hvp([0, 1], torch.zeros(1, 3, dtype=torch.float64)), "V has shape (1, 3)"),
    (lambda t: t.hvp([1.7], torch.zeros(1, 3, dtype=torch.float64)), "ks has dtype torch.float32"),
    (lambda t: t.hvp([[0, 1]], torch.zeros(2, 3, dtype=torch.float64)), "shape (1, 2)"),
    (lambda t: t.hvp([0], torch.zeros(1, 3, dtype=torch.float32)), "V is torch.float32"),
])
def test_estimator_arguments_out_of_range_raise(traj, call, needle):
    with pytest.raises(EstimatorInputError) as info:
        call(traj)
    assert needle in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs,needle", [
    ({"lam": 0.0}, "lam=0.0"), ({"lam": float("nan")}, "lam=nan"), ({"steps": -1}, "steps=-1"),
    ({"x0": "ones"}, "x0='ones'"),
])
def test_imaml_arguments_out_of_range_raise(kwargs, needle):
    H, g = random_hessians(6, 1, 2)
    t = Trajectory.from_hessians(H, g, 0.1, H_final=H[0])
    args = {"lam": 1.0, "steps": 1, **kwargs}
    with pytest.raises(EstimatorInputError) as info:
        imaml(t, args.pop("lam"), args.pop("steps"), **args)
    assert needle in str(info.value)


@pytest.mark.parametrize("H,g,alpha,needle", [
    (np.zeros((2, 3, 4)), np.zeros(3), 0.1, "K x d x d"),
    (np.zeros((0, 3, 3)), np.zeros(3), 0.1, "K (= H.shape[0])=0"),
    (np.zeros((2, 3, 3)), np.zeros(2), 0.1, "g has shape (2,)"),
    (np.zeros((2, 3, 3)), np.zeros(3), 0.0, "alpha=0.0"),
    (np.zeros((2, 3, 3)), np.zeros(3), float("inf"), "alpha=inf"),
    (torch.zeros((2, 3, 3), dtype=torch.int64), np.zeros(3), 0.1, "dtype torch.int64"),
    (np.full((2, 3, 3), np.nan), np.zeros(3), 0.1, "non-finite"),
    (np.zeros((2, 3, 3)), np.zeros(3, dtype=np.float32), 0.1, "one dtype"),
    (np.array([[[Fraction(10**400)]]], dtype=object), np.zeros(1), 0.1, "H cannot be read"),
])
def test_from_hessians_validates(H, g, alpha, needle):
    with pytest.raises(EstimatorInputError) as info:
        Trajectory.from_hessians(H, g, alpha)
    assert needle in str(info.value)


@pytest.mark.parametrize("name,call", [
    ("binom(2)", lambda t: binom(t, 2)), ("binom(2, chunk_size=1)", lambda t: binom(t, 2, chunk_size=1)),
    ("trunc(3)", lambda t: trunc(t, 3)), ("maml()", maml), ("hybrid(1, 2)", lambda t: hybrid(t, 1, 2)),
    ("imaml(1e-300, 3)", lambda t: imaml(t, 1e-300, 3)),
])
def test_overflow_is_an_error_not_inf_or_nan(name, call):
    """Finite inputs whose products overflow float64 (alpha ||H|| = 1e400): an error naming the
    estimator and alpha, never an inf / NaN estimate."""
    H = np.full((3, 2, 2), 1e200)
    traj = Trajectory.from_hessians(H, np.array([1.0, -2.0]), 1e200, H_final=np.eye(2) * 1e300)
    with pytest.raises(EstimatorInputError) as info:
        call(traj)
    message = str(info.value)
    assert message.startswith(name) and "alpha=1e+200" in message and "\n" not in message


def test_public_api_is_exported():
    for name in ["Trajectory", "fo", "trunc", "maml", "binom", "hybrid", "imaml", "maml_autograd",
                 "accumulate_meta_gradient", "EstimatorInputError", "HVP_MODES", "MEMORY_MODES",
                 "SCHEDULES"]:
        assert name in estimators.__all__ and hasattr(estimators, name)
    assert issubclass(EstimatorInputError, ValueError)
