"""Building the related papers' theorems: one statement, several evaluable parts.

A statement of iMAML, Ji et al. or iBaML often evaluates to more than one number (Lemma 3: the
constant B_1 and the bound B_1 delta + delta'; Theorem 2: two iteration counts). Its theorem
(a row of ``binomgbml bounds``) has one :class:`bounds.Bound` per part: the first carries the
statement's registry id (``imaml.lemma3``), the others ``<id>.<key>``; all share the
statement's variants, and each variant of a later part is decided by the check of the first
part's variant (``Variant.check``). A part may have its own formula for a corrected variant.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..params import Parameter
from ..statement import Bound, Formula, Hypotheses, Quantity, Theorem, Variant

__all__ = ["Part", "statement_theorem", "symbol", "quantity"]


@functools.cache
def symbol(parameter: Parameter) -> Any:
    """The SymPy symbol of a related paper's parameter (SymPy is imported on first use)."""
    from .. import symbolic

    return symbolic.symbol(parameter)


@dataclass(frozen=True)
class Part:
    """One evaluable part of a statement: its key in the row, what it is, its formula as printed
    and, by variant name, the formulas of its corrected variants."""

    key: str
    text: str
    label: str  # in notes and legends: "Lemma 3", "B_1"
    symbol: str  # LaTeX: "B_1"
    formula: Formula
    corrected: Mapping[str, Formula] = field(default_factory=dict)


def statement_theorem(number: str, reference: str, hypotheses: Hypotheses, parts: Sequence[Part],
                      variants: Sequence[Variant], *, name: str = "",
                      quantities: Mapping[str, Quantity] | None = None) -> Theorem:
    """The theorem of a statement whose ``parts`` share ``variants`` (the printed one first; a
    corrected variant's formula comes from each part's ``corrected``)."""
    bounds = {}
    for i, part in enumerate(parts):
        sid = number if i == 0 else f"{number}.{part.key}"
        own = []
        for v in variants:
            changes: dict[str, Any] = {}
            if v.kind == "corrected":
                changes["formula"] = part.corrected.get(v.name, part.formula)
            if i > 0:
                changes["check"] = v.check or (number if v.kind == "printed" else f"{number}.{v.name}")
            own.append(dataclasses.replace(v, **changes))
        bounds[part.key] = Bound(sid, reference, part.text, hypotheses, tuple(own), theorem=number,
                                 key=part.key, equation=part.label, description=part.text,
                                 formula=part.formula, symbol=part.symbol)
    return Theorem(number, reference, hypotheses, bounds, dict(quantities or {}), name=name or reference)


def quantity(theorem: str, key: str, reference: str, description: str, formula: Formula,
             hypotheses: Hypotheses) -> Quantity:
    """A constant of a proof, evaluated at a point of its own hypotheses."""
    return Quantity(theorem, key, reference, description, formula, hypotheses=hypotheses)
