"""PyTorch meta-gradient estimators over one :class:`Trajectory` abstraction (docs/estimators.md).

A :class:`Trajectory` carries alpha, g and a batched Hessian-vector product; it is built from
explicit Hessians (:meth:`Trajectory.from_hessians`) or from a model
(:meth:`Trajectory.from_model`, HVPs in :mod:`estimators.hvp`). Every estimator is a function of a trajectory:

* :func:`fo` (g), :func:`trunc` (eq. (5)), :func:`maml` (eq. (4));
* :func:`binom` (eq. (8), the cascade of Theorem 3.2 / corrected Algorithm 2);
* :func:`hybrid` (eq. (39)); :func:`imaml` (conjugate gradient on (I + H/lam) x = g).
* :func:`ibaml`, :func:`bayes_explicit`: iBaML's Bayesian meta-gradients over a :class:`BayesianTask`.

:func:`maml_autograd` is the independent ground truth (autograd through the unrolled loop), and
:func:`accumulate_meta_gradient` puts a meta-batch estimate into ``.grad`` for any optimizer, and
:class:`MetaObjective` is the same as a loss to backpropagate (under DistributedDataParallel too;
:mod:`estimators.distributed`).
The dense NumPy / exact-rational yardstick is :mod:`estimators.reference` (independent code).

The names are imported on first use, so that ``from estimators import reference`` (NumPy and
fractions only) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers; at run time the names below are imported on first use
    from .backprop import fo, maml, trunc
    from .bayesian import (BayesianTask, IbamlResult, bayes_explicit, bayes_inner_loop, ibaml,
                           linear_gaussian_task)
    from .binomial import binom, hybrid
    from .errors import EstimatorInputError
    from .implicit import CGResult, imaml, imaml_cg, imaml_exact
    from .multistep import multistep_maml, resampling_meta_gradient
    from .training import ESTIMATORS, MetaObjective, accumulate_meta_gradient, meta_gradient
    from .trajectory import HVP_MODES, MEMORY_MODES, SCHEDULES, Trajectory
    from .unrolled import maml_autograd

__all__ = [
    "ESTIMATORS",
    "HVP_MODES",
    "MEMORY_MODES",
    "SCHEDULES",
    "BayesianTask",
    "CGResult",
    "EstimatorInputError",
    "IbamlResult",
    "MetaObjective",
    "Trajectory",
    "accumulate_meta_gradient",
    "bayes_explicit",
    "bayes_inner_loop",
    "binom",
    "fo",
    "hybrid",
    "ibaml",
    "imaml",
    "imaml_cg",
    "imaml_exact",
    "linear_gaussian_task",
    "maml",
    "maml_autograd",
    "meta_gradient",
    "multistep_maml",
    "resampling_meta_gradient",
    "trunc",
]

#: public name -> the module that defines it
_MODULES = {
    "fo": "backprop", "maml": "backprop", "trunc": "backprop",
    "BayesianTask": "bayesian", "IbamlResult": "bayesian", "bayes_explicit": "bayesian",
    "bayes_inner_loop": "bayesian", "ibaml": "bayesian", "linear_gaussian_task": "bayesian",
    "binom": "binomial", "hybrid": "binomial", "EstimatorInputError": "errors",
    "CGResult": "implicit", "imaml": "implicit", "imaml_cg": "implicit", "imaml_exact": "implicit",
    "multistep_maml": "multistep", "resampling_meta_gradient": "multistep",
    "ESTIMATORS": "training", "MetaObjective": "training", "accumulate_meta_gradient": "training",
    "meta_gradient": "training",
    "HVP_MODES": "trajectory", "MEMORY_MODES": "trajectory", "SCHEDULES": "trajectory",
    "Trajectory": "trajectory", "maml_autograd": "unrolled",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'estimators' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULES[name]}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
