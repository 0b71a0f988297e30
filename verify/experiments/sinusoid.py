"""The sinusoid study of Figure 3 (Section 4.1, Appendix C.1): actual meta-gradient errors.

Tasks are y = A sin(x + phi) with A ~ U[0.1, 5], phi ~ U[0, pi], x ~ U[-5, 5]; each task has 10
support and 10 query points. The model is the 1-40-40-1 ReLU MLP of Finn et al. (2017); K = 5
inner steps of size alpha = 0.01 on the support MSE; the meta-gradient is that of the query MSE.
There is no meta-training: every task and every estimator is evaluated at the same theta.

The error of an estimator at truncation L on task t is the absolute Euclidean distance
``|| est_t(L) - maml_t ||_2`` to the exact meta-gradient P^K g (``estimators.maml``), in the flat
parameter space. A meta-batch's error is the mean of its tasks' errors (Figure 3a); Figure 3b
averages the batch errors over all batches. The paper does not say absolute or relative; we use the
absolute error, the quantity its bounds (Theorem 3.6) bound, and report ||g|| alongside so a reader
can form the relative one.

For the Theorem 3.6 overlay, H (a Lipschitz constant of the training gradient) is measured along
each task's trajectory as max_k ||H^k||_2, by Lanczos on the HVPs (``verify.spectra.spectral_norm``).
Being measured only at the visited points phi^0..phi^{K-1}, it is a lower estimate of the H of
Assumption 3.5; the bounds depend on the Hessians only at those points, so the overlay is the
bound for this trajectory, with H as accurate as Lanczos (docs/tightness.md).
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

import bounds
import estimators
from verify.spectra import spectral_norm

from ..pool import process_pool

__all__ = ["SinusoidConfig", "SinusoidResult", "mlp", "sample_tasks", "task_errors",
           "theorem_3_6_overlay", "batch_generators", "run_batch", "run"]

#: the estimators the study compares with exact MAML
COMPARED = ("trunc", "binom")
#: the largest K accepted (the paper uses K = 5; beyond a few hundred a run takes hours)
MAX_K = 1000


@dataclass(frozen=True)
class SinusoidConfig:
    """Parameters of the study; defaults are the paper's (Appendix C.1) except ``batches``.

    ``hvp`` is the HVP mode of :meth:`estimators.Trajectory.from_model`. It is fixed ("loop", the
    fastest here for this small MLP) rather than "auto", whose timed choice may differ between
    runs and so change the results in the last bits: a seed must give the same numbers.
    """

    batches: int = 100
    K: int = 5
    alpha: float = 0.01
    seed: int = 0
    batch_L: int = 4
    tasks: int = 10
    support: int = 10
    query: int = 10
    hvp: str = "loop"

    def __post_init__(self):
        integers = ("batches", "K", "seed", "batch_L", "tasks", "support", "query")
        for name in integers:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"--{name.replace('_', '-')} {value!r}: must be an integer")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float, np.floating)):
            raise ValueError(f"--alpha {self.alpha!r}: must be a real number")
        checks = [
            ("batches", self.batches >= 1, "must be a positive integer"),
            ("K", 1 <= self.K <= MAX_K, (f"must be an integer in 1..{MAX_K} (every task keeps K "
                                         "points and evaluates both estimators at every L = 0..K)")),
            ("alpha", self.alpha > 0 and math.isfinite(self.alpha), "must be positive and finite"),
            ("seed", 0 <= self.seed < 2 ** 64, "must be an integer in 0..2**64-1 (a torch seed)"),
            ("batch_L", 0 <= self.batch_L <= self.K, f"must be in 0..K = 0..{self.K}"),
            ("tasks", self.tasks >= 1, "must be a positive integer"),
            ("support", self.support >= 1, "must be a positive integer"),
            ("query", self.query >= 1, "must be a positive integer"),
        ]
        for name, ok, condition in checks:
            if not ok:
                flag = "--" + name.replace("_", "-")
                raise ValueError(f"{flag} {getattr(self, name)!r}: {condition}")


@dataclass
class SinusoidResult:
    """Per-batch means over tasks, indexed [batch, L] for L = 0..K."""

    config: SinusoidConfig
    error: dict  # "trunc"/"binom" -> (batches, K+1) array: mean over tasks of ||est - maml||
    bound: dict  # "trunc"/"binom" -> (batches, K+1) array: mean over tasks of Theorem 3.6 bound
    grad_norm: np.ndarray  # (batches,) mean over tasks of ||g||
    maml_norm: np.ndarray  # (batches,) mean over tasks of ||maml||
    H: np.ndarray  # (batches,) mean over tasks of the estimated H
    seconds: float = field(default=0.0)

    def mean_error(self) -> dict:
        """Figure 3b: the batch errors averaged over batches, per estimator, indexed by L."""
        return {e: self.error[e].mean(axis=0).tolist() for e in COMPARED}

    def batch_error(self, L: int | None = None) -> dict:
        """Figure 3a: one value per batch at truncation ``L`` (default ``config.batch_L``)."""
        L = self.config.batch_L if L is None else L
        return {"L": L, **{e: self.error[e][:, L].tolist() for e in COMPARED}}

    def to_json(self) -> dict:
        """The schema of ``binomgbml experiment sinusoid --json``."""
        c = self.config
        return {"K": c.K, "alpha": c.alpha, "batches": c.batches, "mean_error": self.mean_error(),
                "batch_error": self.batch_error()}


def mlp(seed: int, dtype=torch.float64) -> nn.Module:
    """The 1-40-40-1 ReLU network, initialised from ``seed`` alone (U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for weights and biases, PyTorch's default ranges), independent of the global RNG."""
    model = nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1))
    model = model.to(dtype)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                bound = 1 / math.sqrt(layer.in_features)
                for p in (layer.weight, layer.bias):
                    p.copy_(torch.rand(p.shape, generator=gen, dtype=dtype) * 2 * bound - bound)
    return model


def batch_generators(seed: int, batch: int) -> tuple[torch.Generator, torch.Generator]:
    """Two generators (task data, Lanczos start vectors) for meta-batch ``batch`` of run ``seed``.

    Seeded from (seed, batch) alone, so batch b is the same whatever the number of batches.
    """
    states = np.random.SeedSequence([seed, batch]).generate_state(2, dtype=np.uint64)
    data, power = (torch.Generator().manual_seed(int(s)) for s in states)
    return data, power


def sample_tasks(gen: torch.Generator, config: SinusoidConfig, dtype=torch.float64) -> list:
    """One meta-batch: ``config.tasks`` pairs (support, query) of (x, y) tensors of shape (n, 1)."""
    tasks = []
    for _ in range(config.tasks):
        amplitude = 0.1 + 4.9 * torch.rand((), generator=gen, dtype=dtype)
        phase = math.pi * torch.rand((), generator=gen, dtype=dtype)
        pairs = []
        for n in (config.support, config.query):
            x = -5 + 10 * torch.rand((n, 1), generator=gen, dtype=dtype)
            pairs.append((x, amplitude * torch.sin(x + phase)))
        tasks.append(tuple(pairs))
    return tasks


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The mean squared error, the loss of both the inner loop and the meta-objective."""
    return torch.mean((pred - target) ** 2)


def task_errors(traj) -> dict:
    """``{"trunc": e, "binom": e, "g": ||g||, "maml": ||maml||}`` with e[L] = ||est(L) - maml||, L = 0..K."""
    exact = estimators.maml(traj)
    out = {e: np.array([torch.linalg.vector_norm(getattr(estimators, e)(traj, L) - exact).item()
                        for L in range(traj.K + 1)]) for e in COMPARED}
    out["g"] = torch.linalg.vector_norm(traj.g).item()
    out["maml"] = torch.linalg.vector_norm(exact).item()
    return out


def theorem_3_6_overlay(K: int, alpha: float, H: float, g_norm: float) -> dict:
    """eq. (11b) and (11c) times ||g|| for L = 0..K at the estimated H (``bounds.evaluate``)."""
    values = bounds.evaluate(bounds.THEOREMS["3.6"], K, np.arange(K + 1), alpha, H)
    return {e: np.asarray(values[e], dtype=float) * g_norm for e in COMPARED}


def run_batch(config: SinusoidConfig, batch: int, model: nn.Module | None = None) -> dict:
    """Meta-batch ``batch``: task means of the errors (L = 0..K), bounds, ||g||, ||maml||, H."""
    model = mlp(config.seed) if model is None else model
    data_gen, lanczos_gen = batch_generators(config.seed, batch)
    totals: dict[str, Any] = {e: np.zeros(config.K + 1) for e in COMPARED}
    totals |= {f"{e}_bound": np.zeros(config.K + 1) for e in COMPARED}
    totals |= {"g": 0.0, "maml": 0.0, "H": 0.0}
    for support, query in sample_tasks(data_gen, config):
        traj = estimators.Trajectory.from_model(model, mse, support, query, config.K, config.alpha,
                                                hvp=config.hvp)
        errs = task_errors(traj)
        errs["H"] = spectral_norm(traj, seed=int(torch.randint(2 ** 31, (), generator=lanczos_gen)))
        overlay = theorem_3_6_overlay(config.K, config.alpha, errs["H"], errs["g"])
        errs |= {f"{e}_bound": overlay[e] for e in COMPARED}
        for key in totals:
            totals[key] = totals[key] + errs[key]
    return {key: value / config.tasks for key, value in totals.items()}


def _worker_init() -> None:
    torch.set_num_threads(1)  # one core per worker process; the tensors are tiny anyway


@contextmanager
def _one_thread():
    """torch on one thread meanwhile, as in a worker: on tensors this small more threads only
    contend with each other (and, on a busy machine, with everything else)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run(config: SinusoidConfig, *, progress: bool = True, workers: int = 1) -> SinusoidResult:
    """Run the study, the batches spread over ``workers`` processes; a tqdm bar on stderr.

    Every batch depends on (seed, batch index) alone, so the numbers do not depend on ``workers``.
    """
    if workers < 1:
        raise ValueError(f"--workers {workers!r}: must be a positive integer")
    start = time.perf_counter()
    with tqdm(total=config.batches, desc="sinusoid batches", disable=not progress) as bar:
        if workers == 1:
            model = mlp(config.seed)
            batches = []
            with _one_thread():
                for b in range(config.batches):
                    batches.append(run_batch(config, b, model))
                    bar.update()
        else:
            with process_pool(workers, mp_context=get_context("spawn"), initializer=_worker_init) as pool:
                futures = [pool.submit(run_batch, config, b) for b in range(config.batches)]
                for future in futures:
                    future.add_done_callback(lambda _: bar.update())
                batches = [future.result() for future in futures]
    stack = {key: np.array([batch[key] for batch in batches]) for key in batches[0]}
    return SinusoidResult(config, {e: stack[e] for e in COMPARED},
                          {e: stack[f"{e}_bound"] for e in COMPARED}, stack["g"], stack["maml"],
                          stack["H"], seconds=time.perf_counter() - start)
