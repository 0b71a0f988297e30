"""The paper's statements as SymPy expressions (imported on first use; ``import bounds`` doesn't).

Symbols: ``K`` (inner steps), ``L`` (truncation), ``M`` (strongly convex points), ``alpha`` (inner
step size), ``H`` (gradient Lipschitz constant), ``h`` (strong-convexity constant), ``gamma``
(Lemma B.7), ``i`` (Lemma B.2) and the summation index ``l``. Each builder returns the right-hand
side of the cited equation exactly as printed.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

K = sp.Symbol("K", integer=True, positive=True)
L = sp.Symbol("L", integer=True, nonnegative=True)
M = sp.Symbol("M", integer=True, positive=True)
i = sp.Symbol("i", integer=True, nonnegative=True)
l = sp.Symbol("l", integer=True)
alpha, H, h = sp.symbols("alpha H h", positive=True)
gamma = sp.Symbol("gamma", real=True)

SYMBOLS = {"K": K, "L": L, "M": M, "i": i, "alpha": alpha, "H": H, "h": h, "gamma": gamma}


def _tail(n, x):
    """sum_{l=L+1}^{n} C(n, l) x^l."""
    return sp.Sum(sp.binomial(n, l) * x ** l, (l, L + 1, n))


def theorem_3_6_fo():
    """Eq. (11a): (1 + alpha H)^K - 1."""
    return (1 + alpha * H) ** K - 1


def theorem_3_6_trunc():
    """Eq. (11b): (1 + alpha H)^K - (1 + alpha H)^L."""
    return (1 + alpha * H) ** K - (1 + alpha * H) ** L


def theorem_3_6_binom():
    """Eq. (11c): sum_{l=L+1}^{K} C(K, l) (alpha H)^l."""
    return _tail(K, alpha * H)


def theorem_3_8_fo():
    """Eq. (12a): 1 - (1 - alpha H)^K."""
    return 1 - (1 - alpha * H) ** K


def theorem_3_8_trunc():
    """Eq. (12b): 1 - (1 - alpha H)^(K-L)."""
    return 1 - (1 - alpha * H) ** (K - L)


def theorem_3_8_binom():
    """Eq. (12c): C(K, L+1) (alpha H)^(L+1)."""
    return sp.binomial(K, L + 1) * (alpha * H) ** (L + 1)


def theorem_3_8_envelope():
    """Proof of Theorem 3.8 via Lemma B.5: (12c) < (alpha H e K / (L+1))^(L+1)."""
    return (alpha * H * sp.E * K / (L + 1)) ** (L + 1)


def theorem_3_8_c_alpha():
    """The constant of Theorem 3.8 as the proof bounds it: C_alpha <= e K / (L+1)."""
    return sp.E * K / (L + 1)


def theorem_3_10_fo():
    """Eq. (13a): max{(1 + alpha H)^(K-M) (1 - alpha h)^M - 1, 1 - (1 - alpha H)^K}."""
    return sp.Max((1 + alpha * H) ** (K - M) * (1 - alpha * h) ** M - 1, 1 - (1 - alpha * H) ** K)


def theorem_3_10_trunc():
    """Eq. (13b): [(1 + alpha H)^(K-M) - (1 + alpha H)^(L-M)] (1 - alpha h)^M."""
    return ((1 + alpha * H) ** (K - M) - (1 + alpha * H) ** (L - M)) * (1 - alpha * h) ** M


def theorem_3_10_binom():
    """Eq. (13c): (alpha H)^(L+1) sum_{l=1}^{M} C(K-l, L) (1 - alpha h)^(l-1)
    + (1 - alpha h)^M sum_{l=L+1}^{K-M} C(K-M, l) (alpha H)^l."""
    first = sp.Sum(sp.binomial(K - l, L) * (1 - alpha * h) ** (l - 1), (l, 1, M))
    return (alpha * H) ** (L + 1) * first + (1 - alpha * h) ** M * _tail(K - M, alpha * H)


def theorem_3_10_envelope():
    """Proof of Theorem 3.10 (Lemmas B.5, B.7): (13c) is below
    (H/h) [alpha H e (K-1)/L]^L [1 - (1 - alpha h)^M]
    + (1 - alpha h)^M [alpha H e (K-M-1)/L]^L [(1 + alpha H)^(K-L-M) - 1]."""
    return (H / h * (alpha * H * sp.E * (K - 1) / L) ** L * (1 - (1 - alpha * h) ** M)
            + (1 - alpha * h) ** M * (alpha * H * sp.E * (K - M - 1) / L) ** L
            * ((1 + alpha * H) ** (K - L - M) - 1))


def theorem_3_10_c_alpha():
    """The constant C'_alpha of Theorem 3.10 as the proof bounds it: C'_alpha <= e (K-1) / L."""
    return sp.E * (K - 1) / L


def lemma_b2():
    """Eq. (30): ||P^i - I|| <= (1 + alpha H)^i - 1."""
    return (1 + alpha * H) ** i - 1


def lemma_b5_lhs():
    """Lemma B.5, left side: C(K, L)."""
    return sp.binomial(K, L)


def lemma_b5_rhs():
    """Lemma B.5, right side: (e K / L)^L."""
    return (sp.E * K / L) ** L


def lemma_b7_lhs():
    """Eq. (38), left side: sum_{l=L+1}^{K} C(K, l) gamma^l."""
    return _tail(K, gamma)


def lemma_b7_rhs():
    """Eq. (38), right side: gamma^(L+1) sum_{l=1}^{K-L} C(K-l, L) (1 + gamma)^(l-1)."""
    return gamma ** (L + 1) * sp.Sum(sp.binomial(K - l, L) * (1 + gamma) ** (l - 1), (l, 1, K - L))


def conditions(theorem: str) -> list:
    """The theorem's conditions as SymPy relations (besides K >= 1, 0 <= L <= K, alpha, H > 0)."""
    def rel(op, a, b):  # unevaluated, so that "alpha > 0" stays visible
        return op(a, b, evaluate=False)
    step = [rel(sp.StrictGreaterThan, alpha, 0), rel(sp.LessThan, alpha, 1 / H)]
    return {"3.6": [rel(sp.StrictGreaterThan, alpha * H, 0)], "3.8": step,
            "3.10": step + [rel(sp.StrictGreaterThan, h, 0), rel(sp.LessThan, h, H),
                            rel(sp.GreaterThan, M, 1), rel(sp.LessThan, M, sp.Min(L, K - L))]}[theorem]


def rational(value):
    """A SymPy Rational from an int, Fraction or "p/q" string."""
    return sp.Rational(str(Fraction(value))) if not isinstance(value, sp.Basic) else value


def substitute(expr, **values):
    """Substitute exact values (None entries skipped) and evaluate sums: the plain SymPy path.

    Returns a ``Fraction`` when the result is rational, else the SymPy number."""
    subs = {SYMBOLS[name]: rational(v) for name, v in values.items() if v is not None}
    result = expr.subs(subs).doit()
    if isinstance(result, sp.Rational):
        return Fraction(int(result.p), int(result.q))
    return result
