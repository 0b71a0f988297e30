"""The two kinds of check of a statement: error bounds, and exact claims.

A check is a registry entry: the id it runs under (a statement's id, or a variant's:
"thm3.8.fo.corrected"), where the statement is printed, its assumption label and one-line text
(read from the statement in ``bounds`` where there is one), and how to run and replay it.

* :class:`BoundCheck` -- an error bound (``verify.search.BoundClaim``, one variant of a bound of
  ``bounds``): Hypothesis plus adversarial search, violations confirmed exactly;
* :class:`ExactCheck` -- an identity or a claim about exact numbers: Hypothesis over exact
  rational cases, each examined in exact arithmetic (Fractions, ``estimators.reference``), so a
  failing case is itself the proof of a violation.

Both produce a :class:`verify.search.Result` and replay a witness exactly. Replay gives a verdict
only on a witness the statement speaks about: one that is malformed, or outside the statement's
assumption or domain, raises :class:`verify.errors.VerifyInputError` (it checks nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .errors import VerifyInputError
from .rationals import fraction_array, fraction_shown, fraction_str
from .search import BoundClaim, Result, hypothesis_find, parse_params, replay_bound, search_bound

__all__ = ["BoundCheck", "ExactCheck", "Check", "case_to_json", "json_to_case"]


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

    @property
    def status(self) -> str | None:
        """The status ``bounds`` records for the variant checked here (None: not in ``bounds``)."""
        return None if self.variant is None else self.variant.status

    def run(self, *, examples: int, starts: int, seed: int, shrink: bool = True) -> Result:
        """Check the statement: Hypothesis ``examples``, adversarial ``starts`` (bounds only)."""
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


@dataclass(frozen=True)
class ExactCheck(Check):
    """A claim checked exactly on cases drawn by Hypothesis.

    ``cases()`` is a strategy of cases (dicts with "params" and optionally "hessians", "H_K",
    "g", exact entries); ``examine(case)`` returns ``(holds, error, bound)`` computed exactly:
    for an identity, error is the size of the difference of the two sides and bound is 0.
    ``validate(case)`` says why a replayed case is outside the statement's domain (or None).
    """

    cases: Callable = None  # type: ignore[assignment]  # required (dataclass field order)
    examine: Callable = None  # type: ignore[assignment]  # required
    validate: Callable = field(default=lambda case: None)

    def _witness(self, case, error, bound):
        return {"id": self.id, **case_to_json(case), "error": float(error), "bound": float(bound),
                "exact": {"error": _exact_str(error), "bound": _exact_str(bound)}}

    def run(self, *, examples: int, starts: int, seed: int, shrink: bool = True) -> Result:
        state: dict[str, Any] = {"examples": 0, "max_ratio": 0.0, "witness": None}

        def examine(case):
            holds, error, bound = self.examine(case)
            if bound:
                state["max_ratio"] = max(state["max_ratio"], float(error) / float(bound))
            return None if holds else self._witness(case, error, bound)

        hypothesis_find(self.cases(), examine, examples=examples, seed=seed, state=state, shrink=shrink)
        witness = state["witness"]
        ratio = state["max_ratio"] if state["max_ratio"] else None
        return Result("violated" if witness else "holds", state["examples"], ratio, witness)

    def _replay(self, witness: dict) -> tuple[bool, str]:
        case = json_to_case(witness)
        why = self.validate(case)
        if why:
            raise VerifyInputError(f"the {self.id} witness cannot be replayed: {why}")
        holds, error, bound = self.examine(case)
        return (not holds), f"error = {_shown(error)}, bound = {_shown(bound)}: " + (
            "the statement holds here" if holds else "the statement fails here")


def _exact_str(x: Any) -> str:
    return fraction_str(x) if isinstance(x, (int, Fraction)) else repr(float(x))


def _shown(x: Any) -> str:
    return fraction_shown(x) if isinstance(x, (int, Fraction)) else repr(float(x))
