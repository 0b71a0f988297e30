"""Two-sided bounds: each bound next to the largest error that can be exhibited under its assumption.

For a theorem (3.6, 3.8, 3.10), an estimator (fo, trunc, binom), a variant of its bound (as
printed, or corrected) and a parameter point (K, L, alpha, H, h, M), :func:`two_sided` returns the
upper bound and a lower bound on the true worst case ``sup ||P^K g - estimate|| / ||g||`` over the
Hessian sequences allowed by the statement's assumption, certified by an exact witness (rational
Hessians and g) that :func:`replay` re-checks in exact arithmetic. Two methods (docs/tightness.md):

* **exact commuting** -- :func:`bounds.worst_case.commuting_worst_case`: with a common
  eigenbasis the error is ``f(x)`` per eigendirection, multilinear in the per-step eigenvalues,
  so its largest ``|f|`` is at a vertex of the box of spectrum intervals (by symmetry, polynomially
  many vertex classes). The exact worst case over commuting Hessians, attained with d = 1.
* **search** -- non-commuting Hessians: L-BFGS-B from many starts over ``H^k = Q_k diag Q_k^T``
  (:func:`verify.search.maximise_error_norm`); the best point is rounded to rational Hessians whose
  spectra lie exactly in the intervals, g to the rounded top singular vector, and the error is
  computed exactly by ``estimators.reference``. Its value is used when it beats the commuting one.

A bound is **tight** at a point when the witness attains it exactly (no smaller bound can hold
there); it is **exceeded** when the witness's error is larger (the witness is a counterexample).

The statements' facts (bound values, corrected forms, assumptions, conditions) are read from their
definitions (``bounds.THEOREMS``) by the functions of the next section only.
"""

from __future__ import annotations

import math
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from bounds.params import to_float
from bounds.worst_case import commuting_worst_case, scalar_error, spectrum_intervals

from .rationals import (
    fraction_str,
    rationalize,
    spectrum_violation,
    sq_norm,
    to_float_array,
)
from .measure import BOUNDED, error_matrices, error_sq, spectral_witness_direction
from .checks import case_to_json, json_to_case

__all__ = ["METHODS", "VARIANTS", "TwoSided", "Witness", "band", "commuting_worst_case",
           "replay", "scalar_error", "search_worst_case", "two_sided", "two_sided_rows",
           "variant_bound", "variants", "witness_name", "worst_case"]

#: how a witness was found
METHODS = ("exact commuting", "search")
#: the variants of a bound this module evaluates ("all": both, where a corrected form exists)
VARIANTS = ("printed", "corrected")
#: L-BFGS-B iterations per search start
ITERATIONS = 150
#: matrix sizes the search alternates between (d = 1 is the commuting case, solved exactly)
SEARCH_DIMENSIONS = (2, 3)
#: denominators tried when rounding a search optimum to rational Hessians (smallest first)
_HESSIAN_DENOMINATORS = (16, 64, 256, 1024, 4096, 2 ** 16)
_G_DENOMINATORS = (64, 4096, 2 ** 20)


# --------------------------------------------------------------------------------------------
# the statements' facts, read from their definitions (bounds/papers/binomgbml.py): the
# parameters and conditions, the assumptions' spectrum intervals, each variant's bound.


def exact_parameters(theorem: str, K: Any, L: Any, alpha: Any, H: Any, h: Any = None,
                     M: Any = None) -> dict:
    """Validated exact point (ints, Fractions; h, M None outside Theorem 3.10); ``ValueError``
    (``bounds.NotApplicable``) when the point breaks the theorem's conditions."""
    import bounds
    from bounds.params import exact_point

    thm = bounds.get_theorem(theorem)
    read = {p.name for p in thm.hypotheses.parameters}
    given = {"K": K, "L": L, "alpha": alpha, "H": H, "h": h, "M": M}
    p = exact_point(thm.hypotheses.signature, {n: v if n in read else None for n, v in given.items()})
    reason = bounds.not_applicable(thm, **p)
    if reason:
        raise bounds.NotApplicable(reason)
    return p


def assumption(theorem: str) -> str:
    """The defining spectral assumption of ``theorem``'s Hessians: "3.5", "3.7" or "3.9"."""
    import bounds

    return bounds.get_theorem(theorem).hypotheses.label


def intervals(theorem: str, p: dict) -> list[tuple[Fraction, Fraction]]:
    """Per-step spectrum intervals ``[(lo_k, hi_k)]``, k = 0..K-1, of ``theorem``'s assumptions."""
    return spectrum_intervals(theorem, p)


def variant_bound(theorem: str, estimator: str, variant: str, p: dict, exact: bool = True) -> Any:
    """The bound factor of a variant at ``p`` (Fraction when ``exact``), None when ``theorem``'s
    ``estimator`` bound has no such variant of its own. "printed" is the paper's; "corrected" is
    the proven replacement of a bound that is false as printed (docs/errata.md)."""
    import bounds

    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r} is not one of {', '.join(VARIANTS)}")
    bound = bounds.get_theorem(theorem).bounds[estimator]
    if variant == "corrected" and bound.variant("corrected") is bound.printed:
        return None
    value = bound.evaluate(**p, exact=exact, variant=variant)
    return Fraction(value) if exact else float(value)


def equation(theorem: str, estimator: str) -> str:
    """Where the printed bound is, e.g. "Theorem 3.8, eq. (12c)"."""
    import bounds

    return bounds.get_theorem(theorem).bounds[estimator].reference


# --------------------------------------------------------------------------------------------
# the commuting case, exactly


# --------------------------------------------------------------------------------------------
# witnesses


@dataclass(frozen=True)
class Witness:
    """Exact Hessians H^0..H^{K-1} (object array of Fractions, K x d x d) and g under
    ``theorem``'s assumption, with the exact squared error of ``estimator`` and ``|g|^2``."""

    theorem: str
    estimator: str
    params: dict
    method: str
    hessians: np.ndarray
    g: np.ndarray
    error_squared: Fraction
    g_squared: Fraction

    @property
    def attained_squared(self) -> Fraction:
        """``||P^K g - estimate||^2 / ||g||^2``, exactly."""
        return self.error_squared / self.g_squared

    @property
    def attained(self) -> float:
        """The error as a multiple of ``||g||`` (float; inf beyond float64)."""
        return sqrt_float(self.attained_squared)

    def to_json(self) -> dict:
        """The witness file's content (rationals as "p/q" strings; see :func:`replay`)."""
        case = case_to_json({"params": self.params, "hessians": self.hessians, "g": self.g})
        bound_values = {}
        for variant in VARIANTS:
            b = variant_bound(self.theorem, self.estimator, variant, self.params)
            if b is not None:
                bound_values[variant] = to_float(b)
        return {"id": f"tightness.thm{self.theorem}.{self.estimator}", "theorem": self.theorem,
                "estimator": self.estimator, "assumption": assumption(self.theorem),
                "method": self.method, **case, "attained": self.attained, "bounds": bound_values,
                "exact": {"error_squared": fraction_str(self.error_squared),
                          "g_squared": fraction_str(self.g_squared)}}


def _commuting_witness(theorem, estimator, p) -> Witness:
    value, lambdas = commuting_worst_case(estimator, intervals(theorem, p), p["alpha"], p["L"])
    hessians = np.array([[[lam]] for lam in lambdas], dtype=object)
    return Witness(theorem, estimator, p, "exact commuting", hessians,
                   np.array([Fraction(1)], dtype=object), value * value, Fraction(1))


def _exact_candidate(par, x, alpha: Fraction, L: int, estimator: str, target: float):
    """Round a search optimum to exact Hessians (smallest denominators first) and g to the top
    singular vector: the best ``(hessians, g, e_sq, g_sq)`` found, stopping once it is within
    1e-7 (relative) of the float optimum ``target``."""
    best = None
    for den in _HESSIAN_DENOMINATORS:
        hessians = par.exact_hessians(x, den)
        direction = spectral_witness_direction(error_matrices(to_float_array(hessians), float(alpha),
                                                              L, estimator))
        for g_den in _G_DENOMINATORS:
            g = rationalize(direction, g_den)
            g_sq = sq_norm(g)
            if g_sq == 0:
                continue
            e_sq = error_sq(hessians, g, alpha, L, estimator)
            if best is None or e_sq / g_sq > best[2] / best[3]:
                best = (hessians, g, e_sq, g_sq)
        if best is not None and float(best[2] / best[3]) >= (target * (1 - 1e-7)) ** 2:
            break
    return best


def search_worst_case(estimator: str, spans: Sequence[tuple], alpha: Any, L: int, *, starts: int,
                      seed: int = 0, iters: int = ITERATIONS, beat: float = 0.0,
                      tick: Callable[[], None] | None = None) -> tuple | None:
    """Adversarial search over non-commuting Hessians (d alternating 2, 3): the best optimum of
    ``starts`` L-BFGS-B runs, rounded to an exact ``(hessians, g, e_sq, g_sq)``; None when
    ``starts`` is 0 or the float optimum is not above ``beat`` (then it is not worth rounding).

    The starts are seeded from ``seed`` and the problem (estimator, spans, alpha, L) alone.
    """
    from .search import _Parametrisation, maximise_error_norm

    alpha = Fraction(alpha)
    key = f"{estimator}|{L}|{alpha}|" + ";".join(f"{lo},{hi}" for lo, hi in spans)
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    best = None
    for start in range(starts):
        d = SEARCH_DIMENSIONS[start % len(SEARCH_DIMENSIONS)]
        par = _Parametrisation(len(spans), d, list(spans), commuting=False)
        x, value = maximise_error_norm(par, float(alpha), L, estimator, rng.normal(size=par.size),
                                       iters=iters)
        if best is None or value > best[0]:
            best = (value, par, x)
        if tick is not None:
            tick()
    if best is None or best[0] <= beat:
        return None
    value, par, x = best
    return _exact_candidate(par, x, alpha, L, estimator, value)


def _identically_zero(estimator: str, L: int, K: int) -> bool:
    """trunc(K) is P^K g and binom(K) is eq. (8) in full (Remark 3.4): their error is 0 for every
    Hessian sequence, so there is nothing to search."""
    return estimator in ("trunc", "binom") and L == K


def _search_key(theorem: str, estimator: str, p: dict):
    """Problems with the same error function share one search: fo's error does not depend on L,
    and at L = 0 trunc and binom are fo (Remark 3.4)."""
    est, L = ("fo", 0) if estimator == "fo" or p["L"] == 0 else (estimator, p["L"])
    return est, L, p["alpha"], tuple(intervals(theorem, p))


def worst_case(theorem: str, estimator: str, K: Any, L: Any, alpha: Any, H: Any, h: Any = None,
               M: Any = None, *, starts: int = 8,
               seed: int = 0, iters: int = ITERATIONS, _search_cache: dict | None = None,
               _tick: Callable[[], None] | None = None) -> Witness:
    """The largest error of ``estimator`` exhibited under ``theorem``'s assumption at the point:
    the exact commuting worst case, or the search's exact witness when it is larger."""
    if estimator not in BOUNDED:
        raise ValueError(f"estimator={estimator!r} is not one of {', '.join(BOUNDED)}")
    if isinstance(starts, bool) or not isinstance(starts, int) or starts < 0:
        raise ValueError(f"starts={starts!r} must be an integer >= 0")
    p = exact_parameters(theorem, K, L, alpha, H, h, M)
    witness = _commuting_witness(theorem, estimator, p)
    if starts == 0 or _identically_zero(estimator, p["L"], p["K"]):
        return witness
    est, L_eff, _, spans = key = _search_key(theorem, estimator, p)
    cache = {} if _search_cache is None else _search_cache
    if key not in cache:
        # a float optimum within 1e-9 of the exact commuting value cannot beat it meaningfully
        cache[key] = search_worst_case(est, spans, p["alpha"], L_eff, starts=starts, seed=seed,
                                       iters=iters, beat=witness.attained * (1 + 1e-9), tick=_tick)
    found = cache[key]
    if found is not None and found[2] / found[3] > witness.attained_squared:
        hessians, g, e_sq, g_sq = found
        witness = Witness(theorem, estimator, p, "search", hessians, g, e_sq, g_sq)
    return witness


# --------------------------------------------------------------------------------------------
# two-sided rows


@dataclass(frozen=True)
class TwoSided:
    """One variant's bound at one point, next to the best witness under its assumption."""

    theorem: str
    variant: str
    estimator: str
    params: dict
    bound: Fraction
    witness: Witness

    @property
    def attained(self) -> float:
        return self.witness.attained

    @property
    def method(self) -> str:
        return self.witness.method

    @property
    def ratio(self) -> float | None:
        """attained / bound (None when the bound is 0, where the error is 0 too)."""
        if self.bound == 0:
            return None
        return sqrt_float(self.witness.attained_squared / (self.bound * self.bound))

    @property
    def tight(self) -> bool:
        """The witness attains the bound exactly: no smaller bound holds at this point."""
        return self.witness.attained_squared == self.bound * self.bound

    @property
    def exceeded(self) -> bool:
        """The witness's error is above the bound: a counterexample to this variant."""
        return self.witness.attained_squared > self.bound * self.bound


def variants(theorem: str, estimator: str, which: str, p: dict, exact: bool = True) -> list[tuple]:
    """(variant, bound) pairs for ``which``: "printed", "corrected" (the printed one where the bound
    has no corrected form: it holds as printed) or "all" (printed, and corrected where one exists)."""
    if which not in (*VARIANTS, "all"):
        raise ValueError(f"variant={which!r} is not one of {', '.join(VARIANTS)}, all")
    printed = ("printed", variant_bound(theorem, estimator, "printed", p, exact))
    corrected = variant_bound(theorem, estimator, "corrected", p, exact)
    if which == "printed" or corrected is None:
        return [printed]
    return [("corrected", corrected)] if which == "corrected" else [printed, ("corrected", corrected)]


def two_sided(theorem: str, estimator: str, K: Any, L: Any, alpha: Any, H: Any, h: Any = None,
              M: Any = None, *,
              variant: str = "printed", starts: int = 8, seed: int = 0,
              iters: int = ITERATIONS) -> list[TwoSided]:
    """The bound(s) of ``variant`` next to the best witness (one row per variant)."""
    witness = worst_case(theorem, estimator, K, L, alpha, H, h, M, starts=starts, seed=seed,
                         iters=iters)
    return [TwoSided(theorem, v, estimator, witness.params, b, witness)
            for v, b in variants(theorem, estimator, variant, witness.params)]


def two_sided_rows(theorems: Iterable[str], points: Iterable[dict], *, variant: str = "printed",
                   estimators: Sequence[str] = BOUNDED, starts: int = 8, seed: int = 0,
                   iters: int = ITERATIONS,
                   progress: bool = False) -> tuple[list[TwoSided], list[tuple]]:
    """Rows for every theorem, point (dicts K, L, alpha, H, h, M) and estimator, and the points
    skipped as not applicable ``[(theorem, point, reason)]``: ``(rows, skipped)``.

    Searches with the same error function are run once; ``progress`` shows a tqdm bar (stderr)
    over the search starts.
    """
    import bounds

    points = list(points)
    todo, skipped, seen = [], [], set()
    for theorem in theorems:
        number = bounds.get_theorem(theorem).number
        for point in points:
            try:
                p = exact_parameters(number, *(point.get(n) for n in ("K", "L", "alpha", "H", "h", "M")))
            except bounds.NotApplicable as exc:
                skipped.append((number, point, str(exc)))
                continue
            if (number, tuple(p.items())) not in seen:
                seen.add((number, tuple(p.items())))
                todo.append((number, p))
    searches = {_search_key(t, e, p) for t, p in todo for e in estimators
                if starts and not _identically_zero(e, p["L"], p["K"])}
    from tqdm import tqdm

    bar = tqdm(total=len(searches) * starts, desc="tightness search", unit="start", file=sys.stderr,
               leave=False, disable=not progress or not searches)
    cache: dict = {}
    rows = []
    for number, p in todo:
        for estimator in estimators:
            witness = worst_case(number, estimator, p["K"], p["L"], p["alpha"], p["H"], p["h"], p["M"],
                                 starts=starts, seed=seed, iters=iters, _search_cache=cache,
                                 _tick=bar.update)
            rows += [TwoSided(number, v, estimator, p, b, witness)
                     for v, b in variants(number, estimator, variant, p)]
    bar.close()
    return rows, skipped


def band(theorem: str, K: Any, L: Iterable, alpha: Any, H: Any, h: Any = None, M: Any = None, *,
         variant: str = "printed",
         estimators: Sequence[str] = BOUNDED, starts: int = 0, seed: int = 0) -> dict:
    """The band between the attained worst case and the bound, per estimator, over ``L``: for
    plots. ``{estimator: {"L": [...], "attained": [...], "bound": [...], "tight": [...]}}``
    (floats; points where the theorem does not apply are left out). ``variant`` is "printed" or
    "corrected"; ``starts=0`` (default) gives the exact commuting worst case alone."""
    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r} is not one of {', '.join(VARIANTS)} (one band per plot)")
    points = [{"K": K, "L": l_, "alpha": alpha, "H": H, "h": h, "M": M} for l_ in L]
    rows, _ = two_sided_rows([theorem], points, variant=variant, estimators=estimators,
                             starts=starts, seed=seed)
    out: dict[str, dict[str, list]] = {e: {"L": [], "attained": [], "bound": [], "tight": []}
                                       for e in estimators}
    for r in rows:
        out[r.estimator]["L"].append(r.params["L"])
        out[r.estimator]["attained"].append(r.attained)
        out[r.estimator]["bound"].append(to_float(r.bound))
        out[r.estimator]["tight"].append(r.tight)
    return out


# --------------------------------------------------------------------------------------------
# witness files and their replay


def witness_name(theorem: str, estimator: str, p: dict) -> str:
    """File name of a witness, e.g. ``3.8-binom-K5-L1-alpha1_4-H1.json``."""
    parts = [theorem, estimator] + [f"{n}{fraction_str(p[n]) if n in ('alpha', 'H', 'h') else p[n]}"
                                    for n in ("K", "L", "alpha", "H", "h", "M") if p[n] is not None]
    return re.sub(r"[^A-Za-z0-9._-]", "_", "-".join(parts).replace("/", "_")) + ".json"


def write_witness(witness: Witness, directory) -> Path:
    """Write ``witness`` as JSON under ``directory``; return the path."""
    from .witness import write

    return write(witness.to_json(), Path(directory) / witness_name(witness.theorem, witness.estimator,
                                                                   witness.params))


def replay(data: dict) -> tuple[bool, str]:
    """Re-check a tightness witness exactly: ``(reproduced?, one-line report)``.

    Checks that the parameters satisfy the theorem's conditions, that every H^k is symmetric with
    its spectrum exactly in the assumption's interval, and recomputes ``error^2`` and ``|g|^2``
    with ``estimators.reference`` in Fractions; reproduced means both equal the recorded values.
    Then compares with every variant's bound as evaluated now.
    """
    import bounds

    for key in ("theorem", "estimator", "params", "hessians", "g", "exact"):
        if key not in data:
            raise ValueError(f"a tightness witness has the key {key!r} (theorem, estimator, params, "
                             "hessians, g, exact)")
    theorem, estimator = str(data["theorem"]), str(data["estimator"])
    number = bounds.get_theorem(theorem).number
    if estimator not in BOUNDED:
        raise ValueError(f"witness estimator={estimator!r} is not one of {', '.join(BOUNDED)}")
    case = json_to_case(data)
    raw = case["params"]
    try:
        p = exact_parameters(number, *(raw.get(n) for n in ("K", "L", "alpha", "H", "h", "M")))
    except bounds.NotApplicable as exc:
        return False, f"params break the theorem's conditions: {exc}"
    label = f"{number} {estimator} at {_describe(p)}"
    hs, g = case["hessians"], case["g"]
    if hs.ndim != 3 or hs.shape[0] != p["K"] or hs.shape[1] != hs.shape[2] or g.shape != (hs.shape[1],):
        return False, f"{label}: hessians {hs.shape} and g {g.shape} are not K x d x d and d, K = {p['K']}"
    for k, (Hk, (lo, hi)) in enumerate(zip(hs, intervals(number, p))):
        why = spectrum_violation(Hk, lo, hi)
        if why:
            return False, f"{label}: H^{k} {why}: breaks Assumption {assumption(number)}"
    g_sq = sq_norm(g)
    if g_sq == 0:
        return False, f"{label}: g = 0"
    e_sq = error_sq(hs, g, p["alpha"], p["L"], estimator)
    exact = data["exact"]
    recorded = (Fraction(str(exact.get("error_squared"))), Fraction(str(exact.get("g_squared"))))
    if (e_sq, g_sq) != recorded:
        return False, (f"{label}: error^2 = {fraction_str(e_sq)}, |g|^2 = {fraction_str(g_sq)}, "
                       f"not the recorded {fraction_str(recorded[0])}, {fraction_str(recorded[1])}")
    attained_sq = e_sq / g_sq
    parts = []
    for variant in VARIANTS:
        b = variant_bound(number, estimator, variant, p)
        if b is None:
            continue
        if attained_sq == b * b:
            relation = "attained: tight"
        elif attained_sq > b * b:
            relation = "exceeded"
        else:
            relation = f"ratio {sqrt_float(attained_sq / (b * b)):.6g}"
        name = equation(number, estimator).split("eq. ")[-1]
        parts.append(f"{variant} bound {name} {to_float(b):.6g} ({relation})" if variant == "printed"
                     else f"{variant} bound {to_float(b):.6g} ({relation})")
    root = _exact_sqrt(attained_sq)
    exact_text = f"= {fraction_str(root)}" if root is not None else "error^2/|g|^2 " + (
        f"= {fraction_str(attained_sq)}" if len(fraction_str(attained_sq)) <= 60
        else f"a {len(str(attained_sq.denominator))}-digit-denominator rational")
    return True, (f"{label}: error = {sqrt_float(attained_sq):.6g} |g| ({exact_text}; reproduced "
                  f"exactly; Hessians under Assumption {assumption(number)}, d = {hs.shape[1]}); "
                  + "; ".join(parts))


def sqrt_float(q: Fraction) -> float:
    """``sqrt(q)`` as a float for a rational ``q >= 0``: the nearest float to an exact rational root,
    through logarithms where ``q`` is beyond float64, inf where the root is too."""
    root = _exact_sqrt(q)
    if root is not None:
        return to_float(root)
    value = to_float(q)
    if math.isfinite(value) and value > 0 and q.numerator.bit_length() < 1000:
        return math.sqrt(value)
    try:
        return math.exp((math.log(q.numerator) - math.log(q.denominator)) / 2)
    except OverflowError:
        return math.inf


def _exact_sqrt(q: Fraction) -> Fraction | None:
    """The rational square root of ``q >= 0`` when it has one, else None."""
    roots = [math.isqrt(q.numerator), math.isqrt(q.denominator)]
    return Fraction(*roots) if roots[0] ** 2 == q.numerator and roots[1] ** 2 == q.denominator else None


def _describe(p: dict) -> str:
    return ", ".join(f"{n}={fraction_str(p[n]) if n in ('alpha', 'H', 'h') else p[n]}"
                     for n in ("K", "L", "alpha", "H", "h", "M") if p[n] is not None)
