"""BinomMAML (eq. (8)) and the hybrid binom-trunc estimator (eq. (39)), as one HVP cascade.

Write the truncated expansion restricted to the steps ``start..K-1`` (``start = 0`` for eq. (8),
``start = K - C`` for eq. (39)) as

    w_j(k) = sum over S subset of {k, ..., K-1} with |S| <= j of  prod_{s in S, increasing} (-alpha H^s) g,

so that the estimate is w_L(start). Splitting on whether k is in S (it is then the smallest
index, so H^k stands leftmost) gives the recursion

    w_j(k) = w_j(k+1) - alpha H^k w_{j-1}(k+1),        w_0(k) = g,   w_j(K) = g,

and, for k >= K - j, w_j(k) = P^{K-k} g (every subset is short enough; Lemma A.5). Stage j
(j = 1..L) needs w_j only at the K-L+1 positions k = start+L-j .. K-j, and
these need w_{j-1} at exactly the positions of stage j-1, shifted by one. So stage j is

    U[c]  = H^{k_c} w_{j-1}(k_c + 1)               (K-L+1 independent HVPs: one batched call)
    w_j(k_c) = w_{j-1}(K-j+1) - alpha * sum_{c' >= c} U[c']   (a suffix sum),

with k_c = start+L-j+c. This is Algorithm 2 of the paper with the index corrections worked out
here: stage l = j-1 uses the Hessians at phi^{L-l-1}..phi^{K-l-1}, and the matrix T must be
lower-triangular *including* its diagonal (the printed "strictly lower-triangular" T drops each
U[c] from its own column). Proposition 3.1 / Theorem 3.2 is the same cascade written as operators.

The same recursion can be swept over the points instead of the stages ("points" schedule): for
k = K-1 down to ``start``, every level j that stage j needs at position k is updated at once,

    w_j(k) = w_j(k+1) - alpha H^k w_{j-1}(k+1)      for max(1, start+L-k) <= j <= min(L, K-k),

(with w_j(k+1) = w_{K-k-1}(k+1) = P^{K-k-1} g for j > K-k-1), one call of at most L HVPs, all at
phi^k. It makes the same L(K-start-L+1) HVPs, but each point is visited once: a model trajectory
then differentiates one gradient at phi^k for all of them (estimators/hvp.py), and with
``memory="flat"`` builds each point's gradient graph once and holds one at a time.
"""

from __future__ import annotations

import torch

from .errors import EstimatorInputError, check_int, finite_result
from .trajectory import SCHEDULES, Trajectory

__all__ = ["binom", "hybrid"]


@finite_result
def binom(traj: Trajectory, L: int, *, chunk_size: int | None = None, rescale: bool = False,
          schedule: str | None = None) -> torch.Tensor:
    """BinomMAML, eq. (8): the L-truncated binomial expansion of P^K applied to g, 0 <= L <= K.

    Computed as the cascade of Theorem 3.2 in one of two orders (module docstring): ``"stages"``
    (L stages of K-L+1 HVPs at K-L+1 points, one batched ``traj.hvp`` call per stage: corrected
    Algorithm 2) or ``"points"`` (K calls of at most L HVPs at one point each); the default is the
    trajectory's ``traj.schedule`` ("points" for model trajectories, except with hvp="loop";
    "stages" for explicit Hessians).
    ``chunk_size`` caps the rows of one ``traj.hvp`` call. ``rescale=True`` replaces alpha by
    alpha' = L alpha / K (Appendix C.2), so that L = 0 is FOMAML and L = K is MAML.
    """
    L = check_int("L", L, 0, traj.K)
    alpha = traj.alpha * L / traj.K if rescale else traj.alpha
    return binomial_cascade(traj, L, start=0, alpha=alpha, chunk_size=chunk_size, schedule=schedule)


@finite_result
def hybrid(traj: Trajectory, L: int, C: int, *, chunk_size: int | None = None,
           schedule: str | None = None) -> torch.Tensor:
    """Hybrid binom-trunc estimator, eq. (39) (Appendix D.1): H^k = 0 for k < K - C, then the
    L-truncated binomial expansion of the remaining C factors; 0 <= L <= C <= K.

    C = K gives binom(L); L = C gives trunc(C). ``chunk_size`` and ``schedule`` as for binom.
    """
    C = check_int("C", C, 0, traj.K)
    L = check_int("L", L, 0, C)
    return binomial_cascade(traj, L, start=traj.K - C, alpha=traj.alpha, chunk_size=chunk_size,
                            schedule=schedule)


def binomial_cascade(traj: Trajectory, L: int, *, start: int, alpha: float,
                     chunk_size: int | None = None, schedule: str | None = None) -> torch.Tensor:
    """w_L(start) of the module docstring: the expansion of prod_{k=start}^{K-1} (I - alpha H^k) g
    truncated to products of at most L factors (requires 0 <= L <= K - start)."""
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size, 1)
    schedule = traj.schedule if schedule is None else schedule
    if schedule not in SCHEDULES:
        raise EstimatorInputError(f"schedule={schedule!r} must be one of {', '.join(SCHEDULES)}")
    if schedule == "points":
        return _points_cascade(traj, L, start, alpha, chunk_size)
    K = traj.K
    width = K - start - L + 1
    V = traj.g.unsqueeze(0).expand(width, traj.d)          # w_0 at positions start+L .. K
    for j in range(1, L + 1):
        ks = torch.arange(start + L - j, K - j + 1, device=traj.g.device)
        U = _chunked_hvp(traj, ks, V, chunk_size)
        suffix = U.flip(0).cumsum(0).flip(0)
        V = V[-1] - alpha * suffix                           # w_j at positions start+L-j .. K-j
    return V[0].clone()


def _points_cascade(traj: Trajectory, L: int, start: int, alpha: float,
                    chunk_size: int | None) -> torch.Tensor:
    """The "points" schedule of the module docstring; ``W[j]`` holds w_j at the current position."""
    K = traj.K
    W = [traj.g] * (L + 1)                                   # w_j(K) = g for every j
    for k in range(K - 1, start - 1, -1):
        lo, hi = max(1, start + L - k), min(L, K - k)
        if lo > hi:
            continue
        ks = torch.full((hi - lo + 1,), k, device=traj.g.device, dtype=torch.long)
        V = W[lo - 1].unsqueeze(0) if lo == hi else torch.stack(W[lo - 1:hi])  # one row: no copy
        U = _chunked_hvp(traj, ks, V, chunk_size)
        W[lo:hi + 1] = [torch.sub(W[j], U[j - lo], alpha=alpha) for j in range(lo, hi + 1)]
        if hi < L:
            W[hi + 1] = W[hi]                                # w_{K-k+1}(k) = w_{K-k}(k) = P^{K-k} g
    return W[L].clone()


def _chunked_hvp(traj: Trajectory, ks: torch.Tensor, V: torch.Tensor,
                 chunk_size: int | None) -> torch.Tensor:
    if chunk_size is None or chunk_size >= ks.shape[0]:
        return traj.hvp(ks, V)
    return torch.cat([traj.hvp(ks[i:i + chunk_size], V[i:i + chunk_size])
                      for i in range(0, ks.shape[0], chunk_size)])
