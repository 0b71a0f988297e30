"""Witness files: JSON, one top-level key per line, values compact (rationals as "p/q" strings).

Keys: ``id`` (the statement), ``params`` (K, L, alpha, H, h, M as needed), ``hessians``
(K x d x d), ``g`` (when the error is measured on a vector), ``error`` and ``bound`` (floats, for
reading), and ``exact`` (the exact quantities compared). ``binomgbml verify --replay FILE``
recomputes everything from ``params``, ``hessians`` and ``g`` in exact arithmetic.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["dumps", "write"]


def dumps(witness: dict) -> str:
    """The witness as JSON text: ``{"key": <compact value>, ...}``, one key per line."""
    items = [f" {json.dumps(k)}: {json.dumps(v, separators=(', ', ': '))}" for k, v in witness.items()]
    return "{\n" + ",\n".join(items) + "\n}\n"


def write(witness: dict, path: str | Path) -> Path:
    """Write ``witness`` to ``path`` (parent directories created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(witness))
    return path
