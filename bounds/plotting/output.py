"""A drawn figure and its numbers (:class:`Plot`), written as vector PDF, SVG, PNG and CSV."""

from __future__ import annotations

import contextlib
import csv
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np

from .presets import vector_output

__all__ = ["FORMATS", "LOG_RANGE", "Plot", "log_drawable", "out_directory", "write_csv"]

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
