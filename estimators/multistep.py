"""Multi-step MAML meta-gradients of Ji, Yang, Liang (JMLR 23 (2022)) on a model.

* :func:`multistep_maml` -- eq. (3)/(10), ``grad L_i(w) = prod_(j=0)^(N-1) (I - alpha H(w_j)) g``
  with the factors ordered by increasing j (the toolkit's P^N, docs/estimators.md): N inner GD
  steps on ``support``, g the query gradient at w_N. It is :func:`estimators.maml` on
  :meth:`Trajectory.from_model`, in the paper's names.
* :func:`resampling_meta_gradient` -- the stochastic estimator eq. (7): every inner step j takes
  its gradient on its own batch S_j, every Hessian factor on its own batch D_j, and the outer
  gradient on T. With S_j = D_j = S for all j it is eq. (12), the finite-sum estimator.

The inner step size is the caller's: the paper's rule alpha = c / (N L) and what it guarantees
are in :mod:`bounds.papers.ji2022` (``ji2022.stepsize``), with the smoothness constants of
Propositions 1 and 7. Exact references: :mod:`estimators.reference_multistep`.
"""

from __future__ import annotations

import torch
from torch.func import grad, vjp
from typing import Any

from .backprop import maml
from .errors import EstimatorInputError, adapted_parameters, check_int, check_positive
from .trajectory import Trajectory, flat_loss

__all__ = ["multistep_maml", "resampling_meta_gradient"]


def multistep_maml(model: torch.nn.Module, loss_fn: Any, support: Any, query: Any, N: int, alpha: float, *,
                   hvp: str = "auto") -> torch.Tensor:
    """Eq. (3)/(10): the N-step MAML meta-gradient of one task, a flat vector over the adapted
    parameters (those that require grad) in the order of ``model.named_parameters()``; ``hvp`` as in :meth:`Trajectory.from_model`."""
    return maml(Trajectory.from_model(model, loss_fn, support, query, N, alpha, hvp=hvp))


def resampling_meta_gradient(model: torch.nn.Module, loss_fn: Any, inner_batches: Any, hessian_batches: Any,
                             query: Any, alpha: float) -> torch.Tensor:
    """Eq. (7): ``prod_(j=0)^(N-1) (I - alpha hess l(w_j; D_j)) grad l(w_N; T)``, increasing j.

    ``w_0`` is the model's parameters and ``w_(j+1) = w_j - alpha grad l(w_j; S_j)``.
    ``inner_batches`` (S_0..S_(N-1)) and ``hessian_batches`` (D_0..D_(N-1)) are sequences of N
    ``(inputs, targets)`` pairs, ``query`` (T) one pair; ``loss_fn(outputs, targets)`` a scalar.
    The HVPs are reverse-over-reverse (``torch.func.vjp`` of ``grad``), applied right to left
    (j = N-1 first); the inner loop keeps no graph. Returns a flat vector.
    """
    if not isinstance(model, torch.nn.Module):
        raise EstimatorInputError(f"model={type(model).__name__} must be a torch.nn.Module")
    inner, hess = _batches("inner_batches", inner_batches), _batches("hessian_batches", hessian_batches)
    N = check_int("N (= len(inner_batches))", len(inner), 1)
    if len(hess) != N:
        raise EstimatorInputError(f"hessian_batches has {len(hess)} batches: need one per inner "
                                  f"step, N={N}")
    alpha = check_positive("alpha", alpha)
    adapted = adapted_parameters(model)
    names, shapes = [n for n, _ in adapted], [p.shape for _, p in adapted]
    theta = torch.cat([p.detach().reshape(-1) for _, p in adapted])
    constants = {n: p.detach() for n, p in model.named_parameters() if not p.requires_grad}
    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}

    def loss(data, what):
        return flat_loss(model, loss_fn, data, names, shapes, constants, buffers, what, theta)[0]

    f_inner = [loss(S, f"inner_batches[{j}]") for j, S in enumerate(inner)]
    f_hess = [loss(D, f"hessian_batches[{j}]") for j, D in enumerate(hess)]
    f_query = loss(query, "query")
    points = [theta]
    with torch.no_grad():
        for f in f_inner:
            points.append(points[-1] - alpha * grad(f)(points[-1]))
    v = grad(f_query)(points[-1])
    if not bool(torch.isfinite(v).all()):
        raise EstimatorInputError(f"the inner loop diverged (non-finite query gradient at w_N) with "
                                  f"N={N}, alpha={alpha}: need a smaller alpha or N")
    for j in reversed(range(N)):
        _, pullback = vjp(grad(f_hess[j]), points[j])  # type: ignore[misc]  # torch's overloads
        v = v - alpha * pullback(v)[0]
    if not bool(torch.isfinite(v).all()):
        raise EstimatorInputError(f"resampling_meta_gradient is not finite in {v.dtype} with N={N}, "
                                  f"alpha={alpha}: it overflowed; need a smaller alpha")
    return v.detach()


def _batches(name: str, batches) -> list:
    if isinstance(batches, (tuple, list)) and len(batches) == 2 and isinstance(batches[0], torch.Tensor):
        raise EstimatorInputError(f"{name} looks like one (inputs, targets) pair: need a sequence "
                                  f"of N pairs, one per inner step")
    try:
        return list(batches)
    except TypeError:
        raise EstimatorInputError(f"{name} must be a sequence of (inputs, targets) pairs") from None
