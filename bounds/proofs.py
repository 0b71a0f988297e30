"""Machine-checked proofs of the paper's combinatorial steps (SymPy).

* :func:`prove_lemma_b7` -- Lemma B.7, eq. (38), by induction on K: both sides satisfy the
  recurrence ``S[K] = C(K-1, L) gamma^(L+1) + (1 + gamma) S[K-1]`` and agree at K = L+1; every
  step is a SymPy identity in symbolic K, L, l, gamma. Independently, (38) and the recurrence are
  checked as polynomial identities in gamma for every 0 <= L < K <= k_max.
* :func:`prove_theorem_3_6_ordering` -- ``e_Bin < e_Tr < e_FO`` for 1 <= L < K, alpha H > 0,
  through the paper's difference identity
  ``e_Tr - e_Bin = sum_{l=0}^{L} [C(K, l) - C(L, l)] (alpha H)^l``.
* :func:`prove_theorem_3_8_binomial_sum` -- the step of Theorem 3.8's proof
  ``sum_{l=1}^{K-L} C(K-l, L) = C(K, L+1)`` (hockey stick), by the same induction.
* :func:`lemma_b7_printed_step_d` -- the proof's step (d) as printed (upper limit K-L+1), which is
  false; see docs/errata.md.

A proof is a :class:`Proof`: its steps, each with a claim, how it was checked and the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import comb

import sympy as sp

from .symbolic import K, L, gamma, l

__all__ = ["Step", "Proof", "prove_lemma_b7", "prove_theorem_3_6_ordering",
           "prove_theorem_3_8_binomial_sum", "lemma_b7_printed_step_d"]

x = sp.Symbol("x", positive=True)  # alpha*H in the ordering proof
n, j = sp.symbols("n j", integer=True, nonnegative=True)


@dataclass
class Step:
    claim: str
    method: str
    verified: bool


@dataclass
class Proof:
    statement: str
    steps: list[Step] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return bool(self.steps) and all(s.verified for s in self.steps)

    def check(self, claim: str, method: str, verified: object) -> None:
        self.steps.append(Step(claim, method, bool(verified)))

    def __str__(self) -> str:
        lines = [f"{self.statement}: {'PROVED' if self.verified else 'NOT PROVED'}"]
        lines += [f"  [{'ok' if s.verified else 'FAIL'}] {s.claim}  ({s.method})" for s in self.steps]
        return "\n".join(lines)


def _zero(expr) -> bool:
    """Whether a SymPy expression simplifies to 0 (binomials rewritten as factorials)."""
    return sp.simplify(sp.powsimp(sp.combsimp(sp.expand_func(expr)), force=True)) == 0


def _binomial_polys(name: str, k_max: int):
    """``(v^i, (1+v)^i)`` for i = 0..k_max in SymPy's polynomial ring ZZ[v]."""
    _, v = sp.ring(name, sp.ZZ)
    powers, shifted_powers = [v ** 0], [v ** 0]
    for _ in range(k_max + 1):
        powers.append(powers[-1] * v)
        shifted_powers.append(shifted_powers[-1] * (1 + v))
    return powers, shifted_powers


def _pascal() -> bool:
    return _zero(sp.binomial(n + 1, j + 1) - sp.binomial(n, j) - sp.binomial(n, j + 1))


def prove_lemma_b7(k_max: int = 40) -> Proof:
    """Lemma B.7, eq. (38), for L = 0..K-1 and real gamma (see the module docstring)."""
    proof = Proof("Lemma B.7, eq. (38)")
    # S[K] = sum_{l=L+1}^{K} C(K, l) g^l; recurrence coefficient by coefficient (Pascal's rule)
    proof.check("Pascal's rule C(n+1, j+1) = C(n, j) + C(n, j+1)", "SymPy, symbolic n, j", _pascal())
    proof.check("recurrence for S, coefficient of gamma^l, L+2 <= l <= K-1: "
                "C(K, l) = C(K-1, l-1) + C(K-1, l)", "SymPy, symbolic K, l",
                _zero(sp.binomial(K, l) - sp.binomial(K - 1, l - 1) - sp.binomial(K - 1, l)))
    proof.check("recurrence for S, coefficient of gamma^(L+1): C(K, L+1) = C(K-1, L) + C(K-1, L+1)",
                "SymPy, symbolic K, L",
                _zero(sp.binomial(K, L + 1) - sp.binomial(K - 1, L) - sp.binomial(K - 1, L + 1)))
    proof.check("recurrence for S, coefficient of gamma^K: C(K, K) = C(K-1, K-1)",
                "SymPy, symbolic K", _zero(sp.binomial(K, K) - sp.binomial(K - 1, K - 1)))
    # R[K] = g^(L+1) sum_{l=1}^{K-L} f_K(l), f_K(l) = C(K-l, L) (1+g)^(l-1):
    # peel l = 1, shift l -> l+1 in the rest, and f_K(l+1) = (1+g) f_{K-1}(l)
    # (checked with u = 1 + gamma > 0 so that powers combine; both sides are polynomials in gamma
    # for l >= 1, so an identity for all gamma > -1 holds for every real gamma)
    u = sp.Symbol("u", positive=True)

    def f(k, index, base=1 + gamma):
        return sp.binomial(k - index, L) * base ** (index - 1)
    proof.check("recurrence for R, peeled term: f_K(1) = C(K-1, L)", "SymPy, symbolic K, L",
                _zero(f(K, 1) - sp.binomial(K - 1, L)))
    proof.check("recurrence for R, shifted summand: f_K(l+1) = (1+gamma) f_{K-1}(l)",
                "SymPy, symbolic K, L, l, gamma", _zero(f(K, l + 1, u) - u * f(K - 1, l, u)))
    base_s = sp.Sum(sp.binomial(L + 1, l) * gamma ** l, (l, L + 1, L + 1)).doit()
    base_r = (gamma ** (L + 1) * sp.Sum(f(L + 1, l), (l, 1, 1))).doit()
    proof.check("base case K = L+1: S[L+1] = R[L+1] = gamma^(L+1)", "SymPy, symbolic L",
                _zero(base_s - gamma ** (L + 1)) and _zero(base_r - gamma ** (L + 1)))
    # independent brute force: polynomial identities in gamma for every K <= k_max
    g, g1 = _binomial_polys("gamma", k_max)
    recurrence_ok = identity_ok = True
    S = {}
    for k in range(1, k_max + 1):
        for ll in range(k):
            S[k, ll] = sum((comb(k, i) * g[i] for i in range(ll + 2, k + 1)), comb(k, ll + 1) * g[ll + 1])
            rhs = g[ll + 1] * sum((comb(k - i, ll) * g1[i - 1] for i in range(2, k - ll + 1)),
                                  comb(k - 1, ll) * g1[0])
            identity_ok &= S[k, ll] == rhs
            if ll < k - 1:
                recurrence_ok &= S[k, ll] == comb(k - 1, ll) * g[ll + 1] + g1[1] * S[k - 1, ll]
    proof.check(f"recurrence S[K] = C(K-1, L) gamma^(L+1) + (1+gamma) S[K-1] for every "
                f"0 <= L < K-1 < {k_max}", "polynomial identity in gamma (SymPy ring ZZ[gamma])", recurrence_ok)
    proof.check(f"(38) for every 0 <= L < K <= {k_max}", "polynomial identity in gamma (SymPy ring ZZ[gamma])",
                identity_ok)
    return proof


def prove_theorem_3_6_ordering(k_max: int = 40) -> Proof:
    """``e_Bin < e_Tr < e_FO`` (Theorem 3.6) for 1 <= L < K and x = alpha H > 0."""
    proof = Proof("Theorem 3.6: e_Bin < e_Tr < e_FO for 1 <= L < K, alpha*H > 0")
    # binomial theorem; SymPy proves it symbolically only for 0 < x <= 1 (series convergence)
    closed = sp.Sum(sp.binomial(K, l) * x ** l, (l, 0, K)).doit()
    proof.check("binomial theorem sum_{l=0}^{K} C(K, l) x^l = (1+x)^K, symbolic K, 0 < x <= 1",
                "SymPy Sum.doit", isinstance(closed, sp.Piecewise)
                and _zero(closed.args[0][0] - (1 + x) ** K))
    split = (sp.Sum(sp.binomial(K, l) * x ** l, (l, 0, K)) - sp.Sum(sp.binomial(K, l) * x ** l, (l, L + 1, K))
             - sp.Sum(sp.binomial(K, l) * x ** l, (l, 0, L)))
    proof.check("split sum_{0}^{K} = sum_{0}^{L} + sum_{L+1}^{K}", "SymPy, symbolic K, L",
                sp.simplify(split) == 0)
    p, p1 = _binomial_polys("x", k_max)
    identity_ok = True
    for k in range(1, k_max + 1):
        for ll in range(0, k):
            e_tr = p1[k] - p1[ll]
            e_bin = sum((comb(k, i) * p[i] for i in range(ll + 1, k + 1)), 0 * p[0])
            diff = sum(((comb(k, i) - comb(ll, i)) * p[i] for i in range(0, ll + 1)), 0 * p[0])
            identity_ok &= e_tr - e_bin == diff
    proof.check(f"difference identity e_Tr - e_Bin = sum_{{l=0}}^{{L}} [C(K,l) - C(L,l)] x^l for "
                f"every 0 <= L < K <= {k_max}", "polynomial identity in x (SymPy ring ZZ[x])", identity_ok)
    proof.check("C(n+1, l) - C(n, l) = C(n, l-1), which is > 0 for 1 <= l <= n+1; so C(K, l) > C(L, l) "
                "for 1 <= l <= L < K and every term l >= 1 of the difference is > 0 (x > 0)",
                "SymPy, symbolic n, l", _zero(sp.binomial(n + 1, l) - sp.binomial(n, l) - sp.binomial(n, l - 1)))
    geometric = (x * sp.Sum((1 + x) ** j, (j, 0, L - 1))).doit()
    proof.check("e_FO - e_Tr = (1+x)^L - 1 = x sum_{j=0}^{L-1} (1+x)^j > 0 for L >= 1, x > 0",
                "SymPy, symbolic L", _zero(sp.simplify(geometric) - ((1 + x) ** L - 1)))
    return proof


def prove_theorem_3_8_binomial_sum(k_max: int = 40) -> Proof:
    """The step ``sum_{l=1}^{K-L} C(K-l, L) = C(K, L+1)`` in the proof of Theorem 3.8."""
    proof = Proof("Theorem 3.8 proof: sum_{l=1}^{K-L} C(K-l, L) = C(K, L+1)")
    proof.check("induction step C(K, L+1) = C(K-1, L) + C(K-1, L+1)", "SymPy, symbolic K, L",
                _zero(sp.binomial(K, L + 1) - sp.binomial(K - 1, L) - sp.binomial(K - 1, L + 1)))
    proof.check("base K = L+1: C(L, L) = C(L+1, L+1)", "SymPy, symbolic L",
                _zero(sp.binomial(L, L) - sp.binomial(L + 1, L + 1)))
    proof.check(f"identity for every 0 <= L < K <= {k_max}", "exact integers",
                all(sum(comb(k - i, ll) for i in range(1, k - ll + 1)) == comb(k, ll + 1)
                    for k in range(1, k_max + 1) for ll in range(k)))
    return proof


def lemma_b7_printed_step_d(K: int, L: int, gamma: int | Fraction | str) -> tuple[Fraction, Fraction]:
    """Lemma B.7's proof, step (d) as printed, against S[K] (exactly): returns (S[K], printed).

    Printed: ``S[K] = sum_{l=1}^{K-L+1} C(K-l, L) gamma^(L+1) (1+gamma)^(l-1)
    + (1+gamma)^(K-L-1) S[L+1]``; the upper limit should be K-L-1 (binomials with K-l < 0 read
    as 0). Needs 1 <= L and L+1 <= K.
    """
    g = Fraction(gamma)

    def c(a, b):
        return comb(a, b) if a >= 0 else 0

    s_k = sum(comb(K, i) * g ** i for i in range(L + 1, K + 1))
    s_base = g ** (L + 1)  # S[L+1] = C(L+1, L+1) gamma^(L+1)
    printed = sum(c(K - i, L) * g ** (L + 1) * (1 + g) ** (i - 1) for i in range(1, K - L + 2)) \
        + (1 + g) ** (K - L - 1) * s_base
    return Fraction(s_k), Fraction(printed)
