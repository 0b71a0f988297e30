"""The paper's complexity claims (Remark 3.4, Figure 4), measured: time and peak memory of every
estimator against K and L, the authors'-style baseline side by side, and a verdict per claim.

    .venv/bin/python benchmarks/bench_complexity.py             # everything (docs/estimators.md)
    .venv/bin/python benchmarks/bench_complexity.py --quick     # K = 5 only, 3 rounds: minutes
    .venv/bin/python benchmarks/bench_complexity.py --only baseline --repeats 21

Models (float32, as in meta-training; ``--dtype float64`` for the toolkit's default):

* mlp: 64-256-256-5 ReLU MLP (83,717 parameters), 25 support and 75 query points, 5 classes;
* conv: two 3x3 convolutions of 32 filters, each with ReLU and 2x2 max-pooling, on 1x28x28
  images, then a 5-way linear head (13,573 parameters); 25 support and 75 query images.

Cross-entropy loss, alpha = 0.01. Every time is the whole meta-gradient from the model and the
data (inner loop, validation gradient, estimator), as a user waits for it.

* Time: for each configuration of a table, one warm-up run, then ``--repeats`` rounds in which
  every configuration runs once, in turn (interleaved), so that load on a shared machine falls on
  all of them alike; CPU time of the process with one torch thread (the work done; other
  processes do not inflate it) or, on CUDA, CUDA-event time. Reported: medians, and ratios as the
  median over rounds of the per-round ratio.
* Peak memory: one fresh subprocess per cell (CPU: the peak resident memory the meta-gradient
  adds, VmHWM after a reset of the kernel's mark, as in bench_estimators.py; CUDA:
  ``torch.cuda.max_memory_allocated`` minus the memory allocated before). The CUDA paths are
  written for completeness and have not been run: this machine has no GPU.
* The baseline "authors" is written from the paper's description of the authors' implementation
  (Algorithm 1 with Appendix C.2): the inner loop with ``torch.autograd`` on named parameter
  dicts, then per stage one ``torch.func.vmap`` of a reverse-over-reverse HVP over the stored
  points that recomputes the gradient at each; ``rescale=True`` on our side, so both compute the
  same vector (checked). It is not the authors' code.
* The peer "higher" is the MAML meta-gradient through the ``higher`` library (``pip install -e
  '.[bench]'``, which pins ``higher==0.2.1``; benchmark-only, skipped with a note if absent). Its
  vector is checked against ``maml_autograd`` (1e-4 relative in float32, 1e-10 in float64) before
  it is timed.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vjp, vmap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_estimators import _status_kib, table

from estimators import Trajectory, binom, fo, imaml, maml, maml_autograd, trunc

ALPHA = 0.01
IMAML_LAM = 10.0


# -- models and data --------------------------------------------------------------------------------

def mlp(dtype):
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 5)).to(dtype), (64,)


def conv(dtype):
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 32, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 5 * 5, 5)
                         ).to(dtype), (1, 28, 28)


MODELS = {"mlp": mlp, "conv": conv}


def build(name: str, dtype, device):
    torch.manual_seed(0)
    model, shape = MODELS[name](dtype)
    gen = torch.Generator().manual_seed(0)

    def draw(n):
        return (torch.randn(n, *shape, generator=gen, dtype=dtype).to(device),
                (torch.arange(n) % 5).to(device))

    return model.to(device), draw(25), draw(75)


# -- the baseline written from the paper's description --------------------------------------------

def authors(model, support, query, K, L):
    """Algorithm 1 with alpha' = L alpha / K, per stage one vmapped reverse-over-reverse HVP over
    the stored points that recomputes the gradient at each, on named parameter dicts."""
    names = [n for n, _ in model.named_parameters()]

    def loss(params, data):
        return F.cross_entropy(functional_call(model, params, (data[0],)), data[1])

    points = [{n: p.detach() for n, p in model.named_parameters()}]
    for _ in range(K):
        params = {n: t.detach().requires_grad_(True) for n, t in points[-1].items()}
        grads = torch.autograd.grad(loss(params, support), list(params.values()))
        points.append({n: (t - ALPHA * g).detach() for (n, t), g in zip(params.items(), grads)})
    params = {n: t.detach().requires_grad_(True) for n, t in points[-1].items()}
    g = dict(zip(names, torch.autograd.grad(loss(params, query), list(params.values()))))
    alpha = ALPHA * L / K
    grad_trn = grad(lambda p: loss(p, support))
    hvps = vmap(lambda p, v: vjp(grad_trn, p)[1](v)[0])
    V = {n: t.unsqueeze(0).expand(K - L + 1, *t.shape) for n, t in g.items()}
    for stage in range(L):
        P = {n: torch.stack([points[k][n] for k in range(L - stage - 1, K - stage)]) for n in names}
        U = hvps(P, V)
        V = {n: V[n][-1] - alpha * U[n].flip(0).cumsum(0).flip(0) for n in names}
    return torch.cat([V[n][0].reshape(-1) for n in names])


def peer_higher(model, support, query, K):
    """MAML through ``higher``: the unrolled inner loop of torch.optim.SGD, differentiated."""
    import higher

    opt = torch.optim.SGD(model.parameters(), lr=ALPHA)
    with higher.innerloop_ctx(model, opt, copy_initial_weights=False) as (fmodel, diffopt):
        for _ in range(K):
            diffopt.step(F.cross_entropy(fmodel(support[0]), support[1]))
        val = F.cross_entropy(fmodel(query[0]), query[1])
        meta = torch.autograd.grad(val, list(model.parameters()))
    return torch.cat([m.reshape(-1) for m in meta])


def have_higher() -> bool:
    try:
        import higher  # noqa: F401
    except ImportError:
        return False
    return True


# -- the configurations ------------------------------------------------------------------------------

def traj(model, support, query, K, **kw):
    return Trajectory.from_model(model, F.cross_entropy, support, query, K, ALPHA, **kw)


def estimate(what: str, model, support, query, K: int, L: int):
    """One meta-gradient of the configuration ``what`` (a row label of the tables)."""
    if what == "authors":
        return authors(model, support, query, K, L)
    if what == "maml_autograd":
        return maml_autograd(model, F.cross_entropy, support, query, K, ALPHA)
    if what == "higher":
        return peer_higher(model, support, query, K)
    if what == "fo":
        return fo(traj(model, support, query, K))
    if what == "maml":
        return maml(traj(model, support, query, K))
    if what == "trunc":
        return trunc(traj(model, support, query, K), L)
    if what == "imaml":  # L conjugate-gradient steps (the paper's Table 1 uses L for them);
        # lam = 10: with lam = 1, I + H/lam is not positive definite at phi^K on the conv net
        return imaml(traj(model, support, query, K), IMAML_LAM, L)
    kind, variant, *rescale = what.split(":")  # binom:<memory>[:rescale], binom:stages-<hvp>
    if kind == "binom" and variant.startswith("stages-"):
        t = traj(model, support, query, K, hvp=variant.removeprefix("stages-"))
        return binom(t, L, schedule="stages", rescale=bool(rescale))
    if kind == "binom":
        return binom(traj(model, support, query, K, memory=variant), L, rescale=bool(rescale))
    raise ValueError(f"unknown configuration {what!r}")


def timer(device):
    """``run(fn) -> seconds``: CPU time of this process, or CUDA-event time on a GPU."""
    if device.type == "cuda":  # untested here (no GPU)
        def run(fn):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize(device)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(device)
            return start.elapsed_time(end) / 1e3
        return run

    def run(fn):
        start = time.process_time()
        fn()
        return time.process_time() - start
    return run


def interleaved(fns: dict, repeats: int, device) -> dict[str, list[float]]:
    """Per configuration, its times over ``repeats`` rounds; each round runs every configuration
    once, the order rotated from round to round. One untimed warm-up run each first."""
    run = timer(device)
    for fn in fns.values():
        fn()
    names = list(fns)
    times = {n: [] for n in names}
    for r in range(repeats):
        for n in names[r % len(names):] + names[:r % len(names)]:
            times[n].append(run(fns[n]))
    return times


def median_ratio(times: dict, what: str, base: str) -> float:
    return statistics.median(t / b for t, b in zip(times[what], times[base]))


# -- the tables --------------------------------------------------------------------------------------

BASELINE_ROWS = ("binom:fast:rescale", "binom:flat:rescale", "binom:stages-reverse:rescale")


def baseline_table(names, repeats, dtype, device, bar):
    """binom (rescale=True) vs the authors'-style baseline, K = 5, L in {1, 2, 4}."""
    rows, K = [], 5
    for name in names:
        model, support, query = build(name, dtype, device)
        for L in (1, 2, 4):
            ref = authors(model, support, query, K, L)
            fns = {"authors": partial(authors, model, support, query, K, L)}
            for what in BASELINE_ROWS:
                out = estimate(what, model, support, query, K, L)
                err = float(torch.linalg.norm(out - ref) / torch.linalg.norm(ref))
                assert err < (1e-4 if dtype == torch.float32 else 1e-10), (what, err)
                fns[what] = partial(estimate, what, model, support, query, K, L)
            times = interleaved(fns, repeats, device)
            rows.append([name, K, L, 1e3 * statistics.median(times["authors"]),
                         *(median_ratio(times, w, "authors") for w in BASELINE_ROWS)])
            bar(f"baseline {name} L={L}")
    return rows


def sweep_configs(peer: bool) -> list[str]:
    rows = ["fo", "trunc", "binom:fast", "binom:flat", "binom:stages-reverse", "maml",
            "maml_autograd", "imaml"]
    return rows + (["higher"] if peer else [])


def check_peer(model, support, query, K: int, dtype) -> float:
    """The peer's meta-gradient against maml_autograd (the same vector, or the peer row is not
    shown): their relative difference, asserted below 1e-4 (float32) or 1e-10 (float64)."""
    ours = maml_autograd(model, F.cross_entropy, support, query, K, ALPHA)
    err = float(torch.linalg.norm(peer_higher(model, support, query, K) - ours) / torch.linalg.norm(ours))
    assert err < (1e-4 if dtype == torch.float32 else 1e-10), ("higher", K, err)
    return err


def time_sweep(names, points, repeats, dtype, device, peer, bar):
    """Time of every configuration at each (K, L) of ``points``, relative to maml_autograd."""
    rows = []
    for name in names:
        model, support, query = build(name, dtype, device)
        for K, L in points:
            if peer:
                check_peer(model, support, query, K, dtype)
            configs = sweep_configs(peer)
            fns = {w: partial(estimate, w, model, support, query, K, L) for w in configs}
            times = interleaved(fns, repeats, device)
            for w in configs:
                rows.append([name, K, L, w, 1e3 * statistics.median(times[w]),
                             median_ratio(times, w, "maml_autograd")])
            bar(f"time {name} K={K} L={L}")
    return rows


def probe(config: dict) -> dict:
    """In a fresh process, for each configuration in turn: warm up at K = min(K, L + 1), hand freed
    memory back (malloc_trim; the parent sets MALLOC_MMAP_THRESHOLD_ so large blocks are mmapped),
    reset the kernel's peak mark, run one meta-gradient; its peak over the memory at the reset."""
    torch.set_num_threads(config["threads"])
    dtype, device = getattr(torch, config["dtype"]), torch.device(config["device"])
    model, support, query = build(config["name"], dtype, device)
    K, L, peaks = config["K"], config["L"], {}
    for what in config["what"]:
        # the same calls, and "auto"'s one-time choice with memory="flat", which is made on the
        # first call of two or more rows at one point: at K = L every point has one row, at
        # K = L + 1 one point has two (a measurement costs more than the flat path itself: about
        # 80 MiB against 20 on the conv net in float32)
        estimate(what, model, support, query, min(K, L + 1), L)
        if device.type == "cuda":  # untested here (no GPU)
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.memory_allocated(device)
            estimate(what, model, support, query, K, L)
            torch.cuda.synchronize(device)
            peaks[what] = (torch.cuda.max_memory_allocated(device) - base) / 2**20
            continue
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = _status_kib("VmRSS")
        estimate(what, model, support, query, K, L)
        peaks[what] = (_status_kib("VmHWM") - base) / 1024
    return peaks


def peaks_mib(config: dict) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--probe", json.dumps(config)],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"})
    return json.loads(out.stdout.strip().splitlines()[-1])


MEMORY_ROWS = ("trunc", "binom:fast", "binom:flat", "binom:stages-reverse", "maml", "maml_autograd",
               "imaml")


def memory_cells(points, peer: bool, K0: int, quick: bool) -> list[tuple[int, int, str]]:
    """The (K, L, configuration) cells of the memory sweep: MEMORY_ROWS (and the peer) at every
    (K, L) of ``points``; with ``quick``, only those the verdicts and Figure 4 read (K = K0)."""
    whats = [*MEMORY_ROWS, *(["higher"] if peer else [])]
    if not quick:
        return [(K, L, w) for K, L in points for w in whats]
    per_L = [w for w in whats if w in FIGURE_ROWS and w not in ("fo", "maml_autograd")]
    return ([(K0, L, w) for L in range(1, K0 + 1) for w in per_L]
            + [(K0, K0, w) for w in whats if w not in per_L])


def memory_sweep(names, cells_at, args, bar):
    """Peak memory of each (K, L, configuration) of ``cells_at``: one fresh subprocess per cell."""
    cells = [(name, K, L, w) for name in names for K, L, w in cells_at]

    def one(cell):  # one process per cell: pages freed by another configuration would hide peaks
        name, K, L, w = cell
        peaks = peaks_mib({"name": name, "K": K, "L": L, "what": [w], "threads": args.threads,
                           "dtype": args.dtype, "device": args.device})
        bar(f"memory {name} K={K} L={L} {w}")
        return peaks

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, cells))
    return [[*cell, peaks[cell[3]]] for cell, peaks in zip(cells, results)]


# -- the claims ---------------------------------------------------------------------------------------

def verdicts(times: list, memory: list, K0: int) -> list[list[str]]:
    """Remark 3.4 / Figure 4, each claim against the measurements at K = K0 (L = 0..K0)."""
    t = {(r[0], r[1], r[2], r[3]): r[4] for r in times}
    m = {(r[0], r[1], r[2], r[3]): r[4] for r in memory}
    names = sorted({r[0] for r in times})
    out = []

    def add(claim, ok, evidence):
        out.append([claim, "supported" if ok else "not supported", evidence])

    Ls = range(1, K0)
    for name in names:
        worst = max(Ls, key=lambda L: t[name, K0, L, "binom:fast"] / t[name, K0, L, "trunc"])
        r = t[name, K0, worst, "binom:fast"] / t[name, K0, worst, "trunc"]
        add(f"{name}: binom(L) takes the time of trunc(L) (K={K0}, 0<L<K)", r <= 1.25,
            f"binom/trunc up to {r:.2f} (L={worst}); binom makes L(K-L+1) HVPs, trunc L, and "
            f"without parallel hardware the extra HVPs cost their time")
        r = t[name, K0, K0, "binom:fast"] / t[name, K0, K0, "maml_autograd"]
        add(f"{name}: binom(L=K) takes the time of MAML", 0.8 <= r <= 1.25,
            f"binom(K)/maml_autograd = {r:.2f}")
        r0 = t[name, K0, 0, "binom:fast"] / t[name, K0, 0, "fo"]
        add(f"{name}: binom(L=0) takes the time of FOMAML", r0 <= 1.25, f"binom(0)/fo = {r0:.2f}")
        if m:
            rm = m[name, K0, K0, "binom:flat"] / m[name, K0, K0, "maml_autograd"]
            add(f"{name}: binom(L=K) needs less memory than MAML", rm < 1,
                f"binom(K) memory='flat' / maml_autograd = {rm:.2f} "
                f"('fast': {m[name, K0, K0, 'binom:fast'] / m[name, K0, K0, 'maml_autograd']:.2f})")
            for w in ("binom:stages-reverse", "binom:flat"):
                ys = [m[name, K0, L, w] for L in range(1, K0 + 1)]
                slope, r2 = _affine_fit(list(range(1, K0 + 1)), ys)
                add(f"{name}: binom's memory decreases affinely with L ({w})", slope < 0 and r2 >= 0.9,
                    f"slope {slope:.2f} MiB per unit of L, R^2 = {r2:.2f} over L = 1..{K0}")
        big = sorted({r[1] for r in memory if r[0] == name and r[2] == 1 and r[3] == "binom:flat"})
        if len(big) >= 2 and big[-1] >= 2 * big[-2] and (name, big[-1], 1, "maml_autograd") in m:
            lo, hi = big[-2], big[-1]
            grow = m[name, hi, 1, "binom:flat"] / m[name, lo, 1, "binom:flat"]
            share = m[name, hi, 1, "binom:flat"] / m[name, hi, 1, "maml_autograd"]
            add(f"{name}: memory='flat' stays flat in K (L=1; K={hi} vs K={lo} within 10%, "
                f"<= 0.4 of maml_autograd at K={hi})", grow <= 1.1 and share <= 0.4,
                f"K={hi} / K={lo}: {grow:.2f}; / maml_autograd at K={hi}: {share:.2f}")
        fo_t = t[name, K0, 1, "fo"]  # the inner loop and g, which both share
        over = (t[name, K0, 1, "binom:stages-reverse"] - fo_t) / (K0 * (t[name, K0, 1, "trunc"] - fo_t))
        add(f"{name}: the parallel HVPs add little overhead (K={K0}, L=1)", over <= 1.25,
            f"binom(1)'s K vmapped HVPs in one call / K x trunc(1)'s one HVP (fo's time "
            f"subtracted from both) = {over:.2f}")
    return out


def _affine_fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx
    ss_res = sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return slope, 1 - ss_res / ss_tot if ss_tot else 1.0


# -- Figure 4 ----------------------------------------------------------------------------------------

FIGURE_ROWS = {"fo": "FOMAML", "trunc": "TruncMAML", "binom:fast": "BinomMAML (fast)",
               "binom:flat": "BinomMAML (flat)", "binom:stages-reverse": "BinomMAML (stages, vmap)",
               "maml_autograd": "MAML"}


def figure4(times, memory, K0, out: Path, preset: str):
    """Figure 4 (a) time and (b) peak memory against L at K = K0, one row of panels per model, in
    a paper preset; panel (c) of the paper (GPU utilization) needs a GPU and is not drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bounds.plotting import preset as rc_preset

    names = sorted({r[0] for r in times})
    panels = [("time", times, "time per meta-gradient (ms)")]
    if memory:
        panels.append(("memory", memory, "peak memory (MiB)"))
    with plt.rc_context(rc_preset(preset, nrows=len(names), ncols=len(panels))):
        fig, axes = plt.subplots(len(names), len(panels), squeeze=False)
        for i, name in enumerate(names):
            for j, (label, rows, ylabel) in enumerate(panels):
                ax = axes[i][j]
                for w, legend in FIGURE_ROWS.items():
                    pts = sorted((r[2], r[4]) for r in rows if r[0] == name and r[1] == K0 and r[3] == w)
                    if not pts:
                        continue
                    if w in ("fo", "maml_autograd"):  # one value each: L = 0 / L = K
                        ax.axhline(pts[0][1], lw=0.6, ls=":", color="k" if w == "fo" else "r",
                                   label=legend)
                    else:
                        ax.plot(*zip(*pts), marker="o", label=legend)
                ax.set_xlabel("L")
                ax.set_ylabel(ylabel)
                ax.set_title(f"({'ab'[j]}) {name}, K = {K0}")
        handles, labels = axes[0][0].get_legend_handles_labels()  # below the panels, not over the data
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0), ncol=3, frameon=False)
        out.mkdir(parents=True, exist_ok=True)
        for fmt in ("pdf", "png"):
            fig.savefig(out / f"figure4.{fmt}", bbox_inches="tight")
    return [out / "figure4.pdf", out / "figure4.png"]


# -- main ------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="K = 5 only (what the verdicts and Figure 4 read), 3 repeats")
    parser.add_argument("--only", choices=("baseline", "time", "memory"), help="one table only")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline table")
    parser.add_argument("--models", default="mlp,conv")
    parser.add_argument("--Ks", default="5,10,20,40", help="K values of the memory sweep")
    parser.add_argument("--time-Ks", default="5,10,20", help="K values of the time sweep")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 9)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--jobs", type=int, default=2, help="memory subprocesses side by side")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default="out/bench_complexity", help="where Figure 4 is written")
    parser.add_argument("--preset", default="iclr", help="bounds.plotting preset of Figure 4")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(json.loads(args.probe))))
        return 0
    torch.set_num_threads(args.threads)
    dtype, device = getattr(torch, args.dtype), torch.device(args.device)
    names = args.models.split(",")
    Ks = [] if args.quick else [int(k) for k in args.Ks.split(",")]
    time_Ks = [] if args.quick else [int(k) for k in args.time_Ks.split(",")]
    repeats = args.repeats or (3 if args.quick else 9)
    K0 = 5  # Figure 4: K = 5, L = 0..5
    # the L sweep at K0, then the K sweep at L = 1 and L = K (binom(K/2) at K = 40 would make
    # 420 sequential HVPs per meta-gradient on a CPU)
    def points(Ks):
        return sorted({(K0, L) for L in range(K0 + 1)} | {(K, L) for K in Ks for L in (1, K)})

    peer = have_higher()
    start = time.perf_counter()

    def bar(what):
        print(f"[{time.perf_counter() - start:7.1f} s] {what}", file=sys.stderr, flush=True)

    header = (f"# machine: {platform.machine()}, {os.cpu_count()} CPU(s), {args.device}; "
              f"{torch.get_num_threads()} torch thread(s); torch {torch.__version__}; Python "
              f"{platform.python_version()}; {args.dtype}; {repeats} interleaved rounds; "
              f"peer 'higher': {'yes' if peer else 'not installed (pip install -e .[bench])'}")
    print(header + "\n")
    if args.only == "baseline" or (args.only is None and not args.no_baseline):
        rows = baseline_table(names, repeats, dtype, device, bar)
        print("## Against the authors'-style baseline (K = 5, rescale=True): time ratio, median of "
              "per-round ratios\n")
        print(table(["model", "K", "L", "authors (ms)", "binom fast / authors",
                     "binom flat / authors", "binom stages+reverse / authors"], rows,
                    [str, str, str, lambda v: f"{v:.1f}"] + [lambda v: f"{v:.2f}"] * 3) + "\n")
    times = memory = []
    if args.only in (None, "time"):
        times = time_sweep(names, points(time_Ks), repeats, dtype, device, peer, bar)
        print("## Time per meta-gradient (ms, median) and its ratio to maml_autograd\n")
        print(table(["model", "K", "L", "estimator", "time (ms)", "/ maml_autograd"], times,
                    [str, str, str, str, lambda v: f"{v:.1f}", lambda v: f"{v:.2f}"]) + "\n")
    if args.only in (None, "memory"):
        memory = memory_sweep(names, memory_cells(points(Ks), peer, K0, args.quick), args, bar)
        print("## Peak memory added by one meta-gradient (MiB; fresh subprocess per cell)\n")
        print(table(["model", "K", "L", "estimator", "peak (MiB)"], memory,
                    [str, str, str, str, lambda v: f"{v:.1f}"]) + "\n")
    if times:
        print("## Remark 3.4 / Figure 4, on this machine\n")
        print(table(["claim", "verdict", "evidence"], verdicts(times, memory, K0), [str] * 3))
        paths = figure4(times, memory, K0, Path(args.out), args.preset)
        print(f"\nFigure 4 panels: {', '.join(map(str, paths))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
