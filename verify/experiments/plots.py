"""Figure 3 of the paper from a :class:`~verify.experiments.sinusoid.SinusoidResult`.

(a) the batch-mean error of TruncMAML and BinomMAML at one truncation L (default 4) against the
batch index; (b) the error averaged over batches against L = 0..K. Both on a log axis, with the
Theorem 3.6 bound (eq. (11b), (11c), H estimated along the trajectory) overlaid as thin lines.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bounds.plotting.output import Plot, log_drawable
from bounds.plotting.presets import preset as preset_params

from .sinusoid import COMPARED, SinusoidResult

__all__ = ["figure3a", "figure3b"]

COLORS = {"trunc": "tab:orange", "binom": "tab:blue"}
LABELS = {"trunc": "TruncMAML", "binom": "BinomMAML"}
MARKERS = {"trunc": "s", "binom": "o"}
OVERLAY_NOTE = ("Thin dashed lines: the Theorem 3.6 bounds (11b), (11c) times ||g||, with H estimated "
                "as max_k ||H^k|| along each task's trajectory (Lanczos on the HVPs), "
                "averaged like the errors.")


def _lines(ax, x, values: dict, bounds: dict | None, marker: bool, suffix: str = "") -> None:
    for e in COMPARED:
        ax.plot(*log_drawable(x, values[e]), color=COLORS[e], marker=MARKERS[e] if marker else None,
                label=LABELS[e] + suffix)
        if bounds is not None:
            ax.plot(*log_drawable(x, bounds[e]), color=COLORS[e], lw=0.6, alpha=0.7, ls="--",
                    label=f"bound (11{'b' if e == 'trunc' else 'c'})")


def _setting(result: SinusoidResult) -> str:
    c = result.config
    return (f"K={c.K}, alpha={c.alpha}, {c.batches} meta-batches of {c.tasks} tasks, seed {c.seed}; "
            f"error = ||estimate - MAML meta-gradient||_2, averaged over the tasks of a batch.")


def figure3a(result: SinusoidResult, *, L: int | None = None, preset: str = "column",
             usetex: bool = False, overlay: bool = True) -> Plot:
    """Figure 3a: the batch-mean error at truncation ``L`` for each batch."""
    L = result.config.batch_L if L is None else L
    batches = np.arange(1, result.config.batches + 1)
    rc = preset_params(preset, usetex=usetex)
    with matplotlib.rc_context(rc):
        fig = Figure()
        ax = fig.subplots()
        _lines(ax, batches, {e: result.error[e][:, L] for e in COMPARED},
               {e: result.bound[e][:, L] for e in COMPARED} if overlay else None,
               marker=len(batches) <= 50, suffix=f" ($L={L}$)")
        ax.set_yscale("log")
        ax.set_xlabel("meta-batch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("meta-gradient error")
        ax.grid(True, alpha=0.4)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    columns = ("batch", "L", "trunc", "binom", "trunc_bound", "binom_bound", "grad_norm",
               "maml_norm", "H")
    rows = [{"batch": int(b), "L": L, **{e: float(result.error[e][i, L]) for e in COMPARED},
             **{f"{e}_bound": float(result.bound[e][i, L]) for e in COMPARED},
             "grad_norm": float(result.grad_norm[i]), "maml_norm": float(result.maml_norm[i]),
             "H": float(result.H[i])}
            for i, b in enumerate(batches)]
    caption = (f"Actual meta-gradient error of TruncMAML and BinomMAML at L = {L} for each "
               f"meta-batch (sinusoid regression; {_setting(result)})")
    return Plot(fig, rc, columns, rows, caption + (" " + OVERLAY_NOTE if overlay else ""))


def figure3b(result: SinusoidResult, *, preset: str = "column", usetex: bool = False,
             overlay: bool = True) -> Plot:
    """Figure 3b: the error averaged over batches against L = 0..K."""
    Ls = np.arange(result.config.K + 1)
    mean = {e: result.error[e].mean(axis=0) for e in COMPARED}
    mean_bound = {e: result.bound[e].mean(axis=0) for e in COMPARED}
    rc = preset_params(preset, usetex=usetex)
    with matplotlib.rc_context(rc):
        fig = Figure()
        ax = fig.subplots()
        _lines(ax, Ls, mean, mean_bound if overlay else None, marker=True)
        ax.set_yscale("log")
        ax.set_xticks(Ls)
        ax.set_xlabel("truncation $L$")
        ax.set_ylabel("meta-gradient error")
        ax.grid(True, alpha=0.4)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    columns = ("L", "trunc", "binom", "trunc_bound", "binom_bound")
    rows = [{"L": int(L), **{e: float(mean[e][L]) for e in COMPARED},
             **{f"{e}_bound": float(mean_bound[e][L]) for e in COMPARED}} for L in Ls]
    caption = (f"Actual meta-gradient error against truncation L, averaged over meta-batches "
               f"(sinusoid regression; {_setting(result)}) At L = K both estimators are exact "
               f"(error 0 up to round-off; an exact 0 is not drawn on the log axis).")
    return Plot(fig, rc, columns, rows, caption + (" " + OVERLAY_NOTE if overlay else ""))
