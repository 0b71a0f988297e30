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
"""

from __future__ import annotations

import torch

from .errors import check_int, finite_result
from .trajectory import Trajectory

__all__ = ["binom", "hybrid"]


@finite_result
def binom(traj: Trajectory, L: int, *, chunk_size: int | None = None,
          rescale: bool = False) -> torch.Tensor:
    """BinomMAML, eq. (8): the L-truncated binomial expansion of P^K applied to g, 0 <= L <= K.

    Computed as the cascade of Theorem 3.2 (L stages of K-L+1 HVPs, one batched ``traj.hvp`` call
    per stage, or per ``chunk_size`` rows of a stage). ``rescale=True`` replaces alpha by
    alpha' = L alpha / K (Appendix C.2), so that L = 0 is FOMAML and L = K is MAML.
    """
    L = check_int("L", L, 0, traj.K)
    alpha = traj.alpha * L / traj.K if rescale else traj.alpha
    return binomial_cascade(traj, L, start=0, alpha=alpha, chunk_size=chunk_size)


@finite_result
def hybrid(traj: Trajectory, L: int, C: int, *, chunk_size: int | None = None) -> torch.Tensor:
    """Hybrid binom-trunc estimator, eq. (39) (Appendix D.1): H^k = 0 for k < K - C, then the
    L-truncated binomial expansion of the remaining C factors; 0 <= L <= C <= K.

    C = K gives binom(L); L = C gives trunc(C).
    """
    C = check_int("C", C, 0, traj.K)
    L = check_int("L", L, 0, C)
    return binomial_cascade(traj, L, start=traj.K - C, alpha=traj.alpha, chunk_size=chunk_size)


def binomial_cascade(traj: Trajectory, L: int, *, start: int, alpha: float,
                     chunk_size: int | None = None) -> torch.Tensor:
    """w_L(start) of the module docstring: the expansion of prod_{k=start}^{K-1} (I - alpha H^k) g
    truncated to products of at most L factors (requires 0 <= L <= K - start)."""
    K = traj.K
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size, 1)
    width = K - start - L + 1
    V = traj.g.unsqueeze(0).expand(width, traj.d)          # w_0 at positions start+L .. K
    for j in range(1, L + 1):
        ks = torch.arange(start + L - j, K - j + 1, device=traj.g.device)
        U = _chunked_hvp(traj, ks, V, chunk_size)
        suffix = U.flip(0).cumsum(0).flip(0)
        V = V[-1] - alpha * suffix                           # w_j at positions start+L-j .. K-j
    return V[0].clone()


def _chunked_hvp(traj: Trajectory, ks: torch.Tensor, V: torch.Tensor,
                 chunk_size: int | None) -> torch.Tensor:
    if chunk_size is None or chunk_size >= ks.shape[0]:
        return traj.hvp(ks, V)
    return torch.cat([traj.hvp(ks[i:i + chunk_size], V[i:i + chunk_size])
                      for i in range(0, ks.shape[0], chunk_size)])
