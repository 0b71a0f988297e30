"""Benchmark of bounds evaluation: vectorised NumPy path vs exact Fractions vs plain SymPy.

For each of the nine bounds (Theorems 3.6, 3.8, 3.10; fo, trunc, binom) over a grid of 10^6
parameter points it prints points per second of the vectorised path, of the exact path and of
the plain SymPy path (``expr.subs(...).doit()``) on small samples, and the ratio vectorised/SymPy;
then ``binomgbml bounds --format csv`` over a sweep (``--K 1:SWEEP_K``, every L, one theorem:
795,690 rows at the default 1260) in rows per second, column by column
(``bounds.tables.sweep_csv``) against the per-point rows (``format_rows(bound_rows(...))``),
interleaved repeats, median, same output checked; then the start-up time of ``binomgbml bounds``.

    .venv/bin/python benchmarks/bench_bounds.py [--points 1000000] [--sympy-sample 30] [--sweep-K 1260]
    .venv/bin/python benchmarks/bench_bounds.py --only-csv --sweep-K 400
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from tqdm import tqdm

import bounds


ROOT = Path(__file__).resolve().parents[1]


def grid(n_points: int) -> dict:
    """A grid inside every theorem's conditions: K = 2..101, L at 10 fractions of K (1..K-1),
    alpha on a line in (0, 1/4], H in {1, 2, 3, 4}, h = H/10, M = max(1, min(L, K-L)//2)."""
    n_alpha = max(1, n_points // (100 * 10 * 4))
    K, f, alpha, H = np.meshgrid(np.arange(2, 102), np.linspace(0.05, 0.95, 10),
                                 np.linspace(0.25 / n_alpha, 0.25, n_alpha), np.arange(1, 5), indexing="ij")
    K, alpha, H = K.ravel().astype(float), alpha.ravel(), H.ravel().astype(float)
    L = np.clip(np.round(f.ravel() * K), 1, K - 1)
    M = np.maximum(1, np.minimum(L, K - L) // 2)
    return {"K": K, "L": L, "alpha": alpha, "H": H, "h": H / 10, "M": M}


def _args(theorem, p, i=None):
    names = ("K", "L", "alpha", "H", "h", "M") if theorem == "3.10" else ("K", "L", "alpha", "H")
    return [p[n] if i is None else p[n][i] for n in names]


def _exact_args(theorem, p, i):
    values = _args(theorem, p, i)
    return [int(v) if n in ("K", "L", "M") else Fraction(float(v))
            for n, v in zip(("K", "L", "alpha", "H", "h", "M"), values)]


def csv_sweep(sweep_k: int, repeats: int) -> None:
    """Rows per second of the CSV of ``binomgbml bounds --K 1:sweep_k --theorem T`` (every L),
    column by column against per point, in floats and (a smaller sweep) exactly."""
    from bounds import cli
    from bounds.tables import bound_rows, format_rows, sweep_csv

    print(f"{'CSV sweep':<34}{'rows':>10}{'per-point rows/s':>18}{'by-column rows/s':>18}{'ratio':>8}")
    for label, argv in [(f"--K 1:{sweep_k} --theorem 3.6", ["--K", f"1:{sweep_k}", "--theorem", "3.6"]),
                        (f"--K 1:{sweep_k} --theorem 3.8", ["--K", f"1:{sweep_k}", "--theorem", "3.8"]),
                        (f"--K 1:{sweep_k // 4} (all, h, M)", ["--K", f"1:{sweep_k // 4}", "--h", "1/10", "--M", "1"]),
                        ("--K 1:40 --exact", ["--K", "1:40", "--exact", "--theorem", "3.6"])]:
        args = cli._parser().parse_args(argv)
        sweep = cli._points(args)
        theorems = cli.parse_theorems(args.theorem)
        options = {"exact": args.exact, "normalize": None, "strict": len(theorems) == 1, "variant": "printed"}
        old, new, outputs = [], [], set()
        for _ in range(repeats):  # interleaved
            start = time.perf_counter()
            outputs.add(format_rows(bound_rows(theorems, sweep.points(), **options), "csv"))
            old.append(time.perf_counter() - start)
            start = time.perf_counter()
            outputs.add(sweep_csv(theorems, *sweep.columns(), **options))
            new.append(time.perf_counter() - start)
        assert len(outputs) == 1, "the two paths disagree"
        rows = outputs.pop().count("\n")
        t_old, t_new = statistics.median(old), statistics.median(new)
        print(f"{label:<34}{rows:>10,}{rows / t_old:>18,.0f}{rows / t_new:>18,.0f}{t_old / t_new:>8.1f}")
    print(f"(median of {repeats} interleaved repeats; the CSV text built in memory, as printed)")
    print()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--sympy-sample", type=int, default=30)
    parser.add_argument("--exact-sample", type=int, default=2000)
    parser.add_argument("--sweep-K", type=int, default=1260, help="CSV sweep --K 1:SWEEP_K (default 1260)")
    parser.add_argument("--repeats", type=int, default=3, help="CSV sweep repeats (default 3)")
    parser.add_argument("--only-csv", action="store_true", help="only the CSV sweep")
    args = parser.parse_args(argv)
    csv_sweep(args.sweep_K, args.repeats)
    if args.only_csv:
        return 0
    p = grid(args.points)
    n = p["K"].size
    rng = np.random.default_rng(0)
    print(f"grid: {n:,} parameter points (K = 2..101); timings are best of 3 for the vectorised path")
    header = f"{'bound':<16}{'vectorised pts/s':>18}{'exact pts/s':>14}{'SymPy pts/s':>14}{'vec/SymPy':>12}"
    rows = []
    with tqdm(total=9, desc="bounds", file=sys.stderr) as bar:
        for theorem in bounds.THEOREMS:
            vectorised = []
            for _ in range(3):
                start = time.perf_counter()
                values = bounds.evaluate(theorem, *_args(theorem, p))
                vectorised.append(time.perf_counter() - start)
            assert not any(np.isnan(v).any() for v in values.values())
            # the three bounds come from one call: charge each a third
            vec_rate = n / (min(vectorised) / 3)
            sample = rng.choice(n, size=args.exact_sample, replace=False)
            start = time.perf_counter()
            for i in sample:
                bounds.evaluate(theorem, *_exact_args(theorem, p, i), exact=True)
            exact_rate = len(sample) / ((time.perf_counter() - start) / 3)
            for key in bounds.THEOREMS[theorem].keys:
                statement = bounds.THEOREMS[theorem].statements[key]
                _ = statement.expr  # build (and cache) the expression outside the timing
                small = rng.choice(n, size=args.sympy_sample, replace=False)
                start = time.perf_counter()
                for i in small:
                    K, L, a, H, *rest = _exact_args(theorem, p, i)
                    h, M = rest if rest else (None, None)
                    statement.sympy_value(K=K, L=L, alpha=a, H=H, h=h, M=M)
                sympy_rate = len(small) / (time.perf_counter() - start)
                rows.append(f"{theorem + ' ' + key:<16}{vec_rate:>18,.0f}{exact_rate:>14,.0f}"
                            f"{sympy_rate:>14,.1f}{vec_rate / sympy_rate:>12,.0f}")
                bar.update()
    print(header)
    print("\n".join(rows))
    print(f"(exact: {args.exact_sample} random grid points per theorem, a third of a call each; "
          f"SymPy: {args.sympy_sample} points per bound)")
    print()
    print(f"{'start-up':<40}{'median of 5 (s)':>18}")
    for label, command in [
        ("python -c 'import bounds'", [sys.executable, "-c", "import bounds"]),
        ("binomgbml bounds (Figure 2 table)", [sys.executable, "-m", "binomgbml", "bounds"]),
        ("binomgbml bounds --exact --format json", [sys.executable, "-m", "binomgbml", "bounds", "--exact",
                                                    "--format", "json"]),
    ]:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        print(f"{label:<40}{statistics.median(times):>18.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
