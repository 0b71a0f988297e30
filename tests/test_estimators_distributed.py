"""Meta-gradients across processes: two CPU ranks (gloo, spawned here) against one process.

For fo, trunc, binom, maml, imaml (and maml_autograd, and binom under vmap), a few Adam steps with
``DistributedDataParallel(MetaObjective(...))`` and with ``accumulate_meta_gradient(...,
group=WORLD)``, the tasks of each meta-batch split unevenly between the two ranks (1:4, 3:2, 4:1),
must leave the parameters equal to a single process's ``accumulate_meta_gradient`` over all the
tasks, to 1e-12 in float64. Also: ``no_sync`` accumulation under a gradient scaler; a rank whose
estimate is NaN, or that has no tasks, makes both ranks raise (no rank left waiting).
"""

import datetime
import functools
import math
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from estimators import EstimatorInputError, MetaObjective, accumulate_meta_gradient, fo

K, ALPHA, LR = 2, 0.05, 0.01
STEPS, TASKS = 3, 5
CUTS = (1, 3, 4)  # rank 0 takes tasks[:cut] of step s, rank 1 the rest
CASES = {
    "fo": ("fo", {}),
    "trunc": ("trunc", {"L": 1}),
    "binom": ("binom", {"L": 1}),
    "maml": ("maml", {}),
    "imaml": ("imaml", {"lam": 2.0, "steps": 3}),
    "maml_autograd": ("maml_autograd", {}),
    "binom_vmap": ("binom", {"L": 1, "vmap_tasks": True, "hvp": "reverse"}),
}
TIMEOUT_S = 240


def mse(out, y):
    return ((out - y) ** 2).mean()


def make_model() -> nn.Module:
    gen = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    model = model.double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.7)
    return model


def meta_batches() -> list:
    gen = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(STEPS):
        tasks = []
        for _ in range(TASKS):
            A, phase = 0.1 + 4.9 * torch.rand((), generator=gen), math.pi * torch.rand((), generator=gen)
            pair = []
            for n in (6, 7):
                x = -5 + 10 * torch.rand((n, 1), generator=gen, dtype=torch.float64)
                pair.append((x, A * torch.sin(x + phase)))
            tasks.append(tuple(pair))
        batches.append(tasks)
    return batches


@functools.cache
def single_process(estimator: str, options: tuple) -> list[torch.Tensor]:
    """The yardstick: one process, every task of each meta-batch, accumulate_meta_gradient."""
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for tasks in meta_batches():
        opt.zero_grad()
        accumulate_meta_gradient(model, mse, tasks, K, ALPHA, estimator, **dict(options))
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def _share(tasks: list, rank: int, cut: int) -> list:
    return tasks[:cut] if rank == 0 else tasks[cut:]


def _train(rank: int, estimator: str, options: dict, path: str) -> list[torch.Tensor]:
    options = dict(options)
    flags = {k: options.pop(k) for k in ("vmap_tasks", "hvp") if k in options}
    model = make_model()
    if path == "ddp":
        net = DistributedDataParallel(MetaObjective(model, mse, K, ALPHA, estimator, **flags, **options))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for tasks, cut in zip(meta_batches(), CUTS):
        opt.zero_grad()
        mine = _share(tasks, rank, cut)
        if path == "ddp":
            net(mine).backward()
        else:
            accumulate_meta_gradient(model, mse, mine, K, ALPHA, estimator, group=dist.group.WORLD,
                                     **flags, **options)
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def _no_sync_with_scaler(rank: int) -> list[torch.Tensor]:
    """Two micro-batches per step (3 tasks split 2:1 under no_sync, then 2 split 1:1), scaled."""
    model = make_model()
    net = DistributedDataParallel(MetaObjective(model, mse, K, ALPHA, "binom", L=1))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    for tasks in meta_batches():
        opt.zero_grad()
        with net.no_sync():
            scaler.scale(net(_share(tasks[:3], rank, 2))).backward()
        scaler.scale(net(_share(tasks[3:], rank, 1))).backward()
        scaler.step(opt)
        scaler.update()
    return [p.detach().clone() for p in model.parameters()]


def _error(call) -> str:
    try:
        call()
    except EstimatorInputError as exc:
        return f"EstimatorInputError: {exc}"
    except Exception as exc:  # noqa: BLE001 (reported to the test, which fails on it)
        return f"{type(exc).__name__}: {exc}"
    return "no error"


def _failures(rank: int) -> dict:
    model = make_model()
    tasks = meta_batches()[0]
    net = DistributedDataParallel(MetaObjective(model, mse, K, ALPHA, "fo"))

    def poisoned(traj):  # NaN on rank 1 only
        return fo(traj) * (math.nan if rank == 1 else 1.0)

    poisoned_ddp = DistributedDataParallel(MetaObjective(make_model(), mse, K, ALPHA, poisoned))
    world = dist.group.WORLD
    return {
        "nan_ddp": _error(lambda: poisoned_ddp(_share(tasks, rank, 2)).backward()),
        "nan_group": _error(lambda: accumulate_meta_gradient(model, mse, _share(tasks, rank, 2), K,
                                                             ALPHA, poisoned, group=world)),
        "empty_ddp": _error(lambda: net(tasks if rank == 0 else []).backward()),
        "empty_group": _error(lambda: accumulate_meta_gradient(
            model, mse, tasks if rank == 0 else [], K, ALPHA, "fo", group=world)),
        "after": _error(lambda: net(_share(tasks, rank, 2)).backward()),  # still usable
    }


def _worker(rank: int, world: int, store: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))
    try:
        results = {f"{name}/{path}": _train(rank, est, opts, path)
                   for name, (est, opts) in CASES.items() for path in ("ddp", "group")}
        results["no_sync_scaler"] = _no_sync_with_scaler(rank)
        results["failures"] = _failures(rank)
        torch.save(results, os.path.join(out, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """Run the two ranks once; their results, rank 0 first."""
    out = tmp_path_factory.mktemp("ddp")
    context = mp.start_processes(_worker, args=(2, str(out / "store"), str(out)), nprocs=2,
                                 join=False, start_method="spawn")
    try:
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=TIMEOUT_S)
        while not context.join(timeout=5):
            if datetime.datetime.now() > deadline:
                pytest.fail(f"the two ranks did not finish within {TIMEOUT_S} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
    return [torch.load(out / f"rank{r}.pt") for r in range(2)]


def _max_abs_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max(float((x.detach() - y.detach()).abs().max()) for x, y in zip(a, b))


@pytest.mark.parametrize("path", ["ddp", "group"])
@pytest.mark.parametrize("name", list(CASES))
def test_two_ranks_equal_one_process_over_the_union_of_the_tasks(ranks, name, path):
    estimator, options = CASES[name]
    truth = single_process(estimator, tuple(options.items()))
    start = make_model()
    assert _max_abs_diff(truth, list(start.parameters())) > 1e-3  # the steps moved the parameters
    for rank in (0, 1):
        assert _max_abs_diff(ranks[rank][f"{name}/{path}"], truth) <= 1e-12, (name, path, rank)


def test_no_sync_accumulation_and_a_gradient_scaler_work_unchanged(ranks):
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for tasks in meta_batches():  # the same two micro-batches, each a mean over its tasks
        opt.zero_grad()
        accumulate_meta_gradient(model, mse, tasks[:3], K, ALPHA, "binom", L=1)
        accumulate_meta_gradient(model, mse, tasks[3:], K, ALPHA, "binom", L=1)
        opt.step()
    truth = [p.detach() for p in model.parameters()]
    for rank in (0, 1):
        assert _max_abs_diff(ranks[rank]["no_sync_scaler"], truth) <= 1e-12


def test_a_failing_or_empty_rank_makes_every_rank_raise(ranks):
    failed, healthy = ranks[1]["failures"], ranks[0]["failures"]
    for path in ("ddp", "group"):
        assert failed[f"nan_{path}"] == ("EstimatorInputError: estimator poisoned returned 97 "
                                         "non-finite entries (the first, nan, at index 0): need all "
                                         "entries finite")
        assert healthy[f"nan_{path}"] == ("EstimatorInputError: the meta-gradient failed on 1 "
                                          "other rank(s) of 2: see their error")
        for rank in (0, 1):
            message = ranks[rank]["failures"][f"empty_{path}"]
            assert message.startswith("EstimatorInputError: 1 rank(s) of 2 have no tasks"), message
    assert healthy["after"] == failed["after"] == "no error"
