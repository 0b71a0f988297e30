"""A drawn figure and its numbers (:class:`Plot`), written as vector PDF, SVG, PNG and CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

from .presets import vector_output

__all__ = ["FORMATS", "Plot", "write_csv"]

#: the formats every figure is written in, unless asked otherwise
FORMATS = ("pdf", "svg", "png")


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
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {str(out)!r}: exists and is not a directory")
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
