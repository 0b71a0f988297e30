"""Hessian-vector products of a model's training loss at the stored points of an inner loop.

:meth:`estimators.Trajectory.from_model` stores the points phi^0..phi^K of the inner loop and
answers ``hvp(ks, V)`` (row j: H^{ks[j]} V[j]) with one of the modes below. H^k v is the derivative
of the gradient at phi^k along v; the modes differ in where that gradient comes from and how it is
differentiated again:

* ``"graph"``: reverse-over-reverse with ``torch.autograd`` from the gradient at phi^k computed with
  its graph on a detached leaf (``create_graph=True``; graphs are not chained across steps as in
  MAML), so one gradient serves every HVP at its point: with ``memory="fast"`` the inner loop's own
  gradient computations are kept and no gradient is computed twice; with ``memory="flat"`` the
  gradient at a point is rebuilt when its HVPs are asked for, and only the last point's graph is
  held. Rows are differentiated one after another.
* ``"forward"``: forward-over-reverse, ``jvp`` of ``torch.func.grad``, vmapped over the rows;
* ``"reverse"``: reverse-over-reverse, ``vjp`` of ``torch.func.grad``, vmapped;
* ``"revfwd"``: reverse-over-forward, ``grad`` of the directional derivative ``jvp(f, phi, v)``,
  vmapped;
* ``"loop"``: one ``torch.autograd`` double backward per row, the gradient recomputed each time.

The three ``torch.func`` modes recompute the gradient at each call: once for all rows of a call at
one point (the point is not batched), once per row for rows at different points (one vmapped call
over the points, the parallel HVPs of Algorithm 1). ``"auto"`` picks a mode: see :class:`AutoHvp`.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch.func import grad, jvp, vjp, vmap

from .errors import EstimatorInputError

__all__ = ["HVP_MODES", "MEMORY_MODES", "AutoHvp", "PointGradients", "model_hvp"]

#: the ways :meth:`Trajectory.from_model` can compute a batch of HVPs
HVP_MODES = ("auto", "graph", "forward", "reverse", "revfwd", "loop")
#: what :meth:`Trajectory.from_model` keeps for the HVPs: the gradient graphs too, or the points only
MEMORY_MODES = ("fast", "flat")


def check_modes(hvp: Any, memory: Any) -> None:
    """Raise an :class:`EstimatorInputError` unless ``hvp`` is one of :data:`HVP_MODES` and
    ``memory`` one of :data:`MEMORY_MODES`."""
    if hvp not in HVP_MODES:
        raise EstimatorInputError(f"hvp={hvp!r} must be one of {', '.join(HVP_MODES)}")
    if memory not in MEMORY_MODES:
        raise EstimatorInputError(f"memory={memory!r} must be one of {', '.join(MEMORY_MODES)}")

HvpFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Loss = Callable[[torch.Tensor], torch.Tensor]


# -- gradients with their graphs at the stored points ------------------------------------------------

def gradient_with_graph(f_trn: Loss, phi: torch.Tensor, *, create_graph: bool = True
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(leaf, grad f_trn(leaf), f_trn(leaf))`` on a fresh detached leaf at ``phi``, the gradient's
    graph kept if ``create_graph``. A loss linear in phi has a gradient without a graph (its
    Hessian is zero)."""
    with torch.enable_grad():
        leaf = phi.detach().requires_grad_(True)
        loss = f_trn(leaf)
        (g,) = torch.autograd.grad(loss, leaf, create_graph=create_graph, allow_unused=True,
                                   materialize_grads=True)
    return leaf, g, loss.detach()


class PointGradients:
    """The gradient of the training loss at each stored point, with its graph (see the module
    docstring): all of them (``keep=True``, filled by the inner loop through :meth:`add`) or only
    the last one asked for (``keep=False``, rebuilt on demand)."""

    def __init__(self, f_trn: Loss, points: torch.Tensor | list[torch.Tensor], *, keep: bool) -> None:
        self.f_trn = f_trn
        self.points = points
        self.keep = keep
        self._graphs: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def add(self, k: int, leaf: torch.Tensor, g: torch.Tensor) -> None:
        if self.keep:
            self._graphs[k] = (leaf, g)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        if k not in self._graphs:
            if not self.keep:
                self._graphs.clear()  # free the previous point's graph before building this one
            self._graphs[k] = gradient_with_graph(self.f_trn, self.points[k])[:2]
        return self._graphs[k]

    def hvp(self, k: int, v: torch.Tensor) -> torch.Tensor:
        """H^k v: one backward pass through the gradient graph at phi^k (kept for later rows)."""
        leaf, g = self[k]
        if not g.requires_grad:  # the loss is linear in phi: its Hessian is zero
            return torch.zeros_like(v)
        with torch.enable_grad():
            (hv,) = torch.autograd.grad(g, leaf, v, retain_graph=True, allow_unused=True,
                                        materialize_grads=True)
        return hv


def inner_loop_with_graphs(f_trn: Loss, theta: torch.Tensor, K: int, alpha: float,
                           grads: PointGradients) -> tuple[list[torch.Tensor], torch.Tensor]:
    """phi^0..phi^K by eq. (2b) with ``torch.autograd``, and the training loss at phi^0; if
    ``grads`` keeps graphs, each step's gradient is taken with its graph on a detached leaf and
    handed to it. The points carry no graph."""
    points = [theta.detach()]
    for k in range(K):
        leaf, g, loss = gradient_with_graph(f_trn, points[-1], create_graph=grads.keep)
        grads.add(k, leaf, g)
        points.append(torch.sub(points[-1], g.detach(), alpha=alpha))
        if k == 0:
            first_loss = loss
    return points, first_loss


# -- the modes -------------------------------------------------------------------------------------

def _one_point(ks: torch.Tensor) -> int | None:
    """The step index shared by every row of ``ks``, or None when the rows are at several points."""
    k = int(ks[0])
    return k if bool((ks == k).all()) else None


def _hvp_graph(grads: PointGradients) -> HvpFn:
    def hvp_fn(ks: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        if V.shape[0] == 1:
            return grads.hvp(int(ks[0]), V[0]).unsqueeze(0)
        return torch.stack([grads.hvp(k, v) for k, v in zip(ks.tolist(), V)])

    return hvp_fn


def _hvp_loop(f_trn: Loss, points) -> HvpFn:
    """Sequential double backward with ``torch.autograd``, the gradient recomputed for every row."""

    def hvp_fn(ks: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        rows = []
        for k, v in zip(ks.tolist(), V):
            leaf, g, _ = gradient_with_graph(f_trn, points[k])
            if g.requires_grad:
                with torch.enable_grad():
                    (hv,) = torch.autograd.grad(g, leaf, v, allow_unused=True, materialize_grads=True)
            else:  # the loss is linear in phi: its Hessian is zero
                hv = torch.zeros_like(v)
            rows.append(hv)
        return torch.stack(rows)

    return hvp_fn


def _func_mode(one: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
               shared: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], points) -> HvpFn:
    """A ``torch.func`` mode from ``one(phi, v) = H(phi) v`` (vmapped over points and rows) and
    ``shared(phi, V)``, the rows of V at one point phi (vmapped over the rows only)."""
    across = vmap(one)

    def hvp_fn(ks: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        k = _one_point(ks)
        if k is not None:
            return shared(points[k], V)
        return across(points[ks], V)

    return hvp_fn


def _hvp_forward(f_trn: Loss, points) -> HvpFn:
    """Forward-over-reverse: ``jvp(grad f, (phi,), (v,))`` = H(phi) v."""
    grad_f = grad(f_trn)

    def one(p, v):
        return jvp(grad_f, (p,), (v,))[1]

    def shared(p, V):
        return vmap(lambda v: jvp(grad_f, (p,), (v,))[1])(V)

    return _func_mode(one, shared, points)


def _hvp_reverse(f_trn: Loss, points) -> HvpFn:
    """Reverse-over-reverse: ``vjp(grad f, phi)(v)`` = H(phi)^T v = H(phi) v (H is symmetric)."""
    grad_f = grad(f_trn)

    def one(p, v):
        return vjp(grad_f, p)[1](v)[0]

    def shared(p, V):
        pullback = vjp(grad_f, p)[1]  # one gradient at p, pulled back along every row
        return vmap(pullback)(V)[0]

    return _func_mode(one, shared, points)


def _hvp_revfwd(f_trn: Loss, points) -> HvpFn:
    """Reverse-over-forward: ``grad_phi <grad f(phi), v>`` with the directional derivative
    ``<grad f(phi), v>`` computed in forward mode (``jvp(f, (phi,), (v,))``) = H(phi) v."""

    def one(p, v):
        return grad(lambda q: jvp(f_trn, (q,), (v,))[1])(p)

    def shared(p, V):
        return vmap(lambda v: one(p, v))(V)

    return _func_mode(one, shared, points)


_FUNC_BUILDERS = {"forward": _hvp_forward, "reverse": _hvp_reverse, "revfwd": _hvp_revfwd}
#: what a mode raises when it cannot differentiate a loss (then "auto" leaves it out)
MODE_FAILURES = (RuntimeError, NotImplementedError)


def model_hvp(mode: str, model: torch.nn.Module, f_trn: Loss, points: Any,
              grads: PointGradients | None) -> HvpFn:
    """The batched HVP ``(ks, V) -> H^{ks[j]} V[j]`` at the stored ``points`` for one mode;
    ``grads`` (the gradients with their graphs) is needed by "graph" and "auto"."""
    if mode == "auto":
        return AutoHvp(model, f_trn, points, grads)  # type: ignore[arg-type]  # given for "auto"
    if mode == "graph":
        return _hvp_graph(grads)  # type: ignore[arg-type]  # given for "graph"
    if mode == "loop":
        return _hvp_loop(f_trn, points)
    return _FUNC_BUILDERS[mode](f_trn, points)


# -- auto ------------------------------------------------------------------------------------------

#: model -> {(device, dtype, rows at one point?): mode}: the measured "auto" choices
AUTO_CHOICES: weakref.WeakKeyDictionary[torch.nn.Module, dict] = weakref.WeakKeyDictionary()
#: how many rows of a call "auto" times each candidate mode on
AUTO_PREFIX = 4


class AutoHvp:
    """The "auto" HVP. A call with a single row uses "graph" (every mode then computes the same one
    gradient and one second derivative; "graph" without vmap's overhead, and with
    ``memory="fast"`` without recomputing the gradient). So does every call with
    ``memory="fast"``: the kept gradient graphs leave each HVP one backward pass, while the
    ``torch.func`` modes would recompute the gradient. With ``memory="flat"``, the first call of
    two or more rows (per model, device, dtype, and whether the rows share one point) times
    "graph", "forward", "reverse" and "revfwd" on its first :data:`AUTO_PREFIX` rows, each after an
    untimed run on one row (first-call overheads); the fastest is cached in :data:`AUTO_CHOICES`
    and used from then on. A mode that raises (some losses have no forward-mode rule) is left out;
    a cached choice that raises (chosen with another ``loss_fn``) is measured again.
    """

    candidates = ("graph", "forward", "reverse", "revfwd")

    def __init__(self, model: Any, f_trn: Loss, points: Any, grads: PointGradients) -> None:
        self.model = model
        self.owner = None  # the Trajectory, to report the mode last used as traj.hvp_mode
        self.keep = grads.keep
        self.graph = _hvp_graph(grads)
        self.fns = {"graph": self.graph}  # with kept graphs, "graph" is the only mode used
        if not self.keep:
            self.fns.update({m: build(f_trn, points) for m, build in _FUNC_BUILDERS.items()})

    def __call__(self, ks: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        if V.shape[0] == 1 or self.keep:
            return self._report("graph", self.graph(ks, V))
        key = (V.device, V.dtype, _one_point(ks) is not None)
        choices = AUTO_CHOICES.setdefault(self.model, {})
        if key in choices:
            try:
                return self._report(choices[key], self.fns[choices[key]](ks, V))
            except MODE_FAILURES:  # chosen with another loss_fn (e.g. one with a forward rule)
                del choices[key]
        choices[key], head = self._measure(ks[:AUTO_PREFIX], V[:AUTO_PREFIX])
        rest = self.fns[choices[key]](ks[AUTO_PREFIX:], V[AUTO_PREFIX:]) if ks.shape[0] > AUTO_PREFIX \
            else head[:0]
        return self._report(choices[key], torch.cat([head, rest]))

    def _report(self, mode: str, result: torch.Tensor) -> torch.Tensor:
        if self.owner is not None:
            self.owner.hvp_mode = f"auto:{mode}"
        return result

    def _measure(self, ks: torch.Tensor, V: torch.Tensor) -> tuple[str, torch.Tensor]:
        """Time every candidate on these rows after an untimed run on the first row; the fastest
        mode and its result."""
        results, times, failures = {}, {}, []
        for mode in self.candidates:
            fn = self.fns[mode]
            try:
                fn(ks[:1], V[:1])  # warm-up: first-call overheads
                _sync(V)
                start = time.perf_counter()
                results[mode] = fn(ks, V)
                _sync(V)
            except MODE_FAILURES as exc:  # e.g. no forward-mode AD rule for this loss
                failures.append(f"{mode}: {' '.join(str(exc).split())}")
                continue
            times[mode] = time.perf_counter() - start
        if not times:
            raise RuntimeError("every HVP mode failed: " + "; ".join(failures))
        best = min(times, key=lambda m: times[m])
        return best, results[best]


def _sync(t: torch.Tensor) -> None:
    if t.is_cuda:
        torch.cuda.synchronize(t.device)
