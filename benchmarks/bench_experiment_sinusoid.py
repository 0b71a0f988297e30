"""Time the sinusoid study (Figure 3) per meta-batch: HVP modes and worker processes.

    .venv/bin/python benchmarks/bench_experiment_sinusoid.py [--batches 4]

Prints one row per configuration: seconds per meta-batch (10 tasks, K = 5), the share of the
Lanczos spectral norm (the Theorem 3.6 overlay's H) in it, and the projected time of the default run and of
the paper's 1000 batches. Timings are wall clock on this machine; say which when you quote them.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

import estimators
from verify.experiments import sinusoid
from verify.experiments.cli import DEFAULT_BATCHES
from verify.spectra import spectral_norm


def per_task_split(config: sinusoid.SinusoidConfig, tasks: int = 10) -> tuple[float, float]:
    """Mean seconds per task of (errors of every estimator at every L, Lanczos for H)."""
    model = sinusoid.mlp(config.seed)
    data_gen, _ = sinusoid.batch_generators(config.seed, 0)
    errors = lanczos = 0.0
    for support, query in sinusoid.sample_tasks(data_gen, config)[:tasks]:
        start = time.perf_counter()
        traj = estimators.Trajectory.from_model(model, sinusoid.mse, support, query, config.K,
                                                config.alpha, hvp=config.hvp)
        sinusoid.task_errors(traj)
        middle = time.perf_counter()
        spectral_norm(traj)
        errors += middle - start
        lanczos += time.perf_counter() - middle
    return errors / tasks, lanczos / tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'hvp':>8} {'workers':>7} {'s/batch':>8} {'Lanczos %':>9} {'default run (s)':>16} "
          f"{'1000 batches (min)':>19}")
    for hvp in ("loop", "forward", "reverse"):
        config = sinusoid.SinusoidConfig(batches=args.batches, hvp=hvp)
        errors, lanczos = per_task_split(config)
        for workers in (1, 2):
            result = sinusoid.run(config, progress=False, workers=workers)
            per_batch = result.seconds / args.batches
            print(f"{hvp:>8} {workers:>7} {per_batch:8.2f} {100 * lanczos / (errors + lanczos):9.0f} "
                  f"{per_batch * DEFAULT_BATCHES:16.0f} {per_batch * 1000 / 60:19.1f}")


if __name__ == "__main__":
    main()
