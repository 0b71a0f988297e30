"""Hypothesis strategies for the paper's objects, in the style of ``hypothesis.extra.numpy``.

Every argument is keyword-only and may be a value or a strategy; bad arguments raise
``hypothesis.errors.InvalidArgument`` with a one-line message naming the argument.

* :func:`bound_parameters` -- points (K, L, alpha, H, h, M) satisfying a theorem's conditions;
  :func:`statement_parameters` the same for any statement's hypotheses;
* :func:`hessian_sequences` -- K symmetric d x d Hessians whose spectra satisfy Assumption 3.5
  (in [-H, H]), 3.7 (in [0, H]) or 3.9 (in [h, H] for the last M, [-H, H] before), or any list
  of per-step intervals;
* :func:`trajectories` -- Hessian sequences with a vector g, as an ``estimators.Trajectory``.

Nothing here restates a statement: the conditions a point must meet, the spectrum intervals of
each assumption and where to draw each parameter come from the statements' definitions in
``bounds`` (:func:`draw_point` narrows each parameter by the conditions, e.g. alpha <= 1/H, and
checks the whole predicate at the end). The same sampler, with a NumPy generator instead of
Hypothesis, picks the starting points of the adversarial search (``verify.search``).

Hessians are built as ``H^k = Q_k diag(lambda_k) Q_k^T`` with ``Q_k`` a product of Householder
reflections ``I - 2 v v^T / (v^T v)``: exactly orthogonal, and rational when ``v`` is rational, so
``exact=True`` yields Fraction matrices whose spectra lie exactly in the assumed interval.
Eigenvalues are drawn with the interval's endpoints (and 0 where admissible) favoured, so the
extreme cases the paper's sharpness claims rely on (``H^k = +-H I``, rank-one projections
``H q q^T``, zero Hessians) are reachable, and ``commuting=True`` shares one ``Q`` for all k.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import bounds
from bounds.evaluation import broken
from bounds.params import BoundsInputError, exact_point
from bounds.statement import Assumption, Hypotheses, spectrum

__all__ = [
    "ASSUMPTIONS", "THEOREM_ASSUMPTION", "bound_parameters", "draw_point", "hessian_sequences",
    "householder", "spectrum_intervals", "statement_parameters", "trajectories",
]

#: theorem -> the name of the assumption that distinguishes its Hessians (3.8 adds 3.7 to 3.5,
#: 3.10 adds 3.9 to 3.5), from the theorems' hypotheses
THEOREM_ASSUMPTION = {n: t.hypotheses.label for n, t in bounds.THEOREMS.items()}
#: that name -> the assumptions the Hessians satisfy together (their spectra intersect)
_ASSUMPTION_SETS: dict[str, tuple[Assumption, ...]] = {
    t.hypotheses.label: t.hypotheses.assumptions for t in bounds.THEOREMS.values()}
#: the names ``hessian_sequences(assumption=...)`` accepts
ASSUMPTIONS = tuple(_ASSUMPTION_SETS)

_MAX_DEN = 12  # denominators of drawn rationals: small, so exact witnesses stay readable


def _draw(draw, value):
    """A value, or a draw from it when it is a strategy."""
    return draw(value) if isinstance(value, st.SearchStrategy) else value


def _check_int(name, value, lo, hi=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if value < lo or (hi is not None and value > hi):
        need = f"{lo} <= {name}" + (f" <= {hi}" if hi is not None else "")
        raise InvalidArgument(f"{name}={value} is out of range: need {need}")
    return int(value)


def _check_positive(name, value, exact=False):
    """A finite number > 0; with ``exact`` as a Fraction (a float converts exactly)."""
    try:
        ok = value > 0 and np.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidArgument(f"{name}={value!r} must be a finite number > 0")
    return Fraction(value) if exact else value


def _check_choice(name, value, choices):
    if value not in choices:
        raise InvalidArgument(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}")
    return value


def _number(exact, lo, hi, favour=()):
    """Numbers in [lo, hi]: Fractions (exact) or floats, with ``favour`` values drawn often."""
    if exact:
        lo, hi = Fraction(lo), Fraction(hi)
        inner = st.fractions(lo, hi, max_denominator=max(_MAX_DEN, lo.denominator, hi.denominator))
    else:
        inner = st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False)
    special = [Fraction(v) if exact else float(v) for v in favour if lo <= v <= hi]
    return st.one_of(st.sampled_from(special), inner) if special else inner


# --------------------------------------------------------------------------------------------
# parameter points, from a statement's hypotheses


class _Empty(Exception):
    """No value of a parameter meets the conditions given the values drawn so far."""


def _draw_order(hypotheses: Hypotheses) -> list[Any]:
    """Integers first (in declared order), then the others, each after the parameter it is
    sampled in units of (alpha after H)."""
    integers = [p for p in hypotheses.parameters if p.integer]
    others = [p for p in hypotheses.parameters if not p.integer]
    ordered: list[Any] = []
    while others:
        ready = [p for p in others if p.scale is None or p.scale in {q.name for q in ordered}
                 or p.scale not in {q.name for q in others}]
        ordered.append(ready[0])
        others.remove(ready[0])
    return integers + ordered


def _limits(hypotheses: Hypotheses, name: str, known: Mapping[str, Any]) -> tuple[Any, Any]:
    """The tightest (lower, upper) bounds the conditions put on ``name`` given ``known``
    (None: no bound; a strict bound is treated as non-strict, the final check decides)."""
    lo = hi = None
    for condition in hypotheses.conditions:
        for relation in condition.relations:
            bound = relation.bound_for(name, known)
            if bound is None:
                continue
            side, value, _ = bound
            if side == "upper":
                hi = value if hi is None else min(hi, value)
            else:
                lo = value if lo is None else max(lo, value)
    return lo, hi


def draw_point(hypotheses: Hypotheses, pick_integer: Callable[[int, int], int],
               pick_number: Callable[[Any, Any, tuple], Any], given: Mapping[str, Any] | None = None,
               caps: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One exact point of the hypotheses' parameters, each drawn by ``pick_integer(lo, hi)`` or
    ``pick_number(lo, hi, favour)`` from its declared sample range, narrowed by the conditions
    on it given what is drawn so far; ``given`` values are used as they are; ``caps`` overrides
    the top of a sample range (``{"K": max_K}``). Raises ``_Empty`` when a range is empty.
    Parameters of the signature that the hypotheses do not read are None."""
    given, caps = dict(given or {}), dict(caps or {})
    p: dict[str, Any] = {q.name: None for q in hypotheses.signature}
    for par in _draw_order(hypotheses):
        lo, hi = _limits(hypotheses, par.name, {k: v for k, v in p.items() if v is not None})
        if par.name in given and given[par.name] is not None:
            p[par.name] = given[par.name]
            continue
        if par.integer:
            top: Any = p.get(par.maximum) if par.maximum else caps.get(par.name, par.sample[1])
            low: Any = max(par.minimum, caps.get(f"min_{par.name}", par.minimum))
            low = low if lo is None else max(low, int(np.ceil(lo)))
            top = top if hi is None else min(top, int(np.floor(hi)))
            if low > top:
                raise _Empty(par.name)
            p[par.name] = int(pick_integer(low, top))
            continue
        unit = Fraction(p[par.scale]) if par.scale and p.get(par.scale) is not None else Fraction(1)
        top = Fraction(caps.get(par.name, par.sample[1])) * unit
        favour = [Fraction(f) * unit for f in par.favour]
        if hi is not None and hi < top:
            top = Fraction(hi)
        low = min(Fraction(par.sample[0]) * unit, top / 2)
        if lo is not None:
            low = max(low, Fraction(lo))
        if par.kind == "positive" and low <= 0:
            low = top / _MAX_DEN
        if low > top:
            raise _Empty(par.name)
        p[par.name] = Fraction(pick_number(low, top, tuple(dict.fromkeys(f for f in favour if low <= f <= top))))
    return p


def _unused(hypotheses: Hypotheses, given: Mapping[str, Any], what: str) -> None:
    """Refuse given values for parameters of the signature that these hypotheses do not read."""
    read = {q.name for q in hypotheses.parameters}
    unread = [q.name for q in hypotheses.signature if q.name not in read]
    if any(given.get(n) is not None for n in unread):
        users = [t.number for t in bounds.THEOREMS.values()
                 if set(unread) <= {q.name for q in t.hypotheses.parameters}]
        where = f"theorem{'s' if len(users) > 1 else ''} {', '.join(users)} only" if users else "other statements"
        raise InvalidArgument(f"{' and '.join(unread)} apply to {where}, not {what}")


def _check_given(hypotheses: Hypotheses, given: Mapping[str, Any], what: str) -> None:
    """Given values that break a condition by themselves are refused, naming the relation."""
    values = {n: v for n, v in given.items() if v is not None}
    for condition in hypotheses.conditions:
        for relation in condition.relations:
            if set(relation.names()) <= set(values) and not relation.holds(values):
                assign = ", ".join(f"{n}={values[n]}" for n in relation.names())
                raise InvalidArgument(f"{assign} breaks {relation.text()} of {what} ({condition.text})")


@st.composite
def statement_parameters(draw: Any, hypotheses: Hypotheses, *, exact: bool = True,
                         given: Mapping[str, Any] | None = None, caps: Mapping[str, Any] | None = None,
                         what: str = "the statement") -> dict[str, Any]:
    """Points satisfying ``hypotheses`` (a statement's parameters and conditions), as a dict
    over its signature (parameters it does not read are None). ``given``: values (or
    strategies) for some parameters; ``caps``: tops of sample ranges; ``exact=False`` converts
    the drawn rationals to floats (and re-checks the conditions in floats)."""
    given = {n: _draw(draw, v) for n, v in (given or {}).items()}
    _unused(hypotheses, given, what)
    for par in hypotheses.parameters:
        v = given.get(par.name)
        if v is None:
            continue
        if par.integer:
            given[par.name] = _check_int(par.name, v, par.minimum)
        elif par.kind == "positive":
            given[par.name] = _check_positive(par.name, v, exact=True)
    _check_given(hypotheses, given, what)
    try:
        p = draw_point(hypotheses, lambda lo, hi: draw(st.integers(lo, hi)),
                       lambda lo, hi, favour: draw(_number(exact, lo, hi, favour)), given, caps)
    except _Empty as exc:
        fixed = {n for n, v in given.items() if v is not None}
        if fixed >= set(_limit_names(hypotheses, str(exc))):
            raise InvalidArgument(f"no {exc} meets the conditions of {what} with "
                                  + ", ".join(f"{n}={given[n]}" for n in sorted(fixed))) from None
        from hypothesis import reject
        reject()
    try:
        exact_point(hypotheses.signature, p)  # the domain: L <= K for a given L, ...
    except BoundsInputError as exc:
        raise InvalidArgument(f"{exc} ({what})") from None
    if not exact:
        p = {n: (float(v) if isinstance(v, Fraction) else v) for n, v in p.items()}
    from hypothesis import assume
    assume(broken(hypotheses, p) is None)  # always true exactly; floats may round past an edge
    return p


def _limit_names(hypotheses: Hypotheses, name: str) -> list[str]:
    """The parameters the conditions on ``name`` read (besides itself)."""
    out = []
    for condition in hypotheses.conditions:
        for relation in condition.relations:
            if name in relation.names():
                out += [n for n in relation.names() if n != name]
    par = hypotheses.parameter(name)
    return out + ([par.maximum] if par.maximum else [])


def bound_parameters(*, theorem: Any, K: Any = None, L: Any = None, alpha: Any = None, H: Any = None,
                     h: Any = None, M: Any = None, min_K: int = 1, max_K: int = 6,
                     max_alpha_H: Any = 2, exact: bool = False) -> st.SearchStrategy:
    """Points ``{"K", "L", "alpha", "H", "h", "M"}`` satisfying the conditions of ``theorem``.

    ``theorem`` is "3.6" (alpha > 0, H > 0, 0 <= L <= K), "3.8" (adds alpha <= 1/H) or "3.10"
    (adds 0 < h <= H and 1 <= M <= min(L, K - L), Assumption 3.9), read from the theorem's
    hypotheses. ``h`` and ``M`` are None except for 3.10. Each argument is a value, a strategy or
    None (drawn). alpha*H is drawn up to ``max_alpha_H`` where no condition caps it (3.6).
    ``exact=True`` draws Fractions (given floats convert exactly, before the conditions are
    checked), else floats.
    """
    if isinstance(theorem, st.SearchStrategy):
        return theorem.flatmap(lambda t: bound_parameters(
            theorem=t, K=K, L=L, alpha=alpha, H=H, h=h, M=M, min_K=min_K, max_K=max_K,
            max_alpha_H=max_alpha_H, exact=exact))
    theorem = _check_choice("theorem", theorem, tuple(bounds.THEOREMS))
    min_K = _check_int("min_K", min_K, 1)
    max_K = _check_int("max_K", max_K, min_K)
    caps = {"K": max_K, "min_K": min_K, "alpha": _check_positive("max_alpha_H", max_alpha_H, exact=True)}
    given = {"K": K, "L": L, "alpha": alpha, "H": H, "h": h, "M": M}
    return statement_parameters(bounds.THEOREMS[theorem].hypotheses, exact=exact, given=given,
                                caps=caps, what=f"theorem {theorem}")


# --------------------------------------------------------------------------------------------
# Hessian sequences


def spectrum_intervals(K: int, assumption: str, H: Any, h: Any = None, M: Any = None) -> list:
    """Per-step eigenvalue intervals ``[(lo_k, hi_k)]`` of Assumption 3.5, 3.7 or 3.9 (with 3.5)."""
    return spectrum(_ASSUMPTION_SETS[assumption], {"K": K, "H": H, "h": h, "M": M})


def householder(vectors: Any, d: int, exact: bool = False) -> np.ndarray:
    """``Q = prod_j (I - 2 v_j v_j^T / v_j^T v_j)``: exactly orthogonal (rational for rational v).

    Zero vectors are skipped (identity factor).
    """
    one = Fraction(1) if exact else 1.0
    Q = np.eye(d, dtype=object if exact else float) * one
    for v in vectors:
        v = np.asarray(v, dtype=object if exact else float)
        vv = v @ v
        if vv == 0:
            continue
        Q = Q @ (np.eye(d, dtype=Q.dtype) * one - np.outer(v, v) * (2 * one / vv))
    return Q


@st.composite
def _rotations(draw, d, exact):
    n = draw(st.integers(0, d))
    if exact:
        entry = st.fractions(-3, 3, max_denominator=4)
    else:
        entry = st.integers(-1000, 1000).map(lambda i: i / 1000)  # no subnormal v: v^T v > 0 exact
    vectors = [draw(st.lists(entry, min_size=d, max_size=d)) for _ in range(n)]
    return householder(vectors, d, exact)


@st.composite
def hessian_sequences(draw: Any, *, K: Any, d: Any, assumption: Any = "3.5", H: Any = 1, h: Any = None,
                      M: Any = None, commuting: Any = False, exact: bool = False,
                      intervals: list | None = None) -> np.ndarray:
    """K symmetric d x d Hessians with spectra under ``assumption`` ("3.5", "3.7" or "3.9").

    Returns a ``K x d x d`` float64 array, or an object array of Fractions when ``exact=True``.
    "3.9" needs ``h`` (0 < h <= H) and ``M`` (1 <= M <= K): the last M Hessians have spectra in
    [h, H], the others in [-H, H] (the intervals are those of ``bounds``' assumptions).
    ``intervals``: per-step ``(lo, hi)`` instead of an assumption (e.g. a statement variant's
    ``spectrum``). ``commuting=True`` shares one eigenbasis for all k.
    """
    K = _check_int("K", _draw(draw, K), 1)
    d = _check_int("d", _draw(draw, d), 1)
    if intervals is None:
        intervals = _assumption_intervals(draw, K, assumption, H, h, M, exact)
    elif len(intervals) != K or any(lo is None or hi is None for lo, hi in intervals):
        raise InvalidArgument(f"intervals={intervals!r} must be K = {K} closed intervals (lo, hi)")
    commuting = _draw(draw, commuting)
    if not isinstance(commuting, (bool, np.bool_)):
        raise InvalidArgument(f"commuting={commuting!r} must be True or False")
    commuting = bool(commuting)
    shared = draw(_rotations(d, exact)) if commuting else None
    hessians = []
    for lo, hi in intervals:
        scalar = draw(st.booleans())  # lambda I: the extreme cases +-H I, h I, 0
        if scalar:
            lam = [draw(_number(exact, lo, hi, favour=(lo, hi, 0)))] * d
        else:
            lam = [draw(_number(exact, lo, hi, favour=(lo, hi, 0))) for _ in range(d)]
        Q = shared if shared is not None else draw(_rotations(d, exact))
        hessians.append((Q * np.array(lam, dtype=Q.dtype)) @ Q.T)
    return np.array(hessians, dtype=object if exact else float).reshape(K, d, d)


def _assumption_intervals(draw, K, assumption, H, h, M, exact):
    """The per-step intervals of a named assumption, its parameters checked."""
    assumption = _check_choice("assumption", _draw(draw, assumption), ASSUMPTIONS)
    values = {"K": K, "H": _draw(draw, H), "h": _draw(draw, h), "M": _draw(draw, M)}
    needs = [n for a in _ASSUMPTION_SETS[assumption] for n in a.parameters]
    missing = [n for n in dict.fromkeys(needs) if values.get(n) is None]
    if missing:
        raise InvalidArgument(f"assumption={assumption!r} needs {' and '.join(missing)}")
    for name in ("H", "h"):
        if name in needs:
            values[name] = _check_positive(name, values[name], exact)
    if "M" in needs:
        values["M"] = _check_int("M", values["M"], 1, K)
    intervals = spectrum(_ASSUMPTION_SETS[assumption], values)
    for k, (lo, hi) in enumerate(intervals):
        if lo > hi:
            given = ", ".join(f"{n}={values[n]}" for n in dict.fromkeys(needs) if n != "K")
            raise InvalidArgument(f"assumption={assumption!r} with {given}: the spectrum interval of "
                                  f"H^{k} is empty ([{lo}, {hi}])")
    return intervals


# --------------------------------------------------------------------------------------------
# trajectories


@st.composite
def trajectories(draw: Any, *, K: Any = st.integers(1, 5), d: Any = st.integers(1, 3),  # noqa: B008
                 assumption: Any = "3.5", H: Any = 1, h: Any = None, M: Any = None, alpha: Any = None,
                 commuting: Any = False) -> Any:
    """An ``estimators.Trajectory`` (float64) over :func:`hessian_sequences` and a vector g.

    ``alpha`` defaults to a draw in (0, 1/H]. Imports torch (through ``estimators``) when drawn.
    """
    from estimators import Trajectory

    K = _check_int("K", _draw(draw, K), 1)
    d = _check_int("d", _draw(draw, d), 1)
    H = _check_positive("H", _draw(draw, H))
    hessians = draw(hessian_sequences(K=K, d=d, assumption=assumption, H=H, h=h, M=M,
                                      commuting=commuting))
    g = np.array(draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=d, max_size=d)))
    if alpha is None:
        alpha = draw(st.floats(1 / (16 * H), 1 / H))
    alpha = float(_check_positive("alpha", _draw(draw, alpha)))
    return Trajectory.from_hessians(hessians, g, alpha)
