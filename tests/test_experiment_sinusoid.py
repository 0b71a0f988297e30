"""The sinusoid study (Figure 3): its errors checked against dense Hessians built in this file,
its JSON schema, its figures and its command-line errors."""

import csv
import itertools
import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from dense_unroll import dense_unroll
from scipy.sparse.linalg import eigsh

import binomgbml
import estimators
from verify.experiments import sinusoid
from verify.experiments.sinusoid import SinusoidConfig
from verify.spectra import spectral_norm

ALPHA = 0.05  # larger than the paper's 0.01 so that every truncation error is far from round-off
K = 3


def _loss(phi, data):
    """The 1-40-40-1 ReLU MLP's MSE on a flat parameter vector, written out by hand."""
    x, y = data
    W1, b1, W2, b2, W3, b3 = torch.split(phi, [40, 40, 1600, 40, 40, 1])
    h = torch.relu(x @ W1.reshape(40, 1).T + b1)
    h = torch.relu(h @ W2.reshape(40, 40).T + b2)
    return torch.mean((h @ W3.reshape(1, 40).T + b3 - y) ** 2)


@pytest.fixture(scope="module")
def dense_task():
    """One task: the trajectory object and, independently, the dense H^0..H^{K-1} and g."""
    config = SinusoidConfig(batches=1, K=K, alpha=ALPHA, tasks=1, batch_L=K)
    support, query = sinusoid.sample_tasks(sinusoid.batch_generators(0, 0)[0], config)[0]
    model = sinusoid.mlp(0)
    hessians, g = dense_unroll(_loss, model, support, query, ALPHA, K)
    traj = estimators.Trajectory.from_model(model, sinusoid.mse, support, query, K, ALPHA, hvp="loop")
    return traj, hessians, g


def _spectral_norm(h):
    """||h||_2 of a symmetric matrix: its largest |eigenvalue| (ARPACK, dense h)."""
    return float(np.max(np.abs(eigsh(h, k=1, which="LM", tol=1e-14, return_eigenvectors=False))))


def _dense_estimates(H, g, alpha):
    """maml, trunc(L) and binom(L) for L = 0..K from dense matrices (eq. (4), (5), (8))."""
    K, d, _ = H.shape
    step = [np.eye(d) - alpha * H[k] for k in range(K)]
    trunc = []
    for L in range(K + 1):  # P^L g = (I - a H^{K-L}) ... (I - a H^{K-1}) g
        v = g.copy()
        for k in reversed(range(K - L, K)):
            v = step[k] @ v
        trunc.append(v)
    binom = []
    for L in range(K + 1):  # eq. (8): subsets k_1 < ... < k_l, H^{k_1} leftmost
        total = g.copy()
        for l in range(1, L + 1):
            for ks in itertools.combinations(range(K), l):
                v = g.copy()
                for k in reversed(ks):
                    v = -alpha * (H[k] @ v)
                total += v
        binom.append(total)
    return trunc[K], trunc, binom


def test_task_errors_equal_dense_errors(dense_task):
    traj, H, g = dense_task
    maml, trunc, binom = _dense_estimates(H, g, ALPHA)
    errs = sinusoid.task_errors(traj)
    scale = np.linalg.norm(maml)
    for name, dense in (("trunc", trunc), ("binom", binom)):
        expected = [np.linalg.norm(e - maml) for e in dense]
        assert errs[name].shape == (K + 1,)
        np.testing.assert_allclose(errs[name], expected, rtol=0, atol=1e-12 * scale)
    assert errs["g"] == pytest.approx(np.linalg.norm(g), rel=1e-12)
    assert errs["maml"] == pytest.approx(scale, rel=1e-12)
    # the estimators really differ (the comparison above is not vacuous)
    assert min(errs["trunc"][:K]) > 1e-6 * scale and min(errs["binom"][:K]) > 1e-9 * scale


def test_exact_at_L_equals_K_and_fo_at_L_zero(dense_task):
    traj, _, _ = dense_task
    errs = sinusoid.task_errors(traj)
    assert errs["trunc"][K] <= 1e-13 * errs["maml"]
    assert errs["binom"][K] <= 1e-13 * errs["maml"]
    assert errs["trunc"][0] == errs["binom"][0]  # both are g: fo
    assert np.all(np.diff(errs["binom"]) < 0)  # strictly better with every extra order here


def test_spectral_norm_matches_eigh():
    """H of the overlay (Lanczos on the block operator of all steps, verify.spectra) equals
    max_k ||H^k||_2 from eigvalsh on explicit indefinite Hessians with a known spectrum."""
    rng = np.random.default_rng(0)
    d = 12
    Q = np.linalg.qr(rng.standard_normal((3, d, d)))[0]
    spectra = np.array([np.linspace(-1, 1, d) for _ in range(3)])
    spectra[0, 0], spectra[1, -1], spectra[2, 3] = -5.0, 3.0, 2.0  # indefinite, gap 2x or more
    H = np.einsum("kij,kj,klj->kil", Q, spectra, Q)
    traj = estimators.Trajectory.from_hessians(H, rng.standard_normal(d), 0.1)
    exact = np.array([np.max(np.abs(np.linalg.eigvalsh(h))) for h in H])
    np.testing.assert_allclose(exact, [5.0, 3.0, 2.0], rtol=1e-12)
    assert spectral_norm(traj) == pytest.approx(exact.max(), rel=1e-12)
    for k in range(3):
        assert spectral_norm(traj, [k]) == pytest.approx(exact[k], rel=1e-12)


def test_spectral_norm_equals_the_dense_one_on_the_model(dense_task):
    traj, H, _ = dense_task
    exact = max(_spectral_norm(h) for h in H)
    assert spectral_norm(traj, seed=3) == pytest.approx(exact, rel=1e-10)


def test_theorem_3_6_overlay_and_the_bound_holds_on_the_trajectory(dense_task):
    traj, H, g = dense_task
    H_true = max(_spectral_norm(h) for h in H)
    g_norm = float(np.linalg.norm(g))
    overlay = sinusoid.theorem_3_6_overlay(K, ALPHA, H_true, g_norm)
    x = ALPHA * H_true
    trunc = [((1 + x) ** K - (1 + x) ** L) * g_norm for L in range(K + 1)]  # eq. (11b)
    binom = [sum(math.comb(K, l) * x ** l for l in range(L + 1, K + 1)) * g_norm  # eq. (11c)
             for L in range(K + 1)]
    np.testing.assert_allclose(overlay["trunc"], trunc, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(overlay["binom"], binom, rtol=1e-12, atol=1e-15)
    errs = sinusoid.task_errors(traj)
    for name in ("trunc", "binom"):  # Theorem 3.6 with H = max_k ||H^k|| on this trajectory
        assert np.all(errs[name] <= overlay[name] * (1 + 1e-12) + 1e-15)


def test_same_batch_whatever_the_number_of_batches():
    one = sinusoid.run(SinusoidConfig(batches=1, K=2, tasks=2, batch_L=2), progress=False)
    two = sinusoid.run(SinusoidConfig(batches=2, K=2, tasks=2, batch_L=2), progress=False)
    for e in ("trunc", "binom"):
        assert np.array_equal(one.error[e][0], two.error[e][0])
        assert not np.array_equal(two.error[e][0], two.error[e][1])


def test_worker_processes_give_the_same_numbers():
    config = SinusoidConfig(batches=2, K=2, tasks=1, batch_L=2)
    serial = sinusoid.run(config, progress=False, workers=1)
    parallel = sinusoid.run(config, progress=False, workers=2)
    for e in ("trunc", "binom"):
        assert np.array_equal(serial.error[e], parallel.error[e])
        assert np.array_equal(serial.bound[e], parallel.bound[e])
    assert np.array_equal(serial.H, parallel.H)


def test_a_serial_run_uses_one_torch_thread_and_gives_the_count_back(monkeypatch):
    """As each worker process does: on tensors this small more threads only contend (with each
    other and with everything else on the machine)."""
    seen, run_batch = [], sinusoid.run_batch

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return run_batch(*args, **kwargs)

    monkeypatch.setattr(sinusoid, "run_batch", recording)
    threads = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        sinusoid.run(SinusoidConfig(batches=2, K=1, tasks=1, batch_L=1), progress=False, workers=1)
        assert seen == [1, 1] and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("field, value", [("batches", 1.5), ("K", "5"), ("tasks", True),
                                          ("seed", 0.0), ("alpha", "0.01")])
def test_config_rejects_values_of_the_wrong_type(field, value):
    flag = "--" + field.replace("_", "-")
    with pytest.raises(ValueError, match=f"^{flag} {re.escape(repr(value))}: must be"):
        SinusoidConfig(**{field: value})


def _cli(argv, capsys):
    status = binomgbml.main(["experiment", "sinusoid", *argv])
    return status, capsys.readouterr()


def test_cli_json_schema_and_figures(tmp_path, capsys):
    status, out = _cli(["--batches", "2", "--tasks", "3", "--K", "3", "--batch-L", "2", "--json",
                        "--no-progress", "--workers", "1", "--out", str(tmp_path), "--data"], capsys)
    assert status == 0, out.err
    data = json.loads(out.out)
    assert set(data) == {"K", "alpha", "batches", "mean_error", "batch_error"}
    assert (data["K"], data["alpha"], data["batches"]) == (3, 0.01, 2)
    assert set(data["mean_error"]) == {"trunc", "binom"}
    assert set(data["batch_error"]) == {"L", "trunc", "binom"}
    assert data["batch_error"]["L"] == 2
    for e in ("trunc", "binom"):
        mean, batch = data["mean_error"][e], data["batch_error"][e]
        assert len(mean) == 4 and len(batch) == 2
        assert mean[2] == pytest.approx(sum(batch) / 2, rel=1e-12)
        assert mean[3] <= 1e-12 * mean[0]
    assert data["mean_error"]["trunc"][0] == data["mean_error"]["binom"][0]
    for name in ("figure3a", "figure3b"):
        for ext in ("pdf", "svg", "png", "csv"):
            assert (tmp_path / f"{name}.{ext}").stat().st_size > 0
    with open(tmp_path / "figure3b.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["binom"]) for r in rows] == data["mean_error"]["binom"]
    with open(tmp_path / "figure3a.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["trunc"]) for r in rows] == data["batch_error"]["trunc"]


def test_cli_table(capsys):
    status, out = _cli(["--batches", "1", "--K", "1", "--no-progress", "--workers", "1", "--json"],
                       capsys)
    assert status == 0, out.err
    assert json.loads(out.out)["batch_error"]["L"] == 1  # default --batch-L: min(4, K)
    status, out = _cli(["--batches", "1", "--K", "1", "--no-progress", "--workers", "1"], capsys)
    assert status == 0, out.err
    lines = out.out.strip().splitlines()
    assert lines[2].split() == ["L", "trunc", "binom", "trunc/binom"]
    assert [line.split()[0] for line in lines[3:]] == ["0", "1"]


@pytest.mark.parametrize("argv, needle", [
    (["--batches", "0"], "--batches 0"),
    (["--K", "0"], "--K 0"),
    (["--alpha", "-1"], "--alpha -1"),
    (["--alpha", "nan"], "--alpha nan"),
    (["--batch-L", "6"], "--batch-L 6"),
    (["--seed", "-3"], "--seed -3"),
    (["--data"], "--data"),
    (["--preset", "a4"], "--preset 'a4'"),
    (["--batches", "two"], "--batches"),
    (["--workers", "0"], "--workers 0"),
    (["--tasks", "0"], "--tasks 0"),
    (["--seed", str(2 ** 64)], f"--seed {2 ** 64}"),  # was torch's "Overflow when unpacking long long"
    (["--K", "1001"], "--K 1001"),  # was numpy's "Maximum allowed dimension exceeded" for huge K
    (["--out", ""], "--out ''"),  # checked before the run, not after it
])
def test_cli_bad_input_is_one_line_exit_2(argv, needle, capsys):
    status, out = _cli(argv + ["--no-progress"], capsys)
    assert status == 2
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.err


def test_python_m_verify_experiments_reports_bad_input():
    proc = subprocess.run([sys.executable, "-m", "verify.experiments", "sinusoid", "--batches", "x"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--batches" in proc.stderr
