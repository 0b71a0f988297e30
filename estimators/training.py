"""Use in a training loop: the meta-gradient of a meta-batch, accumulated into ``.grad``.

    opt.zero_grad()
    accumulate_meta_gradient(model, F.mse_loss, tasks, K=5, alpha=0.01, estimator="binom", L=2)
    opt.step()

The meta-objective is the mean over the T tasks of the meta-batch (eq. (2a)), so the estimate
added to each parameter's ``.grad`` is the mean of the per-task estimates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.func import vmap

from .backprop import fo, maml, trunc
from .binomial import binom, hybrid
from .errors import EstimatorInputError, adapted_parameters
from .implicit import imaml
from .trajectory import Trajectory, unflatten
from .unrolled import maml_autograd

__all__ = ["ESTIMATORS", "accumulate_meta_gradient", "meta_gradient"]

#: estimator name -> function of (trajectory, **options)
ESTIMATORS: dict[str, Callable[..., torch.Tensor]] = {
    "fo": fo, "trunc": trunc, "maml": maml, "binom": binom, "hybrid": hybrid, "imaml": imaml,
}


def meta_gradient(model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], tasks: Iterable, K: int,
                  alpha: float, estimator: str | Callable[..., torch.Tensor] = "binom", *,
                  hvp: str = "auto", vmap_tasks: bool = False, **options: Any) -> tuple[torch.Tensor, float]:
    """The mean over ``tasks`` (``(support, query)`` pairs) of the chosen estimate, as a flat vector
    in the order of ``model.named_parameters()``, and the mean validation loss at phi^K.

    ``estimator`` is a name in :data:`ESTIMATORS`, ``"maml_autograd"``, or a function
    ``(trajectory, **options) -> tensor``; ``options`` are its arguments (``L=2``, ``chunk_size=1``).
    ``vmap_tasks=True`` computes all tasks at once with ``torch.func.vmap`` (see
    :func:`_vmapped_meta_gradient` for what that requires); the default is one task at a time.
    """
    if isinstance(estimator, str) and estimator not in ESTIMATORS and estimator != "maml_autograd":
        raise EstimatorInputError(f"estimator={estimator!r} must be one of "
                                  f"{', '.join([*ESTIMATORS, 'maml_autograd'])} or a callable")
    if vmap_tasks:
        return _vmapped_meta_gradient(model, loss_fn, list(tasks), K, alpha, estimator, hvp, options)
    total, losses = None, []
    for task in tasks:
        support, query = _check_task(task)
        if estimator == "maml_autograd":
            est, loss = maml_autograd(model, loss_fn, support, query, K, alpha, return_loss=True)
        else:
            traj = Trajectory.from_model(model, loss_fn, support, query, K, alpha, hvp=hvp)
            fn = ESTIMATORS[estimator] if isinstance(estimator, str) else estimator
            est, loss = fn(traj, **options), traj.val_loss
        total = est if total is None else total + est
        losses.append(loss)
    if total is None:
        raise EstimatorInputError("tasks is empty: need at least one (support, query) pair")
    return total / len(losses), sum(losses) / len(losses)


def _vmapped_meta_gradient(model, loss_fn, tasks: list, K, alpha, estimator, hvp: str,
                           options: dict) -> tuple[torch.Tensor, float]:
    """All tasks at once: the supports (and the queries) are stacked and the whole computation,
    inner loop and estimator, runs under ``torch.func.vmap`` over tasks.

    Requires tasks of equal shapes; ``hvp`` "forward" or "reverse" ("auto" means "reverse":
    "loop" uses ``torch.autograd``, which cannot run under vmap, and timing needs real values);
    an estimator without data-dependent control flow (not "imaml", whose CG stops on a zero
    residual, nor "maml_autograd"). A non-finite estimate (a diverging inner loop) raises.
    """
    if estimator in ("imaml", "maml_autograd"):
        raise EstimatorInputError(f"estimator={estimator!r} cannot run with vmap_tasks=True: "
                                  "need vmap_tasks=False")
    hvp = "reverse" if hvp == "auto" else hvp
    if hvp not in ("forward", "reverse"):
        raise EstimatorInputError(f"hvp={hvp!r} cannot run with vmap_tasks=True: need 'forward', "
                                  "'reverse' or 'auto'")
    if not tasks:
        raise EstimatorInputError("tasks is empty: need at least one (support, query) pair")
    for task in tasks:
        _check_task(task)
    stacked = []
    for i, what in ((0, "support"), (1, "query")):
        for j, part in ((0, "inputs"), (1, "targets")):
            parts = [task[i][j] for task in tasks]
            shapes = {tuple(p.shape) for p in parts}
            if len(shapes) > 1:
                raise EstimatorInputError(f"{what} {part} have shapes {sorted(shapes)}: vmap_tasks=True "
                                          "needs tasks of equal shapes")
            stacked.append(torch.stack(parts))
    fn = ESTIMATORS[estimator] if isinstance(estimator, str) else estimator

    def one_task(x_s, y_s, x_q, y_q):
        traj = Trajectory._from_model(model, loss_fn, (x_s, y_s), (x_q, y_q), K, alpha, hvp)
        return fn(traj, **options), traj.val_loss

    estimates, losses = vmap(one_task)(*stacked)
    if not bool(torch.isfinite(estimates).all()):
        raise EstimatorInputError(f"non-finite meta-gradient estimate with K={K}, alpha={alpha}: "
                                  "the inner loop diverged; need a smaller alpha or K")
    return estimates.mean(0), float(losses.mean())


def _check_task(task):
    """A task as its (support, query) pair, each an (inputs, targets) pair; else raise."""
    if not (isinstance(task, (tuple, list)) and len(task) == 2
            and all(isinstance(d, (tuple, list)) and len(d) == 2 for d in task)):
        raise EstimatorInputError(f"a task of type {type(task).__name__} is not a (support, query) "
                                  "pair of (inputs, targets) pairs")
    return task


def accumulate_meta_gradient(model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], tasks: Iterable,
                             K: int, alpha: float, estimator: str | Callable[..., torch.Tensor] = "binom", *,
                             hvp: str = "auto", vmap_tasks: bool = False, **options: Any) -> float:
    """Add the meta-batch mean estimate (see :func:`meta_gradient`) to every parameter's ``.grad``
    (creating it if None), so that any ``torch.optim`` optimizer can step; frozen parameters
    (``requires_grad=False``) get none. Returns the mean validation loss at phi^K over the tasks."""
    vec, loss = meta_gradient(model, loss_fn, tasks, K, alpha, estimator, hvp=hvp,
                              vmap_tasks=vmap_tasks, **options)
    named = adapted_parameters(model)
    parts = unflatten(vec, [n for n, _ in named], [p.shape for _, p in named])
    with torch.no_grad():
        for name, p in named:
            if p.grad is None:
                p.grad = parts[name].detach().clone()
            else:
                p.grad.add_(parts[name])
    return loss
