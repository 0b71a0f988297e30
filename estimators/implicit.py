"""iMAML's implicit meta-gradient (Rajeswaran et al., 2019): exact, and by conjugate gradient.

The implicit meta-gradient is (I + H/lam)^{-1} g, with H the training-loss Hessian at the final
point phi^K and g the test-loss gradient there (iMAML eq. (6) and Lemma 1, at the approximate
inner solution phi^K as in iMAML Algorithm 2; Section 2.2 of the BinomGBML paper). It is the
meta-gradient of the regularised problem (4) when G(., theta) = L^(.) + lam/2 ||. - theta||^2 is
strongly convex, i.e. when A = I + H/lam is positive definite.

* :func:`imaml_exact` -- a dense solve: H built from d HVPs, Cholesky of A; refuses an A that is
  not positive definite;
* :func:`imaml_cg` -- conjugate gradient on A x = g with the diagnostics of :class:`CGResult`:
  iteration count, residual history, curvature along every search direction (detecting an A that
  is not positive definite), a recomputed final residual and, given the strong convexity ``mu``
  of G at phi^K, the a-posteriori error bound ||x - x*|| <= (lam / mu) ||g - A x||;
* :func:`imaml` -- the bare CG iterate (what ``meta_gradient(..., "imaml")`` uses).

Zero iterations. iMAML Appendix A: first-order MAML is iMAML with 0 CG steps. That holds for
CG started at x0 = g (the default here): 0 steps return g, the FOMAML estimate. From x0 = 0,
0 steps return the zero vector, which estimates nothing: :func:`imaml_cg` refuses it, while
:func:`imaml` returns x0 after 0 steps as documented (the reference ``imaml_cg`` does the same).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .errors import EstimatorInputError, check_int, check_positive, finite_result
from .trajectory import Trajectory

__all__ = ["CGResult", "conjugate_gradient", "imaml", "imaml_cg", "imaml_exact"]


@dataclass(frozen=True)
class CGResult:
    """Conjugate gradient on A x = b with its diagnostics (:func:`conjugate_gradient`; for iMAML
    A = I + H^K/lam and b = g, :func:`imaml_cg`; for iBaML A = H_t(v_hat), ``estimators.bayesian``).

    ``x``: the estimate; ``iterations``: CG steps taken; ``residual_norms``: ||r_k|| of the
    recursively updated residual, k = 0..iterations; ``curvatures``: p_k.A p_k / p_k.p_k for the
    search direction of every step (Rayleigh quotients of A: all lie in its spectrum's hull, so a
    value <= 0 proves A is not positive definite); ``converged``: the residual reached
    ``rtol ||b||`` (or exactly 0); ``final_residual_norm``: ||b - A x|| recomputed with one more
    HVP (the recursion drifts from it in floating point); ``error_bound``: that divided by a lower
    bound on A's spectrum, a bound on ||x - A^{-1} b|| (for iMAML (lam / mu) ||g - A x|| when G is
    mu-strongly convex at phi^K; None without one); ``nonpositive_curvature``: the step at which
    p.Ap <= 0 stopped CG (None otherwise).
    """

    x: torch.Tensor
    iterations: int
    residual_norms: tuple[float, ...]
    curvatures: tuple[float, ...]
    converged: bool
    final_residual_norm: float
    error_bound: float | None
    nonpositive_curvature: int | None


def _check_common(traj: Trajectory, lam, x0: str) -> float:
    lam = check_positive("lam", lam)
    if x0 not in ("g", "zero"):
        raise EstimatorInputError(f"x0={x0!r} must be 'g' or 'zero'")
    if not traj.has_final_hessian:
        raise EstimatorInputError("imaml needs the Hessian at phi^K: build the trajectory with "
                                  "from_model, or from_hessians(..., H_final=...)")
    return lam


def _operator(traj: Trajectory, lam: float):
    """v -> (I + H^K/lam) v, one HVP at phi^K."""
    return lambda v: v + traj.hvp([traj.K], v.unsqueeze(0))[0] / lam


def conjugate_gradient(A: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, x: torch.Tensor,
                       steps: int, *, rtol: float = 0.0, min_eigenvalue: float | None = None,
                       recompute: bool = True) -> CGResult:
    """Plain (unpreconditioned) CG on A x = b from ``x``, for a symmetric operator ``A``.

    r = b - A x (no HVP when x = 0), p = r; each step x += a p, r -= a A p with a = r.r / p.A p,
    then p = r + (r'.r' / r.r) p. Stops when ||r|| <= rtol ||b|| (rtol = 0: r exactly 0), after
    ``steps`` steps, or at a search direction with p.A p <= 0 (A is not positive definite; the
    result records the step in ``nonpositive_curvature`` and the caller decides what to do).
    ``min_eigenvalue``: a lower bound on A's spectrum, giving ``error_bound`` =
    ||b - A x|| / min_eigenvalue >= ||x - A^{-1} b||. One more HVP recomputes the final residual
    (``recompute=False``: none; ``final_residual_norm`` is then the recursion's last value).
    """
    r = b - A(x) if bool(x.any()) else b.clone()
    p = r.clone()
    rr = torch.dot(r, r)
    target = (rtol * float(torch.linalg.vector_norm(b))) ** 2
    norms, curvatures, bad = [math.sqrt(float(rr))], [], None
    for step in range(steps):
        if float(rr) <= target:
            break
        Ap = A(p)
        pAp = torch.dot(p, Ap)
        curvatures.append(float(pAp) / float(torch.dot(p, p)))
        if pAp <= 0:
            bad = step
            break
        a = rr / pAp
        x = x + a * p
        r = r - a * Ap
        rr_new = torch.dot(r, r)
        p = r + (rr_new / rr) * p
        rr = rr_new
        norms.append(math.sqrt(float(rr)))
    final = float(torch.linalg.vector_norm(b - A(x))) if recompute else norms[-1]
    converged = bad is None and norms[-1] <= rtol * float(torch.linalg.vector_norm(b))
    bound = None if min_eigenvalue is None or bad is not None else final / min_eigenvalue
    return CGResult(x=x, iterations=len(norms) - 1, residual_norms=tuple(norms), curvatures=tuple(curvatures),
                    converged=converged, final_residual_norm=final, error_bound=bound,
                    nonpositive_curvature=bad)


def _imaml_cg(traj: Trajectory, lam: float, steps: int, x0: str, rtol: float, mu: float | None,
              on_nonpositive: str, recompute: bool = True) -> CGResult:
    """CG on (I + H^K/lam) x = g from x0 = g or 0 (lam I + H^K >= mu I gives the eigenvalue
    bound mu/lam of A); a direction with p.Ap <= 0 raises unless ``on_nonpositive`` is "stop"."""
    g = traj.g
    result = conjugate_gradient(_operator(traj, lam), g, g.clone() if x0 == "g" else torch.zeros_like(g),
                                steps, rtol=rtol, min_eigenvalue=None if mu is None else mu / lam,
                                recompute=recompute)
    bad = result.nonpositive_curvature
    if bad is not None and on_nonpositive == "raise":
        raise EstimatorInputError(
            f"CG found non-positive curvature p.Ap/p.p = {result.curvatures[bad]:.3g} at step {bad}: "
            f"I + H/lam with lam={lam} is not positive definite (G is not strongly convex at phi^K); "
            f"need a larger lam")
    return result


@finite_result
def imaml(traj: Trajectory, lam: float, steps: int, *, x0: str = "g") -> torch.Tensor:
    """``steps`` CG iterations for (I + H^K/lam) x = g from x0 = g (``"g"``) or 0 (``"zero"``).

    Stops early only when the residual is exactly zero; a search direction with p.Ap <= 0 (so
    I + H/lam is not positive definite) raises, never a silently wrong iterate. 0 steps return
    x0: g (first-order MAML, iMAML Appendix A) or the zero vector. :func:`imaml_cg` is the same
    iteration with its diagnostics.
    """
    lam = _check_common(traj, lam, x0)
    steps = check_int("steps", steps, 0)
    return _imaml_cg(traj, lam, steps, x0, 0.0, None, "raise", recompute=False).x


def imaml_cg(traj: Trajectory, lam: float, steps: int, *, rtol: float = 0.0, x0: str = "g",
             mu: float | None = None, on_nonpositive: str = "raise") -> CGResult:
    """Conjugate gradient on (I + H^K/lam) x = g (iMAML Algorithm 2), at most ``steps`` iterations,
    with diagnostics (:class:`CGResult`).

    ``rtol``: stop once ||r_k|| <= rtol ||g|| (0: only at an exactly zero residual). ``x0``: "g"
    (0 steps then give g, first-order MAML, iMAML Appendix A) or "zero" (needs steps >= 1: zero
    steps would return the zero vector). ``mu``: the strong convexity of G at phi^K
    (lam I + H^K >= mu I, Assumption 2.2 of the iMAML appendix), 0 < mu; it gives ``error_bound``
    = (lam / mu) ||g - A x|| >= ||x - x*||, and a search direction with p.Ap / p.p < mu / lam
    (which proves the given mu wrong) raises. ``on_nonpositive``: "raise" (default) or "stop" at
    a direction with p.Ap <= 0 (A is then not positive definite; the result says at which step,
    ``converged`` is False and ``error_bound`` None).
    """
    lam = _check_common(traj, lam, x0)
    steps = check_int("steps", steps, 1 if x0 == "zero" else 0)
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not (0 <= rtol < math.inf):
        raise EstimatorInputError(f"rtol={rtol!r} must be a finite number >= 0")
    if mu is not None:
        mu = check_positive("mu", mu)
    if on_nonpositive not in ("raise", "stop"):
        raise EstimatorInputError(f"on_nonpositive={on_nonpositive!r} must be 'raise' or 'stop'")
    result = _imaml_cg(traj, lam, steps, x0, float(rtol), mu, on_nonpositive)
    x, curvatures, bad = result.x, result.curvatures, result.nonpositive_curvature
    if not bool(torch.isfinite(x).all()):
        raise EstimatorInputError(f"imaml_cg(lam={lam}, steps={steps}) is not finite in {x.dtype}: "
                                  f"CG overflowed; need a larger lam or smaller Hessians")
    if mu is not None and curvatures:
        # below mu/lam by more than sqrt(eps) of the largest quotient seen: not rounding
        slack = torch.finfo(x.dtype).eps ** 0.5 * max(max(curvatures), mu / lam)
        floor = mu / lam - slack
        low = [(k, c) for k, c in enumerate(curvatures) if c < floor]
        if low and bad is None:
            k, c = low[0]
            raise EstimatorInputError(
                f"mu={mu} is contradicted at CG step {k}: p.Ap/p.p = {c:.6g} < mu/lam = {mu / lam:.6g}, "
                f"so lam I + H^K is not >= mu I; need the true strong convexity (a smaller mu)")
    return result


@finite_result
def imaml_exact(traj: Trajectory, lam: float) -> torch.Tensor:
    """The implicit meta-gradient (I + H^K/lam)^{-1} g by a dense solve (iMAML eq. (6), Lemma 1).

    H^K is assembled from d HVPs in one batched call (O(d^2) memory), symmetrised, and
    A = I + H^K/lam is factored by Cholesky; an A that is not positive definite (G not strongly
    convex at phi^K, so the implicit gradient is not the meta-gradient of eq. (4)) raises.
    """
    lam = _check_common(traj, lam, "g")
    g = traj.g
    eye = torch.eye(traj.d, dtype=g.dtype, device=g.device)
    H = traj.hvp([traj.K] * traj.d, eye)  # row j: H e_j, the j-th column of the symmetric H
    H = (H + H.T) / 2
    A = eye + H / lam
    factor, info = torch.linalg.cholesky_ex(A)
    if int(info) != 0:
        raise EstimatorInputError(
            f"I + H/lam with lam={lam} is not positive definite (Cholesky failed at column "
            f"{int(info) - 1}): G is not strongly convex at phi^K, so (I + H/lam)^-1 g is not the "
            f"meta-gradient of the regularised problem; need a larger lam")
    return torch.cholesky_solve(g.unsqueeze(1), factor).squeeze(1)
