"""``binomgbml experiment sinusoid``: the sinusoid study of Figure 3 (see :mod:`.sinusoid`).

Prints a table of the mean errors per L (or, with ``--json``, the schema of
:meth:`SinusoidResult.to_json`); with ``--out DIR`` writes figure3a and figure3b as PDF, SVG and
PNG (and, with ``--data``, their numbers as CSV).
"""

from __future__ import annotations

import json
import os
import sys

import cli_common

__all__ = ["main", "DEFAULT_BATCHES"]

#: batches of the default run: about a minute on 2 CPU cores (the paper used 1000)
DEFAULT_BATCHES = 60
#: worker processes by default: one per CPU core, at most 8
DEFAULT_WORKERS = max(1, min(8, os.cpu_count() or 1))


def _parser() -> cli_common.ArgumentParser:
    parser = cli_common.ArgumentParser(
        prog="binomgbml experiment",
        description="Empirical studies. sinusoid: actual meta-gradient errors of TruncMAML and "
                    "BinomMAML against exact MAML on sinusoid regression (Figure 3, Appendix C.1).")
    sub = parser.add_subparsers(dest="study", required=True)
    p = sub.add_parser("sinusoid", help="the sinusoid study of Figure 3")
    p.add_argument("--batches", type=int, default=DEFAULT_BATCHES,
                   help=f"meta-batches (default {DEFAULT_BATCHES}; the paper used 1000)")
    p.add_argument("--tasks", type=int, default=10, help="tasks per meta-batch (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seeds theta, the tasks and the Lanczos start vectors")
    p.add_argument("--K", type=int, default=5, help="inner steps (default 5)")
    p.add_argument("--alpha", type=float, default=0.01, help="inner step size (default 0.01)")
    p.add_argument("--batch-L", type=int, default=None, dest="batch_L",
                   help="truncation L of Figure 3a's per-batch errors (default 4, or K if K < 4)")
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                   help=f"processes (default {DEFAULT_WORKERS}: the CPU cores, at most 8); "
                        "the numbers do not depend on it")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", metavar="DIR", help="write figure3a/figure3b (PDF, SVG, PNG) to DIR")
    p.add_argument("--data", action="store_true", help="with --out: also write the numbers as CSV")
    p.add_argument("--preset", default="column", help="figure preset: column, iclr, neurips")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _table(result) -> str:
    mean = result.mean_error()
    lines = [(f"sinusoid: K={result.config.K} alpha={result.config.alpha} "
              f"batches={result.config.batches} seed={result.config.seed} "
              f"({result.seconds:.1f} s); mean over batches of the task-mean ||est - maml||"),
             (f"mean ||g|| = {result.grad_norm.mean():.6g}, mean ||maml|| = "
              f"{result.maml_norm.mean():.6g}, mean estimated H = {result.H.mean():.6g}"),
             f"{'L':>3} {'trunc':>12} {'binom':>12} {'trunc/binom':>12}"]
    for L, (t, b) in enumerate(zip(mean["trunc"], mean["binom"])):
        ratio = f"{t / b:12.4g}" if b > 0 else f"{'-':>12}"
        lines.append(f"{L:>3} {t:12.4e} {b:12.4e} {ratio}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.data and not args.out:
        raise cli_common.UsageError("--data: needs --out DIR (the CSV files go beside the figures)")
    from bounds.plotting.output import out_directory
    from bounds.plotting.presets import preset

    from . import plots
    from .sinusoid import SinusoidConfig, run

    preset(args.preset)  # validate before the run, not after it
    if args.out is not None:
        out_directory(args.out)
    config = SinusoidConfig(batches=args.batches, K=args.K, alpha=args.alpha, seed=args.seed,
                            batch_L=min(4, args.K) if args.batch_L is None else args.batch_L,
                            tasks=args.tasks)
    result = run(config, progress=not args.no_progress, workers=args.workers)
    if args.out:
        plots.figure3a(result, preset=args.preset).save(args.out, "figure3a", data=args.data)
        plots.figure3b(result, preset=args.preset).save(args.out, "figure3b", data=args.data)
    if args.json:
        json.dump(result.to_json(), sys.stdout)
        sys.stdout.write("\n")
    else:
        print(_table(result))
    return 0
