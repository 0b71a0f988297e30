"""Extreme eigenvalues of the Hessians H^0..H^{K-1} of a trajectory, by Lanczos on its HVPs.

The bounds of Theorems 3.6, 3.8 and 3.10 depend on the Hessians only through their spectra at the
visited points phi^0..phi^{K-1} (Assumption 3.5 enters as ``||H^k|| <= H``, 3.7 as ``H^k >= 0``,
3.9 as ``H^k >= h I`` for the last M steps). So the constants measured along a trajectory are the
ones the bounds need for that trajectory:

* :func:`step_spectra` -- per step, the smallest and largest eigenvalue of ``H^k`` (two Lanczos
  runs each), hence ``H = max_k max |lambda|``, ``h(M)`` over the last M steps when positive, and
  whether Assumptions 3.7 / 3.9 hold along the trajectory;
* :func:`extreme_eigenvalue` / :func:`spectral_norm` -- one Lanczos run on the block-diagonal
  operator ``diag(H^k, k in steps)``, whose extremes are the extremes over those steps (one batched
  ``traj.hvp`` per product: the cheap way to get H alone).

Lanczos is ``scipy.sparse.linalg.eigsh`` (ARPACK, implicitly restarted, stopping at relative
residual :data:`TOL` = 1e-8) over a ``LinearOperator`` built from ``traj.hvp(ks, V)``, started from
a seeded random vector. **Accuracy.** Every value returned is the Rayleigh quotient
``theta = y^T A y`` of a unit Ritz vector y, recomputed with one more HVP, with its residual
``r = ||A y - theta y||``. For a symmetric A this certifies (up to the rounding of the HVPs) that
``lambda_min <= theta <= lambda_max`` and that some eigenvalue of A lies within ``r`` of theta;
moreover the error of a Rayleigh quotient is quadratic in r (at most ``r^2 / delta``, delta the
distance from theta to the other eigenvalues; Kato-Temple), so ``tol`` = 1e-8 gives eigenvalues
to about machine precision when the extreme eigenvalue is not clustered (tested against dense
eigenvalues to 1e-10 relative). A Lanczos run from a random start misses the
extreme eigenvalue only when the start is orthogonal to its eigenvector, which has probability
zero. Operators of size below :data:`DENSE_BELOW` are solved densely instead (their
columns by HVPs, then ``numpy.linalg.eigh``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.sparse.linalg import LinearOperator

    from estimators import Trajectory

__all__ = ["ASSUMPTION_RTOL", "DENSE_BELOW", "TOL", "Ritz", "StepSpectra", "extreme_eigenvalue",
           "hessian_operator", "spectral_norm", "step_spectra"]

#: ARPACK's relative residual tolerance (0 would be machine precision, at about 1.5x the HVPs)
TOL = 1e-8
#: operators smaller than this are solved densely (ARPACK needs a few more dimensions than vectors)
DENSE_BELOW = 8
#: an eigenvalue within this fraction of H of 0 counts as 0 when deciding Assumptions 3.7 / 3.9
#: along a trajectory (round-off of the HVPs, e.g. the exact zeros of a rank-deficient PSD Hessian)
ASSUMPTION_RTOL = 1e-10
_WHICH = ("LA", "SA", "LM")


@dataclass(frozen=True)
class Ritz:
    """An eigenvalue estimate: the Rayleigh quotient ``value`` of a unit vector y and the residual
    ``||A y - value y||`` (some eigenvalue lies within ``residual`` of ``value``)."""

    value: float
    residual: float


def _steps(traj, steps) -> list[int]:
    steps = list(range(traj.K)) if steps is None else [int(k) for k in steps]
    if not steps or any(not 0 <= k < traj.K for k in steps):
        raise ValueError(f"steps={steps!r} must be a non-empty list of step indices in 0..K-1 = "
                         f"0..{traj.K - 1}")
    return steps


def hessian_operator(traj: Trajectory, steps: Sequence[int] | None = None) -> LinearOperator:
    """``diag(H^k for k in steps)`` as a float64 ``scipy.sparse.linalg.LinearOperator`` on
    vectors of length ``len(steps) * d``; each product is one batched ``traj.hvp(steps, V)``."""
    import torch
    from scipy.sparse.linalg import LinearOperator

    steps = _steps(traj, steps)
    n, d = len(steps), traj.d

    def matvec(v):
        V = torch.as_tensor(np.asarray(v, dtype=np.float64).reshape(n, d).copy())
        out = traj.hvp(steps, V.to(device=traj.g.device, dtype=traj.g.dtype))
        return out.detach().to(device="cpu", dtype=torch.float64).numpy().reshape(-1)

    return LinearOperator((n * d, n * d), matvec=matvec, rmatvec=matvec, dtype=np.float64)


def _rayleigh(A, y) -> Ritz:
    y = y / np.linalg.norm(y)
    Ay = A.matvec(y)
    theta = float(y @ Ay)
    return Ritz(theta, float(np.linalg.norm(Ay - theta * y)))


def extreme_eigenvalue(traj: Trajectory, which: str, steps: Sequence[int] | None = None, *, tol: float = TOL,
                       seed: int = 0) -> Ritz:
    """The largest ("LA"), smallest ("SA") or largest-magnitude ("LM") eigenvalue of
    ``diag(H^k, k in steps)`` (default all steps): the extreme over those Hessians.

    ``tol`` is ARPACK's relative tolerance (0: machine precision); ``seed`` fixes the start vector.
    Raises ``RuntimeError`` when Lanczos does not converge, and ``ValueError`` for non-finite HVPs.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    if which not in _WHICH:
        raise ValueError(f"which={which!r} is not one of {', '.join(_WHICH)}")
    A = hessian_operator(traj, steps)
    n = A.shape[0]
    if n < DENSE_BELOW:
        dense = np.column_stack([A.matvec(e) for e in np.eye(n)])
        w, V = np.linalg.eigh((dense + dense.T) / 2)
        index = {"LA": -1, "SA": 0, "LM": int(np.argmax(np.abs(w)))}[which]
        y = V[:, index]
    else:
        v0 = np.random.default_rng(seed).standard_normal(n)
        try:
            _, V = eigsh(A, k=1, which=which, tol=tol, v0=v0)
        except ArpackNoConvergence:
            raise RuntimeError(f"Lanczos (eigsh, which={which!r}, tol={tol}) did not converge on the "
                               f"Hessians of steps {_steps(traj, steps)}") from None
        y = V[:, 0]
    ritz = _rayleigh(A, y)
    if not np.isfinite([ritz.value, ritz.residual]).all():
        raise ValueError(f"the HVPs of steps {_steps(traj, steps)} are not finite")
    return ritz


def spectral_norm(traj: Trajectory, steps: Sequence[int] | None = None, *, tol: float = TOL,
                  seed: int = 0) -> float:
    """``max_k ||H^k||_2`` over ``steps`` (default all): one Lanczos run on the block operator."""
    return abs(extreme_eigenvalue(traj, "LM", steps, tol=tol, seed=seed).value)


@dataclass(frozen=True)
class StepSpectra:
    """Per-step extreme eigenvalues of H^0..H^{K-1} (:class:`Ritz` each)."""

    lam_min: tuple[Ritz, ...]
    lam_max: tuple[Ritz, ...]

    @property
    def K(self) -> int:
        return len(self.lam_min)

    @property
    def H(self) -> float:
        """``max_k max(|lambda_min(H^k)|, |lambda_max(H^k)|)``: the H of Assumption 3.5 here."""
        return max(max(abs(a.value), abs(b.value)) for a, b in zip(self.lam_min, self.lam_max))

    @property
    def residual(self) -> float:
        """The largest residual of all the estimates."""
        return max(r.residual for r in self.lam_min + self.lam_max)

    def _zero(self) -> float:
        return ASSUMPTION_RTOL * self.H

    @property
    def convex(self) -> bool:
        """Assumption 3.7 along the trajectory: every ``lambda_min(H^k) >= 0`` (to ASSUMPTION_RTOL H)."""
        return all(r.value >= -self._zero() for r in self.lam_min)

    def h(self, M: int) -> float | None:
        """``min_{k >= K-M} lambda_min(H^k)`` when it is positive (Assumption 3.9 with this M holds
        along the trajectory), else None."""
        if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or not 1 <= M <= self.K:
            raise ValueError(f"M={M!r} must be an integer in 1..K = 1..{self.K}")
        h = min(r.value for r in self.lam_min[self.K - M:])
        return h if h > self._zero() else None

    def to_json(self) -> dict:
        return {"lambda_min": [r.value for r in self.lam_min], "lambda_max": [r.value for r in self.lam_max],
                "residual_min": [r.residual for r in self.lam_min],
                "residual_max": [r.residual for r in self.lam_max]}


def step_spectra(traj: Trajectory, *, tol: float = TOL, seed: int = 0) -> StepSpectra:
    """The smallest and largest eigenvalue of every H^k, k = 0..K-1, by Lanczos (see the module
    docstring for the accuracy)."""
    lam_min, lam_max = [], []
    for k in range(traj.K):
        lam_min.append(extreme_eigenvalue(traj, "SA", [k], tol=tol, seed=seed + k))
        lam_max.append(extreme_eigenvalue(traj, "LA", [k], tol=tol, seed=seed + k))
    return StepSpectra(tuple(lam_min), tuple(lam_max))
