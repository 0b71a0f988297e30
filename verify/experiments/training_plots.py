"""The analogues of Figure 5 from a :class:`~verify.experiments.train.TrainResult`, and its table.

Figure 5 of the paper shows meta-training accuracy and loss against iterations on miniImageNet.
Here: the meta-test loss (after adaptation, on held-out tasks) against iterations and against
training wall-clock time, and for classification the meta-test accuracy against iterations; one
line per estimator, every estimator from the same initialisation on the same tasks.
"""

from __future__ import annotations

import math

import matplotlib
from matplotlib.figure import Figure

from bounds.plotting.output import Plot, log_drawable
from bounds.plotting.presets import preset as preset_params

from .train import TrainResult

__all__ = ["figures", "table"]

#: a colour per estimator family; truncations of one family differ in line style
FAMILY_COLORS = {"fo": "tab:gray", "trunc": "tab:orange", "binom": "tab:blue", "maml": "black",
                 "imaml": "tab:green", "maml_autograd": "tab:purple"}
STYLES = ("-", "--", ":", "-.")


def _family(name: str) -> str:
    """fo, trunc, binom, maml, imaml or maml_autograd: what a NAME (e.g. binom2_rescaled) runs."""
    return next(f for f in ("maml_autograd", "imaml", "trunc", "binom", "maml", "fo")
                if name.startswith(f))


def _style(result: TrainResult, name: str) -> dict:
    family = _family(name)
    same = [n for n in result.curves if _family(n) == family]
    offset = 1 if family in ("maml", "maml_autograd") else 0  # exact: dashed, over binom(K)
    return {"color": FAMILY_COLORS[family], "ls": STYLES[(same.index(name) + offset) % len(STYLES)],
            "label": name}


def _setting(result: TrainResult) -> str:
    c = result.config
    task = ("sinusoid regression (1-40-40-1 MLP)" if c.images is None else
            f"{c.ways}-way {c.shots}-shot classification (CNN4, {c.image_size}x{c.image_size})")
    return (f"{task}; K={c.K}, alpha={c.alpha}, Adam beta={c.beta}, meta-batch {c.meta_batch}, "
            f"seed {c.seed}, {result.workers} worker(s) x {c.threads} thread(s); mean over "
            f"{c.eval_tasks} held-out tasks after K inner steps.")


def _plot(result: TrainResult, key: str, x: str, preset: str, usetex: bool, log: bool,
          xlabel: str, ylabel: str, caption: str) -> Plot:
    """One line per estimator; a log y axis if ``log`` and the values span more than 10x."""
    rc = preset_params(preset, usetex=usetex)
    with matplotlib.rc_context(rc):
        fig = Figure()
        ax = fig.subplots()
        drawn = [log_drawable(curve[x], curve[key]) for curve in result.curves.values()]
        values = [v for _, ys in drawn for v in ys]
        log = log and bool(values) and max(values) > 10 * min(values)  # else a linear axis reads better
        for name, curve in result.curves.items():
            xs, ys = log_drawable(curve[x], curve[key]) if log else (curve[x], curve[key])
            ax.plot(xs, ys, **_style(result, name))
        if log:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.4)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center",
                   ncols=min(4, len(result.curves)))
    columns = ("estimator", "iteration", "seconds", key)
    rows = [{"estimator": name, "iteration": i, "seconds": s, key: v}
            for name, curve in result.curves.items()
            for i, s, v in zip(curve["iterations"], curve["seconds"], curve[key])]
    return Plot(fig, rc, columns, rows, f"{caption} ({_setting(result)})")


def figures(result: TrainResult, *, preset: str = "column", usetex: bool = False) -> dict[str, Plot]:
    """name -> Plot: ``meta_test_loss_vs_iterations``, ``meta_test_loss_vs_seconds`` and, for
    classification, ``meta_test_accuracy_vs_iterations``."""
    out = {
        "meta_test_loss_vs_iterations": _plot(
            result, "meta_test_loss", "iterations", preset, usetex, True, "meta-training iteration",
            "meta-test loss", "Meta-test loss after adaptation against meta-training iterations"),
        "meta_test_loss_vs_seconds": _plot(
            result, "meta_test_loss", "seconds", preset, usetex, True, "training time (s)",
            "meta-test loss", "Meta-test loss after adaptation against training wall-clock time"),
    }
    if result.config.images is not None:
        out["meta_test_accuracy_vs_iterations"] = _plot(
            result, "meta_test_accuracy", "iterations", preset, usetex, False,
            "meta-training iteration", "meta-test accuracy",
            "Meta-test accuracy after adaptation against meta-training iterations")
    return out


def table(result: TrainResult) -> str:
    """The meta-test loss at the start, the end and its best, time per iteration, peak memory."""
    c = result.config
    accuracy = c.images is not None
    lines = [(f"train {c.task}: K={c.K} alpha={c.alpha} beta={c.beta} meta-batch={c.meta_batch} "
              f"iterations={c.iterations} seed={c.seed} workers={result.workers} "
              f"threads={c.threads} hvp={c.hvp}"),
             f"meta-test loss after adaptation, mean over {c.eval_tasks} held-out tasks",
             f"{'estimator':<18} {'start':>9} {'end':>9} {'best':>9}"
             + (f" {'end acc':>8}" if accuracy else "") + f" {'s/iter':>9} {'peak MiB':>9}"]
    for name, curve in result.curves.items():
        losses = curve["meta_test_loss"] or [math.nan]  # nan: failed before its first evaluation
        memory = curve["peak_memory_mib"]
        per = curve["seconds_per_iteration"]
        row = (f"{name:<18} {losses[0]:9.4g} {losses[-1]:9.4g} {min(losses):9.4g}"
               + (f" {(curve['meta_test_accuracy'] or [math.nan])[-1]:8.3f}" if accuracy else "")
               + f" {'-' if per is None else format(per, '.4g'):>9}"
               + f" {'-' if memory is None else format(memory, '.1f'):>9}")
        if "failed" in curve:
            row += f"  failed at iteration {curve['failed']['iteration']}: {curve['failed']['error']}"
        lines.append(row)
    return "\n".join(lines)
