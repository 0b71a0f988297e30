"""``binomgbml experiment``: the empirical studies.

* ``sinusoid``: the sinusoid study of Figure 3 (see :mod:`.sinusoid`). Prints a table of the mean
  errors per L (or, with ``--json``, the schema of :meth:`SinusoidResult.to_json`); with
  ``--out DIR`` writes figure3a and figure3b as PDF, SVG and PNG (and, with ``--data``, CSV).
* ``train``: meta-training with each estimator (see :mod:`.train`). Prints a table of the
  meta-test loss, time per iteration and peak memory per estimator (or, with ``--json``, the
  schema of :meth:`TrainResult.to_json`); with ``--out DIR`` writes the Figure 5 analogues.

Both check ``--out`` (creatable, writable) before the run; Ctrl-C ends a run with status 130 and
one line, without a traceback (the dispatcher's, :func:`cli_common.run_command`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import cli_common

__all__ = ["DEFAULT_BATCHES", "main"]

#: batches of the default run: about a minute on 2 CPU cores (the paper used 1000)
DEFAULT_BATCHES = 60
#: worker processes by default: one per CPU core, at most 8
DEFAULT_WORKERS = max(1, min(8, os.cpu_count() or 1))
#: Appendix C.2's iterations and meta-batch, the defaults of ``train`` with --images
IMAGE_ITERATIONS = 20000
IMAGE_META_BATCH = 4


def _parser() -> cli_common.ArgumentParser:
    parser = cli_common.ArgumentParser(
        prog="binomgbml experiment",
        description="Empirical studies. sinusoid: actual meta-gradient errors of TruncMAML and "
                    "BinomMAML against exact MAML on sinusoid regression (Figure 3, Appendix C.1). "
                    "train: meta-training with each estimator from the same initialisation on the "
                    "same tasks (Section 4.2, Figure 5), on sinusoids or an image folder.")
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
    _output_flags(p, "figure3a/figure3b")
    _train_parser(sub)
    return parser


def _output_flags(p, figures: str) -> None:
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", metavar="DIR", help=f"write {figures} (PDF, SVG, PNG) to DIR")
    p.add_argument("--data", action="store_true", help="with --out: also write the numbers as CSV")
    p.add_argument("--preset", default="column", help="figure preset: column, iclr, neurips")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _train_parser(sub) -> None:
    from .train import FIXED_HVP, TOKENS, TrainConfig

    d = TrainConfig()
    p = sub.add_parser("train", help="meta-train with each estimator and compare (Figure 5)")
    p.add_argument("--iterations", type=int, default=None,
                   help=f"meta-training iterations (default {d.iterations} for sinusoid, "
                        f"{IMAGE_ITERATIONS} with --images, as Appendix C.2)")
    p.add_argument("--estimators", default=",".join(d.estimators),
                   help=f"comma-separated, from {','.join(TOKENS)} (default "
                        f"{','.join(d.estimators)}); trunc and binom run once per --L")
    p.add_argument("--L", default=",".join(map(str, d.L)),
                   help=f"truncations of trunc and binom, comma-separated (default {d.L[0]})")
    p.add_argument("--K", type=int, default=d.K, help=f"inner steps (default {d.K})")
    p.add_argument("--alpha", type=float, default=d.alpha, help=f"inner step size (default {d.alpha})")
    p.add_argument("--beta", type=float, default=d.beta, help=f"Adam step size (default {d.beta})")
    p.add_argument("--meta-batch", type=int, default=None, dest="meta_batch",
                   help=f"tasks per iteration (default {d.meta_batch} for sinusoid, "
                        f"{IMAGE_META_BATCH} with --images)")
    p.add_argument("--seed", type=int, default=d.seed, help="seeds theta and the tasks (default 0)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes sharing each meta-batch through DistributedDataParallel "
                        "(default 1); the same training as one process, up to rounding")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads per worker (default 1)")
    p.add_argument("--eval-every", type=int, default=None, dest="eval_every",
                   help="iterations between meta-test evaluations (default iterations / 20)")
    p.add_argument("--eval-tasks", type=int, default=d.eval_tasks, dest="eval_tasks",
                   help=f"held-out tasks of the meta-test loss (default {d.eval_tasks})")
    p.add_argument("--lam", type=float, default=None,
                   help="iMAML's lambda (default 1 / (K alpha))")
    p.add_argument("--imaml-steps", type=int, default=d.imaml_steps, dest="imaml_steps",
                   help=f"iMAML's conjugate-gradient steps (default {d.imaml_steps})")
    p.add_argument("--hvp", default=d.hvp, help=f"HVP mode: {', '.join(FIXED_HVP)} (default {d.hvp})")
    p.add_argument("--memory", default=d.memory,
                   help=f"what --hvp graph keeps: fast (every inner step's gradient graph) or flat "
                        f"(one at a time) (default {d.memory})")
    p.add_argument("--images", metavar="DIR", default=None,
                   help="few-shot classification on DIR (one sub-folder of images per class; "
                        "train/ and test/ sub-folders for an explicit split) instead of sinusoids")
    p.add_argument("--ways", type=int, default=d.ways, help=f"with --images: W (default {d.ways})")
    p.add_argument("--shots", type=int, default=d.shots, help=f"with --images: S (default {d.shots})")
    p.add_argument("--queries", type=int, default=d.queries,
                   help=f"with --images: query images per class (default {d.queries})")
    p.add_argument("--image-size", type=int, default=d.image_size, dest="image_size",
                   help=f"with --images: images are resized to N x N (default {d.image_size})")
    p.add_argument("--device", default=d.device, help="cpu (default) or cuda[:N]")
    p.add_argument("--dtype", default=None,
                   help="float64 (default for sinusoid) or float32 (default with --images)")
    _output_flags(p, "the meta-test curves")


def _default(value, default):
    return default if value is None else value


def _names(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _integers(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise cli_common.UsageError(f"--L {text!r}: must be comma-separated integers") from None


def _out(path: str | None) -> Path | None:
    """``--out DIR`` checked (creatable, writable) now, so that no run is lost at its end."""
    if path is None:
        return None
    from bounds.plotting.output import out_directory

    return out_directory(path)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.data and not args.out:
        raise cli_common.UsageError("--data: needs --out DIR (the CSV files go beside the figures)")
    from bounds.plotting.presets import preset

    preset(args.preset)  # validate before the run, not after it
    if args.study == "train":
        return _train(args)
    from . import plots
    from .sinusoid import SinusoidConfig, run

    config = SinusoidConfig(batches=args.batches, K=args.K, alpha=args.alpha, seed=args.seed,
                            batch_L=min(4, args.K) if args.batch_L is None else args.batch_L,
                            tasks=args.tasks)
    _out(args.out)
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


def _train(args) -> int:
    from . import training_plots
    from .train import TrainConfig, default_threads, run

    images = args.images is not None
    config = TrainConfig(
        iterations=_default(args.iterations, IMAGE_ITERATIONS if images else TrainConfig.iterations),
        estimators=_names(args.estimators), L=_integers(args.L), K=args.K, alpha=args.alpha,
        beta=args.beta,
        meta_batch=_default(args.meta_batch, IMAGE_META_BATCH if images else TrainConfig.meta_batch),
        seed=args.seed, eval_every=args.eval_every, eval_tasks=args.eval_tasks, lam=args.lam,
        imaml_steps=args.imaml_steps, hvp=args.hvp, memory=args.memory, images=args.images, ways=args.ways,
        shots=args.shots, queries=args.queries, image_size=args.image_size, device=args.device,
        dtype=args.dtype or ("float32" if images else "float64"),
        threads=default_threads(args.workers) if args.threads is None else args.threads)
    out = _out(args.out)
    result = run(config, workers=args.workers, progress=not args.no_progress)
    if out is not None:
        for name, plot in training_plots.figures(result, preset=args.preset).items():
            plot.save(out, name, data=args.data)
    if args.json:
        json.dump(result.to_json(), sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(training_plots.table(result))
    return 0


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
