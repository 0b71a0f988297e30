"""Paper presets for matplotlib, tueplots-style: plain functions that return rcParams dicts.

Compose them with ``dict`` unions and apply them with ``matplotlib.rc_context``::

    with plt.rc_context(iclr(ncols=3)):
        fig, axes = plt.subplots(1, 3)

* :func:`iclr` and :func:`neurips`: a full-text-width figure (5.5 in), 10 pt Times body, 9 pt
  labels, 8 pt ticks and legends, as in the ICLR and NeurIPS LaTeX templates;
* :func:`column`: a single-column figure (3.25 in, two-column formats such as ICML/AISTATS);
* the building blocks :func:`figsize`, :func:`fonts`, :func:`fontsizes`, :func:`vector_output`.

Every preset embeds fonts as TrueType (Type 42) in PDF and PostScript, never Type 3. LaTeX text
rendering is used only when asked for (``usetex=True``) and only when a ``latex`` executable is
found; otherwise :class:`LaTeXUnavailable` says so. Without it, matplotlib's mathtext with the STIX
fonts (a Times look-alike shipped with matplotlib) renders the formulas.
"""

from __future__ import annotations

import math
import shutil
from typing import Any

__all__ = [
    "TEXT_WIDTH_IN", "COLUMN_WIDTH_IN", "PRESETS", "LaTeXUnavailable",
    "figsize", "fonts", "fontsizes", "vector_output", "paper", "iclr", "neurips", "column", "preset",
]

#: text width of the ICLR and NeurIPS templates (inches)
TEXT_WIDTH_IN = 5.5
#: column width of the common two-column templates (inches)
COLUMN_WIDTH_IN = 3.25
GOLDEN_RATIO = (1 + math.sqrt(5)) / 2


class LaTeXUnavailable(ValueError):
    """LaTeX text rendering was asked for but no ``latex`` executable is on PATH."""


def figsize(width_in: float, *, nrows: int = 1, ncols: int = 1,
            height_to_width: float = 1 / GOLDEN_RATIO) -> dict:
    """``figure.figsize`` for a grid of ``nrows`` x ``ncols`` panels, each ``height_to_width`` tall."""
    if not (width_in > 0 and math.isfinite(width_in)):
        raise ValueError(f"width_in={width_in!r}: must be positive and finite")
    if nrows < 1 or ncols < 1:
        raise ValueError(f"nrows={nrows!r}, ncols={ncols!r}: must be at least 1")
    height = width_in / ncols * height_to_width * nrows
    return {"figure.figsize": (width_in, height), "figure.constrained_layout.use": True}


def fonts(*, usetex: bool = False) -> dict:
    """A Times look (the templates' body font); LaTeX only if ``usetex`` and ``latex`` is found."""
    params = {
        "font.family": "serif",
        "font.serif": ["Times New Roman", "Times", "STIXGeneral", "DejaVu Serif"],
        "mathtext.fontset": "stix",
        "text.usetex": False,
    }
    if usetex:
        if shutil.which("latex") is None:
            raise LaTeXUnavailable(
                "--usetex (usetex=True): LaTeX text rendering needs a 'latex' executable on PATH and none was "
                "found; drop usetex (mathtext renders the formulas without LaTeX)")
        params |= {"text.usetex": True, "text.latex.preamble": r"\usepackage{times}"}
    return params


def fontsizes(base: float = 10) -> dict:
    """Sizes of a ``base``-pt document: labels and titles at ``base``-1, ticks and legend at ``base``-2."""
    small, tiny = base - 1, base - 2
    return {
        "font.size": small, "axes.labelsize": small, "axes.titlesize": small,
        "xtick.labelsize": tiny, "ytick.labelsize": tiny, "legend.fontsize": tiny,
        "legend.title_fontsize": tiny, "figure.titlesize": base,
    }


def vector_output() -> dict:
    """TrueType (Type 42) fonts in PDF/PS, never Type 3; glyphs as paths in SVG; 300 dpi PNG."""
    return {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "path",
            "savefig.dpi": 300, "savefig.bbox": "tight", "savefig.pad_inches": 0.02}


def paper(width_in: float, *, nrows: int = 1, ncols: int = 1, usetex: bool = False,
          base: float = 10, height_to_width: float = 1 / GOLDEN_RATIO) -> dict:
    """A complete preset: :func:`figsize`, :func:`fonts`, :func:`fontsizes`, :func:`vector_output`
    and thin lines, for a figure ``width_in`` wide in a ``base``-pt document."""
    style = {"axes.linewidth": 0.5, "lines.linewidth": 1.0, "lines.markersize": 3,
             "xtick.major.width": 0.5, "ytick.major.width": 0.5, "grid.linewidth": 0.3,
             "legend.frameon": False}
    return (figsize(width_in, nrows=nrows, ncols=ncols, height_to_width=height_to_width)
            | fonts(usetex=usetex) | fontsizes(base) | vector_output() | style)


def iclr(**kwargs: Any) -> dict:
    """ICLR: 5.5 in text width, 10 pt Times body (keywords as for :func:`paper`)."""
    return paper(TEXT_WIDTH_IN, **kwargs)


def neurips(**kwargs: Any) -> dict:
    """NeurIPS: 5.5 in text width, 10 pt Times body, the same geometry as ICLR."""
    return paper(TEXT_WIDTH_IN, **kwargs)


def column(**kwargs: Any) -> dict:
    """A single column of a two-column paper (ICML, AISTATS): 3.25 in wide, 10 pt Times body."""
    return paper(COLUMN_WIDTH_IN, **kwargs)


#: preset name -> function, for the command line's ``--preset``
PRESETS = {"iclr": iclr, "neurips": neurips, "column": column}


def preset(name: str, **kwargs: Any) -> dict:
    """The rcParams of the preset called ``name`` (a key of :data:`PRESETS`)."""
    if name not in PRESETS:
        raise ValueError(f"--preset {name!r}: must be one of {', '.join(PRESETS)}")
    return PRESETS[name](**kwargs)
