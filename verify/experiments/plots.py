"""Figure 3 of the paper from a :class:`~verify.experiments.sinusoid.SinusoidResult`.

(a) the batch-mean error of TruncMAML and BinomMAML at one truncation L (default 4) against the
batch index; (b) the error averaged over batches against L = 0..K. Both on a log axis, with the
Theorem 3.6 bound (eq. (11b), (11c), H estimated along the trajectory) overlaid as thin lines.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from bounds.plotting.presets import preset as preset_params

from .sinusoid import ESTIMATORS, SinusoidResult

__all__ = ["figure3a", "figure3b", "CSV_COLUMNS_3A", "CSV_COLUMNS_3B"]

COLORS = {"trunc": "tab:orange", "binom": "tab:blue"}
LABELS = {"trunc": "TruncMAML", "binom": "BinomMAML"}
CSV_COLUMNS_3A = ("batch", "L", "trunc", "binom", "trunc_bound", "binom_bound", "grad_norm", "H")
CSV_COLUMNS_3B = ("L", "trunc", "binom", "trunc_bound", "binom_bound")


def _positive(x, y):
    """Points drawable on a log axis (an exact 0, e.g. at L = K, is not)."""
    x, y = np.asarray(x), np.asarray(y)
    keep = (y > 0) & np.isfinite(y)
    return x[keep], y[keep]


def figure3a(result: SinusoidResult, *, L: int | None = None, preset: str = "column",
             usetex: bool = False, overlay: bool = True):
    """Figure 3a: batch-mean error at truncation ``L`` per batch. Returns ``(fig, rows)``."""
    L = result.config.batch_L if L is None else L
    batches = np.arange(1, result.config.batches + 1)
    with matplotlib.rc_context(preset_params(preset, usetex=usetex)):
        fig = Figure()
        ax = fig.subplots()
        marker = "." if len(batches) <= 200 else None
        for e in ESTIMATORS:
            ax.plot(*_positive(batches, result.error[e][:, L]), color=COLORS[e], marker=marker,
                    label=f"{LABELS[e]} ($L={L}$)")
            if overlay:
                ax.plot(*_positive(batches, result.bound[e][:, L]), color=COLORS[e], lw=0.6,
                        alpha=0.6, ls="--", label=f"Thm 3.6 bound ({e})")
        ax.set_yscale("log")
        ax.set_xlabel("meta-batch")
        ax.set_ylabel(r"mean $\|\hat\nabla - \nabla\|$ over tasks")
        ax.grid(True, alpha=0.4)
        ax.legend(loc="best", ncols=2)
    rows = [{"batch": int(b), "L": L, **{e: float(result.error[e][i, L]) for e in ESTIMATORS},
             **{f"{e}_bound": float(result.bound[e][i, L]) for e in ESTIMATORS},
             "grad_norm": float(result.grad_norm[i]), "H": float(result.H[i])}
            for i, b in enumerate(batches)]
    return fig, rows


def figure3b(result: SinusoidResult, *, preset: str = "column", usetex: bool = False,
             overlay: bool = True):
    """Figure 3b: error averaged over batches against L = 0..K. Returns ``(fig, rows)``."""
    K = result.config.K
    Ls = np.arange(K + 1)
    mean = {e: result.error[e].mean(axis=0) for e in ESTIMATORS}
    mean_bound = {e: result.bound[e].mean(axis=0) for e in ESTIMATORS}
    with matplotlib.rc_context(preset_params(preset, usetex=usetex)):
        fig = Figure()
        ax = fig.subplots()
        for e, marker in zip(ESTIMATORS, ("s", "o")):
            ax.plot(*_positive(Ls, mean[e]), color=COLORS[e], marker=marker, label=LABELS[e])
            if overlay:
                ax.plot(*_positive(Ls, mean_bound[e]), color=COLORS[e], lw=0.6, alpha=0.6, ls="--",
                        label=f"Thm 3.6 bound ({e})")
        ax.set_yscale("log")
        ax.set_xticks(Ls)
        ax.set_xlabel("truncation $L$")
        ax.set_ylabel(r"mean $\|\hat\nabla - \nabla\|$")
        ax.grid(True, alpha=0.4)
        ax.legend(loc="best")
    rows = [{"L": int(L), **{e: float(mean[e][L]) for e in ESTIMATORS},
             **{f"{e}_bound": float(mean_bound[e][L]) for e in ESTIMATORS}} for L in Ls]
    return fig, rows
