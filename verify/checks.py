"""The two kinds of check of a statement: error bounds, and exact claims.

A check is a registry entry: the id it runs under (a statement's id, or a variant's:
"thm3.8.fo.corrected"), where the statement is printed, its assumption label and one-line text
(read from the statement in ``bounds`` where there is one), and how to run and replay it.

* :class:`BoundCheck` -- an error bound (``verify.search.BoundClaim``, one variant of a bound of
  ``bounds``): Hypothesis plus adversarial search, violations confirmed exactly;
* :class:`ExactCheck` -- an identity or a claim about exact numbers: Hypothesis over exact
  rational cases, each examined in exact arithmetic (Fractions, ``estimators.reference``), so a
  failing case is itself the proof of a violation; optionally followed by an adversarial search;
* :class:`Vacuity` -- an assumption set that no instance meets (verdict ``vacuous``): every
  candidate drawn is refuted exactly by the construction of a written argument;
* :class:`Conditional` -- a statement under an assumption set: ``vacuous`` when the set is (a
  :class:`Vacuity`), else the verdict of its check.

All produce a :class:`verify.search.Result` and replay a witness exactly. Replay gives a verdict
only on a witness the statement speaks about: one that is malformed, or outside the statement's
assumption or domain, raises :class:`verify.errors.VerifyInputError` (it checks nothing).

Cases are plain data; a check's ``encode`` / ``decode`` turn them into witness JSON and back:
:func:`case_to_json` / :func:`json_to_case` for trajectories ("params", "hessians", "H_K", "g"),
:func:`plain_to_json` / :func:`plain_from_json` for any nesting of dicts, lists and exact numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .errors import VerifyInputError
from .rationals import fraction_array, fraction_shown, fraction_str
from .search import (
    BoundClaim,
    Result,
    hypothesis_find,
    parse_params,
    replay_bound,
    search_bound,
)

__all__ = ["BoundCheck", "Check", "Conditional", "ExactCheck", "OutsideAssumptions", "Vacuity",
           "case_to_json", "json_to_case", "plain_from_json", "plain_to_json", "satisfying_instance"]

#: the keys of a witness that record a result, not the case
RESULT_KEYS = ("id", "error", "bound", "exact", "detail")


@dataclass(frozen=True)
class Check:
    """The check of one statement (or variant): id, where it is printed, its assumption, a
    one-line text; ``statement`` and ``variant`` are the ``bounds`` objects it checks, if any."""

    id: str
    reference: str
    assumption: str
    text: str
    statement: Any = field(default=None, kw_only=True)  # keyword-only: subclasses' fields follow text
    variant: Any = field(default=None, kw_only=True)
    #: ``binomgbml verify`` runs ``budget`` times ``--examples`` Hypothesis examples here (at least
    #: 1): a check that needs many cases to reach its verdict, or whose cases are slow, says so
    budget: float = field(default=1.0, kw_only=True)
    #: what a replayed witness of this check shows when it is confirmed
    shows = "violated"

    @property
    def status(self) -> str | None:
        """The status ``bounds`` records for the variant checked here (None: not in ``bounds``)."""
        return None if self.variant is None else self.variant.status

    def examples_for(self, examples: int) -> int:
        """The Hypothesis examples this check runs when a run asks for ``examples``."""
        return max(1, round(examples * self.budget))

    def run(self, *, examples: int, starts: int, seed: int, shrink: bool = True) -> Result:
        """Check the statement: Hypothesis ``examples``, adversarial ``starts`` (where it has a search)."""
        raise NotImplementedError  # pragma: no cover

    def replay(self, witness: dict) -> tuple[bool, str]:
        """Re-check ``witness`` exactly: (violated?, one-line explanation); VerifyInputError for a
        witness that is malformed or outside the statement."""
        if not isinstance(witness, dict):
            raise VerifyInputError(f"a witness is a JSON object {{...}}, not {type(witness).__name__}")
        try:
            return self._replay(witness)
        except KeyError as exc:  # verify.search.parse_params: a missing parameter reads as KeyError
            raise VerifyInputError(f"the {self.id} witness has no {exc.args[0]!r} "
                                   "(docs/verify.md, Witness files)") from None

    def _replay(self, witness: dict) -> tuple[bool, str]:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class BoundCheck(Check):
    """``||P^K g - estimate|| <= bound ||g||``: see :class:`verify.search.BoundClaim`."""

    claim: BoundClaim = None  # type: ignore[assignment]  # required; a default only for dataclass field order

    def run(self, *, examples: int, starts: int, seed: int, shrink: bool = True) -> Result:
        return search_bound(self.claim, examples=examples, starts=starts, seed=seed, shrink=shrink)

    def _replay(self, witness: dict) -> tuple[bool, str]:
        return replay_bound(self.claim, witness)


# --------------------------------------------------------------------------------------------
# exact statements

_ARRAYS = ("hessians", "H_K", "g")


def case_to_json(case: dict) -> dict:
    """A case {"params", "hessians"?, "H_K"?, "g"?} with exact entries -> JSON-ready dict."""
    out = {"params": {k: (v if isinstance(v, int) else fraction_str(v))
                      for k, v in case["params"].items() if v is not None}}
    for key in _ARRAYS:
        if case.get(key) is not None:
            out[key] = np.vectorize(fraction_str, otypes=[object])(
                np.asarray(case[key], dtype=object)).tolist()
    return out


def json_to_case(witness: dict) -> dict:
    """The inverse of :func:`case_to_json` (exact Fractions); VerifyInputError for arrays whose
    shapes do not fit together (hessians K x d x d with K = params.K, H_K d x d, g of length d)."""
    case: dict[str, Any] = {"params": parse_params(witness.get("params", {}))}
    for key in _ARRAYS:
        if key in witness:
            case[key] = fraction_array(witness[key], f"witness {key}")
    arrays = [case[key] for key in _ARRAYS if key in case and case[key].ndim]
    d = arrays[0].shape[-1] if arrays else None
    K = case["params"].get("K")
    for key, expected, text in (("hessians", (K, d, d), "K x d x d with K = params.K"),
                                ("H_K", (d, d), "d x d"), ("g", (d,), "d")):
        shape = case[key].shape if key in case else None
        if shape is not None and (len(shape) != len(expected) or
                                  any(e is not None and n != e for n, e in zip(shape, expected))):
            raise VerifyInputError(f"witness {key} has shape {shape}; expected {text} (d = {d})")
    return case


class OutsideAssumptions(AssertionError):
    """A check failed on a case that breaks the check's own assumptions: its strategy drew
    beyond them, a bug of the check (never a witness)."""


def plain_to_json(x: Any) -> Any:
    """Nested dicts, lists, tuples and arrays of exact numbers as JSON data: Fractions as "p/q"
    strings, ints, bools, strings and None as they are."""
    if isinstance(x, dict):
        return {k: plain_to_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [plain_to_json(v) for v in x]
    if isinstance(x, (bool, str)) or x is None:
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, Fraction):
        return fraction_str(x)
    raise TypeError(f"cannot store {type(x).__name__} {x!r:.40} in a witness (exact numbers only)")


def plain_from_json(x: Any, *, arrays: bool = False, name: str = "witness") -> Any:
    """The inverse of :func:`plain_to_json`: a string that reads as a rational becomes a Fraction
    (other strings stay words); ``arrays``: lists of numbers become object arrays. A float or
    another value is refused (VerifyInputError): witnesses are exact."""
    if isinstance(x, dict):
        return {k: plain_from_json(v, arrays=arrays, name=f"{name}.{k}") for k, v in x.items()}
    if isinstance(x, list):
        items = [plain_from_json(v, arrays=arrays, name=f"{name}[{i}]") for i, v in enumerate(x)]
        if arrays and items and not any(isinstance(v, (dict, str)) for v in items):
            try:
                return np.array(items, dtype=object)
            except ValueError:  # ragged: a list of arrays
                return items
        return items
    if isinstance(x, str):
        try:
            return Fraction(x)
        except (ValueError, ZeroDivisionError):
            return x
    if isinstance(x, (bool, int)) or x is None:
        return x
    raise VerifyInputError(f"{name} = {x!r:.60} is not an integer or a 'p/q' string (witnesses are exact)")


def _decoded(check: ExactCheck | Vacuity, witness: dict) -> Any:
    """The case of a witness, with a malformed one refused (VerifyInputError); a missing key
    propagates as KeyError (Check.replay names it)."""
    try:
        return check.decode({k: v for k, v in witness.items() if k not in RESULT_KEYS})
    except (VerifyInputError, KeyError):
        raise
    except (IndexError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise VerifyInputError(f"the {check.id} witness is malformed: {type(exc).__name__}: {exc}") from None


def _guarded(check: Check, call: Callable, case: Any) -> Any:
    """``call(case)`` on a replayed case; a crash on malformed data is VerifyInputError."""
    try:
        return call(case)
    except (VerifyInputError, KeyError):
        raise
    except (IndexError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise VerifyInputError(f"the {check.id} witness is malformed: {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class ExactCheck(Check):
    """A claim checked exactly on cases drawn by Hypothesis.

    ``cases()`` is a strategy of cases (plain data: for trajectories dicts with "params" and
    optionally "hessians", "H_K", "g"); ``examine(case)`` returns ``(holds, error, bound)``
    computed exactly: for an identity, error is the size of the difference of the two sides and
    bound is 0; with ``squared`` both are squares of the compared norms (the ratio reported is
    sqrt(error / bound)). ``validate(case)`` says why a case is outside the statement's domain
    (or None): a replayed witness it refuses checks nothing, and a failing drawn case it refuses
    stops the run (:class:`OutsideAssumptions`). ``undecided``: exceptions of ``examine`` that
    mean an enclosure could not decide the case (it is skipped). ``search(starts, seed)``: an
    adversarial search yielding exact cases, run after Hypothesis when it found no violation.
    ``encode`` / ``decode``: case <-> witness JSON.
    """

    cases: Callable = None  # type: ignore[assignment]  # required (dataclass field order)
    examine: Callable = None  # type: ignore[assignment]  # required
    validate: Callable = field(default=lambda case: None)
    squared: bool = False
    undecided: tuple[type[Exception], ...] = ()
    search: Callable | None = None
    encode: Callable = case_to_json
    decode: Callable = json_to_case

    def _ratio(self, error, bound) -> float | None:
        if not bound:
            return None
        exact = isinstance(error, (int, Fraction)) and isinstance(bound, (int, Fraction))
        ratio = float(Fraction(error) / Fraction(bound)) if exact else float(error) / float(bound)
        return ratio ** 0.5 if self.squared else ratio

    def _witness(self, case, error, bound):
        size = (lambda x: float(x) ** 0.5) if self.squared else float
        key = "_squared" if self.squared else ""
        return {"id": self.id, **self.encode(case), "error": size(error), "bound": size(bound),
                "exact": {f"error{key}": _exact_str(error), f"bound{key}": _exact_str(bound)}}

    def run(self, *, examples: int, starts: int, seed: int, shrink: bool = True) -> Result:
        state: dict[str, Any] = {"examples": 0, "max_ratio": 0.0, "witness": None}

        def examine(case):
            try:
                holds, error, bound = self.examine(case)
            except self.undecided:  # an enclosure could not decide: no verdict from this case
                return None
            ratio = self._ratio(error, bound)
            if ratio is not None:
                state["max_ratio"] = max(state["max_ratio"], ratio)
            if holds:
                return None
            why = self.validate(case)
            if why:
                raise OutsideAssumptions(f"{self.id} fails on a case outside its assumptions ({why}): "
                                         f"{self.encode(case)}")
            return self._witness(case, error, bound)

        hypothesis_find(self.cases(), examine, examples=examples, seed=seed, state=state, shrink=shrink)
        if state["witness"] is None and self.search is not None and starts > 0:
            for case in self.search(starts, seed):
                state["examples"] += 1
                state["witness"] = examine(case)
                if state["witness"] is not None:
                    break
        witness = state["witness"]
        ratio = state["max_ratio"] if state["max_ratio"] else None
        return Result("violated" if witness else "holds", state["examples"], ratio, witness)

    def _replay(self, witness: dict) -> tuple[bool, str]:
        case = _decoded(self, witness)
        why = _guarded(self, self.validate, case)
        if why:
            raise VerifyInputError(f"the {self.id} witness cannot be replayed: {why}")
        holds, error, bound = _guarded(self, self.examine, case)
        what = "squared " if self.squared else ""
        return (not holds), f"{what}error = {_shown(error)}, {what}bound = {_shown(bound)}: " + (
            "the statement holds here" if holds else "the statement fails here")


# --------------------------------------------------------------------------------------------
# assumption sets: vacuity, and statements under them


@dataclass(frozen=True)
class Vacuity(Check):
    """An assumption set that no instance meets: ``refute(case) -> (refuted, detail)`` applies the
    construction of ``argument`` to a drawn candidate (any instance of the set's ingredients) and
    confirms exactly that it breaks the set. Verdict ``vacuous`` (the note is the argument) when
    every candidate is refuted; ``error`` (the argument is wrong) when one is not. ``example()``:
    a canonical candidate, whose refutation is the committed witness."""

    cases: Callable = None  # type: ignore[assignment]  # required (dataclass field order)
    refute: Callable = None  # type: ignore[assignment]  # required
    argument: str = ""
    example: Callable | None = None
    encode: Callable = plain_to_json
    decode: Callable = plain_from_json
    shows = "vacuous"

    def witness(self) -> dict | None:
        """The canonical candidate with its exact refutation (a replayable witness), or None."""
        if self.example is None:
            return None
        case = self.example()
        refuted, detail = self.refute(case)
        return {"id": self.id, **self.encode(case), "detail": detail} if refuted else None

    def run(self, *, examples: int, starts: int = 0, seed: int = 0, shrink: bool = True) -> Result:
        state: dict[str, Any] = {"examples": 0, "max_ratio": 0.0, "witness": None}

        def examine(case):
            refuted, detail = self.refute(case)
            return None if refuted else {"id": self.id, **self.encode(case), "detail": detail}

        hypothesis_find(self.cases(), examine, examples=examples, seed=seed, state=state, shrink=shrink)
        if state["witness"] is not None:
            return Result("error", state["examples"], None, state["witness"],
                          note="a candidate instance was not refuted: the vacuity argument fails")
        return Result("vacuous", state["examples"], None, self.witness(), note=self.argument)

    def _replay(self, witness: dict) -> tuple[bool, str]:
        return _guarded(self, self.refute, _decoded(self, witness))


@dataclass(frozen=True)
class Conditional(Check):
    """A statement under an assumption set: ``vacuous`` when ``assumptions`` (a :class:`Vacuity`)
    is, else the verdict of ``check`` (None: the set's own verdict)."""

    assumptions: Vacuity = None  # type: ignore[assignment]  # required (dataclass field order)
    check: Check | None = None
    shows = "vacuous"

    def run(self, *, examples: int, starts: int = 0, seed: int = 0, shrink: bool = True) -> Result:
        result = self.assumptions.run(examples=examples, seed=seed, shrink=shrink)
        if result.verdict == "vacuous":
            return Result("vacuous", result.examples, None, None,
                          note=f"{self.assumptions.id} is unsatisfiable: {self.assumptions.argument}")
        if self.check is None or result.verdict == "error":
            return result
        return self.check.run(examples=examples, starts=starts, seed=seed, shrink=shrink)

    def _replay(self, witness: dict) -> tuple[bool, str]:
        return self.assumptions.replay(witness)


def satisfying_instance(check: Check, *, examples: int = 50, seed: int = 0) -> tuple[Any, str | None]:
    """An exact instance meeting all of an :class:`ExactCheck`'s assumptions at once: the first
    case its strategy draws that ``validate`` accepts (an independent re-check), searching up to
    ``examples`` cases (a strategy may draw beyond the assumptions, when the check holds there
    too). Returns (instance, None), or (the last case drawn, why it breaks them) when none is found.
    (A :class:`Vacuity` has none: its verdict is the proof; a :class:`BoundCheck`'s instances are
    the Hessians its search draws inside the spectrum intervals.)"""
    if not isinstance(check, ExactCheck):
        raise TypeError(f"{check.id}: satisfying_instance needs an ExactCheck, not {type(check).__name__}")
    state: dict[str, Any] = {"examples": 0, "witness": None, "last": None}

    def examine(case):
        state["last"] = case, check.validate(case)
        return {"id": check.id, "case": case} if state["last"][1] is None else None

    hypothesis_find(check.cases(), examine, examples=examples, seed=seed, state=state, shrink=False)
    return (state["witness"]["case"], None) if state["witness"] else state["last"]


def _exact_str(x: Any) -> str:
    """An exact number as text: a rational as "p/q", an exact irrational (a surd) by its repr."""
    if hasattr(x, "rational"):  # verify.related.surds.Surd: a sum of square roots
        q = x.rational()
        return repr(x) if q is None else fraction_str(q)
    return fraction_str(x) if isinstance(x, (int, Fraction)) else repr(float(x))


def _shown(x: Any) -> str:
    if hasattr(x, "rational"):
        return _exact_str(x)
    return fraction_shown(x) if isinstance(x, (int, Fraction)) else repr(float(x))
