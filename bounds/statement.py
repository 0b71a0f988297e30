"""What a statement of a paper is, as data: one definition that bounds, plots and verify read.

* :class:`Assumption` -- a hypothesis on the Hessians, as data: the interval each Hessian's
  spectrum lies in (``spectrum(point)``: one ``(lo, hi)`` per step k = 0..K-1, None for an open
  end), or a structural restriction (:data:`COMMUTING`);
* :class:`Hypotheses` -- what a group of statements (a theorem) assumes: its parameters, its
  assumptions, its parameter conditions (:class:`bounds.expr.Condition`, one predicate for
  checks, messages, SymPy and strategies), and the arguments its formulas take;
* :class:`Formula` -- one right-hand side, with its three evaluators side by side: exact
  (Fractions, or a rational bracket around an irrational value), vectorised and overflow-safe
  (natural log over float64 arrays, or the value itself where it may be negative), SymPy;
* :class:`Variant` -- as printed, corrected (another formula, with where the proof is), or
  restricted (more assumptions or conditions, or some replaced), each with a :data:`Status`;
* the statements: :class:`Bound` (an estimator's error is at most a formula times ||g||),
  :class:`Relation` (an exact comparison of numbers: Lemma B.5, B.7, an ordering),
  :class:`Claim` (a claim of the text whose check needs the estimators: sharpness, looseness);
  every statement has an ``id`` (the registry id verify checks it under), a reference and a
  one-line text;
* :class:`Quantity` -- an evaluable expression that is not itself a claim (the envelopes of a
  proof, the constants C_alpha);
* :class:`Theorem` -- a group of bounds with shared hypotheses (the rows of ``binomgbml bounds``).

A status is what the check of the variant found (``verify`` pins it; tests/test_verify_registry.py
fails when the two disagree): "holds", "false in general" (refuted by an exact witness; the
statement's restricted variants say where it holds), "corrected" (a proven replacement, not
printed in the paper), "vacuous" (the hypotheses cannot hold together).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from .expr import Condition, Expr
from .params import Parameter

__all__ = ["Status", "STATUSES", "VERDICT_OF_STATUS", "Assumption", "COMMUTING", "Hypotheses",
           "Formula", "Variant", "Statement", "Bound", "Relation", "Claim", "Quantity", "Theorem",
           "spectrum", "exact_value"]

Status = Literal["holds", "false in general", "corrected", "vacuous"]
STATUSES: tuple[Status, ...] = ("holds", "false in general", "corrected", "vacuous")
#: the verdict of ``binomgbml verify`` that backs each status
VERDICT_OF_STATUS: dict[str, str] = {"holds": "holds", "corrected": "holds",
                                     "false in general": "violated", "vacuous": "vacuous"}

Interval = tuple[Any, Any]


@dataclass(frozen=True)
class Assumption:
    """A hypothesis on the Hessians H^0..H^{K-1}.

    ``spectrum(point)`` gives the interval of each H^k's eigenvalues, k = 0..K-1, with None for
    an open end; assumptions combine by intersecting intervals (:func:`spectrum`).
    ``commuting``: the Hessians share one eigenbasis. ``parameters``: what ``spectrum`` reads.
    """

    name: str
    reference: str
    text: str
    spectrum: Callable[[Mapping[str, Any]], list[Interval]] | None = None
    parameters: tuple[str, ...] = ()
    commuting: bool = False
    short: str = ""  # for "holds for ...": "commuting Hessians"


COMMUTING = Assumption("commuting", "restriction (not in the paper)",
                       "the Hessians H^0..H^{K-1} commute (one eigenbasis)", commuting=True,
                       short="commuting Hessians")


def spectrum(assumptions: Sequence[Assumption], point: Mapping[str, Any]) -> list[Interval]:
    """The interval of each H^k's spectrum under all ``assumptions`` (their intersection), for
    the K Hessians H^0..H^{K-1} of a trajectory of ``point["K"]`` inner steps."""
    out: list[Interval] = [(None, None)] * int(point["K"])
    for a in assumptions:
        if a.spectrum is None:
            continue
        for k, (lo, hi) in enumerate(a.spectrum(point)):
            old_lo, old_hi = out[k]
            out[k] = (lo if old_lo is None else old_lo if lo is None else max(old_lo, lo),
                      hi if old_hi is None else old_hi if hi is None else min(old_hi, hi))
    return out


@dataclass(frozen=True)
class Hypotheses:
    """What a group of statements assumes.

    ``parameters``: what the statements read. ``signature``: the parameters their evaluation
    accepts, in positional order (default: ``parameters``; a paper's theorems may share one
    signature, e.g. K, L, alpha, H, h, M, and ignore what they do not read).
    ``assumptions``: on the Hessians (empty for statements about numbers).
    ``conditions``: on the parameters, all must hold.
    ``arguments``: the expressions the formulas take (default: the parameters), e.g.
    K, L, alpha*H: evaluated exactly or over float arrays by the one evaluation path.
    """

    parameters: tuple[Parameter, ...]
    assumptions: tuple[Assumption, ...] = ()
    conditions: tuple[Condition, ...] = ()
    signature: tuple[Parameter, ...] = ()
    arguments: tuple[Expr, ...] = ()

    def __post_init__(self) -> None:
        if not self.signature:
            object.__setattr__(self, "signature", self.parameters)
        if not self.arguments:
            object.__setattr__(self, "arguments", tuple(p.sym for p in self.parameters))
        names = {p.name for p in self.signature}
        for c in self.conditions:
            unknown = set(c.names()) - names
            if unknown:
                raise ValueError(f"condition {c.text!r} reads {sorted(unknown)}, not parameters")

    def arguments_at(self, point: Mapping[str, Any], backend: str = "exact") -> list[Any]:
        """The formulas' arguments at a point (e.g. K, L, alpha*H), exactly or over arrays."""
        return [a.evaluate(point, backend) for a in self.arguments]

    def parameter(self, name: str) -> Parameter:
        for p in self.signature:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def label(self) -> str:
        """The defining assumption's name ("3.7" for 3.5 + 3.7), or "-" without assumptions:
        the assumptions of a theorem build on each other and the last is the distinctive one."""
        spectral = [a for a in self.assumptions if not a.commuting]
        return spectral[-1].name if spectral else "-"

    def extended(self, assumptions: Sequence[Assumption] = (),
                 conditions: Sequence[Condition] = (), drops: Sequence[str] = ()) -> Hypotheses:
        """These hypotheses with more assumptions or conditions (a restricted variant), without
        the assumptions or conditions named in ``drops`` (by ``Assumption.name`` or
        ``Condition.text``: a variant that replaces them)."""
        if not (assumptions or conditions or drops):
            return self
        kept_a = tuple(a for a in self.assumptions if a.name not in drops)
        kept_c = tuple(c for c in self.conditions if c.text not in drops)
        return Hypotheses(self.parameters, kept_a + tuple(assumptions), kept_c + tuple(conditions),
                          self.signature, self.arguments)


@dataclass(frozen=True)
class Formula:
    """One right-hand side, as three evaluators of the hypotheses' arguments.

    * ``exact(*args)``: ints and Fractions in, a Fraction out (or, for a quantity involving an
      irrational constant, a ``RationalBracket``);
    * ``log(*args)``: float64 arrays in, the natural logarithm of the value out, so that a value
      beyond float64 is inf and never NaN (None: no vectorised evaluator);
    * ``numeric(*args)``: instead of ``log``, for a value that may be negative (an iteration
      count 2 sqrt(kappa) log(x), a bound divided by 1 - C_b): float64 arrays in, the value out,
      +-inf beyond float64 and never NaN;
    * ``sympy()``: the SymPy expression in the symbols of its parameters (``bounds.symbolic``;
      SymPy is imported only when this is called).

    The three are tested against each other (tests/test_statements.py, tests/test_bounds_related.py).
    """

    exact: Callable[..., Any]
    log: Callable[..., Any] | None
    sympy: Callable[[], Any]
    text: str = ""  # plain-text form for docs and --list: "1 - (1 - alpha H)^K"
    numeric: Callable[..., Any] | None = None

    @property
    def expr(self) -> Any:
        return _sympy(self.sympy)

    @property
    def vectorised(self) -> bool:
        return self.log is not None or self.numeric is not None

    def floats(self, *args: Any) -> Any:
        """The value over float64 arrays (exp of ``log``, or ``numeric``): +-inf beyond float64;
        NaN would be a bug and raises."""
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            if self.log is not None:
                out = np.exp(self.log(*args))
            elif self.numeric is not None:
                out = np.asarray(self.numeric(*args), dtype=float)
            else:
                raise ValueError(f"{self.text or self.sympy.__name__}: no vectorised evaluator")
        if np.isnan(out).any():
            raise RuntimeError(f"internal error: {self.text or self.sympy.__name__} gave NaN")
        return out


@functools.cache
def _sympy(builder: Callable[[], Any]) -> Any:
    """SymPy expressions are immutable: build each once."""
    return builder()


@dataclass(frozen=True)
class Variant:
    """A version of a statement, with its status.

    * "printed": the statement as in the paper;
    * "corrected": another ``formula`` (or, for a relation, other conditions) that is proven,
      with ``proof`` saying where;
    * "restricted": the printed formula under more ``assumptions`` (e.g. :data:`COMMUTING`) or
      ``conditions`` (an L range): where a statement that is false in general (or vacuous) still
      holds. ``drops`` names assumptions (``Assumption.name``) or conditions (``Condition.text``)
      of the statement that the variant does without: a variant replaces them by its own (iMAML's
      Assumption 2.4 "for all theta" by the same at the theta considered), and a corrected one
      may need fewer conditions than the printed one.

    ``check``: the id of the check that decides the variant, when it is not the variant's own
    registry id (a constant checked as part of its statement: iMAML's B_1 with Lemma 3).

    ``attained_at(point)``: where the text says the bound is attained (sharp), as the eigenvalue
    of each H^k = lambda_k I; None when it says nothing.
    """

    name: str
    kind: Literal["printed", "corrected", "restricted"]
    status: Status
    formula: Formula | None = None
    assumptions: tuple[Assumption, ...] = ()
    conditions: tuple[Condition, ...] = ()
    proof: str = ""
    text: str = ""
    attained_at: Callable[[Mapping[str, Any]], list[Any]] | None = None
    drops: tuple[str, ...] = ()
    check: str = ""

    def __post_init__(self) -> None:
        allowed = {"printed": ("holds", "false in general", "vacuous"),
                   "corrected": ("corrected", "vacuous"), "restricted": ("holds", "vacuous")}
        if self.status not in allowed[self.kind]:
            raise ValueError(f"a {self.kind} variant has status {allowed[self.kind]}, not {self.status!r}")

    @property
    def restriction(self) -> str:
        """What a restricted variant adds, in words: "commuting Hessians", "1 <= L <= K-1"."""
        parts = [a.short or a.text for a in self.assumptions] + [c.text for c in self.conditions]
        return ", ".join(parts)


@dataclass(frozen=True)
class Statement:
    """A statement of a paper: ``id`` (the registry id), ``reference``, a one-line ``text``,
    its ``hypotheses`` and its ``variants`` (the printed one first)."""

    id: str
    reference: str
    text: str
    hypotheses: Hypotheses
    variants: tuple[Variant, ...]

    def __post_init__(self) -> None:
        if not self.variants or self.variants[0].kind != "printed":
            raise ValueError(f"{self.id}: the first variant is the printed one")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.id}: variant names {names} repeat")

    @property
    def printed(self) -> Variant:
        return self.variants[0]

    @property
    def status(self) -> Status:
        """The printed statement's status."""
        return self.printed.status

    def variant(self, name: str) -> Variant:
        """The variant called ``name``. "corrected" without a variant of that name: the first
        variant of kind "corrected", else the printed one when it holds (it is its own
        correction), else the first restricted variant that holds (where the printed statement,
        false in general or vacuous, holds)."""
        for v in self.variants:
            if v.name == name:
                return v
        if name == "corrected":
            fallbacks = [v for v in self.variants if v.kind == "corrected"]
            fallbacks += [self.printed] if self.printed.status == "holds" else []
            fallbacks += [v for v in self.variants if v.kind == "restricted" and v.status == "holds"]
            if fallbacks:
                return fallbacks[0]
        raise KeyError(f"{self.id} has no variant {name!r} (it has {', '.join(v.name for v in self.variants)})")

    def variant_id(self, variant: Variant) -> str:
        """The registry id of a variant: the statement's id, then the variant's name."""
        return self.id if variant.kind == "printed" else f"{self.id}.{variant.name}"

    def check_id(self, variant: Variant) -> str:
        """The id of the check that decides a variant: its own ``check``, else its registry id."""
        return variant.check or self.variant_id(variant)

    def variant_reference(self, variant: Variant) -> str:
        """Where a variant is stated: the paper for the printed and restricted ones (with the
        restriction), the proof for a corrected one ("docs/errata.md V1")."""
        if variant.kind == "printed" or (variant.kind == "restricted" and not variant.conditions):
            return self.reference
        if variant.kind == "corrected":
            return variant.proof.split(":")[0] or self.reference
        return f"{self.reference}, {variant.restriction}"

    def variant_text(self, variant: Variant) -> str:
        """One line: the statement's text, restricted ("..., for commuting Hessians"), or the
        variant's own."""
        if variant.text:
            return variant.text
        if variant.kind == "restricted":
            return f"{self.text}, for {variant.restriction}"
        return self.text

    def hypotheses_of(self, variant: Variant) -> Hypotheses:
        """The hypotheses a variant is stated under."""
        return self.hypotheses.extended(variant.assumptions, variant.conditions, variant.drops)

    def holds_for(self, variant: Variant | None = None) -> str | None:
        """For a variant that is false in general or vacuous: where it holds (its statement's
        restricted variants that hold), e.g. "commuting Hessians"; None otherwise."""
        variant = variant or self.printed
        if variant.status not in ("false in general", "vacuous"):
            return None
        where = [v.restriction for v in self.variants if v.kind == "restricted" and v.status == "holds"]
        return "; ".join(where) or None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}: {self.reference}>"


@dataclass(frozen=True, repr=False)
class Bound(Statement):
    """``||P^K g - estimate|| <= formula * ||g||`` for the estimator ``key`` under the hypotheses.

    ``theorem`` and ``key`` ("fo", "trunc", "binom") tie it to its theorem's row;
    ``equation`` is the printed equation number; ``description`` names the estimator's bound.
    """

    theorem: str = ""
    key: str = ""
    equation: str = ""
    description: str = ""
    formula: Formula | None = None
    symbol: str = ""  # LaTeX of the bound's name in tables: e^{\mathrm{FO}}

    def formula_of(self, variant: Variant) -> Formula:
        formula = variant.formula or self.formula
        assert formula is not None
        return formula

    # --- the API of a single bound (through its theorem) -------------------------------------

    @property
    def expr(self) -> Any:
        """The SymPy expression of the printed right-hand side (``bounds.symbolic`` symbols)."""
        return self.formula_of(self.printed).expr

    def latex(self, variant: str = "printed") -> str:
        """LaTeX of the right-hand side (as printed, by default)."""
        import sympy

        return sympy.latex(self.formula_of(self.variant(variant)).expr)

    def evaluate(self, *args: Any, exact: bool = False, variant: str = "printed", **kwargs: Any) -> Any:
        """This bound alone: ``bounds.evaluate(theorem, ...)[key]``."""
        from .evaluation import evaluate

        return evaluate(self.theorem, *args, exact=exact, variant=variant, **kwargs)[self.key]

    def sympy_value(self, **values: Any) -> Any:
        """The plain SymPy path: substitute exact values into ``expr`` and ``doit()`` (slow)."""
        from . import symbolic

        return symbolic.substitute(self.expr, **values)

    @property
    def builder(self) -> str:  # the name of its SymPy builder, for messages
        return self.formula_of(self.printed).sympy.__name__


@dataclass(frozen=True, repr=False)
class Relation(Statement):
    """A comparison of exact numbers: ``sides(point)`` returns the values, compared in order by
    ``op`` ("<", "<=", "=="), e.g. (e_Bin, e_Tr, e_FO) with "<". A side may be a
    ``RationalBracket`` (an irrational value between two rationals): the comparison is then
    decided by the bracket, or raises ``ArithmeticError`` when it cannot be."""

    sides: Callable[[Mapping[str, Any]], Sequence[Any]] | None = None
    op: Literal["<", "<=", "=="] = "<"

    def compare(self, point: Mapping[str, Any]) -> tuple[bool, Any, Any]:
        """``(holds, left, right)`` for the first pair of sides that fails, else for the last pair;
        exact (sides computed exactly; brackets decide or raise)."""
        assert self.sides is not None
        values = list(self.sides(point))
        left = right = None
        for left, right in zip(values, values[1:]):
            if not _compare(left, right, self.op):
                return False, left, right
        return True, left, right


def exact_value(formula: Formula, args: Sequence[Any]) -> Any:
    """A formula's exact value: a Fraction, or a ``RationalBracket`` (it has ``lower``) as it is."""
    value = formula.exact(*args)
    return value if hasattr(value, "lower") else Fraction(value)


def _compare(a: Any, b: Any, op: str) -> bool:
    """``a op b`` for rationals, either of which may be a RationalBracket (its value lies strictly
    between ``lower`` and ``upper``); ArithmeticError when the brackets leave it undecided."""
    a_lo, a_hi = (a.lower, a.upper) if hasattr(a, "lower") else (a, a)
    b_lo, b_hi = (b.lower, b.upper) if hasattr(b, "lower") else (b, b)
    exact = a_lo == a_hi and b_lo == b_hi
    if op == "==":
        if not exact:
            raise ArithmeticError("equality with an irrational value cannot be decided")
        return bool(a_lo == b_lo)
    if a_hi < b_lo or (a_hi == b_lo and (op == "<=" or not exact)):
        return True  # a <= a_hi <= b_lo <= b, strictly unless both are exact and equal
    if a_lo > b_hi or (a_lo == b_hi and not exact):
        return False  # a > b
    if a_lo == b_hi:  # both exact and equal
        return op == "<="
    raise ArithmeticError(f"undecided: the brackets [{float(a_lo)!r}, {float(a_hi)!r}] and "
                          f"[{float(b_lo)!r}, {float(b_hi)!r}] overlap")


@dataclass(frozen=True, repr=False)
class Claim(Statement):
    """A claim of the text that only a check against the estimators can decide. Its data live
    here; ``kind`` names the check ``verify.registry`` runs for it:

    * "attained": the theorem's bounds are attained where their printed variants say
      (``Variant.attained_at``);
    * "not attained": the bound ``subject`` (a key of the theorem) is never attained;
    * "bound": the claim is the bound ``subject`` (a statement id) read another way (Lemma B.2
      at i = K is (11a)), checked as that bound.
    """

    kind: str = ""
    subject: str = ""


@dataclass(frozen=True)
class Quantity:
    """An evaluable expression that is not a claim itself: an envelope of a proof, a constant.

    ``formula`` is its SymPy form, exact value (a bracket when it is irrational) and vectorised
    evaluator, taking the ``hypotheses``' arguments (default: its theorem's); ``function``, where
    given, its public numeric evaluator (float arrays) instead of the generic one."""

    theorem: str
    key: str
    reference: str
    description: str
    formula: Formula
    function: Callable[..., Any] | None = None
    hypotheses: Hypotheses | None = None

    @property
    def expr(self) -> Any:
        return self.formula.expr

    def latex(self) -> str:
        import sympy

        return sympy.latex(self.expr)

    def evaluate(self, *args: Any, exact: bool = False, **kwargs: Any) -> Any:
        """At a point of its hypotheses' signature: exact (a Fraction or a bracket) or float64
        (arrays broadcast). A quantity with a ``function`` is numeric only (``exact=True`` is
        refused: its value involves e)."""
        from .evaluation import bind, get_theorem, quantity_value

        if self.function is None:
            hyp = self.hypotheses or get_theorem(self.theorem).hypotheses
            return quantity_value(self, hyp, bind(hyp, args, kwargs), exact=exact)
        if exact:
            raise ValueError(f"{self.reference} involves e and has no exact value")
        given = bind(get_theorem(self.theorem).hypotheses, args, kwargs)  # the theorem's signature
        names = self.function.__code__.co_varnames[:self.function.__code__.co_argcount]
        return self.function(**{n: given.get(n) for n in names})

    def __repr__(self) -> str:
        return f"<Quantity {self.reference}: {self.description}>"


@dataclass(frozen=True)
class Theorem:
    """A group of bounds with shared hypotheses, evaluated together (a row of a table).

    ``bounds`` maps a key ("fo", "trunc", "binom") to its :class:`Bound`; ``quantities`` holds
    envelopes and constants of the proof; ``claims`` the theorem's other statements (orderings,
    sharpness), in the order of the paper.
    """

    number: str
    reference: str
    hypotheses: Hypotheses
    bounds: dict[str, Bound]
    quantities: dict[str, Quantity] = field(default_factory=dict)
    claims: tuple[Statement, ...] = ()
    name: str = ""  # in messages: "Theorem 3.8" (default: "Theorem " + number)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"Theorem {self.number}")

    # --- evaluation at an exact point (the vectorised path is bounds.evaluation) ---------------

    def arguments(self, point: Mapping[str, Any], backend: str = "exact") -> list[Any]:
        """The formulas' arguments at a point (e.g. K, L, alpha*H), exactly or over arrays."""
        return self.hypotheses.arguments_at(point, backend)

    def exact_values(self, point: Mapping[str, Any], variant: str = "printed") -> dict[str, Any]:
        """Every bound of the variant at an exact point, as Fractions (brackets where irrational;
        no condition checked)."""
        args = self.arguments(point)
        return {k: exact_value(b.formula_of(b.variant(variant)), args) for k, b in self.bounds.items()}

    def has_corrections(self) -> bool:
        """Whether some bound's corrected variant differs from the printed one."""
        return any(b.variant("corrected") is not b.printed for b in self.bounds.values())

    def hypotheses_for(self, variant: str = "printed") -> Hypotheses:
        """The hypotheses a row of the variant is evaluated under: the theorem's, with the
        conditions that every bound's variant adds, and without those every one drops."""
        chosen = [b.variant(variant) for b in self.bounds.values()]
        drops = set.intersection(*(set(v.drops) for v in chosen)) if chosen else set()
        extra = [c for c in chosen[0].conditions if all(c in v.conditions for v in chosen)] if chosen else []
        return self.hypotheses.extended((), extra, tuple(drops))

    # --- views kept from the first API ---------------------------------------------------------

    @property
    def statements(self) -> dict[str, Bound]:
        return self.bounds

    @property
    def extras(self) -> dict[str, Quantity]:
        return self.quantities

    @property
    def assumptions(self) -> tuple[str, ...]:
        """The assumptions in words: "Assumption 3.5: the training loss has an H-Lipschitz gradient"."""
        return tuple(f"{a.reference}: {a.text}" for a in self.hypotheses.assumptions)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return self.hypotheses.conditions

    @property
    def conditions_expr(self) -> list[Any]:
        """The conditions as SymPy relations (besides the parameters' domains)."""
        from . import symbolic

        return [r for c in self.conditions for r in c.sympy(symbolic.SYMBOLS)]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.bounds)

    def __getattr__(self, name: str) -> Bound:  # thm.fo, thm.trunc, thm.binom
        bounds = self.__dict__.get("bounds", {})
        if name in bounds:
            return bounds[name]
        raise AttributeError(name)

    def variant_names(self) -> tuple[str, ...]:
        """Variant names that some bound has, besides the printed one."""
        return tuple(dict.fromkeys(v.name for b in self.bounds.values() for v in b.variants[1:]))

    def __repr__(self) -> str:
        return f"<Theorem {self.number}: {', '.join(b.equation for b in self.bounds.values())}>"
