"""Hypothesis strategies for the paper's objects, in the style of ``hypothesis.extra.numpy``.

Every argument is keyword-only and may be a value or a strategy; bad arguments raise
``hypothesis.errors.InvalidArgument`` with a one-line message naming the argument.

* :func:`bound_parameters` -- points (K, L, alpha, H, h, M) satisfying a theorem's conditions;
* :func:`hessian_sequences` -- K symmetric d x d Hessians whose spectra satisfy Assumption 3.5
  (in [-H, H]), 3.7 (in [0, H]) or 3.9 (in [h, H] for the last M, [-H, H] before);
* :func:`trajectories` -- Hessian sequences with a vector g, as an ``estimators.Trajectory``.

Hessians are built as ``H^k = Q_k diag(lambda_k) Q_k^T`` with ``Q_k`` a product of Householder
reflections ``I - 2 v v^T / (v^T v)``: exactly orthogonal, and rational when ``v`` is rational, so
``exact=True`` yields Fraction matrices whose spectra lie exactly in the assumed interval.
Eigenvalues are drawn with the interval's endpoints (and 0 where admissible) favoured, so the
extreme cases the paper's sharpness claims rely on (``H^k = +-H I``, rank-one projections
``H q q^T``, zero Hessians) are reachable, and ``commuting=True`` shares one ``Q`` for all k.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

__all__ = [
    "ASSUMPTIONS", "THEOREM_ASSUMPTION", "bound_parameters", "hessian_sequences", "householder",
    "spectrum_intervals", "trajectories",
]

#: the paper's spectral assumptions
ASSUMPTIONS = ("3.5", "3.7", "3.9")
#: theorem -> the assumption its Hessians satisfy (3.8 adds 3.7 to 3.5, 3.10 adds 3.9 to 3.5)
THEOREM_ASSUMPTION = {"3.6": "3.5", "3.8": "3.7", "3.10": "3.9"}

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
# bound parameters


@st.composite
def bound_parameters(draw, *, theorem, K=None, L=None, alpha=None, H=None, h=None, M=None,
                     min_K=1, max_K=6, max_alpha_H=2, exact=False):
    """Points ``{"K", "L", "alpha", "H", "h", "M"}`` satisfying the conditions of ``theorem``.

    ``theorem`` is "3.6" (alpha > 0, H > 0, 0 <= L <= K), "3.8" (adds alpha <= 1/H) or "3.10"
    (adds 0 < h <= H and 1 <= M <= min(L, K - L), Assumption 3.9). ``h`` and ``M`` are None
    except for 3.10. Each argument is a value, a strategy or None (drawn). For 3.6, alpha*H is
    drawn up to ``max_alpha_H``. ``exact=True`` draws Fractions (given floats convert exactly,
    before the conditions are checked), else floats.
    """
    theorem = _check_choice("theorem", _draw(draw, theorem), tuple(THEOREM_ASSUMPTION))
    min_K = max(_check_int("min_K", min_K, 1), 2 if theorem == "3.10" else 1)
    max_K = _check_int("max_K", max_K, min_K)
    K = _check_int("K", _draw(draw, K) if K is not None else draw(st.integers(min_K, max_K)),
                   2 if theorem == "3.10" else 1)
    if theorem == "3.10" and L is not None:  # 1 <= M <= min(L, K - L)
        L = _check_int("L", _draw(draw, L), 1, K - 1)
        M = _check_int("M", _draw(draw, M) if M is not None else draw(st.integers(1, min(L, K - L))),
                       1, min(L, K - L))
    elif theorem == "3.10":
        M = _check_int("M", _draw(draw, M) if M is not None else draw(st.integers(1, K // 2)),
                       1, K // 2)
        L = draw(st.integers(M, K - M))
    else:
        if h is not None or M is not None:
            raise InvalidArgument(f"h and M apply to theorem 3.10 only, not theorem={theorem!r}")
        L = _check_int("L", _draw(draw, L) if L is not None else draw(st.integers(0, K)), 0, K)
    H = _check_positive("H", _draw(draw, H) if H is not None else draw(
        _number(exact, Fraction(1, 4), 4, favour=(1,))), exact)
    max_aH = _check_positive("max_alpha_H", max_alpha_H) if theorem == "3.6" else 1
    if alpha is None:
        t = draw(_number(exact, Fraction(1, _MAX_DEN), max_aH, favour=(1, Fraction(1, 4))))
        alpha = t / H
    else:
        alpha = _check_positive("alpha", _draw(draw, alpha), exact)
        if theorem != "3.6" and alpha * H > 1:
            raise InvalidArgument(f"alpha={alpha} breaks alpha <= 1/H (H={H}) of theorem {theorem}")
    if theorem == "3.10":
        if h is None:
            h = H * draw(_number(exact, Fraction(1, _MAX_DEN), 1, favour=(1, Fraction(1, 10))))
        h = _check_positive("h", _draw(draw, h), exact)
        if h > H:
            raise InvalidArgument(f"h={h} breaks h <= H={H} of Assumption 3.9")
    if not exact:
        alpha, H = float(alpha), float(H)
        h = None if h is None else float(h)
    return {"K": K, "L": L, "alpha": alpha, "H": H, "h": h, "M": M}


# --------------------------------------------------------------------------------------------
# Hessian sequences


def spectrum_intervals(K, assumption, H, h=None, M=None):
    """Per-step eigenvalue intervals ``[(lo_k, hi_k)]`` of Assumption 3.5, 3.7 or 3.9."""
    if assumption == "3.5":
        return [(-H, H)] * K
    if assumption == "3.7":
        return [(0 * H, H)] * K
    return [(-H, H)] * (K - M) + [(h, H)] * M


def householder(vectors, d, exact=False):
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
def hessian_sequences(draw, *, K, d, assumption="3.5", H=1, h=None, M=None, commuting=False,
                      exact=False):
    """K symmetric d x d Hessians with spectra under ``assumption`` ("3.5", "3.7" or "3.9").

    Returns a ``K x d x d`` float64 array, or an object array of Fractions when ``exact=True``.
    "3.9" needs ``h`` (0 < h <= H) and ``M`` (1 <= M <= K): the last M Hessians have spectra in
    [h, H], the others in [-H, H]. ``commuting=True`` shares one eigenbasis for all k.
    """
    K = _check_int("K", _draw(draw, K), 1)
    d = _check_int("d", _draw(draw, d), 1)
    assumption = _check_choice("assumption", _draw(draw, assumption), ASSUMPTIONS)
    H = _check_positive("H", _draw(draw, H))
    if assumption == "3.9":
        if h is None or M is None:
            raise InvalidArgument("assumption='3.9' needs h and M")
        h = _check_positive("h", _draw(draw, h))
        M = _check_int("M", _draw(draw, M), 1, K)
        if h > H:
            raise InvalidArgument(f"h={h} breaks h <= H={H} of Assumption 3.9")
    if exact:
        H = Fraction(H)
        h = None if h is None else Fraction(h)
    commuting = _draw(draw, commuting)
    if not isinstance(commuting, (bool, np.bool_)):
        raise InvalidArgument(f"commuting={commuting!r} must be True or False")
    commuting = bool(commuting)
    intervals = spectrum_intervals(K, assumption, H, h, M)
    shared = draw(_rotations(d, exact)) if commuting else None
    hessians = []
    for lo, hi in intervals:
        scalar = draw(st.booleans())  # lambda I: the extreme cases +-H I, h I, 0
        if scalar:
            lam = [draw(_number(exact, lo, hi, favour=(lo, hi, 0)))] * d
        else:
            lam = [draw(_number(exact, lo, hi, favour=(lo, hi, 0))) for _ in range(d)]
        Q = shared if commuting else draw(_rotations(d, exact))
        hessians.append((Q * np.array(lam, dtype=Q.dtype)) @ Q.T)
    return np.array(hessians, dtype=object if exact else float).reshape(K, d, d)


# --------------------------------------------------------------------------------------------
# trajectories


@st.composite
def trajectories(draw, *, K=st.integers(1, 5), d=st.integers(1, 3), assumption="3.5", H=1,
                 h=None, M=None, alpha=None, commuting=False):
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
