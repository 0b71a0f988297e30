"""First-order, truncated and full MAML meta-gradients: sequential chains of HVPs.

With P^i = (I - alpha H^{K-i}) ... (I - alpha H^{K-1}) (Proposition 3.1), the exact meta-gradient
is P^K g (eq. (4)), TruncMAML is P^L g (eq. (5)) and FOMAML is P^0 g = g.
"""

from __future__ import annotations

import torch

from .errors import check_int
from .trajectory import Trajectory

__all__ = ["fo", "maml", "trunc"]


def fo(traj: Trajectory) -> torch.Tensor:
    """FOMAML: the validation gradient g itself (Section 2.2, all H^k set to 0)."""
    return traj.g.clone()


def trunc(traj: Trajectory, L: int) -> torch.Tensor:
    """TruncMAML, eq. (5): P^L g = (I - alpha H^{K-L}) ... (I - alpha H^{K-1}) g, 0 <= L <= K.

    L sequential HVPs, applied right to left (k = K-1 first).
    """
    L = check_int("L", L, 0, traj.K)
    v = traj.g.clone()
    for k in range(traj.K - 1, traj.K - 1 - L, -1):
        v = v - traj.alpha * traj.hvp([k], v.unsqueeze(0))[0]
    return v


def maml(traj: Trajectory) -> torch.Tensor:
    """The exact MAML meta-gradient, eq. (4): P^K g through K sequential HVPs."""
    return trunc(traj, traj.K)
