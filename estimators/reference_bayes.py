"""Exact reference for iBaML (Zhang, Li, Gao, Giannakis, AAAI 2023) on its linear-Gaussian model.

The yardstick for :mod:`estimators.bayesian`. NumPy and :mod:`fractions` only (importable without
torch), and it shares no code with the estimators: gradients are written out by hand or taken by
exact forward-mode differentiation (:class:`Dual`), linear systems are solved by Gaussian
elimination over the rationals.

The model is iBaML's eq. (19): ``y^n = <theta_t, x^n> + e^n`` with white Gaussian noise of
variance ``sigma2``; the prior is ``N(m, diag(d))`` and the surrogate posterior
``q(theta_t; v) = N(m_t, diag(d_t))``, with ``theta = [m; d]`` and ``v = [m_t; d_t]`` (length 2d).
Inputs are stored as the paper writes them: ``X`` is d x N (one column per sample).

* ``L^tr(v) = E_q[-log p(y^tr | theta_t)] = (|y - X^T m_t|^2 + sum_i d_t,i [X X^T]_ii) / (2 sigma2)``
  (constants dropped);
* ``L^val(v, theta) = E_q[-log p(y^val | theta_t)] + kappa KL(q(.; v) || p(.; theta))`` -- a
  validation loss that depends on theta directly when ``kappa != 0`` (the nabla_2 term of (9));
* the inner objective is ``KL(q || posterior) = L^tr(v) + KL(q(.; v) || p(.; theta)) + const``
  (problem (5)); GD on it is ``v <- v - alpha grad_v``.

Everything is rational in (theta, v), so every quantity here is exact: the VI optimum (eq. (20a)
and (20b) *as corrected*: ``d*_i = 1 / ([X X^T]_ii / sigma2 + 1/d_i)``, docs/related/ibaml.md), the
oracle meta-gradient ``grad_theta L^val(v*(theta), theta)`` (eq. (21)), the explicit K-step
meta-gradient (eq. (9) with the unrolled Jacobian) and the generalized implicit gradient
(eqs. (14)/(17)). Exact inputs are Fractions (ints mix in; floats convert exactly).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["Dual", "LinearGaussian", "ReferenceBayesError", "conjugate_gradient", "eq11_G", "forward_derivatives",
           "gd_iterates", "kl", "kl_gradient", "lemma1_H", "solve"]


class ReferenceBayesError(ValueError):
    """Bad input to the iBaML reference (names the argument and the condition it breaks)."""


# --------------------------------------------------------------------------------------------
# exact forward-mode differentiation


class Dual:
    """``re + du * eps`` with ``eps^2 = 0``: exact forward-mode derivatives over the rationals.

    ``log`` is differentiated exactly (``du / re``) although its value is irrational: the value
    is dropped (``re = None``), and any later use of a dropped value that would change a
    derivative raises (a loss may add logarithms, never multiply them by non-constants).
    """

    __slots__ = ("du", "re")

    def __init__(self, re: Any, du: Any = 0) -> None:
        self.re, self.du = re, du

    @staticmethod
    def lift(x) -> Dual:
        return x if isinstance(x, Dual) else Dual(x, 0)

    @staticmethod
    def _times(value, du):
        """value * du where value may be a dropped (None) value: fine only if du == 0."""
        if value is None:
            if du != 0:
                raise ReferenceBayesError("a logarithm's value was used in a product: its "
                                          "derivative would not be exact")
            return 0
        return value * du

    def __add__(self, other):
        o = Dual.lift(other)
        return Dual(None if self.re is None or o.re is None else self.re + o.re, self.du + o.du)

    __radd__ = __add__

    def __neg__(self):
        return Dual(None if self.re is None else -self.re, -self.du)

    def __sub__(self, other):
        return self + (-Dual.lift(other))

    def __rsub__(self, other):
        return Dual.lift(other) + (-self)

    def __mul__(self, other):
        o = Dual.lift(other)
        re = None if self.re is None or o.re is None else self.re * o.re
        return Dual(re, Dual._times(self.re, o.du) + Dual._times(o.re, self.du))

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = Dual.lift(other)
        if o.re is None or o.re == 0:
            raise ReferenceBayesError("division by zero (or by a logarithm) in the reference")
        inv = Dual(Fraction(1) / o.re, -Fraction(o.du) / (o.re * o.re))
        return self * inv

    def __rtruediv__(self, other):
        return Dual.lift(other) / self

    def __pow__(self, n: int):
        if not isinstance(n, int) or n < 0:
            raise ReferenceBayesError(f"Dual ** {n!r}: only non-negative integer powers")
        out = Dual(1, 0)
        for _ in range(n):
            out = out * self
        return out

    def log(self) -> Dual:
        if self.re is None or self.re <= 0:
            raise ReferenceBayesError(f"log of {self.re!r}: needs a positive value")
        return Dual(None, self.du / self.re)

    def __repr__(self):
        return f"Dual({self.re!r}, {self.du!r})"


def _value(x):
    return x.re if isinstance(x, Dual) else x


def _derivative(x):
    return x.du if isinstance(x, Dual) else 0


# --------------------------------------------------------------------------------------------
# exact linear algebra (any field: Fractions or Duals)


def solve(A: Any, b: Any) -> list:
    """The solution x of ``A x = b`` by Gaussian elimination with exact pivoting (nonzero pivot).

    ``A`` is n x n and ``b`` length n, entries Fractions or Duals; a singular ``A`` raises.
    """
    n = len(b)
    M = [[A[i][j] for j in range(n)] + [b[i]] for i in range(n)]
    for c in range(n):
        pivot = next((r for r in range(c, n) if _value(M[r][c]) != 0), None)
        if pivot is None:
            raise ReferenceBayesError("the linear system is singular (exactly)")
        M[c], M[pivot] = M[pivot], M[c]
        for r in range(n):
            if r != c and _value(M[r][c]) != 0:
                f = M[r][c] / M[c][c]
                M[r] = [x - f * y for x, y in zip(M[r], M[c])]
    return [M[i][n] / M[i][i] for i in range(n)]


def conjugate_gradient(A: Any, b: Any, steps: int) -> list:
    """``steps`` plain CG iterations for ``A u = b`` from u = 0, exactly (stops at a zero residual).

    u += a p, r -= a A p with a = r.r / p.A p; p = r + (r'.r' / r.r) p. A zero curvature p.A p
    raises (CG breaks down; A is not positive definite).
    """
    n = len(b)
    u, r = [Fraction(0)] * n, [Fraction(x) for x in b]
    p = list(r)
    rr = sum((x * x for x in r), Fraction(0))
    for _ in range(steps):
        if rr == 0:
            break
        Ap = [sum((A[i][j] * p[j] for j in range(n)), Fraction(0)) for i in range(n)]
        pAp = sum((x * y for x, y in zip(p, Ap)), Fraction(0))
        if pAp == 0:
            raise ReferenceBayesError("CG broke down: p.A p = 0 (A is not positive definite)")
        a = rr / pAp
        u = [x + a * y for x, y in zip(u, p)]
        r = [x - a * y for x, y in zip(r, Ap)]
        rr_new = sum((x * x for x in r), Fraction(0))
        p = [x + (rr_new / rr) * y for x, y in zip(r, p)]
        rr = rr_new
    return u


def _fraction(name, x):
    if isinstance(x, bool):
        raise ReferenceBayesError(f"{name}={x!r} must be a number")
    if isinstance(x, (Fraction, int, np.integer)):
        return Fraction(int(x)) if isinstance(x, np.integer) else Fraction(x)
    if isinstance(x, numbers.Rational):
        return Fraction(int(x.numerator), int(x.denominator))
    if hasattr(x, "p") and hasattr(x, "q"):  # a SymPy Rational
        return Fraction(int(x.p), int(x.q))
    if isinstance(x, numbers.Real) and np.isfinite(float(x)):
        return Fraction(float(x))
    raise ReferenceBayesError(f"{name}={x!r} must be a finite real number")


def _vector(name, x, n=None) -> list:
    arr = np.asarray(x, dtype=object)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise ReferenceBayesError(f"{name} has shape {arr.shape}: need ({n if n else 'n'},)")
    return [_fraction(f"{name}[{i}]", v) for i, v in enumerate(arr)]


def _matrix(name, x) -> list:
    arr = np.asarray(x, dtype=object)
    if arr.ndim != 2:
        raise ReferenceBayesError(f"{name} has shape {arr.shape}: need d x N")
    return [[_fraction(f"{name}[{i},{j}]", v) for j, v in enumerate(row)] for i, row in enumerate(arr)]


# --------------------------------------------------------------------------------------------
# Lemma 1's matrices, for any model


def lemma1_H(theta: Any, g_tr: Any, hessian: Any) -> list:
    """H_t(v) of Lemma 1: ``grad^2 L^tr(v) + blockdiag(D^{-1}, (D^{-1} + 2 diag(grad_d L^tr(v)))^2 / 2)``.

    ``theta = [m; d]``, ``g_tr = grad L^tr(v)`` (length 2d), ``hessian = grad^2 L^tr(v)`` (2d x 2d).
    """
    d = len(theta) // 2
    H = [list(row) for row in hessian]
    for i in range(d):
        H[i][i] += 1 / Fraction(theta[d + i])
        H[d + i][d + i] += (1 / Fraction(theta[d + i]) + 2 * g_tr[d + i]) ** 2 / 2
    return H


def eq11_G(theta: Any, g_tr: Any) -> list:
    """G_t(v) of eq. (11): ``[[D^{-1}, 0], [-diag(grad_m L^tr(v)) D^{-1}, D^{-2} / 2]]``."""
    d = len(theta) // 2
    G = [[Fraction(0)] * (2 * d) for _ in range(2 * d)]
    for i in range(d):
        G[i][i] = 1 / Fraction(theta[d + i])
        G[d + i][i] = -g_tr[i] / theta[d + i]
        G[d + i][d + i] = 1 / (2 * Fraction(theta[d + i]) ** 2)
    return G


def kl(v: Any, theta: Any) -> Dual:
    """KL(N(m_t, diag d_t) || N(m, diag d)) as a :class:`Dual`: exact derivative, value dropped
    (``re = None``: it has logarithms). ``v = [m_t; d_t]``, ``theta = [m; d]``."""
    d = len(v) // 2
    m_t, d_t, m, dv = v[:d], v[d:], theta[:d], theta[d:]
    total = Dual(0)
    for i in range(d):
        total = total + (d_t[i] / dv[i] + (m_t[i] - m[i]) ** 2 / dv[i] - 1) / 2
        total = total + (Dual.lift(dv[i]).log() - Dual.lift(d_t[i]).log()) / 2
    return total


def kl_gradient(v: Any, theta: Any) -> list:
    """grad_v KL(q(.; v) || p(.; theta)) = [(m_t - m) / d ; (1/d - 1/d_t) / 2] (any field)."""
    d = len(v) // 2
    return ([(v[i] - theta[i]) / theta[d + i] for i in range(d)]
            + [(Fraction(1) / theta[d + i] - Fraction(1) / v[d + i]) / 2 for i in range(d)])


def gd_iterates(train_gradient: Any, theta: Any, alpha: Any, K: int, v0: Any) -> list:
    """``v^0..v^K`` of GD on problem (5): ``v <- v - alpha (grad L^tr(v) + grad_v KL(q_v || p_theta))``.

    ``train_gradient(v)`` is grad L^tr (any field); a step that makes a variance <= 0 raises.
    """
    d = len(theta) // 2
    v, out = list(v0), [list(v0)]
    for k in range(K):
        g = [a + b for a, b in zip(train_gradient(v), kl_gradient(v, theta))]
        v = [a - alpha * b for a, b in zip(v, g)]
        bad = [i for i in range(d, 2 * d) if _value(v[i]) <= 0]
        if bad:
            raise ReferenceBayesError(f"GD step {k + 1} made the variance d_t[{bad[0] - d}] = "
                                      f"{_value(v[bad[0]])} <= 0: need a smaller alpha")
        out.append(v)
    return out


def forward_derivatives(fn: Any, x: Any) -> list:
    """``[d fn(x + t e_j) / dt at t = 0 for each j]`` by exact forward mode (:class:`Dual`).

    ``fn`` maps a list to a number or to a list; the result is a list (of numbers or of lists).
    """
    out = []
    for j in range(len(x)):
        y = fn([Dual(a, 1 if i == j else 0) for i, a in enumerate(x)])
        out.append([_derivative(z) for z in y] if isinstance(y, list) else _derivative(y))
    return out


# --------------------------------------------------------------------------------------------
# the linear-Gaussian model, eq. (19)


@dataclass(frozen=True)
class LinearGaussian:
    """One task of eq. (19): training data (X, y), validation data (X_val, y_val), noise sigma2,
    and the weight ``kappa`` of the KL term in the validation loss (module docstring).

    Build with :meth:`create` (exact conversion and checks). ``theta`` and ``v`` are length-2d
    sequences ``[m; d]`` and ``[m_t; d_t]``; every method returns lists of exact numbers.
    """

    X: list
    y: list
    X_val: list
    y_val: list
    sigma2: Fraction
    kappa: Fraction

    @classmethod
    def create(cls, X, y, X_val, y_val, sigma2, kappa=0) -> LinearGaussian:
        X, X_val = _matrix("X", X), _matrix("X_val", X_val)
        d = len(X)
        if d == 0 or len(X_val) != d:
            raise ReferenceBayesError(f"X has {len(X)} rows and X_val {len(X_val)}: need the same "
                                      "d >= 1 (one row per parameter)")
        y = _vector("y", y, len(X[0]))
        y_val = _vector("y_val", y_val, len(X_val[0]))
        sigma2 = _fraction("sigma2", sigma2)
        if sigma2 <= 0:
            raise ReferenceBayesError(f"sigma2={sigma2} must be > 0")
        return cls(X, y, X_val, y_val, sigma2, _fraction("kappa", kappa))

    @property
    def d(self) -> int:
        return len(self.X)

    # -- pieces ---------------------------------------------------------------------------------

    @staticmethod
    def _gram(X) -> list:
        return [[sum((a * b for a, b in zip(ri, rj)), Fraction(0)) for rj in X] for ri in X]

    @staticmethod
    def _expected_nll(X, y, sigma2, m_t, d_t):
        """E_q |y - X^T theta_t|^2 / (2 sigma2) = (|y - X^T m_t|^2 + sum_i d_t,i |X_i.|^2) / (2 sigma2)."""
        d, N = len(X), len(y)
        residual = sum(((y[n] - sum((X[i][n] * m_t[i] for i in range(d)), 0)) ** 2 for n in range(N)), 0)
        spread = sum((d_t[i] * sum((x * x for x in X[i]), Fraction(0)) for i in range(d)), 0)
        return (residual + spread) / (2 * sigma2)

    def val_loss(self, v: Any, theta: Any) -> Any:
        """L^val(v, theta) (module docstring); with Dual inputs its derivative is exact (with
        ``kappa != 0`` the value is dropped, ``re = None``: it has logarithms)."""
        d = self.d
        nll = self._expected_nll(self.X_val, self.y_val, self.sigma2, v[:d], v[d:])
        return nll + self.kappa * kl(v, theta) if self.kappa else nll

    def train_gradient(self, v: Any) -> list:
        """grad L^tr(v) = [(X X^T m_t - X y) / sigma2 ; diag(X X^T) / (2 sigma2)] (by hand)."""
        d, G = self.d, self._gram(self.X)
        Xy = [sum((a * b for a, b in zip(self.X[i], self.y)), Fraction(0)) for i in range(d)]
        gm = [(sum((G[i][j] * v[j] for j in range(d)), 0) - Xy[i]) / self.sigma2 for i in range(d)]
        return gm + [G[i][i] / (2 * self.sigma2) for i in range(d)]

    def train_hessian(self) -> list:
        """Hessian of L^tr: [[X X^T / sigma2, 0], [0, 0]] (constant: L^tr is quadratic in m_t, linear in d_t)."""
        d, G = self.d, self._gram(self.X)
        return [[(G[i][j] / self.sigma2 if i < d and j < d else Fraction(0)) for j in range(2 * d)]
                for i in range(2 * d)]

    # -- the inner level -----------------------------------------------------------------------

    def inner_loop(self, theta: Any, alpha: Any, K: int, v0: Any = None) -> list:
        """The K + 1 GD iterates ``v^0..v^K`` on problem (5); ``v^0 = theta`` unless given."""
        theta = self._theta(theta)
        alpha = _fraction("alpha", alpha)
        if alpha <= 0 or not isinstance(K, int) or K < 1:
            raise ReferenceBayesError(f"alpha={alpha}, K={K!r}: need alpha > 0 and an integer K >= 1")
        return gd_iterates(self.train_gradient, theta, alpha, K, theta if v0 is None else self._v("v0", v0))

    def vi_optimum(self, theta: Any) -> list:
        """v* = [m*; d*]: eq. (20a), and eq. (20b) as corrected (``1/sigma2``, not ``1/(2 sigma2)``).

        m* solves (X X^T / sigma2 + D^{-1}) m* = D^{-1} m + X y / sigma2; d*_i = 1/([X X^T]_ii/sigma2 + 1/d_i).
        """
        theta = self._theta(theta) if not any(isinstance(t, Dual) for t in theta) else list(theta)
        d, m, dv = self.d, theta[:self.d], theta[self.d:]
        Xy = [sum((a * b for a, b in zip(self.X[i], self.y)), Fraction(0)) for i in range(d)]
        A = self._precision(dv)
        m_star = solve(A, [m[i] / dv[i] + Xy[i] / self.sigma2 for i in range(d)])
        return m_star + [1 / A[i][i] for i in range(d)]

    def posterior_precision(self, theta: Any) -> list:
        """The exact posterior's precision ``X X^T / sigma2 + D^{-1}`` (Bayes' rule for eq. (19));
        the posterior is N(m*, its inverse). d*_i of :meth:`vi_optimum` is 1 / its i-th diagonal entry."""
        return self._precision(self._theta(theta)[self.d:])

    def _precision(self, dv) -> list:
        G = self._gram(self.X)
        return [[G[i][j] / self.sigma2 + (1 / dv[i] if i == j else 0) for j in range(self.d)]
                for i in range(self.d)]

    # -- meta-gradients --------------------------------------------------------------------------

    def oracle_meta_gradient(self, theta: Any) -> list:
        """grad_theta L^val(v*(theta), theta): eq. (21)'s left side, differentiating the closed form."""
        return forward_derivatives(lambda t: self.val_loss(self.vi_optimum(t), t), self._theta(theta))

    def _unrolled(self, theta, alpha, K, v0):
        """theta -> v^K(theta) (v^0 = theta unless ``v0`` is given), after checking the inputs."""
        theta, alpha = self._theta(theta), _fraction("alpha", alpha)
        self.inner_loop(theta, alpha, K, v0)  # checks K, alpha and that every step stays valid
        start = None if v0 is None else self._v("v0", v0)
        return theta, lambda t: gd_iterates(self.train_gradient, t, alpha, K, t if start is None else start)[-1]

    def explicit_meta_gradient(self, theta: Any, alpha: Any, K: int, v0: Any = None) -> list:
        """grad_theta L^val(v^K(theta), theta) through the K GD steps (eq. (9), v^0 = theta unless
        a fixed ``v0`` is given)."""
        theta, inner = self._unrolled(theta, alpha, K, v0)
        return forward_derivatives(lambda t: self.val_loss(inner(t), t), theta)

    def inner_jacobian(self, theta: Any, alpha: Any, K: int, v0: Any = None) -> list:
        """nabla A_hat(theta): row j is d v^K / d theta_j (the transposed Jacobian, eq. (7)'s convention)."""
        theta, inner = self._unrolled(theta, alpha, K, v0)
        return forward_derivatives(inner, theta)

    def val_gradients(self, v: Any, theta: Any) -> tuple[list, list]:
        """(nabla_1 L^val(v, theta), nabla_2 L^val(v, theta)) by exact forward mode."""
        v, theta = self._v("v", v), self._theta(theta)
        n = len(v)
        both = forward_derivatives(lambda x: self.val_loss(x[:n], x[n:]), v + theta)
        return both[:n], both[n:]

    def H_matrix(self, theta: Any, v: Any) -> list:
        """H_t(v) of Lemma 1 for this model (:func:`lemma1_H`)."""
        theta, v = self._theta(theta), self._v("v", v)
        return lemma1_H(theta, self.train_gradient(v), self.train_hessian())

    def G_matrix(self, theta: Any, v: Any) -> list:
        """G_t(v) of eq. (11) for this model (:func:`eq11_G`)."""
        theta, v = self._theta(theta), self._v("v", v)
        return eq11_G(theta, self.train_gradient(v))

    def implicit_meta_gradient(self, theta: Any, v_hat: Any, u: Any = None,
                               steps: int | None = None) -> list:
        """The generalized implicit gradient: G(v_hat) u + nabla_2 L^val(v_hat, theta), eq. (17).

        ``u`` is given, or ``steps`` exact CG iterations on H(v_hat) u = nabla_1 L^val(v_hat, theta)
        (Algorithm 1 line 7), or else the exact solution (eq. (14))."""
        theta, v_hat = self._theta(theta), self._v("v_hat", v_hat)
        b, c = self.val_gradients(v_hat, theta)
        if u is not None:
            u = self._v("u", u, positive=False)
        elif steps is not None:
            u = conjugate_gradient(self.H_matrix(theta, v_hat), b, steps)
        else:
            u = solve(self.H_matrix(theta, v_hat), b)
        G = self.G_matrix(theta, v_hat)
        return [sum((G[i][j] * u[j] for j in range(len(u))), Fraction(0)) + c[i] for i in range(len(u))]

    # -- checks ---------------------------------------------------------------------------------

    def _v(self, name, v, positive=True) -> list:
        v = _vector(name, v, 2 * self.d)
        if positive and any(x <= 0 for x in v[self.d:]):
            raise ReferenceBayesError(f"{name} has a variance <= 0 in its second half: need d_t > 0")
        return v

    def _theta(self, theta) -> list:
        return self._v("theta", theta)
