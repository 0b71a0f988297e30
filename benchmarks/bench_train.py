"""Benchmark of one meta-training iteration per estimator (``binomgbml experiment train``'s loop).

    .venv/bin/python benchmarks/bench_train.py               # sinusoid MLP, meta-batch 10, K = 5
    .venv/bin/python benchmarks/bench_train.py --hvp reverse --repeats 30

One iteration = ``MetaObjective(tasks).backward()`` and an Adam step on one meta-batch, as in
:mod:`verify.experiments.train`. The estimators are timed round-robin (one iteration of each in
turn, ``--repeats`` rounds, each on the same meta-batch), so a change of load on the machine
affects them alike; the table gives the median wall and process CPU time per iteration and their
ratio to fo's, the baseline measured in the same rounds. One torch thread.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import estimators
from verify.experiments import sinusoid, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--meta-batch", type=int, default=10, dest="meta_batch")
    parser.add_argument("--K", type=int, default=5)
    parser.add_argument("--L", default="1,2")
    parser.add_argument("--hvp", default="loop")
    parser.add_argument("--estimators", default="fo,trunc,binom,binom_rescaled,maml,imaml,maml_autograd")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = train.TrainConfig(estimators=tuple(args.estimators.split(",")),
                               L=tuple(int(x) for x in args.L.split(",")), K=args.K,
                               meta_batch=args.meta_batch, hvp=args.hvp)
    tasks = sinusoid.sample_tasks(train._generator(0, 0, 1),
                                  sinusoid.SinusoidConfig(tasks=args.meta_batch, batch_L=0))
    runs = []
    for name, estimator, options in train.runs(config):
        model = sinusoid.mlp(0)
        objective = estimators.MetaObjective(model, sinusoid.mse, config.K, config.alpha, estimator,
                                             hvp=config.hvp, **options)
        runs.append((name, objective, torch.optim.Adam(model.parameters(), lr=config.beta)))
    wall = {name: [] for name, _, _ in runs}
    cpu = {name: [] for name, _, _ in runs}
    for repeat in range(args.repeats + 1):  # round 0 warms up (first-call costs)
        for name, objective, opt in runs:
            start, start_cpu = time.perf_counter(), time.process_time()
            opt.zero_grad(set_to_none=True)
            objective(tasks).backward()
            opt.step()
            if repeat:
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
    base_wall, base_cpu = statistics.median(wall["fo"]), statistics.median(cpu["fo"])
    print(f"# {args.repeats} rounds, meta-batch {args.meta_batch}, K={args.K}, hvp={args.hvp}, "
          f"torch {torch.__version__}, 1 thread; medians per iteration")
    print(f"| {'estimator':<16} | wall ms | CPU ms | wall / fo | CPU / fo |")
    print("|---|---|---|---|---|")
    for name, times in wall.items():
        w, c = statistics.median(times), statistics.median(cpu[name])
        print(f"| {name:<16} | {w * 1e3:7.1f} | {c * 1e3:6.1f} | {w / base_wall:9.2f} | "
              f"{c / base_cpu:8.2f} |")


if __name__ == "__main__":
    main()
