"""The error bounds of BinomGBML (Theorems 3.6, 3.8, 3.10; Lemmas B.2, B.5, B.7).

>>> import bounds
>>> bounds.evaluate("3.6", K=5, L=1, alpha="1/4", H=1, exact=True)["binom"]
Fraction(821, 1024)

``import bounds`` imports NumPy and SciPy but neither SymPy (loaded on first use of ``.expr``)
nor torch. See docs/bounds.md.
"""

from .envelopes import (c_alpha_condition, theorem_3_8_c_alpha, theorem_3_8_envelope,
                        theorem_3_10_c_alpha, theorem_3_10_envelope)
from .lemmas import LEMMAS, Lemma, RationalBracket, Sides, lemma_b2, lemma_b5, lemma_b7
from .params import BoundsInputError, NotApplicable
from .theorems import (THEOREMS, Statement, Theorem, applicable, evaluate, get_theorem,
                       not_applicable, theorem_3_6, theorem_3_8, theorem_3_10)

__all__ = [
    "THEOREMS", "Theorem", "Statement", "evaluate", "not_applicable", "applicable", "get_theorem",
    "theorem_3_6", "theorem_3_8", "theorem_3_10", "BoundsInputError", "NotApplicable",
    "lemma_b2", "lemma_b5", "lemma_b7", "Sides", "RationalBracket", "LEMMAS", "Lemma",
    "theorem_3_8_envelope", "theorem_3_8_c_alpha", "theorem_3_10_envelope", "theorem_3_10_c_alpha",
    "c_alpha_condition",
]
