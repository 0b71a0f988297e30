"""Wall time of the dense reference's two ways to evaluate eq. (8).

* polynomial recursion (``expansion_dp``): K = 1000, d = 50, float64, for several L;
* explicit subset enumeration (``truncated_expansion``): K = 16, d = 50, float64, L = K
  (all 2^16 subsets) and L = 2; and both in exact (Fraction) arithmetic at small sizes.

Run:  .venv/bin/python benchmarks/bench_reference.py [--repeat N]
Prints a table: method, K, d, L, arithmetic, terms, best wall time over the repeats.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from estimators import reference as R


def hessians(K: int, d: int, seed: int = 0, exact: bool = False):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((K, d, d))
    H = (A + A.transpose(0, 2, 1)) / (2 * np.sqrt(d))
    g = rng.standard_normal(d)
    if exact:
        to_q = np.vectorize(lambda x: Fraction(round(8 * x), 8), otypes=[object])
        H, g = to_q(H), to_q(g)
        H = (H + H.transpose(0, 2, 1)) / 2
    return H, g


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repeats per row (best is shown)")
    args = parser.parse_args(argv)
    rows = [  # method, K, d, L, exact
        ("expansion_dp", 1000, 50, 1, False), ("expansion_dp", 1000, 50, 5, False),
        ("expansion_dp", 1000, 50, 20, False), ("expansion_dp", 1000, 50, 1000, False),
        ("truncated_expansion", 16, 50, 2, False), ("truncated_expansion", 16, 50, 16, False),
        ("expansion_dp", 16, 50, 16, False),
        ("expansion_dp", 16, 4, 16, True), ("truncated_expansion", 12, 4, 3, True),
        ("expansion_dp", 12, 4, 3, True),
    ]
    out = []
    for method, K, d, L, exact in tqdm(rows, desc="bench_reference", file=sys.stderr):
        H, g = hessians(K, d, exact=exact)
        alpha = Fraction(1, 10) if exact else 0.1
        fn = getattr(R, method)
        seconds = best_time(lambda fn=fn, H=H, g=g, alpha=alpha, L=L: fn(H, g, alpha, L),
                            1 if exact else args.repeat)
        if method == "truncated_expansion":  # subsets of size <= L
            terms = sum(math.comb(K, l) for l in range(L + 1))
        else:  # matrix-vector products: at step m, min(L, K - m) rows of W
            terms = sum(min(L, K - m) for m in range(K))
        out.append((method, K, d, L, "Fraction" if exact else "float64", terms, seconds))
    print(f"{'method':<20} {'K':>5} {'d':>4} {'L':>5} {'arithmetic':>10} {'terms/matvecs':>14} {'wall s':>9}")
    for method, K, d, L, arith, terms, seconds in out:
        print(f"{method:<20} {K:>5} {d:>4} {L:>5} {arith:>10} {terms:>14} {seconds:>9.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
