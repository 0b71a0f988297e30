"""The index of statements: every paper's definitions module, and what it defines.

A paper's module (``bounds/papers/<paper>.py``) defines its parameters, assumptions, theorems,
lemmas and claims once (docs/contributing.md); this index collects them for the rest of the
toolkit: ``THEOREMS`` (the rows of ``binomgbml bounds``), ``LEMMAS``, ``STATEMENTS`` (every
statement by registry id, for ``verify``), ``PARAMETERS`` and ``ASSUMPTIONS`` by name.
"""

from __future__ import annotations

from ..params import Parameter
from ..statement import Assumption, Statement, Theorem
from . import binomgbml

__all__ = ["PAPERS", "THEOREMS", "LEMMAS", "STATEMENTS", "PARAMETERS", "ASSUMPTIONS"]

#: paper key -> its definitions module
PAPERS = {"binomgbml": binomgbml}

THEOREMS: dict[str, Theorem] = {n: t for m in PAPERS.values() for n, t in m.THEOREMS.items()}
LEMMAS = {n: lemma for m in PAPERS.values() for n, lemma in m.LEMMAS.items()}
STATEMENTS: dict[str, Statement] = {i: s for m in PAPERS.values() for i, s in m.STATEMENTS.items()}
PARAMETERS: dict[str, Parameter] = {p.name: p for m in PAPERS.values()
                                    for p in (*m.PARAMETERS, *m.OTHER_PARAMETERS)}
ASSUMPTIONS: dict[str, Assumption] = {n: a for m in PAPERS.values() for n, a in m.ASSUMPTIONS.items()}
