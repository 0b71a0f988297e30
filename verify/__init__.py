"""Verification of the paper's statements and of meta-gradient estimators (docs/verify.md).

* :mod:`verify.strategies` -- Hypothesis strategies (bound parameters, Hessian sequences under
  Assumptions 3.5/3.7/3.9, trajectories);
* :mod:`verify.registry` -- ``REGISTRY``: every statement with its reference, assumption, check;
* :func:`check_estimator` -- property-test an estimator against references and bounds;
* :class:`VerifyInputError` -- the package's input error (a ``ValueError``, one-line message);
* ``binomgbml verify`` / ``binomgbml check-estimator`` (:mod:`verify.cli`).

Imports are lazy, so that ``import verify.experiments`` stays cheap.
"""

from __future__ import annotations

import importlib

__all__ = ["REGISTRY", "VerifyInputError", "check_estimator", "strategies"]

_LAZY = {"REGISTRY": ("verify.registry", "REGISTRY"), "check_estimator": ("verify.check", "check_estimator"),
         "VerifyInputError": ("verify.errors", "VerifyInputError"), "strategies": ("verify.strategies", None)}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'verify' has no attribute {name!r}")
    module, attr = _LAZY[name]
    mod = importlib.import_module(module)
    return mod if attr is None else getattr(mod, attr)
