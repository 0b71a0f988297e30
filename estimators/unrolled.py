"""The ground truth: the MAML meta-gradient by autograd through the unrolled inner loop.

Deliberately independent of :class:`~estimators.trajectory.Trajectory`: it works on the model's
own parameter tensors (no flat vector, no ``torch.func`` transforms, no HVP), builds the graph of
all K inner steps with ``create_graph=True`` and differentiates the validation loss at phi^K with
respect to theta (eq. (2)/(3)). Its memory grows linearly in K; that is the point of comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.func import functional_call

from .errors import EstimatorInputError, check_int, check_positive

__all__ = ["maml_autograd"]


def maml_autograd(model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], support: Any, query: Any,
                  K: int, alpha: float, *, return_loss: bool = False) -> Any:
    """grad_theta l_val(phi^K(theta)) with phi^{k+1} = phi^k - alpha grad l_trn(phi^k), phi^0 = theta.

    Returns a flat vector in the order of ``model.named_parameters()`` (and, with
    ``return_loss=True``, also the validation loss at phi^K as a float).
    """
    if not isinstance(model, torch.nn.Module):
        raise EstimatorInputError(f"model={type(model).__name__} must be a torch.nn.Module")
    K = check_int("K", K, 1)
    alpha = check_positive("alpha", alpha)
    for what, data in (("support", support), ("query", query)):
        if not (isinstance(data, (tuple, list)) and len(data) == 2):
            raise EstimatorInputError(f"{what} must be an (inputs, targets) pair")
    named = list(model.named_parameters())
    names = [n for n, _ in named]
    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}  # never mutate the model's
    theta = [p.detach().clone().requires_grad_(True) for _, p in named]

    def loss(params, data, what):
        try:
            value = loss_fn(functional_call(model, ({**dict(zip(names, params)), **buffers}),
                                            (data[0],)), data[1])
        except RuntimeError as exc:  # shape or dtype mismatches between model, inputs and targets
            message = " ".join(str(exc).split())
            raise EstimatorInputError(f"model or loss_fn failed on the {what} set: {message}") from None
        if not isinstance(value, torch.Tensor) or value.ndim != 0:
            raise EstimatorInputError(f"loss_fn on the {what} set did not return a scalar tensor")
        return value

    with torch.enable_grad():
        phi = theta
        for _ in range(K):
            grads = torch.autograd.grad(loss(phi, support, "support"), phi, create_graph=True,
                                        materialize_grads=True)  # 0 for parameters the loss ignores
            phi = [p - alpha * gp for p, gp in zip(phi, grads)]
        val = loss(phi, query, "query")
        meta = torch.autograd.grad(val, theta, materialize_grads=True)
    flat = torch.cat([m.reshape(-1) for m in meta])
    if not bool(torch.isfinite(flat).all()):
        raise EstimatorInputError(f"maml_autograd is not finite with K={K}, alpha={alpha}: the inner "
                                  "loop diverged or overflowed; need a smaller alpha or K")
    return (flat, float(val.detach())) if return_loss else flat
