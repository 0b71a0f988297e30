"""The error bounds of BinomGBML (Theorems 3.6, 3.8, 3.10; Lemmas B.2, B.5, B.7), as statements.

>>> import bounds
>>> bounds.evaluate("3.6", K=5, L=1, alpha="1/4", H=1, exact=True)["binom"]
Fraction(821, 1024)
>>> bounds.evaluate("3.8", 5, 0, "1/4", 1, exact=True, variant="corrected")["fo"]
Fraction(5, 4)

Every statement is defined once (``bounds/papers/``) as a :class:`Statement` with its reference,
hypotheses (parameters, assumptions as spectrum intervals, conditions) and variants (as printed,
corrected, restricted), each with a status. ``import bounds`` imports NumPy and SciPy but neither
SymPy (loaded on first use of ``.expr``) nor torch. The related papers' statements (iMAML, Ji et
al. 2022, iBaML) are in ``bounds.PAPERS`` / ``bounds.ALL_THEOREMS``:

>>> bounds.evaluate("imaml.lemma3", "1/2", "1/4", 3, 2, 1, "1/10", "1/20", exact=True)
{'bound': Fraction(197, 20), 'B1': Fraction(98, 1)}

See docs/bounds.md and docs/contributing.md.
"""

from .evaluation import VARIANTS, applicable, evaluate, get_theorem, not_applicable
from .exact import RationalBracket, Sides
from .papers import ALL_STATEMENTS, ALL_THEOREMS, ASSUMPTIONS, LEMMAS, PAPERS, PARAMETERS, STATEMENTS, THEOREMS
from .papers.binomgbml import (Lemma, c_alpha_condition, lemma_b2, lemma_b5, lemma_b7, theorem_3_6,
                               theorem_3_8, theorem_3_8_c_alpha, theorem_3_8_envelope, theorem_3_10,
                               theorem_3_10_c_alpha, theorem_3_10_envelope)
from .params import BoundsInputError, NotApplicable, Parameter
from .statement import (COMMUTING, STATUSES, Assumption, Bound, Claim, Formula, Hypotheses, Quantity,
                        Relation, Statement, Theorem, Variant)

__all__ = [
    "THEOREMS", "LEMMAS", "STATEMENTS", "PARAMETERS", "ASSUMPTIONS", "VARIANTS", "STATUSES",
    "PAPERS", "ALL_THEOREMS", "ALL_STATEMENTS",
    "Theorem", "Statement", "Bound", "Relation", "Claim", "Quantity", "Variant", "Formula",
    "Hypotheses", "Assumption", "Parameter", "COMMUTING", "Lemma",
    "evaluate", "not_applicable", "applicable", "get_theorem",
    "theorem_3_6", "theorem_3_8", "theorem_3_10", "BoundsInputError", "NotApplicable",
    "lemma_b2", "lemma_b5", "lemma_b7", "Sides", "RationalBracket",
    "theorem_3_8_envelope", "theorem_3_8_c_alpha", "theorem_3_10_envelope", "theorem_3_10_c_alpha",
    "c_alpha_condition",
]
