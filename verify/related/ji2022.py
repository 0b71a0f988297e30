"""Checks of Ji, Yang, Liang, "Theoretical Convergence of Multi-Step MAML" (JMLR 23 (2022)).

Every deterministic statement (docs/related/ji2022.md) is a :class:`verify.checks.ExactCheck`
(an entry of ``verify.registry``: ``binomgbml verify --paper ji2022``): Hypothesis draws exact
instances that satisfy the statement's assumptions, ``examine(case)`` decides it in exact
arithmetic (Fractions; norms as :class:`~verify.related.surds.Surd` sums of square roots) and
returns ``(holds, lhs, rhs)``. A case is plain data (Fractions, ints, lists, dicts), so a witness
is a JSON file that ``binomgbml verify --replay`` re-checks exactly.

The losses are those of :mod:`estimators.reference_multistep`: polynomials (eq. (3), where
only the order of the product is at stake) and cubic ridges ``1/2 x^T A x + b^T x + c phi(a^T x)``
whose constants are certified exactly:

* gradient-Lipschitz ``L``: every Hessian is a convex combination of the two extreme Hessians
  ``A + c s a a^T`` (s = lo, hi), so ``-L I <= H <= L I`` at both (exact PSD tests) proves
  ``||hess l|| <= L`` everywhere; the drawn L is the tightest such rational found;
* Hessian-Lipschitz ``rho``: ``||H(x) - H(y)|| <= |c| ||a||^3 ||x - y||`` (``clip`` is
  1-Lipschitz); ``a`` is drawn with a rational norm, so ``rho = |c| ||a||^3`` exactly.

Item 1 of Assumptions 1 and 4 (bounded below) is used by none of these statements; the
instances need not meet it, which makes each check a check of a stronger claim.
:func:`satisfiability` shows that every assumption set, item 1 included, has an exact instance.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

import bounds
from bounds.exact import exp_bracket
from bounds.papers import ji2022 as ji
from estimators import reference_multistep as ref

from ..checks import ExactCheck, OutsideAssumptions, plain_from_json, plain_to_json
from ..rationals import det, is_psd
from ..search import Result
from ..strategies import hessian_sequences, householder
from .surds import Surd, norm

__all__ = [
    "OutsideAssumptions",
    "adversarial_search",
    "bounded_below_ok",
    "case_from_json",
    "case_to_json",
    "certified_L",
    "certified_rho",
    "get",
    "satisfiability",
    "statements",
]

_EYE = {d: np.eye(d, dtype=int).astype(object) for d in (1, 2, 3, 4)}


# --------------------------------------------------------------------------------------------
# cases as plain data


case_to_json = plain_to_json  # a case (Fractions, ints, lists, dicts) as JSON-ready data
case_from_json = plain_from_json  # its inverse: "p/q" strings become Fractions


def _encode(case) -> dict:
    """A witness stores the case under "case"."""
    return {"case": plain_to_json(case)}


def _decode(witness) -> Any:
    return plain_from_json(witness["case"], name="case")


def _ridge(spec) -> ref.RidgeLoss:
    return ref.RidgeLoss(spec["A"], spec["b"], spec["a"], spec["c"], spec["lo"], spec["hi"])


def _shifted(spec, shift) -> dict:
    """The ridge spec with ``shift`` added to its linear term b."""
    return {**spec, "b": [x + y for x, y in zip(spec["b"], shift)]}


def _poly(spec) -> ref.PolynomialLoss:
    return ref.PolynomialLoss({tuple(m): c for m, c in spec["terms"]}, spec["d"])


def _sq(v) -> Fraction:
    return sum((Fraction(x) ** 2 for x in v), Fraction(0))


# --------------------------------------------------------------------------------------------
# certified constants


def _spectral_bound_ok(H, L) -> bool:
    eye = _EYE[H.shape[0]]
    return is_psd(eye * L - H) and is_psd(eye * L + H)


def gradient_lipschitz_ok(loss: ref.RidgeLoss, L) -> bool:
    """Exactly: is ``||hess loss(x)|| <= L`` for every x (both extreme Hessians in [-L, L])?"""
    return L > 0 and all(_spectral_bound_ok(H, Fraction(L)) for H in loss.hessian_extremes())


def hessian_lipschitz_ok(loss: ref.RidgeLoss, rho) -> bool:
    """Exactly: is ``rho >= |c| ||a||^3``, the Hessian-Lipschitz constant of the ridge?"""
    rho = Fraction(rho)
    return rho >= 0 and rho * rho >= loss.c ** 2 * _sq(loss.a) ** 3


def _positive_definite(H) -> bool:
    """Exactly: every leading principal minor > 0 (Sylvester)."""
    return all(det(H[:k, :k]) > 0 for k in range(1, H.shape[0] + 1))


def bounded_below_ok(loss: ref.RidgeLoss) -> bool:
    """A certificate for item 1 of Assumptions 1 and 4: both extreme Hessians positive definite,
    so every Hessian is >= mu I with mu > 0 (a convex combination): strongly convex, bounded below."""
    return all(_positive_definite(H) for H in loss.hessian_extremes())


def certified_L(losses) -> Fraction:
    """The tightest rational L found (at least 1/8) with ``gradient_lipschitz_ok`` for all losses."""
    x = max(float(np.max(np.abs(np.linalg.eigvalsh(H.astype(float)))))
            for loss in losses for H in loss.hessian_extremes())
    x = max(x, 0.125)
    candidates = [Fraction(x).limit_denominator(1000)] + [
        Fraction(int(np.ceil(x * den)) + k, den) for den in (1024, 1 << 20) for k in (0, 1)]
    for L in candidates:
        if all(gradient_lipschitz_ok(loss, L) for loss in losses):
            return L
    raise ArithmeticError(f"no certified L near {x}")  # pragma: no cover


def certified_rho(losses) -> Fraction:
    """``max_i |c_i| ||a_i||^3`` (exact for rational ``||a_i||``, else a rational upper bound)."""
    return max(loss.hessian_lipschitz()[0] for loss in losses)


def _constants_ok(p: dict, losses, *, rho: bool = False) -> str | None:
    """Why ``p`` and ``losses`` break Assumption 1 / 4 (items 1-3) exactly, or None."""
    if not all(bounded_below_ok(loss) for loss in losses):
        return "a loss is not certified bounded below (item 1: extreme Hessians not positive definite)"
    if not all(gradient_lipschitz_ok(loss, p["L"]) for loss in losses):
        return f"L={p['L']} is not a gradient-Lipschitz constant of every loss"
    if rho and not all(hessian_lipschitz_ok(loss, p["rho"]) for loss in losses):
        return f"rho={p['rho']} is not a Hessian-Lipschitz constant of every loss"
    if not p["alpha"] > 0 or p["N"] < 1:
        return "need alpha > 0 and N >= 1"
    return None


# --------------------------------------------------------------------------------------------
# strategies


def _q(lo, hi, den: int = 4):
    lo, hi = Fraction(lo), Fraction(hi)
    return st.fractions(lo, hi, max_denominator=max(den, lo.denominator, hi.denominator))


def _favour(values, inner):
    return st.one_of(st.sampled_from([Fraction(v) for v in values]), inner)


@st.composite
def rational_unit_vectors(draw, d: int):
    """Exact unit vectors with rational entries (inverse stereographic projection)."""
    if d == 1:
        return [Fraction(draw(st.sampled_from([-1, 1])))]
    t = [draw(_q(-2, 2)) for _ in range(d - 1)]
    s = sum(x * x for x in t)
    v = [2 * x / (1 + s) for x in t] + [(1 - s) / (1 + s)]
    return [x * draw(st.sampled_from([-1, 1])) for x in v]


def _vectors(d: int, bound=2, den: int = 4):
    return st.lists(_q(-bound, bound, den), min_size=d, max_size=d)


@st.composite
def ridge_specs(draw, d: int, *, convex: bool = False):
    """Cubic ridge losses: general (non-commuting Hessians along a path), concave quadratic
    ``-lam/2 ||x||^2`` (where Lemmas 11, 12 and Proposition 1's first term are equalities) or
    quadratic (c = 0). ``convex=True``: A is shifted by a multiple of I until both extreme
    Hessians are >= I/4 (strongly convex, so bounded below: item 1 of Assumption 1)."""
    if convex:
        spec = draw(ridge_specs(d))
        m = min(float(np.min(np.linalg.eigvalsh(H.astype(float)))) for H in _ridge(spec).hessian_extremes())
        shift = Fraction(max(0, int(np.ceil((0.25 - m) * 4)) + 1), 4)
        return {**spec, "A": (np.array(spec["A"], dtype=object) + _EYE[d] * shift).tolist()}
    kind = draw(st.sampled_from(["general", "general", "concave", "quadratic"]))
    zero = [Fraction(0)] * d
    if kind == "concave":
        lam = draw(_q("1/4", 2))
        return {"A": (_EYE[d] * -lam).tolist(), "b": zero, "a": zero, "c": Fraction(0),
                "lo": Fraction(0), "hi": Fraction(0)}
    A = draw(hessian_sequences(K=1, d=d, assumption="3.5", H=draw(_q("1/4", 2)), exact=True))[0]
    b = draw(_vectors(d))
    if kind == "quadratic":
        return {"A": A.tolist(), "b": b, "a": zero, "c": Fraction(0), "lo": Fraction(0),
                "hi": Fraction(0)}
    r = draw(_favour([1], _q("1/4", "3/2")))
    a = [r * x for x in draw(rational_unit_vectors(d))]
    return {"A": A.tolist(), "b": b, "a": a, "c": draw(_favour([0, 1, -1], _q(-2, 2))),
            "lo": draw(_favour([0, -1], _q(-2, 0))), "hi": draw(_favour([0, 1], _q(0, 2)))}


def _alpha(draw, L, N, *, max_aL=2):
    """alpha = t / L with t = alpha L in (0, max_aL], the step-size rule 1/(8N) favoured."""
    t = draw(_favour([1, Fraction(1, 8 * N), Fraction(1, 2)], _q(Fraction(1, 16), max_aL, 8)))
    return t / L


@st.composite
def _ridge_case(draw, *, tasks=1, points=("w",), max_N=3, max_d=3, rho=False, max_aL=2,
                convex=False):
    d = draw(st.integers(1, max_d))
    N = draw(st.integers(1, max_N))
    specs = [draw(ridge_specs(d, convex=convex)) for _ in range(tasks)]
    losses = [_ridge(s) for s in specs]
    L = certified_L(losses)
    params = {"alpha": _alpha(draw, L, N, max_aL=max_aL), "N": N, "L": L}
    if rho:
        params["rho"] = certified_rho(losses)
    case = {"params": params, "tasks": specs}
    for name in points:
        case[name] = draw(_vectors(d))
    return case


# --------------------------------------------------------------------------------------------
# examining a case


def _worst(pairs):
    """``(holds, lhs, rhs)`` over ``(lhs, rhs)`` pairs (Fractions or Surds): every ``lhs <= rhs``;
    the pair reported is the first violated one, else the one of largest ratio."""
    best, best_ratio = pairs[0], -1.0
    for lhs, rhs in pairs:
        if not Surd.of(lhs) <= rhs:
            return False, lhs, rhs
        ratio = float(lhs) / float(rhs) if float(rhs) else 0.0
        if ratio > best_ratio:
            best, best_ratio = (lhs, rhs), ratio
    return True, *best


def _meta_gradient(trn, val, w, p) -> np.ndarray:
    """grad L_i(w) by differentiating the unrolled loop (not through the product of eq. (3))."""
    return ref.meta_gradient_unrolled(trn, val, w, p["alpha"], p["N"])


def examine_eq3(case, order: str = "increasing"):
    """Eq. (3): the product (in ``order``) equals the derivative of the unrolled inner loop."""
    p = case["params"]
    trn, val = _poly(case["trn"]), _poly(case["val"])
    exact = ref.meta_gradient_unrolled(trn, val, case["theta"], p["alpha"], p["N"])
    product = ref.meta_gradient_product(trn, val, case["theta"], p["alpha"], p["N"], order=order)
    diff = max(abs(x) for x in exact - product)
    return diff == 0, diff, Fraction(0)


def examine_lemma11(case):
    p = case["params"]
    loss = _ridge(case["tasks"][0])
    w = ref.inner_path(loss, case["w"], p["alpha"], p["N"])
    u = ref.inner_path(loss, case["u"], p["alpha"], p["N"])
    dist = norm(w[0] - u[0])
    return _worst([(norm(w[j] - u[j]), bounds.evaluate("ji2022.lemma11", p["alpha"], p["L"], j, exact=True)["factor"] * dist)
                   for j in range(p["N"] + 1)])


def examine_lemma12(case):
    """Lemma 12 (and 17: the same statement for the inner loss l_S of the finite-sum case)."""
    p = case["params"]
    loss = _ridge(case["tasks"][0])
    w = ref.inner_path(loss, case["w"], p["alpha"], p["N"])
    g0 = norm(loss.gradient(w[0]))
    return _worst([(norm(loss.gradient(w[j])), bounds.evaluate("ji2022.lemma12", p["alpha"], p["L"], j, exact=True)["factor"] * g0)
                   for j in range(p["N"] + 1)])


def examine_lemma13(case):
    """||I - prod_j (I - alpha V_j)||_2 <= (1 + alpha L)^n - 1, decided by an exact PSD test."""
    p = case["params"]
    V = [np.array(v, dtype=object) for v in case["V"]]
    eye = _EYE[V[0].shape[0]]
    P = eye
    for Vj in V:
        P = P.dot(eye - p["alpha"] * Vj)
    M = eye - P
    bound = bounds.evaluate("ji2022.lemma13", p["alpha"], p["L"], len(V), exact=True)["bound"]
    holds = is_psd(eye * bound ** 2 - M.T.dot(M))
    return holds, float(np.linalg.norm(M.astype(float), 2)), bound


def examine_lemma14(case):
    p = case["params"]
    C_b = bounds.evaluate("ji2022.lemma14", p["alpha"], p["L"], p["N"], exact=True)["C_b"]
    pairs = []
    for spec in case["tasks"]:
        loss = _ridge(spec)
        g = loss.gradient(case["w"])
        pairs.append((norm(_meta_gradient(loss, loss, case["w"], p) - g), C_b * norm(g)))
    return _worst(pairs)


def _lemma15_tasks(case):
    return [_ridge(_shifted(case["tasks"][0], s)) for s in case["shifts"]]


def _sigma(shifts) -> Surd:
    """The exact sigma of Assumption 2 for tasks ``f + s_i^T w``: sqrt(E_i ||s_i - mean s||^2)."""
    n = len(shifts)
    mean = [sum(col) / n for col in zip(*shifts)]
    return Surd.sqrt(sum(_sq([a - m for a, m in zip(s, mean)]) for s in shifts) / n)


def examine_lemma15(case):
    """E_i ||grad l_i(w)|| <= (||grad L(w)|| + sigma) / (1 - C_b), tasks sharing f, shifted by s_i."""
    p = case["params"]
    tasks, w = _lemma15_tasks(case), case["w"]
    n = len(tasks)
    lhs = sum((norm(t.gradient(w)) for t in tasks), Surd()) / n
    meta = sum(_meta_gradient(t, t, w, p) for t in tasks) / n
    factor = bounds.evaluate("ji2022.lemma15", p["alpha"], p["L"], p["N"], 1, 0, exact=True)["bound"]  # 1/(1 - C_b)
    return _worst([(lhs, factor * (norm(meta) + _sigma(case["shifts"])))])


def examine_lemma18(case):
    """Finite-sum: ||grad L_i(w) - grad l_T(w)|| <= a_T ||grad l_T(w)|| + a_S ||grad l_S(w)||."""
    p = case["params"]
    S, T = (_ridge(s) for s in case["tasks"])
    w = case["w"]
    a_T = bounds.evaluate("ji2022.lemma18", p["alpha"], p["L"], p["N"], 1, 0, exact=True)["bound"]
    a_S = bounds.evaluate("ji2022.lemma18", p["alpha"], p["L"], p["N"], 0, 1, exact=True)["bound"]
    gT = T.gradient(w)
    return _worst([(norm(_meta_gradient(S, T, w, p) - gT), a_T * norm(gT) + a_S * norm(S.gradient(w)))])


def _finite_sum_tasks(case):
    """``(l_S_i, l_T_i, b_i)``: any ridge l_S_i and ``l_T_i = l_S_i + c_i^T w``, so that
    ``||grad l_S_i(w) - grad l_T_i(w)|| = ||c_i|| = b_i`` for every w (Assumption 5, item 2)."""
    return [(_ridge(s), _ridge(_shifted(s, c)), Surd.sqrt(_sq(c))) for s, c in zip(case["tasks"], case["c"])]


def examine_lemma19(case):
    """Per task: ||grad L_i(w)||^2 <= 2G^(4N) ||grad l_T_i(w)||^2 + 2G^(2N) (G^N - 1)^2 b_i^2."""
    p, w = case["params"], case["w"]
    return _worst([(_sq(_meta_gradient(S, T, w, p)),
                    bounds.evaluate("ji2022.lemma19", p["alpha"], p["L"], p["N"], _sq(T.gradient(w)), _sq(c),
                                    exact=True)["bound"])
                   for (S, T, _), c in zip(_finite_sum_tasks(case), case["c"])])


def _smoothness_sides(p, meta, w, u, weights, formula):
    """``(||grad L(w) - grad L(u)||, (base + slope * weights) ||w - u||)`` for Proposition 1 or 7,
    the bound linear in its last argument."""
    args = (p["alpha"], p["L"], p["rho"], p["N"])
    base = formula(*args, 0, exact=True)
    slope = formula(*args, 1, exact=True) - base
    lhs = norm(meta(w) - meta(u))
    return _worst([(lhs, (base + slope * weights) * norm(np.array(w, dtype=object) - np.array(u, dtype=object)))])


def examine_prop1(case):
    """||grad L(w) - grad L(u)|| <= ((1+aL)^(2N) L + C_L E_i ||grad l_i(w)||) ||w - u||."""
    p = case["params"]
    tasks = [_ridge(s) for s in case["tasks"]]
    n = len(tasks)

    def meta(x):
        return sum(_meta_gradient(t, t, x, p) for t in tasks) / n

    mean_norm = sum((norm(t.gradient(case["w"])) for t in tasks), Surd()) / n
    return _smoothness_sides(p, meta, case["w"], case["u"], mean_norm,
                             lambda *a, exact: bounds.evaluate("ji2022.prop1", *a, exact=exact)["L_w"])


def examine_prop7(case):
    """Finite-sum: as Proposition 1 with E_i (||grad l_S_i(w)|| + b_i) (l_T_i = l_S_i + c_i^T w)."""
    p = case["params"]
    tasks = _finite_sum_tasks(case)
    n = len(tasks)

    def meta(x):
        return sum(_meta_gradient(S, T, x, p) for S, T, _ in tasks) / n

    weights = sum((norm(S.gradient(case["w"])) + b for S, _, b in tasks), Surd()) / n
    return _smoothness_sides(p, meta, case["w"], case["u"], weights,
                             lambda *a, exact: bounds.evaluate("ji2022.prop7", *a, exact=exact)["L_w"])


def examine_prop2(case):
    """Deterministic core of Proposition 2 on a finite, sign-symmetric noise distribution.

    Step j of the SGD path adds ``eps_j v`` to the gradient (eq. (6)), ``eps_j = +-1`` with
    probability 1/2 and ``v = tree[j][history]`` chosen per history with ``||v|| <= s``: unbiased,
    conditional variance ``||v||^2 <= s^2``. Both moments of ``||w~_j - w_j||`` are exact averages
    over the 2^j paths, checked for every j against the first- and second-moment bounds.
    """
    p = case["params"]
    loss = _ridge(case["tasks"][0])
    alpha, s = p["alpha"], p["s"]
    w = ref.inner_path(loss, case["w"], alpha, p["N"])
    paths, pairs = [np.array(w[0], dtype=object)], []
    for j in range(p["N"] + 1):
        dists = [norm(x - w[j]) for x in paths]
        moments = bounds.evaluate("ji2022.prop2", alpha, p["L"], j, s, s * s, exact=True)
        pairs.append((sum(dists, Surd()) / len(paths), moments["first"]))
        pairs.append((sum(_sq(x - w[j]) for x in paths) / len(paths), moments["second"]))
        if j < p["N"]:
            nxt = []
            for h, x in enumerate(paths):
                g, v = loss.gradient(x), np.array(case["tree"][j][h], dtype=object)
                nxt += [x - alpha * (g + v), x - alpha * (g - v)]
            paths = nxt
    return _worst(pairs)


def examine_stepsize(case):
    """At alpha = c/(N L): (1 + c/N)^N <= sum_(k<=N) c^k/k! < e^c, and it increases with N."""
    c, N = case["params"]["c"], case["params"]["N"]
    rule = bounds.evaluate("ji2022.stepsize", c, N, 1, exact=True)
    G, bound = rule["growth"], rule["growth_bound"]
    e_lower = exp_bracket(c)[0] if c <= 8 else None
    increasing = G < bounds.evaluate("ji2022.stepsize", c, N + 1, 1, exact=True)["growth"]
    below_e = e_lower is None or bound < e_lower or N >= 60
    return G <= bound and below_e and increasing, G, bound


def examine_stepsize_uniform(case):
    """C_b < 1 at alpha = c/(N L) for every N exactly when e^(2c) <= 2 (c <= ln(2)/2):
    if the condition holds, ``(C_b(N), 1)`` with C_b(N) < 1 at the drawn N; if not, some
    N' = 2^k N has C_b(N') >= 1, reported as ``(1, C_b(N'))``."""
    c, N = case["params"]["c"], case["params"]["N"]
    C_b = bounds.evaluate("ji2022.lemma14", c / N, 1, N, exact=True)["C_b"]  # at alpha = c/(N L), L = 1
    if ji.step_size_uniform_condition(c):
        return C_b < 1, C_b, Fraction(1)
    M = N
    while M <= 1 << 13:  # (1 + c/M)^(2M) increases to e^(2c) > 2: some M has C_b(M) >= 1
        C_b_M = bounds.evaluate("ji2022.lemma14", c / M, 1, M, exact=True)["C_b"]
        if C_b_M >= 1:
            return True, Fraction(1), C_b_M
        M *= 2
    return False, Fraction(1), C_b  # pragma: no cover


# --------------------------------------------------------------------------------------------
# the statements


def _statement(sid, reference, assumption, text, cases, examine, validate) -> ExactCheck:
    """A statement of the paper: an :class:`~verify.checks.ExactCheck` whose cases are nested
    plain data, stored in a witness under "case". The strategies may draw beyond a statement's
    assumptions (item 1, bounded below, is used by no proof here); a violation counts only on a
    case ``validate`` accepts (one outside stops the run: OutsideAssumptions)."""
    return ExactCheck(sid, reference, assumption, text, cases=cases, examine=examine, validate=validate,
                      encode=_encode, decode=_decode)


@st.composite
def _eq3_cases(draw):
    d = draw(st.integers(2, 3))

    def poly():
        monomials = [m for m in np.ndindex(*(5,) * d) if 2 <= sum(m) <= 4]
        chosen = draw(st.lists(st.sampled_from(monomials), min_size=1, max_size=4, unique=True))
        cubic = draw(st.sampled_from([m for m in monomials if sum(m) >= 3]))
        terms = {tuple(int(e) for e in m): draw(_q(-1, 1)) for m in chosen}
        terms[tuple(int(e) for e in cubic)] = draw(st.sampled_from([Fraction(1), Fraction(-1), Fraction(1, 2)]))
        return {"d": d, "terms": [[list(m), c] for m, c in terms.items() if c]}

    trn = poly()
    return {"params": {"alpha": draw(_q("1/8", 1)), "N": draw(st.integers(1, 3))},
            "trn": trn, "val": draw(st.sampled_from([trn, poly()])),
            "theta": draw(_vectors(d, 1))}


def _validate_eq3(case):
    p = case["params"]
    return None if p["alpha"] > 0 and p["N"] >= 1 else "need alpha > 0 and N >= 1"


@st.composite
def _lemma13_cases(draw):
    d, n = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    L = draw(_q("1/4", 2))
    if draw(st.booleans()):  # symmetric, spectra in [-L, L] (Hessians)
        V = list(draw(hessian_sequences(K=n, d=d, assumption="3.5", H=L, exact=True)))
    else:  # general: Q1 diag(s) Q2 with |s| <= L
        V = []
        for _ in range(n):
            Q1, Q2 = (householder([draw(_vectors(d, 3)) for _ in range(draw(st.integers(0, d)))], d, exact=True)
                      for _ in range(2))
            s = [draw(_favour([L, -L], _q(-L, L))) for _ in range(d)]
            V.append((Q1 * np.array(s, dtype=object)).dot(Q2))
    return {"params": {"alpha": draw(_favour([1 / L], _q("1/8", 2, 8))), "L": L},
            "V": [np.asarray(v, dtype=object).tolist() for v in V]}


def _validate_lemma13(case):
    L = case["params"]["L"]
    for k, v in enumerate(case["V"]):
        v = np.array(v, dtype=object)
        if not is_psd(_EYE[v.shape[0]] * L * L - v.T.dot(v)):
            return f"||V_{k}|| > L={L}"
    return None


def _ridge_validate(*, rho=False, extra=None):
    def validate(case):
        losses = [_ridge(s) for s in case["tasks"]]
        why = _constants_ok(case["params"], losses, rho=rho)
        return why or (extra(case) if extra else None)

    return validate


@st.composite
def _lemma15_cases(draw, *, conditioned: bool):
    case = draw(_ridge_case(tasks=1, max_aL="1/4" if conditioned else 2, convex=not conditioned))
    d = len(case["w"])
    case["shifts"] = draw(st.lists(_vectors(d), min_size=1, max_size=3))  # same Hessians: same L
    p = case["params"]
    if conditioned and not ji.LEMMA15_CONDITION.holds(p):
        p["alpha"] = bounds.evaluate("ji2022.stepsize", Fraction(1, 8), p["N"], p["L"], exact=True)["step"]
    return case


def _lemma15_condition(case):
    p = case["params"]
    return None if ji.LEMMA15_CONDITION.holds(p) else "C_b >= 1"


@st.composite
def _finite_sum_cases(draw, *, points=("w",), rho=False):
    """Tasks (l_S_i any ridge, l_T_i = l_S_i + c_i^T w): same Hessians, so one certified L, rho."""
    case = draw(_ridge_case(tasks=draw(st.integers(1, 3)), points=points, rho=rho))
    case["c"] = [draw(_vectors(len(case["w"]))) for _ in case["tasks"]]
    return case


@st.composite
def _prop2_cases(draw):
    case = draw(_ridge_case(tasks=1))
    d, N = len(case["w"]), case["params"]["N"]
    s = draw(_q("1/8", 1))
    case["params"]["s"] = s
    tree = []
    for j in range(N):
        level = []
        for _ in range(2 ** j):
            u = draw(rational_unit_vectors(d))
            level.append([s * draw(_favour([1], _q(0, 1))) * x for x in u])
        tree.append(level)
    case["tree"] = tree
    return case


def _prop2_noise(case):
    s = case["params"]["s"]
    bad = any(_sq(v) > s * s for level in case["tree"] for v in level)
    return "a noise vector has norm > s" if bad else None


@st.composite
def _stepsize_cases(draw):
    return {"params": {"c": draw(_favour([Fraction(1, 8), 1], _q("1/16", 2, 16))), "N": draw(st.integers(1, 40))}}


def _validate_stepsize(case):
    p = case["params"]
    return None if p["c"] > 0 and p["N"] >= 1 else "need c > 0 and N >= 1"


_A1 = "Assumption 1 (items 2, 3)"
_A4 = "Assumption 4 (items 2, 3)"


def statements() -> list[ExactCheck]:
    """Every checked statement of Ji et al. (2022), in the paper's order."""
    S = _statement
    ridge1 = _ridge_case(tasks=1)
    return [
        S("ji2022.eq3", "Ji et al. eq. (3) (derivation: Appendix B, eq. (64))", "none (polynomial losses)",
          "grad L_i(w) = (I - a H(w_0)) (I - a H(w_1)) ... (I - a H(w_(N-1))) grad l_i(w_N), "
          "increasing j left to right (toolkit P^N)", _eq3_cases, examine_eq3, _validate_eq3),
        S("ji2022.eq3.reversed", "Ji et al. eq. (3) read with the product reversed (not printed)",
          "none (polynomial losses)",
          "grad L_i(w) = (I - a H(w_(N-1))) ... (I - a H(w_0)) grad l_i(w_N)",
          _eq3_cases, lambda c: examine_eq3(c, "decreasing"), _validate_eq3),
        S("ji2022.lemma11", "Ji et al. Lemma 11", _A1, ji.LEMMA11.bounds["factor"].text,
          lambda: _ridge_case(tasks=1, points=("w", "u")), examine_lemma11, _ridge_validate()),
        S("ji2022.lemma12", "Ji et al. Lemma 12", _A1, ji.LEMMA12.bounds["factor"].text,
          lambda: ridge1, examine_lemma12, _ridge_validate()),
        S("ji2022.lemma13", "Ji et al. Lemma 13", "||V_j|| <= L (any real matrices)",
          ji.LEMMA13.bounds["bound"].text, _lemma13_cases, examine_lemma13, _validate_lemma13),
        S("ji2022.lemma14", "Ji et al. Lemma 14, eq. (65)", _A1, ji.LEMMA14.bounds["C_b"].text,
          lambda: _ridge_case(tasks=2), examine_lemma14, _ridge_validate()),
        S("ji2022.lemma15", "Ji et al. Lemma 15, with C_b < 1 (its proof divides by 1 - C_b)",
          _A1 + " + Assumption 2 (exact sigma)", ji.LEMMA15.bounds["bound"].text + ", needs C_b < 1",
          lambda: _lemma15_cases(conditioned=True), examine_lemma15,
          _ridge_validate(extra=_lemma15_condition)),
        S("ji2022.lemma15.unconditional", "Ji et al. Lemma 15 with no condition on alpha "
          "(as the surviving words state it)", _A1 + " + Assumption 2 (exact sigma)",
          "E_i ||grad l_i(w)|| <= (||grad L(w)|| + sigma) / (1 - C_b) for every alpha > 0",
          lambda: _lemma15_cases(conditioned=False), examine_lemma15, _ridge_validate()),
        S("ji2022.lemma17", "Ji et al. Lemma 17 (finite-sum; as Lemma 12 for l_S)", _A4,
          ji.LEMMA12.bounds["factor"].text.replace("grad l", "grad l_S"),
          lambda: ridge1, examine_lemma12, _ridge_validate()),
        S("ji2022.lemma18", "Ji et al. Lemma 18", _A4, ji.LEMMA18.bounds["bound"].text,
          lambda: _ridge_case(tasks=2), examine_lemma18, _ridge_validate()),
        S("ji2022.lemma19", "Ji et al. Lemma 19, eqs. (73)-(74) (constants re-derived)",
          _A4 + " + Assumption 5 (item 2, exact b_i)", ji.LEMMA19.bounds["bound"].text,
          _finite_sum_cases, examine_lemma19, _ridge_validate()),
        S("ji2022.prop1", "Ji et al. Proposition 1, eq. (13)", "Assumption 1 (items 2, 3)",
          ji.PROP1.bounds["L_w"].text,
          lambda: _ridge_case(tasks=2, points=("w", "u"), rho=True), examine_prop1,
          _ridge_validate(rho=True)),
        S("ji2022.prop2", "Ji et al. Proposition 2 (deterministic core)", _A1 + " + Assumption 3 "
          "(finite sign-symmetric noise)",
          "E||w~_j - w_j|| <= ((1+aL)^j - 1) s/L and E||w~_j - w_j||^2 <= a s^2 ((1+aL)^(2j) - 1) / (L (2+aL))",
          _prop2_cases, examine_prop2, _ridge_validate(extra=_prop2_noise)),
        S("ji2022.prop7", "Ji et al. Proposition 7, eq. (21)", _A4 + " + Assumption 5 (item 2, exact b_i)",
          ji.PROP7.bounds["L_w"].text, lambda: _finite_sum_cases(points=("w", "u"), rho=True),
          examine_prop7, _ridge_validate(rho=True)),
        S("ji2022.stepsize", "Ji et al. Section 3.4 (a), proof of Corollary 6", "alpha = c/(N L), c > 0",
          "(1 + alpha L)^N = (1 + c/N)^N <= sum_(k<=N) c^k/k! < e^c, increasing in N",
          _stepsize_cases, examine_stepsize, _validate_stepsize),
        S("ji2022.stepsize.uniform", "Ji et al. Section 3.4 (a) with Lemma 15's C_b < 1",
          "alpha = c/(N L), c > 0", "C_b < 1 for every N exactly when c <= ln(2)/2",
          _stepsize_cases, examine_stepsize_uniform, _validate_stepsize),
    ]


def get(id_: str) -> ExactCheck:
    """The statement with id ``id_`` (a KeyError names the known ids)."""
    table = {s.id: s for s in statements()}
    if id_ not in table:
        raise KeyError(f"unknown statement {id_!r}; known: {', '.join(table)}")
    return table[id_]


# --------------------------------------------------------------------------------------------
# adversarial search (Proposition 1, Lemma 14): float optimisation, exact re-check


def _case_from_x(x, statement: str, N: int, den: int) -> dict:
    """A one-task, d = 2 ridge case from a float vector (every entry rounded to den)."""
    q = [Fraction(float(v)).limit_denominator(den) for v in x]
    A = [[q[0], q[1]], [q[1], q[2]]]
    theta_a = np.arctan2(float(q[6]), float(q[5]))
    tan = np.tan(theta_a / 2)
    t = Fraction(float(tan) if np.isfinite(tan) else 0.0).limit_denominator(den)  # rational unit vector of that angle
    u = [(1 - t * t) / (1 + t * t), 2 * t / (1 + t * t)]
    r = min(abs(q[5]) + abs(q[6]), Fraction(2))
    spec = {"A": A, "b": q[3:5], "a": [r * v for v in u], "c": max(min(q[7], Fraction(2)), Fraction(-2)),
            "lo": min(q[8], Fraction(0)), "hi": max(q[9], Fraction(0))}
    loss = _ridge(spec)
    L = certified_L([loss])
    aL = min(max(abs(q[10]), Fraction(1, 64)), Fraction(2))
    case: dict[str, Any] = {"params": {"alpha": aL / L, "N": N, "L": L}, "tasks": [spec], "w": q[11:13]}
    if statement == "ji2022.prop1":
        case["params"]["rho"] = certified_rho([loss])
        case["u"] = q[13:15]
    return case


def adversarial_search(statement: str = "ji2022.prop1", *, starts: int = 3, seed: int = 0,
                       N: int = 2, maxiter: int = 150) -> Result:
    """Maximise lhs / rhs of ``statement`` ("ji2022.prop1" or "ji2022.lemma14") over one-task
    d = 2 ridge instances by Nelder-Mead from ``starts`` random starts (the ratio is evaluated
    exactly on the instance rounded to denominators <= 1024); the best instance, rounded to
    denominators <= 64, is re-checked exactly. Returns a Result: verdict, examples, max ratio."""
    from scipy.optimize import minimize

    s = get(statement)
    rng = np.random.default_rng(seed)
    size = 15 if statement == "ji2022.prop1" else 13
    best_ratio, best_case, evaluations = 0.0, None, 0

    def ratio(x, den):
        case = _case_from_x(x, statement, N, den)
        _, lhs, rhs = s.examine(case)
        return (float(lhs) / float(rhs) if float(rhs) else 0.0), case

    for _ in range(starts):
        x0 = rng.uniform(-1.5, 1.5, size)

        def objective(x):
            nonlocal evaluations
            evaluations += 1
            return -ratio(x, 1024)[0]

        res = minimize(objective, x0, method="Nelder-Mead", options={"maxiter": maxiter, "xatol": 1e-4})
        r, case = ratio(res.x, 64)
        if r > best_ratio:
            best_ratio, best_case = r, case
    holds, lhs, rhs = s.examine(best_case)
    witness = None if holds else s._witness(best_case, lhs, rhs)
    return Result("holds" if holds else "violated", evaluations, best_ratio, witness,
                  note=f"adversarial best ratio {best_ratio:.6f} (exact re-check)")


# --------------------------------------------------------------------------------------------
# satisfiability of the assumption sets


def satisfiability() -> dict[str, dict]:
    """Each assumption set with an exact instance meeting all of its items at once.

    Returns ``{name: {"satisfiable": bool, "instance": JSON data, "how": text}}``; every item is
    checked exactly here (certificates, not typed-in facts).
    """
    f = {"A": [[2, Fraction(1, 2)], [Fraction(1, 2), 1]], "b": [Fraction(1, 3), 0],
         "a": [Fraction(3, 5), Fraction(4, 5)], "c": Fraction(1, 2), "lo": Fraction(-1), "hi": Fraction(1)}
    loss = _ridge(f)
    L, rho = certified_L([loss]), certified_rho([loss])
    extremes = loss.hessian_extremes()
    strongly_convex = all(is_psd(H - _EYE[2] * Fraction(1, 4)) for H in extremes)  # H >= I/4: bounded below
    item2, item3 = gradient_lipschitz_ok(loss, L), hessian_lipschitz_ok(loss, rho) and rho == loss.c
    shifts = [[Fraction(1), Fraction(0)], [Fraction(-1), Fraction(0)]]
    sigma = _sigma(shifts)  # Assumption 2: grad l_i - grad l = s_i - mean s, constant in w
    noise = [Fraction(3, 10), Fraction(2, 5)]  # Assumption 3: +-v with ||v||^2 = 1/4 = sigma_g^2 / S
    V = np.array([[Fraction(1, 4), 0], [0, Fraction(-1, 4)]], dtype=object)  # Hessian noise +-V
    noise_ok = _sq(noise) == Fraction(1, 4) and is_psd(_EYE[2] * Fraction(1, 16) - V.T.dot(V))
    c = [Fraction(3, 10), Fraction(-2, 5)]  # Assumption 5: l_T = l_S + c^T w, b_i = ||c|| = 1/2
    N = 3
    alpha = bounds.evaluate("ji2022.stepsize", Fraction(1, 8), N, L, exact=True)["step"]
    return {
        "assumption1": {"satisfiable": strongly_convex and item2 and item3,
                        "instance": case_to_json({"loss": f, "L": L, "rho": rho}),
                        "how": "both extreme Hessians >= I/4 (strongly convex: bounded below); "
                               "-L I <= H <= L I at both; rho = |c| ||a||^3 = 1/2"},
        "assumption1+2": {"satisfiable": strongly_convex and item2 and item3 and sigma == 1,
                          "instance": case_to_json({"loss": f, "shifts": shifts, "sigma": Fraction(1)}),
                          "how": "tasks l_i = l + s_i^T w: grad l_i - grad l = s_i - mean s for all w, "
                                 "so E_i ||.||^2 = 1 = sigma^2 exactly"},
        "assumption1+2+3": {"satisfiable": strongly_convex and item2 and item3 and noise_ok,
                            "instance": case_to_json({"gradient_noise": noise, "hessian_noise": V.tolist()}),
                            "how": "gradient noise +-v and Hessian noise +-V with probability 1/2: "
                                   "unbiased, E||.||^2 = ||v||^2 = 1/4 and ||V||^2 = 1/16"},
        "assumption4+5": {"satisfiable": strongly_convex and item2 and item3 and _sq(c) == Fraction(1, 4),
                          "instance": case_to_json({"l_S": f, "c": c, "b": Fraction(1, 2), "sigma": Fraction(1)}),
                          "how": "l_S_i = l + s_i^T w, l_T_i = l_S_i + c^T w: ||grad l_S - grad l_T|| "
                                 "= ||c|| = 1/2 = b_i and the same sigma = 1 for all w"},
        "lemma15.condition": {"satisfiable": ji.LEMMA15_CONDITION.holds({"alpha": alpha, "L": L, "N": N}),
                              "instance": case_to_json({"alpha": alpha, "L": L, "N": N}),
                              "how": "alpha = 1/(8 N L): (1 + 1/(8N))^(2N) < e^(1/4) < 2"},
    }
