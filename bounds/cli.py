"""``binomgbml bounds``: evaluate the bounds of Theorems 3.6, 3.8 and 3.10 at a point or a sweep.

With no flags it prints the paper's Figure 2 setting: K=5, alpha=1/4, H=1, h=1/10, M=1 and
L=0..5, for all three theorems, as printed; ``--variant corrected`` prints the proven
replacements of the bounds that are false in general, ``--variant all`` both. ``--paper imaml``,
``ji2022`` or ``ibaml`` evaluates a related paper's statements instead, with that paper's
parameters as flags (``--lam``, ``--rho``, ...). See docs/bounds.md.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import re
import sys
from fractions import Fraction
from typing import Any

from cli_common import ArgumentParser, UsageError, flag

from .evaluation import VARIANTS
from .papers import PAPERS, RELATED, THEOREMS
from .params import NotApplicable, Parameter, check_input_text
from .tables import FORMATS, bound_rows, exact_int_digits, format_rows, sweep_csv

__all__ = ["add_point_arguments", "main", "parse_integers", "parse_rationals", "parse_theorems", "parse_reals",
           "PAPER_KEYS"]

#: what ``--paper`` accepts (the default, binomgbml: the theorems of ``bounds.THEOREMS``)
PAPER_KEYS = ("binomgbml", *RELATED)

#: the most parameter points one command evaluates (each is a Python-level row)
MAX_POINTS = 1_000_000

#: the paper's Figure 2 setting
FIGURE_2: dict[str, list[Any]] = {"K": [5], "alpha": [Fraction(1, 4)], "H": [Fraction(1)], "h": [Fraction(1, 10)], "M": [1]}

EPILOG = """\
sweeps: --K, --L, --M take an integer, a comma list (1,2,5) or an inclusive range a:b (0:5), or
a mix (1:3,8); --alpha, --H, --h take decimals or fractions (0.25, 1/4) or comma lists of them.
Every combination is evaluated; in a sweep, points with L > K are skipped. Without --L, L runs
over 0..K. With no parameter flag at all the Figure 2 setting is used (K=5, alpha=1/4, H=1,
h=1/10, M=1); otherwise K, alpha, H default to 5, 1/4, 1 and h, M to not given (Theorem 3.10
rows are then not applicable). Numeric values beyond float64 are printed as inf, never NaN.
--variant printed (default) prints the bounds as the paper states them, marking the ones that are
false in general; corrected prints the proven replacements (docs/errata.md); all prints both.
"""


def parse_integers(flag: str, text: str, minimum: int) -> list[int]:
    """``"3"``, ``"1,2,5"``, ``"0:5"`` (inclusive) or a mix -> list of ints >= minimum."""
    values: list[int] = []
    for item in text.split(","):
        item = item.strip()
        bounds_ = item.split(":")
        try:
            numbers = [int(b) for b in bounds_]
        except ValueError:
            raise UsageError(f"{flag}: {item!r} is not an integer or a range a:b of integers") from None
        if len(numbers) > 2:
            raise UsageError(f"{flag}: {item!r} is not an integer or a range a:b of integers")
        if len(numbers) == 2 and numbers[0] > numbers[1]:
            raise UsageError(f"{flag}: range {item!r} is empty (a:b needs a <= b)")
        for n in numbers:
            if n < minimum:
                what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
                raise UsageError(f"{flag}: {n} is not {what}")
        if numbers[-1] - numbers[0] >= MAX_POINTS:
            raise UsageError(f"{flag}: range {item!r} has more than {MAX_POINTS:,} values")
        values += list(range(numbers[0], numbers[-1] + 1))
    return list(dict.fromkeys(values))


def parse_rationals(flag: str, text: str) -> list[Fraction]:
    """``"0.25"``, ``"1/4"`` or a comma list of them -> positive finite Fractions."""
    return _parse_numbers(flag, text, "positive")


def parse_reals(flag: str, text: str, parameter: Parameter) -> list[Fraction]:
    """Like :func:`parse_rationals`, in the parameter's domain: positive, non-negative or any
    finite real."""
    return _parse_numbers(flag, text, parameter.kind)


def _parse_numbers(flag: str, text: str, kind: str) -> list[Fraction]:
    """A comma list of decimals or fractions -> distinct finite Fractions of the domain ``kind``
    ("positive", "nonnegative", else any real)."""
    values: list[Fraction] = []
    for item in text.split(","):
        item = item.strip()
        check_input_text(flag.lstrip("-"), item)
        try:
            value = Fraction(item)
        except ZeroDivisionError:
            raise UsageError(f"{flag}: {item!r} divides by zero") from None
        except ValueError:
            raise UsageError(f"{flag}: {item!r} is not a number (write a decimal like 0.25 or a "
                             "fraction like 1/4; it must be finite)") from None
        if kind == "positive" and value <= 0:
            raise UsageError(f"{flag}: {item} is not positive")
        if kind == "nonnegative" and value < 0:
            raise UsageError(f"{flag}: {item} is not non-negative")
        values.append(value)
    return list(dict.fromkeys(values))


def parse_theorems(text: str) -> list[str]:
    """``"all"``, ``"3.8"`` or a comma list like ``"3.6,3.10"``."""
    if text.strip() == "all":
        return list(THEOREMS)
    chosen = [t.strip() for t in text.split(",")]
    for t in chosen:
        if t not in THEOREMS:
            raise UsageError(f"--theorem: {t!r} is not one of {', '.join(THEOREMS)}, all")
    return list(dict.fromkeys(chosen))


def add_point_arguments(parser: argparse.ArgumentParser) -> None:
    """The parameter flags (--K, --L, --alpha, --H, --h, --M) and --theorem, read by :func:`_points`
    and :func:`parse_theorems`; shared by the commands that take points or sweeps."""
    parser.add_argument("--K", help="inner steps K >= 1 (default 5)")
    parser.add_argument("--L", help="truncation 0 <= L <= K (default 0..K)")
    parser.add_argument("--alpha", help="inner step size alpha > 0 (default 1/4)")
    parser.add_argument("--H", help="Lipschitz constant H > 0 of the gradient (default 1)")
    parser.add_argument("--h", metavar="h", help="strong-convexity constant 0 < h <= H (Theorem 3.10)")
    parser.add_argument("--M", help="strongly convex points 1 <= M <= min(L, K-L) (Theorem 3.10)")
    parser.add_argument("--theorem", default="all", help="3.6, 3.8, 3.10, a comma list, or all (default)")


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="binomgbml bounds", description="Evaluate the error bounds of "
                            "Theorems 3.6, 3.8 and 3.10 at a point or over a sweep.", epilog=EPILOG,
                            formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    add_point_arguments(parser)
    parser.add_argument("--exact", action="store_true", help="exact rationals p/q instead of floats")
    parser.add_argument("--normalize", help="'fo': divide each bound by the same theorem's fo bound")
    parser.add_argument("--format", default="table", help="table (default), json, csv or latex")
    parser.add_argument("--variant", default="printed",
                        help="printed (default, as in the paper), corrected, or all (both)")
    parser.add_argument("--paper", default="binomgbml",
                        help=f"{', '.join(PAPER_KEYS)}: whose statements (default binomgbml); "
                             "binomgbml bounds --paper imaml --help lists a paper's flags")
    return parser


def _points(args: Any) -> _Sweep:
    given = {n: getattr(args, n) for n in ("K", "L", "alpha", "H", "h", "M")}
    defaults: dict[str, list[Any]] = FIGURE_2 if all(v is None for v in given.values()) else {
        "K": [5], "alpha": [Fraction(1, 4)], "H": [Fraction(1)], "h": [None], "M": [None]}
    K = parse_integers("--K", given["K"], 1) if given["K"] is not None else defaults["K"]
    L = parse_integers("--L", given["L"], 0) if given["L"] is not None else None
    M = parse_integers("--M", given["M"], 1) if given["M"] is not None else defaults["M"]
    rationals = {n: parse_rationals(f"--{n}", given[n]) if given[n] is not None else defaults[n]
                 for n in ("alpha", "H", "h")}
    if L is not None and len(K) == 1 and len(L) == 1 and L[0] > K[0]:
        raise UsageError(f"--L: {L[0]} is outside 0..K = 0..{K[0]}")
    sorted_l = sorted(L) if L is not None else []
    count = (sum(k + 1 if L is None else bisect.bisect_right(sorted_l, k) for k in K)
             * math.prod(len(rationals[n]) for n in ("alpha", "H", "h")) * len(M))
    if count > MAX_POINTS:  # one Python row each: ~10^5 rows per 10 s
        raise UsageError(f"--K/--L/--alpha/--H/--h/--M: the sweep has {count:,} parameter points, "
                         f"more than {MAX_POINTS:,}; narrow it (or evaluate arrays with bounds.evaluate)")
    if count == 0:
        raise UsageError(f"--L: no value in {args.L} is within 0..K for --K {args.K}")
    return _Sweep(K, L, M, rationals)


class _Sweep:
    """The sweep's points in order (K, then L, alpha, H, h, M; points with L > K skipped), as
    dicts (:meth:`points`) or as columns for :func:`bounds.tables.sweep_csv` (:meth:`columns`)."""

    def __init__(self, K: list[int], L: list[int] | None, M: list[Any], rationals: dict[str, list[Any]]):
        self.K, self.L, self.M, self.rationals = K, L, M, rationals

    def points(self) -> list[dict]:
        r = self.rationals
        return [{"K": k, "L": l_, "alpha": a, "H": H, "h": h, "M": m} for k in self.K
                for l_, a, H, h, m in itertools.product(self.L if self.L is not None else range(k + 1),
                                                        r["alpha"], r["H"], r["h"], self.M)
                if l_ <= k]  # in a sweep, points with L > K are skipped

    def columns(self) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
        import numpy as np

        r = self.rationals
        combos = [{"alpha": a, "H": H, "h": h} for a, H, h in itertools.product(r["alpha"], r["H"], r["h"])]
        tail = len(combos) * len(self.M)  # (alpha, H, h, M) combinations per (K, L)
        Ls = np.array(self.L if self.L is not None else [], dtype=np.int64)
        blocks = [np.arange(k + 1, dtype=np.int64) if self.L is None else Ls[Ls <= k] for k in self.K]
        counts = np.array([len(b) for b in blocks], dtype=np.int64) * tail
        K = np.repeat(np.array(self.K, dtype=np.int64), counts)
        L = np.repeat(np.concatenate(blocks), tail)
        within = np.tile(np.arange(tail, dtype=np.int64), int(counts.sum()) // tail)
        no_M = self.M == [None]
        M = None if no_M else np.array(self.M, dtype=np.int64)[within % len(self.M)]
        return {"K": K, "L": L, "M": M}, combos, within // len(self.M)


def _attach_negative_values(argv: list[str], flags: tuple[str, ...] | None = None) -> list[str]:
    """``--alpha -1/4`` -> ``--alpha=-1/4``: argparse would read ``-1/4`` as an unknown option and
    say only "expected one argument"; attached, the value is checked and named like any other."""
    flags = flags or _VALUE_FLAGS
    out: list[str] = []
    for item in argv:
        if out and out[-1] in flags and re.match(r"-[\d.]", item):
            out[-1] = f"{out[-1]}={item}"
        else:
            out.append(item)
    return out


_VALUE_FLAGS = ("--K", "--L", "--M", "--alpha", "--H", "--h")


def _paper_of_argv(argv: list[str]) -> str:
    """The value of ``--paper`` (the last one given), default "binomgbml"."""
    paper = "binomgbml"
    for i, item in enumerate(argv):
        if item == "--paper" and i + 1 < len(argv):
            paper = argv[i + 1]
        elif item.startswith("--paper="):
            paper = item.split("=", 1)[1]
    if paper not in PAPER_KEYS:
        raise UsageError(f"--paper: {paper!r} is not one of {', '.join(PAPER_KEYS)}")
    return paper


def main(argv: list[str]) -> int:
    paper = _paper_of_argv(list(argv))
    if paper != "binomgbml":
        return _related_main(paper, list(argv))
    args = _parser().parse_args(_attach_negative_values(list(argv)))
    if args.format not in FORMATS:
        raise UsageError(f"--format: {args.format!r} is not one of {', '.join(FORMATS)}")
    if args.normalize not in (None, "fo"):
        raise UsageError(f"--normalize: {args.normalize!r} is not 'fo' (the only normalisation)")
    if args.variant not in VARIANTS:
        raise UsageError(f"--variant: {args.variant!r} is not one of {', '.join(VARIANTS)}")
    theorems = parse_theorems(args.theorem)
    with exact_int_digits():  # exact inputs and values may have more than 4300 digits (limits: docs/bounds.md)
        sweep = _points(args)
        options = {"exact": args.exact, "normalize": args.normalize, "strict": len(theorems) == 1,
                   "variant": args.variant}
        try:
            if args.format == "csv":  # column by column: the same bytes, without a dict per row
                text = sweep_csv(theorems, *sweep.columns(), **options)
            else:
                text = format_rows(bound_rows(theorems, sweep.points(), **options), args.format,
                                   normalize=args.normalize)
        except NotApplicable as exc:
            raise UsageError(f"{exc.render(flag)}; ask --theorem all to list such points as "
                             "not-applicable rows") from None
        sys.stdout.write(text + "\n")
    return 0


# ---- a related paper: --paper imaml | ji2022 | ibaml -------------------------------------------

_RELATED_EPILOG = """\
Each parameter flag takes a value or a sweep: integers as 3, 1,2,5 or a range a:b; reals as
decimals or fractions (0.25, 1/4) or comma lists of them. Every combination of a theorem's own
parameters is evaluated; a parameter not given takes the value shown (the paper's example point).
--theorem selects statements (%s, a comma list, or all: the default). Exact values of
iteration counts (square roots and logarithms) are rational brackets [lower, upper].
--variant printed (default) prints the statements as the paper states them, marking those that are
false in general or vacuous; corrected prints what holds instead (a proven correction, or the
statement under the hypotheses it was checked under); all prints both.
"""


def _related_parser(paper: str) -> ArgumentParser:
    module = PAPERS[paper]
    names = ", ".join(n.split(".", 1)[1] for n in module.THEOREMS)
    parser = ArgumentParser(prog=f"binomgbml bounds --paper {paper}",
                            description=f"Evaluate the statements of {module.TITLE}.",
                            epilog=_RELATED_EPILOG % names,
                            formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    parser.add_argument("--paper", default=paper, help=f"{', '.join(PAPER_KEYS)} (here: {paper})")
    for par in module.PARAMETERS:
        domain = par.range_text().replace("an integer", "integer")
        parser.add_argument(f"--{par.name}", help=f"{par.description}: {domain} "
                            f"(default {module.DEFAULTS[par.name]})")
    parser.add_argument("--theorem", default="all", help=f"{names}, a comma list, or all (default)")
    parser.add_argument("--exact", action="store_true", help="exact rationals p/q (brackets where irrational)")
    parser.add_argument("--format", default="table", help="table (default), json, csv or latex")
    parser.add_argument("--variant", default="printed",
                        help="printed (default, as in the paper), corrected, or all (both)")
    parser.add_argument("--normalize", help="not available for a related paper")
    return parser


def _related_theorems(paper: str, text: str) -> list[str]:
    """``"all"``, ``"lemma3"`` / ``"imaml.lemma3"`` or a comma list of them."""
    known = list(PAPERS[paper].THEOREMS)
    if text.strip() == "all":
        return known
    chosen = []
    for item in (t.strip() for t in text.split(",")):
        number = item if item in known else f"{paper}.{item}"
        if number not in known:
            short = ", ".join(n.split(".", 1)[1] for n in known)
            raise UsageError(f"--theorem: {item!r} is not one of {short}, all (--paper {paper})")
        chosen.append(number)
    return list(dict.fromkeys(chosen))


def _related_values(paper: str, args: Any) -> dict[str, list[Any]]:
    """Each parameter's values: its flag's sweep, or the paper's example value."""
    module = PAPERS[paper]
    out: dict[str, list[Any]] = {}
    for par in module.PARAMETERS:
        text = getattr(args, par.name)
        if text is None:
            out[par.name] = [module.DEFAULTS[par.name]]
        elif par.integer:
            out[par.name] = parse_integers(f"--{par.name}", text, par.minimum)
        else:
            out[par.name] = parse_reals(f"--{par.name}", text, par)
    return out


def _related_main(paper: str, argv: list[str]) -> int:
    module = PAPERS[paper]
    flags = tuple(f"--{p.name}" for p in module.PARAMETERS)
    args = _related_parser(paper).parse_args(_attach_negative_values(argv, flags))
    if args.format not in FORMATS:
        raise UsageError(f"--format: {args.format!r} is not one of {', '.join(FORMATS)}")
    if args.normalize is not None:
        raise UsageError(f"--normalize: only the BinomGBML bounds are normalised (not --paper {paper})")
    if args.variant not in VARIANTS:
        raise UsageError(f"--variant: {args.variant!r} is not one of {', '.join(VARIANTS)}")
    theorems = _related_theorems(paper, args.theorem)
    values = _related_values(paper, args)
    counts = {n: math.prod(len(values[p.name]) for p in module.THEOREMS[n].hypotheses.signature)
              for n in theorems}
    if sum(counts.values()) > MAX_POINTS:
        raise UsageError(f"the sweep has {sum(counts.values()):,} parameter points, more than "
                         f"{MAX_POINTS:,}; narrow it (or evaluate arrays with bounds.evaluate)")
    rows = []
    with exact_int_digits():
        for number in theorems:
            names = [p.name for p in module.THEOREMS[number].hypotheses.signature]
            points = [dict(zip(names, combination)) for combination in itertools.product(*(values[n] for n in names))]
            try:
                rows += bound_rows([number], points, exact=args.exact, strict=len(theorems) == 1,
                                   variant=args.variant)
            except NotApplicable as exc:
                raise UsageError(f"{exc.render(flag)}; ask --theorem all to list such points as "
                                 "not-applicable rows") from None
        sys.stdout.write(format_rows(rows, args.format) + "\n")
    return 0
