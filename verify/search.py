"""Counterexample search for error-bound statements: Hypothesis plus adversarial optimisation.

A bound claim says ``||P^K g - estimate|| <= bound(K, L, alpha, H, h, M) ||g||`` for every Hessian
sequence under an assumption. Its worst case over g is the spectral norm of the error matrix, so
the search maximises ``ratio = ||E||_2 / bound`` over Hessian sequences:

1. Hypothesis draws exact rational parameters and Hessians (:mod:`verify.strategies`) and shrinks
   any violation it finds;
2. an adversarial search maximises the ratio with ``scipy.optimize.minimize`` (L-BFGS-B) from
   several random starts, over a smooth parametrisation ``H^k = Q_k diag(lambda_k) Q_k^T``
   (``Q_k`` products of Householder reflections, ``lambda = lo + (hi - lo) sin^2 t``), because
   random sampling rarely finds worst cases.

A float ratio above ``1 + TOL`` is only a candidate. It becomes a violation when it is confirmed
exactly: the Hessians rounded to rationals (small denominators first, so witnesses stay short;
rounding keeps them exactly symmetric with spectra exactly inside the assumed intervals), g the
rounded top singular vector, and the error computed by ``estimators.reference`` in Fractions.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from collections.abc import Callable
from fractions import Fraction
from typing import Any, NoReturn

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed as hyp_seed, settings, strategies as st

from bounds.evaluation import bound_value
from bounds.params import to_float
from bounds.statement import Bound, Hypotheses, Variant, spectrum

from .errors import VerifyInputError
from .measure import error_matrices, error_sq, spectral_witness_direction
from .rationals import fraction_str, rationalize, sq_norm, to_float_array
from .strategies import (
    _Empty,
    draw_point,
    hessian_sequences,
    householder,
    statement_parameters,
)

__all__ = ["TOL", "BoundClaim", "Result", "broken_conditions", "commute_exactly", "confirm_bound",
           "hypothesis_find", "maximise_error_norm", "parse_params", "replay_bound", "search_bound",
           "shrink_hessians"]

#: float ratios within this of 1 are rounding, not candidates
TOL = 1e-9
#: forward-difference step of the adversarial search's gradient
_STEP = 1e-7


@dataclass
class Result:
    """Outcome of checking one statement."""

    verdict: str  # "holds" | "violated" | "not applicable" | "error"
    examples: int = 0
    max_ratio: float | None = None
    witness: dict | None = None
    note: str = ""


@dataclass(frozen=True)
class BoundClaim:
    """``||P^K g - estimator|| <= bound(params) ||g||``: one variant of a bound of ``bounds``.

    Everything is read from the statement: the estimator (the bound's key), the bound factor
    (``bound(params, exact)``: a Fraction when ``exact``), the parameters' conditions, the
    spectrum interval of each Hessian (``intervals(params)``) and whether the Hessians commute.
    """

    id: str
    statement: Bound
    variant: Variant
    max_K: int = 5
    max_d: int = 3

    @property
    def theorem(self) -> str:
        return self.statement.theorem

    @property
    def estimator(self) -> str:
        return self.statement.key

    @property
    def hypotheses(self) -> Hypotheses:
        return self.statement.hypotheses_of(self.variant)

    @property
    def commuting(self) -> bool:
        return any(a.commuting for a in self.hypotheses.assumptions)

    @property
    def assumption(self) -> str:
        return self.hypotheses.label

    def bound(self, params: dict, exact: bool) -> Any:
        """The bound factor: a Fraction (``exact``), else a float -- the correctly rounded value
        of the exact one when the parameters are exact (evaluating their float roundings could
        put alpha*H = 9/22 * 22/9 one ulp above 1, outside the conditions)."""
        if exact or not any(isinstance(v, (float, np.floating)) for v in params.values()):
            value = bound_value(self.statement, self.variant, params, exact=True)
            return value if exact else to_float(value)
        return bound_value(self.statement, self.variant, params, exact=False)

    def intervals(self, params: dict) -> list:
        return spectrum(self.hypotheses.assumptions, params)

    def broken_assumption(self, k: int, matrix: Any, params: dict) -> str | None:
        """Why H^k breaks one of the assumptions, exactly ("... breaks Assumption 3.7"), or None."""
        from .rationals import spectrum_violation

        for a in self.hypotheses.assumptions:
            if a.spectrum is None:
                continue
            lo, hi = a.spectrum(params)[k]
            why = spectrum_violation(matrix, lo, hi)
            if why:
                return f"H^{k} {why}: breaks {a.reference}"
        return None


def _params_json(params) -> dict:
    return {k: (fraction_str(v) if not isinstance(v, int) else v)
            for k, v in params.items() if v is not None}


def confirm_bound(claim: BoundClaim, params: dict, hessians: Any) -> dict | None:
    """An exactly confirmed witness for exact ``params`` and rational ``hessians``, else None."""
    b = Fraction(claim.bound(params, True))
    K, L, alpha = params["K"], params["L"], params["alpha"]
    E = error_matrices(to_float_array(hessians), float(alpha), L, claim.estimator)
    direction = spectral_witness_direction(E)
    for den in (8, 64, 1024, 2 ** 20):
        g = rationalize(direction, den)
        g_sq = sq_norm(g)
        if g_sq == 0:
            continue
        e_sq = error_sq(hessians, g, alpha, L, claim.estimator)
        if e_sq > b * b * g_sq:
            error, bound = float(e_sq) ** 0.5, float(b) * float(g_sq) ** 0.5
            return {
                "id": claim.id, "params": _params_json(params),
                "hessians": [[[fraction_str(x) for x in row] for row in Hk] for Hk in hessians],
                "g": [fraction_str(x) for x in g], "error": error, "bound": bound,
                "ratio": error / bound if bound else float("inf"),
                "exact": {"error_squared": fraction_str(e_sq), "bound_squared": fraction_str(b * b * g_sq)},
            }
    return None


def _float_ratio(claim, params, hessians_float, b=None):
    """||E||_2 / bound in float64 (``b``: the bound factor, if already known)."""
    b = float(claim.bound(params, False)) if b is None else b
    E = error_matrices(hessians_float, float(params["alpha"]), params["L"], claim.estimator)
    norm = float(np.linalg.norm(E, 2))
    if b == 0:
        return 0.0 if norm <= TOL else float("inf")
    return norm / b


# --------------------------------------------------------------------------------------------
# Hypothesis


class _Violation(AssertionError):
    pass


def hypothesis_find(cases: st.SearchStrategy, examine: Callable[[Any], dict | None], *, examples: int,
                    seed: int, state: dict, shrink: bool = True) -> None:
    """Run Hypothesis over the strategy ``cases``, shrinking any confirmed violation.

    ``examine(case)`` returns a confirmed witness (a dict) or None; it may update ``state``
    ("max_ratio"). ``state["examples"]`` counts the cases examined, ``state["witness"]`` ends as
    the witness of the shrunk example (Hypothesis replays the minimal failing case last).
    ``shrink=False`` stops at the first confirmed violation (a verdict without a minimal witness).
    """
    if examples <= 0:
        return

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate],
              suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @hyp_seed(seed)
    @given(cases)
    def run(case):
        state["examples"] += 1
        witness = examine(case)
        if witness is not None:
            state["witness"] = witness
            raise _Violation(witness["id"])

    try:
        run()
    except _Violation:
        pass


def _hypothesis_search(claim: BoundClaim, examples: int, seed: int, state: dict, shrink: bool = True):
    @st.composite
    def cases(draw):
        params = draw(statement_parameters(claim.hypotheses, exact=True, caps={"K": claim.max_K},
                                           what=claim.id))
        d = draw(st.integers(1, claim.max_d))
        hs = draw(hessian_sequences(K=params["K"], d=d, intervals=claim.intervals(params),
                                    commuting=claim.commuting, exact=True))
        return params, hs

    def examine(case):
        params, hs = case
        ratio = _float_ratio(claim, params, to_float_array(hs))
        state["max_ratio"] = max(state["max_ratio"], ratio)
        return confirm_bound(claim, params, hs) if ratio > 1 + TOL else None

    hypothesis_find(cases(), examine, examples=examples, seed=seed, state=state, shrink=shrink)


# --------------------------------------------------------------------------------------------
# adversarial optimisation


@dataclass
class _Parametrisation:
    """x -> Hessians ``Q_k diag(lo + (hi - lo) sin^2 t) Q_k^T`` with Householder ``Q_k``."""

    K: int
    d: int
    intervals: list
    commuting: bool
    n_rot: int = field(init=False)

    def __post_init__(self):
        self.n_rot = 1 if self.commuting else self.K

    @property
    def size(self):
        return self.n_rot * self.d * self.d + self.K * self.d

    def _split(self, x):
        n = self.n_rot * self.d * self.d
        rot = x[..., :n].reshape(x.shape[:-1] + (self.n_rot, self.d, self.d))
        return rot, x[..., n:].reshape(x.shape[:-1] + (self.K, self.d))

    def hessians(self, x):
        """Hessians for x of shape (..., size): shape (..., K, d, d), float64."""
        rot, t = self._split(np.asarray(x, dtype=float))
        d = self.d
        Q = np.broadcast_to(np.eye(d), rot.shape[:-2] + (d, d))
        for j in range(d):  # Q = prod_j (I - 2 v_j v_j^T / v_j^T v_j); a zero v_j is skipped
            v = rot[..., j, :]
            vv = np.einsum("...i,...i->...", v, v)[..., None, None]
            outer = np.einsum("...i,...j->...ij", v, v)
            reflection = np.eye(d) - 2 * np.divide(outer, vv, out=np.zeros_like(outer), where=vv > 0)
            Q = Q @ reflection
        if self.commuting:
            Q = np.broadcast_to(Q, Q.shape[:-3] + (self.K, d, d))
        lo = np.array([float(a) for a, _ in self.intervals])[:, None]
        hi = np.array([float(b) for _, b in self.intervals])[:, None]
        lam = lo + (hi - lo) * np.sin(t) ** 2
        return (Q * lam[..., None, :]) @ np.swapaxes(Q, -1, -2)

    def exact_hessians(self, x, den):
        rot, t = self._split(np.asarray(x, dtype=float))
        Qs = [householder(rationalize(v, den), self.d, exact=True) for v in rot]
        s = rationalize(np.sin(t) ** 2, den)
        out = np.empty((self.K, self.d, self.d), dtype=object)
        for k, (lo, hi) in enumerate(self.intervals):
            lam = np.array([Fraction(lo) + (Fraction(hi) - Fraction(lo)) * min(max(v, 0), 1)
                            for v in s[k]], dtype=object)
            Q = Qs[0 if self.commuting else k]
            out[k] = (Q * lam) @ Q.T
        return out


def _adversarial_params(claim: BoundClaim, rng, start: int, max_K: int | None = None) -> dict:
    """Parameters of one start, drawn from the claim's hypotheses (``verify.strategies.draw_point``,
    so within every condition): every other start at its favoured values and edges (alpha H = 1,
    the edge of alpha <= 1/H), the others from those and sixteenths of each range; K from 2 (or
    ``max_K``) to ``max_K`` (default ``claim.max_K``). A point where the bound is 0 (L = K: the
    error is exactly 0 too) is drawn again."""
    max_K = claim.max_K if max_K is None else max_K
    edge = start % 2 == 0

    def number(lo, hi, favour):
        if edge and favour:
            return favour[0]
        choices = list(favour[1:]) + [hi * Fraction(int(rng.integers(1, 17)), 16)]
        value = choices[int(rng.integers(len(choices)))]
        return value if lo <= value <= hi else hi

    for _ in range(1000):
        try:
            params = draw_point(claim.hypotheses, lambda lo, hi: int(rng.integers(lo, hi + 1)), number,
                                caps={"K": max_K, "min_K": min(2, max_K)})
        except _Empty:
            continue
        if claim.bound(params, True) != 0:
            return params
    raise RuntimeError(f"{claim.id}: no starting point with a nonzero bound in 1000 draws")


def maximise_error_norm(par: _Parametrisation, alpha: float, L: int, estimator: str, x0: np.ndarray, *,
                        iters: int = 100, divisor: float = 1.0,
                        state: dict | None = None) -> tuple[np.ndarray, float]:
    """Maximise ``||E(x)||_2 / divisor`` over the Hessians ``par.hessians(x)`` by L-BFGS-B from
    ``x0`` (E the error matrix of :func:`verify.measure.error_matrices`): ``(x, value)``.

    The forward-difference gradient takes all coordinates in one batched call; ``state["examples"]``
    (when given) counts the Hessian sequences evaluated. A float optimum proposes a candidate only.
    """
    from scipy.optimize import minimize

    def objective(x):
        """-value and its forward-difference gradient, all points in one batched call."""
        X = np.vstack([x, x + _STEP * np.eye(x.size)])
        if state is not None:
            state["examples"] += len(X)
        E = error_matrices(par.hessians(X), alpha, L, estimator)
        f = -np.linalg.norm(E, 2, axis=(-2, -1)) / divisor
        return f[0], (f[1:] - f[0]) / _STEP

    res = minimize(objective, x0, jac=True, method="L-BFGS-B", options={"maxiter": iters})
    return res.x, -float(res.fun)


def _adversarial_search(claim: BoundClaim, starts: int, seed: int, state: dict, iters: int = 100):
    rng = np.random.default_rng([seed, zlib.crc32(claim.id.encode())])
    for start in range(starts):
        params = _adversarial_params(claim, rng, start)
        d = 2 if start % 2 == 0 else int(rng.integers(2, claim.max_d + 1))
        par = _Parametrisation(params["K"], d, claim.intervals(params), claim.commuting)
        fparams = dict(params, alpha=float(params["alpha"]))
        b = float(claim.bound(params, False))
        if b == 0:  # L = K: the error is exactly 0 (Hypothesis checks these points)
            continue

        x, ratio = maximise_error_norm(par, fparams["alpha"], params["L"], claim.estimator,
                                       rng.normal(size=par.size), iters=iters, divisor=b, state=state)
        state["max_ratio"] = max(state["max_ratio"], ratio)
        if ratio > 1 + TOL and state["witness"] is None:
            for den in (4, 16, 64, 256, 4096, 2 ** 16):
                hessians = par.exact_hessians(x, den)
                if confirm_bound(claim, params, hessians) is not None:
                    state["witness"] = confirm_bound(claim, params, shrink_hessians(claim, params, hessians))
                    return


def shrink_hessians(claim: BoundClaim, params: dict, hessians: Any) -> np.ndarray:
    """Greedily replace each H^k by a scalar matrix (0, then hi I, then lo I of its interval) while
    the violation stays confirmed exactly: shorter witnesses, same verdict."""
    hessians = np.array(hessians, dtype=object)
    eye = np.eye(hessians.shape[1], dtype=int).astype(object)
    for k, (lo, hi) in enumerate(claim.intervals(params)):
        for value in ([0] if lo <= 0 <= hi else []) + [hi, lo]:
            trial = hessians.copy()
            trial[k] = eye * Fraction(value)
            if (trial[k] != hessians[k]).any() and confirm_bound(claim, params, trial) is not None:
                hessians = trial
                break
    return hessians


def search_bound(claim: BoundClaim, *, examples: int = 100, starts: int = 12, seed: int = 0,
                 shrink: bool = True) -> Result:
    """Search for a violation of ``claim``; a violation is returned only once confirmed exactly."""
    state: dict[str, Any] = {"examples": 0, "max_ratio": 0.0, "witness": None}
    _hypothesis_search(claim, examples, seed, state, shrink)
    if state["witness"] is None and starts > 0:
        _adversarial_search(claim, starts, seed, state)
    witness = state["witness"]
    max_ratio = max(state["max_ratio"], witness["ratio"] if witness else 0.0)
    return Result("violated" if witness else "holds", state["examples"], max_ratio, witness)


# --------------------------------------------------------------------------------------------
# exact replay of a witness


class _Params(dict):
    """Witness parameters; a missing one raises ``KeyError("params.NAME")``."""

    def __missing__(self, key):
        raise KeyError(f"params.{key}")


def parse_params(raw: dict) -> dict:
    """Witness ``params`` -> exact values: K, L, M, l as ints; alpha, H, h as Fractions.

    h and M default to None (only Theorem 3.10 has them); any other missing parameter raises
    ``KeyError("params.NAME")`` when the check reads it.
    """
    from .rationals import as_fraction

    if not isinstance(raw, dict):
        raise VerifyInputError(f"witness params={raw!r:.60} must be a JSON object {{name: value}}")
    out = _Params(h=None, M=None)
    for key, value in raw.items():
        if key in ("K", "L", "M", "l", "C"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise VerifyInputError(f"witness params.{key}={value!r:.40} must be an integer")
            out[key] = value
        else:
            out[key] = as_fraction(value, f"witness params.{key}")
    return out


def commute_exactly(hessians: Any) -> bool:
    """Do all pairs H^i, H^j commute (exactly)?"""
    return all((A @ B == B @ A).all() for i, A in enumerate(hessians) for B in hessians[i + 1:])


def broken_conditions(theorem: str, p: dict) -> str | None:
    """Why the witness parameters ``p`` break ``theorem``'s conditions (or any bound's domain)."""
    import bounds

    try:
        return bounds.not_applicable(theorem, p["K"], p["L"], p["alpha"], p["H"], p.get("h"), p.get("M"))
    except ValueError as exc:  # bounds.BoundsInputError: outside every bound's domain
        return str(exc)


def replay_bound(claim: BoundClaim, witness: dict) -> tuple[bool, str]:
    """Re-check a bound witness exactly: (violated?, one-line explanation).

    A witness the claim does not speak about raises VerifyInputError: malformed, parameters that
    break the variant's conditions, Hessians outside the assumption (or not commuting, for a
    commuting variant)."""
    from .rationals import fraction_array, fraction_shown

    def refuse(why: str) -> NoReturn:
        raise VerifyInputError(f"the {claim.id} witness cannot be replayed: {why}")

    p = parse_params(witness["params"])
    hs = fraction_array(witness["hessians"], "witness hessians")
    if hs.ndim != 3 or hs.shape[0] != p["K"] or hs.shape[1] != hs.shape[2]:
        refuse(f"hessians have shape {hs.shape}, expected K x d x d with K = {p['K']}")
    try:
        b = Fraction(claim.bound(p, True))
    except ValueError as exc:  # NotApplicable (the variant's conditions), BoundsInputError (domain)
        refuse(f"params break Theorem {claim.theorem}'s conditions: {exc}")
    for k, Hk in enumerate(hs):
        why = claim.broken_assumption(k, Hk, p)
        if why:
            refuse(why)
    if claim.commuting and not commute_exactly(hs):
        refuse("the Hessians do not commute, but the statement assumes they do")
    g = fraction_array(witness["g"], "witness g")
    if g.shape != (hs.shape[1],):
        refuse(f"g has shape {g.shape}, expected ({hs.shape[1]},) like the Hessians' d")
    e_sq, g_sq = error_sq(hs, g, p["alpha"], p["L"], claim.estimator), sq_norm(g)
    if not b * b * g_sq:  # bound 0, or g = 0: nothing to divide by
        return e_sq > 0, f"error^2 = {fraction_shown(e_sq)}, bound^2 |g|^2 = 0"
    rel = ">" if e_sq > b * b * g_sq else "<="
    return e_sq > b * b * g_sq, (f"error^2 = {fraction_shown(e_sq)} {rel} bound^2 |g|^2 = "
                                 f"{fraction_shown(b * b * g_sq)} (ratio {_sqrt_ratio(e_sq, b * b * g_sq)})")


def _sqrt_ratio(a: Fraction, b: Fraction) -> str:
    """sqrt(a / b) to 6 digits ("> 1e+150" beyond float range)."""
    try:
        return f"{float(a / b) ** 0.5:.6g}"
    except OverflowError:
        return "> 1e+150"
