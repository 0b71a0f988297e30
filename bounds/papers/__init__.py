"""The index of statements: every paper's definitions module, and what it defines.

A paper's module (``bounds/papers/<paper>.py``) defines its parameters, assumptions, theorems,
lemmas and claims once (docs/contributing.md); this index collects them for the rest of the
toolkit. ``PAPERS`` holds every paper: BinomGBML and the related papers iMAML, Ji et al. (2022)
and iBaML (``RELATED``). ``ALL_THEOREMS`` (the rows of ``binomgbml bounds`` and of
``binomgbml bounds --paper ...``; a related paper's theorems are named with the paper:
"imaml.lemma3") and ``ALL_STATEMENTS`` (by id) span them all.

``THEOREMS``, ``LEMMAS``, ``STATEMENTS``, ``PARAMETERS`` and ``ASSUMPTIONS`` span the papers whose
statements verify's registry generates its checks from (every paper but the related ones, whose
statements ``verify.related`` checks: each of their variants names its check,
``Statement.check_id``). A related paper's parameters are its own (``PAPERS[key].PARAMETERS``):
papers reuse letters (L is an integer in BinomGBML, a Lipschitz constant in Ji et al.).
"""

from __future__ import annotations

from types import ModuleType

from ..params import Parameter
from ..statement import Assumption, Statement, Theorem
from . import binomgbml, ibaml, imaml, ji2022

__all__ = ["PAPERS", "RELATED", "THEOREMS", "LEMMAS", "STATEMENTS", "PARAMETERS", "ASSUMPTIONS",
           "ALL_THEOREMS", "ALL_STATEMENTS", "paper_of"]

#: paper key -> its definitions module (the main paper first)
PAPERS: dict[str, ModuleType] = {"binomgbml": binomgbml, "imaml": imaml, "ji2022": ji2022, "ibaml": ibaml}
#: the related papers: their own parameters (``binomgbml bounds --paper KEY``), checked by verify.related
RELATED = ("imaml", "ji2022", "ibaml")

_CHECKED = [m for key, m in PAPERS.items() if key not in RELATED]
THEOREMS: dict[str, Theorem] = {n: t for m in _CHECKED for n, t in m.THEOREMS.items()}
LEMMAS = {n: lemma for m in _CHECKED for n, lemma in m.LEMMAS.items()}
STATEMENTS: dict[str, Statement] = {i: s for m in _CHECKED for i, s in m.STATEMENTS.items()}
PARAMETERS: dict[str, Parameter] = {p.name: p for m in _CHECKED for p in (*m.PARAMETERS, *m.OTHER_PARAMETERS)}
ASSUMPTIONS: dict[str, Assumption] = {n: a for m in _CHECKED for n, a in m.ASSUMPTIONS.items()}

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
