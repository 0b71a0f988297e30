"""iMAML's implicit meta-gradient (Rajeswaran et al., 2019), approximated by conjugate gradient.

The implicit gradient is (I + H/lam)^{-1} g with H the training-loss Hessian at the final point
phi^K (Section 2.2 of the BinomGBML paper; iMAML Algorithm 2). ``steps`` iterations of conjugate
gradient on (I + H/lam) x = g approximate it; with ``x0="g"`` zero steps give FOMAML, as the
iMAML appendix notes.
"""

from __future__ import annotations

import torch

from .errors import EstimatorInputError, check_int, check_positive, finite_result
from .trajectory import Trajectory

__all__ = ["imaml"]


@finite_result
def imaml(traj: Trajectory, lam: float, steps: int, *, x0: str = "g") -> torch.Tensor:
    """``steps`` CG iterations for (I + H^K/lam) x = g from x0 = g (``"g"``) or 0 (``"zero"``).

    Plain (unpreconditioned) CG: r = g - A x, p = r; each step x += a p, r -= a A p with
    a = r.r / p.A p, then p = r + (r'.r' / r.r) p. It stops early only when the residual is exactly
    zero; a zero curvature p.A p (possible when I + H/lam is indefinite) raises, never NaN.
    """
    lam = check_positive("lam", lam)
    steps = check_int("steps", steps, 0)
    if x0 not in ("g", "zero"):
        raise EstimatorInputError(f"x0={x0!r} must be 'g' or 'zero'")
    if not traj.has_final_hessian:
        raise EstimatorInputError("imaml needs the Hessian at phi^K: build the trajectory with "
                                  "from_model, or from_hessians(..., H_final=...)")
    g = traj.g

    def A(v: torch.Tensor) -> torch.Tensor:
        return v + traj.hvp([traj.K], v.unsqueeze(0))[0] / lam

    x = g.clone() if x0 == "g" else torch.zeros_like(g)
    r = g - A(x) if x0 == "g" else g.clone()
    p = r.clone()
    rr = torch.dot(r, r)
    for step in range(steps):
        if rr == 0:
            break
        Ap = A(p)
        pAp = torch.dot(p, Ap)
        if pAp == 0:
            raise EstimatorInputError(f"CG broke down at step {step} (p.Ap = 0): I + H/lam with "
                                      f"lam={lam} is not positive definite")
        a = rr / pAp
        x = x + a * p
        r = r - a * Ap
        rr_new = torch.dot(r, r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x
