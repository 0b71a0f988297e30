"""Plots of the paper's bounds (matplotlib only; no torch).

* :mod:`.presets`: paper presets as functions returning rcParams dicts (ICLR/NeurIPS text width,
  a column width), Type 42 fonts;
* :mod:`.figures`: :func:`figure2` (the paper's Figure 2) and :func:`bounds_figure` (any theorem's
  bounds against L, K or alpha, overlaid);
* :mod:`.output`: :class:`Plot` (a figure with its numbers; saves PDF, SVG, PNG, CSV);
* :mod:`.cli`: ``binomgbml plot figure2`` and ``binomgbml plot bounds``.
"""

from .figures import bounds_figure, figure2
from .output import FORMATS, Plot
from .presets import (COLUMN_WIDTH_IN, PRESETS, TEXT_WIDTH_IN, LaTeXUnavailable, column, iclr,
                      neurips, preset)

__all__ = ["figure2", "bounds_figure", "Plot", "FORMATS", "PRESETS", "preset", "iclr",
           "neurips", "column", "TEXT_WIDTH_IN", "COLUMN_WIDTH_IN", "LaTeXUnavailable"]
