"""Dense reference for meta-gradients: exact Hessian products and expansions for small d.

The yardstick every estimator and every property test is measured against (BinomGBML paper,
Section 3.1, Appendix A, Lemma B.4, Appendix D.1; iMAML appendix). It uses only NumPy and
:mod:`fractions` and shares no code with the estimators it checks: direct matrix products,
explicit subset sums, and the operator cascade of Proposition 3.1 written literally.

Conventions (docs/reference.md): ``H`` is a K x d x d stack of symmetric Hessians H^0..H^{K-1},
``g`` the validation gradient g^K (length d), ``alpha`` the inner step.
P^i = (I - aH^{K-i}) (I - aH^{K-i+1}) ... (I - aH^{K-1}) (ordered by increasing k), P^0 = I.

Two modes, chosen by the inputs:

* float mode -- float64 NumPy arrays (Python/NumPy ints and floats in); symmetry is checked to
  ``max|H - H^T| <= SYMMETRY_RTOL * max|H|`` for each k; a non-finite result raises;
* exact mode -- as soon as any entry is a :class:`fractions.Fraction` or a SymPy Rational
  (ints mix with either; floats may not). Arithmetic is exact, results are NumPy object arrays
  of Fraction, or of SymPy Rational when any input entry was a SymPy number.

Bad input raises :class:`ReferenceInputError` (a ValueError) naming the argument and the
condition it breaks.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

#: types of the arguments: a K x d x d stack of Hessians, a length-d vector, a scalar (each given
#: as NumPy arrays or nested lists of ints, floats, Fractions or SymPy Rationals; see above)
Hessians = Any
Vector = Any
Scalar = Any

__all__ = [
    "MAX_ENUMERATION_K",
    "SYMMETRY_RTOL",
    "ReferenceInputError",
    "algorithm_1_corrected",
    "algorithm_1_printed",
    "algorithm_2_corrected",
    "algorithm_2_printed",
    "expansion_dp",
    "first_order",
    "hybrid",
    "imaml_cg",
    "imaml_exact",
    "intermediate_v",
    "lemma_a4",
    "lemma_a5",
    "lemma_a5_corrected",
    "lemma_b4",
    "lemma_b4_printed",
    "meta_gradient",
    "operator_cascade",
    "product",
    "truncated",
    "truncated_expansion",
    "truncated_expansion_matrix",
    "vector_cascade",
]

#: float mode: allowed asymmetry of H^k relative to its largest entry
SYMMETRY_RTOL = 1e-10
#: explicit subset enumeration (2^K terms at most) is refused beyond this K
MAX_ENUMERATION_K = 20


class ReferenceInputError(ValueError):
    """Invalid input to the dense reference; the message names the argument and the condition."""


# ----------------------------------------------------------------------------------------------
# input validation and the two arithmetic modes


@dataclass(frozen=True)
class _Arith:
    """The arithmetic of one call: float64, or exact (Fraction), returned as Fraction or SymPy."""

    exact: bool
    sympy: bool

    def eye(self, d: int) -> np.ndarray:
        if not self.exact:
            return np.eye(d)
        out = np.full((d, d), Fraction(0), dtype=object)
        for i in range(d):
            out[i, i] = Fraction(1)
        return out

    def zeros(self, shape) -> np.ndarray:
        return np.zeros(shape) if not self.exact else np.full(shape, Fraction(0), dtype=object)

    def out(self, value, what: str):
        """Convert an internal result for return (and refuse a non-finite float result)."""
        if not self.exact:
            if not np.all(np.isfinite(value)):
                raise ReferenceInputError(
                    f"{what}: the float64 result is not finite (inputs too large for float64); "
                    "use exact mode (Fraction entries)")
            return np.array(value, dtype=np.float64)  # a new array, never the caller's g
        if not self.sympy:
            return value
        import sympy  # the caller passed SymPy numbers, so SymPy is installed and imported

        def to_sympy(x):
            return sympy.Rational(x.numerator, x.denominator)

        if isinstance(value, np.ndarray):
            return np.vectorize(to_sympy, otypes=[object])(value) if value.size else value
        return to_sympy(value)


def _show(value) -> str:
    """A one-line, bounded repr of an offending value for an error message."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(x, name: str) -> str:
    """Classify one entry as 'int', 'float', 'fraction' or 'sympy'; refuse anything else."""
    if isinstance(x, (bool, np.bool_)):
        raise ReferenceInputError(f"{name}: entry {_show(x)} is a bool; expected a real number")
    if isinstance(x, (int, np.integer)):
        return "int"
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(x):
            raise ReferenceInputError(f"{name}: entry {_show(x)} is not finite")
        return "float"
    if isinstance(x, Fraction):
        return "fraction"
    if type(x).__module__.startswith("sympy"):
        if getattr(x, "is_Rational", False):
            return "sympy"
        raise ReferenceInputError(
            f"{name}: entry {_show(x)} is a SymPy {type(x).__name__}, not a Rational; exact mode "
            "needs Rational/Integer entries (or pass Python floats for float mode)")
    raise ReferenceInputError(
        f"{name}: entry {_show(x)} of type {type(x).__name__} is not an int, float, Fraction or "
        "SymPy Rational")


def _scan(value, name: str) -> tuple[np.ndarray, set[str]]:
    """Return ``value`` as an array and the set of entry kinds it holds."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        arr = value
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise ReferenceInputError(f"{name}: has non-finite entries (NaN or inf)")
        return arr, {"float" if value.dtype.kind == "f" else "int"}
    if isinstance(value, np.ndarray) and value.dtype.kind != "O":
        raise ReferenceInputError(f"{name}: dtype {value.dtype} is not a real numeric type")
    try:
        arr = np.array(value, dtype=object)
    except ValueError as exc:  # ragged nested lists
        raise ReferenceInputError(f"{name}: not a rectangular array ({exc})") from None
    if any(isinstance(x, (list, tuple, np.ndarray)) for x in arr.flat):
        raise ReferenceInputError(f"{name}: not a rectangular array (ragged nested sequences)")
    kinds = {_kind(x, name) for x in arr.flat}
    return arr, kinds


def _to_fraction(x):
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    return Fraction(int(x.p), int(x.q))  # SymPy Rational


def _prepare(**named) -> tuple[_Arith, list]:
    """Validate and convert the named inputs, all in one arithmetic.

    ``named`` maps an argument name to ``(value, ndim)``. Returns the arithmetic and the
    converted values (float64 arrays or Fraction object arrays; 0-d values as scalars).
    """
    scanned = {name: (_scan(v, name), nd) for name, (v, nd) in named.items()}
    floats = [n for n, ((_, k), _) in scanned.items() if "float" in k]
    exacts = [n for n, ((_, k), _) in scanned.items() if k & {"fraction", "sympy"}]
    if floats and exacts:
        raise ReferenceInputError(
            f"mixed exact and float entries: {floats[0]} has float entries while {exacts[0]} "
            "has Fraction/SymPy entries; use one arithmetic for all inputs")
    sym = any("sympy" in k for (_, k), _ in scanned.values())
    ar = _Arith(exact=bool(exacts), sympy=sym)
    out = []
    for name, ((arr, _), nd) in scanned.items():
        if arr.ndim != nd:
            raise ReferenceInputError(
                f"{name}: has {arr.ndim} dimension(s) (shape {arr.shape}); expected {nd}")
        if ar.exact:
            conv = np.vectorize(_to_fraction, otypes=[object])(arr) if arr.size else arr
        else:
            try:
                conv = np.asarray(arr, dtype=np.float64)
            except OverflowError:
                raise ReferenceInputError(
                    f"{name}: an integer entry is too large for float64 (all-int inputs run in "
                    "float mode); pass Fraction entries for exact mode") from None
        out.append(conv[()] if nd == 0 else conv)
    return ar, out


def _check_stack(H: np.ndarray, name: str, ar: _Arith) -> None:
    """H must be a K x d x d stack (K >= 1, d >= 1) of symmetric matrices."""
    K, d, d2 = H.shape
    if K == 0:
        raise ReferenceInputError(f"{name}: K = 0 Hessians; need K >= 1 (shape {H.shape})")
    if d != d2 or d == 0:
        raise ReferenceInputError(f"{name}: matrices are {d} x {d2}; need square d x d, d >= 1")
    for k in range(K):
        asym = H[k] - H[k].T
        if ar.exact:
            bad = [(i, j) for i in range(d) for j in range(d) if asym[i, j] != 0]
            if bad:
                i, j = bad[0]
                raise ReferenceInputError(
                    f"{name}[{k}]: not exactly symmetric: entry ({i},{j}) = {H[k][i, j]} "
                    f"but ({j},{i}) = {H[k][j, i]}")
        else:
            tol = SYMMETRY_RTOL * np.max(np.abs(H[k]))
            if np.max(np.abs(asym)) > tol:
                i, j = (int(v) for v in np.unravel_index(np.argmax(np.abs(asym)), asym.shape))
                raise ReferenceInputError(
                    f"{name}[{k}]: not symmetric: |H[{i},{j}] - H[{j},{i}]| = "
                    f"{abs(asym[i, j]):.3g} exceeds {SYMMETRY_RTOL:g} * max|H| = {tol:.3g}")


def _check_vector(g: np.ndarray, d: int, name: str = "g") -> None:
    if g.shape != (d,):
        raise ReferenceInputError(f"{name}: has length {g.shape[0]}; expected d = {d}")


def _int_in(name: str, value, low: int, high: int, where: str = "") -> int:
    """``value`` as an int with low <= value <= high, else a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ReferenceInputError(f"{name} = {_show(value)}: must be an integer")
    if not low <= value <= high:
        raise ReferenceInputError(f"{name} = {value}: must satisfy {low} <= {name} <= {high}{where}")
    return int(value)


def _trajectory(H, g, alpha):
    """Validate (H, g, alpha); return the arithmetic, the converted values, K and d."""
    ar, (H, g, alpha) = _prepare(H=(H, 3), g=(g, 1), alpha=(alpha, 0))
    _check_stack(H, "H", ar)
    _check_vector(g, H.shape[1])
    return ar, H, g, alpha, H.shape[0]


def _hessians(H, alpha):
    ar, (H, alpha) = _prepare(H=(H, 3), alpha=(alpha, 0))
    _check_stack(H, "H", ar)
    return ar, H, alpha, H.shape[0]


def _refuse_enumeration(K: int, what: str, instead: str) -> None:
    if K > MAX_ENUMERATION_K:
        raise ReferenceInputError(
            f"{what}: K = {K} exceeds {MAX_ENUMERATION_K}; explicit subset enumeration has up "
            f"to 2^K terms. Use {instead}, the polynomial-time method")


# ----------------------------------------------------------------------------------------------
# products: P^i, the meta-gradient, first-order and truncated estimators


def _P(H, alpha, i: int, ar: _Arith) -> np.ndarray:
    """P^i = prod_{k=K-i}^{K-1} (I - aH^k), left to right by increasing k; P^0 = I."""
    K, d, _ = H.shape
    eye = ar.eye(d)
    out = eye
    for k in range(K - i, K):
        out = out @ (eye - alpha * H[k])
    return out


def product(H: Hessians, alpha: Scalar, i: int) -> np.ndarray:
    """The matrix P^i = (I - aH^{K-i}) ... (I - aH^{K-1}) of Proposition 3.1 (P^0 = I), 0 <= i <= K."""
    ar, H, alpha, K = _hessians(H, alpha)
    i = _int_in("i", i, 0, K, f" (K = {K})")
    return ar.out(_P(H, alpha, i, ar), "product")


def meta_gradient(H: Hessians, g: Vector, alpha: Scalar) -> np.ndarray:
    """The exact meta-gradient P^K g = prod_{k=0}^{K-1} (I - aH^k) g, eq. (4)."""
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    return ar.out(_P(H, alpha, K, ar) @ g, "meta_gradient")


def first_order(g: Vector) -> np.ndarray:
    """The first-order (FOMAML) estimate: g itself (FO equation of Section 2.2)."""
    ar, (g,) = _prepare(g=(g, 1))
    if g.shape[0] == 0:
        raise ReferenceInputError("g: has length 0; expected d >= 1")
    return ar.out(g.copy(), "first_order")


def truncated(H: Hessians, g: Vector, alpha: Scalar, L: int) -> np.ndarray:
    """The truncated (TruncMAML) estimate P^L g = prod_{k=K-L}^{K-1} (I - aH^k) g, eq. (5)."""
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    L = _int_in("L", L, 0, K, f" (K = {K})")
    return ar.out(_P(H, alpha, L, ar) @ g, "truncated")


# ----------------------------------------------------------------------------------------------
# the truncated binomial expansion, eq. (7)-(8): explicit subset sums and a polynomial recursion


def _subset_sum(H, alpha, indices, sizes, right):
    """sum over subsets k_1 < ... < k_l of ``indices`` with l in ``sizes`` of
    prod_{i=1}^{l} (-aH^{k_i}) @ right  (the l = 0 term is ``right`` itself)."""
    total = None
    for l in sizes:
        for subset in itertools.combinations(indices, l):
            term = right
            for k in reversed(subset):  # apply the rightmost factor first
                term = -alpha * (H[k] @ term)
            total = term if total is None else total + term
    return total


def truncated_expansion(H: Hessians, g: Vector, alpha: Scalar, L: int) -> np.ndarray:
    """The binomial estimate, eq. (8), by enumerating every subset k_1 < ... < k_l, l <= L.

    [I + sum_{l=1}^{L} sum_{0 <= k_1 < ... < k_l < K} prod_{i=1}^{l} (-aH^{k_i})] g, products
    ordered by increasing k. Exponential in K: refused for K > MAX_ENUMERATION_K.
    """
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    L = _int_in("L", L, 0, K, f" (K = {K})")
    _refuse_enumeration(K, "truncated_expansion", "expansion_dp(H, g, alpha, L)")
    return ar.out(_subset_sum(H, alpha, range(K), range(L + 1), g), "truncated_expansion")


def truncated_expansion_matrix(H: Hessians, alpha: Scalar, L: int) -> np.ndarray:
    """The matrix of eq. (7) truncated at L (left side of eq. (9)), by explicit enumeration."""
    ar, H, alpha, K = _hessians(H, alpha)
    L = _int_in("L", L, 0, K, f" (K = {K})")
    _refuse_enumeration(K, "truncated_expansion_matrix", "operator_cascade(H, alpha, L)")
    eye = ar.eye(H.shape[1])
    return ar.out(_subset_sum(H, alpha, range(K), range(L + 1), eye), "truncated_expansion_matrix")


def expansion_dp(H: Hessians, g: Vector, alpha: Scalar, L: int) -> np.ndarray:
    """Eq. (8) in polynomial time: K (L+1)-row matrix products (O(K L) matrix-vector products).

    Elementary-symmetric recursion: with W_j^{(m)} the sum over subsets of {m, ..., K-1} of size
    j of the ordered products applied to g, W_j^{(m)} = W_j^{(m+1)} - a H^m W_{j-1}^{(m+1)},
    W^{(K)} = (g, 0, ..., 0); the estimate is sum_{j=0}^{L} W_j^{(0)}.
    """
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    L = _int_in("L", L, 0, K, f" (K = {K})")
    W = ar.zeros((L + 1, g.shape[0]))
    W[0] = g
    for m in reversed(range(K)):
        top = min(L, K - m)  # subsets of {m, ..., K-1} have at most K - m elements
        W[1 : top + 1] = W[1 : top + 1] - alpha * (W[:top] @ H[m].T)  # W[:top] is still step m+1
    return ar.out(W.sum(axis=0), "expansion_dp")


# ----------------------------------------------------------------------------------------------
# Proposition 3.1 / Theorem 3.2: the operator cascades, written literally


def _cascade(H, alpha, right, ar):
    """The chains of Proposition 3.1 (right = I) and Theorem 3.2 (right = g), literally.

    Returns ``chain(n, m)`` = B^{n-1} ... B^0 [right], where B^i M := P^i right - a sum_j H^j M
    with j running from (the summation index of the operator outside B^i) + 1 to K-1-i; for the
    outermost B^{n-1} that free lower index is m (k_{L-n}; the dummy k_0 = -1 when n = L).
    chain(0, m) = right.

    The recursion over the free lower index is evaluated from the innermost operator B^0
    outwards, one level at a time (no Python recursion, so L may reach the thousands): the
    operator t levels inside the outermost one is read at the free indices m+t .. K-n+t-1.
    """
    K = H.shape[0]
    P = [right]  # P^i right, built on demand: P^i = (I - aH^{K-i}) P^{i-1}

    def P_right(i: int):
        while len(P) <= i:
            P.append(P[-1] - alpha * (H[K - len(P)] @ P[-1]))
        return P[i]

    def B(i: int, lower: int, inner: dict):
        """B^i applied to the chain below it, ``inner[j]`` at free index j; lower index ``lower``."""
        total = P_right(i)
        for j in range(lower + 1, K - 1 - i + 1):  # k_{L-i} = k_{L-1-i} + 1, ..., K-1-i
            total = total - alpha * (H[j] @ inner[j])
        return total

    @cache
    def chain(n: int, m: int):
        values = dict.fromkeys(range(K), right)  # chain(0, j) = right
        for level in range(1, n + 1):  # values[low] = B^{level-1} ... B^0 right at lower index low
            t = n - level
            lows = range(m + t, K - n + t) if t else [m]
            values = {low: B(level - 1, low, values) for low in lows}
        return values[m] if n else right

    return chain


def operator_cascade(H: Hessians, alpha: Scalar, L: int) -> np.ndarray:
    """B^{L-1} ... B^0 I of Proposition 3.1, eq. (9) right side (dummy k_0 = -1), 0 <= L <= K.

    B^i M := P^i - a sum_{k_{L-i}=k_{L-1-i}+1}^{K-1-i} H^{k_{L-i}} M, a recursion over the free
    lower index k_{L-1-i} of each operator.
    """
    ar, H, alpha, K = _hessians(H, alpha)
    L = _int_in("L", L, 0, K, f" (K = {K})")
    return ar.out(_cascade(H, alpha, ar.eye(H.shape[1]), ar)(L, -1), "operator_cascade")


def vector_cascade(H: Hessians, g: Vector, alpha: Scalar, L: int) -> np.ndarray:
    """B^{g,L-1} ... B^{g,0} g of Theorem 3.2, eq. (10) (dummy k_0 = -1), 0 <= L <= K.

    B^{g,i} v := P^i g - a sum_{k_{L-i}=k_{L-1-i}+1}^{K-1-i} H^{k_{L-i}} v.
    """
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    L = _int_in("L", L, 0, K, f" (K = {K})")
    return ar.out(_cascade(H, alpha, g, ar)(L, -1), "vector_cascade")


def intermediate_v(H: Hessians, g: Vector, alpha: Scalar, l: int, k: int) -> np.ndarray:
    """v^{l,k} of eq. (23a): B^{g,l-1} ... B^{g,0} g with k_{L-l} = k - 1; v^{0,k} = g.

    Defined for 0 <= l <= K and 0 <= k <= K+1 (k >= K-l+1 gives the empty sum: P^{l-1} g).
    """
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    l = _int_in("l", l, 0, K, f" (K = {K})")
    k = _int_in("k", k, 0, K + 1, f" (K = {K})")
    return ar.out(_cascade(H, alpha, g, ar)(l, k - 1), "intermediate_v")


def lemma_a4(H: Hessians, alpha: Scalar, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Both sides of Lemma A.4, eq. (20), for 1 <= L <= K:
    B^{L-1} ... B^0 I  and  P^L - a sum_{k_1=0}^{K-L-1} H^{k_1} B^{L-2} ... B^0 I."""
    ar, H, alpha, K = _hessians(H, alpha)
    L = _int_in("L", L, 1, K, f" (K = {K})")
    chain = _cascade(H, alpha, ar.eye(H.shape[1]), ar)
    rhs = _P(H, alpha, L, ar)
    for k1 in range(K - L):
        rhs = rhs - alpha * (H[k1] @ chain(L - 1, k1))
    return ar.out(chain(L, -1), "lemma_a4"), ar.out(rhs, "lemma_a4")


def _lemma_a5_sides(H, g, alpha, l, L, v_level):
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    L = _int_in("L", L, 2, K, f" (K = {K}; Lemma A.5 needs some l with 1 <= l < L)")
    l = _int_in("l", l, 1, L - 1, f" (L = {L}; Lemma A.5 holds 'for 1 <= l < L')")
    chain = _cascade(H, alpha, g, ar)
    lhs = _P(H, alpha, l, ar) @ g
    n = l + v_level  # v^{n, K-l} = chain(n, K-l-1)
    return ar.out(lhs, "lemma_a5"), ar.out(chain(n, K - l - 1), "lemma_a5")


def lemma_a5(H: Hessians, g: Vector, alpha: Scalar, l: int, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Both sides of Lemma A.5, eq. (25), as printed: P^l g and v^{l-1,K-l}, 1 <= l < L <= K.

    False as printed (docs/errata.md); see :func:`lemma_a5_corrected`.
    """
    return _lemma_a5_sides(H, g, alpha, l, L, v_level=-1)


def lemma_a5_corrected(H: Hessians, g: Vector, alpha: Scalar, l: int, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Both sides of Lemma A.5 as its proof ends: P^l g and v^{l,K-l}, 1 <= l < L <= K."""
    return _lemma_a5_sides(H, g, alpha, l, L, v_level=0)


def _lemma_b4_sides(H, g, alpha, L, printed: bool):
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    L = _int_in("L", L, 1, K - 1, f" (K = {K}; Lemma B.4 holds 'for 1 <= L < K')")
    _refuse_enumeration(K, "lemma_b4", "expansion_dp and meta_gradient for the left side")
    if printed and K - L > L:
        raise ReferenceInputError(
            f"L = {L}: Lemma B.4 as printed takes prod_{{i=1}}^{{l}} over the L indices "
            f"k_1 < ... < k_L, so k_i is undefined for l > L; with K = {K} the sum reaches "
            f"l = K - L = {K - L} > L. Use K <= 2L, or lemma_b4 (the form of the proof, eq. (33))")
    lhs = _P(H, alpha, K, ar) @ g - _subset_sum(H, alpha, range(K), range(L + 1), g)
    rhs = ar.zeros(g.shape)
    for l in range(1, K - L + 1):
        tail = -alpha * (H[K - l] @ (_P(H, alpha, l - 1, ar) @ g))
        for subset in itertools.combinations(range(K - l), L):  # 0 <= k_1 < ... < k_L <= K-1-l
            factors = subset[:l] if printed else subset  # prod_{i=1}^{l} (printed) or ^{L} (33)
            term = tail
            for k in reversed(factors):
                term = -alpha * (H[k] @ term)
            rhs = rhs + term
    return ar.out(lhs, "lemma_b4"), ar.out(rhs, "lemma_b4")


def lemma_b4(H: Hessians, g: Vector, alpha: Scalar, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Both sides of Lemma B.4 in the form its proof derives, eq. (33), for 1 <= L < K:

    P^K g - (eq. (8))  and  sum_{l=1}^{K-L} [sum_{0<=k_1<...<k_L<=K-1-l} prod_{i=1}^{L}
    (-aH^{k_i})] (-aH^{K-l}) P^{l-1} g.  Enumerates subsets: K <= MAX_ENUMERATION_K.
    """
    return _lemma_b4_sides(H, g, alpha, L, printed=False)


def lemma_b4_printed(H: Hessians, g: Vector, alpha: Scalar, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Both sides of Lemma B.4 as printed, with prod_{i=1}^{l} (not ^{L}) inside the bracket.

    Only defined where l <= L for every l = 1..K-L, i.e. K <= 2L (docs/errata.md).
    """
    return _lemma_b4_sides(H, g, alpha, L, printed=True)


# ----------------------------------------------------------------------------------------------
# Algorithms 1 and 2, as printed and corrected


def _algorithm_1(hvp, g, alpha, K: int, L: int):
    """Algorithm 1's loops with the literal index ranges; ``hvp(k, v)`` is its u^{l,k} HVP."""
    v = {k: g for k in range(L, K + 1)}  # v^{0,k} = g, k = L..K
    for l in range(L):
        u = {k: hvp(k, v[k]) for k in range(L - l, K - l + 1)}  # u^{l,L-l} .. u^{l,K-l}
        nxt = {K - l - 1: v[K - l] - alpha * u[K - l]}
        for k in range(K - 2 - l, L - 2 - l, -1):  # k = K-2-l, ..., L-1-l
            nxt[k] = nxt[k + 1] - alpha * u[k + 1]
        v = nxt
    return v[0]


def algorithm_1_printed(H: Hessians, g: Vector, alpha: Scalar, L: int, H_K: Any) -> np.ndarray:
    """Algorithm 1 exactly as printed, L in {1, ..., K-1}.

    Its HVP u^{l,k} is taken at phi^k for k = L-l..K-l, so it reads H^1..H^K: the Hessian
    ``H_K`` at the final point phi^K is needed beyond the K Hessians H^0..H^{K-1}, and H^0 is never
    read. It computes eq. (8) for the shifted sequence H^1..H^K, not eq. (8) (docs/errata.md).
    """
    ar, (H, g, alpha, H_K) = _prepare(H=(H, 3), g=(g, 1), alpha=(alpha, 0), H_K=(H_K, 2))
    _check_stack(H, "H", ar)
    _check_vector(g, H.shape[1])
    K = H.shape[0]
    if H_K.shape != H.shape[1:]:
        raise ReferenceInputError(f"H_K: has shape {H_K.shape}; expected {H.shape[1:]}")
    _check_stack(H_K[None], "H_K", ar)
    L = _int_in("L", L, 1, K - 1, f" (K = {K}; Algorithm 1's input 'L in {{1, ..., K-1}}')")
    H_all = np.concatenate([H, H_K[None]])  # H^0 .. H^K
    return ar.out(_algorithm_1(lambda k, v: H_all[k] @ v, g, alpha, K, L), "algorithm_1_printed")


def algorithm_1_corrected(H: Hessians, g: Vector, alpha: Scalar, L: int) -> np.ndarray:
    """Algorithm 1 with its HVP corrected to u^{l,k} = H^{k-1} v^{l,k}; equals eq. (8), 0 <= L <= K."""
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    L = _int_in("L", L, 0, K, f" (K = {K})")
    return ar.out(_algorithm_1(lambda k, v: H[k - 1] @ v, g, alpha, K, L), "algorithm_1_corrected")


def _algorithm_2(H, g, alpha, K: int, L: int, T, ar):
    """Algorithm 2's loop: V^{l+1} = [V^l]_{K-L+1} 1^T - a U^l T, output [V^L]_1."""
    n = K - L + 1
    V = np.stack([g] * n, axis=1)  # d x (K-L+1)
    ones = np.array([1] * n, dtype=object if ar.exact else np.float64)
    for l in range(L):
        # column c (1-based) is the HVP at phi^{L-l-1+(c-1)} with column c of V^l
        U = np.stack([H[L - l - 1 + c] @ V[:, c] for c in range(n)], axis=1)
        V = np.outer(V[:, n - 1], ones) - alpha * (U @ T)
    return V[:, 0]


def _lower_ones(n: int, strict: bool, ar: _Arith) -> np.ndarray:
    T = np.tril(np.ones((n, n), dtype=np.int64), -1 if strict else 0)
    return T.astype(object) if ar.exact else T.astype(np.float64)


def algorithm_2_printed(H: Hessians, g: Vector, alpha: Scalar, L: int) -> np.ndarray:
    """Algorithm 2 exactly as printed: T strictly lower-triangular ones, L in {1, ..., K-1}."""
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    L = _int_in("L", L, 1, K - 1, f" (K = {K}; Algorithm 2's input 'L in {{1, ..., K-1}}')")
    T = _lower_ones(K - L + 1, strict=True, ar=ar)
    return ar.out(_algorithm_2(H, g, alpha, K, L, T, ar), "algorithm_2_printed")


def algorithm_2_corrected(H: Hessians, g: Vector, alpha: Scalar, L: int) -> np.ndarray:
    """Algorithm 2 with T lower-triangular ones including the diagonal; equals eq. (8), 0 <= L <= K."""
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    L = _int_in("L", L, 0, K, f" (K = {K})")
    T = _lower_ones(K - L + 1, strict=False, ar=ar)
    return ar.out(_algorithm_2(H, g, alpha, K, L, T, ar), "algorithm_2_corrected")


# ----------------------------------------------------------------------------------------------
# the hybrid binom-trunc estimator (Appendix D.1) and iMAML


def hybrid(H: Hessians, g: Vector, alpha: Scalar, L: int, C: int) -> np.ndarray:
    """The hybrid binom-trunc estimate, eq. (39), by explicit enumeration, 0 <= L <= C <= K:

    [I + sum_{l=1}^{L} sum_{K-C <= k_1 < ... < k_l < K} prod_{i=1}^{l} (-aH^{k_i})] g.
    """
    ar, H, g, alpha, K = _trajectory(H, g, alpha)
    C = _int_in("C", C, 0, K, f" (K = {K})")
    L = _int_in("L", L, 0, C, f" (C = {C}; eq. (39) takes C in {{L, ..., K}})")
    _refuse_enumeration(C, "hybrid (C plays K's role)", "expansion_dp(H[K-C:], g, alpha, L)")
    return ar.out(_subset_sum(H, alpha, range(K - C, K), range(L + 1), g), "hybrid")


def _imaml_inputs(H_K, g, lam):
    ar, (H_K, g, lam) = _prepare(H_K=(H_K, 2), g=(g, 1), lam=(lam, 0))
    _check_stack(H_K[None], "H_K", ar)
    _check_vector(g, H_K.shape[0])
    if not lam > 0:
        raise ReferenceInputError(f"lam = {lam}: the regularisation strength must be > 0")
    A = ar.eye(H_K.shape[0]) + H_K / lam
    return ar, A, g


def _solve_exact(A: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Solve A x = b over the rationals by Gauss-Jordan elimination; None if A is singular."""
    d = A.shape[0]
    M = np.concatenate([A, b[:, None]], axis=1)
    for col in range(d):
        pivot = next((r for r in range(col, d) if M[r, col] != 0), None)
        if pivot is None:
            return None
        M[[col, pivot]] = M[[pivot, col]]
        M[col] = M[col] / M[col, col]
        for r in range(d):
            if r != col and M[r, col] != 0:
                M[r] = M[r] - M[r, col] * M[col]
    return M[:, d].copy()


def imaml_exact(H_K: Any, g: Vector, lam: Scalar) -> np.ndarray:
    """The implicit meta-gradient (I + H_K / lam)^{-1} g (iMAML, Rajeswaran et al. 2019), by an
    exact solve (Gauss-Jordan over the rationals in exact mode, LAPACK in float mode)."""
    ar, A, g = _imaml_inputs(H_K, g, lam)
    if ar.exact:
        x = _solve_exact(A, g)
    else:
        x = None if np.linalg.matrix_rank(A) < A.shape[0] else np.linalg.solve(A, g)
    if x is None:
        raise ReferenceInputError("H_K, lam: I + H_K/lam is singular (-lam is an eigenvalue of "
                                  "H_K); the implicit meta-gradient does not exist")
    return ar.out(x, "imaml_exact")


def imaml_cg(H_K: Any, g: Vector, lam: Scalar, steps: int, x0: Any = "zero") -> np.ndarray:
    """``steps`` iterations of conjugate gradient on (I + H_K / lam) x = g from x0 = 0 or x0 = g.

    Standard CG (Hestenes-Stiefel): r = g - A x, p = r; a = r.r / p.Ap, x += a p, r -= a Ap,
    p = r + (r'.r' / r.r) p. Stops early once the residual is exactly zero. 0 steps return x0
    (x0 = g with 0 steps is first-order MAML, iMAML appendix A). A breakdown p.Ap = 0 with
    p != 0 (possible when I + H_K/lam is indefinite) raises.
    """
    ar, A, g = _imaml_inputs(H_K, g, lam)
    steps = _int_in("steps", steps, 0, 10**6)
    if not (isinstance(x0, str) and x0 in ("zero", "g")):
        raise ReferenceInputError(f"x0 = {_show(x0)}: must be 'zero' or 'g'")
    x = ar.zeros(g.shape) if x0 == "zero" else g.copy()
    r = g - A @ x
    p = r.copy()
    rr = r @ r
    for step in range(steps):
        if rr == 0:
            break
        Ap = A @ p
        pAp = p @ Ap
        if pAp == 0:
            raise ReferenceInputError(
                f"H_K, lam: conjugate gradient broke down at step {step + 1} (p.Ap = 0 with "
                "p != 0): I + H_K/lam is not positive definite")
        a = rr / pAp
        x = x + a * p
        r = r - a * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return ar.out(x, "imaml_cg")
