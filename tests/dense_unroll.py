"""Test helper: the dense Hessians H^0..H^{K-1} and g of a trajectory by autograd through a
hand-written inner loop (independent of ``estimators.Trajectory`` and its HVPs)."""

import numpy as np
import torch


def dense_unroll(loss, model, support, query, alpha, steps):
    """``(hessians, g)``: H^k = Hess loss(phi^k, support) along phi^{k+1} = phi^k - alpha grad,
    from the model's parameters, and g = grad loss(phi^K, query), as NumPy arrays."""
    phi = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    hessians = []
    for _ in range(steps):
        hessians.append(torch.autograd.functional.hessian(lambda p: loss(p, support), phi,
                                                          vectorize=True).numpy())
        p = phi.clone().requires_grad_(True)
        phi = phi - alpha * torch.autograd.grad(loss(p, support), p)[0]
    p = phi.clone().requires_grad_(True)
    return np.array(hessians), torch.autograd.grad(loss(p, query), p)[0].numpy()
