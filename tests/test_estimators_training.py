"""The training helpers in one process: MetaObjective's backward equals accumulate_meta_gradient;
frozen parameters are never given a .grad; a user's estimate is checked (type, dtype, device,
shape, finiteness) on every path before it reaches .grad; bad estimator options and arguments are
input errors, not bare TypeErrors."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from estimators import (
    EstimatorInputError,
    MetaObjective,
    accumulate_meta_gradient,
    binom,
    fo,
    maml_autograd,
    meta_gradient,
)

K, ALPHA = 2, 0.05


def mse(out, y):
    return ((out - y) ** 2).mean()


def make_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 6), nn.Tanh(), nn.Linear(6, 1)).double()


def tasks(n: int = 3, seed: int = 1) -> list:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        A = 0.1 + 4.9 * torch.rand((), generator=gen, dtype=torch.float64)
        pair = []
        for _ in range(2):
            x = -5 + 10 * torch.rand((5, 1), generator=gen, dtype=torch.float64)
            pair.append((x, A * torch.sin(x)))
        out.append(tuple(pair))
    return out


def grads(model) -> list:
    return [None if p.grad is None else p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("estimator,options", [
    ("fo", {}), ("trunc", {"L": 1}), ("binom", {"L": 1}), ("maml", {}),
    ("imaml", {"lam": 2.0, "steps": 2}), ("maml_autograd", {}),
    ("binom", {"L": 2, "vmap_tasks": True, "hvp": "reverse"}),
])
def test_meta_objective_backward_is_accumulate_meta_gradient_exactly(estimator, options):
    batch = tasks()
    a, b = make_model(), make_model()
    if estimator != "maml_autograd":  # "auto" picks a mode per model by timing: not bit for bit
        options = {"hvp": "reverse", **options}
    loss = accumulate_meta_gradient(a, mse, batch, K, ALPHA, estimator, **options)
    value = MetaObjective(b, mse, K, ALPHA, estimator, **options)(batch)
    assert value.ndim == 0 and value.item() == loss
    value.backward()
    for x, y in zip(grads(a), grads(b)):
        assert torch.equal(x, y)
    if estimator == "maml":
        truth = sum(maml_autograd(a, mse, s, q, K, ALPHA) for s, q in batch) / len(batch)
        flat = torch.cat([g.reshape(-1) for g in grads(b)])
        assert float((flat - truth).norm() / truth.norm()) < 1e-10


@pytest.mark.parametrize("hvp", ["auto", "graph", "reverse"])
def test_memory_reaches_every_trajectory_and_flat_gives_the_maml_meta_gradient(hvp, monkeypatch):
    """memory="flat" (one gradient graph at a time) through all three entry points: every task's
    trajectory is built with it, and binom(L = K) = MAML equals autograd through the unrolled loop."""
    from estimators import Trajectory
    seen, original = [], Trajectory.from_model.__func__

    def spy(cls, *args, **kwargs):
        seen.append(kwargs.get("memory"))
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Trajectory, "from_model", classmethod(spy))
    batch = tasks()
    truth = sum(maml_autograd(make_model(), mse, s, q, K, ALPHA) for s, q in batch) / len(batch)
    vec, _ = meta_gradient(make_model(), mse, batch, K, ALPHA, "binom", L=K, hvp=hvp, memory="flat")
    a, b = make_model(), make_model()
    accumulate_meta_gradient(a, mse, batch, K, ALPHA, "binom", L=K, hvp=hvp, memory="flat")
    MetaObjective(b, mse, K, ALPHA, "binom", L=K, hvp=hvp, memory="flat")(batch).backward()
    assert seen == ["flat"] * 3 * len(batch)
    for flat in (vec, torch.cat([p.grad.reshape(-1) for p in a.parameters()]),
                 torch.cat([p.grad.reshape(-1) for p in b.parameters()])):
        assert float((flat - truth).norm() / truth.norm()) < 1e-12


def test_frozen_parameters_get_no_grad_and_do_not_move():
    for use_objective in (False, True):
        model = make_model()
        frozen = model[0].bias
        frozen.requires_grad_(False)
        before = frozen.detach().clone()
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.1)
        for _ in range(2):
            opt.zero_grad()
            if use_objective:
                MetaObjective(model, mse, K, ALPHA, "binom", L=1)(tasks()).backward()
            else:
                accumulate_meta_gradient(model, mse, tasks(), K, ALPHA, "binom", L=1)
            opt.step()
        assert frozen.grad is None and torch.equal(frozen, before)
        assert model[0].weight.grad is not None and model[2].weight.grad is not None


def _returning(value_fn, name):
    def estimator(traj):
        return value_fn(fo(traj))

    estimator.__name__ = name
    return estimator


BAD_ESTIMATES = [  # (what the callable returns from fo(traj), what the message must say)
    (lambda v: v * math.nan, "returned 19 non-finite entries (the first, nan, at index 0)"),
    (lambda v: torch.cat([v[:-1], v.new_full((1,), math.inf)]),
     "returned 1 non-finite entries (the first, inf, at index 18)"),
    (lambda v: v[:-1], "returned shape (18,): need (19,)"),
    (lambda v: v.reshape(1, -1), "returned shape (1, 19): need (19,)"),
    (lambda v: v.float(), "returned dtype torch.float32: need the trajectory's torch.float64"),
    (lambda v: v.to(torch.bfloat16), "returned dtype torch.bfloat16: need"),
    (lambda v: v.to(torch.complex128), "returned dtype torch.complex128: need"),
    (lambda v: v.to(torch.int64), "returned dtype torch.int64: need"),
    (lambda v: v.tolist(), "returned a list: need a torch.Tensor of shape (19,)"),
    (lambda v: v.numpy(), "returned a ndarray: need a torch.Tensor"),
    (lambda v: None, "returned a NoneType: need a torch.Tensor"),
]


@pytest.mark.parametrize("path", ["sequential", "vmap", "objective"])
@pytest.mark.parametrize("case", range(len(BAD_ESTIMATES)))
def test_a_bad_estimate_is_an_input_error_and_never_reaches_grad(path, case):
    make, needle = BAD_ESTIMATES[case]
    if path == "vmap" and case in (8, 9):
        pytest.skip("a batched tensor under vmap has no list or NumPy form")
    if path == "vmap" and case in (0, 1):
        needle = "non-finite meta-gradient estimate"  # vmap checks the stacked estimates
    estimator = _returning(make, "mine")
    model = make_model()
    with pytest.raises(EstimatorInputError) as info:
        if path == "objective":
            MetaObjective(model, mse, K, ALPHA, estimator)(tasks()).backward()
        else:
            accumulate_meta_gradient(model, mse, tasks(), K, ALPHA, estimator,
                                     vmap_tasks=path == "vmap", hvp="reverse")
    message = str(info.value)
    assert needle in message and "\n" not in message, message
    if path != "vmap" or case > 1:
        assert message.startswith("estimator mine returned")
    assert all(g is None for g in grads(model))


@pytest.mark.parametrize("call,needle", [
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, "binom"),
     ("estimator='binom' cannot be called with no options: missing a required argument: 'L'; it is "
     "binom(traj, L, *, chunk_size=None, rescale=False")),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, "trunc", M=2),
     "estimator='trunc' cannot be called with M=2: "),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, "fo", L=1),
     "estimator='fo' cannot be called with L=1: got an unexpected keyword argument 'L'"),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, "binom", L=1, chunksize=2),
     "cannot be called with L=1, chunksize=2: got an unexpected keyword argument 'chunksize'"),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, "imaml", lam=1.0),
     "missing a required argument: 'steps'"),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, "maml_autograd", L=2),
     "estimator='maml_autograd' takes no options: got L=2"),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, lambda: None),
     "estimator=<lambda> cannot be called with no options: too many positional arguments"),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, lambda traj, x: None),
     "missing a required argument: 'x'"),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, 5), "estimator=5 must be one of fo, trunc"),
    (lambda m, t: meta_gradient(m, 5, t, K, ALPHA, "fo"), "loss_fn=5 must be callable"),
    (lambda m, t: meta_gradient(m, mse, 5, K, ALPHA, "fo"), "tasks of type int must be an iterable"),
    (lambda m, t: meta_gradient(m, mse, t[0][0][0], K, ALPHA, "fo"),
     "tasks of type Tensor must be an iterable"),
    (lambda m, t: meta_gradient("net", mse, t, K, ALPHA, "fo"), "model=str must be a torch.nn.Module"),
    (lambda m, t: MetaObjective(m, mse, K, ALPHA, "binom"), "missing a required argument: 'L'"),
    (lambda m, t: MetaObjective(m, mse, K, 0.0, "fo"), "alpha=0.0 must be finite and > 0"),
    (lambda m, t: MetaObjective(m, mse, K, ALPHA, "fo", hvp="fast"), "hvp='fast' must be one of"),
    (lambda m, t: MetaObjective(m, mse, K, ALPHA, "fo", memory="low"),
     "memory='low' must be one of fast, flat"),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, "fo", memory=None),
     "memory=None must be one of fast, flat"),
    (lambda m, t: accumulate_meta_gradient(m, mse, t, K, ALPHA, "fo", memory="flat", hvp="graphs"),
     "hvp='graphs' must be one of"),
    (lambda m, t: MetaObjective(m, mse, K, ALPHA, "imaml", lam=1.0, steps=1, vmap_tasks=True),
     "estimator='imaml' cannot run with vmap_tasks=True"),
    (lambda m, t: meta_gradient(m, mse, t, K, ALPHA, "fo", group="world"),
     "group='world': torch.distributed is not initialised"),
])
def test_bad_arguments_are_input_errors(call, needle):
    model = make_model()
    with pytest.raises(EstimatorInputError) as info:
        call(model, tasks())
    assert needle in str(info.value) and "\n" not in str(info.value), str(info.value)
    assert all(g is None for g in grads(model))


def test_a_good_callable_with_options_still_works():
    model = make_model()
    vec, _ = meta_gradient(model, mse, tasks(), K, ALPHA, lambda traj, L: binom(traj, L), L=K)
    truth, _ = meta_gradient(model, mse, tasks(), K, ALPHA, "maml_autograd")
    np.testing.assert_allclose(vec.numpy(), truth.numpy(), rtol=1e-10, atol=1e-12)
