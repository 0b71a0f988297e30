"""Plots of the paper's error bounds: Figure 2 and bound-vs-parameter plots.

Every plotted number comes from :func:`bounds.evaluate` in exact mode (rational inputs, rational
bounds, divided exactly when normalised) and is converted to float only at the end, so a plotted or
CSV value is the correctly rounded float of the exact bound. A point that breaks its theorem's
conditions (:func:`bounds.not_applicable`) is left out of the plot, kept in the CSV as a row with
``applicable=False`` and its reason, and named in a note on the panel. Values the log axis cannot
show (an exact 0, e.g. trunc and binom at L = K; inf, a bound beyond float64; anything outside
:data:`~.output.LOG_RANGE`, where matplotlib's log axis breaks) are in the CSV only, and the
caption counts the nonzero ones.
"""

from __future__ import annotations

import itertools
import math
import sys
from dataclasses import dataclass
from fractions import Fraction
from numbers import Rational

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from tqdm import tqdm

import bounds

from . import bands
from .output import LOG_RANGE, Plot, log_drawable
from .presets import preset as preset_params

__all__ = ["PARAMS", "ESTIMATORS", "CSV_COLUMNS", "BoundPoint", "bound_point", "bound_points",
           "figure2", "bounds_figure"]

PARAMS = ("K", "L", "alpha", "H", "h", "M")
ESTIMATORS = ("fo", "trunc", "binom")
#: sweeps of this many points or more show a progress bar (stderr)
PROGRESS_AT = 500
CSV_COLUMNS = ("panel", "theorem", *PARAMS, "normalize", "applicable", "reason", *ESTIMATORS)

STYLE = {  # estimator -> line style
    "fo": {"color": "0.45", "linestyle": ":", "marker": None},
    "trunc": {"color": "tab:orange", "linestyle": "--", "marker": "s"},
    "binom": {"color": "tab:blue", "linestyle": "-", "marker": "o"},
}
GROUP_DASHES = ["-", "--", "-.", ":"]
GROUP_MARKERS = ["o", "s", "^", "v", "D", "x"]
LABELS = {"fo": "FOMAML", "trunc": "TruncMAML", "binom": "BinomMAML"}
MATH_NAMES = {"K": "$K", "L": "$L", "alpha": r"$\alpha", "H": "$H", "h": "$h", "M": "$M"}
AXIS_LABELS = {"L": "truncation $L$", "K": "inner steps $K$", "alpha": r"step size $\alpha$"}


@dataclass(frozen=True)
class BoundPoint:
    """One theorem at one parameter point: its bounds (floats), or why it is not applicable."""

    theorem: str
    params: dict  # name -> int / Fraction / None
    reason: str | None
    values: dict | None  # estimator -> float (divided by fo when normalised)
    attained: dict | None = None  # estimator -> float, with tightness (bands.attained_values)

    def row(self, panel: str, normalize: str | None) -> dict:
        values = self.values or {}
        return {"panel": panel, "theorem": self.theorem, **self.params, "normalize": normalize or "",
                "applicable": self.reason is None, "reason": self.reason, **values,
                **bands.row_fields(self.attained)}


def _to_float(value: Fraction) -> float:
    try:
        return float(value)
    except OverflowError:  # beyond float64: inf, as bounds.evaluate does numerically
        return float("inf") if value > 0 else float("-inf")


def _exact(name: str, value):
    """An exact input for ``bounds.evaluate(..., exact=True)``: int, Fraction, or None.

    A float is read as the decimal it prints as (0.1 is 1/10, as ``--alpha 0.1`` is on the command
    line), not as its binary value 3602879701896397/36028797018963968."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, Rational):
        return Fraction(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} = {value!r}: must be a finite number")
    if isinstance(value, (str, float)):
        try:
            return Fraction(repr(value) if isinstance(value, float) else value)
        except ValueError:
            raise ValueError(f"{name} = {value!r}: not a number (write e.g. 1/4 or 0.25)") from None
    raise ValueError(f"{name} = {value!r}: expected an int, a fraction or a decimal")


def bound_point(theorem: str, params: dict, normalize: str | None = None,
                tightness: bool = False) -> BoundPoint:
    """Evaluate ``theorem`` exactly at ``params`` (keys of :data:`PARAMS`); divide by fo if asked;
    with ``tightness``, also the attained worst case (:func:`bands.attained_values`)."""
    if normalize not in (None, "fo"):
        raise ValueError(f"--normalize {normalize!r}: must be 'fo' or absent")
    params = {k: _exact(k, params.get(k)) for k in PARAMS}
    thm = bounds.get_theorem(theorem)
    args = [params[k] for k in PARAMS]
    reason = bounds.not_applicable(thm, *args)
    if reason is not None:
        return BoundPoint(theorem, params, reason, None)
    exact = bounds.evaluate(thm, *args, exact=True)
    attained = (bands.attained_values(thm.number, params, Fraction(exact["fo"]) if normalize else None)
                if tightness else None)
    if normalize == "fo":
        if exact["fo"] == 0:
            raise ValueError(f"--normalize fo: the fo bound of Theorem {theorem} is 0 at {params}")
        exact = {e: Fraction(exact[e]) / Fraction(exact["fo"]) for e in ESTIMATORS}
    return BoundPoint(theorem, params, None, {e: _to_float(Fraction(exact[e])) for e in ESTIMATORS},
                      attained)


def bound_points(theorem: str, vs: str, xs, fixed: dict, normalize: str | None = None,
                 tightness: bool = False) -> list[BoundPoint]:
    """``theorem``'s bounds at each ``vs = x`` for x in ``xs``, the other parameters from ``fixed``.

    In a sweep over K or L, points with L > K are left out (as ``binomgbml bounds`` does).
    Exact evaluation grows like K^2 over a K sweep, so sweeps of PROGRESS_AT points or more show
    a progress bar on stderr.
    """
    if vs not in AXIS_LABELS:
        raise ValueError(f"--vs {vs!r}: must be one of {', '.join(AXIS_LABELS)}")
    xs = list(xs)
    points = []
    for x in tqdm(xs, desc=f"Theorem {theorem}: exact bounds", file=sys.stderr, leave=False,
                  disable=len(xs) < PROGRESS_AT):
        params = dict(fixed) | {vs: x}
        if params.get("L") is not None and params.get("K") is not None and params["L"] > params["K"]:
            continue
        points.append(bound_point(theorem, params, normalize, tightness))
    return points


def _note(points: list[BoundPoint], vs: str) -> str | None:
    """A one-line panel note naming the swept values left out for breaking the theorem's conditions."""
    left_out = [p for p in points if p.reason is not None]
    if not left_out:
        return None
    xs = ", ".join(str(p.params[vs]) for p in left_out)
    return f"{MATH_NAMES[vs]}$ = {xs} omitted\n(Theorem {left_out[0].theorem}'s conditions)"


def _draw(ax, points: list[BoundPoint], vs: str, estimators, *, label_suffix: str = "",
          group: int = 0, grouped: bool = False) -> int:
    """Draw one series per estimator, only the values a log axis shows (:func:`log_drawable`:
    no 0, no inf, nothing beyond :data:`LOG_RANGE`). Returns how many nonzero values were
    left out as off-scale (the exact zeros at L = K are expected and not counted). Points with
    ``attained`` values (tightness) get their band shaded (:func:`bands.shade`)."""
    banded = [p for p in points if p.attained is not None]
    if banded:
        bands.shade(ax, [float(p.params[vs]) for p in banded], [p.values for p in banded],
                    [p.attained for p in banded], estimators, {e: STYLE[e]["color"] for e in estimators})
    off_scale = 0
    for est in estimators:
        applicable = [p for p in points if p.values is not None]
        x, y = log_drawable([float(p.params[vs]) for p in applicable],
                            [p.values[est] for p in applicable])
        off_scale += sum(1 for p in applicable if p.values[est] != 0) - len(y)
        if not len(y):
            continue
        style = dict(STYLE[est])
        if grouped:
            style["linestyle"] = GROUP_DASHES[group % len(GROUP_DASHES)]
            style["marker"] = None if est == "fo" else GROUP_MARKERS[group % len(GROUP_MARKERS)]
        ax.plot(x, y, label=LABELS[est] + label_suffix, **style)
    return off_scale


def _finish_axes(ax, vs: str, normalize: str | None, xs, note: str | None) -> None:
    ax.set_yscale("log")
    ax.set_xlabel(AXIS_LABELS[vs])
    ax.set_ylabel("bound / FOMAML bound" if normalize else "error bound / $\\|g\\|$")
    if vs in ("L", "K"):
        if len(xs) <= 12:
            ax.set_xticks([int(x) for x in xs])
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, which="major", alpha=0.4)
    if note:
        ax.text(0.03, 0.03, note, transform=ax.transAxes, fontsize="x-small", va="bottom",
                ha="left", color="0.25")


def _off_scale_note(count: int) -> str:
    """A caption sentence for nonzero values not drawn (outside :data:`LOG_RANGE`)."""
    if not count:
        return ""
    return (f" {count} nonzero value(s) outside {LOG_RANGE[0]:g} to {LOG_RANGE[1]:g} (beyond what the "
            f"log axis can show) are not drawn; the CSV (--data) has them.")


FIGURE2_PANELS = (("a", "3.6"), ("b", "3.8"), ("c", "3.10"))


def figure2(*, K=5, alpha=Fraction(1, 4), H=1, h=Fraction(1, 10), M=1, preset: str = "iclr",
            usetex: bool = False, tightness: bool = False) -> Plot:
    """The paper's Figure 2: the bounds of Theorems 3.6 (a), 3.8 (b), 3.10 (c) over L = 0..K,
    each divided by its theorem's fo bound, log-scale y (defaults: the paper's K=5, alpha=1/4,
    H=1, h=1/10, M=1).

    Where the paper plots a point that breaks the theorem's own conditions (Theorem 3.10 needs
    1 <= M <= min(L, K-L), so with M=1, K=5 only L = 1..4 is valid, although Section 3.2 says
    L in {1..5}), the condition wins: the point is left out and named on the panel and in the
    caption. ``tightness``: shade each bound's band down to the attained worst case (:mod:`.bands`).
    """
    fixed = {"K": K, "alpha": alpha, "H": H, "h": h, "M": M}
    Ls = range(int(K) + 1)
    rc = preset_params(preset, ncols=3, usetex=usetex, height_to_width=0.9)
    rows, omitted, off_scale = [], [], 0
    with matplotlib.rc_context(rc):
        fig = Figure()
        axes = fig.subplots(1, 3, sharey=True)
        for ax, (panel, theorem) in zip(axes, FIGURE2_PANELS):
            points = bound_points(theorem, "L", Ls, fixed, normalize="fo", tightness=tightness)
            off_scale += _draw(ax, points, "L", ESTIMATORS)
            _finish_axes(ax, "L", "fo", Ls, _note(points, "L"))
            ax.set_title(f"({panel}) Theorem {theorem}")
            rows += [p.row(panel, "fo") for p in points]
            omitted += [(panel, p) for p in points if p.reason is not None]
        for ax in axes[1:]:
            ax.set_ylabel("")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=3)
    setting = ", ".join(f"{k}={_exact(k, v)}" for k, v in fixed.items())
    caption = (f"Estimation error upper bounds of Theorems (a) 3.6, (b) 3.8 and (c) 3.10, normalised "
               f"to the FOMAML bound, against L ({setting}). At L = K the TruncMAML and BinomMAML "
               f"bounds are 0 (both estimators are exact there) and fall off the log axis.")
    for panel, p in omitted:
        caption += f" ({panel}) L = {p.params['L']} left out: {p.reason}."
    caption += bands.CAPTION if tightness else ""
    return Plot(fig, rc, _columns(tightness), rows, caption + _off_scale_note(off_scale))


def _columns(tightness: bool) -> tuple:
    return CSV_COLUMNS + bands.COLUMNS if tightness else CSV_COLUMNS


def _grid(fixed: dict) -> list[dict]:
    """All combinations of the fixed parameters given as lists (the overlays)."""
    names = list(fixed)
    lists = [v if isinstance(v, (list, tuple)) else [v] for v in fixed.values()]
    return [dict(zip(names, combo)) for combo in itertools.product(*lists)]


def bounds_figure(theorems, vs: str, xs, fixed: dict, *, normalize: str | None = None,
                  estimators=ESTIMATORS, preset: str = "column", usetex: bool = False,
                  tightness: bool = False) -> Plot:
    """Bounds of each theorem in ``theorems`` against ``vs`` (L, K or alpha) at ``xs``.

    ``fixed`` maps the other parameters to a value or a list of values; every combination of the
    lists is a separate overlaid curve group, as is every theorem. ``tightness``: shade each
    bound's band down to the attained worst case (:mod:`.bands`).
    Raises ValueError when a theorem has no applicable point at all.
    """
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown:
        raise ValueError(f"--estimators {unknown[0]!r}: must be among {', '.join(ESTIMATORS)}")
    groups = [(t, combo) for t in theorems for combo in _grid(fixed)]
    grouped = len(groups) > 1
    rows, notes, omitted, off_scale = [], [], [], 0
    rc = preset_params(preset, usetex=usetex)
    with matplotlib.rc_context(rc):
        fig = Figure()
        ax = fig.subplots()
        for i, (theorem, combo) in enumerate(groups):
            points = bound_points(theorem, vs, xs, combo, normalize, tightness)
            if all(p.reason is not None for p in points):
                reason = (points[0].reason if points else f"no --{vs} value given" if not len(xs)
                          else f"every point has L > K for --vs {vs}")
                raise ValueError(f"--theorem {theorem}: no plotted point is applicable ({reason})")
            varying = {k: v for k, v in combo.items() if isinstance(fixed[k], (list, tuple))}
            suffix = (f", Thm {theorem}" if len(theorems) > 1 else "") + "".join(
                f", {MATH_NAMES[k]} = {_exact(k, v)}$" for k, v in varying.items())
            off_scale += _draw(ax, points, vs, estimators, label_suffix=suffix, group=i,
                               grouped=grouped)
            rows += [p.row(str(i), normalize) for p in points]
            omitted += [p for p in points if p.reason is not None]
            note = _note(points, vs)
            if note:
                notes.append(note.replace("\n", " "))
        _finish_axes(ax, vs, normalize, xs if vs != "alpha" else [], "\n".join(notes[:2]) or None)
        if vs == "alpha":
            ax.set_xscale("log")
        ax.set_title(", ".join(f"Theorem {t}" for t in theorems))
        if grouped:  # many curves: the legend goes below the axes, not over them
            fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center",
                       ncols=len(estimators))
        else:
            ax.legend(loc="best")
    caption = (f"Error bounds of Theorem(s) {', '.join(theorems)} against {vs}"
               + (", normalised to the FOMAML bound" if normalize else " (multiples of ||g||)") + ".")
    caption += "".join(f" {vs} = {p.params[vs]} left out: {p.reason}." for p in omitted)
    caption += bands.CAPTION if tightness else ""
    return Plot(fig, rc, _columns(tightness), rows, caption + _off_scale_note(off_scale))
