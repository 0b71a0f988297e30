"""First-order, truncated and full MAML meta-gradients: sequential chains of HVPs.

With P^i = (I - alpha H^{K-i}) ... (I - alpha H^{K-1}) (Proposition 3.1), the exact meta-gradient
is P^K g (eq. (4)), TruncMAML is P^L g (eq. (5)) and FOMAML is P^0 g = g.
"""

from __future__ import annotations

import torch

from .errors import check_int, finite_result
from .trajectory import Trajectory

__all__ = ["fo", "maml", "trunc"]


@finite_result
def fo(traj: Trajectory) -> torch.Tensor:
    """FOMAML: the validation gradient g itself (Section 2.2, all H^k set to 0)."""
    return traj.g.clone()


@finite_result
def trunc(traj: Trajectory, L: int) -> torch.Tensor:
    """TruncMAML, eq. (5): P^L g = (I - alpha H^{K-L}) ... (I - alpha H^{K-1}) g, 0 <= L <= K.

    L sequential HVPs, applied right to left (k = K-1 first).
    """
    return product_chain(traj, check_int("L", L, 0, traj.K))


@finite_result
def maml(traj: Trajectory) -> torch.Tensor:
    """The exact MAML meta-gradient, eq. (4): P^K g through K sequential HVPs."""
    return product_chain(traj, traj.K)


def product_chain(traj: Trajectory, L: int) -> torch.Tensor:
    """P^L g (Proposition 3.1) by L sequential HVPs, k = K-1 first; unchecked (0 <= L <= K)."""
    v = traj.g.clone()
    for k in range(traj.K - 1, traj.K - 1 - L, -1):
        v = v - traj.alpha * traj.hvp([k], v.unsqueeze(0))[0]
    return v
