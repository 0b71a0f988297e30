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
K inner gradient steps with ``torch.func``; HVPs at the stored points).
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable

import numpy as np
import torch
from torch.func import functional_call, grad, jvp, vjp, vmap

from .errors import EstimatorInputError, check_int, check_positive

__all__ = ["HVP_MODES", "Trajectory"]

#: the ways :meth:`Trajectory.from_model` can compute a batch of HVPs
HVP_MODES = ("auto", "forward", "reverse", "loop")

HvpFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Trajectory:
    """alpha, g and a batched HVP over the points of one inner loop (see the module docstring).

    Attributes: ``alpha`` (float), ``g`` (1-D tensor of length ``d``), ``K`` (number of inner
    steps), ``d`` (number of parameters), ``has_final_hessian`` (whether ``hvp`` accepts k = K),
    ``val_loss`` (the validation loss at phi^K, for models; None for explicit Hessians),
    ``hvp_mode`` (how a model's HVPs are computed; "dense" for explicit Hessians), ``names`` and
    ``shapes`` (the parameters the flat vectors cover, in the order of ``model.named_parameters()``).
    """

    def __init__(self, *, alpha: float, g: torch.Tensor, K: int, hvp_fn: HvpFn,
                 has_final_hessian: bool, names: list[str], shapes: list[torch.Size],
                 hvp_mode: str, val_loss: float | None = None):
        self.alpha = alpha
        self.g = g
        self.K = K
        self.d = g.shape[0]
        self.has_final_hessian = has_final_hessian
        self.hvp_mode = hvp_mode
        self.val_loss = val_loss
        self._hvp_fn = hvp_fn
        self._names = names
        self._shapes = shapes
        self.names, self.shapes = names, shapes

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
                   hvp: str = "auto") -> Trajectory:
        """Run K inner GD steps (eq. (2b)) of ``model`` on ``support``; g is taken on ``query``.

        ``support`` and ``query`` are ``(inputs, targets)`` pairs; ``loss_fn(outputs, targets)``
        must return a scalar. The inner loop runs with ``torch.func`` and keeps no graph; the
        points phi^0..phi^K are stored (K+1 flat vectors) and the HVPs are computed at them:

        * ``"forward"``: forward-over-reverse, a vmapped ``jvp`` of ``grad``;
        * ``"reverse"``: reverse-over-reverse, a vmapped ``vjp`` of ``grad``;
        * ``"loop"``: one double-backward ``torch.autograd`` HVP per row, sequentially;
        * ``"auto"`` (default): the first batch of each size n is computed by all three modes,
          twice each, and the second run timed; the fastest mode is cached for this model,
          device, dtype and n, and used from then on (the cached choice is visible as
          ``traj.hvp_mode`` after the first call). A mode that raises (some losses, e.g.
          ``F.mse_loss`` in torch 2.13, have no working forward-over-reverse rule) is left out,
          so "reverse" is the fallback for "forward". If the cached mode raises (it was
          chosen for this model with another ``loss_fn``), the choice is measured again.
        """
        traj = cls._from_model(model, loss_fn, support, query, K, alpha, hvp)
        if not bool(torch.isfinite(traj.g).all()):
            raise EstimatorInputError(f"the inner loop diverged (non-finite g at phi^K) with K={K}, "
                                      f"alpha={alpha}: need a smaller alpha or K")
        traj.val_loss = float(traj.val_loss)
        return traj

    @classmethod
    def _from_model(cls, model, loss_fn, support, query, K, alpha, hvp: str) -> Trajectory:
        """:meth:`from_model` without its data-dependent checks, so that it can run under
        ``torch.func.vmap`` over tasks (``val_loss`` stays a 0-d tensor)."""
        if not isinstance(model, torch.nn.Module):
            raise EstimatorInputError(f"model={type(model).__name__} must be a torch.nn.Module")
        if hvp not in HVP_MODES:
            raise EstimatorInputError(f"hvp={hvp!r} must be one of {', '.join(HVP_MODES)}")
        K = check_int("K", K, 1)
        alpha = check_positive("alpha", alpha)
        names, shapes, theta = flatten_parameters(model)
        buffers = {n: b.detach().clone() for n, b in model.named_buffers()}  # never mutate the model's
        f_trn = flat_loss(model, loss_fn, support, names, shapes, buffers, "support")
        f_val = flat_loss(model, loss_fn, query, names, shapes, buffers, "query")
        grad_trn = grad(f_trn)
        points = [theta]
        try:
            with torch.no_grad():
                for _ in range(K):
                    points.append(points[-1] - alpha * grad_trn(points[-1]))
                g, val_loss = grad(_with_value(f_val), has_aux=True)(points[-1])
        except RuntimeError as exc:
            if "in-place" not in str(exc):
                raise
            raise EstimatorInputError(
                "the model updates a buffer in its forward pass (e.g. BatchNorm in training mode "
                "with running statistics), which torch.func cannot differentiate: need model.eval() "
                "or BatchNorm(..., track_running_stats=False)") from None
        points = torch.stack(points)
        hvp_fn, mode = _model_hvp(model, f_trn, points, hvp)
        traj = cls(alpha=alpha, g=g, K=K, hvp_fn=hvp_fn, has_final_hessian=True, names=names,
                   shapes=shapes, hvp_mode=mode, val_loss=val_loss)
        if hvp == "auto":
            hvp_fn.owner = traj  # so the timed choice can be reported as traj.hvp_mode
        return traj

    # -- the one operation estimators use -------------------------------------------------------

    def hvp(self, ks, V: torch.Tensor) -> torch.Tensor:
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
        if ks.numel() and (int(ks.min()) < 0 or int(ks.max()) > top):
            raise EstimatorInputError(f"ks={ks.tolist()} out of range: need 0 <= k <= {top}")
        if ks.numel() == 0:
            return V.clone()
        try:
            return self._hvp_fn(ks, V)
        except _MODE_FAILURES as exc:
            if self.hvp_mode not in ("forward", "reverse"):
                raise
            message = " ".join(str(exc).split())
            raise EstimatorInputError(  # e.g. F.mse_loss has no forward-over-reverse rule
                f"hvp={self.hvp_mode!r} (torch.func) failed for this model and loss_fn: {message}; "
                f"need hvp='auto' or 'loop'") from None

    def unflatten(self, vec: torch.Tensor) -> dict[str, torch.Tensor]:
        """The name -> tensor dict of a flat vector in the order of ``model.named_parameters()``."""
        if vec.shape != (self.d,):
            raise EstimatorInputError(f"vec has shape {tuple(vec.shape)}: need ({self.d},)")
        return unflatten(vec, self._names, self._shapes)

    def __repr__(self) -> str:
        return (f"Trajectory(K={self.K}, d={self.d}, alpha={self.alpha}, dtype={self.g.dtype}, "
                f"device={self.g.device}, hvp_mode={self.hvp_mode!r})")


# -- flat parameter plumbing ---------------------------------------------------------------------

def flatten_parameters(model: torch.nn.Module):
    """Names, shapes and the detached flat vector of ``model.named_parameters()``."""
    named = list(model.named_parameters())
    if not named:
        raise EstimatorInputError(f"model {type(model).__name__} has no parameters")
    names = [n for n, _ in named]
    shapes = [p.shape for _, p in named]
    theta = torch.cat([p.detach().reshape(-1) for _, p in named])
    return names, shapes, theta


def unflatten(vec: torch.Tensor, names: list[str], shapes: list[torch.Size]) -> dict[str, torch.Tensor]:
    """Split a flat vector (last dimension) into named views of the given shapes."""
    sizes = [math.prod(s) for s in shapes]
    parts = torch.split(vec, sizes, dim=-1)
    return {n: p.reshape(*vec.shape[:-1], *s) for n, p, s in zip(names, parts, shapes)}


def flat_loss(model, loss_fn, data, names, shapes, buffers, what: str):
    """``phi -> loss_fn(model(x; phi), y)`` on a flat parameter vector ``phi``.

    ``data`` is an ``(inputs, targets)`` pair; checks once, at theta, that the loss is a scalar.
    """
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise EstimatorInputError(f"{what} must be an (inputs, targets) pair, got {type(data).__name__}")
    x, y = data

    def f(phi: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, (unflatten(phi, names, shapes), buffers), (x,))
        return loss_fn(out, y)

    try:
        with torch.no_grad():
            value = f(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    except RuntimeError as exc:  # shape mismatches between model, inputs and targets
        message = " ".join(str(exc).split())
        raise EstimatorInputError(f"model or loss_fn failed on the {what} set: {message}") from None
    if not isinstance(value, torch.Tensor) or value.ndim != 0:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise EstimatorInputError(f"loss_fn on the {what} set returned {shape}: need a scalar tensor")
    return f


def _with_value(f):
    """``f`` returning ``(loss, loss)``, for ``grad(..., has_aux=True)``: the gradient and the value."""

    def f_aux(phi):
        loss = f(phi)
        return loss, loss.detach()

    return f_aux


# -- the model HVPs --------------------------------------------------------------------------------

def _model_hvp(model, f_trn, points: torch.Tensor, mode: str):
    """The batched HVP ``(ks, V) -> H^{ks[j]} V[j]`` at the stored ``points`` for one mode."""
    if mode == "auto":
        return _AutoHvp(model, f_trn, points), "auto"
    return _HVP_BUILDERS[mode](f_trn, points), mode


def _hvp_forward(f_trn, points: torch.Tensor) -> HvpFn:
    """Forward-over-reverse: ``jvp(grad f, phi, v)`` = H(phi) v, vmapped over the rows."""
    grad_f = grad(f_trn)
    one = vmap(lambda p, v: jvp(grad_f, (p,), (v,))[1])
    return lambda ks, V: one(points[ks], V)


def _hvp_reverse(f_trn, points: torch.Tensor) -> HvpFn:
    """Reverse-over-reverse: ``vjp(grad f, phi)(v)`` = H(phi)^T v = H(phi) v, vmapped."""
    grad_f = grad(f_trn)
    one = vmap(lambda p, v: vjp(grad_f, p)[1](v)[0])
    return lambda ks, V: one(points[ks], V)


def _hvp_loop(f_trn, points: torch.Tensor) -> HvpFn:
    """Sequential double backward with ``torch.autograd``, one HVP per row."""

    def hvp_fn(ks: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        rows = []
        for k, v in zip(ks.tolist(), V):
            with torch.enable_grad():
                phi = points[k].detach().requires_grad_(True)
                (g,) = torch.autograd.grad(f_trn(phi), phi, create_graph=True)
                if g.requires_grad:
                    (hv,) = torch.autograd.grad(g, phi, v, materialize_grads=True)
                else:  # the loss is linear in phi: its Hessian is zero
                    hv = torch.zeros_like(v)
            rows.append(hv)
        return torch.stack(rows)

    return hvp_fn


_HVP_BUILDERS = {"forward": _hvp_forward, "reverse": _hvp_reverse, "loop": _hvp_loop}

#: model -> {(device, dtype, n): mode}: the "auto" choices, measured once per model and batch size
_AUTO_CHOICES: weakref.WeakKeyDictionary[torch.nn.Module, dict] = weakref.WeakKeyDictionary()
#: what a mode raises when it cannot differentiate a loss (then another mode is used)
_MODE_FAILURES = (RuntimeError, NotImplementedError)


class _AutoHvp:
    """The "auto" HVP: times every mode on the first batch of each size, then uses the fastest."""

    def __init__(self, model, f_trn, points: torch.Tensor):
        self.model = model
        self.owner: Trajectory | None = None
        self.fns = {m: build(f_trn, points) for m, build in _HVP_BUILDERS.items()}

    def __call__(self, ks: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        key = (V.device, V.dtype, V.shape[0])
        choices = _AUTO_CHOICES.setdefault(self.model, {})
        result = None
        if key in choices:
            try:
                result = self.fns[choices[key]](ks, V)
            except _MODE_FAILURES:  # chosen with another loss_fn (e.g. one with a forward rule)
                del choices[key]
        if result is None:
            choices[key], result = self._measure(ks, V)
        if self.owner is not None:
            self.owner.hvp_mode = f"auto:{choices[key]}"
        return result

    def _measure(self, ks: torch.Tensor, V: torch.Tensor) -> tuple[str, torch.Tensor]:
        """Run every mode twice, time the second run; the fastest mode and its result."""
        results, times, failures = {}, {}, []
        for mode, fn in self.fns.items():
            try:
                results[mode] = fn(ks, V)  # warm-up (first-call overheads), result kept
            except _MODE_FAILURES as exc:  # e.g. no forward-mode AD rule
                failures.append(f"{mode}: {exc}")
                continue
            _sync(V)
            start = time.perf_counter()
            fn(ks, V)
            _sync(V)
            times[mode] = time.perf_counter() - start
        if not times:
            raise RuntimeError("every HVP mode failed: " + "; ".join(failures))
        best = min(times, key=times.get)
        return best, results[best]


def _sync(t: torch.Tensor) -> None:
    if t.is_cuda:
        torch.cuda.synchronize(t.device)


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
