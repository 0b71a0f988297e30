"""Input validation shared by the estimators: one error class, one-line messages.

Every message names the offending argument, its value and the condition it breaks, so that the
``binomgbml`` dispatcher (which catches ``ValueError``) can print it as one line.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["EstimatorInputError", "adapted_parameters", "all_finite", "check_data",
           "check_deterministic", "check_draws", "check_int", "check_positive", "check_reproduced", "evaluate_loss", "finite_result",
           "meta_only_parameters"]


class EstimatorInputError(ValueError):
    """Bad input to a Trajectory or an estimator (out of range, mismatched shapes, non-scalar loss)."""


def check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer with ``lo <= value <= hi``; else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise EstimatorInputError(f"{name}={value!r} must be an integer")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        bound = f"{lo} <= {name}" + (f" <= {hi}" if hi is not None else "")
        raise EstimatorInputError(f"{name}={value} is out of range: need {bound}")
    return value


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite real number > 0; else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise EstimatorInputError(f"{name}={value!r} must be a real number")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise EstimatorInputError(f"{name}={value} must be finite and > 0")
    return value


def all_finite(t: torch.Tensor) -> bool:
    """Whether every entry of ``t`` is finite. Any inf or NaN entry makes the sum non-finite, so a
    finite sum settles it with one reduction (``torch.isfinite`` on every entry costs ~30x more on
    a CPU); a non-finite sum (or an overflowing one) is settled entry by entry."""
    return bool(torch.isfinite(t.sum())) or bool(torch.isfinite(t).all())


def finite_result(estimator: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Decorate an estimator ``(traj, *args, **kwargs) -> tensor`` so that a non-finite estimate
    (float overflow of products of alpha H^k, or a CG that blew up) raises instead of returning
    inf / NaN. Under ``torch.func.vmap`` (a meta-batch with ``vmap_tasks=True``) a data-dependent
    check cannot run: it is skipped there, and the caller checks the batched result."""

    @functools.wraps(estimator)
    def checked(traj, *args, **kwargs):
        out = estimator(traj, *args, **kwargs)
        try:
            finite = all_finite(out)
        except RuntimeError as exc:
            if "data-dependent control flow" not in str(exc):  # vmap's refusal; anything else is real
                raise
            return out
        if not finite:
            given = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
            raise EstimatorInputError(
                f"{estimator.__name__}({given}) is not finite in {out.dtype} on a trajectory with "
                f"alpha={traj.alpha}, K={traj.K}: it overflowed; need a smaller alpha or smaller "
                f"Hessians (for imaml, a larger lam)")
        return out

    return checked


# -- the model, its data and its loss (Trajectory.from_model and maml_autograd) ---------------------

def adapted_parameters(model: torch.nn.Module, adapted: Any = None
                       ) -> list[tuple[str, torch.nn.Parameter]]:
    """The ``(name, parameter)`` pairs of ``model.named_parameters()`` that the inner loop adapts,
    in that order: those named in ``adapted`` (a collection of parameter names), or, when it is
    None, every parameter that requires grad. A parameter with ``requires_grad=False`` is frozen
    (torch's convention): held fixed, and given no meta-gradient; one that requires grad but is not
    named in ``adapted`` is meta-only (see :func:`meta_only_parameters`). Raises if there is none,
    if ``adapted`` names an unknown or a frozen parameter, or if a parameter has non-finite
    entries."""
    if not isinstance(model, torch.nn.Module):
        raise EstimatorInputError(f"model={type(model).__name__} must be a torch.nn.Module")
    named = list(model.named_parameters())
    if not named:
        raise EstimatorInputError(f"model {type(model).__name__} has no parameters")
    chosen = None if adapted is None else _adapted_names(named, adapted)
    selected = [(n, p) for n, p in named if p.requires_grad and (chosen is None or n in chosen)]
    if not selected:
        raise EstimatorInputError(f"model {type(model).__name__} has no parameter that requires grad: "
                                  f"all {len(named)} are frozen, so there is nothing to adapt")
    for name, p in named:
        if not all_finite(p.detach()):
            raise EstimatorInputError(f"model parameter {name!r} has non-finite entries: need finite "
                                      "parameters")
    return selected


def meta_only_parameters(model: torch.nn.Module, adapted: Any = None
                         ) -> list[tuple[str, torch.nn.Parameter]]:
    """The parameters that require grad but are not adapted (none when ``adapted`` is None), in
    ``model.named_parameters()`` order: held fixed in the inner loop, yet meta-learned (the body
    when only the head is adapted)."""
    if adapted is None:
        return []
    chosen = _adapted_names(list(model.named_parameters()), adapted)
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad and n not in chosen]


def _adapted_names(named: list, adapted: Any) -> set[str]:
    if isinstance(adapted, str) or not hasattr(adapted, "__iter__"):
        raise EstimatorInputError(f"adapted={adapted!r} must be a collection of parameter names "
                                  f"(e.g. ['2.weight', '2.bias']) or None")
    chosen, kinds = set(adapted), dict((n, p.requires_grad) for n, p in named)
    for n in sorted(chosen, key=str):
        if n not in kinds:
            raise EstimatorInputError(f"adapted names {n!r}, which is not a parameter of the model: "
                                      f"need names from model.named_parameters() "
                                      f"({', '.join(kinds)})")
        if not kinds[n]:
            raise EstimatorInputError(f"adapted names {n!r}, which is frozen (requires_grad=False): "
                                      f"need a parameter that requires grad")
    if not chosen:
        raise EstimatorInputError("adapted=[] names no parameter: need at least one to adapt")
    return chosen


def check_data(what: str, data: Any) -> tuple:
    """``data`` as an ``(inputs, targets)`` pair with finite floating entries; else raise, naming
    the tensor (``support inputs``, ``query targets``)."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise EstimatorInputError(f"{what} must be an (inputs, targets) pair, got {type(data).__name__}")
    for part, t in zip(("inputs", "targets"), data):
        floating = isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex())
        if floating and not all_finite(t):
            bad = int((~torch.isfinite(t)).sum())
            raise EstimatorInputError(f"{what} {part} have {bad} non-finite entries (NaN or inf) "
                                      f"of {t.numel()}: need finite data")
    return tuple(data)


#: torch.nn layers that draw random numbers in training mode (named in the error message)
_RANDOM_LAYERS = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
                  torch.nn.AlphaDropout, torch.nn.FeatureAlphaDropout, torch.nn.RReLU)


def _rng_states(device: torch.device) -> list[torch.Tensor]:
    """The states of torch's default generators a forward pass on ``device`` can draw from."""
    states = [torch.random.get_rng_state()]
    if device.type == "cuda":  # untested here (no GPU): the generator of the model's device
        states.append(torch.cuda.get_rng_state(device))
    return states


def evaluate_loss(what: str, evaluate: Callable[[], torch.Tensor], model: torch.nn.Module,
                  buffers: dict[str, torch.Tensor], device: torch.device, *,
                  graph: bool = False) -> tuple[torch.Tensor, bool]:
    """Evaluate the loss once (with its graph only if ``graph``) as a check: the value, and
    whether torch's random number generator advanced. A model or loss that fails, a loss that broadcasts mismatched shapes
    (torch's "target size" warning), a forward pass that writes one of ``buffers`` (those that
    ``torch.func`` will differentiate through), and a loss that is not a scalar tensor are
    :class:`EstimatorInputError`s naming the ``what`` set."""
    versions = {n: b._version for n, b in buffers.items()}
    before = _rng_states(device)
    try:
        with torch.set_grad_enabled(graph), warnings.catch_warnings():
            warnings.filterwarnings("error", message="Using a target size")  # torch's losses
            value = evaluate()
    except UserWarning as w:  # e.g. F.mse_loss of (n, 1) outputs and (n,) targets broadcasts
        message = " ".join(str(w).split())
        raise EstimatorInputError(f"loss_fn on the {what} set broadcasts mismatched shapes: "
                                  f"{message}") from None
    except (RuntimeError, TypeError, ValueError, IndexError, NotImplementedError) as exc:
        message = " ".join(str(exc).split())  # shape or dtype mismatches between model, data, loss
        raise EstimatorInputError(f"model or loss_fn failed on the {what} set: {message}") from None
    if any(b._version != versions[n] for n, b in buffers.items()):
        raise EstimatorInputError(
            "the model updates a buffer in its forward pass (e.g. BatchNorm in training mode "
            "with running statistics), which torch.func cannot differentiate: need model.eval() "
            "or BatchNorm(..., track_running_stats=False)")
    if not isinstance(value, torch.Tensor) or value.ndim != 0:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise EstimatorInputError(f"loss_fn on the {what} set returned {shape}: need a scalar tensor")
    consumed = any(not torch.equal(a, b) for a, b in zip(before, _rng_states(device)))
    return value, consumed


def check_deterministic(what: str, evaluate: Callable[[], torch.Tensor], model: torch.nn.Module,
                        buffers: dict[str, torch.Tensor], device: torch.device) -> torch.Tensor:
    """The loss value on the ``what`` set at theta (:func:`evaluate_loss`), checked to be finite
    and by :func:`check_draws`. A loss that depends on randomness outside torch is caught by
    :func:`check_reproduced`."""
    first, drew = evaluate_loss(what, evaluate, model, buffers, device)
    if not bool(torch.isfinite(first)):
        raise EstimatorInputError(f"loss_fn on the {what} set is {float(first)} at theta (the model's "
                                  "parameters): need a finite loss there")
    check_draws(what, first, drew, evaluate, model, buffers, device)
    return first


def check_draws(what: str, first: torch.Tensor, drew: bool, evaluate: Callable[[], torch.Tensor],
                model: torch.nn.Module, buffers: dict[str, torch.Tensor], device: torch.device, *,
                at: str = "theta") -> None:
    """If the forward pass that gave ``first`` drew random numbers, evaluate the loss a second
    time (the generator then advanced by the first draw): a loss that differs is a random
    function of the parameters (Dropout or RReLU in training mode, ``torch.randn`` in
    ``forward``, ...) and is refused."""
    if drew:
        second, _ = evaluate_loss(what, evaluate, model, buffers, device)
        if not torch.equal(first.detach(), second):
            _refuse_random(what, first, second, "it draws random numbers", model, at)


def check_reproduced(what: str, first: torch.Tensor, again: torch.Tensor,
                     model: torch.nn.Module) -> None:
    """Refuse a loss that, evaluated again at the same point (by the inner loop's first step),
    differs from its first value ``first`` beyond round-off (sqrt(eps) relative)."""
    again = again.detach()
    if float(abs(first - again)) > math.sqrt(torch.finfo(first.dtype).eps) * float(abs(first)):
        _refuse_random(what, first, again, "it is not reproducible", model)


def _refuse_random(what: str, first: torch.Tensor, second: torch.Tensor, cause: str,
                   model: torch.nn.Module, at: str = "theta"):
    layers = [f"{n!r} ({type(m).__name__})" for n, m in model.named_modules()
              if isinstance(m, _RANDOM_LAYERS) and m.training]
    if layers:
        cause += f"; in training mode: {', '.join(layers)}"
    raise EstimatorInputError(
        f"the model's forward pass is not a deterministic function of its parameters: two "
        f"evaluations of the loss on the {what} set at {at} gave {float(first)!r} and "
        f"{float(second)!r} ({cause}), so every meta-gradient would be a different random vector; "
        f"need model.eval() (Dropout, RReLU and other random layers off) or the randomness fixed "
        f"and passed in with the inputs (e.g. a fixed dropout mask)")
