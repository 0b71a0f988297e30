"""Theorems 3.6, 3.8 and 3.10 as objects: statements, conditions, evaluation.

``THEOREMS["3.8"].binom`` is the statement (12c): ``.expr`` its SymPy expression (built on first
use, so that ``import bounds`` stays light), ``.latex()``, ``.reference``, and evaluation through
:func:`evaluate`, exact (``bounds.exact``) or vectorised (``bounds.numeric``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import numpy as np

from . import exact as _exact
from . import numeric as _numeric
from .params import NotApplicable, exact_point, format_value, numeric_point

__all__ = ["Statement", "Theorem", "THEOREMS", "theorem_3_6", "theorem_3_8", "theorem_3_10",
           "evaluate", "not_applicable", "applicable", "get_theorem", "broken_condition",
           "require_applicable", "arguments"]

ESTIMATORS = ("fo", "trunc", "binom")


@functools.cache
def _build(builder: str):
    """SymPy expressions are immutable: build each once (importing SymPy on first use)."""
    from . import symbolic
    return getattr(symbolic, builder)()


@dataclass(frozen=True)
class Statement:
    """One bound (or envelope, or lemma side) of the paper, e.g. eq. (12c).

    ``expr`` is built lazily by ``bounds.symbolic.<builder>()``; ``theorem`` and ``key`` tie it to
    :func:`evaluate` (``key`` is "fo", "trunc" or "binom" for the nine bounds).
    """

    theorem: str
    key: str
    reference: str
    description: str
    builder: str

    @property
    def expr(self):
        """The SymPy expression in the symbols of ``bounds.symbolic`` (K, L, alpha, H, h, M)."""
        return _build(self.builder)

    def latex(self) -> str:
        """LaTeX of the right-hand side, as printed in the paper."""
        import sympy
        return sympy.latex(self.expr)

    def evaluate(self, K, L, alpha, H, h=None, M=None, *, exact=False):
        """This bound alone (see :func:`evaluate`); envelopes and constants via
        ``bounds.envelopes`` (numeric only)."""
        if self.key in ESTIMATORS:
            return evaluate(self.theorem, K, L, alpha, H, h, M, exact=exact)[self.key]
        if exact:
            raise ValueError(f"{self.reference} involves e and has no exact value")
        from . import envelopes
        function = getattr(envelopes, self.builder)
        given = {"K": K, "L": L, "alpha": alpha, "H": H, "h": h, "M": M}
        names = function.__code__.co_varnames[:function.__code__.co_argcount]
        return function(**{n: given[n] for n in names})

    def sympy_value(self, K, L, alpha, H, h=None, M=None):
        """The plain SymPy path: substitute exact values into ``expr`` and ``doit()`` (slow)."""
        from . import symbolic
        return symbolic.substitute(self.expr, K=K, L=L, alpha=alpha, H=H, h=h, M=M)

    def __repr__(self) -> str:
        return f"<Statement {self.reference}: {self.description}>"


@dataclass(frozen=True)
class Condition:
    """A condition of a theorem, checked on exact scalars and float arrays alike."""

    text: str
    holds: Callable[[dict], object]
    reason: Callable[[dict], str]
    flags: str  # the command-line flags that set the parameters involved


@dataclass(frozen=True)
class Theorem:
    """A theorem of Section 3: its assumptions, conditions and the three bounds (a)-(c)."""

    number: str
    reference: str
    assumptions: tuple[str, ...]
    conditions: tuple[Condition, ...]
    fo: Statement
    trunc: Statement
    binom: Statement
    extras: dict = field(default_factory=dict)

    @property
    def statements(self) -> dict[str, Statement]:
        return {"fo": self.fo, "trunc": self.trunc, "binom": self.binom}

    @property
    def conditions_expr(self) -> list:
        """The conditions as SymPy relations (besides K >= 1, 0 <= L <= K)."""
        from . import symbolic
        return symbolic.conditions(self.number)

    def __repr__(self) -> str:
        return f"<Theorem {self.number}: {', '.join(s.reference.split(', ')[1] for s in self.statements.values())}>"


def _statements(number: str, equations: tuple[str, str, str]) -> dict[str, Statement]:
    names = {"fo": "first-order (FOMAML) error bound", "trunc": "truncated (TruncMAML) error bound",
             "binom": "binomial (BinomMAML) error bound"}
    builder = "theorem_" + number.replace(".", "_") + "_{}"
    return {key: Statement(number, key, f"Theorem {number}, eq. {eq}", names[key], builder.format(key))
            for key, eq in zip(ESTIMATORS, equations)}


def _x(p):
    return p["alpha"] * p["H"]


_STEP = Condition(
    "0 < alpha <= 1/H",
    lambda p: _x(p) <= 1,
    lambda p: f"alpha*H = {format_value(_x(p))} > 1 breaks the condition 0 < alpha <= 1/H",
    "--alpha/--H",
)
_H_GIVEN = Condition(
    "h is given (Assumption 3.9: local h-strong convexity)",
    lambda p: p["h"] is not None,
    lambda p: "h is not given (Assumption 3.9 needs the strong-convexity constant h)",
    "--h",
)
_M_GIVEN = Condition(
    "M is given (Assumption 3.9: the last M points)",
    lambda p: p["M"] is not None,
    lambda p: "M is not given (Assumption 3.9 needs the number M of strongly convex points)",
    "--M",
)
_SMALL_H = Condition(
    "0 < h <= H",
    lambda p: p["h"] <= p["H"],
    lambda p: f"h = {format_value(p['h'])} > H = {format_value(p['H'])} breaks the condition 0 < h <= H",
    "--h",
)
_M_RANGE = Condition(
    "1 <= M <= min(L, K-L)",
    lambda p: p["M"] <= np.minimum(p["L"], p["K"] - p["L"]),
    lambda p: (f"M = {format_value(p['M'])} > min(L, K-L) = "
               f"{format_value(min(p['L'], p['K'] - p['L']))} breaks the condition "
               "1 <= M <= min(L, K-L)"),
    "--M",
)

_LIPSCHITZ = "Assumption 3.5: the training loss has an H-Lipschitz gradient"
theorem_3_6 = Theorem("3.6", "Theorem 3.6 (restated as Theorem B.1)", (_LIPSCHITZ,), (),
                      **_statements("3.6", ("(11a)", "(11b)", "(11c)")),
                      extras={"ordering": "e_Bin < e_Tr < e_FO for 1 <= L < K and alpha*H > 0 "
                              "(proved in bounds.proofs.prove_theorem_3_6_ordering)"})
theorem_3_8 = Theorem("3.8", "Theorem 3.8 (restated as Theorem B.3)",
                      (_LIPSCHITZ, "Assumption 3.7: the training loss is convex"), (_STEP,),
                      **_statements("3.8", ("(12a)", "(12b)", "(12c)")),
                      extras={
                          "envelope": Statement("3.8", "envelope", "Theorem 3.8 proof, Lemma B.5",
                                                "super-exponential envelope of (12c)",
                                                "theorem_3_8_envelope"),
                          "c_alpha": Statement("3.8", "c_alpha", "Theorem 3.8 proof",
                                               "bound e K/(L+1) on the constant C_alpha",
                                               "theorem_3_8_c_alpha")})
theorem_3_10 = Theorem("3.10", "Theorem 3.10 (restated as Theorem B.6)",
                       (_LIPSCHITZ, "Assumption 3.9: the training loss is locally h-strongly convex "
                        "around the last M inner iterates, M <= min(L, K-L)"),
                       (_H_GIVEN, _M_GIVEN, _STEP, _SMALL_H, _M_RANGE),
                       **_statements("3.10", ("(13a)", "(13b)", "(13c)")),
                       extras={
                           "envelope": Statement("3.10", "envelope",
                                                 "Theorem 3.10 proof, Lemmas B.5 and B.7",
                                                 "super-exponential envelope of (13c)",
                                                 "theorem_3_10_envelope"),
                           "c_alpha": Statement("3.10", "c_alpha", "Theorem 3.10 proof",
                                                "bound e (K-1)/L on the constant C'_alpha",
                                                "theorem_3_10_c_alpha")})

#: "3.6" / "3.8" / "3.10" -> Theorem
THEOREMS: dict[str, Theorem] = {t.number: t for t in (theorem_3_6, theorem_3_8, theorem_3_10)}


def get_theorem(theorem) -> Theorem:
    """A Theorem from itself or its number "3.6", "3.8", "3.10"."""
    if isinstance(theorem, Theorem):
        return theorem
    if isinstance(theorem, str) and theorem.strip() in THEOREMS:
        return THEOREMS[theorem.strip()]
    raise ValueError(f"theorem = {theorem!r} is not one of {', '.join(map(repr, THEOREMS))}")


def _point(exact: bool, K, L, alpha, H, h, M) -> dict:
    return (exact_point if exact else numeric_point)(K, L, alpha, H, h, M)


def broken_condition(theorem, p: dict) -> Condition | None:
    """The first of the theorem's conditions that the validated scalar point ``p`` breaks."""
    for condition in get_theorem(theorem).conditions:
        if not condition.holds(p):
            return condition
    return None


def not_applicable(theorem, K, L, alpha, H, h=None, M=None) -> str | None:
    """Why the scalar point breaks ``theorem``'s conditions, or None when it satisfies them.

    Inputs as for :func:`evaluate`; exact inputs (ints, Fractions, strings) are checked in exact
    arithmetic, floats in float arithmetic. Domain errors raise ``BoundsInputError``.
    """
    thm = get_theorem(theorem)
    values = (K, L, alpha, H, h, M)
    if any(np.ndim(v) for v in values if v is not None):
        raise ValueError("not_applicable takes a scalar point; use bounds.applicable for arrays")
    is_exact = not any(isinstance(v, (float, np.floating)) for v in values)
    p = _point(is_exact, *values)
    if not is_exact:
        p = {n: (None if v is None else float(v)) for n, v in p.items()}
    condition = broken_condition(thm, p)
    return None if condition is None else f"Theorem {thm.number}: {condition.reason(p)}"


def applicable(theorem, K, L, alpha, H, h=None, M=None) -> np.ndarray:
    """Boolean array (broadcast shape): where the points satisfy ``theorem``'s conditions."""
    thm = get_theorem(theorem)
    p = numeric_point(K, L, alpha, H, h, M)
    ok = np.ones(np.shape(p["K"]), dtype=bool)
    for condition in thm.conditions:
        ok &= np.asarray(condition.holds(p), dtype=bool)
        if not ok.any():
            break
    return ok


def require_applicable(theorem, p: dict, scalar: bool) -> None:
    """Raise NotApplicable at the first point of the validated numeric point ``p`` (arrays)
    that breaks the theorem's conditions."""
    thm = get_theorem(theorem)
    for condition in thm.conditions:
        bad = ~np.asarray(condition.holds(p), dtype=bool)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(np.broadcast_to(bad, p["K"].shape))[0])
            q = {n: (None if v is None else v[index].item()) for n, v in p.items()}
            at = f" (at index {index}; use bounds.applicable to select points)" if not scalar else ""
            raise NotApplicable(f"Theorem {thm.number}: {condition.reason(q)}{at}")


def arguments(number: str, p: dict) -> list:
    """What the bounds depend on: K, L, x = alpha*H (and y = alpha*h, M for Theorem 3.10)."""
    args = [p["K"], p["L"], p["alpha"] * p["H"]]
    return args + [p["alpha"] * p["h"], p["M"]] if number == "3.10" else args


def evaluate(theorem, K, L, alpha, H, h=None, M=None, *, exact=False) -> dict:
    """The three bounds of ``theorem`` ("3.6", "3.8", "3.10") at a point or over arrays.

    Returns ``{"fo": ..., "trunc": ..., "binom": ...}`` -- the bounds (a), (b), (c) as
    multiples of ``||g_t^K||``.

    * numeric (default): scalars or NumPy arrays, broadcast; float64 values (a float for scalar
      input). A value beyond float64 is ``inf``, never NaN.
    * ``exact=True``: ints, Fractions or "p/q" strings; ``fractions.Fraction`` values.

    Raises ``BoundsInputError`` for parameters outside the domain and ``NotApplicable`` when a
    point breaks the theorem's conditions (for arrays: names the first such point; use
    :func:`applicable` to select points first). h and M are used by Theorem 3.10 only.
    """
    thm = get_theorem(theorem)
    if exact:
        p = exact_point(K, L, alpha, H, h, M)
        reason = not_applicable(thm, K, L, alpha, H, h, M)
        if reason:
            raise NotApplicable(reason)
        values = _exact.THEOREM_FUNCTIONS[thm.number](*arguments(thm.number, p))
        return {k: Fraction(v) for k, v in values.items()}
    scalar = all(np.ndim(v) == 0 for v in (K, L, alpha, H, h, M) if v is not None)
    p = numeric_point(K, L, alpha, H, h, M)
    require_applicable(thm, p, scalar)
    with np.errstate(over="ignore", under="ignore"):
        logs = _numeric.LOG_THEOREM_FUNCTIONS[thm.number](*arguments(thm.number, p))
        out = {k: np.exp(logs[k]) for k in ESTIMATORS}
    for k, v in out.items():
        if np.isnan(v).any():  # a bug, never a result: say so loudly
            raise RuntimeError(f"internal error: Theorem {thm.number} {k} gave NaN")
    return {k: float(v) for k, v in out.items()} if scalar else out
