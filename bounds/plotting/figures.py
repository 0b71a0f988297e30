"""Plots of the paper's error bounds: Figure 2 and bound-vs-parameter plots.

Every plotted number comes from the evaluation path of ``binomgbml bounds``
(:func:`bounds.tables.bound_rows` in exact mode: rational inputs, rational bounds, divided exactly
when normalised) and is converted to float only at the end, so a plotted or CSV value is the
correctly rounded float of the exact bound. ``variant="corrected"`` plots the proven replacements
of the bounds that are false in general, ``"all"`` draws them beside the printed ones (same colour,
dash-dot, triangles; the legend says which is which). A point that breaks its theorem's
conditions is left out of the plot, kept in the CSV as a row with
``applicable=False`` and its reason, and named in a note on the panel. Values the log axis cannot
show (an exact 0, e.g. trunc and binom at L = K; inf, a bound beyond float64; anything outside
:data:`~.output.LOG_RANGE`, where matplotlib's log axis breaks) are in the CSV only, and the
caption counts the nonzero ones.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from fractions import Fraction
from collections.abc import Sequence
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from tqdm import tqdm

from ..evaluation import get_theorem, variants_for
from ..params import to_float, to_fraction
from ..tables import bound_rows
from . import bands
from .output import LOG_RANGE, Plot, log_drawable
from .presets import preset as preset_params

__all__ = ["PARAMS", "BOUNDED", "CSV_COLUMNS", "BoundPoint", "bound_point", "bound_points",
           "figure2", "bounds_figure"]

PARAMS = ("K", "L", "alpha", "H", "h", "M")
#: the estimators whose errors the theorems bound (the curves of a plot)
BOUNDED = ("fo", "trunc", "binom")
#: sweeps of this many points or more show a progress bar (stderr)
PROGRESS_AT = 500
CSV_COLUMNS = ("panel", "theorem", *PARAMS, "normalize", "applicable", "reason", *BOUNDED, "variant",
               *(f"{e}_status" for e in BOUNDED))

STYLE: dict[str, dict[str, Any]] = {  # estimator -> line style
    "fo": {"color": "0.45", "linestyle": ":", "marker": None},
    "trunc": {"color": "tab:orange", "linestyle": "--", "marker": "s"},
    "binom": {"color": "tab:blue", "linestyle": "-", "marker": "o"},
}
#: a corrected bound beside its printed one: the estimator's colour, dash-dot, triangles
CORRECTED_STYLE = {"linestyle": (0, (5, 1.5, 1, 1.5)), "marker": "^", "markerfacecolor": "none"}
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
    variant: str = "printed"
    status: dict | None = None  # estimator -> "holds" / "false in general" / "corrected"
    attained: dict | None = None  # estimator -> float, with tightness (bands.attained_values)

    def row(self, panel: str, normalize: str | None) -> dict:
        values = self.values or {}
        status = {f"{e}_status": v for e, v in (self.status or {}).items()}
        return {"panel": panel, "theorem": self.theorem, **self.params, "normalize": normalize or "",
                "applicable": self.reason is None, "reason": self.reason, **values,
                "variant": self.variant, **status, **bands.row_fields(self.attained)}


def _exact(name: str, value):
    """An exact input for ``bounds.evaluate(..., exact=True)``: int, Fraction, or None.

    A float is read as the decimal it prints as (0.1 is 1/10, as ``--alpha 0.1`` is on the command
    line), not as its binary value 3602879701896397/36028797018963968."""
    if value is None or isinstance(value, int):
        return value
    return to_fraction(name, value, floats="decimal")


def bound_point(theorem: str, params: dict, normalize: str | None = None,
                variant: str = "printed", tightness: bool = False) -> BoundPoint:
    """Evaluate ``theorem``'s ``variant`` ("printed" or "corrected") exactly at ``params`` (keys
    of :data:`PARAMS`), through the rows of ``binomgbml bounds``; divide by fo if asked; with
    ``tightness``, also the attained worst case (:func:`bands.attained_values`)."""
    if normalize not in (None, "fo"):
        raise ValueError(f"--normalize {normalize!r}: must be 'fo' or absent")
    params = {k: _exact(k, params.get(k)) for k in PARAMS}
    row = bound_rows([theorem], [params], exact=True, normalize=normalize, variant=variant)[0]
    values = {e: to_float(row[e]) for e in BOUNDED} if row["applicable"] else None
    attained = (bands.attained_values(theorem, params, variant, normalize)
                if tightness and row["applicable"] else None)
    return BoundPoint(theorem, params, row["reason"], values, variant, row["status"], attained)


def bound_points(theorem: str, vs: str, xs, fixed: dict, normalize: str | None = None,
                 variant: str = "printed", tightness: bool = False) -> list[BoundPoint]:
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
        points.append(bound_point(theorem, params, normalize, variant, tightness))
    return points


def _note(points: list[BoundPoint], vs: str) -> str | None:
    """A one-line panel note naming the swept values left out for breaking the theorem's conditions."""
    left_out = [p for p in points if p.reason is not None]
    if not left_out:
        return None
    xs = ", ".join(str(p.params[vs]) for p in left_out)
    return f"{MATH_NAMES[vs]}$ = {xs} omitted\n(Theorem {left_out[0].theorem}'s conditions)"


def _draw(ax, points: list[BoundPoint], vs: str, estimators, *, label_suffix: str = "",
          group: int = 0, grouped: bool = False, labels: dict | None = None,
          beside: set | None = None) -> int:
    """Draw one series per estimator, only the values a log axis shows (:func:`log_drawable`:
    no 0, no inf, nothing beyond :data:`LOG_RANGE`). Returns how many nonzero values were
    left out as off-scale (the exact zeros at L = K are expected and not counted).
    ``beside``: the points are corrected bounds drawn beside printed ones: only the estimators in
    ``beside`` (those whose curve differs from the printed one), in :data:`CORRECTED_STYLE`.
    Points with ``attained`` values (tightness) get their band shaded (:func:`bands.shade`),
    except beside printed ones (one band per estimator, down from the printed bound)."""
    banded = [p for p in points if p.attained is not None and beside is None]
    if banded:
        bands.shade(ax, [float(p.params[vs]) for p in banded], [p.values for p in banded],
                    [p.attained for p in banded], estimators, {e: STYLE[e]["color"] for e in estimators})
    off_scale = 0
    labels = labels or LABELS
    for est in estimators:
        if beside is not None and est not in beside:
            continue
        values = [(p, p.values) for p in points if p.values is not None]
        x, y = log_drawable([float(p.params[vs]) for p, _ in values], [v[est] for _, v in values])
        off_scale += sum(1 for _, v in values if v[est] != 0) - len(y)
        if not len(y):
            continue
        style = dict(STYLE[est])
        if grouped:
            style["linestyle"] = GROUP_DASHES[group % len(GROUP_DASHES)]
            style["marker"] = None if est == "fo" else GROUP_MARKERS[group % len(GROUP_MARKERS)]
        if beside is not None:
            style.update(CORRECTED_STYLE)
        ax.plot(x, y, label=labels[est] + label_suffix, **style)
    return off_scale


def _variant_points(theorem: str, vs: str, xs, fixed: dict, normalize: str | None,
                    variant: str, tightness: bool = False) -> dict[str, list[BoundPoint]]:
    """The points of each variant ``variant`` asks for ("all": printed, and corrected where the
    theorem has corrections)."""
    return {name: bound_points(theorem, vs, xs, fixed, normalize, name, tightness)
            for name in variants_for(get_theorem(theorem), variant)}


def _differing(groups: list[dict[str, list[BoundPoint]]]) -> set:
    """The estimators whose corrected curve differs from the printed one somewhere (normalised
    curves differ wherever the fo bound is corrected)."""
    out = set()
    for group in groups:
        for p, c in zip(group.get("printed", []), group.get("corrected", [])):
            if p.values is not None and c.values is not None:
                out |= {e for e in BOUNDED if p.values[e] != c.values[e]}
    return out


def _labels(variant: str, differing: set, theorems) -> tuple[dict, dict]:
    """Legend labels of printed and of corrected curves: with ``variant="all"``, the estimators
    with a corrected curve beside the printed one are labelled "(as printed)" and "(corrected)";
    with "corrected", the curves of corrected bounds "(corrected)"."""
    if variant == "corrected":
        differing = {e for t in theorems for e, b in get_theorem(t).bounds.items()
                     if b.variant("corrected") is not b.printed}
    printed = {e: LABELS[e] + (" (as printed)" if variant == "all" and e in differing else "")
               for e in BOUNDED}
    corrected = {e: LABELS[e] + (" (corrected)" if e in differing else "") for e in BOUNDED}
    return (corrected if variant == "corrected" else printed), corrected


def _status_note(theorems, variant: str, normalize: str | None = None, estimators=BOUNDED) -> str:
    """A caption sentence: which plotted printed bounds are false in general, and what a
    corrected curve is."""
    false = [b for t in theorems for k, b in get_theorem(t).bounds.items()
             if b.status == "false in general" and k in estimators]
    if not false:
        return ""
    equations = ", ".join(b.equation for b in false)
    where = "; ".join(dict.fromkeys(b.holds_for() or "" for b in false))
    are, they = ("are", "they hold") if len(false) > 1 else ("is", "it holds")
    if variant == "printed":
        return (f" As printed, {equations} {are} false in general ({they} for {where}; "
                "docs/errata.md); --variant corrected plots the proven replacements.")
    drawn = "beside the printed ones (dash-dot, triangles)" if variant == "all" else "in their place"
    return (f" {equations} {are} false in general as printed ({they} for {where}); the proven "
            f"corrections (docs/errata.md) are drawn {drawn}"
            + (", each bound of the corrected variant divided by the corrected FOMAML bound" if normalize else "")
            + ".")


def _legend_entries(axes) -> tuple[list, list]:
    """Handles and labels of all axes, each label once, by estimator and a printed curve before
    its corrected one (so that in columns each printed entry sits above its correction)."""
    entries: dict = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    order = {label: i for i, label in enumerate(LABELS.values())}
    labels = sorted(entries, key=lambda lab: (order.get(lab.split(" (")[0], len(order)), "(corrected)" in lab))
    return [entries[lab] for lab in labels], labels


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


def figure2(*, K: int = 5, alpha: Any = Fraction(1, 4), H: Any = 1, h: Any = Fraction(1, 10),
            M: int = 1, preset: str = "iclr", usetex: bool = False, variant: str = "printed",
            tightness: bool = False) -> Plot:
    """The paper's Figure 2: the bounds of Theorems 3.6 (a), 3.8 (b), 3.10 (c) over L = 0..K,
    each divided by its theorem's fo bound, log-scale y (defaults: the paper's K=5, alpha=1/4,
    H=1, h=1/10, M=1).

    Where the paper plots a point that breaks the theorem's own conditions (Theorem 3.10 needs
    1 <= M <= min(L, K-L), so with M=1, K=5 only L = 1..4 is valid, although Section 3.2 says
    L in {1..5}), the condition wins: the point is left out and named on the panel and in the
    caption. ``variant``: "printed" (the paper's figure), "corrected" or "all" (corrected bounds
    beside the printed ones). ``tightness``: shade each bound's band down to the attained worst
    case (:mod:`.bands`).
    """
    fixed = {"K": K, "alpha": alpha, "H": H, "h": h, "M": M}
    Ls = range(int(K) + 1)
    theorems = [t for _, t in FIGURE2_PANELS]
    panels = [_variant_points(t, "L", Ls, fixed, "fo", variant, tightness) for t in theorems]
    differing = _differing(panels)
    printed_labels, corrected_labels = _labels(variant, differing, theorems)
    rc = preset_params(preset, ncols=3, usetex=usetex, height_to_width=0.9)
    rows, omitted, off_scale = [], [], 0
    with matplotlib.rc_context(rc):
        fig = Figure()
        axes = fig.subplots(1, 3, sharey=True)
        for ax, (panel, theorem), by_variant in zip(axes, FIGURE2_PANELS, panels):
            for name, points in by_variant.items():
                beside = _differing([by_variant]) if name == "corrected" and len(by_variant) > 1 else None
                off_scale += _draw(ax, points, "L", BOUNDED, beside=beside,
                                   labels=corrected_labels if beside is not None else printed_labels)
                rows += [p.row(panel, "fo") for p in points]
            _finish_axes(ax, "L", "fo", Ls, _note(points, "L"))
            ax.set_title(f"({panel}) Theorem {theorem}")
            omitted += [(panel, p) for p in points if p.reason is not None]
        for ax in axes[1:]:
            ax.set_ylabel("")
        fig.legend(*_legend_entries(axes), loc="outside upper center", ncols=3)
    setting = ", ".join(f"{k}={_exact(k, v)}" for k, v in fixed.items())
    caption = (f"Estimation error upper bounds of Theorems (a) 3.6, (b) 3.8 and (c) 3.10, normalised "
               f"to the FOMAML bound, against L ({setting}). At L = K the TruncMAML and BinomMAML "
               f"bounds are 0 (both estimators are exact there) and fall off the log axis.")
    for panel, p in omitted:
        caption += f" ({panel}) L = {p.params['L']} left out: {p.reason}."
    caption += _status_note(theorems, variant, "fo") + (bands.CAPTION if tightness else "")
    return Plot(fig, rc, _columns(tightness), rows, caption + _off_scale_note(off_scale))


def _columns(tightness: bool) -> tuple[str, ...]:
    return CSV_COLUMNS + bands.COLUMNS if tightness else CSV_COLUMNS


def _grid(fixed: dict) -> list[dict]:
    """All combinations of the fixed parameters given as lists (the overlays)."""
    names = list(fixed)
    lists = [v if isinstance(v, (list, tuple)) else [v] for v in fixed.values()]
    return [dict(zip(names, combo)) for combo in itertools.product(*lists)]


def bounds_figure(theorems: Sequence[str], vs: str, xs: Sequence[Any], fixed: dict, *,
                  normalize: str | None = None, estimators: Sequence[str] = BOUNDED,
                  preset: str = "column", usetex: bool = False, variant: str = "printed",
                  tightness: bool = False) -> Plot:
    """Bounds of each theorem in ``theorems`` against ``vs`` (L, K or alpha) at ``xs``.

    ``fixed`` maps the other parameters to a value or a list of values; every combination of the
    lists is a separate overlaid curve group, as is every theorem. ``variant``: "printed",
    "corrected", or "all" (corrected bounds beside the printed ones). ``tightness``: shade each
    bound's band down to the attained worst case (:mod:`.bands`).
    Raises ValueError when a theorem has no applicable point at all.
    """
    unknown = [e for e in estimators if e not in BOUNDED]
    if unknown:
        raise ValueError(f"--estimators {unknown[0]!r}: must be among {', '.join(BOUNDED)}")
    groups = [(t, combo) for t in theorems for combo in _grid(fixed)]
    grouped = len(groups) > 1
    computed = [_variant_points(t, vs, xs, combo, normalize, variant, tightness) for t, combo in groups]
    rows, notes, omitted, off_scale = [], [], [], 0
    rc = preset_params(preset, usetex=usetex)
    with matplotlib.rc_context(rc):
        fig = Figure()
        ax = fig.subplots()
        for i, ((theorem, combo), by_variant) in enumerate(zip(groups, computed)):
            for name, points in by_variant.items():
                if all(p.reason is not None for p in points):
                    reason = (points[0].reason if points else f"no --{vs} value given" if not len(xs)
                              else f"every point has L > K for --vs {vs}")
                    raise ValueError(f"--theorem {theorem}: no plotted point is applicable ({reason})")
                varying = {k: v for k, v in combo.items() if isinstance(fixed[k], (list, tuple))}
                suffix = (f", Thm {theorem}" if len(theorems) > 1 else "") + "".join(
                    f", {MATH_NAMES[k]} = {_exact(k, v)}$" for k, v in varying.items())
                differing = _differing([by_variant]) & set(estimators)
                printed_labels, corrected_labels = _labels(variant, differing, [theorem])
                beside = differing if name == "corrected" and len(by_variant) > 1 else None
                off_scale += _draw(ax, points, vs, estimators, label_suffix=suffix, group=i,
                                   grouped=grouped, beside=beside,
                                   labels=corrected_labels if beside is not None else printed_labels)
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
    caption += _status_note(theorems, variant, normalize, estimators) + (bands.CAPTION if tightness else "")
    return Plot(fig, rc, _columns(tightness), rows, caption + _off_scale_note(off_scale))
