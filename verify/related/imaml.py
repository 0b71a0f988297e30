"""The iMAML appendix's statements (Rajeswaran, Finn, Kakade, Levine 2019), checked exactly.

Every statement of docs/related/imaml.md is a :class:`verify.checks.ExactCheck` (an identity or
inequality examined in exact rational arithmetic on Hypothesis cases that meet its hypotheses
exactly), a :class:`verify.checks.Vacuity` (an assumption set shown unsatisfiable: every drawn
instance is refuted by the construction of the argument in docs/related/imaml.md) or a
:class:`verify.checks.Conditional` (a statement under an assumption set: ``vacuous`` when the set
is, else its check). :func:`statements` lists them; they are entries of ``verify.registry``
(``binomgbml verify --paper imaml``).

Instances. Symmetric matrices are ``Q diag(lambda) Q^T`` with ``Q`` a product of rational
Householder reflections (:func:`verify.strategies.householder`), so spectra are exact.
Non-quadratic losses are the family :class:`SmoothLoss`, 1/2 phi^T Q phi + q^T phi +
sum_j w_j psi(a_j^T phi - y_j) with psi'' = 1 on [-1, 1], 2 - |r| on 1 <= |r| <= 2, 0 beyond:
gradients and Hessians are rational at rational points, psi' is bounded by 3/2 and psi'' is
1-Lipschitz, so the gradient bound, smoothness and Hessian-Lipschitz constants of Assumption 2
are explicit. The inner solution of a non-quadratic loss is made rational by choosing it first:
theta = phi* + grad L^(phi*) / lam makes phi* stationary for G(., theta), and G strongly convex
makes it the unique minimiser Alg*(theta).

:func:`check_implicit_estimator` (with :data:`IMPLICIT_CLAIMS`) is the comparison that
``check_estimator`` accepts for implicit-gradient estimators: equal to the exact implicit
meta-gradient, or within the conjugate-gradient bound the footnote to Theorem 2 relies on; a
violation's witness replays with :func:`replay_implicit_witness`.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

import bounds
from bounds.exact import sqrt_bracket
from bounds.papers import imaml as formulas

from ..checks import Check as Statement
from ..checks import Conditional, ExactCheck, Vacuity, plain_from_json, plain_to_json
from ..rationals import det, fraction_str, is_psd, rationalize, sq_norm
from ..search import hypothesis_find
from ..strategies import householder

__all__ = [
    "IMPLICIT_CLAIMS", "ImplicitViolation", "SmoothLoss", "check_implicit_estimator", "get",
    "implicit_claim_error", "replay_implicit_witness", "statements",
]

ONE, ZERO = Fraction(1), Fraction(0)


def _ref():
    from estimators import reference

    return reference


def _refi():
    from estimators import reference_implicit

    return reference_implicit


# ----------------------------------------------------------------------------------------------
# exact helpers


def _eye(d: int) -> np.ndarray:
    return np.eye(d, dtype=int).astype(object) * ONE


def _vec(values) -> np.ndarray:
    return np.array([Fraction(v) for v in values], dtype=object)


def _spectrum_in(M, lo, hi) -> bool:
    """Exactly: is the symmetric rational M's spectrum inside [lo, hi]?"""
    eye = _eye(M.shape[0])
    return bool((M == M.T).all()) and is_psd(M - lo * eye) and is_psd(hi * eye - M)


def _sqrt_hi(x) -> Fraction:
    return sqrt_bracket(Fraction(x)).upper


def _sqrt_lo(x) -> Fraction:
    return sqrt_bracket(Fraction(x)).lower


def _frobenius_hi(M) -> Fraction:
    return _sqrt_hi(sq_norm(M))


def _sqrt_le_affine(l, a, b, s) -> bool:
    """Exactly: sqrt(l) <= a + b sqrt(s) for rationals l, s >= 0 and a, b >= 0."""
    rest = l - a * a - b * b * s  # sqrt(l) <= a + b sqrt(s) iff rest <= 2 a b sqrt(s)
    return rest <= 0 or 4 * a * a * b * b * s >= rest * rest


def _solve(H, v, lam):
    """(I + H/lam)^{-1} v, exactly (estimators.reference.imaml_exact)."""
    return _ref().imaml_exact(H, v, lam)


# ----------------------------------------------------------------------------------------------
# the non-quadratic loss family


def _psi1(r: Fraction) -> Fraction:
    """psi'(r): r on [-1, 1]; 1 + 2(|r|-1) - (r^2-1)/2 for 1 <= |r| <= 2; 3/2 beyond (odd)."""
    a = abs(r)
    v = a if a <= 1 else (1 + 2 * (a - 1) - (a * a - 1) / 2 if a <= 2 else Fraction(3, 2))
    return v if r >= 0 else -v


def _psi2(r: Fraction) -> Fraction:
    """psi''(r): 1 on [-1, 1], 2 - |r| on 1 <= |r| <= 2, 0 beyond (1-Lipschitz, in [0, 1])."""
    a = abs(r)
    return ONE if a <= 1 else (2 - a if a <= 2 else ZERO)


@dataclass(frozen=True)
class SmoothLoss:
    """f(phi) = 1/2 phi^T Q phi + q^T phi + sum_j w_j psi(a_j^T phi - y_j), exact rationals.

    ``rows`` holds the a_j (n x d), ``offsets`` the y_j, ``weights`` the w_j.
    """

    Q: np.ndarray
    q: np.ndarray
    rows: np.ndarray
    offsets: np.ndarray
    weights: np.ndarray

    @classmethod
    def from_case(cls, data: dict) -> SmoothLoss:
        d = len(data["q"])
        rows = np.array(data["rows"], dtype=object).reshape(-1, d)
        return cls(np.array(data["Q"], dtype=object).reshape(d, d), np.array(data["q"], dtype=object),
                   rows, np.array(data["offsets"], dtype=object).reshape(-1),
                   np.array(data["weights"], dtype=object).reshape(-1))

    def as_case(self) -> dict:
        return {"Q": self.Q, "q": self.q, "rows": self.rows, "offsets": self.offsets, "weights": self.weights}

    def _residuals(self, phi):
        return [a @ phi - y for a, y in zip(self.rows, self.offsets)]

    def grad(self, phi) -> np.ndarray:
        out = self.Q @ phi + self.q
        for a, r, w in zip(self.rows, self._residuals(phi), self.weights):
            out = out + w * _psi1(r) * a
        return out

    def hess(self, phi) -> np.ndarray:
        out = self.Q.copy()
        for a, r, w in zip(self.rows, self._residuals(phi), self.weights):
            out = out + w * _psi2(r) * np.outer(a, a)
        return out

    def _norms_hi(self):
        return [_sqrt_hi(sq_norm(a)) for a in self.rows]

    @property
    def hessian_lipschitz(self) -> Fraction:
        """rho with ||Hess f(phi) - Hess f(phi')|| <= rho ||phi - phi'||: sum |w_j| ||a_j||^3."""
        return sum((abs(w) * n ** 3 for w, n in zip(self.weights, self._norms_hi())), ZERO)

    @property
    def smoothness(self) -> Fraction:
        """L with grad f L-Lipschitz: ||Q||_F + sum |w_j| ||a_j||^2 (psi'' in [0, 1])."""
        return _frobenius_hi(self.Q) + sum((abs(w) * sq_norm(a) for w, a in zip(self.weights, self.rows)), ZERO)

    @property
    def gradient_bound(self) -> Fraction | None:
        """B with ||grad f|| <= B everywhere, when Q = 0: ||q|| + 3/2 sum |w_j| ||a_j||; else None."""
        if any(x != 0 for x in self.Q.flat):
            return None
        return _sqrt_hi(sq_norm(self.q)) + Fraction(3, 2) * sum(
            (abs(w) * n for w, n in zip(self.weights, self._norms_hi())), ZERO)

    def curvature_range(self, lam) -> tuple[Fraction, Fraction] | None:
        """(mu, beta) with mu I <= lam I + Hess f <= beta I everywhere (weights >= 0 and
        lam I + Q positive definite), mu = the smallest eigenvalue bound found exactly; else None."""
        if any(w < 0 for w in self.weights):
            return None
        low = lam + _lowest_eigen_bound(self.Q)
        if low <= 0:
            return None
        return low, lam + _frobenius_hi(self.Q) + sum((w * sq_norm(a) for w, a in zip(self.weights, self.rows)), ZERO)


def _lowest_eigen_bound(Q) -> Fraction:
    """A rational lower bound on the smallest eigenvalue of the symmetric rational Q, exactly
    certified (Q - c I is PSD): bisection from -||Q||_F on a grid of 1/64."""
    top = _frobenius_hi(Q)
    lo, hi = -top, top
    eye = _eye(Q.shape[0])
    for _ in range(12):
        mid = (lo + hi) / 2
        if is_psd(Q - mid * eye):
            lo = mid
        else:
            hi = mid
    return lo


# ----------------------------------------------------------------------------------------------
# strategies


def _fractions(lo, hi, den: int = 4, favour=()):
    lo, hi = Fraction(lo), Fraction(hi)
    inner = st.fractions(lo, hi, max_denominator=max(den, lo.denominator, hi.denominator))
    special = [Fraction(v) for v in favour if Fraction(lo) <= Fraction(v) <= Fraction(hi)]
    return st.one_of(st.sampled_from(special), inner) if special else inner


def _vectors(d: int, lo=-2, hi=2, den: int = 4):
    return st.lists(_fractions(lo, hi, den), min_size=d, max_size=d).map(lambda v: np.array(v, dtype=object))


@st.composite
def _rotation(draw, d: int):
    n = draw(st.integers(0, d))
    vectors = [draw(st.lists(st.fractions(-3, 3, max_denominator=4), min_size=d, max_size=d)) for _ in range(n)]
    return householder(vectors, d, exact=True)


@st.composite
def _symmetric(draw, d: int, lo, hi, *, with_parts: bool = False):
    """A symmetric d x d rational matrix with spectrum in [lo, hi] (endpoints favoured)."""
    lo, hi = Fraction(lo), Fraction(hi)
    Q = draw(_rotation(d))
    spectrum = [draw(_fractions(lo, hi, 8, favour=(lo, hi))) for _ in range(d)]
    M = (Q * np.array(spectrum, dtype=object)) @ Q.T
    return (M, Q, spectrum) if with_parts else M


@st.composite
def _within(draw, d: int, radius):
    """A rational vector v with ||v|| <= radius exactly (the boundary ||v|| ~ radius favoured)."""
    u = draw(_vectors(d, -3, 3))
    if radius == 0 or all(x == 0 for x in u):
        return np.full(d, ZERO, dtype=object)
    f = draw(_fractions(0, 1, 8, favour=(1,)))
    return u * (f * Fraction(radius) / _sqrt_hi(sq_norm(u)))


@st.composite
def _smooth_loss(draw, d: int, *, Q=None, terms=(0, 2), nonnegative: bool = True):
    """A :class:`SmoothLoss`; ``Q`` given (or zero when ``Q == 0``), weights >= 0 if ``nonnegative``."""
    n = draw(st.integers(*terms))
    rows = np.array([draw(_vectors(d, -2, 2)) for _ in range(n)], dtype=object).reshape(n, d)
    offsets = np.array([draw(_fractions(-3, 3)) for _ in range(n)], dtype=object)
    w_lo = 0 if nonnegative else -2
    weights = np.array([draw(_fractions(w_lo, 2, 4, favour=(1,))) for _ in range(n)], dtype=object)
    Qm = np.full((d, d), ZERO, dtype=object) if Q is None else Q
    return SmoothLoss(Qm, draw(_vectors(d)), rows, offsets, weights)


#: the regulariser lam and the strong convexity mu drawn by the checks
_LAM = _fractions("1/4", 4, 4, favour=(1,))
_MU = _fractions("1/8", 2, 8, favour=(1,))


@st.composite
def _strongly_convex(draw, d: int, lam):
    """A symmetric Q with spectrum in [mu - lam, mu - lam + 3] for a drawn mu > 0, so that
    lam I + Q >= mu I: G = 1/2 phi^T Q phi + ... + lam/2 ||phi - theta||^2 is strongly convex."""
    mu = draw(_MU)
    return draw(_symmetric(d, mu - lam, mu - lam + 3))


def _positive_definite(M) -> bool:
    """Exactly, by Sylvester's criterion: every leading principal minor > 0."""
    return all(det(M[:k, :k]) > 0 for k in range(1, M.shape[0] + 1))


# ----------------------------------------------------------------------------------------------
# witness files: arrays as nested lists of "p/q" strings, ints kept as JSON ints

_from_json = functools.partial(plain_from_json, arrays=True)


def _check(sid, reference, assumption, text, cases, examine, validate=lambda case: None, *,
           squared=False, search=None, budget=1.0) -> ExactCheck:
    """An iMAML claim examined exactly (undecided enclosures skip a case)."""
    return ExactCheck(sid, reference, assumption, text, cases=cases, examine=examine, validate=validate,
                      squared=squared, undecided=(ArithmeticError,), search=search, encode=plain_to_json,
                      decode=_from_json, budget=budget)


# ----------------------------------------------------------------------------------------------
# Lemma 1 (implicit Jacobian)


@st.composite
def _inner_cases(draw, *, max_d: int = 3, terms=(0, 2)):
    """A strongly convex inner problem: lam, a SmoothLoss L^ (weights >= 0, lam I + Q > 0)."""
    d = draw(st.integers(1, max_d))
    lam = draw(_LAM)
    return d, lam, draw(_smooth_loss(d, Q=draw(_strongly_convex(d, lam)), terms=terms))


@st.composite
def _lemma1_cases(draw):
    d, lam, loss = draw(_inner_cases())
    phi = draw(_vectors(d, -3, 3))
    theta = phi + loss.grad(phi) / lam  # phi = Alg*(theta): stationary, G strongly convex
    direction = draw(_vectors(d, -2, 2))
    t = Fraction(1, 2 ** draw(st.integers(0, 12)))
    return {"params": {"lam": lam, "t": t}, "inner": loss.as_case(), "phi": phi, "theta": theta,
            "direction": direction}


def _lemma1(case):
    """The proximal-point residual along theta + t Delta, at phi* + t J Delta with Lemma 1's
    J = (I + Hess/lam)^{-1}: grad G = O(t^2), precisely ||R|| <= rho/2 ||t J Delta||^2 by Taylor's
    theorem with a rho-Lipschitz Hessian (R = 0 for a quadratic loss). A wrong J leaves an O(t)
    residual."""
    lam, t = case["params"]["lam"], case["params"]["t"]
    loss = SmoothLoss.from_case(case["inner"])
    phi, theta, direction = case["phi"], case["theta"], case["direction"]
    u = t * _solve(loss.hess(phi), direction, lam)
    residual = loss.grad(phi + u) + lam * (phi + u - theta - t * direction)
    bound = (loss.hessian_lipschitz / 2) ** 2 * sq_norm(u) ** 2
    return sq_norm(residual) <= bound, sq_norm(residual), bound


def _lemma1_validate(case):
    loss = SmoothLoss.from_case(case["inner"])
    lam = case["params"]["lam"]
    if loss.curvature_range(lam) is None:
        return "G(., theta) is not strongly convex (negative weights or lam I + Q not positive definite)"
    if any(x != 0 for x in loss.grad(case["phi"]) + lam * (case["phi"] - case["theta"])):
        return "phi is not the stationary point of G(., theta)"
    return None


# ----------------------------------------------------------------------------------------------
# Appendix F.1 (linear regression)


@st.composite
def _regression_cases(draw):
    d = draw(st.integers(1, 2))
    n = draw(st.integers(1, 3))
    return {"params": {}, "x": np.array([draw(_vectors(d)) for _ in range(n)], dtype=object),
            "y": np.array([draw(_fractions(-2, 2)) for _ in range(n)], dtype=object),
            "phi": draw(_vectors(d)), "phi_other": draw(_vectors(d))}


def _regression_loss(case, phi):
    """L_i(phi) = 1/2 E (phi^T x - y)^2 over the data points (the empirical distribution)."""
    return sum(((phi @ x - y) ** 2 for x, y in zip(case["x"], case["y"])), ZERO) / (2 * len(case["y"]))


def _moments(case):
    n = len(case["y"])
    A = sum((np.outer(x, x) for x in case["x"]), np.full((len(case["phi"]),) * 2, ZERO, dtype=object)) / n
    b = sum((x * y for x, y in zip(case["x"], case["y"])), np.full(len(case["phi"]), ZERO, dtype=object)) / n
    return A, b


def _f1_loss_printed(case):
    """F.1: L_i(phi) = 1/2 phi^T A phi + phi^T b with A = E[x x^T], b = E[x^T y]; checked in the
    weaker form 'equal up to an additive constant': L_i(phi) - L_i(phi') = q(phi) - q(phi')."""
    A, b = _moments(case)
    printed = lambda p: p @ A @ p / 2 + p @ b
    lhs = _regression_loss(case, case["phi"]) - _regression_loss(case, case["phi_other"])
    rhs = printed(case["phi"]) - printed(case["phi_other"])
    return lhs == rhs, abs(lhs - rhs), ZERO


def _f1_loss_corrected(case):
    """L_i(phi) = 1/2 phi^T A phi - phi^T b + 1/2 E[y^2] with b = E[x y], exactly."""
    A, b = _moments(case)
    phi = case["phi"]
    rhs = phi @ A @ phi / 2 - phi @ b + sum((y * y for y in case["y"]), ZERO) / (2 * len(case["y"]))
    lhs = _regression_loss(case, phi)
    return lhs == rhs, abs(lhs - rhs), ZERO


@st.composite
def _quadratic_task_cases(draw, *, max_d: int = 3):
    """Quadratic inner loss (A, b) with A + lam I > 0, quadratic test loss (C, c), theta, v, h."""
    d = draw(st.integers(1, max_d))
    lam = draw(_LAM)
    return {"params": {"lam": lam, "h": draw(_MU)}, "A": draw(_strongly_convex(d, lam)), "b": draw(_vectors(d)),
            "C": draw(_symmetric(d, -2, 2)), "c": draw(_vectors(d)), "theta": draw(_vectors(d)),
            "v": draw(_vectors(d))}


def _G(A, b, lam, theta, phi):
    """G(phi, theta) = 1/2 phi^T A phi + b^T phi + lam/2 ||phi - theta||^2 (F.1)."""
    return phi @ A @ phi / 2 + b @ phi + lam * sq_norm(phi - theta) / 2


def _f1_alg(case):
    """F.1: Alg*(theta) = (A + lam I)^{-1} (lam theta - b) is the minimiser of G(., theta):
    grad G = 0 there, and G(phi* + v) > G(phi*) for v != 0 (G evaluated directly)."""
    A, b, theta, v, lam = case["A"], case["b"], case["theta"], case["v"], case["params"]["lam"]
    phi = _refi().inner_solution(A, b, theta, lam)
    stationary = max(abs(x) for x in A @ phi + b + lam * (phi - theta))
    if stationary != 0:
        return False, stationary, ZERO
    gain = _G(A, b, lam, theta, phi + v) - _G(A, b, lam, theta, phi)
    return (gain > 0) or all(x == 0 for x in v), -gain if gain <= 0 else ZERO, ZERO


def _f1_metagrad(case):
    """F.1 / eq. (6): d_theta L(Alg*(theta)) = lam (A + lam I)^{-1} grad L(Alg*(theta)), against
    exact central differences of theta -> L(Alg*(theta)) (a quadratic, so they are exact)."""
    A, b, C, c, theta, lam, h = (case["A"], case["b"], case["C"], case["c"], case["theta"],
                                 case["params"]["lam"], case["params"]["h"])
    refi = _refi()

    def F(th):
        phi = refi.inner_solution(A, b, th, lam)
        return phi @ C @ phi / 2 + c @ phi

    eye = _eye(len(theta))
    numeric = np.array([(F(theta + h * e) - F(theta - h * e)) / (2 * h) for e in eye], dtype=object)
    formula = refi.quadratic_meta_gradient(A, b, theta, lam, refi.quadratic_gradient(C, c))
    diff = max(abs(x) for x in numeric - formula)
    return diff == 0, diff, ZERO


def _quadratic_task_validate(case):
    lam = case["params"]["lam"]
    if not _positive_definite(case["A"] + lam * _eye(len(case["b"]))):
        return "A + lam I is not positive definite"
    return None


# ----------------------------------------------------------------------------------------------
# Lemma 2 (Nesterov's method on a quadratic)

_ROOTS = (1, Fraction(3, 2), 2, Fraction(5, 2), 3)  # sqrt(kappa): rational, so AGD is exact


@st.composite
def _lemma2_cases(draw):
    d = draw(st.integers(1, 3))
    mu = draw(_fractions("1/4", 2, 4, favour=(1,)))
    root = Fraction(draw(st.sampled_from(_ROOTS)))
    beta = mu * root ** 2
    x_star = draw(_vectors(d, -3, 3).filter(lambda v: any(x != 0 for x in v)))
    delta = draw(_fractions("1/64", 4, 64, favour=(1, Fraction(1, 10))))
    return {"params": {"mu": mu, "beta": beta, "delta": delta}, "Q": draw(_symmetric(d, mu, beta)),
            "x_star": x_star}


def _lemma2_steps(kappa, x_star_sq, delta) -> int:
    """floor(2 sqrt(kappa) log(2 kappa ||x*|| / delta)), 0 if negative (decided exactly or raises)."""
    lo = bounds.evaluate("imaml.lemma2", kappa, _sqrt_lo(x_star_sq), delta, exact=True)["count"]
    hi = bounds.evaluate("imaml.lemma2", kappa, _sqrt_hi(x_star_sq), delta, exact=True)["count"]
    n_lo, n_hi = lo.floor(), hi.floor()
    if n_lo != n_hi:
        raise ArithmeticError("floor of the Lemma 2 count undecided")
    return max(0, n_lo)


def _lemma2(case):
    """Lemma 2: after floor(2 sqrt(kappa) log(2 kappa ||x*|| / delta)) gradient computations,
    Nesterov's method (from 0) is within delta of x*."""
    p = case["params"]
    Q, x_star = case["Q"], case["x_star"]
    n = _lemma2_steps(p["beta"] / p["mu"], sq_norm(x_star), p["delta"])
    y = _refi().nesterov(Q, Q @ x_star, p["beta"], p["mu"], n)
    err = sq_norm(y - x_star)
    return err <= p["delta"] ** 2, err, p["delta"] ** 2


def _lemma2_validate(case):
    p = case["params"]
    if not _spectrum_in(case["Q"], p["mu"], p["beta"]):
        return f"Q's spectrum is not inside [mu, beta] = [{p['mu']}, {p['beta']}]"
    return None


# ----------------------------------------------------------------------------------------------
# Lemma 3 (implicit gradient accuracy), deterministic core


@st.composite
def _lemma3_cases(draw, *, delta_condition: bool = True):
    """H*, H = Hess L^ at Alg*(theta) and at phi, g*, g = grad L_i there, and g_i, meeting
    pointwise every hypothesis Lemma 3's proof uses (Assumption 2.1-2.3 at the two points)."""
    d = draw(st.integers(1, 3))
    lam = draw(_LAM)
    mu = draw(_fractions("1/8", 2, 8, favour=(1, Fraction(1, 4))))
    beta = mu + draw(_fractions(0, 4, 4, favour=(0,)))
    rho = draw(_fractions(0, 4, 4, favour=(0, 1)))
    B, L = draw(_fractions(0, 3, 4, favour=(1,))), draw(_fractions(0, 3, 4, favour=(1,)))
    if delta_condition and rho > 0:  # delta < 1/(2 rho) (as printed) or mu/(2 rho) (the proof's)
        delta = max(ONE, mu) / (2 * rho) * draw(_fractions(0, "63/64", 64, favour=(Fraction(63, 64),)))
    else:
        delta = draw(_fractions(0, 2, 8, favour=(Fraction(1, 10),)))
    delta_prime = draw(_fractions(0, 1, 8, favour=(0,)))
    H_star = draw(_symmetric(d, mu - lam, beta - lam))
    E = draw(_symmetric(d, -rho * delta, rho * delta))
    for shrink in (ONE, Fraction(1, 2), Fraction(1, 4), ZERO):  # H = H* + s E inside [mu-lam, beta-lam]
        H = H_star + shrink * E
        if _spectrum_in(H + lam * _eye(d), mu, beta):
            break
    g_star = draw(_within(d, B))
    g = g_star + draw(_within(d, L * delta))
    g_i = _solve(H, g, lam) + draw(_within(d, delta_prime))
    return {"params": {"lam": lam, "mu": mu, "beta": beta, "rho": rho, "B": B, "L": L,
                       "delta": delta, "delta_prime": delta_prime},
            "H_star": H_star, "H": H, "g_star": g_star, "g": g, "g_i": g_i}


def _lemma3(sharp: bool):
    def examine(case):
        p = case["params"]
        target = _solve(case["H_star"], case["g_star"], p["lam"])
        lemma3 = formulas.LEMMA3.bounds["bound"]  # the variant's formula; validate checks its hypotheses
        bound = lemma3.formula_of(lemma3.variant("sharp" if sharp else "core")).exact(
            p["lam"], p["mu"], p["rho"], p["B"], p["L"], p["delta"], p["delta_prime"])
        err = sq_norm(case["g_i"] - target)
        return err <= bound ** 2, err, bound ** 2
    return examine


def _lemma3_validate(delta_condition: bool):
    def validate(case):
        p = case["params"]
        lam, mu, beta, rho, delta = p["lam"], p["mu"], p["beta"], p["rho"], p["delta"]
        d = len(case["g"])
        for name in ("H_star", "H"):
            if not _spectrum_in(case[name] + lam * _eye(d), mu, beta):
                return f"lam I + {name} is not inside [mu, beta] (Assumption 2.2)"
        if not _spectrum_in(case["H"] - case["H_star"], -rho * delta, rho * delta):
            return "||H - H*|| > rho delta (Assumption 2.3 with ||phi - Alg*|| <= delta)"
        if sq_norm(case["g_star"]) > p["B"] ** 2:
            return "||g*|| > B (Assumption 2.1)"
        if sq_norm(case["g"] - case["g_star"]) > (p["L"] * delta) ** 2:
            return "||g - g*|| > L delta (Assumption 2.1)"
        if sq_norm(case["g_i"] - _solve(case["H"], case["g"], lam)) > p["delta_prime"] ** 2:
            return "||g_i - (I + H/lam)^-1 g|| > delta'"
        if delta_condition and 2 * rho * delta >= max(ONE, mu):
            return "delta >= 1/(2 rho) and >= mu/(2 rho)"
        return None
    return validate


# ----------------------------------------------------------------------------------------------
# Assumption 2: item 4 for all theta is unsatisfiable; at the fixed theta it is satisfiable

ASSUMPTION2_ARGUMENT = (
    "item 4 (||Alg*(theta)|| <= D for all theta) cannot hold: stationarity gives "
    "lam (theta - Alg*(theta)) = grad L^(Alg*(theta)), and grad L^ is (beta + lam)-Lipschitz (item 2), "
    "so ||Alg*|| <= D forces ||theta|| <= D + (||grad L^(0)|| + (beta + lam) D) / lam; any theta "
    "beyond that radius breaks item 4")


@st.composite
def _assumption2_candidates(draw):
    d = draw(st.integers(1, 3))
    lam = draw(_LAM)
    mu = draw(_MU)
    beta = mu + draw(_fractions(0, 4, 4))
    return {"params": {"lam": lam, "mu": mu, "beta": beta, "D": draw(_fractions(0, 100, 4, favour=(0, 1)))},
            "A": draw(_symmetric(d, mu - lam, beta - lam)), "b": draw(_vectors(d))}


def _assumption2_refute(case):
    """Build theta = t e_1 beyond the argument's radius and confirm ||Alg*(theta)|| > D exactly."""
    p = case["params"]
    A, b, lam = case["A"], case["b"], p["lam"]
    d = len(b)
    t = p["D"] + (_sqrt_hi(sq_norm(b)) + (p["beta"] + lam) * p["D"]) / lam + 1
    theta = np.array([t] + [ZERO] * (d - 1), dtype=object)
    phi = _refi().inner_solution(A, b, theta, lam)
    refuted = sq_norm(phi) > p["D"] ** 2
    return refuted, (f"theta = {fraction_str(t)} e_1: ||Alg*(theta)||^2 = {fraction_str(sq_norm(phi))} "
                     f"{'>' if refuted else '<='} D^2 = {fraction_str(p['D'] ** 2)}")


@st.composite
def _fixed_theta_instances(draw):
    """Assumption 2 with item 4 at one theta: quadratic L^ (constant Hessian: any rho), a
    bounded-gradient SmoothLoss test loss, D >= ||Alg*(theta)||."""
    case = draw(_assumption2_candidates())
    p = case["params"]
    test = draw(_smooth_loss(len(case["b"]), terms=(0, 2), nonnegative=False))
    theta = draw(_vectors(len(case["b"])))
    phi = _refi().inner_solution(case["A"], case["b"], theta, p["lam"])
    p = dict(p, rho=draw(_fractions(0, 2)), B=test.gradient_bound, L=test.smoothness,
             D=_sqrt_hi(sq_norm(phi)) * draw(_fractions(1, 2, 4, favour=(1,))))
    return {"params": p, "A": case["A"], "b": case["b"], "theta": theta, "test": test.as_case()}


def _fixed_theta(case):
    """Every item of Assumption 2 (item 4 at the case's theta) holds exactly; the global
    constants of the SmoothLoss test loss hold by its construction (|psi'| <= 3/2, 0 <= psi'' <= 1)."""
    p = case["params"]
    A, lam = case["A"], p["lam"]
    test = SmoothLoss.from_case(case["test"])
    items = [
        test.gradient_bound is not None and test.gradient_bound <= p["B"] and test.smoothness <= p["L"],
        _spectrum_in(A + lam * _eye(len(case["b"])), p["mu"], p["beta"]),
        p["rho"] >= 0,  # the Hessian of a quadratic is constant: rho-Lipschitz for every rho >= 0
    ]
    phi = _refi().inner_solution(A, case["b"], case["theta"], lam)
    norm = sq_norm(phi)
    return all(items) and norm <= p["D"] ** 2, norm, p["D"] ** 2


# ----------------------------------------------------------------------------------------------
# Theorem 2 (end to end on quadratic inner losses) and its footnote (conjugate gradient)


@st.composite
def _theorem2_cases(draw, *, max_d: int = 2):
    d = draw(st.integers(1, max_d))
    lam = draw(_fractions("1/2", 2, 2, favour=(1,)))
    mu = draw(_fractions("1/4", 1, 4, favour=(1,)))
    beta = mu * Fraction(draw(st.sampled_from(_ROOTS[:3]))) ** 2
    A = draw(_symmetric(d, mu - lam, beta - lam))
    b, theta = draw(_vectors(d)), draw(_vectors(d))
    test = draw(_smooth_loss(d, terms=(1, 2), nonnegative=False).filter(lambda f: f.smoothness > 0))
    phi = _refi().inner_solution(A, b, theta, lam)
    D = max(_sqrt_hi(sq_norm(phi)), Fraction(1, 8)) * draw(_fractions(1, 2, 4, favour=(1,)))
    return {"params": {"lam": lam, "mu": mu, "beta": beta, "rho": draw(_fractions(0, 2, 2, favour=(0,))),
                       "B": test.gradient_bound, "L": test.smoothness, "D": D,
                       "eps": draw(_fractions("1/16", 1, 16, favour=(Fraction(1, 10),)))},
            "A": A, "b": b, "theta": theta, "test": test.as_case()}


def _theorem2(solver: str):
    def examine(case):
        """Theorem 2: Nesterov's method for ceil(2 sqrt(k) log(8 k D (B_1/eps + rho/mu))) steps on
        G(., theta), then ceil(2 sqrt(k) log(4 k lam B / (mu eps))) steps of Nesterov (or CG) on (7),
        give ||g_i - d_theta L(Alg*(theta))|| <= eps; the proof's bounds checked on the way."""
        p = case["params"]
        lam, mu, beta, rho, B, L, D, eps = (p[k] for k in ("lam", "mu", "beta", "rho", "B", "L", "D", "eps"))
        A, b, theta = case["A"], case["b"], case["theta"]
        test = SmoothLoss.from_case(case["test"])
        refi, kappa, eye = _refi(), beta / mu, _eye(len(b))
        counts = bounds.evaluate("imaml.thm2", kappa, D, lam, mu, rho, B, L, eps, exact=True, variant="core")
        n_inner, n_solve = max(0, counts["inner"].ceil()), max(0, counts["solve"].ceil())
        phi = refi.nesterov(A + lam * eye, lam * theta - b, beta, mu, n_inner)
        grad = test.grad(phi)
        if solver == "cg":
            g_i = _ref().imaml_cg(A, grad, lam, n_solve, x0="zero")
        else:
            g_i = refi.nesterov(eye + A / lam, grad, beta / lam, mu / lam, n_solve)
        q = {k: v.evaluate(kappa, D, lam, mu, rho, B, L, eps, exact=True)
             for k, v in formulas.QUANTITIES.items() if k != "cg_factor"}
        delta, delta_prime, x_star = q["delta_proof"], q["delta_prime"], q["x_star"]
        b1 = bounds.evaluate("imaml.lemma3", lam, mu, rho, B, L, 0, 0, exact=True, variant="core")["B1"]
        w_star = _solve(A, grad, lam)
        if (delta is not None and b1 * delta + delta_prime > eps) or sq_norm(w_star) > x_star ** 2:
            return False, sq_norm(w_star), x_star ** 2
        target = refi.quadratic_meta_gradient(A, b, theta, lam, test.grad)
        err = sq_norm(g_i - target)
        return err <= eps ** 2, err, eps ** 2
    return examine


def _theorem2_validate(case):
    p = case["params"]
    A, lam = case["A"], p["lam"]
    test = SmoothLoss.from_case(case["test"])
    if not _spectrum_in(A + lam * _eye(len(case["b"])), p["mu"], p["beta"]):
        return "lam I + A is not inside [mu, beta] (Assumption 2.2)"
    if test.gradient_bound is None or test.gradient_bound > p["B"] or test.smoothness > p["L"]:
        return "the test loss's gradient bound / smoothness exceed B / L (Assumption 2.1)"
    if sq_norm(_refi().inner_solution(A, case["b"], case["theta"], lam)) > p["D"] ** 2:
        return "||Alg*(theta)|| > D (Assumption 2.4 at theta)"
    return None


# ----------------------------------------------------------------------------------------------
# Corollary 1, deterministic core: gradient descent with inexact gradients


@st.composite
def _corollary1_cases(draw):
    d = draw(st.integers(1, 2))
    L_F = draw(_fractions("1/2", 4, 2, favour=(1, 2)))
    P = draw(_symmetric(d, 0, L_F))
    return {"params": {"L_F": L_F, "eps": draw(_fractions("1/4", 2, 4, favour=(1,))),
                       "fraction": draw(_fractions(0, 1, 4, favour=(1,))),
                       "pattern": draw(st.sampled_from(["oppose", "random", "zero"]))},
            "P": P, "z": draw(_vectors(d)), "theta0": draw(_vectors(d, -3, 3)),
            "noise": np.array([draw(_vectors(d)) for _ in range(3)], dtype=object)}


def _corollary1(tolerance: Fraction):
    def examine(case):
        """Gradient descent theta <- theta - (grad F + e_k) / L_F on F = 1/2 theta^T P theta -
        (P z)^T theta (L_F-smooth, min at z) with ||e_k|| <= fraction * tolerance * eps reaches
        ||grad F(theta_k)|| <= eps for some k <= 4 L_F (F(theta_0) - min F) / eps^2 (M = 1)."""
        p = case["params"]
        P, z, L_F, eps = case["P"], case["z"], p["L_F"], p["eps"]
        size = p["fraction"] * tolerance * eps
        F = lambda th: th @ P @ th / 2 - (P @ z) @ th
        gap = F(case["theta0"]) - F(z)
        steps = int(bounds.evaluate("imaml.cor1", 1, L_F, gap, eps, exact=True, variant="core")["calls"])  # floor
        theta, best = case["theta0"], None
        for k in range(steps + 1):
            grad = P @ (theta - z)
            g2 = sq_norm(grad)
            best = g2 if best is None else min(best, g2)
            if g2 <= eps ** 2:
                break
            if p["pattern"] == "oppose":
                error = -grad * (size / _sqrt_hi(g2))
            elif p["pattern"] == "random":
                u = case["noise"][k % len(case["noise"])]
                error = u * (size / _sqrt_hi(sq_norm(u))) if sq_norm(u) else u
            else:
                error = grad * 0
            theta = theta - (grad + error) / L_F
        return best <= eps ** 2, best, eps ** 2
    return examine


def _corollary1_validate(case):
    p = case["params"]
    if not _spectrum_in(case["P"], 0, p["L_F"]):
        return "P's spectrum is not inside [0, L_F] (F not L_F-smooth and convex)"
    if not 0 <= p["fraction"] <= 1:
        return "fraction is outside [0, 1]"
    return None


# ----------------------------------------------------------------------------------------------
# Appendix A: first-order MAML, Reptile, MAML


@st.composite
def _cg_cases(draw):
    d = draw(st.integers(1, 3))
    lam = draw(_LAM)
    return {"params": {"lam": lam}, "H_K": draw(_strongly_convex(d, lam)), "g": draw(_vectors(d))}


def _fomaml(x0: str):
    def examine(case):
        """Appendix A: 0 conjugate-gradient steps give first-order MAML's meta-gradient g."""
        ref = _ref()
        got = ref.imaml_cg(case["H_K"], case["g"], case["params"]["lam"], 0, x0=x0)
        diff = max(abs(x) for x in got - ref.first_order(case["g"]))
        return diff == 0, diff, ZERO
    return examine


def _interpolation(case):
    """Appendix A: CG interpolates from first-order MAML (0 steps from g) to the exact implicit
    meta-gradient (d steps: CG terminates in exact arithmetic)."""
    ref = _ref()
    H, g, lam = case["H_K"], case["g"], case["params"]["lam"]
    diff = max(abs(x) for x in ref.imaml_cg(H, g, lam, len(g), x0="g") - ref.imaml_exact(H, g, lam))
    return diff == 0, diff, ZERO


def _cg_validate(case):
    lam = case["params"]["lam"]
    if not _positive_definite(case["H_K"] + lam * _eye(len(case["g"]))):
        return "I + H_K/lam is not positive definite (G not strongly convex at phi)"
    return None


@st.composite
def _reptile_cases(draw):
    d = draw(st.integers(1, 3))
    lam = draw(_LAM)
    theta = draw(_vectors(d))
    tasks = []
    for _ in range(draw(st.integers(1, 3))):
        loss = draw(_smooth_loss(d, Q=draw(_strongly_convex(d, lam))))
        phi = draw(_vectors(d, -3, 3))
        # shift the linear term so that phi = Alg*(theta): grad L^(phi) = lam (theta - phi)
        loss = SmoothLoss(loss.Q, loss.q + lam * (theta - phi) - loss.grad(phi), loss.rows, loss.offsets,
                          loss.weights)
        tasks.append({"inner": loss.as_case(), "phi": phi,
                      "test": draw(_smooth_loss(d, Q=draw(_symmetric(d, -1, 1)), nonnegative=False)).as_case()})
    return {"params": {"lam": lam, "eta": draw(_MU)}, "theta": theta,
            "tasks": tasks}


def _reptile(case):
    """Appendix A: with phi_i = Alg*_i(theta), Reptile's theta - eta mean(theta - phi_i) equals
    first-order MAML on the inner losses, theta - (eta/lam) mean(grad L^_i(phi_i))."""
    lam, eta, theta = case["params"]["lam"], case["params"]["eta"], case["theta"]
    tasks = case["tasks"]
    reptile = theta - eta * sum((theta - t["phi"] for t in tasks), theta * 0) / len(tasks)
    fomaml = theta - eta / lam * sum((SmoothLoss.from_case(t["inner"]).grad(t["phi"]) for t in tasks),
                                     theta * 0) / len(tasks)
    diff = max(abs(x) for x in reptile - fomaml)
    return diff == 0, diff, ZERO


def _reptile_test_loss(case):
    """Reading FOMAML with the test losses L_i: is Reptile's step theta - phi_i a positive multiple
    c grad L_i(phi_i), c > 0, for every task (so that the updates differ by a learning rate only)?
    The defect of a task is ||step - c* grad||^2 at the best c* = max(step.grad, 0) / ||grad||^2,
    plus ||grad||^2 when c* = 0 (a zero learning rate is not one); 0 when step = grad = 0."""
    theta = case["theta"]
    worst = ZERO
    for t in case["tasks"]:
        step, grad = theta - t["phi"], SmoothLoss.from_case(t["test"]).grad(t["phi"])
        g2 = sq_norm(grad)
        if g2 == 0:
            defect = sq_norm(step)
        else:
            c = max(step @ grad, ZERO) / g2
            defect = sq_norm(step - c * grad) + (g2 if c == 0 else ZERO)
        worst = max(worst, defect)
    return worst == 0, worst, ZERO


def _fomaml_train_loss(case):
    """The first-order MAML of Appendix A's display (on the inner losses, grad L^_i(phi_i)) against
    iMAML with 0 CG steps, whose right-hand side is the test-loss gradient grad L_i(phi_i)
    (eq. (7), Lemma 3): equal for every task?"""
    lam, worst = case["params"]["lam"], ZERO
    for t in case["tasks"]:
        inner, test = SmoothLoss.from_case(t["inner"]), SmoothLoss.from_case(t["test"])
        cg = _ref().imaml_cg(inner.hess(t["phi"]), test.grad(t["phi"]), lam, 0, x0="g")
        worst = max([worst, *(abs(x) for x in cg - inner.grad(t["phi"]))])
    return worst == 0, worst, ZERO


def _reptile_validate(case):
    lam, theta = case["params"]["lam"], case["theta"]
    for i, t in enumerate(case["tasks"]):
        loss = SmoothLoss.from_case(t["inner"])
        if loss.curvature_range(lam) is None:
            return f"task {i}: G(., theta) is not strongly convex"
        if any(x != 0 for x in loss.grad(t["phi"]) - lam * (theta - t["phi"])):
            return f"task {i}: phi is not Alg*(theta)"
    return None


@st.composite
def _maml_cases(draw):
    d = draw(st.integers(1, 2))
    lam = draw(_fractions("1/4", 2, 4, favour=(1,)))
    mu = draw(_MU)
    beta = mu + draw(_fractions(0, 3, 4, favour=(0,)))
    _, Q, spectrum = draw(_symmetric(d, mu, beta, with_parts=True))
    test = draw(_smooth_loss(d, terms=(0, 2), nonnegative=False))
    top = max(spectrum)
    return {"params": {"lam": lam, "alpha": 2 / top * draw(_fractions("1/16", "15/16", 16, favour=(Fraction(1, 2),))),
                       "K": draw(st.integers(0, 6)), "B": test.gradient_bound, "L": test.smoothness},
            "rotation": Q, "spectrum": np.array(spectrum, dtype=object), "b": draw(_vectors(d)),
            "theta": draw(_vectors(d)), "test": test.as_case()}


def _maml_matrix(case):
    Q, spectrum, lam = case["rotation"], case["spectrum"], case["params"]["lam"]
    return (Q * spectrum) @ Q.T - lam * _eye(len(spectrum))  # A, with A + lam I = Q diag(m) Q^T


def _maml(case):
    """Appendix A (explicitly regularised setting): MAML through K gradient steps on G (step alpha,
    0 < alpha < 2/max m) tends to iMAML's meta-gradient: with m the spectrum of A + lam I,
    q = max |1 - alpha m|, ||MAML_K - iMAML|| <= q^K (B max|1 - lam/m| + (lam L / min m) ||theta - Alg*(theta)||)."""
    p = case["params"]
    lam, alpha, K = p["lam"], p["alpha"], p["K"]
    A, b, theta, spectrum = _maml_matrix(case), case["b"], case["theta"], case["spectrum"]
    test, refi = SmoothLoss.from_case(case["test"]), _refi()
    maml = refi.maml_regularized(A, b, theta, lam, alpha, K, test.grad)
    implicit = refi.quadratic_meta_gradient(A, b, theta, lam, test.grad)
    q = max(abs(1 - alpha * m) for m in spectrum)
    a = q ** K * p["B"] * max(abs(1 - lam / m) for m in spectrum)
    slope = q ** K * lam * p["L"] / min(spectrum)
    dist = sq_norm(theta - refi.inner_solution(A, b, theta, lam))
    err = sq_norm(maml - implicit)
    bound_sq = (a + slope * _sqrt_hi(dist)) ** 2  # for the report; the verdict is exact:
    return _sqrt_le_affine(err, a, slope, dist), err, bound_sq


def _maml_validate(case):
    Q, spectrum = case["rotation"], case["spectrum"]
    if not (Q.T @ Q == _eye(len(spectrum))).all():
        return "the rotation is not orthogonal"
    if min(spectrum) <= 0 or not 0 < case["params"]["alpha"] < 2 / max(spectrum):
        return "need A + lam I > 0 and 0 < alpha < 2 / max spectrum"
    test = SmoothLoss.from_case(case["test"])
    if test.gradient_bound is None or test.gradient_bound > case["params"]["B"] or test.smoothness > case["params"]["L"]:
        return "the test loss breaks B / L"
    return None


# ----------------------------------------------------------------------------------------------
# adversarial searches: Nelder-Mead over a continuous parametrisation, every evaluation exact


def _nelder_mead(build: Callable, size: int, starts: int, seed: int, key: str, examine, squared: bool):
    """Maximise the exact ratio of ``examine(build(x))`` from ``starts`` random starts; yield the
    best exact case of each start (for the caller to re-check)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])

    def ratio(x):
        try:
            case = build(x)
            _, lhs, rhs = examine(case)
        except (ArithmeticError, ValueError):
            return 0.0
        r = float(Fraction(lhs) / Fraction(rhs)) if rhs else (0.0 if not lhs else 1e9)
        return -(r ** 0.5 if squared else r)

    for _ in range(starts):
        res = minimize(ratio, rng.normal(size=size), method="Nelder-Mead",
                       options={"maxfev": 200, "xatol": 1e-6, "fatol": 1e-9})
        try:
            yield build(res.x)
        except (ArithmeticError, ValueError):  # the start never left the invalid region
            continue


def _unit(x) -> Fraction:
    return Fraction(float(np.sin(x) ** 2)).limit_denominator(2 ** 20)


def _rotation_2d(t) -> np.ndarray:
    v = rationalize(np.array([np.cos(t), np.sin(t)]), 2 ** 16)
    return householder([v], 2, exact=True)


def _lemma3_build(sharp: bool):
    """x -> a d = 2 Lemma 3 case (lam = mu = 1, rho = B = L = 1): the spectra, the directions of
    H - H*, g*, g - g*, g_i - (I + H/lam)^-1 g, and delta, from angles and sin^2 weights."""
    def build(x):
        lam = mu = rho = B = L = ONE
        beta = Fraction(4)
        delta = Fraction(1, 2) * _unit(x[0]) if not sharp else 2 * _unit(x[0])
        delta_prime = _unit(x[1]) / 4
        R1, R2 = _rotation_2d(x[2]), _rotation_2d(x[3])
        s1 = [mu - lam + (beta - mu) * _unit(v) for v in x[4:6]]
        H_star = (R1 * np.array(s1, dtype=object)) @ R1.T
        e = [rho * delta * (2 * _unit(v) - 1) for v in x[6:8]]
        H = H_star + (R2 * np.array(e, dtype=object)) @ R2.T
        if not _spectrum_in(H + lam * _eye(2), mu, beta):
            raise ValueError("H outside the curvature range")
        direction = lambda t: rationalize(np.array([np.cos(t), np.sin(t)]), 2 ** 16)
        shrink = lambda v, r: v * (r / _sqrt_hi(sq_norm(v))) if r else v * 0
        g_star = shrink(direction(x[8]), B * _unit(x[9]))
        g = g_star + shrink(direction(x[10]), L * delta)
        g_i = _solve(H, g, lam) + shrink(direction(x[11]), delta_prime)
        return {"params": {"lam": lam, "mu": mu, "beta": beta, "rho": rho, "B": B, "L": L,
                           "delta": delta, "delta_prime": delta_prime},
                "H_star": H_star, "H": H, "g_star": g_star, "g": g, "g_i": g_i}
    return build


def _lemma3_search(sharp: bool):
    def search(starts, seed):
        return _nelder_mead(_lemma3_build(sharp), 12, starts, seed, f"lemma3.{sharp}", _lemma3(sharp), True)
    return search


# ----------------------------------------------------------------------------------------------
# the statement list


def _assumption2_example() -> dict:
    """d = 1, L^ = 0 (A = 0, b = 0), lam = mu = beta = 1, D = 1: theta = 4 gives Alg*(theta) = 4."""
    return {"params": {"lam": ONE, "mu": ONE, "beta": ONE, "D": ONE},
            "A": np.array([[ZERO]], dtype=object), "b": np.array([ZERO], dtype=object)}


_ASSUMPTION2 = Vacuity(
    "imaml.assumption2", "iMAML Assumption 2 (items 1-4)", "Assumption 2",
    "the regularity conditions can hold together", cases=_assumption2_candidates,
    refute=_assumption2_refute, argument=ASSUMPTION2_ARGUMENT, example=_assumption2_example,
    encode=plain_to_json, decode=_from_json)


def _lemma3_core(sharp: bool):
    suffix = ".sharp" if sharp else ".core"
    text = ("||g_i - d_theta L(Alg*)|| <= (lam rho B/mu^2 + lam L/mu) delta + delta', any delta" if sharp
            else "||g_i - d_theta L(Alg*)|| <= (2 lam rho B/mu^2 + lam L/mu) delta + delta'")
    return _check(f"imaml.lemma3{suffix}", "iMAML Lemma 3" + (", sharpened" if sharp else ", pointwise core"),
                  "Assumption 2.1-2.3 at Alg*(theta) and phi", text,
                  lambda: _lemma3_cases(delta_condition=not sharp), _lemma3(sharp),
                  _lemma3_validate(not sharp), squared=True, search=_lemma3_search(sharp))


def _build_statements() -> list[Statement]:
    thm2_core = _check("imaml.thm2.core", "iMAML Theorem 2 (quadratic inner loss, item 4 at theta)",
                       "Assumption 2 with item 4 at theta", "Nesterov/Nesterov with the printed counts: error <= eps",
                       _theorem2_cases, _theorem2("nesterov"), _theorem2_validate, squared=True)
    cor1_core = _check("imaml.cor1.core", "iMAML Corollary 1, deterministic core", "F L_F-smooth",
                       "GD, step 1/L_F, gradient errors <= eps/2: ||grad F|| <= eps within 4 L_F gap / eps^2 steps",
                       _corollary1_cases, _corollary1(Fraction(1, 2)), _corollary1_validate, squared=True)
    return [
        _check("imaml.lemma1", "iMAML Lemma 1", "G(., theta) strongly convex",
               "dAlg*/dtheta = (I + Hess L^(phi)/lam)^{-1}", _lemma1_cases, _lemma1, _lemma1_validate,
               squared=True),
        _check("imaml.f1.loss", "iMAML Appendix F.1, first display", "-",
               "1/2 E||phi^T x - y||^2 = 1/2 phi^T A phi + phi^T b, b = E[x^T y] (up to a constant)",
               _regression_cases, _f1_loss_printed),
        _check("imaml.f1.loss.corrected", "iMAML Appendix F.1, sign of b corrected", "-",
               "1/2 E(phi^T x - y)^2 = 1/2 phi^T A phi - phi^T b + 1/2 E[y^2], b = E[x y]",
               _regression_cases, _f1_loss_corrected),
        _check("imaml.f1.alg", "iMAML Appendix F.1, Alg*", "A + lam I > 0",
               "Alg*(theta) = (A + lam I)^{-1} (lam theta - b) minimises G(., theta)",
               _quadratic_task_cases, _f1_alg, _quadratic_task_validate),
        _check("imaml.f1.metagrad", "iMAML Appendix F.1 / eq. (6)", "A + lam I > 0",
               "d_theta L(Alg*(theta)) = lam (A + lam I)^{-1} grad L(Alg*(theta))",
               _quadratic_task_cases, _f1_metagrad, _quadratic_task_validate),
        _check("imaml.lemma2", "iMAML Lemma 2 (on quadratics)", "f beta-smooth, mu-strongly convex",
               "Nesterov: ||x - x*|| <= delta within 2 sqrt(kappa) log(2 kappa ||x*|| / delta) gradients",
               _lemma2_cases, _lemma2, _lemma2_validate, squared=True),
        _ASSUMPTION2,
        _check("imaml.assumption2.fixed_theta", "iMAML Assumption 2, item 4 at the fixed theta",
               "Assumption 2 with item 4 at theta", "satisfiable: drawn instances meet every item exactly",
               _fixed_theta_instances, _fixed_theta),
        Conditional("imaml.lemma3", "iMAML Lemma 3", "Assumption 2", "implicit gradient accuracy (as printed)",
                    assumptions=_ASSUMPTION2, check=_lemma3_core(False)),
        _lemma3_core(False),
        _lemma3_core(True),
        Conditional("imaml.thm2", "iMAML Theorem 2", "Assumption 2", "approximate implicit gradient (as printed)",
                    assumptions=_ASSUMPTION2, check=thm2_core),
        thm2_core,
        _check("imaml.thm2.cg", "iMAML Theorem 2, footnote 2 (conjugate gradient)",
               "Assumption 2 with item 4 at theta", "CG with the printed count for (7): error <= eps",
               _theorem2_cases, _theorem2("cg"), _theorem2_validate, squared=True),
        Conditional("imaml.cor1", "iMAML Corollary 1", "conditions of Theorem 1 (Assumption 2)",
                    "iMAML finds an eps-stationary point (as printed)", assumptions=_ASSUMPTION2, check=cor1_core),
        cor1_core,
        _check("imaml.cor1.core.same_eps", "iMAML Corollary 1 with eps-accurate meta-gradients", "F L_F-smooth",
               "GD with gradient errors <= eps reaches ||grad F|| <= eps within 4 L_F gap / eps^2 steps",
               _corollary1_cases, _corollary1(ONE), _corollary1_validate, squared=True),
        _check("imaml.appA.fomaml", "iMAML Appendix A (first-order MAML)", "-",
               "0 CG steps (from x0 = g) give the first-order MAML meta-gradient g", _cg_cases,
               _fomaml("g"), _cg_validate),
        _check("imaml.appA.fomaml.zero_start", "iMAML Appendix A, CG started at x0 = 0", "-",
               "0 CG steps from x0 = 0 give the first-order MAML meta-gradient g", _cg_cases,
               _fomaml("zero"), _cg_validate),
        _check("imaml.appA.fomaml.train_loss", "iMAML Appendix A, first-order MAML as displayed (on L^_i)",
               "phi_i = Alg*_i(theta)", "0 CG steps give the displayed first-order MAML grad L^_i(phi_i)",
               _reptile_cases, _fomaml_train_loss, _reptile_validate),
        _check("imaml.appA.interpolation", "iMAML Appendix A (interpolation)", "I + H/lam > 0",
               "CG: 0 steps = first-order MAML, d steps = exact implicit meta-gradient", _cg_cases,
               _interpolation, _cg_validate),
        _check("imaml.appA.reptile", "iMAML Appendix A (Reptile)", "phi_i = Alg*_i(theta)",
               "Reptile = first-order MAML on L^_i with learning rate eta/lam", _reptile_cases, _reptile,
               _reptile_validate),
        _check("imaml.appA.reptile.test_loss", "iMAML Appendix A (Reptile), FOMAML on the test loss",
               "phi_i = Alg*_i(theta)", "Reptile = first-order MAML on the test losses L_i up to a learning rate",
               _reptile_cases, _reptile_test_loss, _reptile_validate),
        _check("imaml.appA.maml", "iMAML Appendix A (MAML)", "quadratic L^, G strongly convex",
               "MAML through K steps on G tends to iMAML's update at rate q^K", _maml_cases, _maml,
               _maml_validate, squared=True),
    ]


_STATEMENTS: dict[str, Statement] = {}


def statements() -> list[Statement]:
    """Every iMAML statement, in the order of docs/related/imaml.md."""
    if not _STATEMENTS:
        _STATEMENTS.update({s.id: s for s in _build_statements()})
    return list(_STATEMENTS.values())


def get(statement_id: str) -> Statement:
    """The statement with this id; ValueError naming the known ids otherwise."""
    known = {s.id: s for s in statements()}
    if statement_id not in known:
        raise ValueError(f"unknown iMAML statement id {statement_id!r}; known: {', '.join(known)}")
    return known[statement_id]


# ----------------------------------------------------------------------------------------------
# implicit-gradient claims (verify.check_estimator)

#: claim id -> what it asserts of ``estimator(traj, lam, steps)``
IMPLICIT_CLAIMS = {
    "imaml.exact": "equals the exact implicit meta-gradient (I + H^K/lam)^{-1} g (eq. (6))",
    "imaml.cg": "within the CG bound 2 sqrt(kappa) q^steps ||x0 - x*|| of Theorem 2's footnote",
}
#: float64 rounding allowed on top of a claim, times cond(I + H^K/lam) (1 + ||x*||)
IMPLICIT_RTOL = 1e-10


def implicit_claim_error(claim: str, estimate, H_K, g, lam, steps: int | None = None, x0: str = "g"):
    """(ok, error, allowed) for one case: ``estimate`` against the exact implicit meta-gradient
    ((I + H_K/lam)^{-1} g in Fractions, ``estimators.reference_implicit.implicit_jacobian``), allowed ``IMPLICIT_RTOL`` rounding (times the
    condition number) plus, for "imaml.cg", the CG bound after ``steps`` iterations from ``x0``."""
    if claim not in IMPLICIT_CLAIMS:
        raise ValueError(f"claim={claim!r} is not one of {', '.join(IMPLICIT_CLAIMS)}")
    H_K, g = np.asarray(H_K, dtype=float), np.asarray(g, dtype=float)
    # the exact implicit meta-gradient of the float64 data (iMAML Lemma 1 and eq. (6)), rounded once
    exact = (_refi().implicit_jacobian(H_K, lam) @ _refi().exact_array(g, "g", 1)).astype(float)
    spectrum = np.linalg.eigvalsh(np.eye(len(g)) + H_K / lam)
    if spectrum.min() <= 0:
        raise ValueError(f"I + H_K/lam with lam={lam} is not positive definite: no implicit claim applies")
    cond = spectrum.max() / spectrum.min()
    allowed = IMPLICIT_RTOL * cond * (1 + float(np.linalg.norm(exact)))
    if claim == "imaml.cg":
        start = g if x0 == "g" else np.zeros_like(g)
        factor = formulas.CG_FACTOR.evaluate(cond, int(steps))  # type: ignore[arg-type]  # given for imaml.cg
        allowed += float(factor) * float(np.linalg.norm(start - exact))
    error = float(np.linalg.norm(np.asarray(estimate, dtype=float) - exact))
    return bool(np.isfinite(error) and error <= allowed), error, allowed


class ImplicitViolation(AssertionError):
    """An implicit-gradient claim that fails; ``witness`` is the shrunk case as a JSON object
    (id, H_K, g, lam, steps, x0, estimate, error, allowed) that :func:`replay_implicit_witness`
    re-runs."""

    def __init__(self, witness: dict) -> None:
        w = witness
        super().__init__(f"estimator violates {w['id']} ({IMPLICIT_CLAIMS[w['id']]}): H_K = {w['H_K']}, "
                         f"g = {w['g']}, lam = {w['lam']}, steps = {w['steps']}, x0 = {w['x0']}: "
                         f"|error| = {w['error']:.6g} > allowed {w['allowed']:.6g}")
        self.witness = witness


def _implicit_case(estimator: Callable, claim: str, H, g, lam: float, steps: int | None,
                   x0: str) -> dict:
    """Run ``estimator`` on one case (a trajectory with H^K = H_K) and compare it
    (:func:`implicit_claim_error`): the case as a witness, with ``ok``."""
    import torch

    from estimators import Trajectory

    traj = Trajectory.from_hessians(H[None], g, 0.1, H_final=H)
    estimate = estimator(traj, lam) if claim == "imaml.exact" else estimator(traj, lam, steps)
    if isinstance(estimate, torch.Tensor):
        estimate = estimate.detach().cpu().numpy()
    ok, error, allowed = implicit_claim_error(claim, estimate, H, g, lam, steps, x0)
    return {"id": claim, "H_K": H.tolist(), "g": g.tolist(), "lam": lam, "steps": steps, "x0": x0,
            "estimate": np.asarray(estimate, dtype=float).tolist(), "error": error,
            "allowed": allowed, "ok": ok}


def _check_steps(claim: str, steps: Any, what: str = "") -> None:
    if claim == "imaml.cg" and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
        raise ValueError(f"{what}steps={steps!r} must be an integer >= 0 for claim 'imaml.cg'")


def check_implicit_estimator(estimator: Callable, *, claim: str, steps: int | None = None,
                             x0: str = "g", examples: int = 50, seed: int = 0) -> dict:
    """Property-test ``estimator(traj, lam)`` ("imaml.exact") or ``estimator(traj, lam, steps)``
    ("imaml.cg") on Hypothesis cases (float64 Hessians H^K with I + H^K/lam positive definite,
    d <= 3); :class:`ImplicitViolation` (an AssertionError) with the shrunk counterexample on a
    violation, else a summary."""
    _check_steps(claim, steps)
    state: dict[str, Any] = {"examples": 0, "max_ratio": 0.0, "witness": None}

    def examine(case):
        H, g = (np.asarray(case[k], dtype=object).astype(float) for k in ("H_K", "g"))
        result = _implicit_case(estimator, claim, H, g, float(case["params"]["lam"]), steps, x0)
        if result["allowed"]:
            state["max_ratio"] = max(state["max_ratio"], result["error"] / result["allowed"])
        return None if result.pop("ok") else result

    hypothesis_find(_cg_cases(), examine, examples=examples, seed=seed, state=state)
    if state["witness"] is not None:
        raise ImplicitViolation(state["witness"])
    return {claim: {"examples": state["examples"], "max_ratio": state["max_ratio"]}}


def replay_implicit_witness(estimator: Callable, witness: dict) -> tuple[bool, str]:
    """Re-run ``estimator`` on a witness of :class:`ImplicitViolation`: (still violated?, one line).
    A malformed witness, or one outside the claim (I + H_K/lam not positive definite, H_K not
    symmetric), raises ValueError: it checks nothing."""
    claim = witness.get("id")
    if claim not in IMPLICIT_CLAIMS:
        raise ValueError(f"witness id {claim!r} is not one of {', '.join(IMPLICIT_CLAIMS)}")
    for key in ("H_K", "g", "lam", "steps", "x0"):
        if key not in witness:
            raise ValueError(f"witness has no {key!r} (an implicit-claim witness has id, H_K, g, lam, "
                             "steps, x0)")
    try:
        H, g = np.array(witness["H_K"], dtype=float), np.array(witness["g"], dtype=float)
    except (TypeError, ValueError):
        raise ValueError("witness H_K and g must be numeric arrays") from None
    if g.ndim != 1 or H.shape != (g.size, g.size) or not (np.isfinite(H).all() and np.isfinite(g).all()):
        raise ValueError(f"witness H_K of shape {H.shape} and g of shape {g.shape}: need a finite d x d "
                         "matrix and a finite vector of length d")
    if not np.array_equal(H, H.T):
        raise ValueError("the witness is outside the claim: H_K is not symmetric")
    lam, steps, x0 = witness["lam"], witness["steps"], witness["x0"]
    if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not (np.isfinite(lam) and lam > 0):
        raise ValueError(f"witness lam={lam!r} must be a positive finite number")
    _check_steps(claim, steps, "witness ")
    if x0 not in ("g", "zero"):
        raise ValueError(f"witness x0={x0!r} must be 'g' or 'zero'")
    if np.linalg.eigvalsh(np.eye(g.size) + H / lam).min() <= 0:
        raise ValueError(f"the witness is outside the claim: I + H_K/lam with lam={lam} is not "
                         "positive definite")
    result = _implicit_case(estimator, claim, H, g, float(lam), steps, x0)
    ratio = result["error"] / result["allowed"] if result["allowed"] else float("inf")
    return (not result["ok"]), (f"|error| = {result['error']:.6g}, allowed {result['allowed']:.6g} "
                                f"(ratio {ratio:.6g})")
