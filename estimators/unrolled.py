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

from .errors import (
    EstimatorInputError,
    adapted_parameters,
    all_finite,
    check_data,
    check_deterministic,
    check_int,
    check_positive,
    check_reproduced,
    meta_only_parameters,
)

__all__ = ["maml_autograd"]


def maml_autograd(model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], support: Any, query: Any,
                  K: int, alpha: float, *, return_loss: bool = False, adapted: Any = None) -> Any:
    """grad_theta l_val(phi^K(theta)) with phi^{k+1} = phi^k - alpha grad l_trn(phi^k), phi^0 = theta.

    theta is the parameters of ``model.named_parameters()`` that require grad; frozen ones
    (``requires_grad=False``) are held fixed. With ``adapted`` (parameter names), theta is those
    only, and the other parameters that require grad (meta-only, w) are held fixed in the inner
    loop but differentiated too: the result then covers theta and w, in
    ``model.named_parameters()`` order. Returns a flat vector over theta in that order (and,
    with ``return_loss=True``, also the validation loss at phi^K as a float). Refuses what
    :meth:`Trajectory.from_model <estimators.Trajectory.from_model>` refuses (non-finite data, a
    loss that fails or is not a scalar, a forward pass that is not deterministic).
    """
    meta_only = meta_only_parameters(model, adapted)
    adapted = adapted_parameters(model, adapted)
    K = check_int("K", K, 1)
    alpha = check_positive("alpha", alpha)
    support, query = check_data("support", support), check_data("query", query)
    names = [n for n, _ in adapted]
    frozen = {n: p.detach() for n, p in model.named_parameters() if not p.requires_grad}
    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}  # never mutate the model's
    theta = [p.detach().clone().requires_grad_(True) for _, p in adapted]
    w = {n: p.detach().clone().requires_grad_(True) for n, p in meta_only}  # fixed, differentiated

    def loss(params, data, what):
        try:
            value = loss_fn(functional_call(model, ({**dict(zip(names, params)), **w, **frozen,
                                                     **buffers}),
                                            (data[0],)), data[1])
        except RuntimeError as exc:  # shape or dtype mismatches between model, inputs and targets
            message = " ".join(str(exc).split())
            raise EstimatorInputError(f"model or loss_fn failed on the {what} set: {message}") from None
        if not isinstance(value, torch.Tensor) or value.ndim != 0:
            raise EstimatorInputError(f"loss_fn on the {what} set did not return a scalar tensor")
        return value

    first = {what: check_deterministic(what, lambda d=data, w=what: loss(theta, d, w), model, {},  # type: ignore[misc]
                                       theta[0].device)  # autograd may write buffers: {}
             for what, data in (("support", support), ("query", query))}
    with torch.enable_grad():
        phi = theta
        for k in range(K):
            trn = loss(phi, support, "support")
            if k == 0:  # the loss at theta again: random if it differs
                check_reproduced("support", first["support"], trn, model)
            grads = torch.autograd.grad(trn, phi, create_graph=True,
                                        materialize_grads=True)  # 0 for parameters the loss ignores
            phi = [p - alpha * gp for p, gp in zip(phi, grads)]
        val = loss(phi, query, "query")
        meta = dict(zip([*names, *w], torch.autograd.grad(val, [*theta, *w.values()],
                                                          allow_unused=True, materialize_grads=True)))
    flat = torch.cat([meta[n].reshape(-1) for n, _ in model.named_parameters() if n in meta])
    if not all_finite(flat):
        raise EstimatorInputError(f"maml_autograd is not finite with K={K}, alpha={alpha}: the inner "
                                  "loop diverged or overflowed; need a smaller alpha or K")
    return (flat, float(val.detach())) if return_loss else flat
