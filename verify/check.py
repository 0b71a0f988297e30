"""``check_estimator``: property-test a meta-gradient estimator in one call.

An estimator is a function ``(Trajectory, L) -> vector`` (torch tensor or array). It may claim

* ``equals=`` "maml", "binom", "trunc", "fo" (the dense reference ``estimators.reference``, float64)
  or another callable ``(Trajectory, L) -> vector``: equal within ``RTOL`` on every trajectory;
* ``claim=`` a bound id such as "thm3.6.binom" (or several): its error against the exact
  meta-gradient P^K g stays within that bound, under that bound's assumption.

An implicit-gradient estimator is a function ``(Trajectory, lam) -> vector`` (or ``(Trajectory,
lam, steps)`` for an iterative solver) of a trajectory with the Hessian H^K at its final point. It
may claim ``equals="imaml"``: the exact implicit meta-gradient (I + H^K/lam)^{-1} g (iMAML eq. (6),
``estimators.reference_implicit`` in Fractions), or ``claim="imaml.cg"`` with ``steps=``: within the
conjugate-gradient bound 2 sqrt(kappa) q^steps ||x0 - x*|| (the bound the footnote to iMAML's
Theorem 2 relies on, read from ``bounds``) -- :data:`IMPLICIT_CLAIMS`, checked by
:func:`verify.related.imaml.check_implicit_estimator`; their witnesses are saved and replayed
like the others.

Hypothesis draws trajectories (explicit Hessians, float64); for bound claims an adversarial search
(L-BFGS-B over the Hessians and g, from several starts) follows. On failure an ``AssertionError``
shows the shrunk counterexample, the two values and the bound, and a replayable witness JSON is
saved (``binomgbml check-estimator module:function --replay FILE``). Works inside pytest as a
plain call.
"""

from __future__ import annotations

import math
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from .errors import VerifyInputError
from .related.imaml import IMPLICIT_CLAIMS
from .search import _Parametrisation, broken_conditions, hypothesis_find
from .strategies import THEOREM_ASSUMPTION, bound_parameters, hessian_sequences

__all__ = ["IMPLICIT_CLAIMS", "REFERENCES", "RTOL", "EstimatorError", "VerifyInputError", "check_estimator",
           "replay_estimator_witness"]

#: float64 rounding allowed on top of a claim: |a - b| <= bound |g| + RTOL (1 + |b|) (bound = 0
#: for equality); products of a few small Hessians round to ~1e-15, far below RTOL
RTOL = 1e-10
#: named references for ``equals=`` ("imaml": the exact implicit meta-gradient, for estimators
#: ``(Trajectory, lam) -> vector``)
REFERENCES = ("maml", "binom", "trunc", "fo", "imaml")


def _reference(name: str) -> Callable:
    from estimators import reference as ref

    table = {
        "maml": lambda H, g, a, L: ref.meta_gradient(H, g, a),
        "binom": lambda H, g, a, L: ref.expansion_dp(H, g, a, L),
        "trunc": lambda H, g, a, L: ref.truncated(H, g, a, L),
        "fo": lambda H, g, a, L: ref.first_order(g),
    }
    if not isinstance(name, str) or name not in table:
        raise VerifyInputError(f"equals={name!r} is not one of {', '.join(REFERENCES)} or a callable")
    return lambda H, g, a, L: np.asarray(table[name](H, g, a, L), dtype=float)


class EstimatorError(VerifyInputError):
    """The estimator under test (or an ``equals=`` callable) raised instead of returning a vector."""


def _invalid(value, d: int) -> str | None:
    """Why ``value`` is not an estimate on a float64 trajectory in R^d, or None when it is one:
    a torch tensor or NumPy array, real, float64, of shape (d,), finite."""
    import torch

    if isinstance(value, torch.Tensor):
        dtype, shape, is_complex = value.dtype, tuple(value.shape), value.is_complex()
        is_float64 = dtype == torch.float64
    elif isinstance(value, np.ndarray):
        dtype, shape, is_complex = value.dtype, value.shape, np.iscomplexobj(value)
        is_float64 = dtype == np.float64
    else:
        return f"returned {type(value).__name__} {value!r:.60}, not a torch tensor or NumPy array"
    if is_complex:
        return f"returned complex values ({dtype}): a meta-gradient is real (the imaginary part is not dropped)"
    if not is_float64:
        return f"returned dtype {dtype}, expected float64 (the trajectory's dtype)"
    if shape != (d,):
        return f"returned shape {shape}, expected ({d},) (the shape of g)"
    bad = np.flatnonzero(~np.isfinite(_array(value)))
    if bad.size:
        return f"returned non-finite entries ({_array(value)[bad[0]]} at index {bad[0]})"
    return None


def _array(value) -> np.ndarray:
    return value.detach().cpu().numpy() if hasattr(value, "detach") else value


def _run(fn, H, g, alpha, L, what):
    """``fn(trajectory, L)`` on explicit Hessians, as returned (checked by :func:`_invalid`)."""
    from estimators import Trajectory

    H, g = np.array(H), np.array(g)
    try:
        return fn(Trajectory.from_hessians(H, g, float(alpha)), L)
    except Exception as exc:  # the estimator's own failure: one clear line, original chained
        raise EstimatorError(f"{what} raised {type(exc).__name__}: {exc} (called as fn(trajectory, L) "
                             f"with K={H.shape[0]}, L={L}, d={g.shape[0]}, alpha={float(alpha):.6g})") from exc


def _reference_callable(equals: Callable) -> Callable:
    """A user's ``equals=`` callable as a reference: what it returns must be a valid estimate."""

    def other(H, g, alpha, L):
        value = _run(equals, H, g, alpha, L, "equals")
        why = _invalid(value, len(g))
        if why:
            raise EstimatorError(f"the equals= reference {why}")
        return _array(value)

    return other


def _claim_bound(claim_id: str):
    from .registry import REGISTRY

    statement = REGISTRY.get(claim_id) if isinstance(claim_id, str) else None
    if statement is None or not hasattr(statement, "claim"):
        bounds_ids = [s.id for s in REGISTRY.values() if hasattr(s, "claim")]
        raise VerifyInputError(f"claim={claim_id!r} is not a bound id; choose from {', '.join(bounds_ids)}")
    return statement.claim


class _Problem:
    """One claim of one estimator: evaluate a case -> (ok, ratio, details)."""

    def __init__(self, estimator, *, equals=None, claim=None):
        self.estimator = estimator
        if claim is not None:
            self.bound_claim = _claim_bound(claim)
            self.id, self.theorem = claim, self.bound_claim.theorem
            self.other, self.other_name = _reference("maml"), "maml (P^K g)"
        else:
            self.bound_claim, self.theorem = None, "3.6"
            if callable(equals):
                self.other, self.other_name = _reference_callable(equals), getattr(equals, "__name__", "callable")
            else:
                self.other, self.other_name = _reference(equals), f"reference {equals}"
            self.id = f"equals:{self.other_name}"

    def evaluate(self, params, H, g):
        """(ok, error / allowed, details); an invalid estimate is not ok, with details["invalid"]."""
        alpha, L = float(params["alpha"]), params["L"]
        other = self.other(np.array(H), np.array(g), alpha, L)
        allowed = RTOL * (1 + float(np.linalg.norm(other)))  # float64 rounding of the two sides
        details = {}
        if self.bound_claim is not None:
            bound = float(self.bound_claim.bound(params, False)) * float(np.linalg.norm(g))
            allowed += bound
            details["claimed_bound"] = bound
        value = _run(self.estimator, H, g, alpha, L, "the estimator")
        why = _invalid(value, len(g))
        if why:
            return False, math.inf, {"invalid": f"the estimator {why}", "other": other.tolist(),
                                     "bound": allowed, **details}
        mine = _array(value)
        err = float(np.linalg.norm(mine - other))
        ok = bool(err <= allowed)
        ratio = err / allowed if allowed > 0 else (0.0 if err == 0 else math.inf)
        return ok, ratio, {"estimate": mine.tolist(), "other": other.tolist(), "error": err,
                           "bound": allowed, **details}

    def witness(self, params, H, g, details):
        return {"id": self.id, "params": {k: (v if isinstance(v, int) else float(v))
                                          for k, v in params.items() if v is not None},
                "hessians": np.asarray(H, dtype=float).tolist(), "g": np.asarray(g, dtype=float).tolist(),
                **details, "compared_with": self.other_name}


def _cases(theorem, max_K, max_d, commuting=False):
    @st.composite
    def cases(draw):
        params = draw(bound_parameters(theorem=theorem, max_K=max_K))
        d = draw(st.integers(1, max_d))
        H = draw(hessian_sequences(K=params["K"], d=d, assumption=THEOREM_ASSUMPTION[theorem],
                                   H=params["H"], h=params["h"], M=params["M"], commuting=commuting))
        g = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=d, max_size=d))
        return params, H, np.array(g)

    return cases()


def _adversarial(problem: _Problem, starts: int, seed: int, state: dict, max_K: int):
    """Maximise error / bound over the Hessians and g with L-BFGS-B from several starts."""
    from scipy.optimize import minimize

    from .search import _adversarial_params

    rng = np.random.default_rng([seed, zlib.crc32(problem.id.encode())])
    claim = problem.bound_claim
    for start in range(starts):
        params: dict[str, Any] = {k: (float(v) if k in ("alpha", "H", "h") and v is not None else v)
                  for k, v in _adversarial_params(claim, rng, start, max_K=max_K).items()}
        d = 2
        par = _Parametrisation(params["K"], d, claim.intervals(params), claim.commuting)

        def split(x):
            return par.hessians(x[:par.size]), x[par.size:]

        def objective(x):
            H, g = split(x)
            if not np.linalg.norm(g):
                return 0.0
            state["examples"] += 1
            ok, ratio, details = problem.evaluate(params, H, g)
            if "invalid" in details:  # nothing to optimise: this point is the witness
                raise _Invalid(problem.witness(params, H, g, details))
            return -ratio

        try:
            res = minimize(objective, rng.normal(size=par.size + d), method="L-BFGS-B",
                           options={"maxiter": 40})
        except _Invalid as found:
            return found.args[0]
        H, g = split(res.x)
        ok, ratio, details = problem.evaluate(params, H, g)
        state["max_ratio"] = max(state["max_ratio"], ratio)
        if not ok:
            return problem.witness(params, H, g, details)
    return None


class _Invalid(Exception):
    """Raised inside the adversarial search with the witness of an invalid estimate."""


def _save(witness: dict, out) -> str:
    """Write the witness; where that is impossible, say why (the violation is reported anyway)."""
    from .witness import write

    out = Path(out) if out is not None else Path(tempfile.gettempdir()) / "binomgbml-witnesses"
    path = out / f"check-{witness['id'].replace(':', '-').replace(' ', '_')}.json"
    try:
        return f"witness saved to {write(witness, path)}"
    except OSError as exc:
        return f"witness NOT saved: cannot write {path} ({exc.strerror or exc})"


def _message(witness: dict, saved: str) -> str:
    p = witness["params"]
    lines = [f"estimator violates {witness['id']}",
             f"  counterexample: {', '.join(f'{k}={v}' for k, v in p.items())}, d={len(witness['g'])}",
             f"  hessians = {np.array(witness['hessians']).tolist()}",
             f"  g = {witness['g']}"]
    if "invalid" in witness:
        lines.append(f"  {witness['invalid']}")
    else:
        lines += [f"  estimator     = {witness['estimate']}",
                  f"  {witness['compared_with']:<13} = {witness['other']}",
                  f"  |difference| = {witness['error']:.6g} > allowed {witness['bound']:.6g}"
                  + (f" = bound {witness['claimed_bound']:.6g} (= {witness['id']} factor x |g|) + rounding"
                     if "claimed_bound" in witness else " (float64 rounding)")]
    return "\n".join([*lines, f"  {saved}"])


def _integer(arg: str, value, least: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise VerifyInputError(f"{arg}={value!r} must be an integer >= {least}{why}")


def check_estimator(estimator: Callable, *, equals: str | Callable | None = None,
                    claim: str | list[str] | None = None, examples: int = 50, starts: int = 4,
                    seed: int = 0, max_K: int = 5, max_d: int = 3, out: str | Path | None = None,
                    name: str | None = None, steps: int | None = None, x0: str = "g") -> dict:
    """Property-test ``estimator(Trajectory, L) -> vector``; raise AssertionError on a violation.

    ``equals``: "maml" | "binom" | "trunc" | "fo" | a callable ``(Trajectory, L) -> vector``.
    ``claim``: a bound id (e.g. "thm3.6.binom") or a list of them. At least one is required.
    Implicit-gradient estimators ``(Trajectory, lam[, steps]) -> vector``: ``equals="imaml"`` and/or
    ``claim="imaml.cg"`` with ``steps`` (the iteration count claimed) and ``x0`` ("g" or "zero", the
    start the bound is measured from); see :data:`IMPLICIT_CLAIMS`.
    Returns a summary ``{claim id: {"examples", "max_ratio"}}`` when every claim holds.
    ``out`` is the directory for witnesses (default: ``<tmp>/binomgbml-witnesses``); ``name``
    ("module:function") is recorded in the witness so the CLI can replay it.
    """
    if not callable(estimator):
        raise VerifyInputError(f"estimator={estimator!r} must be callable (Trajectory, L) -> vector")
    _integer("examples", examples, 1, " (no example tried proves nothing)")
    for arg, value, least in (("starts", starts, 0), ("seed", seed, 0), ("max_K", max_K, 1), ("max_d", max_d, 1)):
        _integer(arg, value, least)
    if not (out is None or isinstance(out, (str, os.PathLike))):
        raise VerifyInputError(f"out={out!r} must be a directory path or None")
    if not (name is None or isinstance(name, str)):
        raise VerifyInputError(f"name={name!r} must be a string 'module:function' or None")
    claims = [] if claim is None else [claim] if isinstance(claim, str) else claim
    if not isinstance(claims, (list, tuple)) or not all(isinstance(c, str) for c in claims):
        raise VerifyInputError(f"claim={claim!r} must be a bound id or a list of bound ids")
    if equals is None and not claims:
        raise VerifyInputError("check_estimator needs equals=... and/or claim=...")
    implicit = [c for c in claims if c in IMPLICIT_CLAIMS] + (["imaml.exact"] if equals == "imaml" else [])
    if implicit:
        if len(implicit) != len(claims) + (equals is not None):
            raise VerifyInputError(f"implicit-gradient claims ({', '.join(implicit)}) take an estimator "
                                   "(Trajectory, lam[, steps]); do not mix them with claims of (Trajectory, L) estimators")
        return _check_implicit(estimator, implicit, steps=steps, x0=x0, examples=examples, seed=seed,
                               out=out, name=name)
    if steps is not None or x0 != "g":
        raise VerifyInputError("steps= and x0= belong to the implicit-gradient claim 'imaml.cg'")
    problems = ([_Problem(estimator, equals=equals)] if equals is not None else []) + \
        [_Problem(estimator, claim=c) for c in claims]
    summary = {}
    for problem in problems:
        state: dict[str, Any] = {"examples": 0, "max_ratio": 0.0, "witness": None}

        def examine(case, problem=problem):
            params, H, g = case
            ok, ratio, details = problem.evaluate(params, H, g)
            state["max_ratio"] = max(state["max_ratio"], ratio)
            return None if ok else problem.witness(params, H, g, details)

        commuting = problem.bound_claim is not None and problem.bound_claim.commuting
        hypothesis_find(_cases(problem.theorem, max_K, max_d, commuting), examine, examples=examples,
                        seed=seed, state=state)
        if state["witness"] is None and problem.bound_claim is not None and starts > 0:
            state["witness"] = _adversarial(problem, starts, seed, state, max_K)
        if state["witness"] is not None:
            witness = dict(state["witness"], estimator=name) if name else state["witness"]
            raise AssertionError(_message(witness, _save(witness, out)))
        summary[problem.id] = {"examples": state["examples"], "max_ratio": state["max_ratio"]}
    return summary


def _check_implicit(estimator: Callable, claims: list[str], *, steps, x0: str, examples: int, seed: int,
                    out, name: str | None) -> dict:
    """The implicit-gradient claims (:data:`IMPLICIT_CLAIMS`) of ``estimator``: a summary, or
    AssertionError with the shrunk counterexample and a saved witness."""
    from .related.imaml import ImplicitViolation, check_implicit_estimator

    if "imaml.cg" in claims:
        _integer("steps", steps, 0, " (the CG iterations the estimator is claimed to take)")
    if x0 not in ("g", "zero"):
        raise VerifyInputError(f"x0={x0!r} must be 'g' or 'zero' (where CG starts)")
    summary: dict[str, Any] = {}
    for claim in claims:
        try:
            summary.update(check_implicit_estimator(_implicit_caller(estimator, claim), claim=claim,
                                                    steps=steps, x0=x0, examples=examples, seed=seed))
        except ImplicitViolation as exc:
            witness = dict(exc.witness, estimator=name) if name else exc.witness
            raise AssertionError(f"{exc}\n  {_save(witness, out)}") from None
    return summary


def _implicit_caller(estimator: Callable, claim: str) -> Callable:
    """``estimator`` with its own failures as :class:`EstimatorError` and what it returns checked
    (:func:`_invalid`: a violation of ``claim``)."""
    def called(*args):
        try:
            value = estimator(*args)
        except Exception as exc:  # the estimator's own failure: one clear line, original chained
            raise EstimatorError(f"the estimator raised {type(exc).__name__}: {exc} (called as "
                                 f"fn(trajectory, lam{', steps' if len(args) == 3 else ''}) with d={args[0].d}, "
                                 f"lam={args[1]:.6g})") from exc
        why = _invalid(value, args[0].d)
        if why:
            raise AssertionError(f"estimator violates {claim}: the estimator {why}")
        return value
    return called


def _witness_arrays(witness: dict):
    """(params, Hessians, g) of a check-estimator witness; ValueError naming what is missing/wrong."""
    for key in ("params", "hessians", "g"):
        if key not in witness:
            raise VerifyInputError(f"witness has no {key!r} (a check-estimator witness has id, params, hessians, g)")
    if not isinstance(witness["params"], dict):
        raise VerifyInputError(f"witness params={witness['params']!r:.60} must be a JSON object")
    params = {"h": None, "M": None, **witness["params"]}
    for key in ("K", "L", "alpha", "H"):
        if key not in params:
            raise VerifyInputError(f"witness has no params.{key}")
    for key, value in params.items():
        integer = key in ("K", "L", "M")
        ok = value is None and key in ("h", "M") or not isinstance(value, bool) and (
            isinstance(value, int) if integer else isinstance(value, (int, float)) and np.isfinite(value))
        if not ok:
            raise VerifyInputError(f"witness params.{key}={value!r} must be " +
                                   ("an integer" if key in ("K", "L", "M") else "a finite number"))
    arrays = []
    for key, ndim in (("hessians", 3), ("g", 1)):
        try:
            arr = np.array(witness[key], dtype=float)
        except (TypeError, ValueError):
            raise VerifyInputError(f"witness {key} must be a numeric array") from None
        if arr.ndim != ndim or not np.isfinite(arr).all():
            raise VerifyInputError(f"witness {key} must be a finite {ndim}-d array, got shape {arr.shape}")
        arrays.append(arr)
    H, g = arrays
    if H.shape[0] != params["K"] or H.shape[1:] != (g.size, g.size):
        raise VerifyInputError(f"witness hessians have shape {H.shape}; expected K x d x d = "
                               f"{params['K']} x {g.size} x {g.size}")
    return params, H, g


def _assumption_violation(claim, params, H) -> str | None:
    """Why float Hessians break the claim's assumption (to rounding, 1e-12 H), else None."""
    tol = 1e-12 * float(params.get("H") or 1)
    for k, (Hk, (lo, hi)) in enumerate(zip(H, claim.intervals(params))):
        ev = np.linalg.eigvalsh((Hk + Hk.T) / 2)
        if np.abs(Hk - Hk.T).max() > tol or ev.min() < float(lo) - tol or ev.max() > float(hi) + tol:
            return f"H^{k} is not symmetric with spectrum in [{float(lo):g}, {float(hi):g}] (Assumption {claim.assumption})"
    if claim.commuting and any(np.abs(A @ B - B @ A).max() > tol for A in H for B in H):
        return "the Hessians do not commute, but the claim assumes they do"
    return None


def replay_estimator_witness(estimator: Callable, witness: dict) -> tuple[bool, str]:
    """Re-run ``estimator`` on a saved witness: (still violated?, one-line explanation).

    A witness that is malformed or outside the claim's assumption checks nothing: it raises
    :class:`VerifyInputError` instead."""
    if not isinstance(witness, dict):
        raise VerifyInputError(f"witness={witness!r:.60} must be a JSON object (a dict)")
    sid = str(witness.get("id"))
    if sid in IMPLICIT_CLAIMS:
        from .related.imaml import replay_implicit_witness

        try:
            return replay_implicit_witness(_implicit_caller(estimator, sid), witness)
        except EstimatorError:
            raise
        except AssertionError as exc:  # what the estimator returned is no estimate
            return True, str(exc)
        except ValueError as exc:
            raise VerifyInputError(str(exc)) from None
    if sid.startswith("equals:"):
        name = sid.split(":", 1)[1]
        if not name.startswith("reference "):
            raise VerifyInputError(f"witness id {sid!r}: a callable reference cannot be replayed from JSON")
        problem = _Problem(estimator, equals=name.split(" ", 1)[1])
    else:
        problem = _Problem(estimator, claim=sid)
    params, H, g = _witness_arrays(witness)
    why = broken_conditions(problem.theorem, params)
    if why is None and problem.bound_claim is not None:
        why = _assumption_violation(problem.bound_claim, params, H)
    if why:
        raise VerifyInputError(f"the witness is outside the claim {sid}: {why}")
    ok, ratio, details = problem.evaluate(params, H, g)
    if "invalid" in details:
        return True, details["invalid"]
    return (not ok), (f"|difference| = {details['error']:.6g}, allowed {details['bound']:.6g} "
                      f"(ratio {ratio:.6g})")
