"""The index of statements: every paper's definitions module, and what it defines.

A paper's module (``bounds/papers/<paper>.py``) defines its parameters, assumptions, theorems,
lemmas and claims once (docs/contributing.md); this index collects them for the rest of the
toolkit. ``PAPERS`` holds every paper: BinomGBML and the related papers iMAML, Ji et al. (2022)
and iBaML. ``ALL_THEOREMS`` (the rows of ``binomgbml bounds --paper ...``; a related paper's
theorems are named with the paper: "imaml.lemma3") and ``ALL_STATEMENTS`` (by id) span them all.

``THEOREMS``, ``LEMMAS``, ``STATEMENTS``, ``PARAMETERS`` and ``ASSUMPTIONS`` are the main paper's
(BinomGBML): verify's registry generates its checks from them; the related papers' statements
are checked by ``verify.related`` (each variant names its check, ``Statement.check_id``).
Parameters are per paper (``PAPERS[key].PARAMETERS``): papers reuse letters (L is an integer in
BinomGBML, a Lipschitz constant in Ji et al.).
"""

from __future__ import annotations

from types import ModuleType

from ..params import Parameter
from ..statement import Assumption, Statement, Theorem
from . import binomgbml, ibaml, imaml, ji2022

__all__ = ["PAPERS", "THEOREMS", "LEMMAS", "STATEMENTS", "PARAMETERS", "ASSUMPTIONS", "ALL_THEOREMS",
           "ALL_STATEMENTS", "paper_of"]

#: paper key -> its definitions module (the main paper first)
PAPERS: dict[str, ModuleType] = {"binomgbml": binomgbml, "imaml": imaml, "ji2022": ji2022, "ibaml": ibaml}

THEOREMS: dict[str, Theorem] = dict(binomgbml.THEOREMS)
LEMMAS = dict(binomgbml.LEMMAS)
STATEMENTS: dict[str, Statement] = dict(binomgbml.STATEMENTS)
PARAMETERS: dict[str, Parameter] = {p.name: p for p in (*binomgbml.PARAMETERS, *binomgbml.OTHER_PARAMETERS)}
ASSUMPTIONS: dict[str, Assumption] = dict(binomgbml.ASSUMPTIONS)

ALL_THEOREMS: dict[str, Theorem] = {n: t for m in PAPERS.values() for n, t in m.THEOREMS.items()}
ALL_STATEMENTS: dict[str, Statement] = {i: s for m in PAPERS.values() for i, s in m.STATEMENTS.items()}


def paper_of(theorem: Theorem | str) -> str | None:
    """The key of the paper that defines a theorem ("binomgbml", "imaml", "ji2022", "ibaml"),
    None for one that is not in a paper's module (added to ``THEOREMS`` by hand)."""
    number = theorem.number if isinstance(theorem, Theorem) else theorem
    for key, module in PAPERS.items():
        if number in module.THEOREMS:
            return key
    return None
