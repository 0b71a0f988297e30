"""``binomgbml plot``: the paper's Figure 2 and bound-vs-parameter plots (PDF, SVG, PNG, CSV).

    binomgbml plot figure2 --out DIR [--data] [--variant printed|corrected|all] [--tightness]
    binomgbml plot bounds --vs L|K|alpha --out DIR [--theorem ...] [--K ...] [--alpha ...] ... [--tightness]

Parameter flags are parsed exactly as by ``binomgbml bounds`` (its helpers are reused): integers,
comma lists and inclusive ranges a:b for K, L, M; decimals or fractions like 1/4 for alpha, H, h.
"""

from __future__ import annotations

import argparse

from cli_common import ArgumentParser, UsageError

from ..cli import parse_integers, parse_rationals, parse_theorems
from ..evaluation import VARIANTS
from .figures import BOUNDED, bounds_figure, figure2
from .output import FORMATS, out_directory
from .presets import PRESETS

__all__ = ["main"]

#: the paper's Figure 2 setting, the defaults of every parameter flag here
DEFAULTS = {"K": "5", "alpha": "1/4", "H": "1", "h": "1/10", "M": "1"}
INTEGER_MINIMUM = {"K": 1, "L": 0, "M": 1}
#: --vs K without --K sweeps K = 1..SWEPT_K_MAX
SWEPT_K_MAX = 10


def _common(p: argparse.ArgumentParser, preset: str) -> None:
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the figure files")
    p.add_argument("--variant", default="printed", choices=list(VARIANTS),
                   help="printed (default, as in the paper), corrected, or all (corrected beside printed)")
    p.add_argument("--data", action="store_true", help="also write the plotted numbers as CSV")
    p.add_argument("--tightness", action="store_true",
                   help="shade each bound's band down to the largest error attained under its "
                        "assumption (the exact commuting worst case; docs/tightness.md); figure2 "
                        "is then written as figure2_tightness.*")
    p.add_argument("--preset", default=preset, choices=list(PRESETS),
                   help=f"paper preset (default {preset})")
    p.add_argument("--formats", default=",".join(FORMATS), help="comma list of pdf, svg, png")
    p.add_argument("--usetex", action="store_true",
                   help="render text with LaTeX (needs a latex executable; default: mathtext)")


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="binomgbml plot",
                            description="Plot the paper's error bounds: Figure 2, or any theorem's "
                                        "bounds against L, K or alpha (PDF, SVG, PNG, CSV).")
    sub = parser.add_subparsers(dest="figure", required=True)
    f2 = sub.add_parser("figure2", help="the paper's Figure 2 (Theorems 3.6, 3.8, 3.10 against L)")
    _common(f2, "iclr")
    for name, default in DEFAULTS.items():
        f2.add_argument(f"--{name}", default=default, help=f"(default {default}, the paper's)")
    b = sub.add_parser("bounds", help="bounds against L, K or alpha; lists give overlaid curves",
                       epilog="Parameters not swept may be comma lists: one curve group per "
                              "combination. Defaults: the Figure 2 setting (K=5, alpha=1/4, H=1, "
                              "h=1/10, M=1), L=0..K and K=1..10 when swept, L=1 otherwise.")
    _common(b, "column")
    b.add_argument("--vs", required=True, choices=["L", "K", "alpha"], help="the x axis")
    b.add_argument("--theorem", default="3.6", help="3.6 (default), 3.8, 3.10, a comma list, or all")
    b.add_argument("--normalize", choices=["fo"], help="divide each bound by its theorem's fo bound")
    b.add_argument("--estimators", default=",".join(BOUNDED), help="comma list of fo, trunc, binom")
    b.add_argument("--name", help="file name stem (default bounds_vs_<vs>, with --tightness "
                                  "bounds_vs_<vs>_tightness)")
    for name in ("K", "L", "alpha", "H", "h", "M"):
        b.add_argument(f"--{name}")
    return parser


def _values(name: str, text: str) -> list:
    if name in INTEGER_MINIMUM:
        return parse_integers(f"--{name}", text, INTEGER_MINIMUM[name])
    return parse_rationals(f"--{name}", text)


def _formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",")]
    for f in formats:
        if f not in FORMATS:
            raise UsageError(f"--formats: {f!r} is not one of {', '.join(FORMATS)}")
    return formats


def _figure2(args):
    single = {}
    for name in DEFAULTS:
        values = _values(name, getattr(args, name))
        if len(values) != 1:
            raise UsageError(f"--{name}: {getattr(args, name)!r} must be a single value for figure2")
        single[name] = values[0]
    name = "figure2_tightness" if args.tightness else "figure2"
    return name, figure2(**single, preset=args.preset, usetex=args.usetex, variant=args.variant,
                         tightness=args.tightness)


def _bounds(args):
    given = {n: getattr(args, n) for n in ("K", "L", "alpha", "H", "h", "M")}
    values = {n: _values(n, text if text is not None else DEFAULTS.get(n, "1"))
              for n, text in given.items()}
    if args.vs == "L" and given["L"] is None:
        values["L"] = list(range(max(values["K"]) + 1))
    if args.vs == "K" and given["K"] is None:
        values["K"] = list(range(1, SWEPT_K_MAX + 1))
    xs = values.pop(args.vs)
    if len(xs) < 2:
        raise UsageError(f"--{args.vs}: {given[args.vs]!r} gives one value; --vs {args.vs} needs a "
                         f"comma list{'' if args.vs == 'alpha' else ' or a range a:b'}")
    fixed = {n: v[0] if len(v) == 1 else v for n, v in values.items()}
    estimators = [e.strip() for e in args.estimators.split(",")]
    for e in estimators:
        if e not in BOUNDED:
            raise UsageError(f"--estimators: {e!r} is not one of {', '.join(BOUNDED)}")
    plot = bounds_figure(parse_theorems(args.theorem), args.vs, xs, fixed,
                         normalize=args.normalize, estimators=estimators, preset=args.preset,
                         usetex=args.usetex, variant=args.variant, tightness=args.tightness)
    return args.name or f"bounds_vs_{args.vs}" + ("_tightness" if args.tightness else ""), plot


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    formats = _formats(args.formats)
    out_directory(args.out)  # before the work: a bad --out fails at once
    name, plot = (_figure2 if args.figure == "figure2" else _bounds)(args)
    for path in plot.save(args.out, name, formats=formats, data=args.data):
        print(path)
    return 0
