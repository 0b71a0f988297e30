"""Checks of iBaML's statements (Zhang, Li, Gao, Giannakis, AAAI 2023) in exact arithmetic.

Each statement is a :class:`verify.checks.ExactCheck` (an entry of ``verify.registry``:
``binomgbml verify --paper ibaml``) whose cases are plain dicts of Fractions, ints and lists: a
Hypothesis strategy of exact instances that meet every assumption of the statement,
``examine(case) -> (holds, lhs, rhs)`` computed exactly, and ``validate(case)``, which re-checks
those assumptions on a replayed witness. :func:`statements`
lists them; docs/related/ibaml.md is the inventory with the verdicts.

Instances come from two families of genuine Bayesian regression tasks:

* the linear-Gaussian model of eq. (19) (:class:`estimators.reference_bayes.LinearGaussian`);
* a polynomial Gaussian-noise model ``y = a^T theta_t + theta_t^T B theta_t + e`` (noise variance
  sigma2): its expected nll ``L^tr(m_t, d_t)`` is a polynomial -- the Gaussian expectation is
  applied exactly by the heat operator ``sum_k (sum_i d_t,i d^2/dm_i^2 / 2)^k / k!`` -- that is
  non-convex for B != 0, with Hessians that vary along the path and m-d cross terms. A stationary
  point ``v_bar`` of problem (5) is made exact by choosing the prior ``theta`` from it
  (stationarity solved for theta), and a local minimum by requiring the Hessian there to be
  positive definite (checked exactly).

On the checking side, derivatives are SymPy's (symbolic differentiation of the objective, with
its logarithms) or exact forward mode (:class:`estimators.reference_bayes.Dual`), never the closed
forms under test. Theorems 1 and 2 are checked with the constants derived in
:mod:`bounds.papers.ibaml` (the paper's appendix with its constants is not published).
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp
from hypothesis import assume
from hypothesis import strategies as st

import bounds
from estimators import reference_bayes as rb
from estimators.reference_multistep import PolynomialLoss as Poly

from ..checks import ExactCheck, plain_from_json, plain_to_json
from ..rationals import det, is_psd
from ..search import Result

__all__ = ["adversarial_theorem", "get", "global_theorem_instance", "statements"]

F = Fraction


# --------------------------------------------------------------------------------------------
# exact linear algebra on lists of Fractions


def _mv(A, x):
    return [sum((a * b for a, b in zip(row, x)), F(0)) for row in A]


def _mm(A, B):
    cols = list(zip(*B))
    return [[sum((a * b for a, b in zip(row, col)), F(0)) for col in cols] for row in A]


def _T(A):
    return [list(row) for row in zip(*A)]


def _add(a, b, sign=1):
    if a and isinstance(a[0], list):
        return [_add(x, y, sign) for x, y in zip(a, b)]
    return [x + sign * y for x, y in zip(a, b)]


def _sq(v):
    return sum((F(x) * x for x in v), F(0))


def _eye(n, scale=1):
    return [[F(scale) if i == j else F(0) for j in range(n)] for i in range(n)]


def _inv(A):
    n = len(A)
    return _T([rb.solve(A, [F(int(i == j)) for i in range(n)]) for j in range(n)])


def _pd(A) -> bool:
    """Exactly: is the symmetric rational matrix positive definite (Sylvester's criterion)?"""
    return all(det([row[:k] for row in A[:k]]) > 0 for k in range(1, len(A) + 1))


def _max_abs(a, b) -> Fraction:
    """max |a - b| over entries (vectors or matrices)."""
    flat = lambda x: [z for row in x for z in row] if x and isinstance(x[0], list) else list(x)
    return max((abs(F(x) - y) for x, y in zip(flat(a), flat(b))), default=F(0))


def _sqrt_bounds(q, bits: int = 40) -> tuple[Fraction, Fraction]:
    """Rationals lo <= sqrt(q) <= hi, hi - lo <= 2^-bits / denominator(q); exact (integer sqrt)."""
    q = F(q)
    if q < 0:
        raise ValueError(f"sqrt of {q} < 0")
    N, den = q.numerator * q.denominator * 4 ** bits, q.denominator * 2 ** bits
    root = math.isqrt(N)  # sqrt(q) = sqrt(N) / den
    return F(root, den), F(root if root * root == N else root + 1, den)


def _negative_direction(H):
    """A rational w with w^T H w < 0 for a symmetric H that is not positive semidefinite."""
    n = len(H)
    candidates = [[F(int(i == j)) for i in range(n)] for j in range(n)]
    candidates += [[F(int(i == j) + s * int(i == k)) for i in range(n)]
                   for j in range(n) for k in range(j + 1, n) for s in (1, -1)]
    vecs = np.linalg.eigh(np.array(H, dtype=float))[1]
    for den in (4, 64, 1024, 2 ** 20, 2 ** 40):
        candidates.append([F(float(x)).limit_denominator(den) for x in vecs[:, 0]])
    for w in candidates:
        if _sq(w) and sum((a * b for a, b in zip(w, _mv(H, w))), F(0)) < 0:
            return w
    raise ArithmeticError("no rational direction of negative curvature found")  # pragma: no cover


# --------------------------------------------------------------------------------------------
# the polynomial model family


def _rational(x: Fraction):
    return sp.Rational(x.numerator, x.denominator)


def _fraction(x) -> Fraction:
    if not x.is_Rational:
        raise ArithmeticError(f"{x} is not rational")  # pragma: no cover
    return F(int(x.p), int(x.q))


def _heat(f: Poly, d: int) -> Poly:
    """E f(m + diag(sqrt s) z), z ~ N(0, I): sum_k (sum_i s_i d^2/dm_i^2 / 2)^k f / k! (exact for
    polynomials). ``f`` is a polynomial in the 2d variables (m, s) that does not depend on s."""
    out, term, k = Poly({}, 2 * d), f, 0
    while term.terms:
        out = out + term * F(1, math.factorial(k))
        term = sum((Poly.variable(2 * d, d + i) * term.partial(i).partial(i) for i in range(d)),
                   Poly({}, 2 * d)) * F(1, 2)
        k += 1
    return out


def _nll(samples, sigma2, d, n) -> Poly:
    """sum_n (y_n - a_n^T t - t^T B_n t)^2 / (2 sigma2), t the first d of n variables."""
    t = [Poly.variable(n, i) for i in range(d)]
    total = Poly({}, n)
    for a, B, y in zip(samples["a"], samples["B"], samples["y"]):
        h = sum((t[i] * F(a[i]) for i in range(d)), Poly({}, n))
        h = h + sum((t[i] * t[j] * F(B[i][j]) for i in range(d) for j in range(d)), Poly({}, n))
        r = h - F(y)
        total = total + r * r
    return total * (1 / (2 * F(sigma2)))


@functools.cache
def _symbols(d):
    m = sp.symbols(f"m0:{d}")
    s = sp.symbols(f"s0:{d}")
    M = sp.symbols(f"M0:{d}")
    Dp = sp.symbols(f"D0:{d}", positive=True)
    return list(m), list(s), list(M), list(Dp)


@functools.cache
def _kl_symbolic(d):
    """SymPy's derivatives of KL(N(m_t, diag d_t) || N(m, diag d)): grad_v, grad_theta, hess_vv, hess_vtheta."""
    m, s, M, Dp = _symbols(d)
    kl = sum((s[i] / Dp[i] + (m[i] - M[i]) ** 2 / Dp[i] - 1 + sp.log(Dp[i]) - sp.log(s[i])) / 2
             for i in range(d))
    v, th = m + s, M + Dp
    grad_v = [sp.diff(kl, x) for x in v]
    grad_t = [sp.diff(kl, x) for x in th]
    return (v + th, grad_v, grad_t, [[sp.diff(g, x) for x in v] for g in grad_v],
            [[sp.diff(g, x) for x in th] for g in grad_v])


def _kl_at(d, v, theta):
    """SymPy's KL derivatives evaluated exactly at (v, theta): (grad_v, grad_theta, hess_vv, hess_vtheta)."""
    syms, *parts = _kl_symbolic(d)
    subs = {x: _rational(F(y)) for x, y in zip(syms, list(v) + list(theta))}
    ev = lambda e: _fraction(e.xreplace(subs))
    return ([ev(e) for e in parts[0]], [ev(e) for e in parts[1]],
            [[ev(e) for e in row] for row in parts[2]], [[ev(e) for e in row] for row in parts[3]])


def _freeze(x):
    if isinstance(x, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in x.items()))
    if isinstance(x, list):
        return tuple(_freeze(v) for v in x)
    return F(x) if not isinstance(x, int) else x


@dataclass(frozen=True)
class _Model:
    """The polynomial model of one case: exact L^tr, L^val and f (the nll at a point) derivatives."""

    d: int
    kappa: Fraction
    tr_grad: list
    tr_hess: list
    val_nll: Poly
    val_grad: list
    f_grad: list
    f_hess: list

    def train_gradient(self, v):
        return [p(v) for p in self.tr_grad]

    def train_hessian(self, v):
        return [[p(v) for p in row] for row in self.tr_hess]

    def val_gradients(self, v, theta):
        """(nabla_1, nabla_2) of L^val = E_q nll_val + kappa KL, by SymPy (exact)."""
        g1 = [p(v) for p in self.val_grad]
        if not self.kappa:
            return g1, [F(0)] * (2 * self.d)
        kv, kt, _, _ = _kl_at(self.d, v, theta)
        return [a + self.kappa * b for a, b in zip(g1, kv)], [self.kappa * b for b in kt]

    def val_loss(self, v, theta):
        """L^val for forward mode (Dual inputs; the KL's value is dropped, its derivative exact)."""
        nll = self.val_nll(v)
        return nll + self.kappa * rb.kl(v, theta) if self.kappa else nll

    def stationarity(self, v, theta):
        """grad_v of problem (5)'s objective L^tr + KL, by SymPy: zero at a stationary point."""
        return [a + b for a, b in zip(self.train_gradient(v), _kl_at(self.d, v, theta)[0])]


@functools.lru_cache(maxsize=512)
def _build(key) -> _Model:
    model = dict(key)
    d = model["d"]
    unfreeze: Any = lambda x: [unfreeze(y) for y in x] if isinstance(x, tuple) else x
    samples = {name: {k: unfreeze(v) for k, v in dict(model[name]).items()} for name in ("train", "val")}
    f = _nll(samples["train"], model["sigma2"], d, d)
    ltr = _heat(_nll(samples["train"], model["sigma2"], d, 2 * d), d)
    lval = _heat(_nll(samples["val"], model["sigma2"], d, 2 * d), d)
    tr_grad = [ltr.partial(i) for i in range(2 * d)]
    f_grad = [f.partial(i) for i in range(d)]
    return _Model(d=d, kappa=F(model["kappa"]), tr_grad=tr_grad,
                  tr_hess=[[g.partial(j) for j in range(2 * d)] for g in tr_grad],
                  val_nll=lval, val_grad=[lval.partial(i) for i in range(2 * d)],
                  f_grad=f_grad, f_hess=[[g.partial(j) for j in range(d)] for g in f_grad])


def _model(model: dict) -> _Model:
    return _build(_freeze(model))


def _prior_for(M: _Model, v_bar):
    """The prior theta = [m; d] for which v_bar is a stationary point of problem (5), or None.

    Stationarity: (m_t - m)/d + grad_m L^tr = 0 and (1/d - 1/d_t)/2 + grad_d L^tr = 0.
    """
    d, g = M.d, M.train_gradient(v_bar)
    q = [1 / F(v_bar[d + i]) - 2 * g[d + i] for i in range(d)]
    if any(x <= 0 for x in q):
        return None
    dp = [1 / x for x in q]
    return [v_bar[i] + dp[i] * g[i] for i in range(d)] + dp


# --------------------------------------------------------------------------------------------
# strategies


def _q(lo, hi, den=4):
    return st.fractions(F(lo), F(hi), max_denominator=den)


@st.composite
def _samples(draw, d, quadratic):
    N = draw(st.integers(1, 2))
    a = [[draw(_q(-2, 2)) for _ in range(d)] for _ in range(N)]
    B = []
    for _ in range(N):
        Bn = [[F(0)] * d for _ in range(d)]
        if quadratic and draw(st.booleans()):
            for i in range(d):
                for j in range(i, d):
                    Bn[i][j] = Bn[j][i] = draw(_q(-1, 1))
        B.append(Bn)
    return {"a": a, "B": B, "y": [draw(_q(-2, 2)) for _ in range(N)]}


@st.composite
def _models(draw, quadratic=True):
    d = draw(st.integers(1, 2))
    return {"d": d, "sigma2": draw(st.sampled_from([F(1, 2), F(1), F(2)])),
            "kappa": draw(st.sampled_from([F(0), F(1, 2), F(1)])),
            "train": draw(_samples(d, quadratic)), "val": draw(_samples(d, quadratic))}


def _vector(draw, d, mean=(-1, 1), variance=("1/8", 1), den=8):
    return [draw(_q(*mean)) for _ in range(d)] + [draw(_q(*variance, den)) for _ in range(d)]


@st.composite
def _stationary_cases(draw):
    """A model, a local minimum v_bar of problem (5) and the prior theta that makes it one."""
    model = draw(_models())
    v_bar = _vector(draw, model["d"], variance=(F(1, 8), 4))
    theta = None
    for _ in range(40):  # L^tr scales like 1/sigma2: a larger noise makes the prior valid
        theta = _prior_for(_model(model), v_bar)
        if theta is not None:
            break
        model = dict(model, sigma2=2 * model["sigma2"])
    assume(theta is not None)
    case = {"model": model, "v_bar": v_bar, "theta": theta}
    assume(_H_bar_pd(case))
    return case


def _H(M: _Model, theta, v):
    return rb.lemma1_H(theta, M.train_gradient(v), M.train_hessian(v))


def _H_bar_pd(case) -> bool:
    return _pd(_H(_model(case["model"]), case["theta"], case["v_bar"]))


def _run_gd(case):
    M = _model(case["model"])
    v0 = case["theta"] if case["start"] == "theta" else case["v0"]
    return rb.gd_iterates(M.train_gradient, case["theta"], case["alpha"], case["K"], v0)[-1]


@st.composite
def _gd_cases(draw, extra=None):
    """A stationary case plus v_hat = K GD steps on problem (5) from v^0 (= theta or drawn)."""
    case = draw(_stationary_cases())
    d = case["model"]["d"]
    case["start"] = draw(st.sampled_from(["theta", "v0"]))
    case["v0"] = case["theta"] if case["start"] == "theta" else _vector(draw, d, (-2, 2), (F(1, 4), 2))
    case["alpha"] = draw(st.sampled_from([F(1, 16), F(1, 8), F(1, 4)]))
    case["K"] = draw(st.integers(1, 2))
    try:
        case["v_hat"] = _run_gd(case)
    except rb.ReferenceBayesError:
        assume(False)
    M = _model(case["model"])
    assume(det(_H(M, case["theta"], case["v_hat"])) != 0)
    if extra:
        case[extra] = [draw(_q(-2, 2)) for _ in range(2 * d)]
    return case


@st.composite
def _linear_cases(draw):
    """A task of the linear-Gaussian model (19): X is d x N (columns are samples)."""
    d, N, Nv = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    X = [[draw(_q(-2, 2)) for _ in range(N)] for _ in range(d)]
    X_val = [[draw(_q(-2, 2)) for _ in range(Nv)] for _ in range(d)]
    return {"X": X, "y": [draw(_q(-2, 2)) for _ in range(N)], "X_val": X_val,
            "y_val": [draw(_q(-2, 2)) for _ in range(Nv)],
            "sigma2": draw(st.sampled_from([F(1, 2), F(1), F(2)])),
            "kappa": draw(st.sampled_from([F(0), F(1, 2)])),
            "theta": _vector(draw, d, (-1, 1), (F(1, 4), 2), 4)}


def _linear_reference(case) -> rb.LinearGaussian:
    return rb.LinearGaussian.create(case["X"], case["y"], case["X_val"], case["y_val"], case["sigma2"],
                                    case["kappa"])


def _linear_as_model(case) -> dict:
    """The linear-Gaussian task as a polynomial model (B = 0, a_n = column n of X)."""
    d = len(case["X"])

    def samples(X, y):
        return {"a": _T(X), "B": [[[F(0)] * d for _ in range(d)] for _ in y], "y": list(y)}

    return {"d": d, "sigma2": case["sigma2"], "kappa": case["kappa"],
            "train": samples(case["X"], case["y"]), "val": samples(case["X_val"], case["y_val"])}


# --------------------------------------------------------------------------------------------
# validation of replayed cases (every assumption, exactly)


def _positive_variances(name, x, d):
    if len(x) != 2 * d:
        return f"{name} has length {len(x)}: need 2d = {2 * d}"
    if any(F(v) <= 0 for v in x[d:]):
        return f"{name} has a variance <= 0 (Assumption 5 / a Gaussian)"
    return None


def _check_model(case):
    model = case["model"]
    d = model["d"]
    if not isinstance(d, int) or d < 1 or F(model["sigma2"]) <= 0:
        return "model: need an integer d >= 1 and sigma2 > 0"
    return None


def _validate_stationary(case):
    why = _check_model(case)
    if why:
        return why
    M, d = _model(case["model"]), case["model"]["d"]
    why = _positive_variances("theta", case["theta"], d) or _positive_variances("v_bar", case["v_bar"], d)
    if why:
        return why
    if any(x != 0 for x in M.stationarity(case["v_bar"], case["theta"])):
        return "v_bar is not a stationary point of problem (5) (Assumption 1)"
    if not _H_bar_pd(case):
        return "H_t(v_bar) is not positive definite: v_bar is not a strict local minimum (Assumptions 1, 4)"
    return None


def _validate_gd(case):
    why = _validate_stationary(case)
    if why:
        return why
    try:
        v_hat = _run_gd(case)
    except rb.ReferenceBayesError as exc:
        return str(exc)
    if [F(x) for x in case["v_hat"]] != v_hat:
        return "v_hat is not the output of K GD steps from v^0"
    if det(_H(_model(case["model"]), case["theta"], v_hat)) == 0:
        return "H_t(v_hat) is singular (Assumption 4)"
    return None


def _validate_linear(case):
    try:
        ref = _linear_reference(case)
    except rb.ReferenceBayesError as exc:
        return str(exc)
    return _positive_variances("theta", case["theta"], ref.d)


# --------------------------------------------------------------------------------------------
# examine: the identities and claims


def _identity(lhs, rhs):
    error = _max_abs(lhs, rhs)
    return error == 0, error, 0


def _eq8(case):
    """(8): the Jacobian of theta -> theta - alpha grad f(theta) is I - alpha grad^2 f(theta)."""
    M, t, alpha = _model(case["model"]), case["point"], case["alpha"]
    jac_T = rb.forward_derivatives(lambda x: [a - alpha * p(x) for a, p in zip(x, M.f_grad)], t)
    hess = [[p(t) for p in row] for row in M.f_hess]
    return _identity(jac_T, _add(_eye(len(t)), [[alpha * h for h in row] for row in hess], -1))


def _eq9(case):
    """(9): grad_theta L^val(v^K(theta), theta) = nabla A_hat nabla_1 L^val + nabla_2 L^val."""
    M, theta, alpha, K = _model(case["model"]), case["theta"], case["alpha"], case["K"]
    fixed = None if case["start"] == "theta" else case["v0"]

    def inner(t):
        return rb.gd_iterates(M.train_gradient, t, alpha, K, t if fixed is None else fixed)[-1]

    total = rb.forward_derivatives(lambda t: M.val_loss(inner(t), t), theta)
    jac_T = rb.forward_derivatives(inner, theta)  # row j: d v^K / d theta_j
    g1, g2 = M.val_gradients(inner(theta), theta)
    return _identity(total, _add(_mv(jac_T, g1), g2))


def _lemma1(case):
    """(10)-(11): nabla A_bar(theta) = G_t(v_bar) H_t(v_bar)^{-1}, against the implicit function
    theorem on SymPy's derivatives of problem (5)'s objective."""
    M, v, theta = _model(case["model"]), case["v_bar"], case["theta"]
    g, S = M.train_gradient(v), M.train_hessian(v)
    H = rb.lemma1_H(theta, g, S)
    paper = _mm(rb.eq11_G(theta, g), _inv(H))
    _, _, kl_vv, kl_vt = _kl_at(M.d, v, theta)
    hessian = _add(S, kl_vv)  # grad_v^2 of L^tr + KL; L^tr does not depend on theta
    jacobian = [[-x for x in row] for row in _mm(_inv(hessian), kl_vt)]  # d v_bar / d theta
    error = max(_max_abs(paper, _T(jacobian)), _max_abs(H, hessian))  # H_t(v_bar) is (5)'s Hessian
    return error == 0, error, 0


def _eq13(case):
    """(13): with D = I/lam and the posterior variance fixed, the mean Jacobian is
    D^{-1} (grad^2 L^tr + D^{-1})^{-1} = (grad^2 L^tr / lam + I)^{-1} (iMAML's Lemma 1)."""
    M, m_bar, lam = _model(case["model"]), case["m_bar"], case["lam"]
    d = len(m_bar)
    S = [[p(m_bar) for p in row] for row in M.f_hess]
    Dinv = _eye(d, lam)
    lemma1_form = _mm(Dinv, _inv(_add(S, Dinv)))
    imaml_form = _inv(_add([[x / lam for x in row] for row in S], _eye(d)))
    # the implicit function theorem on f(m_t) + KL's mean part, by SymPy (d_t, d fixed)
    theta = list(case["m"]) + [1 / F(lam)] * d
    _, _, kl_vv, kl_vt = _kl_at(d, list(m_bar) + [F(1)] * d, theta)
    A = _add(S, [row[:d] for row in kl_vv[:d]])
    truth = _T([[-x for x in row] for row in _mm(_inv(A), [row[:d] for row in kl_vt[:d]])])
    e1, e2 = _max_abs(lemma1_form, imaml_form), _max_abs(imaml_form, truth)
    return e1 == 0 and e2 == 0, max(e1, e2), 0


def _quadratic(H, b, u):
    return sum((x * y for x, y in zip(u, _mv(H, u))), F(0)) / 2 - sum((x * y for x, y in zip(u, b)), F(0))


def _eq15(case):
    """(15): H^{-1} nabla_1 L^val minimises u^T H u / 2 - u^T nabla_1 L^val, H = H_t(v_hat).

    If H is not positive definite, a rational w with w^T H w < 0 gives q(u* + w) < q(u*): the
    error is q(u*) - q(u* + w) = -w^T H w / 2 > 0 (and q has no minimiser at all).
    """
    M, theta, v = _model(case["model"]), case["theta"], case["v_hat"]
    H = _H(M, theta, v)
    b = M.val_gradients(v, theta)[0]
    u = rb.solve(H, b)
    if _pd(H):  # q(u) - q(u*) = (u - u*)^T H (u - u*) / 2 >= 0 for every u
        return True, F(0), 0
    w = _negative_direction(H)
    return False, _quadratic(H, b, u) - _quadratic(H, b, _add(u, w)), 0


def _eq15_corrected(case):
    """(15) where H_t(v_hat) is positive definite: q(u) - q(u*) = (u - u*)^T H (u - u*)/2 >= 0."""
    M, theta, v, u = _model(case["model"]), case["theta"], case["v_hat"], case["u"]
    H = _H(M, theta, v)
    b = M.val_gradients(v, theta)[0]
    star = rb.solve(H, b)
    gap = _quadratic(H, b, u) - _quadratic(H, b, star)
    e = _add(u, star, -1)
    identity = sum((x * y for x, y in zip(e, _mv(H, e))), F(0)) / 2
    return gap == identity and gap >= 0, abs(gap - identity) + max(-gap, F(0)), 0


def _eq16(case):
    """(16): H_t(v_hat) p = grad^2 L^tr(v_hat) p (an HVP, here exact forward mode) + diagonal * p."""
    M, theta, v, p = _model(case["model"]), case["theta"], case["v_hat"], case["p"]
    d = M.d
    lhs = _mv(_H(M, theta, v), p)
    hvp = rb.forward_derivatives(lambda t: M.train_gradient([a + t[0] * b for a, b in zip(v, p)]), [F(0)])[0]
    g = M.train_gradient(v)
    diagonal = [p[i] / theta[d + i] for i in range(d)] + [
        (1 / F(theta[d + i]) + 2 * g[d + i]) ** 2 * p[d + i] / 2 for i in range(d)]
    return _identity(lhs, _add(hvp, diagonal))


def _eq17(case):
    """(17): [D^{-1} u_m ; -diag(grad_m L^tr) D^{-1} u_m + D^{-2} u_d / 2] + nabla_2 = G_t(v_hat) u + nabla_2."""
    M, theta, v, u = _model(case["model"]), case["theta"], case["v_hat"], case["u"]
    d, g = M.d, M.train_gradient(v)
    c = M.val_gradients(v, theta)[1]
    block = [u[i] / theta[d + i] for i in range(d)] + [
        -g[i] * u[i] / theta[d + i] + u[d + i] / (2 * F(theta[d + i]) ** 2) for i in range(d)]
    return _identity(_add(block, c), _add(_mv(rb.eq11_G(theta, g), u), c))


# -- the linear-Gaussian model: (20a), (20b), the posterior, (21)


def _printed_20b(case):
    """d*_i as printed: 1 / ([X X^T]_ii / (2 sigma2) + 1/d_i)."""
    d, X, s2 = len(case["X"]), case["X"], F(case["sigma2"])
    return [1 / (sum((F(x) * x for x in X[i]), F(0)) / (2 * s2) + 1 / F(case["theta"][d + i])) for i in range(d)]


def _printed_posterior_precision(case):
    """The precision of the posterior printed after (20b): X X^T / (2 sigma2) + D^{-1}."""
    d, X, s2 = len(case["X"]), case["X"], F(case["sigma2"])
    return [[sum((F(a) * b for a, b in zip(X[i], X[j])), F(0)) / (2 * s2)
             + (1 / F(case["theta"][d + i]) if i == j else 0) for j in range(d)] for i in range(d)]


def _kl_stationarity(case, v):
    """grad_v of problem (5)'s objective at v, by SymPy on the model-family form of the task."""
    return _model(_linear_as_model(case)).stationarity(v, case["theta"])


def _eq20a(case):
    """(20a): m* (as in reference_bayes.vi_optimum) makes grad_{m_t} of problem (5) vanish."""
    v = _linear_reference(case).vi_optimum(case["theta"])
    d = len(case["X"])
    error = max(abs(x) for x in _kl_stationarity(case, v)[:d])
    return error == 0, error, 0


def _eq20b(case, corrected=False):
    """(20b): d* makes grad_{d_t} of problem (5) vanish (printed: 1/(2 sigma2); corrected: 1/sigma2)."""
    d = len(case["X"])
    v = _linear_reference(case).vi_optimum(case["theta"])
    if not corrected:
        v = v[:d] + _printed_20b(case)
    error = max(abs(x) for x in _kl_stationarity(case, v)[d:])
    return error == 0, error, 0


def _posterior(case, corrected=False):
    """The posterior N(m*, P^{-1}): by Bayes' rule -log p(theta_t | y) = f(theta_t) + prior term + const,
    so its Hessian (SymPy's, of the nll f plus the prior's D^{-1}) must be P and its gradient at m* zero."""
    ref, d = _linear_reference(case), len(case["X"])
    theta = case["theta"]
    P = ref.posterior_precision(theta) if corrected else _printed_posterior_precision(case)
    M = _model(_linear_as_model(case))
    m_star = ref.vi_optimum(theta)[:d]
    hess = [[row[j](m_star) + (1 / F(theta[d + i]) if i == j else 0) for j, _ in enumerate(row)]
            for i, row in enumerate(M.f_hess)]
    grad = [p(m_star) + (m_star[i] - theta[i]) / theta[d + i] for i, p in enumerate(M.f_grad)]
    error = max(_max_abs(hess, P), max(abs(x) for x in grad))
    return error == 0, error, 0


def _eq21(case):
    """(21): the oracle meta-gradient equals G(v*) H(v*)^{-1} nabla_1 L^val + nabla_2 L^val at v*.

    Left: exact forward mode through the closed form v*(theta) (reference_bayes); right: Lemma 1's
    matrices with SymPy's derivatives of the model-family form of the task.
    """
    ref, theta = _linear_reference(case), case["theta"]
    v = ref.vi_optimum(theta)
    M = _model(_linear_as_model(case))
    g, S = M.train_gradient(v), M.train_hessian(v)
    b, c = M.val_gradients(v, theta)
    rhs = _add(_mv(rb.eq11_G(theta, g), rb.solve(rb.lemma1_H(theta, g, S), b)), c)
    return _identity(ref.oracle_meta_gradient(theta), rhs)


def _remark3(case):
    """Remark 3: if L^tr is H-Lipschitz then rho <= H (|x|_inf <= |x|_2 <= H for each gradient)."""
    g1, g2, H = case["g_bar"], case["g_hat"], F(case["H"])
    rho = max(abs(F(x)) for x in g1 + g2)
    return rho <= H, rho, H


def _validate_remark3(case):
    H = F(case["H"])
    if H < 0 or _sq(case["g_bar"]) > H * H or _sq(case["g_hat"]) > H * H:
        return "the gradients are longer than the Lipschitz constant H (|grad L^tr| <= H)"
    return None


# --------------------------------------------------------------------------------------------
# Theorems 1 and 2: deterministic core with the derived constants


class _Surd:
    """p + q sqrt(r) with rational p, q and r >= 0: exact ring operations and sign."""

    def __init__(self, p, q=0, r=0):
        self.p, self.q, self.r = F(p), F(q), F(r)

    def __add__(self, o):
        o = o if isinstance(o, _Surd) else _Surd(o, 0, self.r)
        return _Surd(self.p + o.p, self.q + o.q, self.r or o.r)

    def __mul__(self, o):
        o = o if isinstance(o, _Surd) else _Surd(o, 0, self.r)
        r = self.r or o.r
        return _Surd(self.p * o.p + self.q * o.q * r, self.p * o.q + self.q * o.p, r)

    def sign(self) -> int:
        sp_, sq_ = (self.p > 0) - (self.p < 0), (self.q > 0) - (self.q < 0)
        if sq_ == 0 or self.r == 0:
            return sp_
        if sp_ == sq_ or sp_ == 0:
            return sq_
        big = (self.p * self.p > self.q * self.q * self.r) - (self.p * self.p < self.q * self.q * self.r)
        return sp_ * big


def _charpoly(N):
    """Coefficients of det(x I - N), highest degree first (exact, SymPy's Berkowitz)."""
    coeffs = sp.Matrix([[_rational(F(x)) for x in row] for row in N]).charpoly().all_coeffs()
    return [F(int(c.p), int(c.q)) for c in coeffs]


def _lambda_max_at_least(N, c: _Surd) -> bool:
    """Exactly: does the symmetric PSD rational N have an eigenvalue >= c?  Not iff c I - N is
    positive definite iff every leading minor det(c I_k - N_k) > 0 (Sylvester)."""
    for k in range(1, len(N) + 1):
        value = _Surd(0, 0, c.r)
        for coeff in _charpoly([row[:k] for row in N[:k]]):
            value = value * c + coeff
        if value.sign() <= 0:
            return True
    return False


def _sqrt_le_sum(ell, terms) -> bool:
    """Exactly: sqrt(ell) <= sum_i c_i sqrt(e_i) for two terms (c_i >= 0 rational, e_i >= 0)."""
    (c1, e1), (c2, e2) = terms
    t = ell - c1 * c1 * e1 - c2 * c2 * e2
    return t <= 0 or t * t <= 4 * c1 * c1 * c2 * c2 * e1 * e2


def _theorem_parts(case):
    """The matrices of both theorems from a data case (^ = at v_hat, - = at v_bar)."""
    dp = case["prior_d"]
    theta = [F(0)] * len(dp) + list(dp)  # G_t and H_t depend on theta only through d
    G_hat, G_bar = rb.eq11_G(theta, case["g_hat"]), rb.eq11_G(theta, case["g_bar"])
    H_hat = rb.lemma1_H(theta, case["g_hat"], case["S_hat"])
    H_bar = rb.lemma1_H(theta, case["g_bar"], case["S_bar"])
    true = _add(_mv(_mm(G_bar, _inv(H_bar)), case["a_bar"]), case["b_bar"])  # Lemma 1 with (9)
    return G_hat, H_hat, H_bar, true


def _theorem_constants(case):
    c = case["constants"]
    return {k: c[k] for k in ("A", "B", "C", "D", "E", "sigma", "D_min", "rho")}


def _theorem1(case):
    """Theorem 1: |nabla A_hat a^ + b^ - true| <= F eps + A delta, delta = |nabla A_hat - G^ H^^-1|_2."""
    G_hat, H_hat, _, true = _theorem_parts(case)
    c = _theorem_constants(case)
    explicit = _add(_mv(case["J"], case["a_hat"]), case["b_hat"])
    ell, e = _sq(_add(explicit, true, -1)), _sq(case["dv"])
    Fc, A = bounds.evaluate("ibaml.thm1", **c, epsilon=0, delta=0, exact=True)["F"], F(c["A"])
    Mx = _add(case["J"], _mm(G_hat, _inv(H_hat)), -1)
    delta_f = float(np.linalg.norm(np.array(Mx, dtype=float), 2))
    lhs, rhs = math.sqrt(ell), float(Fc) * math.sqrt(e) + float(A) * delta_f
    if ell <= Fc * Fc * e:
        return True, lhs, rhs
    if A == 0 or all(x == 0 for row in Mx for x in row):
        return False, lhs, rhs
    # sqrt(ell) - F sqrt(e) = w > 0: holds iff delta^2 = lambda_max(M^T M) >= w^2 / A^2
    w2 = _Surd(ell + Fc * Fc * e, -2 * Fc, ell * e) * (1 / (A * A))
    return _lambda_max_at_least(_mm(_T(Mx), Mx), w2), lhs, rhs


def _theorem2(case):
    """Theorem 2, eq. (18): |G^ u + b^ - true| <= F' eps + G' delta', delta' = |u - H^^-1 a^|."""
    G_hat, H_hat, _, true = _theorem_parts(case)
    c = _theorem_constants(case)
    g_hat = _add(_mv(G_hat, case["u"]), case["b_hat"])
    ell, e = _sq(_add(g_hat, true, -1)), _sq(case["dv"])
    s = _sq(_add(case["u"], rb.solve(H_hat, case["a_hat"]), -1))
    Fc, Gc = (bounds.evaluate("ibaml.thm2", **c, epsilon=0, delta_prime=0, exact=True)[k] for k in ("F", "G"))
    lhs, rhs = math.sqrt(ell), float(Fc) * math.sqrt(e) + float(Gc) * math.sqrt(s)
    return _sqrt_le_sum(ell, [(Fc, e), (Gc, s)]), lhs, rhs


def _spectral_sq_at_most(Mx, bound_sq) -> bool:
    """Exactly: |Mx|_2^2 <= bound_sq, i.e. bound_sq I - Mx^T Mx is PSD."""
    n = len(Mx[0])
    return is_psd(_add(_eye(n, bound_sq), _mm(_T(Mx), Mx), -1))


def _validate_theorem(case):
    """Assumptions 2-5 on the two points (the proof's only use of them), exactly."""
    try:
        dp, c = [F(x) for x in case["prior_d"]], {k: F(v) for k, v in case["constants"].items()}
        n = 2 * len(dp)
        _, H_hat, H_bar, _ = _theorem_parts(case)
    except (KeyError, rb.ReferenceBayesError) as exc:
        return f"malformed data: {exc}"
    e = _sq(case["dv"])
    if any(x <= 0 for x in dp) or c["D_min"] <= 0 or c["D_min"] > min(dp):
        return "need 0 < D_min <= every prior variance (Assumption 5)"
    if any(c[k] < 0 for k in c) or c["sigma"] <= 0:
        return "constants must be >= 0 and sigma > 0"
    if any(len(case[k]) != n for k in ("g_hat", "g_bar", "a_hat", "a_bar", "b_hat", "b_bar", "dv", "u")):
        return f"vectors must have length 2d = {n}"
    for S in (case["S_hat"], case["S_bar"]):
        if _T(S) != [list(r) for r in S]:
            return "a Hessian of L^tr is not symmetric"
    checks = [
        (_sq(case["a_hat"]) <= c["A"] ** 2, "|nabla_1 L^val(v_hat)| > A (Assumption 2)"),
        (_sq(_add(case["a_hat"], case["a_bar"], -1)) <= c["B"] ** 2 * e, "B-smoothness fails (Assumption 2)"),
        (_sq(_add(case["b_hat"], case["b_bar"], -1)) <= c["C"] ** 2 * e, "C-Lipschitz fails (Assumption 2)"),
        (_sq(_add(case["g_hat"], case["g_bar"], -1)) <= c["D"] ** 2 * e, "D-smoothness fails (Assumption 3)"),
        (_spectral_sq_at_most(_add(case["S_hat"], case["S_bar"], -1), c["E"] ** 2 * e),
         "E-Lipschitz Hessian fails (Assumption 3)"),
        (max(abs(F(x)) for x in case["g_hat"] + case["g_bar"]) <= c["rho"], "rho below |grad L^tr|_inf"),
        (_pd(H_bar), "H_t(v_bar) is not positive definite (Assumptions 1, 4: a local minimum)"),
        (det(H_hat) != 0 and is_psd(_add(_mm(H_hat, H_hat), _eye(n, c["sigma"] ** 2), -1))
         and is_psd(_add(_mm(H_bar, H_bar), _eye(n, c["sigma"] ** 2), -1)),
         "sigma exceeds a smallest singular value of H_t (Assumption 4)"),
    ]
    return next((why for ok, why in checks if not ok), None)


def _upper(x: float) -> Fraction:
    """A rational slightly above the float x >= 0 (a first guess for a constant that must dominate)."""
    return F(x * (1 + 1e-9)).limit_denominator(2 ** 30) + F(1, 2 ** 30) if x > 0 else F(0)


def _fit_constants(data) -> dict:
    """Near-minimal rational constants for which the data meet Assumptions 2-5 (checked exactly)."""
    dp = data["prior_d"]
    n = 2 * len(dp)
    e = _sq(data["dv"])
    theta = [F(0)] * len(dp) + list(dp)
    H_hat = rb.lemma1_H(theta, data["g_hat"], data["S_hat"])
    H_bar = rb.lemma1_H(theta, data["g_bar"], data["S_bar"])

    def ratio_up(a, b):
        q = _sq(_add(a, b, -1))
        return _sqrt_bounds(q / e)[1] if e else F(0)

    dS = _add(data["S_hat"], data["S_bar"], -1)
    E = _upper(float(np.linalg.norm(np.array(dS, dtype=float), 2)) / math.sqrt(e)) if e else F(0)
    while e and not _spectral_sq_at_most(dS, E * E * e):
        E = E * 2 + F(1, 2 ** 20)
    svals = [np.linalg.svd(np.array(H, dtype=float), compute_uv=False).min() for H in (H_hat, H_bar)]
    sigma = F(min(svals) * (1 - 1e-9)).limit_denominator(2 ** 30)
    while not all(is_psd(_add(_mm(H, H), _eye(n, sigma ** 2), -1)) for H in (H_hat, H_bar)):
        sigma = sigma / 2
    return {"A": _sqrt_bounds(_sq(data["a_hat"]))[1], "B": ratio_up(data["a_hat"], data["a_bar"]),
            "C": ratio_up(data["b_hat"], data["b_bar"]), "D": ratio_up(data["g_hat"], data["g_bar"]),
            "E": E, "sigma": sigma, "D_min": min(F(x) for x in dp),
            "rho": max(abs(F(x)) for x in data["g_hat"] + data["g_bar"])}


def _symmetric(draw, n, lo=-2, hi=2):
    S = [[F(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            S[i][j] = S[j][i] = draw(_q(lo, hi))
    return S


@st.composite
def _abstract_theorem_data(draw):
    """Arbitrary data at two points meeting the assumptions (v_bar a local minimum: H_bar > 0)."""
    d = draw(st.integers(1, 2))
    n = 2 * d
    vec = lambda: [draw(_q(-2, 2)) for _ in range(n)]
    data = {"prior_d": [draw(_q(F(1, 4), 2)) for _ in range(d)], "dv": [draw(_q(-1, 1)) for _ in range(n)],
            "g_bar": vec(), "S_bar": _symmetric(draw, n), "a_bar": vec(), "b_bar": vec()}
    if any(data["dv"]):
        data.update(g_hat=vec(), S_hat=_symmetric(draw, n), a_hat=vec(), b_hat=vec())
    else:  # v_hat = v_bar: everything at the two points coincides
        data.update(g_hat=data["g_bar"], S_hat=data["S_bar"], a_hat=data["a_bar"], b_hat=data["b_bar"])
    data["J"] = [[draw(_q(-2, 2)) for _ in range(n)] for _ in range(n)]
    data["u"] = vec()
    theta = [F(0)] * d + data["prior_d"]
    shift = F(1)
    while not _pd(rb.lemma1_H(theta, data["g_bar"], data["S_bar"])):  # make v_bar a local minimum
        data["S_bar"] = _add(data["S_bar"], _eye(n, shift))
        if not any(data["dv"]):
            data["S_hat"] = data["S_bar"]
        shift *= 2
    assume(det(rb.lemma1_H(theta, data["g_hat"], data["S_hat"])) != 0)
    return data


@st.composite
def _linear_theorem_data(draw):
    """Data from the linear-Gaussian model: v_bar = v* (a minimum), v_hat = K GD steps, J exact."""
    case = draw(_linear_cases())
    ref, theta = _linear_reference(case), case["theta"]
    alpha, K = draw(st.sampled_from([F(1, 32), F(1, 16)])), draw(st.integers(1, 2))
    try:
        v_hat = ref.inner_loop(theta, alpha, K)[-1]
    except rb.ReferenceBayesError:
        assume(False)
    v_bar = ref.vi_optimum(theta)
    a_hat, b_hat = ref.val_gradients(v_hat, theta)
    a_bar, b_bar = ref.val_gradients(v_bar, theta)
    S = ref.train_hessian()
    u = _add(rb.solve(ref.H_matrix(theta, v_hat), a_hat), [draw(_q(-1, 1, 8)) for _ in a_hat])
    d = ref.d
    return {"prior_d": theta[d:], "dv": _add(v_hat, v_bar, -1), "g_hat": ref.train_gradient(v_hat),
            "g_bar": ref.train_gradient(v_bar), "S_hat": S, "S_bar": S, "a_hat": a_hat, "a_bar": a_bar,
            "b_hat": b_hat, "b_bar": b_bar, "J": ref.inner_jacobian(theta, alpha, K), "u": u}


@st.composite
def _theorem_cases(draw):
    data = draw(st.one_of(_abstract_theorem_data(), _linear_theorem_data()))
    data["constants"] = _fit_constants(data)
    return data


def global_theorem_instance() -> dict:
    """An exact instance meeting Assumptions 1-5 *globally*: Theorems 1-2 are not vacuous.

    The linear-Gaussian task (19) with X = [1], y = [1], sigma2 = 1, prior theta = [0; 1], and the
    linear meta-loss L^val(v, theta) = c^T v with c = [1, 1]: L^val is A-Lipschitz in v with
    A = |c| for every v (its gradient is the constant c), so B = C = 0; L^tr is quadratic with
    the constant Hessian [[1, 0], [0, 0]], so D = 1 and E = 0; the objective of (5) is strictly
    convex, so v* = [1/2; 1/2] is its minimum (Assumption 1); H_t = [[2, 0], [0, 2]] at every v
    (Assumption 4 with sigma = 2); D_min = 1 (Assumption 5). v_hat is one GD step (alpha = 1/4)
    from theta. Returns a theorem data case; ``A`` is rounded up to a rational >= sqrt(2).
    """
    ref = rb.LinearGaussian.create([[1]], [1], [[0]], [0], 1)
    theta, alpha = [F(0), F(1)], F(1, 4)
    v_hat, v_bar = ref.inner_loop(theta, alpha, 1)[-1], ref.vi_optimum(theta)
    c = [F(1), F(1)]
    data = {"prior_d": [F(1)], "dv": _add(v_hat, v_bar, -1), "g_hat": ref.train_gradient(v_hat),
            "g_bar": ref.train_gradient(v_bar), "S_hat": ref.train_hessian(), "S_bar": ref.train_hessian(),
            "a_hat": c, "a_bar": c, "b_hat": [F(0)] * 2, "b_bar": [F(0)] * 2,
            "J": ref.inner_jacobian(theta, alpha, 1), "u": [F(1, 2), F(1, 2)]}
    rho = max(abs(x) for x in data["g_hat"] + data["g_bar"])
    data["constants"] = {"A": _sqrt_bounds(F(2))[1], "B": F(0), "C": F(0), "D": F(1), "E": F(0),
                         "sigma": F(2), "D_min": F(1), "rho": rho}
    return data


# -- adversarial search (float), best case re-checked exactly


def _float_data(x, d):
    """A smooth parametrisation of theorem data by a float vector x."""
    n = 2 * d
    it = iter(x)
    take = lambda k: np.array([next(it) for _ in range(k)])

    def sym():
        A = take(n * n).reshape(n, n)
        return (A + A.T) / 2

    data = {"prior_d": 0.05 + take(d) ** 2, "dv": take(n), "g_hat": take(n), "g_bar": take(n),
            "S_hat": sym(), "S_bar": sym(), "a_hat": take(n), "a_bar": take(n), "b_hat": take(n),
            "b_bar": take(n), "J": take(n * n).reshape(n, n), "u": take(n)}
    return data


def _size(d):
    n = 2 * d
    return d + 9 * n + 3 * n * n


def _float_matrices(data):
    dp = data["prior_d"]
    d = len(dp)

    def G(g):
        out = np.zeros((2 * d, 2 * d))
        out[:d, :d] = np.diag(1 / dp)
        out[d:, :d] = -np.diag(g[:d] / dp)
        out[d:, d:] = np.diag(1 / (2 * dp ** 2))
        return out

    def H(g, S):
        return S + np.diag(np.concatenate([1 / dp, 0.5 * (1 / dp + 2 * g[d:]) ** 2]))

    return G(data["g_hat"]), G(data["g_bar"]), H(data["g_hat"], data["S_hat"]), H(data["g_bar"], data["S_bar"])


def _float_ratio(data, which: str) -> float:
    """lhs / rhs of Theorem ``which`` ("1" or "2") with the minimal float constants; 0 if invalid."""
    G_hat, G_bar, H_hat, H_bar = _float_matrices(data)
    if np.linalg.eigvalsh(H_bar)[0] <= 1e-8:
        return 0.0
    e = float(np.linalg.norm(data["dv"]))
    if e == 0:
        return 0.0
    nrm = np.linalg.norm
    sigma = min(np.linalg.svd(H_hat, compute_uv=False).min(), np.linalg.svd(H_bar, compute_uv=False).min())
    if sigma <= 1e-8:
        return 0.0
    c = {"A": nrm(data["a_hat"]), "B": nrm(data["a_hat"] - data["a_bar"]) / e,
         "C": nrm(data["b_hat"] - data["b_bar"]) / e, "D": nrm(data["g_hat"] - data["g_bar"]) / e,
         "E": nrm(data["S_hat"] - data["S_bar"], 2) / e, "sigma": sigma,
         "D_min": float(data["prior_d"].min()),
         "rho": float(np.abs(np.concatenate([data["g_hat"], data["g_bar"]])).max())}
    true = G_bar @ np.linalg.solve(H_bar, data["a_bar"]) + data["b_bar"]
    if which == "1":
        lhs = nrm(data["J"] @ data["a_hat"] + data["b_hat"] - true)
        rhs = bounds.evaluate("ibaml.thm1", **c, epsilon=e, delta=nrm(data["J"] - G_hat @ np.linalg.inv(H_hat), 2))["bound"]
    else:
        lhs = nrm(G_hat @ data["u"] + data["b_hat"] - true)
        dprime = nrm(data["u"] - np.linalg.solve(H_hat, data["a_hat"]))
        rhs = bounds.evaluate("ibaml.thm2", **c, epsilon=e, delta_prime=dprime)["bound"]
    return float(lhs / rhs) if rhs > 0 else 0.0


def _rational_data(data, den=2 ** 12):
    def r(x):
        return [r(y) for y in x] if isinstance(x, (list, np.ndarray)) and np.ndim(x) else F(float(x)).limit_denominator(den)

    out = {k: r(np.asarray(v)) for k, v in data.items()}
    for k in ("S_hat", "S_bar"):  # exactly symmetric
        S = out[k]
        out[k] = [[S[min(i, j)][max(i, j)] for j in range(len(S))] for i in range(len(S))]
    return out


def adversarial_theorem(which: str, *, starts: int = 4, seed: int = 0, iters: int = 200) -> Result:
    """Maximise lhs / rhs of Theorem ``which`` ("1" or "2") over float data from ``starts`` random
    starts (Nelder-Mead); the best point is rounded to rationals and re-checked exactly (near-minimal
    rational constants). Returns the verdict of the exact re-check and the best float ratio."""
    from scipy.optimize import minimize

    rng = np.random.default_rng([seed, zlib.crc32(f"ibaml.thm{which}".encode())])
    best, best_x, best_d = 0.0, None, 1
    for start in range(starts):
        d = 1 + start % 2
        res = minimize(lambda x, d=d: -_float_ratio(_float_data(x, d), which), rng.normal(size=_size(d)),
                       method="Nelder-Mead", options={"maxiter": iters * _size(d), "xatol": 1e-10, "fatol": 1e-12})
        if -res.fun > best:
            best, best_x, best_d = -float(res.fun), res.x, d
    if best_x is None:
        return Result("holds", starts, 0.0, None, note="no valid start")
    data = _rational_data(_float_data(best_x, best_d))
    theta = [F(0)] * best_d + data["prior_d"]
    if not _pd(rb.lemma1_H(theta, data["g_bar"], data["S_bar"])) or \
            det(rb.lemma1_H(theta, data["g_hat"], data["S_hat"])) == 0:
        return Result("holds", starts, best, None, note="best float point not valid after rounding")
    data["constants"] = _fit_constants(data)
    why = _validate_theorem(data)
    if why:
        return Result("holds", starts, best, None, note=f"best float point invalid after rounding: {why}")
    holds, lhs, rhs = (_theorem1 if which == "1" else _theorem2)(data)
    witness = None if holds else get(f"ibaml.thm{which}")._witness(data, lhs, rhs)
    return Result("holds" if holds else "violated", starts, best, witness,
                  note=f"exact re-check of the best point: lhs/rhs = {lhs / rhs if rhs else float('inf'):.6g}")


# --------------------------------------------------------------------------------------------
# case strategies of the remaining statements


@st.composite
def _point_cases(draw):
    """A model, a point of its nll f and a step alpha (eq. (8))."""
    model = draw(_models())
    return {"model": model, "point": [draw(_q(-2, 2)) for _ in range(model["d"])],
            "alpha": draw(st.sampled_from([F(1, 8), F(1, 2), F(1), F(3, 2)]))}


@st.composite
def _chain_cases(draw):
    """A model, a prior theta, v^0 (= theta or drawn), alpha and K (eq. (9))."""
    model = draw(_models())
    d = model["d"]
    case = {"model": model, "theta": _vector(draw, d, (-1, 1), (F(1, 4), 2), 4),
            "start": draw(st.sampled_from(["theta", "v0"])),
            "alpha": draw(st.sampled_from([F(1, 16), F(1, 8)])), "K": draw(st.integers(1, 2))}
    case["v0"] = case["theta"] if case["start"] == "theta" else _vector(draw, d, (-1, 1), (F(1, 4), 2), 4)
    try:
        _run_gd(case)
    except rb.ReferenceBayesError:
        assume(False)
    return case


@st.composite
def _remark2_cases(draw):
    """Remark 2: a model, lam, a mean m_bar and the prior mean m making it stationary (d_t fixed)."""
    model = draw(_models())
    d, lam = model["d"], draw(st.sampled_from([F(1, 2), F(1), F(2), F(4)]))
    m_bar = [draw(_q(-1, 1)) for _ in range(d)]
    M = _model(model)
    S = [[p(m_bar) for p in row] for row in M.f_hess]
    assume(_pd(_add(S, _eye(d, lam))))  # a strict local minimum of f(m_t) + lam |m_t - m|^2 / 2
    m = [a + p(m_bar) / lam for a, p in zip(m_bar, M.f_grad)]  # grad f(m_bar) + lam (m_bar - m) = 0
    return {"model": model, "lam": lam, "m_bar": m_bar, "m": m}


def _validate_remark2(case):
    M, lam, m_bar, m = _model(case["model"]), F(case["lam"]), case["m_bar"], case["m"]
    if lam <= 0:
        return "lam must be > 0"
    if any(p(m_bar) + lam * (a - b) != 0 for p, a, b in zip(M.f_grad, m_bar, m)):
        return "m_bar is not stationary for the prior mean m"
    if not _pd(_add([[p(m_bar) for p in row] for row in M.f_hess], _eye(len(m_bar), lam))):
        return "m_bar is not a strict local minimum"
    return None


@st.composite
def _remark3_cases(draw):
    n = 2 * draw(st.integers(1, 3))
    g1, g2 = [draw(_q(-2, 2)) for _ in range(n)], [draw(_q(-2, 2)) for _ in range(n)]
    H = _sqrt_bounds(max(_sq(g1), _sq(g2)))[1] + draw(_q(0, 1))
    return {"g_bar": g1, "g_hat": g2, "H": H}


@st.composite
def _pd_gd_cases(draw):
    case = draw(_gd_cases(extra="u"))
    assume(_pd(_H(_model(case["model"]), case["theta"], case["v_hat"])))
    return case


def _validate_pd_gd(case):
    why = _validate_gd(case)
    if why is None and not _pd(_H(_model(case["model"]), case["theta"], case["v_hat"])):
        why = "H_t(v_hat) is not positive definite (the restriction of this corrected statement)"
    return why


def _validate_chain(case):
    why = _check_model(case) or _positive_variances("theta", case["theta"], case["model"]["d"])
    if why:
        return why
    try:
        _run_gd(case)
    except rb.ReferenceBayesError as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------------------------
# the statements


_P = "iBaML"


def _s(sid, ref, assumption, text, cases, examine, validate, budget=1.0) -> ExactCheck:
    """An iBaML statement; a witness stores its case whole (every key of the case dict)."""
    return ExactCheck(sid, ref, assumption, text, cases=cases, examine=examine, validate=validate,
                      encode=plain_to_json, decode=plain_from_json, budget=budget)


@functools.cache
def statements() -> tuple[ExactCheck, ...]:
    """Every checked iBaML statement (ids ``ibaml.*``; ``.corrected`` ones are not printed)."""
    return (
        _s("ibaml.eq8", f"{_P} eq. (8)", "f polynomial (cubic/quartic nll)",
           "one-step GD: nabla A_hat(theta) = I - alpha grad^2 f(theta)", _point_cases,
           _eq8, _check_model),
        _s("ibaml.eq9", f"{_P} eq. (9)", "K-step GD on (5), v_t > 0 along the path",
           "Bayesian meta-gradient = nabla A_hat nabla_1 L^val + nabla_2 L^val", _chain_cases, _eq9,
           _validate_chain),
        _s("ibaml.lemma1", f"{_P} Lemma 1, eqs. (10)-(11)", "v_bar a strict local minimum of (5), H_t(v_bar) invertible",
           "nabla A_bar(theta) = G_t(v_bar) H_t(v_bar)^{-1}", _stationary_cases, _lemma1,
           _validate_stationary),
        _s("ibaml.eq13", f"{_P} Remark 2, eq. (13)", "D = I/lam, posterior variance fixed, m_bar a strict local minimum",
           "nabla_m A_bar = D^{-1}(grad^2 L^tr + D^{-1})^{-1} = (grad^2 L^tr/lam + I)^{-1}", _remark2_cases,
           _eq13, _validate_remark2),
        _s("ibaml.eq15", f"{_P} eq. (15)", "Assumptions 1, 4, 5; v_hat from K GD steps",
           "H_t(v_hat)^{-1} nabla_1 L^val solves argmin_u u^T H u / 2 - u^T nabla_1 L^val",
           _gd_cases, _eq15, _validate_gd),
        _s("ibaml.eq15.corrected", f"{_P} eq. (15), H_t(v_hat) positive definite",
           "Assumptions 1, 4, 5; H_t(v_hat) > 0",
           "(15) holds when H_t(v_hat) is positive definite (always at v_bar)", _pd_gd_cases,
           _eq15_corrected, _validate_pd_gd),
        _s("ibaml.eq16", f"{_P} eq. (16)", "Assumptions 1, 4, 5; v_hat from K GD steps",
           "H_t(v_hat) p = grad^2 L^tr(v_hat) p + blockdiag(D^{-1}, (D^{-1} + 2 diag grad_d L^tr)^2/2) p",
           lambda: _gd_cases(extra="p"), _eq16, _validate_gd),
        _s("ibaml.eq17", f"{_P} eq. (17)", "Assumptions 1, 4, 5; v_hat from K GD steps",
           "g_hat block formula = G_t(v_hat) u + nabla_2 L^val", lambda: _gd_cases(extra="u"), _eq17,
           _validate_gd),
        _s("ibaml.eq20a", f"{_P} eq. (20a)", "linear-Gaussian model (19)",
           "m* = (X X^T/s2 + D^{-1})^{-1}(D^{-1} m + X y/s2) minimises (5) in m_t", _linear_cases, _eq20a,
           _validate_linear),
        _s("ibaml.eq20b", f"{_P} eq. (20b)", "linear-Gaussian model (19)",
           "d* = (diag(X X^T)/(2 s2) + d^{-1})^{-1} minimises (5) in d_t", _linear_cases, _eq20b,
           _validate_linear),
        _s("ibaml.eq20b.corrected", f"{_P} eq. (20b), corrected", "linear-Gaussian model (19)",
           "d* = (diag(X X^T)/s2 + d^{-1})^{-1} minimises (5) in d_t", _linear_cases,
           functools.partial(_eq20b, corrected=True), _validate_linear),
        _s("ibaml.posterior", f"{_P} posterior after eq. (20b)", "linear-Gaussian model (19)",
           "p(theta_t | y) = N(m*, (X X^T/(2 s2) + D^{-1})^{-1})", _linear_cases, _posterior,
           _validate_linear),
        _s("ibaml.posterior.corrected", f"{_P} posterior after eq. (20b), corrected", "linear-Gaussian model (19)",
           "p(theta_t | y) = N(m*, (X X^T/s2 + D^{-1})^{-1})", _linear_cases,
           functools.partial(_posterior, corrected=True), _validate_linear),
        _s("ibaml.eq21", f"{_P} eq. (21)", "linear-Gaussian model (19), v* with (20b) corrected",
           "oracle meta-gradient = G(v*) H(v*)^{-1} nabla_1 L^val + nabla_2 L^val", _linear_cases, _eq21,
           _validate_linear),
        _s("ibaml.thm1", f"{_P} Theorem 1 (derived constants)", "Assumptions 1-5 at v_hat, v_bar",
           "|explicit - true| <= F eps + A delta, F = F_t of bounds.papers.ibaml", _theorem_cases,
           _theorem1, _validate_theorem),
        _s("ibaml.thm2", f"{_P} Theorem 2, eq. (18) (derived constants)", "Assumptions 1-5 at v_hat, v_bar",
           "|g_hat - true| <= F' eps + G' delta', F' = F, G' = G'_t of bounds.papers.ibaml",
           _theorem_cases, _theorem2, _validate_theorem),
        _s("ibaml.remark3", f"{_P} Remark 3", "L^tr H-Lipschitz", "rho_t <= H_t", _remark3_cases, _remark3,
           _validate_remark3),
    )


def get(statement_id: str) -> ExactCheck:
    """The statement with this id (ValueError naming the known ids otherwise)."""
    for s in statements():
        if s.id == statement_id:
            return s
    raise ValueError(f"unknown iBaML statement {statement_id!r}: known are "
                     + ", ".join(s.id for s in statements()))
