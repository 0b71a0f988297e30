"""The bounds on the user's own model: constants of a real trajectory, next to the actual errors.

:func:`diagnose` takes an ``estimators.Trajectory`` (usually from ``Trajectory.from_model``) and

1. measures the per-step extreme eigenvalues of H^0..H^{K-1} by Lanczos (:mod:`verify.spectra`),
   hence H, h over the last M steps when positive, and whether Assumptions 3.7 / 3.9 hold along
   this trajectory;
2. evaluates every bound that applies with those constants (Theorem 3.6 always; 3.8 when the
   Hessians are PSD and alpha H <= 1; 3.10 when the last M are positive definite, alpha H <= 1 and
   M <= min(L, K-L)), as printed and corrected (the variants of :mod:`verify.tightness`), times
   ``||g||``;
3. puts each next to the estimator's actual error ``||estimate(L) - maml||`` against the exact
   meta-gradient P^K g (``estimators.maml``), for L = 0..K.

The bounds depend on the Hessians only at the visited points, so with these constants they bound
this trajectory's errors (for a bound that holds in general; the printed (12a), (12b), (13a) do not,
docs/errata.md), up to the accuracy of the Lanczos estimates, which the report states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from estimators import Trajectory

from .spectra import TOL, StepSpectra, step_spectra
from .tightness import VARIANTS, variants

__all__ = ["THEOREMS", "Diagnosis", "actual_errors", "diagnose"]

#: the theorems whose bounds are evaluated
THEOREMS = ("3.6", "3.8", "3.10")
_ESTIMATORS = ("fo", "trunc", "binom")


def actual_errors(traj: Trajectory) -> dict[str, list[float]]:
    """``{estimator: [||estimate(L) - maml|| for L = 0..K]}`` for fo, trunc and binom."""
    import torch

    import estimators

    exact = estimators.maml(traj)
    fo = float(torch.linalg.vector_norm(estimators.fo(traj) - exact))
    out = {"fo": [fo] * (traj.K + 1)}
    for name in ("trunc", "binom"):
        estimator = getattr(estimators, name)
        out[name] = [float(torch.linalg.vector_norm(estimator(traj, L) - exact))
                     for L in range(traj.K + 1)]
    return out


@dataclass
class Diagnosis:
    """Constants of one trajectory and the bound-vs-error rows (see :func:`diagnose`)."""

    K: int
    d: int
    alpha: float
    M: int
    g_norm: float
    maml_norm: float
    spectra: StepSpectra
    rows: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    @property
    def H(self) -> float:
        return self.spectra.H

    @property
    def h(self) -> float | None:
        return self.spectra.h(self.M)

    @property
    def assumptions(self) -> dict[str, bool]:
        """Whether each assumption holds along this trajectory (3.5 always, with H measured)."""
        return {"3.5": True, "3.7": self.spectra.convex, "3.9": self.h is not None}

    def to_json(self) -> dict:
        return {"K": self.K, "d": self.d, "alpha": self.alpha, "M": self.M, "H": self.H, "h": self.h,
                "alpha_H": self.alpha * self.H, "g_norm": self.g_norm, "maml_norm": self.maml_norm,
                "assumptions": self.assumptions, "spectra": self.spectra.to_json(),
                "lanczos_residual": self.spectra.residual, "rows": self.rows,
                "not_applicable": self.skipped}


def _reason(theorem: str, diag: Diagnosis, L: int) -> str | None:
    """Why ``theorem`` does not apply along this trajectory at L, or None."""
    import bounds

    if theorem == "3.8" and not diag.spectra.convex:
        low = min(r.value for r in diag.spectra.lam_min)
        return f"Assumption 3.7 fails along the trajectory: lambda_min = {low:.6g} < 0"
    if theorem == "3.10" and diag.h is None:
        low = min(r.value for r in diag.spectra.lam_min[diag.K - diag.M:])
        return (f"Assumption 3.9 fails along the trajectory: lambda_min over the last M = {diag.M} "
                f"steps is {low:.6g}, not positive")
    return bounds.not_applicable(theorem, diag.K, L, diag.alpha, diag.H, diag.h, diag.M)


def diagnose(traj: Trajectory, *, M: int = 1, variant: str = "all", tol: float = TOL, seed: int = 0,
             spectra: StepSpectra | None = None) -> Diagnosis:
    """Constants of ``traj`` and every applicable bound (times ``||g||``) next to the actual error.

    ``variant``: "printed", "corrected" or "all" (both, where a corrected form exists). ``M`` is
    Assumption 3.9's number of strongly convex last steps (Theorem 3.10). Lanczos ``tol`` and
    ``seed`` as in :func:`verify.spectra.step_spectra`, or ``spectra`` computed before. Each row is a dict with ``theorem``,
    ``variant``, ``estimator``, ``L``, ``bound`` (times ``||g||``), ``error`` and ``ratio`` (error /
    bound; None when the bound is 0); ``skipped`` lists ``{"theorem", "L", "reason"}`` where a
    theorem does not apply.
    """
    import torch

    import estimators

    if variant not in (*VARIANTS, "all"):
        raise ValueError(f"variant={variant!r} is not one of {', '.join(VARIANTS)}, all")
    if isinstance(M, bool) or not isinstance(M, int) or not 1 <= M <= traj.K:
        raise ValueError(f"M={M!r} must be an integer in 1..K = 1..{traj.K}")
    if spectra is None:
        spectra = step_spectra(traj, tol=tol, seed=seed)
    elif spectra.K != traj.K:
        raise ValueError(f"spectra has K = {spectra.K} steps, the trajectory K = {traj.K}")
    if spectra.H == 0:
        raise ValueError("the Hessians along the trajectory are 0 (H = 0): every estimator equals "
                         "maml and there is no bound to evaluate")
    g_norm = float(torch.linalg.vector_norm(traj.g))
    diag = Diagnosis(traj.K, traj.d, float(traj.alpha), M, g_norm,
                     float(torch.linalg.vector_norm(estimators.maml(traj))), spectra)
    errors = actual_errors(traj)
    for theorem in THEOREMS:
        for L in range(traj.K + 1):
            reason = _reason(theorem, diag, L)
            if reason:
                diag.skipped.append({"theorem": theorem, "L": L, "reason": reason})
                continue
            p = {"K": traj.K, "L": L, "alpha": diag.alpha, "H": diag.H,
                 "h": diag.h if theorem == "3.10" else None, "M": M if theorem == "3.10" else None}
            for estimator in _ESTIMATORS:
                for name, bound in variants(theorem, estimator, variant, p, exact=False):
                    value, error = bound * g_norm, errors[estimator][L]
                    if not math.isfinite(value):
                        raise RuntimeError(f"internal error: Theorem {theorem} {estimator} bound {value}")
                    diag.rows.append({"theorem": theorem, "variant": name, "estimator": estimator,
                                      "L": L, "bound": value, "error": error,
                                      "ratio": error / value if value else None})
    return diag
