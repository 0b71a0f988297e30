"""Use in a training loop: the meta-gradient of a meta-batch, into ``.grad`` (docs/estimators.md).

    opt.zero_grad()
    accumulate_meta_gradient(model, F.mse_loss, tasks, K=5, alpha=0.01, estimator="binom", L=2)
    opt.step()

or, as a loss to backpropagate (which is also how it runs under DistributedDataParallel)::

    objective = MetaObjective(model, F.mse_loss, K=5, alpha=0.01, estimator="binom", L=2)
    opt.zero_grad()
    objective(tasks).backward()
    opt.step()

The meta-objective is the mean over the T tasks of the meta-batch (eq. (2a)), so the estimate
put into ``.grad`` is the mean of the per-task estimates. It covers the adapted parameters (the
trajectory's ``names``); no other parameter's ``.grad`` is touched. With ``group=`` (a
``torch.distributed`` process group) the mean is over the tasks of every rank
(:mod:`estimators.distributed`).

Every estimate is checked before it is used: a tensor of the trajectory's real dtype, device and
length d, with finite entries; anything else raises :class:`EstimatorInputError` naming it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch.func import vmap

from . import distributed
from .backprop import fo, maml, trunc
from .binomial import binom, hybrid
from .errors import EstimatorInputError, adapted_parameters, check_int, check_positive
from .implicit import imaml
from .hvp import check_modes
from .trajectory import Trajectory, unflatten
from .unrolled import maml_autograd

__all__ = ["ESTIMATORS", "MetaObjective", "accumulate_meta_gradient", "meta_gradient"]

#: estimator name -> function of (trajectory, **options)
ESTIMATORS: dict[str, Callable[..., torch.Tensor]] = {
    "fo": fo, "trunc": trunc, "maml": maml, "binom": binom, "hybrid": hybrid, "imaml": imaml,
}


def meta_gradient(model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], tasks: Iterable, K: int,
                  alpha: float, estimator: str | Callable[..., torch.Tensor] = "binom", *,
                  hvp: str = "auto", memory: str = "fast", vmap_tasks: bool = False,
                  group: Any = None, **options: Any) -> tuple[torch.Tensor, float]:
    """The mean over ``tasks`` (``(support, query)`` pairs) of the chosen estimate, as a flat vector
    over the adapted parameters in the order of ``model.named_parameters()``, and the mean
    validation loss at phi^K.

    ``estimator`` is a name in :data:`ESTIMATORS`, ``"maml_autograd"``, or a function
    ``(trajectory, **options) -> tensor``; ``options`` are its arguments (``L=2``, ``chunk_size=1``),
    checked against its signature before any task runs. ``hvp`` and ``memory`` are those of
    :meth:`Trajectory.from_model <estimators.Trajectory.from_model>` (``memory="flat"`` holds one
    gradient graph at a time instead of K). ``vmap_tasks=True`` computes all tasks at
    once with ``torch.func.vmap`` (see :func:`_vmapped_sum` for what that requires); the default is
    one task at a time. ``group`` (a ``torch.distributed`` process group; every rank of it calls
    this with its own tasks) makes the mean one over the tasks of all ranks, by an all-reduce.
    """
    mean = _meta_batch_mean(model, loss_fn, tasks, _InnerLoop(K, alpha, hvp, memory),
                            estimator, vmap_tasks, group, options)
    return mean.vec, mean.loss


def accumulate_meta_gradient(model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], tasks: Iterable,
                             K: int, alpha: float, estimator: str | Callable[..., torch.Tensor] = "binom", *,
                             hvp: str = "auto", memory: str = "fast", vmap_tasks: bool = False,
                             group: Any = None, **options: Any) -> float:
    """Add the meta-batch mean estimate (see :func:`meta_gradient`) to the ``.grad`` of every
    adapted parameter (creating it if None), so that any ``torch.optim`` optimizer can step.
    Parameters that do not require grad are left alone. Returns the mean validation loss at
    phi^K over the tasks (of all ranks of ``group``)."""
    mean = _meta_batch_mean(model, loss_fn, tasks, _InnerLoop(K, alpha, hvp, memory),
                            estimator, vmap_tasks, group, options)
    named = dict(model.named_parameters())
    with torch.no_grad():
        for name, part in unflatten(mean.vec, mean.names, mean.shapes).items():
            p = named[name]
            if not p.requires_grad:
                continue
            if p.grad is None:
                p.grad = part.detach().clone()
            else:
                p.grad.add_(part)
    return mean.loss


class MetaObjective(torch.nn.Module):
    """The meta-objective (eq. (2a)) of a meta-batch as a module: ``objective(tasks)`` is a 0-d
    tensor whose value is the mean validation loss at phi^K and whose gradient with respect to
    the adapted parameters is the mean estimate, so ``objective(tasks).backward()`` does what
    :func:`accumulate_meta_gradient` does.

    Because it is an ordinary backward pass, it composes with what acts on one: wrap the module
    in ``torch.nn.parallel.DistributedDataParallel`` and DDP's hooks average the estimate across
    ranks (the forward weights each rank by its number of tasks, so an uneven split gives exactly
    the mean over all tasks; the loss is that of all tasks on every rank); ``ddp.no_sync()``
    accumulates; a gradient scaler scales. The wrapped ``model`` is ``objective.model``; the
    arguments are those of :func:`meta_gradient`, checked here, once.
    """

    def __init__(self, model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], K: int,
                 alpha: float, estimator: str | Callable[..., torch.Tensor] = "binom", *,
                 hvp: str = "auto", memory: str = "fast", vmap_tasks: bool = False,
                 **options: Any) -> None:
        super().__init__()
        if not isinstance(model, torch.nn.Module):
            raise EstimatorInputError(f"model={type(model).__name__} must be a torch.nn.Module")
        self.model = model
        self.loss_fn = _check_loss_fn(loss_fn)
        self.inner = _InnerLoop(K, alpha, hvp, memory).checked()
        self.K, self.alpha, self.hvp, self.memory = (self.inner.K, self.inner.alpha, hvp, memory)
        self.estimator = estimator
        self.vmap_tasks = vmap_tasks
        self.options = options
        _resolve(estimator, options, vmap_tasks)

    def forward(self, tasks: Iterable) -> torch.Tensor:
        ddp = distributed.active_ddp()
        args = (self.model, self.loss_fn, tasks, self.inner, self.estimator, self.vmap_tasks)
        if ddp is None:
            mean = _meta_batch_mean(*args, None, self.options)
            return _surrogate(self.model, mean)
        part, failure = _try_sum(*args, self.options)
        counts = distributed.union_counts(part.n, part.loss_sum, part.d, failure, ddp.process_group,
                                          _device(self.model))
        # DDP averages the ranks' gradients: rank r contributes (its task sum) * world / n_total
        return _surrogate(self.model, part.mean(counts.loss_sum / counts.n, counts.n / counts.world))


# -- the meta-batch --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _InnerLoop:
    """How each task's trajectory is made: K steps of size alpha, HVPs in mode ``hvp``, what is
    kept between them per ``memory`` (:meth:`Trajectory.from_model`)."""

    K: int
    alpha: float
    hvp: str
    memory: str

    def checked(self) -> _InnerLoop:
        """This, validated (an input error otherwise)."""
        check_modes(self.hvp, self.memory)
        return _InnerLoop(check_int("K", self.K, 1), check_positive("alpha", self.alpha), self.hvp,
                          self.memory)

@dataclass
class _Sum:
    """The sums over one rank's tasks: of the estimates (flat, over ``names``) and of the losses."""

    total: torch.Tensor | None
    loss_sum: float
    n: int
    names: list[str] | None = None
    shapes: list[torch.Size] | None = None

    @property
    def d(self) -> int:
        return 0 if self.total is None else self.total.shape[0]

    def mean(self, loss: float, divisor: float, total: torch.Tensor | None = None) -> _Mean:
        """``total`` (by default this rank's) / ``divisor``, with the loss ``loss``; only for a sum
        over at least one task (the callers refuse an empty meta-batch first, on every rank)."""
        total = self.total if total is None else total
        assert total is not None and self.names is not None and self.shapes is not None
        return _Mean(total / divisor, loss, self.names, self.shapes)


@dataclass
class _Mean:
    vec: torch.Tensor
    loss: float
    names: list[str]
    shapes: list[torch.Size]


def _meta_batch_mean(model, loss_fn, tasks, inner: _InnerLoop, estimator, vmap_tasks, group,
                     options) -> _Mean:
    """The mean estimate and loss over ``tasks`` (and over every rank of ``group`` if given)."""
    if group is None:
        part, failure = _try_sum(model, loss_fn, tasks, inner, estimator, vmap_tasks, options,
                                 catch=False)
        if part.n == 0:
            raise EstimatorInputError("tasks is empty: need at least one (support, query) pair")
        return part.mean(part.loss_sum / part.n, part.n)
    distributed.check_group(group)
    part, failure = _try_sum(model, loss_fn, tasks, inner, estimator, vmap_tasks, options)
    counts = distributed.union_counts(part.n, part.loss_sum, part.d, failure, group,
                                      _device(model))
    assert part.total is not None  # union_counts raised on every rank if one had no task
    total = distributed.all_reduce_sum(part.total, group)
    return part.mean(counts.loss_sum / counts.n, counts.n, total)


def _try_sum(model, loss_fn, tasks, inner: _InnerLoop, estimator, vmap_tasks, options, *,
             catch: bool = True) -> tuple[_Sum, BaseException | None]:
    """The sums over ``tasks``; with ``catch``, a failure is returned (with empty sums) rather
    than raised, so that a distributed caller can tell the other ranks before raising it."""
    try:
        if not isinstance(model, torch.nn.Module):
            raise EstimatorInputError(f"model={type(model).__name__} must be a torch.nn.Module")
        _check_loss_fn(loss_fn)
        inner = inner.checked()
        tasks = _task_list(tasks)
        if not tasks:
            return _Sum(None, 0.0, 0), None
        fn, label = _resolve(estimator, options, vmap_tasks)
        if vmap_tasks:
            return _vmapped_sum(model, loss_fn, tasks, inner, fn, label, options), None
        return _sequential_sum(model, loss_fn, tasks, inner, fn, label, options), None
    except Exception as exc:
        if not catch:
            raise
        return _Sum(None, 0.0, 0), exc


def _sequential_sum(model, loss_fn, tasks: list, inner: _InnerLoop, fn, label: str,
                    options: dict) -> _Sum:
    total, loss_sum, names, shapes = None, 0.0, None, None
    for task in tasks:
        support, query = _check_task(task)
        if fn is None:  # maml_autograd: no trajectory; it covers the adapted parameters
            est, loss = maml_autograd(model, loss_fn, support, query, inner.K, inner.alpha,
                                      return_loss=True)
            named = adapted_parameters(model)
            names, shapes = [n for n, _ in named], [p.shape for _, p in named]
            est = _check_estimate(est, label, sum(math.prod(s) for s in shapes), est.dtype, est.device)
        else:
            traj = Trajectory.from_model(model, loss_fn, support, query, inner.K, inner.alpha,
                                         hvp=inner.hvp, memory=inner.memory)
            est = _check_estimate(fn(traj, **options), label, traj.d, traj.g.dtype, traj.g.device)
            loss, names, shapes = traj.val_loss, traj.names, traj.shapes
        _check_finite(est, label)
        total = est if total is None else total + est
        loss_sum += loss
    return _Sum(total, loss_sum, len(tasks), names, shapes)


def _vmapped_sum(model, loss_fn, tasks: list, inner: _InnerLoop, fn, label: str,
                 options: dict) -> _Sum:
    """All tasks at once: the supports (and the queries) are stacked and the whole computation,
    inner loop and estimator, runs under ``torch.func.vmap`` over tasks.

    Requires tasks of equal shapes; ``hvp`` "forward" or "reverse" ("auto" means "reverse":
    "loop" uses ``torch.autograd``, which cannot run under vmap, and timing needs real values);
    an estimator without data-dependent control flow (not "imaml", whose CG stops on a zero
    residual, nor "maml_autograd"). A non-finite estimate (a diverging inner loop) raises.
    """
    hvp = "reverse" if inner.hvp == "auto" else inner.hvp
    if hvp not in ("forward", "reverse"):
        raise EstimatorInputError(f"hvp={hvp!r} cannot run with vmap_tasks=True: need 'forward', "
                                  "'reverse' or 'auto'")
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
    covered: dict[str, Any] = {}

    def one_task(x_s, y_s, x_q, y_q):
        traj = Trajectory._from_model(model, loss_fn, (x_s, y_s), (x_q, y_q), inner.K, inner.alpha,
                                      hvp, memory=inner.memory)
        covered.update(names=traj.names, shapes=traj.shapes)
        # dtype, device and shape are known under vmap; finiteness is checked on the stack below
        return _check_estimate(fn(traj, **options), label, traj.d, traj.g.dtype,
                               traj.g.device), traj.val_loss

    estimates, losses = vmap(one_task)(*stacked)
    if not bool(torch.isfinite(estimates).all()):
        raise EstimatorInputError(f"non-finite meta-gradient estimate with K={inner.K}, "
                                  f"alpha={inner.alpha}: "
                                  "the inner loop diverged; need a smaller alpha or K")
    return _Sum(estimates.sum(0), float(losses.sum()), len(tasks), covered["names"],
                covered["shapes"])


# -- checks ----------------------------------------------------------------------------------------

def _resolve(estimator, options: dict, vmap_tasks: bool) -> tuple[Callable | None, str]:
    """The estimator's function (None for "maml_autograd") and a label for messages; ``options``
    are checked against its signature, so that a missing or unknown option is an input error."""
    names = ", ".join([*ESTIMATORS, "maml_autograd"])
    if isinstance(estimator, str):
        if estimator not in ESTIMATORS and estimator != "maml_autograd":
            raise EstimatorInputError(f"estimator={estimator!r} must be one of {names} or a callable")
        if vmap_tasks and estimator in ("imaml", "maml_autograd"):
            raise EstimatorInputError(f"estimator={estimator!r} cannot run with vmap_tasks=True: "
                                      "need vmap_tasks=False")
        if estimator == "maml_autograd":
            if options:
                raise EstimatorInputError(f"estimator='maml_autograd' takes no options: got "
                                          f"{_given(options)}")
            return None, "'maml_autograd'"
        fn, label = ESTIMATORS[estimator], repr(estimator)
    elif callable(estimator):
        fn, label = estimator, getattr(estimator, "__name__", type(estimator).__name__)
    else:
        raise EstimatorInputError(f"estimator={estimator!r} must be one of {names} or a callable")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read (some C callables): checked on call
        return fn, label
    try:
        signature.bind(None, **options)
    except TypeError as exc:
        plain = signature.replace(parameters=[p.replace(annotation=p.empty)
                                              for p in signature.parameters.values()],
                                  return_annotation=signature.empty)
        raise EstimatorInputError(f"estimator={label} cannot be called with "
                                  f"{_given(options) or 'no options'}: {exc}; it is "
                                  f"{getattr(fn, '__name__', label)}{plain}") from None
    return fn, label


def _given(options: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


def _check_estimate(est, label: str, d: int, dtype: torch.dtype, device: torch.device):
    """``est`` (detached) if it is a tensor of ``dtype`` on ``device`` of shape (d,); else raise."""
    if not isinstance(est, torch.Tensor):
        raise EstimatorInputError(f"estimator {label} returned a {type(est).__name__}: need a "
                                  f"torch.Tensor of shape ({d},)")
    if est.dtype != dtype:
        raise EstimatorInputError(f"estimator {label} returned dtype {est.dtype}: need the "
                                  f"trajectory's {dtype}")
    if est.device != device:
        raise EstimatorInputError(f"estimator {label} returned a tensor on {est.device}: need the "
                                  f"trajectory's device {device}")
    if tuple(est.shape) != (d,):
        raise EstimatorInputError(f"estimator {label} returned shape {tuple(est.shape)}: need ({d},), "
                                  "one entry per entry of the adapted parameters")
    return est.detach()


def _check_finite(est: torch.Tensor, label: str) -> None:
    bad = ~torch.isfinite(est)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise EstimatorInputError(f"estimator {label} returned {int(bad.sum())} non-finite "
                                  f"entries (the first, {est[first].item()}, at index {first}): "
                                  "need all entries finite")


def _check_loss_fn(loss_fn):
    if not callable(loss_fn):
        raise EstimatorInputError(f"loss_fn={loss_fn!r} must be callable (outputs, targets) -> "
                                  "scalar tensor")
    return loss_fn


def _task_list(tasks) -> list:
    if isinstance(tasks, torch.Tensor) or not isinstance(tasks, Iterable):
        raise EstimatorInputError(f"tasks of type {type(tasks).__name__} must be an iterable of "
                                  "(support, query) pairs")
    return list(tasks)


def _check_task(task):
    """A task as its (support, query) pair, each an (inputs, targets) pair; else raise."""
    if not (isinstance(task, (tuple, list)) and len(task) == 2
            and all(isinstance(d, (tuple, list)) and len(d) == 2 for d in task)):
        raise EstimatorInputError(f"a task of type {type(task).__name__} is not a (support, query) "
                                  "pair of (inputs, targets) pairs")
    return task


# -- into .grad by backpropagation -----------------------------------------------------------------

def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _surrogate(model: torch.nn.Module, mean: _Mean) -> torch.Tensor:
    """A 0-d tensor with the value ``mean.loss`` whose gradient with respect to each adapted
    parameter p is its part of ``mean.vec``: loss + sum_p <p - stop_grad(p), vec_p>."""
    named = dict(model.named_parameters())
    value = torch.tensor(mean.loss, dtype=mean.vec.dtype, device=mean.vec.device)
    for name, part in unflatten(mean.vec, mean.names, mean.shapes).items():
        p = named[name]
        if p.requires_grad:
            value = value + ((p - p.detach()) * part).sum()
    return value
