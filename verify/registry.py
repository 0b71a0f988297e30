"""The registry: every checked statement of the papers, with its reference, assumption and check.

``REGISTRY`` maps a check id ("prop3.1", "thm3.8.binom", "thm3.8.fo.corrected", "imaml.lemma3",
"ji2022.prop1", "ibaml.eq20b", ...) to a :class:`verify.checks.Check`; ``PAPERS`` maps a paper
("binomgbml", "imaml", "ji2022", "ibaml") to its ids, in the paper's order. The related papers'
statements are defined in :mod:`verify.related` (one module per paper; their ids start with the
paper's name), BinomGBML's here. The statements about numbers -- the bounds with their variants,
Lemmas B.2, B.5, B.7, the claims of the text -- are read from their definitions in ``bounds``
(``bounds.STATEMENTS``): their reference, text, assumption, conditions, spectrum intervals,
formulas and variants are not written again here; an id ending in ``.corrected`` or
``.commuting`` is a variant that is not printed in the paper (docs/errata.md). The identities
about matrices and algorithms (Proposition 3.1, Theorem 3.2, Lemmas A.4, A.5, B.4, Algorithms 1
and 2) are defined here, once, with the reference functions that compute their two sides.

Identities are checked against the dense reference ``estimators.reference`` in exact arithmetic;
bounds by counterexample search (Hypothesis plus adversarial optimisation, see
:mod:`verify.search`) with every violation confirmed exactly; claims about numbers in Fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

import bounds
from bounds.evaluation import bound_value, broken
from bounds.params import BoundsInputError, exact_point
from bounds.statement import Bound, Claim, Relation, Statement, Theorem, Variant

from .checks import BoundCheck, Check, ExactCheck
from .errors import VerifyInputError
from .rationals import spectrum_violation
from .search import BoundClaim
from .strategies import hessian_sequences, statement_parameters

__all__ = ["MAX_REPLAY_K", "PAPERS", "REGISTRY", "get", "paper_of", "theorem_checks"]

#: the largest K of a replayed claim about numbers (its exact sums and products have K terms of
#: growing size; at K = 1000 a replay takes seconds); the searches draw K <= 40
MAX_REPLAY_K = 1000


def _ref():
    from estimators import reference

    return reference


# --------------------------------------------------------------------------------------------
# bound statements: every variant of every bound in bounds


def _bound_check(statement: Bound, variant: Variant, sid: str | None = None, *,
                 describes: Statement | None = None) -> BoundCheck:
    """The check of one variant of a bound (``describes``: the statement whose reference and
    text the entry shows, when it is not the bound itself, as for Lemma B.2)."""
    sid = sid or statement.variant_id(variant)
    claim = BoundClaim(sid, statement, variant)
    shown = describes or statement
    reference = shown.reference if describes else statement.variant_reference(variant)
    text = shown.text if describes else statement.variant_text(variant)
    return BoundCheck(sid, reference, claim.assumption, text, statement=describes or statement,
                      variant=describes.printed if describes else variant, claim=claim)


def _bound_checks(theorem: Theorem) -> list[Check]:
    """Every variant of every bound of the theorem: the printed ones first, then the others by
    position (fo, trunc, binom; then each one's next variant)."""
    depth = max(len(b.variants) for b in theorem.bounds.values())
    return [_bound_check(b, b.variants[i]) for i in range(depth) for b in theorem.bounds.values()
            if i < len(b.variants)]


# --------------------------------------------------------------------------------------------
# exact cases


def _fractions(lo, hi, den=4):
    return st.fractions(Fraction(lo), Fraction(hi), max_denominator=den)


def _any_L(K):
    return 0, K


@st.composite
def _trajectory_cases(draw, *, min_K=1, max_K=4, max_d=2, L=_any_L, l=None,
                      final_hessian=False):
    """Exact (H, g, alpha, L[, l][, H_K]) with symmetric non-commuting rational Hessians."""
    K = draw(st.integers(min_K, max_K))
    L_value = draw(st.integers(*L(K)))
    d = draw(st.integers(1, max_d))
    hs = draw(hessian_sequences(K=K + final_hessian, d=d, H=draw(_fractions("1/4", 2)), exact=True))
    params = {"K": K, "L": L_value, "alpha": draw(_fractions("1/8", 2, 8))}
    if l is not None:
        params["l"] = draw(st.integers(*l(K, L_value)))
    g = np.array(draw(st.lists(_fractions(-2, 2), min_size=d, max_size=d)), dtype=object)
    case = {"params": params, "hessians": hs[:K], "g": g}
    if final_hessian:
        case["H_K"] = hs[K]
    return case


def _identity(sides):
    """examine(case) for an identity ``lhs == rhs`` computed exactly by ``sides(case)``."""

    def examine(case):
        lhs, rhs = (np.asarray(x, dtype=object) for x in sides(case))
        diff = [abs(x) for x in (lhs - rhs).ravel()]
        return all(x == 0 for x in diff), max(diff), 0  # error: largest |entry| of lhs - rhs

    return examine


def _args(case):
    p = case["params"]
    return case["hessians"], case["g"], p["alpha"], p["L"]


def _trajectory_domain(min_K=1, L=_any_L, l=None, **_):
    """validate(case) for an identity over the cases of ``_trajectory_cases(**same keywords)``:
    K >= min_K, L in L(K), l in l(K, L), alpha > 0, symmetric Hessians (H_K too)."""
    def validate(case):
        p = case["params"]
        K, L_value = p["K"], p["L"]
        lo, hi = L(K) if K >= min_K else (0, -1)
        if K < min_K or not lo <= L_value <= hi:
            return f"K = {K}, L = {L_value} breaks K >= {min_K} and {lo} <= L <= {hi}, the statement's domain"
        if l is not None and not l(K, L_value)[0] <= p["l"] <= l(K, L_value)[1]:
            return f"l = {p['l']} breaks {l(K, L_value)[0]} <= l <= {l(K, L_value)[1]}, the statement's domain"
        if p["alpha"] <= 0:
            return f"alpha = {p['alpha']} is not a step size > 0"
        for name, Hk in [*((f"H^{k}", Hk) for k, Hk in enumerate(case["hessians"])),
                         *((("H^K", case["H_K"]),) if "H_K" in case else ())]:
            if (Hk != Hk.T).any():
                return f"{name} is not symmetric, so it is not a Hessian"
        return None
    return validate


def _identity_statement(sid, reference, text, sides, **case_kw):
    return ExactCheck(sid, reference, "-", text, cases=lambda: _trajectory_cases(**case_kw),
                      examine=_identity(sides), validate=_trajectory_domain(**case_kw))


def _expansion(case):
    return _ref().truncated_expansion(*_args(case))


def _remark_3_4(case):
    ref, (H, g, alpha, _) = _ref(), _args(case)
    K = case["params"]["K"]
    lhs = np.concatenate([ref.truncated_expansion(H, g, alpha, 0), ref.truncated_expansion(H, g, alpha, K)])
    return lhs, np.concatenate([ref.first_order(g), ref.meta_gradient(H, g, alpha)])


def _lemma_a5(fn_name):
    def sides(case):
        H, g, alpha, L = _args(case)
        return getattr(_ref(), fn_name)(H, g, alpha, case["params"]["l"], L)
    return sides


_ALGORITHM_L = dict(min_K=2, L=lambda K: (1, K - 1))  # "truncation L in {1, ..., K-1}"
_B4_PRINTED_L = dict(min_K=2, L=lambda K: ((K + 1) // 2, K - 1))  # defined where K <= 2L


# --------------------------------------------------------------------------------------------
# statements about numbers, and claims of the text, from bounds


def _number(x):
    """A reportable number: a bracketed irrational by its lower end."""
    return x.lower if hasattr(x, "lower") else x


def _point_cases(statement: Statement, variant: Variant, caps: dict):
    """Cases ``{"params": point}`` drawn under the variant's hypotheses (conditions included)."""
    hyp = statement.hypotheses_of(variant)
    return st.builds(lambda p: {"params": p},
                     statement_parameters(hyp, exact=True, caps=caps, what=statement.variant_id(variant)))


def _validate(statement: Statement, variant: Variant):
    """validate(case): why a replayed point is outside the variant's domain or conditions."""
    hyp = statement.hypotheses_of(variant)

    def validate(case):
        given = {par.name: case["params"][par.name] for par in hyp.parameters}  # KeyError: missing
        assign = ", ".join(f"{n} = {v}" for n, v in given.items())
        try:
            p = exact_point(hyp.signature, given)
        except BoundsInputError as exc:
            return f"{assign} breaks the domain: {exc}"
        why = broken(hyp, p)
        if why is not None:
            return f"{assign} breaks the conditions: {why[0]}"
        K = p.get("K")
        if K is not None and K > MAX_REPLAY_K:
            return f"K = {K} is beyond K <= {MAX_REPLAY_K}, the largest K replayed exactly (to bound the time)"
        return None
    return validate


def _relation_check(statement: Relation, variant: Variant, caps: dict) -> ExactCheck:
    """A comparison of exact numbers (``Relation.compare``), on points of the variant."""
    def examine(case):
        holds, left, right = statement.compare(case["params"])
        if statement.op == "==":  # an identity: the error is the difference, against 0
            return holds, abs(left - right), 0
        return holds, _number(left), _number(right)

    sid = statement.variant_id(variant)
    return ExactCheck(sid, statement.variant_reference(variant), statement.hypotheses.label,
                      statement.variant_text(variant), statement=statement, variant=variant,
                      cases=lambda: _point_cases(statement, variant, caps), examine=examine,
                      validate=_validate(statement, variant))


def _scalar_error(params, eigenvalues, bound: Bound):
    """|P^K g - estimate| and the printed bound for H^k = lambda_k (d = 1) and g = 1, exactly."""
    from .measure import exact_error

    H = np.array([[[Fraction(x)]] for x in eigenvalues], dtype=object)
    err = exact_error(H, np.array([Fraction(1)], dtype=object), params["alpha"], params["L"], bound.key)[0]
    return abs(err), bound_value(bound, bound.printed, params, exact=True)


def _sharp_check(theorem: Theorem, claim: Claim) -> ExactCheck:
    """The text's claim that bounds are attained: every bound whose printed variant says where
    (``attained_at``) has error == bound there (d = 1 suffices: the Hessians are scalar)."""
    attained = [b for b in theorem.bounds.values() if b.printed.attained_at is not None]

    def examine(case):
        p = case["params"]
        for b in attained:
            error, bound = _scalar_error(p, b.printed.attained_at(p), b)
            if error != bound:
                return False, error, bound
        return True, error, bound

    return ExactCheck(claim.id, claim.reference, claim.hypotheses.label, claim.text, statement=claim,
                      variant=claim.printed, cases=lambda: _point_cases(claim, claim.printed, {}),
                      examine=examine, validate=_validate(claim, claim.printed))


def _loose_check(theorem: Theorem, claim: Claim, variant: Variant) -> ExactCheck:
    """"The bound ``subject`` is loose": error < bound strictly, on d = 1 Hessians under the
    theorem's assumptions; the Hessians where the theorem's other bounds are attained are
    offered first."""
    binom = theorem.bounds[claim.subject]
    hyp = claim.hypotheses_of(variant)

    @st.composite
    def cases(draw):
        p = draw(statement_parameters(hyp, exact=True, what=claim.variant_id(variant)))
        extremes = [np.array([[[Fraction(x)]] for x in b.printed.attained_at(p)], dtype=object)
                    for b in theorem.bounds.values() if b.printed.attained_at is not None]
        drawn = hessian_sequences(K=p["K"], d=1, intervals=bounds.statement.spectrum(hyp.assumptions, p),
                                  exact=True)
        return {"params": p, "hessians": draw(st.one_of(*map(st.just, extremes), drawn))}

    def examine(case):
        error, bound = _scalar_error(case["params"], case["hessians"][:, 0, 0], binom)
        return error < bound, error, bound

    conditions = _validate(claim, variant)

    def validate(case):
        why = conditions(case)
        hs = case["hessians"]
        if why or hs.ndim != 3 or hs.shape[1:] != (1, 1):
            return why or f"hessians have shape {hs.shape}; the statement is about d = 1 (K x 1 x 1)"
        if hs.shape[0] != case["params"]["K"]:
            return f"{hs.shape[0]} hessians for K = {case['params']['K']}"
        for k, (Hk, (lo, hi)) in enumerate(zip(hs, bounds.statement.spectrum(hyp.assumptions, case["params"]))):
            why = spectrum_violation(Hk, lo, hi)
            if why:
                return f"H^{k} {why}: breaks Assumption {hyp.label}"
        return None

    return ExactCheck(claim.variant_id(variant), claim.variant_reference(variant), hyp.label,
                      claim.variant_text(variant), statement=claim, variant=variant, cases=cases,
                      examine=examine, validate=validate)


#: Hypothesis caps per check (a budget, not a fact of the statement)
_CAPS = {"lemB.5": {"K": 40}, "lemB.7": {"K": 40}, "thm3.8.superexp": {"K": 12},
         "thm3.10.superexp": {"K": 12}}
def theorem_checks(theorem: Theorem) -> list[Check]:
    """The checks of a theorem: every variant of its bounds, then its claims, in order."""
    return [*_bound_checks(theorem), *(c for claim in theorem.claims for c in _statement_checks(claim, theorem))]


def _statement_checks(statement: Statement, theorem: Theorem | None = None) -> list[Check]:
    """The checks of every variant of a statement about numbers or of a claim of the text."""
    if isinstance(statement, Relation):
        return [_relation_check(statement, v, _CAPS.get(statement.id, {})) for v in statement.variants]
    if isinstance(statement, Claim) and statement.kind == "attained" and theorem is not None:
        return [_sharp_check(theorem, statement)]
    if isinstance(statement, Claim) and statement.kind == "not attained" and theorem is not None:
        return [_loose_check(theorem, statement, v) for v in statement.variants]
    if isinstance(statement, Claim) and statement.kind == "bound":
        bound = bounds.STATEMENTS[statement.subject]
        assert isinstance(bound, Bound)
        return [_bound_check(bound, bound.printed, statement.id, describes=statement)]
    raise ValueError(f"{statement.id}: no check is known for this kind of statement (verify/registry.py)")


# --------------------------------------------------------------------------------------------
# the registry

_CHECKS: list[Check] = [
    _identity_statement(
        "prop3.1", "Proposition 3.1, eq. (9)", "I + sum_{l<=L} ordered products = B^{L-1}...B^0 I",
        lambda c: (_ref().operator_cascade(c["hessians"], c["params"]["alpha"], c["params"]["L"]),
                   _ref().truncated_expansion_matrix(c["hessians"], c["params"]["alpha"], c["params"]["L"]))),
    _identity_statement(
        "thm3.2", "Theorem 3.2, eq. (10)", "binomial estimate (8) = B^{g,L-1}...B^{g,0} g",
        lambda c: (_ref().vector_cascade(*_args(c)), _expansion(c))),
    _identity_statement(
        "rem3.4", "Remark 3.4", "BinomMAML is FOMAML at L = 0 and MAML at L = K", _remark_3_4),
    _identity_statement(
        "alg1", "Algorithm 1 (as printed)", "Algorithm 1 computes eq. (8)",
        lambda c: (_ref().algorithm_1_printed(*_args(c), c["H_K"]), _expansion(c)),
        final_hessian=True, **_ALGORITHM_L),
    _identity_statement(
        "alg1.corrected", "Algorithm 1, HVP u^{l,k} = H^{k-1} v^{l,k}", "corrected Algorithm 1 computes eq. (8)",
        lambda c: (_ref().algorithm_1_corrected(*_args(c)), _expansion(c))),
    _identity_statement(
        "alg2", "Algorithm 2 (as printed)", "Algorithm 2 computes eq. (8)",
        lambda c: (_ref().algorithm_2_printed(*_args(c)), _expansion(c)), **_ALGORITHM_L),
    _identity_statement(
        "alg2.corrected", "Algorithm 2, T lower-triangular with diagonal", "corrected Algorithm 2 computes eq. (8)",
        lambda c: (_ref().algorithm_2_corrected(*_args(c)), _expansion(c))),
    _identity_statement(
        "lemA.4", "Lemma A.4, eq. (20)", "B^{L-1}...B^0 I = P^L - a sum_{k<K-L} H^k B^{L-2}...B^0 I",
        lambda c: _ref().lemma_a4(c["hessians"], c["params"]["alpha"], c["params"]["L"]),
        L=lambda K: (1, K)),
    _identity_statement(
        "lemA.5", "Lemma A.5, eq. (25)", "P^l g = v^{l-1,K-l} for 1 <= l < L", _lemma_a5("lemma_a5"),
        min_K=2, L=lambda K: (2, K), l=lambda K, L: (1, L - 1)),
    _identity_statement(
        "lemA.5.corrected", "Lemma A.5, end of its proof", "P^l g = v^{l,K-l} for 1 <= l < L",
        _lemma_a5("lemma_a5_corrected"), min_K=2, L=lambda K: (2, K), l=lambda K, L: (1, L - 1)),
    *_statement_checks(bounds.LEMMAS["B.2"].statement),
    _identity_statement(
        "lemB.4", "Lemma B.4 (as printed)", "P^K g - (8) = sum_l [sum prod_{i=1}^{l}] (-aH^{K-l}) P^{l-1} g",
        lambda c: _ref().lemma_b4_printed(*_args(c)), **_B4_PRINTED_L),
    _identity_statement(
        "lemB.4.corrected", "Lemma B.4, eq. (33)", "P^K g - (8) = sum_l [sum prod_{i=1}^{L}] (-aH^{K-l}) P^{l-1} g",
        lambda c: _ref().lemma_b4(*_args(c)), min_K=2, L=lambda K: (1, K - 1)),
    *_statement_checks(bounds.LEMMAS["B.5"].statement),
    *_statement_checks(bounds.LEMMAS["B.7"].statement),
    *(check for theorem in bounds.THEOREMS.values() for check in theorem_checks(theorem)),
]


#: the share of ``--examples`` each related check runs in ``binomgbml verify`` (by paper, or by
#: id): a budget, not a fact of the statement -- their exact cases are slower than BinomGBML's,
#: and the default run of every paper stays within minutes; ibaml.eq15's violation needs a
#: non-convex model whose GD steps stop where H_t is indefinite, which Hypothesis draws rarely
_BUDGET = {"imaml": 0.25, "ji2022": 0.25, "ibaml": 0.2, "ibaml.eq15": 1.0}


def _related() -> dict[str, list[Check]]:
    from dataclasses import replace

    from .related import ibaml, imaml, ji2022

    papers: dict[str, Sequence[Check]] = {"imaml": imaml.statements(), "ji2022": ji2022.statements(), "ibaml": ibaml.statements()}
    return {paper: [replace(c, budget=_BUDGET.get(c.id, _BUDGET[paper])) for c in checks]
            for paper, checks in papers.items()}


#: paper -> its check ids, in the paper's order (BinomGBML first)
PAPERS: dict[str, list[str]] = {"binomgbml": [c.id for c in _CHECKS]}
#: check id -> Check, every paper in the order of PAPERS
REGISTRY: dict[str, Check] = {c.id: c for c in _CHECKS}
for _paper, _checks in _related().items():
    for _c in _checks:
        if not _c.id.startswith(f"{_paper}.") or _c.id in REGISTRY:
            raise ValueError(f"{_c.id}: a {_paper} id must start with '{_paper}.' and be new (verify/related/{_paper}.py)")
    PAPERS[_paper] = [c.id for c in _checks]
    REGISTRY.update((c.id, c) for c in _checks)


def paper_of(check_id: str) -> str:
    """The paper a check id belongs to ("binomgbml", "imaml", "ji2022" or "ibaml")."""
    sid = get(check_id).id  # VerifyInputError for an unknown id
    return next(paper for paper, ids in PAPERS.items() if sid in ids)


def get(statement_id: str) -> Check:
    """The check with this id; VerifyInputError (a ValueError) naming the known ids otherwise."""
    try:
        return REGISTRY[statement_id]
    except KeyError:
        raise VerifyInputError(f"unknown statement id {statement_id!r}; known: {', '.join(REGISTRY)}") from None
