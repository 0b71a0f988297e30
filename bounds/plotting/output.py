"""A drawn figure and its numbers (:class:`Plot`), written as vector PDF, SVG, PNG and CSV."""

from __future__ import annotations

import contextlib
import csv
import math
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.ticker import FixedLocator, NullLocator

from .presets import vector_output

__all__ = ["FORMATS", "LOG_RANGE", "WIDE_DECADES", "Plot", "log_drawable", "fix_log_axis", "out_directory",
           "write_csv"]

#: the formats every figure is written in, unless asked otherwise
FORMATS = ("pdf", "svg", "png")

#: the values a matplotlib log axis draws reliably. Beyond them (matplotlib 3.11: data near
#: 1e280 and up, or spanning ~500 decades) its tick locator overflows with a traceback or the axis
#: limits silently collapse to [1, 10]; such values stay in the CSV but are not drawn.
LOG_RANGE = (1e-200, 1e200)


def log_drawable(x, y) -> tuple[np.ndarray, np.ndarray]:
    """The points of (x, y) a log y axis can show: ``y`` within :data:`LOG_RANGE` (so no 0, no
    inf or NaN, no value beyond what matplotlib's log axis handles)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = (y >= LOG_RANGE[0]) & (y <= LOG_RANGE[1])
    return x[keep], y[keep]


#: a log y axis whose data span more decades than this, or reach beyond 1e-100 .. 1e100, gets its
#: limits and decade ticks from :func:`fix_log_axis`, not from matplotlib's LogLocator (which
#: overflows to inf on wide spans, a traceback, or collapses the limits to [1, 10] silently)
WIDE_DECADES = 60


def fix_log_axis(axes: Sequence) -> None:
    """Give the (shared) log y axes ``axes`` limits and major ticks computed here in log space
    when their drawn data are wide (see :data:`WIDE_DECADES`); leave narrow ones to matplotlib.
    The limits are whole decades around the data, at most 8 major ticks, no minor ticks."""
    ys = [np.asarray(line.get_ydata(), dtype=float) for ax in axes for line in ax.get_lines()]
    ys = [y[np.isfinite(y) & (y > 0)] for y in ys]
    logs = np.log10(np.concatenate(ys)) if ys else np.array([])
    if not logs.size:
        return
    lo, hi = math.floor(logs.min()), math.ceil(logs.max())
    if hi - lo <= WIDE_DECADES and lo >= -100 and hi <= 100:
        return
    hi = max(hi, lo + 1)
    stride = max(1, math.ceil((hi - lo) / 7))
    ticks = [10.0 ** k for k in range(lo - lo % stride, hi + 1, stride) if lo <= k <= hi]
    for ax in axes:
        ax.set_ylim(10.0 ** lo, 10.0 ** hi)
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_minor_locator(NullLocator())


@dataclass
class Plot:
    """A matplotlib figure with the rcParams it was drawn under, its plotted numbers and caption.

    The rcParams are applied again while saving, since matplotlib reads some of them (tick
    labels made at draw time, fonts, PDF font type) only then.
    """

    fig: matplotlib.figure.Figure
    rc: dict
    columns: Sequence[str]
    rows: list[dict]
    caption: str = field(default="")

    def save(self, out_dir: str | Path, name: str, *, formats: Sequence[str] = FORMATS,
             data: bool = False) -> list[Path]:
        """Write ``out_dir/name.<fmt>`` for each format, ``name.txt`` (the caption, if any) and,
        with ``data``, ``name.csv``. Saving adds :func:`~.presets.vector_output`: the PDF embeds
        TrueType (Type 42) fonts, never Type 3. ``out_dir`` is created if missing."""
        unknown = [f for f in formats if f not in FORMATS]
        if unknown:
            raise ValueError(f"--formats {','.join(formats)}: {unknown[0]!r} is not one of "
                             f"{', '.join(FORMATS)}")
        out = out_directory(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        with matplotlib.rc_context(self.rc | vector_output()):
            for fmt in formats:
                path = out / f"{name}.{fmt}"
                # no creation date: the PDF/SVG bytes are reproducible
                metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt)
                self.fig.savefig(path, format=fmt, metadata=metadata)
                paths.append(path)
        if self.caption:
            paths.append(out / f"{name}.txt")
            paths[-1].write_text(self.caption + "\n")
        if data:
            paths.append(write_csv(out / f"{name}.csv", self.columns, self.rows))
        return paths


def out_directory(out_dir: str | Path) -> Path:
    """``out_dir`` as a Path, checked before anything is computed: not empty, not an existing
    file, and a directory that can be created and written to. What the check creates it removes
    again, so that bad input leaves nothing behind (:meth:`Plot.save` creates the directory)."""
    if not str(out_dir):
        raise ValueError("--out '': must name a directory")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r}: exists and is not a directory")
    missing = [p for p in (out, *out.parents) if not p.exists()]  # deepest first
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):  # writable, not only creatable
            pass
    except OSError as exc:
        raise ValueError(f"--out {str(out)!r}: cannot write there ({exc.strerror or exc})") from None
    finally:
        for path in missing:
            with contextlib.suppress(OSError):
                path.rmdir()
    return out


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict]) -> Path:
    """Write ``rows`` (dicts keyed by ``columns``) to ``path``; floats keep all 17 digits."""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})
    return path


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # shortest repr that round-trips exactly
    return str(value)
