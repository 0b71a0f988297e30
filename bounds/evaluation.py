"""The one evaluation path of the bounds: parameters checked, conditions decided, formulas evaluated.

``bounds.evaluate`` (points and arrays), the tables of ``binomgbml bounds`` (``bounds.tables``) and
the plots (``bounds.plotting``) all come here: a point's domain is checked by its parameters'
declarations (``bounds.params``), its applicability by the theorem's hypotheses (missing
parameters, then the conditions, in order), and the values by the variant's formulas -- exact
(Fractions, or rational brackets around irrational values) or over float64 arrays (in log space,
or directly for values that may be negative), normalised by a bound of the same variant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .params import (
    BoundsInputError,
    NotApplicable,
    exact_point,
    format_value,
    numeric_point,
)
from .statement import Bound, Hypotheses, Quantity, Theorem, Variant, exact_value

__all__ = ["VARIANTS", "get_theorem", "bind", "broken", "not_applicable", "applicable",
           "require_applicable", "checked_numeric", "numeric_result", "evaluate", "values",
           "variants_for", "bound_value", "quantity_value"]

#: what ``variant=`` accepts: the paper's statements, their proven replacements, or both
VARIANTS = ("printed", "corrected", "all")


def get_theorem(theorem: Theorem | str) -> Theorem:
    """A Theorem from itself or its number: "3.6", "3.8", "3.10" (BinomGBML), or a related
    paper's, named with the paper ("imaml.lemma3", "ji2022.prop1", "ibaml.thm1")."""
    from .papers import ALL_THEOREMS, THEOREMS

    if isinstance(theorem, Theorem):
        return theorem
    for index in (THEOREMS, ALL_THEOREMS):
        if isinstance(theorem, str) and theorem.strip() in index:
            return index[theorem.strip()]
    raise ValueError(f"theorem = {theorem!r} is not one of {', '.join(map(repr, ALL_THEOREMS))}")


def bind(hypotheses: Hypotheses, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Positional and keyword parameters -> ``{name: value}`` over the signature (None: not given)."""
    names = [p.name for p in hypotheses.signature]
    if len(args) > len(names):
        raise TypeError(f"takes {len(names)} parameters ({', '.join(names)}), {len(args)} given")
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        raise TypeError(f"unknown parameter {unknown[0]!r}; the parameters are {', '.join(names)}")
    twice = [k for k in kwargs if k in names[:len(args)]]
    if twice:
        raise TypeError(f"parameter {twice[0]!r} given twice")
    values: dict[str, Any] = dict.fromkeys(names)
    values.update(zip(names, args))
    values.update(kwargs)
    return values


def broken(hypotheses: Hypotheses, point: Mapping[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    """``(reason, parameters)`` for the first hypothesis a validated scalar point breaks: a missing
    parameter, then the conditions in order; None when it satisfies them all."""
    for par in hypotheses.parameters:
        if point.get(par.name) is None:
            return par.missing(), (par.name,)
    for condition in hypotheses.conditions:
        if not condition.holds(point):
            return condition.reason(point, format_value), condition.subject(point)
    return None


def _scalar_point(theorem: Theorem, values: Mapping[str, Any]) -> dict[str, Any]:
    """A validated scalar point: exact when no value is a float, else Python floats."""
    given = [v for v in values.values() if v is not None]
    if any(np.ndim(v) for v in given):
        raise ValueError("not_applicable takes a scalar point; use bounds.applicable for arrays")
    signature = theorem.hypotheses.signature
    if not any(isinstance(v, (float, np.floating)) for v in given):
        return exact_point(signature, values)
    p = numeric_point(signature, values)
    return {n: (None if v is None else float(v)) for n, v in p.items()}


def not_applicable(theorem: Theorem | str, *args: Any, **kwargs: Any) -> str | None:
    """Why the scalar point breaks ``theorem``'s conditions, or None when it satisfies them.

    Inputs as for :func:`evaluate`; exact inputs (ints, Fractions, strings) are checked in exact
    arithmetic, floats in float arithmetic. Domain errors raise ``BoundsInputError``.
    """
    thm = get_theorem(theorem)
    p = _scalar_point(thm, bind(thm.hypotheses, args, kwargs))
    why = broken(thm.hypotheses, p)
    return None if why is None else f"{thm.name}: {why[0]}"


def applicable(theorem: Theorem | str, *args: Any, **kwargs: Any) -> np.ndarray:
    """Boolean array (broadcast shape): where the points satisfy ``theorem``'s conditions."""
    thm = get_theorem(theorem)
    p = numeric_point(thm.hypotheses.signature, bind(thm.hypotheses, args, kwargs))
    shape = np.shape(next(v for v in p.values() if v is not None))
    ok = np.ones(shape, dtype=bool)
    if any(p[par.name] is None for par in thm.hypotheses.parameters):
        return ok & False
    for condition in thm.hypotheses.conditions:
        ok &= np.asarray(condition.holds(p, "numpy"), dtype=bool)
        if not ok.any():
            break
    return ok


def require_applicable(theorem: Theorem | str, p: Mapping[str, Any], scalar: bool,
                       hypotheses: Hypotheses | None = None) -> None:
    """Raise NotApplicable at the first point of the validated numeric point ``p`` (arrays) that
    breaks the theorem's conditions (or ``hypotheses``, those of one of its variants; ``theorem``
    may then be just the name messages give it)."""
    hyp = hypotheses or get_theorem(theorem).hypotheses
    name = theorem if isinstance(theorem, str) and hypotheses else get_theorem(theorem).name
    shape = np.shape(next(v for v in p.values() if v is not None))
    for par in hyp.parameters:
        if p[par.name] is None:
            at = "" if scalar else f" (at index {(0,) * len(shape)}; use bounds.applicable to select points)"
            raise NotApplicable(f"{name}: {par.missing()}{at}", (par.name,))
    for condition in hyp.conditions:
        bad = ~np.asarray(condition.holds(p, "numpy"), dtype=bool)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(np.broadcast_to(bad, shape))[0])
            q = {n: (None if v is None else v[index].item()) for n, v in p.items()}
            at = f" (at index {index}; use bounds.applicable to select points)" if not scalar else ""
            raise NotApplicable(f"{name}: {condition.reason(q, format_value)}{at}",
                                condition.subject(q))


def checked_numeric(theorem: Theorem | str, **values: Any) -> dict[str, Any]:
    """A validated float64 point that satisfies the theorem's conditions (NotApplicable otherwise)."""
    thm = get_theorem(theorem)
    p = numeric_point(thm.hypotheses.signature, values)
    require_applicable(thm, p, scalar=all(np.ndim(v) == 0 for v in values.values() if v is not None))
    return p


def numeric_result(log_value: Any, what: str = "a bound") -> Any:
    """exp of a log-space result: inf beyond float64; NaN would be a bug and raises."""
    with np.errstate(over="ignore", under="ignore"):
        out = np.exp(log_value)
    if np.isnan(out).any():
        raise RuntimeError(f"internal error: {what} gave NaN")
    return float(out) if np.ndim(out) == 0 else out


def bound_value(bound: Bound, variant: Variant, point: Mapping[str, Any], *, exact: bool) -> Any:
    """One variant of one bound at a point (a dict; keys beyond the signature are ignored): a
    Fraction (``exact``), else float64 (arrays broadcast). The variant's hypotheses are checked
    (NotApplicable names the first broken one)."""
    name = get_theorem(bound.theorem).name
    hyp = bound.hypotheses_of(variant)
    formula = bound.formula_of(variant)
    if exact:
        p = exact_point(hyp.signature, point)
        why = broken(hyp, p)
        if why:
            raise NotApplicable(f"{name}: {why[0]}", why[1])
        return exact_value(formula, hyp.arguments_at(p))
    p = numeric_point(hyp.signature, point)
    require_applicable(name, p, all(np.ndim(v) == 0 for v in p.values() if v is not None), hyp)
    if not formula.vectorised:
        raise ValueError(f"{bound.id} ({variant.name}) has no vectorised evaluator")
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        arguments = hyp.arguments_at(p, "numpy")
    out = formula.floats(*arguments)
    return float(out) if np.ndim(out) == 0 else out


def quantity_value(quantity: Quantity, hyp: Hypotheses, point: Mapping[str, Any], *, exact: bool) -> Any:
    """A quantity at a point of its hypotheses (checked as for a bound): a Fraction or a bracket
    (``exact``), else float64."""
    name = f"{quantity.reference} ({quantity.key})"
    if exact:
        p = exact_point(hyp.signature, point)
        why = broken(hyp, p)
        if why:
            raise NotApplicable(f"{name}: {why[0]}", why[1])
        return exact_value(quantity.formula, hyp.arguments_at(p))
    p = numeric_point(hyp.signature, point)
    require_applicable(name, p, all(np.ndim(v) == 0 for v in p.values() if v is not None), hyp)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        arguments = hyp.arguments_at(p, "numpy")
    out = quantity.formula.floats(*arguments)
    return float(out) if np.ndim(out) == 0 else out


def variants_for(theorem: Theorem, variant: str) -> tuple[str, ...]:
    """The variants ``variant=`` asks for: "all" is the printed one and, where the theorem has a
    correction, the corrected one; a variant's own name ("core", "commuting") where every bound
    of the theorem has it."""
    named = [n for n in theorem.variant_names()
             if all(n in (v.name for v in b.variants) for b in theorem.bounds.values())]
    if variant in named and variant not in VARIANTS:
        return (variant,)
    if variant not in VARIANTS:
        raise ValueError(f"variant = {variant!r} is not one of {', '.join(map(repr, (*VARIANTS, *named)))}")
    if variant != "all":
        return (variant,)
    return ("printed", "corrected") if theorem.has_corrections() else ("printed",)


def values(theorem: Theorem, args: Sequence[Any], *, exact: bool, variant: str = "printed",
           normalize: str | None = None,
           undefined: Callable[[np.ndarray], None] | None = None) -> dict[str, Any]:
    """The bounds of ``theorem``'s ``variant`` ("printed" or "corrected") at the formulas'
    arguments ``args``: Fractions (``exact``) or float64 arrays computed in log space (a value
    beyond float64 is inf, never NaN). ``normalize``: divide by that bound of the same variant;
    in floats, ``undefined(mask)`` is called first where that bound is 0 or inf (the ratio would
    be undefined) and should raise."""
    if normalize is not None and normalize not in theorem.bounds:
        raise ValueError(f"normalize = {normalize!r} is not one of {', '.join(map(repr, theorem.bounds))} or None")
    formulas = {k: b.formula_of(b.variant(variant)) for k, b in theorem.bounds.items()}
    if exact:
        out = {k: exact_value(f, args) for k, f in formulas.items()}
        if normalize:
            if out[normalize] == 0:
                raise BoundsInputError(f"normalize = {normalize!r}: the {normalize} bound of "
                                       f"{theorem.name} is 0 here, the ratio is undefined", ("normalize",))
            out = {k: v / out[normalize] for k, v in out.items()}
        return out
    if normalize is None and not all(f.log is not None for f in formulas.values()):
        return {k: f.floats(*args) for k, f in formulas.items()}  # raises if one has no evaluator
    with np.errstate(over="ignore", under="ignore"):
        logs = {}
        for k, f in formulas.items():
            if f.log is None:
                raise ValueError(f"{theorem.bounds[k].id} ({variant}) has no vectorised evaluator")
            logs[k] = f.log(*args)
        if normalize:
            bad = np.isinf(logs[normalize])
            if bad.any() and undefined is not None:
                undefined(bad)
            logs = {k: v - logs[normalize] for k, v in logs.items()}
        result = {k: np.exp(v) for k, v in logs.items()}
    for k, v in result.items():
        if np.isnan(v).any():  # a bug, never a result: say so loudly
            raise RuntimeError(f"internal error: {theorem.name} {k} gave NaN")
    return result


def evaluate(theorem: Theorem | str, *args: Any, exact: bool = False, variant: str = "printed",
             **kwargs: Any) -> dict[str, Any]:
    """The bounds of ``theorem`` ("3.6", "3.8", "3.10"; or a related paper's, "imaml.lemma3",
    "ji2022.prop1", "ibaml.thm1") at a point or over arrays.

    Parameters in the theorem's signature order, positionally or by name (for Theorems 3.6,
    3.8, 3.10: K, L, alpha, H, h=None, M=None; h and M are read by Theorem 3.10 only). Returns
    ``{"fo": ..., "trunc": ..., "binom": ...}`` -- the bounds (a), (b), (c) as multiples of
    ``||g_t^K||`` (a related paper's theorem: its own keys, docs/bounds.md).

    * numeric (default): scalars or NumPy arrays, broadcast; float64 values (a float for scalar
      input). A value beyond float64 is ``inf``, never NaN.
    * ``exact=True``: ints, Fractions or "p/q" strings; ``fractions.Fraction`` values (a
      ``RationalBracket`` around an irrational one: a square root, a logarithm).
    * ``variant``: "printed" (the paper's statements), "corrected" (each bound that is false in
      general replaced by its proven correction; docs/errata.md), or "all":
      ``{"printed": {...}, "corrected": {...}}``; or the name of a variant every bound of the
      theorem has ("core": iMAML Lemma 3 under Assumption 2.4 at theta).

    Raises ``BoundsInputError`` for parameters outside the domain and ``NotApplicable`` when a
    point breaks the theorem's conditions (for arrays: names the first such point; use
    :func:`applicable` to select points first).
    """
    thm = get_theorem(theorem)
    if variant == "all":
        return {v: evaluate(thm, *args, exact=exact, variant=v, **kwargs) for v in ("printed", "corrected")}
    variants_for(thm, variant)
    hyp = thm.hypotheses_for(variant)
    given = bind(thm.hypotheses, args, kwargs)
    if exact:
        p = exact_point(thm.hypotheses.signature, given)
        why = broken(hyp, p)
        if why:
            raise NotApplicable(f"{thm.name}: {why[0]}", why[1])
        return values(thm, thm.arguments(p), exact=True, variant=variant)
    scalar = all(np.ndim(v) == 0 for v in given.values() if v is not None)
    p = numeric_point(thm.hypotheses.signature, given)
    require_applicable(thm.name, p, scalar, hyp)
    with np.errstate(over="ignore", under="ignore"):  # alpha*H may overflow to inf: handled
        arguments = thm.arguments(p, "numpy")
    out = values(thm, arguments, exact=False, variant=variant)
    return {k: float(v) for k, v in out.items()} if scalar else out
