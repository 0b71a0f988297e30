"""Benchmark of the PyTorch estimators: wall time, HVP batching, and peak memory. Prints tables.

    .venv/bin/python benchmarks/bench_estimators.py            # the full table (docs/estimators.md)
    .venv/bin/python benchmarks/bench_estimators.py --quick    # K in {5, 10}, L in {1, K}, 1 repeat

Models: the 1-40-40-1 ReLU MLP on sinusoid tasks (Appendix C.1: 10 support and 10 query points)
and a small conv net (1x28x28 inputs, two stride-2 3x3 convolutions with 8 channels, a linear
5-way head: 2,109 parameters; 25 support and 75 query images, as 5-way 5-shot). float64, CPU.

* Time: wall and process CPU time of one meta-gradient (medians over ``--repeats`` runs; with
  one torch thread, CPU time is the work done and the robust figure on a shared machine),
  estimator only: the trajectory (inner loop and g) is timed separately in the "inner loop"
  column, once per hvp mode; maml_autograd is timed whole (its inner loop is the graph it
  differentiates).
* HVP batching: one ``traj.hvp`` call on K-L+1 rows in each mode; "loop" is K-L+1 sequential
  double-backward HVPs, so forward/loop < 1 means the vmapped batch wins.
* Peak memory: one fresh subprocess per configuration. It builds the model and data, runs the
  same configuration once at K = 1 as a warm-up (imports, first-call allocations), hands freed
  memory back to the kernel (``malloc_trim``; large blocks are mmapped), resets the kernel's
  peak-RSS mark (``echo 5 > /proc/self/clear_refs``), runs the meta-gradient, and reports
  VmHWM - VmRSS (at the reset): the peak resident memory the meta-gradient added, in MiB.
  Linux only; RSS counts pages, so values below ~0.1 MiB are noise. CPU only (no CUDA path).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from estimators import Trajectory, binom, maml, maml_autograd, meta_gradient, trunc

MODES = ("graph", "forward", "reverse", "revfwd", "loop")


# -- models and tasks -------------------------------------------------------------------------------

def mse(out, y):
    """Mean squared error written out: F.mse_loss has no forward-over-reverse rule in torch 2.13."""
    return ((out - y) ** 2).mean()


def mlp_case(gen: torch.Generator):
    model = nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(),
                          nn.Linear(40, 1)).double()
    amp = 0.1 + 4.9 * torch.rand(1, generator=gen, dtype=torch.float64)
    phase = torch.pi * torch.rand(1, generator=gen, dtype=torch.float64)

    def draw(n):
        x = -5 + 10 * torch.rand(n, 1, generator=gen, dtype=torch.float64)
        return x, amp * torch.sin(x + phase)

    return model, mse, draw(10), draw(10), 0.01


def conv_case(gen: torch.Generator):
    model = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2),
                          nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 5)).double()

    def draw(n):
        return (torch.randn(n, 1, 28, 28, generator=gen, dtype=torch.float64),
                torch.arange(n) % 5)

    return model, F.cross_entropy, draw(25), draw(75), 0.01


CASES = {"mlp": mlp_case, "conv": conv_case}


def build(name: str, seed: int = 0):
    torch.manual_seed(seed)
    return CASES[name](torch.Generator().manual_seed(seed))


def Ls(K: int, quick: bool) -> list[int]:
    return sorted({1, K} if quick else {1, 2, K // 2, K})


# -- timing ---------------------------------------------------------------------------------------------

def median_time(fn, repeats: int) -> tuple[float, float]:
    """Medians of wall time and process CPU time over ``repeats`` timed runs after one warm-up run
    (one timed run if the warm-up took over a second: the large-K cells would otherwise dominate
    the benchmark's run time). With one torch thread, CPU time is the work done, which other
    processes on a shared machine do not inflate; wall time is what a user waits."""
    start = time.perf_counter()
    fn()  # warm-up (and, for hvp="auto", the one-time choice of a mode)
    if time.perf_counter() - start > 1.0:
        repeats = 1
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def time_tables(names, Ks, quick, repeats, bar):
    est_rows, chain_rows, ratio_rows = [], [], []
    for name in names:
        model, loss_fn, support, query, alpha = build(name)
        for K in Ks:
            args = (model, loss_fn, support, query, K, alpha)
            t_auto = median_time(partial(maml_autograd, *args), repeats)
            trajs = {}
            for mode in (*MODES, "auto"):
                t_inner = median_time(partial(Trajectory.from_model, *args, hvp=mode), repeats)
                traj = trajs[mode] = Trajectory.from_model(*args, hvp=mode)
                t_maml = median_time(partial(maml, traj), repeats)
                chain_rows.append([name, K, mode, t_inner, t_maml, t_auto])
                for L in Ls(K, quick):
                    est_rows.append([name, K, L, mode,
                                     median_time(partial(binom, traj, L), repeats),
                                     median_time(partial(binom, traj, L, chunk_size=1), repeats),
                                     median_time(partial(trunc, traj, L), repeats)])
                    bar.update()
            for L in Ls(K, quick):
                n = K - L + 1
                ks = torch.arange(L - 1, K)
                V = torch.randn(n, trajs["loop"].d, dtype=torch.float64)
                t = {m: median_time(partial(trajs[m].hvp, ks, V), repeats)[1] for m in MODES}
                ratio_rows.append([name, K, L, n, t["loop"], t["forward"], t["reverse"],
                                   t["forward"] / t["loop"], t["reverse"] / t["loop"]])
    return est_rows, chain_rows, ratio_rows


def meta_batch_table(names, repeats, bar, batch: int = 8, L: int = 2):
    """A meta-batch of ``batch`` tasks: binom(L) one task at a time vs all tasks under vmap."""
    rows = []
    for name in names:
        model = build(name)[0]
        gen = torch.Generator().manual_seed(1)
        cases = [CASES[name](gen) for _ in range(batch)]
        tasks = [(support, query) for _, _, support, query, _ in cases]
        loss_fn, alpha = cases[0][1], cases[0][4]
        for K in (5, 10):
            run = partial(meta_gradient, model, loss_fn, tasks, K, alpha, "binom", L=L)
            rows.append([name, K, batch,
                         median_time(partial(run, hvp="auto"), repeats),
                         median_time(partial(run, hvp="reverse"), repeats),
                         median_time(partial(run, hvp="reverse", vmap_tasks=True), repeats),
                         median_time(partial(run, hvp="forward", vmap_tasks=True), repeats)])
            bar.update()
    return rows


# -- peak memory, one subprocess per configuration -------------------------------------------------

def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        return int(re.search(rf"{key}:\s+(\d+) kB", f.read()).group(1))


def run_config(name: str, K: int, what: str, L: int, chunk: int | None, mode: str):
    model, loss_fn, support, query, alpha = build(name)
    if what == "maml_autograd":
        return maml_autograd(model, loss_fn, support, query, K, alpha)
    traj = Trajectory.from_model(model, loss_fn, support, query, K, alpha, hvp=mode)
    if what == "binom":
        return binom(traj, min(L, K), chunk_size=chunk)
    if what == "trunc":
        return trunc(traj, min(L, K))
    return maml(traj)


def probe(config: dict) -> dict:
    """Run in a fresh process: warm up at K = 1, give freed memory back to the kernel (the parent
    sets MALLOC_MMAP_THRESHOLD_ so large blocks are mmapped; malloc_trim returns the heap's free
    pages), reset the peak mark, measure the configuration."""
    torch.set_num_threads(config.pop("threads"))
    run_config(**{**config, "K": 1})
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _status_kib("VmRSS")
    run_config(**config)
    return {"peak_mib": (_status_kib("VmHWM") - base) / 1024}


MEMORY_COLUMNS = [  # (header, what, L as a function of K, chunk_size); one row per hvp mode
    ("binom L=1", "binom", lambda K: 1, None),
    ("binom L=1 chunk=1", "binom", lambda K: 1, 1),
    ("binom L=K/2", "binom", lambda K: K // 2, None),
    ("binom L=K/2 chunk=1", "binom", lambda K: K // 2, 1),
    ("trunc L=K/2", "trunc", lambda K: K // 2, None),
    ("maml", "maml", lambda K: K, None),
]


def peak_mib(config: dict) -> float:
    out = subprocess.run([sys.executable, __file__, "--probe", json.dumps(config)],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"})
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]


def memory_table(names, Ks, modes, threads, jobs, bar):
    """Rows (model, K, hvp mode): the estimators' peak memory, and maml_autograd's (no hvp mode;
    measured once per model and K, repeated on each row). ``jobs`` subprocesses run at a time:
    each measures only its own peak, so running them side by side changes no number."""
    configs = []
    for name in names:
        for K in Ks:
            base = {"name": name, "K": K, "threads": threads}
            configs.append(((name, K, "maml_autograd"),
                            {**base, "what": "maml_autograd", "L": K, "chunk": None, "mode": "loop"}))
            for mode in modes:
                for header, what, L, chunk in MEMORY_COLUMNS:
                    configs.append(((name, K, mode, header),
                                    {**base, "what": what, "L": L(K), "chunk": chunk, "mode": mode}))

    def measure(item):
        key, config = item
        value = peak_mib(config)
        bar.update()
        return key, value

    with ThreadPoolExecutor(jobs) as pool:
        peaks = dict(pool.map(measure, configs))
    return [[name, K, mode, *(peaks[name, K, mode, c[0]] for c in MEMORY_COLUMNS),
             peaks[name, K, "maml_autograd"]] for name in names for K in Ks for mode in modes]


# -- output ------------------------------------------------------------------------------------------

def table(headers, rows, fmt) -> str:
    cells = [[f(v) for f, v in zip(fmt, row)] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = lambda vals: "| " + " | ".join(v.rjust(w) for v, w in zip(vals, widths)) + " |"
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *map(line, cells)])


ms = lambda t: f"{1e3 * t:.1f}"
ms2 = lambda t: f"{1e3 * t[0]:.1f} / {1e3 * t[1]:.1f}"
plain = str
ratio = lambda r: f"{r:.2f}"
mib = lambda m: f"{m:.1f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="K in {5, 10}, L in {1, K}, 1 repeat")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per cell (median)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1: see docs/estimators.md)")
    parser.add_argument("--models", default="mlp,conv")
    parser.add_argument("--no-memory", action="store_true", help="skip the subprocess memory table")
    parser.add_argument("--memory-only", action="store_true", help="only the memory table")
    parser.add_argument("--jobs", type=int, default=1,
                        help="memory subprocesses run side by side (each measures its own peak)")
    parser.add_argument("--meta-batch", action="store_true",
                        help="only the meta-batch table: 8 tasks one at a time vs vmap_tasks=True")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(json.loads(args.probe))))
        return 0
    torch.set_num_threads(args.threads)
    names = args.models.split(",")
    if args.meta_batch:
        repeats = args.repeats or 3
        with tqdm(total=2 * len(names), desc="bench_estimators", file=sys.stderr) as bar:
            rows = meta_batch_table(names, repeats, bar)
        print(f"# {torch.get_num_threads()} torch thread(s) of {os.cpu_count()} CPU(s); torch "
              f"{torch.__version__}; median of {repeats} run(s)\n")
        print("## binom(L=2) over a meta-batch of 8 tasks, wall / CPU (ms)\n")
        print(table(["model", "K", "tasks", "one at a time (auto)", "one at a time (reverse)",
                     "vmap_tasks (reverse)", "vmap_tasks (forward)"], rows,
                    [plain, plain, plain, ms2, ms2, ms2, ms2]))
        return 0
    Ks = [5, 10] if args.quick else [5, 10, 20, 40]
    repeats = args.repeats or (1 if args.quick else 3)
    if args.no_memory and args.memory_only:
        raise SystemExit("--no-memory and --memory-only exclude each other")
    n_time = 0 if args.memory_only else len(names) * sum(len(Ls(K, args.quick)) * (len(MODES) + 1)
                                                       for K in Ks)
    n_mem = 0 if args.no_memory else len(names) * len(Ks) * (1 + len(MODES) * len(MEMORY_COLUMNS))
    with tqdm(total=n_time + n_mem, desc="bench_estimators", file=sys.stderr) as bar:
        timed = None if args.memory_only else time_tables(names, Ks, args.quick, repeats, bar)
        mem_rows = [] if args.no_memory else memory_table(names, Ks, MODES, args.threads, args.jobs, bar)

    print(f"# machine: {platform.machine()}, {torch.get_num_threads()} torch thread(s) of "
          f"{os.cpu_count()} CPU(s); torch {torch.__version__}; Python "
          f"{platform.python_version()}; float64"
          + ("\n" if args.memory_only else f"; median of {repeats} run(s)\n"))
    if timed:
        est_rows, chain_rows, ratio_rows = timed
        print("## Estimator time per meta-gradient, wall / CPU (ms; trajectory built beforehand)\n")
        print(table(["model", "K", "L", "hvp", "binom", "binom chunk=1", "trunc"], est_rows,
                    [plain, plain, plain, plain, ms2, ms2, ms2]))
        print("\n## Inner loop, maml, maml_autograd, wall / CPU (ms)\n")
        print(table(["model", "K", "hvp", "inner loop + g (from_model)", "maml",
                     "maml_autograd (all)"], chain_rows, [plain, plain, plain, ms2, ms2, ms2]))
        print("\n## One batch of n = K-L+1 HVPs, CPU time (ms): vmapped vs sequential\n")
        print(table(["model", "K", "L", "n", "loop", "forward", "reverse", "forward/loop",
                     "reverse/loop"], ratio_rows, [plain] * 4 + [ms] * 3 + [ratio] * 2))
    if mem_rows:
        print("\n## Peak memory added by one meta-gradient (MiB, subprocess per cell, VmHWM)\n")
        print(table(["model", "K", "hvp", *[c[0] for c in MEMORY_COLUMNS], "maml_autograd"],
                    mem_rows, [plain] * 3 + [mib] * (len(MEMORY_COLUMNS) + 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
