"""Constants of a real trajectory (verify.spectra: Lanczos on the HVPs) against dense eigenvalues,
and ``diagnose`` / ``binomgbml diagnose``: bounds with those constants next to the actual errors,
the errors checked against the dense reference."""

import json
import math
import textwrap

import numpy as np
import pytest
import torch
from dense_unroll import dense_unroll

import binomgbml
import estimators
from estimators import reference as ref
from verify import spectra
from verify.diagnose import actual_errors, diagnose

ALPHA = 0.1
K = 3


def _tanh_loss(phi, data):
    """The 3-12-1 tanh MLP's MSE on a flat parameter vector, written out by hand."""
    x, y = data
    W1, b1, W2, b2 = torch.split(phi, [36, 12, 12, 1])
    return torch.mean((torch.tanh(x @ W1.reshape(12, 3).T + b1) @ W2.reshape(1, 12).T + b2 - y) ** 2)


def _linear_loss(phi, data):
    x, y = data
    n_in = x.shape[1]
    return torch.mean((x @ phi[:n_in].reshape(1, n_in).T + phi[n_in] - y) ** 2)


def _mse(out, target):
    return torch.mean((out - target) ** 2)


def _dense(loss, model, support, query, alpha=ALPHA, steps=K):
    """Dense H^0..H^{K-1} and g, independent of Trajectory and its HVPs."""
    return dense_unroll(loss, model, support, query, alpha, steps)


def _data(n, n_in, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=gen, dtype=torch.float64)
    return x, torch.randn(n, 1, generator=gen, dtype=torch.float64)


@pytest.fixture(scope="module")
def tanh_task():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 12), torch.nn.Tanh(), torch.nn.Linear(12, 1)).double()
    support, query = _data(20, 3, 1), _data(20, 3, 2)
    traj = estimators.Trajectory.from_model(model, _mse, support, query, K, ALPHA, hvp="loop")
    return traj, *_dense(_tanh_loss, model, support, query)


@pytest.fixture(scope="module")
def tanh_spectra(tanh_task):
    return spectra.step_spectra(tanh_task[0], seed=5)


def _linear_task(n, n_in, seed=3):
    torch.manual_seed(seed)
    model = torch.nn.Linear(n_in, 1).double()
    support, query = _data(n, n_in, seed + 1), _data(n, n_in, seed + 2)
    traj = estimators.Trajectory.from_model(model, _mse, support, query, K, ALPHA, hvp="loop")
    return traj, *_dense(_linear_loss, model, support, query)


def test_lanczos_extremes_equal_dense_eigenvalues_on_a_small_model(tanh_task, tanh_spectra):
    traj, H, _ = tanh_task
    assert traj.d == 61 and traj.d >= spectra.DENSE_BELOW  # the Lanczos path, not the dense one
    s = tanh_spectra
    scale = max(np.abs(np.linalg.eigvalsh(h)).max() for h in H)
    for k, h in enumerate(H):
        w = np.linalg.eigvalsh(h)
        assert w[0] < 0 < w[-1]  # indefinite: both ends are non-trivial
        assert s.lam_min[k].value == pytest.approx(w[0], abs=1e-10 * scale)
        assert s.lam_max[k].value == pytest.approx(w[-1], abs=1e-10 * scale)
        for ritz in (s.lam_min[k], s.lam_max[k]):  # ARPACK's stopping rule, and the certificate
            assert ritz.residual <= 2 * spectra.TOL * abs(ritz.value)
            assert np.abs(w - ritz.value).min() <= ritz.residual + 1e-13 * scale
    assert s.H == pytest.approx(scale, rel=1e-10)
    assert spectra.spectral_norm(traj, seed=1) == pytest.approx(scale, rel=1e-10)
    assert not s.convex and s.h(1) is None


def test_lanczos_on_explicit_hessians_with_a_known_spectrum():
    rng = np.random.default_rng(0)
    d = 30
    Q = np.linalg.qr(rng.standard_normal((3, d, d)))[0]
    lam = np.array([np.linspace(0.5, 2.0, d), np.linspace(-3.0, 1.0, d), np.linspace(0.1, 4.0, d)])
    H = np.einsum("kij,kj,klj->kil", Q, lam, Q)
    traj = estimators.Trajectory.from_hessians(H, rng.standard_normal(d), 0.2)
    s = spectra.step_spectra(traj)
    np.testing.assert_allclose([r.value for r in s.lam_min], [0.5, -3.0, 0.1], rtol=1e-12)
    np.testing.assert_allclose([r.value for r in s.lam_max], [2.0, 1.0, 4.0], rtol=1e-12)
    assert s.H == pytest.approx(4.0, rel=1e-12) and not s.convex
    assert s.h(1) == pytest.approx(0.1, rel=1e-12)  # the last step is positive definite
    assert spectra.extreme_eigenvalue(traj, "SA", [0, 2]).value == pytest.approx(0.1, rel=1e-12)
    assert spectra.extreme_eigenvalue(traj, "LA", [0, 1]).value == pytest.approx(2.0, rel=1e-12)


def test_convex_and_rank_deficient_models():
    traj, H, _ = _linear_task(n=40, n_in=9)  # full rank: Assumption 3.9 holds for every M
    s = spectra.step_spectra(traj)
    w = np.linalg.eigvalsh(H[0])
    assert s.convex and s.h(K) == pytest.approx(w[0], rel=1e-9)
    traj, H, _ = _linear_task(n=4, n_in=12)  # 4 points, 13 parameters: Hessian of rank <= 4
    s = spectra.step_spectra(traj)
    assert abs(np.linalg.eigvalsh(H[0])[0]) < 1e-12
    assert s.convex and s.h(1) is None  # lambda_min = 0 (to round-off): convex, not strongly


def test_dense_path_for_tiny_operators_and_bad_steps():
    H = np.array([[[2.0, 1.0], [1.0, -1.0]]])
    traj = estimators.Trajectory.from_hessians(H, np.ones(2), 0.1)
    w = np.linalg.eigvalsh(H[0])
    assert spectra.extreme_eigenvalue(traj, "SA").value == pytest.approx(w[0], rel=1e-14)
    assert spectra.spectral_norm(traj) == pytest.approx(np.abs(w).max(), rel=1e-14)
    with pytest.raises(ValueError, match="steps"):
        spectra.extreme_eigenvalue(traj, "LA", [1])
    with pytest.raises(ValueError, match="which"):
        spectra.extreme_eigenvalue(traj, "BE")


def test_actual_errors_equal_the_dense_reference(tanh_task):
    traj, H, g = tanh_task
    errors = actual_errors(traj)
    exact = ref.meta_gradient(H, g, ALPHA)
    scale = np.linalg.norm(exact)
    for L in range(K + 1):
        expected = {"fo": np.linalg.norm(exact - g),
                    "trunc": np.linalg.norm(exact - ref.truncated(H, g, ALPHA, L)),
                    "binom": np.linalg.norm(exact - ref.expansion_dp(H, g, ALPHA, L))}
        for name, value in expected.items():
            assert errors[name][L] == pytest.approx(value, abs=1e-12 * scale)


def test_diagnose_on_a_non_convex_model(tanh_task, tanh_spectra):
    traj, H, g = tanh_task
    diag = diagnose(traj, spectra=tanh_spectra)
    x = ALPHA * max(np.abs(np.linalg.eigvalsh(h)).max() for h in H)
    assert diag.assumptions == {"3.5": True, "3.7": False, "3.9": False}
    assert {r["theorem"] for r in diag.rows} == {"3.6"}
    assert {s["theorem"] for s in diag.skipped} == {"3.8", "3.10"}
    assert "Assumption 3.7 fails" in diag.skipped[0]["reason"]
    g_norm = np.linalg.norm(g)
    for r in diag.rows:  # Theorem 3.6 with H measured on this trajectory: (11a)-(11c)
        L = r["L"]
        expected = {"fo": (1 + x) ** K - 1, "trunc": (1 + x) ** K - (1 + x) ** L,
                    "binom": sum(math.comb(K, l) * x ** l for l in range(L + 1, K + 1))}[r["estimator"]]
        assert r["bound"] == pytest.approx(expected * g_norm, rel=1e-9, abs=1e-15)
        assert r["error"] <= r["bound"] * (1 + 1e-9) + 1e-15
    data = json.loads(json.dumps(diag.to_json()))
    assert data["H"] == pytest.approx(diag.H) and len(data["spectra"]["lambda_min"]) == K


def test_diagnose_on_a_convex_model_evaluates_theorems_3_8_and_3_10():
    traj, H, g = _linear_task(n=40, n_in=9)
    diag = diagnose(traj, M=1, variant="all")
    assert diag.assumptions == {"3.5": True, "3.7": True, "3.9": True}
    by = {(r["theorem"], r["variant"], r["estimator"], r["L"]): r for r in diag.rows}
    assert ("3.8", "corrected", "fo", 0) in by and ("3.8", "corrected", "binom", 0) not in by
    assert {L for (t, _, _, L) in by if t == "3.10"} == {1, 2}  # 1 <= M <= min(L, K-L), K = 3
    x = ALPHA * np.linalg.eigvalsh(H[0])[-1]
    assert by["3.8", "printed", "fo", 0]["bound"] == pytest.approx((1 - (1 - x) ** K) * np.linalg.norm(g),
                                                                    rel=1e-9)
    # a constant Hessian commutes with itself: every variant, printed ones included, holds here
    for r in diag.rows:
        assert r["error"] <= r["bound"] * (1 + 1e-9) + 1e-15, r


def _factory_module(tmp_path, body):
    (tmp_path / "mytask.py").write_text(textwrap.dedent(body))


def test_cli_diagnose_table_and_json(tmp_path, monkeypatch, capsys):
    _factory_module(tmp_path, """
        import torch

        def make():
            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
            gen = torch.Generator().manual_seed(1)
            x = torch.randn(16, 2, generator=gen, dtype=torch.float64)
            y = torch.sin(x.sum(1, keepdim=True))
            return model, lambda out, t: torch.mean((out - t) ** 2), (x, y), (x, y)

        def bad():
            return "not a task"
        """)
    monkeypatch.chdir(tmp_path)
    assert binomgbml.main(["diagnose", "mytask:make", "--K", "3", "--alpha", "0.1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["factory"] == "mytask:make" and data["K"] == 3 and data["d"] == 33
    assert {"H", "h", "assumptions", "spectra", "rows", "not_applicable", "lanczos_residual"} <= set(data)
    assert all(set(r) == {"theorem", "variant", "estimator", "L", "bound", "error", "ratio"} for r in data["rows"])
    assert binomgbml.main(["diagnose", "mytask:make", "--K", "3", "--alpha", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "per-step Hessian spectra by Lanczos" in out and "theorem  variant" in out
    assert binomgbml.main(["diagnose", "mytask:bad"]) == 2
    err = capsys.readouterr().err
    assert "expected (model, loss, support, query)" in err and len(err.strip().splitlines()) == 1
    assert binomgbml.main(["diagnose", "nomodule:make"]) == 2
    assert "factory 'nomodule:make': cannot import" in capsys.readouterr().err
    assert binomgbml.main(["diagnose", "mytask:make", "--K", "2", "--M", "3"]) == 2
    assert "--M" in capsys.readouterr().err


def test_the_note_tells_rounding_from_an_error_above_the_bound():
    from verify.tightness_cli import _diagnose_note as _note

    assert _note(4e-16, 0.0, 1e-12) == "above bound by float64 rounding only"
    assert _note(2e-12, 0.0, 1e-12) == "error above bound"
    assert _note(1.5, 1.0, 1e-12) == "error above bound"
    assert _note(0.5, 1.0, 1e-12) == "" and _note(0.0, 0.0, 1e-12) == ""
