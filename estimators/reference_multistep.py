"""Exact references for multi-step MAML (Ji, Yang, Liang, JMLR 23 (2022)) on non-quadratic losses.

Quadratic losses have constant Hessians, so they never test in which order the factors
``I - alpha H(w_j)`` of the meta-gradient eq. (3) multiply. This module computes multi-step MAML
meta-gradients exactly (Fractions) for losses whose Hessians vary along the inner path:

* :class:`PolynomialLoss` -- any polynomial with rational coefficients (cubic, quartic, ...);
* :class:`RidgeLoss` -- ``1/2 x^T A x + b^T x + c phi(a^T x)`` with ``phi'' = clip(t, lo, hi)``:
  a cubic ridge between ``lo`` and ``hi``, continued quadratically outside, so that its gradient-
  and Hessian-Lipschitz constants are known (see :meth:`RidgeLoss.hessian_lipschitz`).

Three independent routes to the meta-gradient ``grad_theta l_val(w_N(theta))`` of the inner loop
``w_(j+1) = w_j - alpha grad l_trn(w_j)``, ``w_0 = theta`` (eqs. (1)-(2), (9)-(10)):

* :func:`meta_gradient_unrolled` -- forward-mode differentiation of the unrolled loop with exact
  dual numbers (no Hessian, no matrix product: the chain rule is left to the arithmetic);
* :func:`meta_gradient_symbolic` -- SymPy: the unrolled map composed symbolically and
  differentiated (polynomial losses, small N);
* :func:`meta_gradient_product` -- the product of eq. (3) with exact Hessians at the path's
  points, in either order (``"increasing"``: ``(I - aH(w_0)) ... (I - aH(w_(N-1))) g``).

:func:`resampling_meta_gradient` is the stochastic estimator eq. (7) with its sample sets given as
losses (inner steps, Hessians and the outer gradient on different losses), as dense products.
NumPy object arrays of Fractions throughout; no torch, and no code shared with ``estimators``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from .reference import ReferenceInputError
from .reference_bayes import Dual  # exact forward mode (one implementation for the references)

__all__ = [
    "Dual", "PolynomialLoss", "RidgeLoss", "inner_path", "meta_gradient_product",
    "meta_gradient_symbolic", "meta_gradient_unrolled", "resampling_meta_gradient",
]


def _exact(name: str, x) -> Fraction:
    if isinstance(x, bool) or not isinstance(x, (numbers.Rational, str)):
        raise ReferenceInputError(f"{name}={x!r} must be an int, a Fraction or a 'p/q' string")
    try:
        return Fraction(x)
    except (ValueError, ZeroDivisionError):
        raise ReferenceInputError(f"{name}={x!r} is not a rational number 'p/q'") from None


def _vector(name: str, x, d: int | None = None) -> np.ndarray:
    items = list(x) if isinstance(x, (Sequence, np.ndarray)) and not isinstance(x, str) else None
    if items is None or any(isinstance(v, (Sequence, np.ndarray)) and not isinstance(v, str)
                            for v in items):
        raise ReferenceInputError(f"{name} must be a 1-D sequence of rationals")
    out = np.array([_exact(f"{name}[{i}]", v) for i, v in enumerate(items)], dtype=object)
    if d is not None and out.shape != (d,):
        raise ReferenceInputError(f"{name} has length {out.shape[0]}: need {d}")
    return out


def _matrix(name: str, x, d: int) -> np.ndarray:
    rows = [_vector(f"{name}[{i}]", r, d) for i, r in enumerate(x)]
    if len(rows) != d:
        raise ReferenceInputError(f"{name} has {len(rows)} rows: need {d}")
    return np.array(rows, dtype=object).reshape(d, d)


def _real(x) -> Fraction:
    return x.re if isinstance(x, Dual) else x


def _dot(u, v):
    total = 0
    for a, b in zip(u, v):
        total = total + a * b
    return total


def _matvec(M: np.ndarray, v) -> np.ndarray:
    return np.array([_dot(row, v) for row in M], dtype=object)


class PolynomialLoss:
    """``l(x) = sum_m coef_m prod_i x_i^(m_i)`` in d variables with rational coefficients.

    ``terms`` maps exponent tuples (length d) to coefficients (ints, Fractions or 'p/q').
    Polynomials of the same d add, subtract and multiply (``+``, ``-``, ``*``, also with a rational
    number), so that a loss can be built from :meth:`variable` and :meth:`constant`; ``p(x)`` is
    ``p.value(x)``. Zero coefficients are dropped: ``p.terms`` is empty for the zero polynomial.
    """

    def __init__(self, terms: Mapping[tuple[int, ...], object], d: int) -> None:
        if not isinstance(d, int) or d < 1:
            raise ReferenceInputError(f"d={d!r} must be an integer >= 1")
        exact: dict[tuple[int, ...], Fraction] = {}
        for m, coef in terms.items():
            m = tuple(m)
            if len(m) != d or any(not isinstance(e, int) or e < 0 for e in m):
                raise ReferenceInputError(f"exponent {m!r} must be {d} integers >= 0")
            exact[m] = exact.get(m, Fraction(0)) + _exact(f"coefficient of {m}", coef)
        self._set(exact, d)

    @classmethod
    def _of(cls, terms: dict[tuple[int, ...], Fraction], d: int) -> PolynomialLoss:
        """From terms that are already exact and well-formed (the arithmetic below)."""
        out = cls.__new__(cls)
        out._set(terms, d)
        return out

    def _set(self, terms: dict[tuple[int, ...], Fraction], d: int) -> None:
        self.d = d
        self.terms = {m: c for m, c in terms.items() if c}
        self._grad: list[PolynomialLoss] | None = None

    @classmethod
    def constant(cls, d: int, c: object) -> PolynomialLoss:
        """The constant polynomial ``c`` in d variables."""
        return cls({(0,) * d: c}, d)

    @classmethod
    def variable(cls, d: int, i: int) -> PolynomialLoss:
        """The polynomial ``x_i`` in d variables (0 <= i < d)."""
        if not isinstance(i, int) or not 0 <= i < d:
            raise ReferenceInputError(f"variable index {i!r} must be an integer in 0..{d - 1}")
        return cls({tuple(int(k == i) for k in range(d)): 1}, d)

    @property
    def degree(self) -> int:
        return max((sum(m) for m in self.terms), default=0)

    def _coerce(self, other: object) -> PolynomialLoss:
        if isinstance(other, PolynomialLoss):
            if other.d != self.d:
                raise ReferenceInputError(f"polynomials in {self.d} and {other.d} variables: need "
                                          "the same d")
            return other
        c = other if type(other) is Fraction else _exact("term", other)
        return PolynomialLoss._of({(0,) * self.d: c}, self.d)

    def __add__(self, other: object) -> PolynomialLoss:
        out = dict(self.terms)
        for m, c in self._coerce(other).terms.items():
            out[m] = out.get(m, Fraction(0)) + c
        return PolynomialLoss._of(out, self.d)

    __radd__ = __add__

    def __neg__(self) -> PolynomialLoss:
        return PolynomialLoss._of({m: -c for m, c in self.terms.items()}, self.d)

    def __sub__(self, other: object) -> PolynomialLoss:
        return self + (-self._coerce(other))

    def __rsub__(self, other: object) -> PolynomialLoss:
        return self._coerce(other) + (-self)

    def __mul__(self, other: object) -> PolynomialLoss:
        if not isinstance(other, PolynomialLoss):
            c = other if type(other) is Fraction else _exact("factor", other)
            return PolynomialLoss._of({m: c * v for m, v in self.terms.items()}, self.d)
        out: dict[tuple[int, ...], Fraction] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in self._coerce(other).terms.items():
                m = tuple(a + b for a, b in zip(m1, m2))
                out[m] = out.get(m, Fraction(0)) + c1 * c2
        return PolynomialLoss._of(out, self.d)

    __rmul__ = __mul__

    def partial(self, i: int) -> PolynomialLoss:
        """The polynomial d l / d x_i."""
        out = {}
        for m, c in self.terms.items():
            if m[i]:
                out[m[:i] + (m[i] - 1,) + m[i + 1:]] = c * m[i]
        return PolynomialLoss._of(out, self.d)

    def value(self, x: Any) -> Any:
        """``l(x)`` for a length-d sequence of rationals or :class:`Dual` numbers."""
        total: Any = Fraction(0)
        for m, c in self.terms.items():
            t = c
            for xi, e in zip(x, m):
                if e:
                    t = t * xi ** e
            total = total + t
        return total

    __call__ = value

    def gradient(self, x: Any) -> np.ndarray:
        if self._grad is None:
            self._grad = [self.partial(i) for i in range(self.d)]
        return np.array([p.value(x) for p in self._grad], dtype=object)

    def hessian(self, x: Any) -> np.ndarray:
        if self._grad is None:
            self._grad = [self.partial(i) for i in range(self.d)]
        return np.array([[p.partial(k).value(x) for k in range(self.d)] for p in self._grad],
                        dtype=object)


class RidgeLoss:
    """``l(x) = 1/2 x^T A x + b^T x + c phi(a^T x)``, ``phi'' = clip(t, lo, hi)``, ``phi(0) = 0``.

    Between ``lo`` and ``hi`` (``lo <= 0 <= hi``) ``phi(t) = t^3 / 6``: a cubic ridge; outside, the
    quadratic continuation with ``phi''`` constant, so ``phi`` is C^2 and its Hessian
    ``A + c clip(a^T x) a a^T`` is Lipschitz with constant ``|c| ||a||^3`` and bounded by the
    largest spectral norm of ``A + c s a a^T`` at ``s = lo, hi``. ``A`` must be symmetric.
    The Hessians at two points commute only if ``a`` is an eigenvector of ``A`` (or c = 0).
    """

    def __init__(self, A: Any, b: Any, a: Any, c: Any, lo: Any, hi: Any) -> None:
        self.a = _vector("a", a)
        self.d = d = self.a.shape[0]
        self.A = _matrix("A", A, d)
        if not (self.A == self.A.T).all():
            raise ReferenceInputError("A must be symmetric")
        self.b = _vector("b", b, d)
        self.c, self.lo, self.hi = _exact("c", c), _exact("lo", lo), _exact("hi", hi)
        if not self.lo <= 0 <= self.hi:
            raise ReferenceInputError(f"lo={self.lo}, hi={self.hi}: need lo <= 0 <= hi")

    def _phi(self, t, order: int):
        """phi (order 0), phi' (1), phi'' (2) at t (a rational or a Dual; branches on its value)."""
        lo, hi = self.lo, self.hi
        edge = hi if _real(t) > hi else lo if _real(t) < lo else None
        if edge is None:
            return (t ** 3 * Fraction(1, 6), t ** 2 * Fraction(1, 2), t)[order]
        s = t - edge  # Taylor expansion at the edge, where phi''' jumps to 0
        p0, p1 = edge ** 3 / 6, edge ** 2 / 2
        return (p0 + p1 * s + edge * s ** 2 * Fraction(1, 2), p1 + edge * s, 0 * s + edge)[order]

    def value(self, x: Any) -> Any:
        t = _dot(self.a, x)
        return Fraction(1, 2) * _dot(x, _matvec(self.A, x)) + _dot(self.b, x) + self.c * self._phi(t, 0)

    def gradient(self, x: Any) -> np.ndarray:
        t = _dot(self.a, x)
        s = self.c * self._phi(t, 1)
        return _matvec(self.A, x) + self.b + np.array([s * ai for ai in self.a], dtype=object)

    def hessian(self, x: Any) -> np.ndarray:
        s = self.c * self._phi(_dot(self.a, x), 2)
        return self.A + s * np.outer(self.a, self.a)

    def hessian_lipschitz(self) -> tuple[Fraction, bool]:
        """``(rho, exact)``: ``|c| ||a||^3`` when ``||a||`` is rational (``exact=True``), else the
        rational upper bound ``|c| ||a||^2 r`` with ``r >= ||a||`` (``exact=False``)."""
        sq = _dot(self.a, self.a)
        r = _sqrt_upper(sq)
        return abs(self.c) * sq * r, r * r == sq

    def hessian_extremes(self) -> tuple[np.ndarray, np.ndarray]:
        """The Hessians at ``clip = lo`` and ``clip = hi``: every Hessian is a convex combination."""
        outer = np.outer(self.a, self.a)
        return self.A + self.c * self.lo * outer, self.A + self.c * self.hi * outer


def _sqrt_upper(q: Fraction, bits: int = 64) -> Fraction:
    """The least rational ``r = k / 2^bits >= sqrt(q)``, or ``sqrt(q)`` itself when rational."""
    from math import isqrt

    q = Fraction(q)
    n, d = q.numerator, q.denominator
    rn, rd = isqrt(n), isqrt(d)
    if rn * rn == n and rd * rd == d:
        return Fraction(rn, rd)
    scale = 1 << bits
    k = isqrt(n * scale * scale // d)
    while Fraction(k * k, scale * scale) < q:
        k += 1
    return Fraction(k, scale)


def _losses(name: str, losses, N: int | None) -> list:
    if hasattr(losses, "gradient"):
        if N is None:
            raise ReferenceInputError(f"{name} is one loss: need N")
        return [losses] * N
    losses = list(losses)
    if N is not None and len(losses) != N:
        raise ReferenceInputError(f"{name} has {len(losses)} losses: need N={N}")
    return losses


def _check_N(N) -> int:
    if isinstance(N, bool) or not isinstance(N, int) or N < 1:
        raise ReferenceInputError(f"N={N!r} must be an integer >= 1")
    return N


def inner_path(losses: Any, theta: Any, alpha: Any, N: int | None = None) -> list[np.ndarray]:
    """The exact inner GD path ``w_0 = theta, w_(j+1) = w_j - alpha grad l_j(w_j)`` (eqs. (1), (6),
    (9)): ``losses`` is one loss (then ``N`` steps) or a list of N per-step losses."""
    steps = _losses("losses", losses, None if N is None else _check_N(N))
    alpha = _exact("alpha", alpha)
    w = [_vector("theta", theta, steps[0].d if steps else None)]
    for loss in steps:
        w.append(w[-1] - alpha * loss.gradient(w[-1]))
    return w


def meta_gradient_unrolled(trn: Any, val: Any, theta: Any, alpha: Any, N: int) -> np.ndarray:
    """``grad_theta val(w_N(theta))`` by exact forward-mode differentiation of the unrolled loop.

    One pass per coordinate: theta + eps e_k is pushed through the N steps as dual numbers, and
    the eps-part of ``val`` at the end is the k-th component. No Hessian and no matrix product.
    """
    N, alpha = _check_N(N), _exact("alpha", alpha)
    theta = _vector("theta", theta, trn.d)
    out = []
    for k in range(trn.d):
        w = np.array([Dual(t, int(i == k)) for i, t in enumerate(theta)], dtype=object)
        for _ in range(N):
            w = w - np.array([alpha * gi for gi in trn.gradient(w)], dtype=object)
        v = val.value(w)
        out.append(Fraction(v.du) if isinstance(v, Dual) else Fraction(0))
    return np.array(out, dtype=object)


def meta_gradient_product(trn: Any, val: Any, theta: Any, alpha: Any, N: int, *,
                          order: str = "increasing") -> np.ndarray:
    """Eq. (3)/(10): ``prod_j (I - alpha H(w_j)) grad val(w_N)`` with exact Hessians of ``trn``.

    ``order="increasing"``: ``(I - aH(w_0)) (I - aH(w_1)) ... (I - aH(w_(N-1))) g`` (the factor of
    the last step next to g); ``"decreasing"``: the reverse product ``(I - aH(w_(N-1))) ... g``.
    """
    if order not in ("increasing", "decreasing"):
        raise ReferenceInputError(f"order={order!r} must be 'increasing' or 'decreasing'")
    w = inner_path(trn, theta, alpha, N)
    alpha = Fraction(alpha)
    eye = np.eye(trn.d, dtype=int).astype(object)
    factors = [eye - alpha * trn.hessian(w[j]) for j in range(N)]
    if order == "decreasing":
        factors = factors[::-1]
    M = eye
    for F in factors:  # M = F_0 F_1 ... F_(N-1), then applied to g
        M = M.dot(F)
    return M.dot(val.gradient(w[N]))


def resampling_meta_gradient(inner_losses: Any, hessian_losses: Any, query_loss: Any, theta: Any,
                             alpha: Any) -> np.ndarray:
    """Eq. (7): ``prod_(j=0)^(N-1) (I - alpha hess l(w_j; D_j)) grad l(w_N; T)`` (increasing j),
    where ``w_(j+1) = w_j - alpha grad l(w_j; S_j)``: N inner losses S_j, N Hessian losses D_j,
    the query loss T. With every S_j = D_j = S it is eq. (12), the finite-sum meta-gradient."""
    inner = _losses("inner_losses", inner_losses, None)
    if not inner:
        raise ReferenceInputError("inner_losses is empty: need N >= 1 losses")
    hess = _losses("hessian_losses", hessian_losses, len(inner))
    w = inner_path(inner, theta, alpha)
    alpha = Fraction(alpha)
    v = query_loss.gradient(w[-1])
    for j in reversed(range(len(inner))):
        v = v - alpha * hess[j].hessian(w[j]).dot(v)
    return v


def meta_gradient_symbolic(trn: PolynomialLoss, val: PolynomialLoss, theta: Any, alpha: Any,
                           N: int) -> np.ndarray:
    """``grad_theta val(w_N(theta))`` by SymPy: the N steps composed symbolically, differentiated,
    and evaluated at ``theta`` (polynomial losses; the degree grows like 2^N, so keep N small)."""
    import sympy

    N, alpha = _check_N(N), sympy.Rational(str(_exact("alpha", alpha)))
    theta = _vector("theta", theta, trn.d)
    xs = sympy.symbols(f"x0:{trn.d}")

    def expr(poly: PolynomialLoss, args):
        return sympy.Add(*[sympy.Rational(c.numerator, c.denominator) * sympy.Mul(
            *[a ** e for a, e in zip(args, m)]) for m, c in poly.terms.items()])

    l_trn = expr(trn, xs)
    grads = [sympy.diff(l_trn, x) for x in xs]
    w = list(xs)
    for _ in range(N):
        sub = dict(zip(xs, w))
        w = [sympy.expand(wi - alpha * gi.xreplace(sub)) for wi, gi in zip(w, grads)]
    total = expr(val, w)
    point = {x: sympy.Rational(t.numerator, t.denominator) for x, t in zip(xs, theta)}
    out = [sympy.diff(total, x).xreplace(point) for x in xs]
    return np.array([Fraction(int(v.p), int(v.q)) for v in out], dtype=object)
