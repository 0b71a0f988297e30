"""Meta-gradients over the ranks of a ``torch.distributed`` process group (docs/estimators.md).

Each rank computes the estimates of its own tasks; the result is the mean over the union of all
ranks' tasks, as one process would compute it over all of them (eq. (2a)). Two ways:

* a plain process group: ``meta_gradient(..., group=g)`` and ``accumulate_meta_gradient(...,
  group=g)`` all-reduce the sum of the task estimates explicitly (:func:`all_reduce_sum`);
* ``DistributedDataParallel``: :class:`estimators.MetaObjective` wrapped in DDP returns a
  surrogate whose gradient is the estimate, and DDP's own backward hooks average it across ranks.

Both first all-reduce a small header (:func:`union_counts`: the number of tasks, the sum of the
validation losses, the number of failed ranks, of ranks without tasks, the estimate length), so
that an uneven split of the tasks is weighted exactly, and a rank whose estimate failed makes every
rank raise the same error instead of leaving the others blocked in the next collective.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .errors import EstimatorInputError

if TYPE_CHECKING:
    from torch.distributed import ProcessGroup
    from torch.nn.parallel import DistributedDataParallel

__all__ = ["UnionCounts", "active_ddp", "all_reduce_sum", "check_group", "union_counts"]


def _dist():
    import torch.distributed as dist

    return dist


def check_group(group: ProcessGroup) -> int:
    """The size of ``group``, a process group of an initialised ``torch.distributed``; else raise."""
    dist = _dist()
    if not (dist.is_available() and dist.is_initialized()):
        raise EstimatorInputError(f"group={group!r}: torch.distributed is not initialised; need "
                                  "torch.distributed.init_process_group(...) on every rank first")
    if not isinstance(group, dist.ProcessGroup):
        raise EstimatorInputError(f"group={group!r} must be a torch.distributed ProcessGroup "
                                  "(e.g. torch.distributed.group.WORLD)")
    size = dist.get_world_size(group)
    if size < 1:
        raise EstimatorInputError(f"this rank is not a member of group={group!r}")
    return size


@dataclass(frozen=True)
class UnionCounts:
    """The header summed over the ranks: tasks, validation-loss sum, ranks (group size)."""

    n: int
    loss_sum: float
    world: int


def union_counts(n: int, loss_sum: float, d: int, failure: BaseException | None, group: ProcessGroup,
                 device: torch.device) -> UnionCounts:
    """All-reduce (n, loss_sum, failed, empty, d) over ``group``; every rank calls it once per
    meta-batch. Raises on every rank alike when a rank failed (that rank re-raises its own
    ``failure``), has no tasks, or has estimates of another length."""
    dist = _dist()
    world = dist.get_world_size(group)
    failed = failure is not None
    header = torch.tensor([0 if failed else n, 0.0 if failed else loss_sum, float(failed),
                           float(not failed and n == 0), 0 if failed else d],
                          dtype=torch.float64, device=device)
    dist.all_reduce(header, group=group)
    n_total, loss_total, failed_ranks, empty_ranks, d_total = header.tolist()
    if failure is not None:
        raise failure
    if failed_ranks:
        raise EstimatorInputError(f"the meta-gradient failed on {int(failed_ranks)} other rank(s) "
                                  f"of {world}: see their error")
    if empty_ranks:
        raise EstimatorInputError(f"{int(empty_ranks)} rank(s) of {world} have no tasks in this "
                                  "meta-batch: need at least one task per rank (the tasks may be "
                                  "split unevenly)")
    if d_total != world * d:
        raise EstimatorInputError(f"the ranks' estimates differ in length (this rank's: {d}): need "
                                  "the same model, with the same adapted parameters, on every rank")
    return UnionCounts(int(n_total), loss_total, world)


def all_reduce_sum(vec: torch.Tensor, group: ProcessGroup) -> torch.Tensor:
    """The sum of ``vec`` over the ranks of ``group`` (a new tensor; ``vec`` is not modified)."""
    total = vec.detach().clone()
    _dist().all_reduce(total, group=group)
    return total


def active_ddp() -> DistributedDataParallel | None:
    """The ``DistributedDataParallel`` module whose forward is running now, or None.

    DDP records itself while it runs its module's forward (``_get_active_ddp_module``, also what
    TorchDynamo reads); :class:`estimators.MetaObjective` uses it to weight an uneven split by
    DDP's own process group. Not recorded by compiled autograd's Python reducer."""
    dist = _dist()
    if not (dist.is_available() and dist.is_initialized()):
        return None
    from torch.nn.parallel import DistributedDataParallel

    get = getattr(DistributedDataParallel, "_get_active_ddp_module", None)
    if get is None:
        raise EstimatorInputError(f"torch {torch.__version__}: DistributedDataParallel does not "
                                  "report its active module, so MetaObjective cannot weight the "
                                  "ranks' tasks; need meta_gradient(..., group=...) instead")
    return get()
