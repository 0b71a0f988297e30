"""The registry: every checked statement of the paper, with its reference, assumption and check.

``REGISTRY`` maps a statement id ("prop3.1", "thm3.8.binom", ...) to a
:class:`verify.statements.Statement`. Ids ending in ``.corrected`` or ``.commuting`` are not
printed in the paper: they are what holds instead of a violated statement (docs/errata.md).

Identities are checked against the dense reference ``estimators.reference`` in exact arithmetic;
bounds by counterexample search (Hypothesis plus adversarial optimisation, see
:mod:`verify.search`) with every violation confirmed exactly; claims about numbers in Fractions.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
from hypothesis import strategies as st

from .errors import VerifyInputError
from .search import BoundClaim, broken_conditions
from .statements import BoundStatement, ExactStatement, Statement
from .strategies import bound_parameters, hessian_sequences

__all__ = ["REGISTRY", "E_HI", "E_LO", "MAX_REPLAY_K", "get", "paper_bound"]

#: rational bounds on Euler's number: E_LO < e < E_HI
E_LO = Fraction(27182818284590452, 10 ** 16)
E_HI = Fraction(27182818284590453, 10 ** 16)
#: the largest K of a replayed claim about numbers (its exact sums and products have K terms of
#: growing size; at K = 1000 a replay takes seconds); the searches draw K <= 40
MAX_REPLAY_K = 1000


def _ref():
    from estimators import reference

    return reference


# --------------------------------------------------------------------------------------------
# bound statements


def paper_bound(theorem: str, estimator: str):
    """The bound factor of ``theorem``'s ``estimator`` bound, through ``bounds.evaluate``."""

    def bound(p, exact):
        import bounds

        return bounds.evaluate(theorem, p["K"], p["L"], p["alpha"], p["H"], p["h"], p["M"],
                               exact=exact)[estimator]

    return bound


def _fo_3_8_corrected(p, exact):
    """||P^K - I|| <= K alpha H (docs/errata.md: telescoping over contractions)."""
    return p["K"] * p["alpha"] * p["H"]


def _trunc_3_8_corrected(p, exact):
    """||P^K - P^L|| <= (K - L) alpha H (docs/errata.md)."""
    return (p["K"] - p["L"]) * p["alpha"] * p["H"]


def _fo_3_10_corrected(p, exact):
    """||P^K - I|| <= [(1+aH)^{K-M} - 1](1-ah)^M + M aH (docs/errata.md)."""
    aH, ah = p["alpha"] * p["H"], p["alpha"] * p["h"]
    return ((1 + aH) ** (p["K"] - p["M"]) - 1) * (1 - ah) ** p["M"] + p["M"] * aH


_EQ = {("3.6", "fo"): "(11a)", ("3.6", "trunc"): "(11b)", ("3.6", "binom"): "(11c)",
       ("3.8", "fo"): "(12a)", ("3.8", "trunc"): "(12b)", ("3.8", "binom"): "(12c)",
       ("3.10", "fo"): "(13a)", ("3.10", "trunc"): "(13b)", ("3.10", "binom"): "(13c)"}
_NAME = {"fo": "FOMAML", "trunc": "TruncMAML", "binom": "BinomMAML"}


def _bound(theorem, est, *, sid=None, bound=None, commuting=False, text=None, ref=None):
    sid = sid or f"thm{theorem}.{est}"
    claim = BoundClaim(sid, theorem, est, bound or paper_bound(theorem, est), commuting=commuting)
    text = text or f"{_NAME[est]} error <= bound {_EQ[theorem, est]} |g|"
    if commuting:
        text += ", for commuting Hessians"
    ref = ref or f"Theorem {theorem}, eq. {_EQ[theorem, est]}"
    return BoundStatement(sid, ref, claim.assumption, text, claim=claim)


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
    return ExactStatement(sid, reference, "-", text, cases=lambda: _trajectory_cases(**case_kw),
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
# claims about numbers (bounds' values, binomials)


def _params(theorem, **kw):
    return st.builds(lambda p: {"params": p}, bound_parameters(theorem=theorem, exact=True, **kw))


def _evaluate(theorem, p):
    import bounds

    return bounds.evaluate(theorem, p["K"], p["L"], p["alpha"], p["H"], p["h"], p["M"], exact=True)


def _order(case):
    """Theorem 3.6: e_bin < e_tr < e_fo."""
    e = _evaluate("3.6", case["params"])
    if not e["binom"] < e["trunc"]:
        return False, e["binom"], e["trunc"]
    return e["trunc"] < e["fo"], e["trunc"], e["fo"]


def _scalar_error(case, hessians, estimator, theorem):
    """|P^K g - estimate| / bound for a d = 1 sequence and g = 1, exactly: (error, bound)."""
    from .measure import exact_error

    p = case["params"]
    H = np.array([[[Fraction(x)]] for x in hessians], dtype=object)
    err = exact_error(H, np.array([Fraction(1)], dtype=object), p["alpha"], p["L"], estimator)[0]
    return abs(err), _evaluate(theorem, p)[estimator]


def _sharp_3_6(case):
    """(11a-c) attained at H^k = -H I (d = 1 suffices: the Hessians are scalar)."""
    p = case["params"]
    for est in ("fo", "trunc", "binom"):
        error, bound = _scalar_error(case, [-p["H"]] * p["K"], est, "3.6")
        if error != bound:
            return False, error, bound
    return True, error, bound


def _sharp_3_8(case):
    """(12a) attained at H^k = H I; (12b) at H^k = H I for k < K-L and 0 after."""
    p = case["params"]
    K, L, H = p["K"], p["L"], p["H"]
    error, bound = _scalar_error(case, [H] * K, "fo", "3.8")
    if error != bound:
        return False, error, bound
    error, bound = _scalar_error(case, [H] * (K - L) + [0 * H] * L, "trunc", "3.8")
    return error == bound, error, bound


@st.composite
def _loose_cases(draw, max_L_gap=1):
    """3.8 points with L <= K - max_L_gap, and d = 1 Hessians (H^k = H I offered first)."""
    p = draw(bound_parameters(theorem="3.8", exact=True, min_K=max_L_gap)
             .filter(lambda p: p["L"] <= p["K"] - max_L_gap))
    extreme = np.full((p["K"], 1, 1), p["H"], dtype=object)  # H^k = H I: the candidate extreme
    hs = draw(st.one_of(st.just(extreme),
                        hessian_sequences(K=p["K"], d=1, assumption="3.7", H=p["H"], exact=True)))
    return {"params": p, "hessians": hs}


def _loose_3_8(case):
    """Section 3.2: 'the BinomMAML bound is loose' -- error < (12c) bound strictly, d = 1."""
    error, bound = _scalar_error(case, case["hessians"][:, 0, 0], "binom", "3.8")
    return error < bound, error, bound


def _compare(value, lo, hi, strict=True):
    """Is value < x (value <= x unless strict) for the unknown x in [lo, hi]? Raise if undecided."""
    if value < lo or (not strict and value == lo):
        return True
    if value > hi or (strict and value == hi):
        return False
    raise ArithmeticError(f"undecided with e in [{float(E_LO)!r}, {float(E_HI)!r}]")


def _superexp_3_8(case):
    """Proof of Thm 3.8: (12c) bound < (alpha H e K / (L+1))^{L+1} (Lemma B.5)."""
    p = case["params"]
    b = _evaluate("3.8", p)["binom"]

    def majorant(e):
        return (p["alpha"] * p["H"] * e * p["K"] / (p["L"] + 1)) ** (p["L"] + 1)

    return _compare(b, majorant(E_LO), majorant(E_HI)), b, majorant(E_LO)


def _superexp_3_10(case):
    """Proof of Thm 3.10: (13c) bound <= H/h [aHe(K-1)/L]^L [1-(1-ah)^M]
    + (1-ah)^M [aHe(K-M-1)/L]^L [(1+aH)^{K-L-M} - 1] (Lemmas B.5, B.7)."""
    p = case["params"]
    K, L, M, H, h = p["K"], p["L"], p["M"], p["H"], p["h"]
    aH, ah = p["alpha"] * H, p["alpha"] * h
    b = _evaluate("3.10", p)["binom"]

    def majorant(e):
        return (H / h * (aH * e * (K - 1) / L) ** L * (1 - (1 - ah) ** M)
                + (1 - ah) ** M * (aH * e * (K - M - 1) / L) ** L * ((1 + aH) ** (K - L - M) - 1))

    return _compare(b, majorant(E_LO), majorant(E_HI), strict=False), b, majorant(E_LO)


@st.composite
def _kl_cases(draw, *, max_K=40, L_hi=lambda K: K, gamma=False):
    K = draw(st.integers(1, max_K))
    params = {"K": K, "L": draw(st.integers(0, L_hi(K)))}
    if gamma:
        params["gamma"] = draw(_fractions(-3, 3, 6))
    return {"params": params}


def _lemma_b5(case):
    """C(K, L) < (eK/L)^L for L = 0..K; at L = 0 the right side is 1 (its limit, and x^0 = 1)."""
    K, L = case["params"]["K"], case["params"]["L"]
    lhs = Fraction(comb(K, L))
    if L == 0:
        return lhs < 1, lhs, Fraction(1)
    return _compare(lhs, (E_LO * K / L) ** L, (E_HI * K / L) ** L), lhs, (E_LO * K / L) ** L


def _lemma_b7(case):
    """sum_{l=L+1}^{K} C(K,l) g^l = g^{L+1} sum_{l=1}^{K-L} C(K-l, L) (1+g)^{l-1}, eq. (38)."""
    K, L, gamma = case["params"]["K"], case["params"]["L"], case["params"]["gamma"]
    lhs = sum((comb(K, l) * gamma ** l for l in range(L + 1, K + 1)), Fraction(0))
    rhs = gamma ** (L + 1) * sum((comb(K - l, L) * (1 + gamma) ** (l - 1)
                                  for l in range(1, K - L + 1)), Fraction(0))
    return lhs == rhs, abs(lhs - rhs), 0


def _replay_limit(K) -> str | None:
    return None if K <= MAX_REPLAY_K else (
        f"K = {K} is beyond K <= {MAX_REPLAY_K}, the largest K replayed exactly (to bound the time)")


def _theorem_domain(theorem):
    def validate(case):
        return _replay_limit(case["params"]["K"]) or broken_conditions(theorem, case["params"])
    return validate


def _kl_domain(L_lo, L_hi):
    """validate(case) for a claim over integers K >= 1 and L_lo <= L <= L_hi(K)."""
    def validate(case):
        K, L = case["params"]["K"], case["params"]["L"]
        if K < 1 or not L_lo <= L <= L_hi(K):
            return f"K = {K}, L = {L} breaks K >= 1 and {L_lo} <= L <= {L_hi(K)}, the statement's domain"
        return _replay_limit(K)
    return validate


def _inner_L(case) -> bool:
    return 1 <= case["params"]["L"] < case["params"]["K"]


def _restricted(theorem, predicate, text):
    """validate(case): ``theorem``'s conditions and ``predicate`` (the filter of the cases, ``text``)."""
    conditions = _theorem_domain(theorem)

    def validate(case):
        return conditions(case) or (None if predicate(case) else f"{text} fails, the statement's domain")
    return validate


def _loose_domain(max_L_gap):
    """validate(case) for the cases of ``_loose_cases(max_L_gap)``: Theorem 3.8's conditions,
    L <= K - max_L_gap, d = 1 Hessians in [0, H] (Assumption 3.7)."""
    def in_range(case):
        return case["params"]["L"] <= case["params"]["K"] - max_L_gap

    restricted = _restricted("3.8", in_range, f"L <= K - {max_L_gap}")

    def validate(case):
        why = restricted(case)
        hs, H = case["hessians"], case["params"]["H"]
        if why or hs.shape[1:] != (1, 1):
            return why or f"hessians are {hs.shape[1]} x {hs.shape[2]}; the statement is about d = 1"
        k = next((k for k, x in enumerate(hs[:, 0, 0]) if not 0 <= x <= H), None)
        return None if k is None else f"H^{k} = {hs[k, 0, 0]} is outside [0, H] (Assumption 3.7)"
    return validate


def _claim(sid, reference, assumption, text, cases, examine, theorem=None, validate=None):
    if validate is None:
        validate = _theorem_domain(theorem) if theorem else (lambda case: None)
    return ExactStatement(sid, reference, assumption, text, cases=cases, examine=examine,
                          validate=validate)


# --------------------------------------------------------------------------------------------
# the registry

_STATEMENTS: list[Statement] = [
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
    _bound("3.6", "fo", sid="lemB.2", ref="Lemma B.2, eq. (30)",
           text="||P^i - I|| <= (1 + aH)^i - 1 (i = K: P^i is the product of the last i factors)"),
    _identity_statement(
        "lemB.4", "Lemma B.4 (as printed)", "P^K g - (8) = sum_l [sum prod_{i=1}^{l}] (-aH^{K-l}) P^{l-1} g",
        lambda c: _ref().lemma_b4_printed(*_args(c)), **_B4_PRINTED_L),
    _identity_statement(
        "lemB.4.corrected", "Lemma B.4, eq. (33)", "P^K g - (8) = sum_l [sum prod_{i=1}^{L}] (-aH^{K-l}) P^{l-1} g",
        lambda c: _ref().lemma_b4(*_args(c)), min_K=2, L=lambda K: (1, K - 1)),
    _claim("lemB.5", "Lemma B.5", "-", "C(K, L) < (eK/L)^L for L = 0, ..., K", _kl_cases, _lemma_b5,
           validate=_kl_domain(0, lambda K: K)),
    _claim("lemB.5.corrected", "Lemma B.5, 1 <= L <= K", "-", "C(K, L) < (eK/L)^L for L = 1, ..., K",
           lambda: _kl_cases().filter(lambda c: c["params"]["L"] >= 1), _lemma_b5,
           validate=_kl_domain(1, lambda K: K)),
    _claim("lemB.7", "Lemma B.7, eq. (38)", "-", "binomial tail identity, any real gamma",
           lambda: _kl_cases(L_hi=lambda K: K - 1, gamma=True), _lemma_b7,
           validate=_kl_domain(0, lambda K: K - 1)),
    _bound("3.6", "fo"), _bound("3.6", "trunc"), _bound("3.6", "binom"),
    _claim("thm3.6.order", "Theorem 3.6", "3.5", "e_bin < e_tr < e_fo", lambda: _params("3.6"),
           _order, theorem="3.6"),
    _claim("thm3.6.order.corrected", "Theorem 3.6, proof (1 <= L < K)", "3.5",
           "e_bin < e_tr < e_fo for 1 <= L <= K - 1",
           lambda: _params("3.6", min_K=2).filter(_inner_L), _order,
           validate=_restricted("3.6", _inner_L, "1 <= L <= K - 1")),
    _claim("thm3.6.sharp", "Theorem 3.6, text after it", "3.5", "(11a-c) attained at H^k = -H I",
           lambda: _params("3.6"), _sharp_3_6, theorem="3.6"),
    _bound("3.8", "fo"), _bound("3.8", "trunc"), _bound("3.8", "binom"),
    _bound("3.8", "fo", sid="thm3.8.fo.commuting", commuting=True),
    _bound("3.8", "trunc", sid="thm3.8.trunc.commuting", commuting=True),
    _bound("3.8", "fo", sid="thm3.8.fo.corrected", bound=_fo_3_8_corrected,
           text="FOMAML error <= K aH |g| (corrected (12a))", ref="docs/errata.md, Theorem 3.8"),
    _bound("3.8", "trunc", sid="thm3.8.trunc.corrected", bound=_trunc_3_8_corrected,
           text="TruncMAML error <= (K - L) aH |g| (corrected (12b))", ref="docs/errata.md, Theorem 3.8"),
    _claim("thm3.8.sharp", "Section 3.2, after Theorem 3.8", "3.7",
           "(12a) attained at H^k = H I; (12b) at H I for k < K-L, 0 after", lambda: _params("3.8"),
           _sharp_3_8, theorem="3.8"),
    _claim("thm3.8.loose", "Section 3.2, after Theorem 3.8", "3.7",
           "the BinomMAML bound (12c) is loose (never attained for L < K)", _loose_cases, _loose_3_8,
           validate=_loose_domain(max_L_gap=1)),
    _claim("thm3.8.loose.corrected", "Section 3.2, after Theorem 3.8, L <= K - 2", "3.7",
           "(12c) is not attained for L <= K - 2 (d = 1 Hessians)", lambda: _loose_cases(max_L_gap=2),
           _loose_3_8, validate=_loose_domain(max_L_gap=2)),
    _claim("thm3.8.superexp", "Theorem 3.8 and its proof", "3.7",
           "(12c) < (aH e K/(L+1))^{L+1}: super-exponential decay once aH eK/(L+1) < 1",
           lambda: _params("3.8", max_K=12), _superexp_3_8, theorem="3.8"),
    _bound("3.10", "fo"), _bound("3.10", "trunc"), _bound("3.10", "binom"),
    _bound("3.10", "fo", sid="thm3.10.fo.commuting", commuting=True),
    _bound("3.10", "fo", sid="thm3.10.fo.corrected", bound=_fo_3_10_corrected,
           text="FOMAML error <= ([(1+aH)^{K-M} - 1](1-ah)^M + M aH) |g| (corrected (13a))",
           ref="docs/errata.md, Theorem 3.10"),
    _claim("thm3.10.superexp", "Theorem 3.10 and its proof", "3.9",
           "(13c) <= the majorant of the proof (Lemmas B.5, B.7): super-exponential decay",
           lambda: _params("3.10", max_K=12), _superexp_3_10, theorem="3.10"),
]

#: statement id -> Statement, in the paper's order
REGISTRY: dict[str, Statement] = {s.id: s for s in _STATEMENTS}


def get(statement_id: str) -> Statement:
    """The statement with this id; VerifyInputError (a ValueError) naming the known ids otherwise."""
    try:
        return REGISTRY[statement_id]
    except KeyError:
        raise VerifyInputError(f"unknown statement id {statement_id!r}; known: {', '.join(REGISTRY)}") from None
