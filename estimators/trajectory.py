"""The Trajectory: everything a meta-gradient estimator needs, and nothing more.

An estimator of the MAML meta-gradient P^K g (eq. (4)) needs three things:

* the inner step size ``alpha``;
* the validation gradient ``g = grad l_val(phi^K)``;
* a batched Hessian-vector product ``hvp(ks, V)``: row ``j`` of the result is ``H^{ks[j]} V[j]``,
  where ``H^k`` is the Hessian of the training loss at ``phi^k`` (k = 0..K-1); every row is
  computed at once. The index ``k = K`` means the Hessian at the final point ``phi^K``, which
  only :func:`estimators.imaml` uses; it is available when the trajectory carries it.

Two constructors build one: :meth:`Trajectory.from_hessians` (explicit K x d x d Hessians, the
bridge to the dense reference) and :meth:`Trajectory.from_model` (a ``torch.nn.Module`` run through
K inner gradient steps; HVPs at the stored points, :mod:`estimators.hvp`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.func import functional_call, grad

from .errors import (
    EstimatorInputError,
    adapted_parameters,
    meta_only_parameters,
    all_finite,
    check_data,
    check_deterministic,
    check_draws,
    check_int,
    check_positive,
    check_reproduced,
    evaluate_loss,
)
from .hvp import (
    HVP_MODES,
    MEMORY_MODES,
    MODE_FAILURES,
    PointGradients,
    check_modes,
    inner_loop_with_graphs,
    model_hvp,
)

__all__ = ["HVP_MODES", "MEMORY_MODES", "SCHEDULES", "Trajectory"]

#: the orders in which :func:`estimators.binom` can run its cascade (see estimators/binomial.py)
SCHEDULES = ("stages", "points")

HvpFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Trajectory:
    """alpha, g and a batched HVP over the points of one inner loop (see the module docstring).

    Attributes: ``alpha`` (float), ``g`` (1-D tensor of length ``d``), ``K`` (number of inner
    steps), ``d`` (number of parameters), ``has_final_hessian`` (whether ``hvp`` accepts k = K),
    ``val_loss`` (the validation loss at phi^K, for models; None for explicit Hessians),
    ``hvp_mode`` (how a model's HVPs are computed; "dense" for explicit Hessians), ``names`` and
    ``shapes`` (the adapted parameters a flat vector covers, in ``model.named_parameters()``
    order; ``["theta"]`` and ``[(d,)]`` for explicit Hessians), ``schedule`` (the order in which
    :func:`estimators.binom` runs its cascade on this trajectory by default: "stages" for explicit
    Hessians and for hvp="loop", "points" for the other model trajectories),
    ``meta_only_names`` and ``meta_only_shapes`` (the parameters held fixed in the inner loop but
    meta-learned, when ``from_model`` was given ``adapted``; empty otherwise: see
    :meth:`meta_only_gradient`).
    """

    def __init__(self, *, alpha: float, g: torch.Tensor, K: int, hvp_fn: HvpFn,
                 has_final_hessian: bool, names: list[str], shapes: list[torch.Size],
                 hvp_mode: str, val_loss: float | None = None, schedule: str = "stages") -> None:
        self.alpha = alpha
        self.g = g
        self.K = K
        self.d = g.shape[0]
        self.has_final_hessian = has_final_hessian
        self.hvp_mode = hvp_mode
        self.val_loss = val_loss
        self.names = list(names)
        self.shapes = [torch.Size(s) for s in shapes]
        self.schedule = schedule
        self._hvp_fn = hvp_fn
        self.meta_only_names: list[str] = []
        self.meta_only_shapes: list[torch.Size] = []
        self._meta_only_fn: Callable[[], torch.Tensor] | None = None

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_hessians(cls, H, g, alpha, *, H_final=None) -> Trajectory:
        """A trajectory from explicit Hessians ``H`` (K x d x d: H^0..H^{K-1}) and ``g`` (length d).

        ``H`` and ``g`` may be torch tensors (floating), NumPy arrays or nested lists; integer and
        object (Fraction) entries become float64. Both must end up in one dtype on one device,
        which the estimators' results keep. ``H_final`` (d x d, optional) is the Hessian at phi^K,
        used only by :func:`estimators.imaml`.
        """
        H = _as_float_tensor("H", H)
        g = _as_float_tensor("g", g)
        if H.ndim != 3 or H.shape[1] != H.shape[2]:
            raise EstimatorInputError(f"H has shape {tuple(H.shape)}: need K x d x d")
        K, d = H.shape[0], H.shape[1]
        check_int("K (= H.shape[0])", K, 1)
        if g.shape != (d,):
            raise EstimatorInputError(f"g has shape {tuple(g.shape)}: need ({d},) to match H of shape "
                                      f"{tuple(H.shape)}")
        stack = H
        if H_final is not None:
            H_final = _as_float_tensor("H_final", H_final)
            if H_final.shape != (d, d):
                raise EstimatorInputError(f"H_final has shape {tuple(H_final.shape)}: need ({d}, {d})")
            stack = torch.cat([H, H_final.unsqueeze(0)])
        _same_kind(("H", H), ("g", g), *([("H_final", H_final)] if H_final is not None else []))

        def hvp_fn(ks: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
            return torch.bmm(stack[ks], V.unsqueeze(-1)).squeeze(-1)

        return cls(alpha=check_positive("alpha", alpha), g=g, K=K, hvp_fn=hvp_fn,
                   has_final_hessian=H_final is not None, names=["theta"], shapes=[torch.Size([d])],
                   hvp_mode="dense")

    @classmethod
    def from_model(cls, model: torch.nn.Module, loss_fn, support, query, K, alpha, *,
                   hvp: str = "auto", memory: str = "fast", adapted=None) -> Trajectory:
        """Run K inner GD steps (eq. (2b)) of ``model`` on ``support``; g is taken on ``query``.

        ``support`` and ``query`` are ``(inputs, targets)`` pairs; ``loss_fn(outputs, targets)``
        must return a scalar. The adapted parameters are those of ``model.named_parameters()``
        that require grad; the others are frozen: held fixed in the inner loop and given no
        meta-gradient (flat vectors cover the adapted ones only: ``traj.names``, ``traj.shapes``).
        ``adapted`` (a collection of parameter names) adapts only those: the other parameters that
        require grad are meta-only, held fixed in the inner loop like frozen ones but meta-learned;
        their exact meta-gradient is :meth:`meta_only_gradient` (e.g. adapt the head, meta-learn
        the body: the "last layer only" setting).
        The points phi^0..phi^K are stored (K+1 flat vectors) and the HVPs are computed at them
        in the mode ``hvp`` (:mod:`estimators.hvp`): "graph", "forward", "reverse", "revfwd",
        "loop", or "auto" (default). ``memory`` says what else is kept:

        * ``"fast"`` (default): with hvp "graph" or "auto", the gradient graph of every inner
          step (each step's gradient is taken with ``create_graph=True`` on a detached leaf), so
          that an HVP is one backward pass and no gradient is computed twice; K graphs are held
          as long as the trajectory lives (the memory of MAML's unrolled graph, roughly);
        * ``"flat"``: the points only; the gradient graph at a point is rebuilt when its HVPs are
          asked for, and only the last one is held, so peak memory does not grow with K beyond
          the K+1 stored points. binom's "points" schedule asks for each point once.

        The other modes keep nothing beyond the points whatever ``memory`` says. Refused with an
        :class:`EstimatorInputError`: non-finite parameters or data, a loss that fails, is not a
        scalar, broadcasts mismatched shapes or is not finite at theta, a forward pass that is not
        a deterministic function of the parameters (Dropout in training mode, random ops) or
        that writes a buffer (BatchNorm with running statistics in training mode), and an inner
        loop that diverges.
        """
        traj = cls._from_model(model, loss_fn, support, query, K, alpha, hvp, memory=memory,
                               checked=True, adapted=adapted)
        if not all_finite(traj.g):
            raise EstimatorInputError(f"the inner loop diverged (non-finite g at phi^K) with K={K}, "
                                      f"alpha={alpha}: need a smaller alpha or K")
        traj.val_loss = float(traj.val_loss)  # type: ignore[arg-type]  # set by _from_model
        return traj

    @classmethod
    def _from_model(cls, model, loss_fn, support, query, K, alpha, hvp: str, *,
                    memory: str = "fast", checked: bool = False, adapted=None) -> Trajectory:
        """:meth:`from_model`; without ``checked``, without its data-dependent checks (finite
        data, a deterministic finite loss), so that it can run under ``torch.func.vmap`` over
        tasks (``val_loss`` then stays a 0-d tensor)."""
        check_modes(hvp, memory)
        meta_only = meta_only_parameters(model, adapted)
        adapted = adapted_parameters(model, adapted)
        K = check_int("K", K, 1)
        alpha = check_positive("alpha", alpha)
        names = [n for n, _ in adapted]
        shapes = [p.shape for _, p in adapted]
        theta = torch.cat([p.detach().reshape(-1) for _, p in adapted])
        constants = {n: p.detach() for n, p in model.named_parameters() if n not in set(names)}
        buffers = {n: b.detach().clone() for n, b in model.named_buffers()}  # never mutate the model's
        autograd_mode = hvp in ("graph", "auto")
        f_trn, trn_loss = flat_loss(model, loss_fn, support, names, shapes, constants, buffers,
                                    "support", theta, checked=checked)
        f_val, _ = flat_loss(model, loss_fn, query, names, shapes, constants, buffers, "query",
                             theta, checked=checked, evaluate=not autograd_mode)  # else at phi^K
        grads = None
        try:
            if autograd_mode:  # torch.autograd only (torch.func modes need not be loaded)
                grads = PointGradients(f_trn, [], keep=memory == "fast")
                points, first_loss = inner_loop_with_graphs(f_trn, theta, K, alpha, grads)
                leaf = points[-1].detach().requires_grad_(True)
                val_loss, drew = evaluate_loss("query", lambda: f_val(leaf), model, buffers,
                                               theta.device, graph=True)
                (g,) = torch.autograd.grad(val_loss, leaf, allow_unused=True, materialize_grads=True)
                val_loss = val_loss.detach()
                if checked:
                    check_draws("query", val_loss, drew, lambda: f_val(points[-1]), model, buffers,
                                theta.device, at="phi^K")
            else:  # torch.func, which also runs under vmap over tasks (and "loop", as it always has)
                grad_trn = grad(_with_value(f_trn), has_aux=True)
                points = [theta]
                with torch.no_grad():
                    for k in range(K):
                        step, loss = grad_trn(points[-1])
                        points.append(points[-1] - alpha * step)
                        first_loss = loss if k == 0 else first_loss
                    g, val_loss = grad(_with_value(f_val), has_aux=True)(points[-1])
        except RuntimeError as exc:
            if "in-place" not in str(exc):
                raise
            raise EstimatorInputError(
                "the model updates a buffer in its forward pass (e.g. BatchNorm in training mode "
                "with running statistics), which torch.func cannot differentiate: need model.eval() "
                "or BatchNorm(..., track_running_stats=False)") from None
        if checked:  # the inner loop's first loss is the loss at theta again: random if it differs
            check_reproduced("support", trn_loss, first_loss, model)
        if hvp in ("forward", "reverse", "revfwd") or (hvp == "auto" and memory == "flat"):
            points = torch.stack(points)  # type: ignore[assignment]  # torch.func indexes one tensor
        if grads is not None:
            grads.points = points
        traj = cls(alpha=alpha, g=g.detach(), K=K, hvp_fn=model_hvp(hvp, model, f_trn, points, grads),
                   has_final_hessian=True, names=names, shapes=shapes, hvp_mode=hvp,
                   val_loss=val_loss,  # type: ignore[arg-type]  # a tensor until from_model's float()
                   # "loop" recomputes every gradient either way: keep its order
                   schedule="stages" if hvp == "loop" else "points")
        if meta_only:
            traj.meta_only_names = [n for n, _ in meta_only]
            traj.meta_only_shapes = [p.shape for _, p in meta_only]
            w = torch.cat([p.detach().reshape(-1) for _, p in meta_only])
            traj._meta_only_fn = lambda: meta_only_chain(f_trn, f_val, points, w,
                                                         traj.meta_only_names,
                                                         traj.meta_only_shapes, alpha)
        if hvp == "auto":
            # so the mode used can be reported as traj.hvp_mode
            traj._hvp_fn.owner = traj  # type: ignore[attr-defined]
        return traj

    # -- the one operation estimators use -------------------------------------------------------

    def hvp(self, ks: Any, V: torch.Tensor) -> torch.Tensor:
        """Row j of the result is ``H^{ks[j]} V[j]``; all rows at once (``V`` is n x d)."""
        ks = torch.as_tensor(ks, device=self.g.device)
        integer = not (ks.is_floating_point() or ks.is_complex() or ks.dtype == torch.bool)
        if ks.ndim > 1 or (ks.numel() and not integer):
            raise EstimatorInputError(f"ks has dtype {ks.dtype} and shape {tuple(ks.shape)}: need a "
                                      f"1-D sequence of integer step indices")
        ks = ks.to(torch.long).reshape(-1)
        top = self.K if self.has_final_hessian else self.K - 1
        if V.ndim != 2 or V.shape != (ks.shape[0], self.d):
            raise EstimatorInputError(f"V has shape {tuple(V.shape)}: need ({ks.shape[0]}, {self.d}) "
                                      f"(one row per index in ks)")
        if V.dtype != self.g.dtype or V.device != self.g.device:
            raise EstimatorInputError(f"V is {V.dtype} on {V.device}: need the trajectory's "
                                      f"{self.g.dtype} on {self.g.device}")
        indices = ks.tolist()
        if indices and (min(indices) < 0 or max(indices) > top):
            raise EstimatorInputError(f"ks={indices} out of range: need 0 <= k <= {top}")
        if ks.numel() == 0:
            return V.clone()
        try:
            return self._hvp_fn(ks, V)
        except MODE_FAILURES as exc:
            if self.hvp_mode not in ("forward", "reverse", "revfwd"):
                raise
            message = " ".join(str(exc).split())
            raise EstimatorInputError(  # e.g. F.mse_loss has no forward-over-reverse rule
                f"hvp={self.hvp_mode!r} (torch.func) failed for this model and loss_fn: {message}; "
                f"need hvp='auto', 'graph' or 'loop'") from None

    def meta_only_gradient(self) -> torch.Tensor:
        """The exact meta-gradient of the meta-only parameters w (``traj.meta_only_names``, flat in
        that order): d l_val(phi^K(theta, w), w) / dw, the inner loop differentiated as MAML does
        (:func:`meta_only_chain`). Empty when every parameter that requires grad is adapted."""
        if self._meta_only_fn is None:
            if self.hvp_mode == "dense":
                raise EstimatorInputError("a trajectory from explicit Hessians has no meta-only "
                                          "parameters: need Trajectory.from_model(..., adapted=...)")
            return self.g.new_zeros(0)
        out = self._meta_only_fn()
        if not all_finite(out):
            raise EstimatorInputError(f"meta_only_gradient() is not finite in {out.dtype} with "
                                      f"alpha={self.alpha}, K={self.K}: it overflowed")
        return out

    def unflatten(self, vec: torch.Tensor) -> dict[str, torch.Tensor]:
        """The name -> tensor dict of a flat vector: ``traj.names`` (the adapted parameters, in the
        order of ``model.named_parameters()``) with ``traj.shapes``."""
        if vec.shape != (self.d,):
            raise EstimatorInputError(f"vec has shape {tuple(vec.shape)}: need ({self.d},)")
        return unflatten(vec, self.names, self.shapes)

    def __repr__(self) -> str:
        return (f"Trajectory(K={self.K}, d={self.d}, alpha={self.alpha}, dtype={self.g.dtype}, "
                f"device={self.g.device}, hvp_mode={self.hvp_mode!r})")


# -- flat parameter plumbing ---------------------------------------------------------------------

def unflatten(vec: torch.Tensor, names: list[str], shapes: list[torch.Size]) -> dict[str, torch.Tensor]:
    """Split a flat vector (last dimension) into named views of the given shapes."""
    sizes = [math.prod(s) for s in shapes]
    parts = torch.split(vec, sizes, dim=-1)
    return {n: p.reshape(*vec.shape[:-1], *s) for n, p, s in zip(names, parts, shapes)}


def flat_loss(model, loss_fn, data, names, shapes, constants, buffers, what: str,
              theta: torch.Tensor, *, checked: bool = True, evaluate: bool = True):
    """``phi -> loss_fn(model(x; phi), y)`` on a flat vector ``phi`` of the adapted parameters
    (``constants``: the frozen ones). Evaluated at theta as a check (a scalar tensor; the errors
    of :func:`~estimators.errors.evaluate_loss`); with ``checked``, also finite data and a finite,
    deterministic loss (:func:`~estimators.errors.check_deterministic`). Returns the function and
    its value at theta (None without ``evaluate``: the caller checks its first evaluation)."""
    if checked:
        x, y = check_data(what, data)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        raise EstimatorInputError(f"{what} must be an (inputs, targets) pair, got {type(data).__name__}")

    # tie_weights=True (torch's default) re-checks the module for tied tensors on every call;
    # a module without tied parameters or buffers needs no such check
    tied = (len(list(model.named_parameters(remove_duplicate=False))) != len(dict(model.named_parameters()))
            or len(list(model.named_buffers(remove_duplicate=False))) != len(dict(model.named_buffers())))

    def f(phi: torch.Tensor, meta: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """The loss at phi; ``meta`` replaces some of the constants (meta-only parameters)."""
        fixed = constants if meta is None else {**constants, **meta}
        out = functional_call(model, (unflatten(phi, names, shapes), fixed, buffers), (x,),
                              tie_weights=tied)
        return loss_fn(out, y)

    if not evaluate:
        value = None
    elif checked:
        value = check_deterministic(what, lambda: f(theta), model, buffers, theta.device)
    else:
        value = evaluate_loss(what, lambda: f(theta), model, buffers, theta.device)[0]
    return f, value


def meta_only_chain(f_trn, f_val, points, w: torch.Tensor, meta_names: list[str],
                    meta_shapes: list[torch.Size], alpha: float) -> torch.Tensor:
    """d l_val(phi^K, w) / dw for phi^{k+1} = phi^k - alpha grad_phi l_trn(phi^k, w) (w held fixed in
    the inner loop, phi^0 = theta): the adjoint recursion of eq. (4) with the cross terms,

        v_K = g,   v_k = (I - alpha H^k) v_{k+1},
        d/dw = grad_w l_val(phi^K, w) - alpha sum_k (d/dw grad_phi l_trn(phi^k, w))^T v_{k+1},

    one gradient with its graph and one double backward per step (k = K-1 first), with
    ``torch.autograd`` at the stored points (K+1 of them, phi^K last)."""
    def meta(leaf):
        return unflatten(leaf, meta_names, meta_shapes)

    with torch.enable_grad():
        phi, wl = points[-1].detach().requires_grad_(True), w.detach().requires_grad_(True)
        v, total = torch.autograd.grad(f_val(phi, meta(wl)), (phi, wl), allow_unused=True,
                                       materialize_grads=True)
        for k in range(len(points) - 2, -1, -1):
            phi, wl = points[k].detach().requires_grad_(True), w.detach().requires_grad_(True)
            (gk,) = torch.autograd.grad(f_trn(phi, meta(wl)), phi, create_graph=True,
                                        allow_unused=True, materialize_grads=True)
            if not gk.requires_grad:  # the loss is linear in phi and has no cross term with w
                continue
            hv, jv = torch.autograd.grad(gk, (phi, wl), v, allow_unused=True, materialize_grads=True)
            total = total - alpha * jv
            v = v - alpha * hv
    return total.detach()


def _with_value(f):
    """``f`` returning ``(loss, loss)``, for ``grad(..., has_aux=True)``: the gradient and the value."""

    def f_aux(phi):
        loss = f(phi)
        return loss, loss.detach()

    return f_aux


# -- input conversion ------------------------------------------------------------------------------

def _as_float_tensor(name: str, x) -> torch.Tensor:
    """A floating tensor from ``x``. Torch tensors must already be floating (their dtype is kept);
    NumPy arrays and nested lists keep float32/float64, and integer or object (Fraction, SymPy)
    entries are converted to float64 (rounded to nearest)."""
    if not isinstance(x, torch.Tensor):
        try:
            arr = np.asarray(x)
            if arr.dtype.kind in "biuO":
                arr = arr.astype(np.float64)
        except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: Fraction(10**400)
            raise EstimatorInputError(f"{name} cannot be read as a float array: {exc}") from None
        x = arr
    try:
        t = torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise EstimatorInputError(f"{name} cannot be read as a tensor: {exc}") from None
    if not t.is_floating_point():
        raise EstimatorInputError(f"{name} has dtype {t.dtype}: need a floating dtype")
    if not bool(torch.isfinite(t).all()):
        raise EstimatorInputError(f"{name} has non-finite entries: need all entries finite")
    return t


def _same_kind(*named) -> None:
    (n0, t0), *rest = named
    for n, t in rest:
        if t.dtype != t0.dtype or t.device != t0.device:
            raise EstimatorInputError(f"{n} is {t.dtype} on {t.device} but {n0} is {t0.dtype} on "
                                      f"{t0.device}: need one dtype and device")
