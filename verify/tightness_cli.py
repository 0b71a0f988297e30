"""``binomgbml tightness`` and ``binomgbml diagnose``: how far each bound is from what can happen.

tightness: for a point or a sweep (the syntax of ``binomgbml bounds``), each bound next to the
largest error exhibited under its assumption (:mod:`verify.tightness`), with a witness file per
row; ``--replay FILE...`` re-checks witnesses exactly (exit 0 when every one reproduces).

diagnose: the constants of a real trajectory of the user's model (``module:factory``, a function
returning ``(model, loss, support, query)``) and every applicable bound with them, next to each
estimator's actual error (:mod:`verify.diagnose`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cli_common import ArgumentParser, UsageError
from bounds.cli import EPILOG as BOUNDS_EPILOG
from bounds.cli import (
    _attach_negative_values,
    _points,
    add_point_arguments,
    parse_theorems,
)
from bounds.params import to_float
from bounds.tables import _json as bounds_json

from .cli import _import_target, _out_dir, load_witness

if TYPE_CHECKING:
    from .tightness import TwoSided

__all__ = ["JSON_KEYS", "diagnose_main", "format_rows", "tightness_main"]

FORMATS = ("table", "json", "csv", "latex")
#: the keys of every row of ``binomgbml tightness --format json``
JSON_KEYS = ("theorem", "variant", "estimator", "K", "L", "alpha", "H", "h", "M", "bound",
             "attained", "ratio", "method", "witness")
_INPUTS = ("K", "L", "alpha", "H", "h", "M")

EPILOG = BOUNDS_EPILOG.split("Numeric values")[0].rstrip() + """

Every row gives the bound (the statement's, as printed or corrected), the largest error attained
under the statement's assumption as a multiple of ||g|| (the exact worst case over commuting
Hessians, or a non-commuting search witness when that is larger), their ratio, the method and the
witness file (under --out). tight: the witness attains the bound exactly; exceeded: the witness
is a counterexample to that bound. Replay witnesses with: binomgbml tightness --replay FILE...
"""


def _aligned(head: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(x) for x in column) for column in zip(head, *body)]
    return ["  ".join(x.ljust(w) for x, w in zip(line, widths)).rstrip() for line in [head] + body]


def _g(value) -> str:
    """6 significant digits; a value that is not exactly 1 never prints as "1"."""
    if value is None:
        return "-"
    text = f"{value:.6g}"
    return f"{value:.12g}" if text == "1" and value != 1 else text


# --------------------------------------------------------------------------------------------
# tightness


def _tightness_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="binomgbml tightness", epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter,
                            description="Two-sided bounds: each error bound of Theorems 3.6, 3.8, 3.10 "
                            "next to the largest error that can be exhibited under its assumption, with "
                            "an exact witness (docs/tightness.md).")
    add_point_arguments(parser)
    parser.add_argument("--variant", default="printed",
                        help="printed (default), corrected, or all (both where a corrected form exists)")
    parser.add_argument("--starts", type=_count, default=8,
                        help="non-commuting search starts per problem (default 8; 0: exact commuting only)")
    parser.add_argument("--seed", type=_count, default=0, help="seed of the search (default 0)")
    parser.add_argument("--format", default="table", help="table (default), json, csv or latex")
    parser.add_argument("--out", default="witnesses/tightness",
                        help="directory for the witness files (default witnesses/tightness)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--replay", nargs="+", metavar="FILE", help="re-check witness files exactly")
    return parser


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be an integer >= 0")
    return value


def _row_dict(row, witness: str) -> dict:
    """A :class:`verify.tightness.TwoSided` as a JSON row (inputs as "p/q" strings)."""
    p = row.params
    out = {"theorem": row.theorem, "variant": row.variant, "estimator": row.estimator}
    out.update({n: (None if p[n] is None else p[n] if n in ("K", "L", "M") else str(p[n]))
                for n in _INPUTS})
    out.update(bound=to_float(row.bound), attained=row.attained, ratio=row.ratio, method=row.method,
               witness=witness)
    return out


def _note(row) -> str:
    return "tight" if row.tight else "exceeded" if row.exceeded else ""


def format_rows(rows: Sequence[TwoSided], paths: list[str], fmt: str) -> str:
    """Render two-sided rows (with their witness paths) as table, json, csv or latex."""
    dicts = [_row_dict(r, p) for r, p in zip(rows, paths)]
    notes = [_note(r) for r in rows]
    names = [n for n in _INPUTS if n not in ("h", "M") or any(d[n] is not None for d in dicts)]
    if fmt == "json":  # bounds' JSON writer: inf as 1e999, never NaN
        return bounds_json(dicts, None)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*JSON_KEYS, "note"])
        for d, note in zip(dicts, notes):
            writer.writerow(["" if d[k] is None else repr(d[k]) if isinstance(d[k], float) else d[k]
                             for k in JSON_KEYS] + [note])
        return buffer.getvalue().rstrip("\n")
    if fmt == "latex":
        return _latex(dicts, notes, names)
    head = ["theorem", "variant", "estimator", *names, "bound", "attained", "ratio", "method", "note",
            "witness"]
    body = [[d["theorem"], d["variant"], d["estimator"], *("" if d[n] is None else str(d[n]) for n in names),
             _g(d["bound"]), _g(d["attained"]), _g(d["ratio"]), d["method"], note, d["witness"]]
            for d, note in zip(dicts, notes)]
    title = ("# two-sided bounds / ||g||: bound = the statement's upper bound; attained = the largest "
             "error exhibited under its assumption (exact witness); tight = attained exactly")
    return "\n".join([title, *_aligned(head, body)])


def _latex(dicts, notes, names) -> str:
    symbols = {"K": "$K$", "L": "$L$", "alpha": "$\\alpha$", "H": "$H$", "h": "$h$", "M": "$M$"}

    def number(v):
        if v is None:
            return "--"
        if v != 0 and abs(v) < 1e-3:
            mantissa, exponent = f"{v:.4e}".split("e")
            return f"${mantissa}\\times 10^{{{int(exponent)}}}$"
        return f"${_g(v)}$"

    def rational(v):
        return "" if v is None else f"${v}$"

    head = ["Theorem", "variant", "estimator", *(symbols[n] for n in names), "bound", "attained",
            "ratio", "method", ""]
    lines = ["% needs \\usepackage{booktabs}", "\\begin{table}[t]", "\\centering",
             ("\\caption{Error bounds and the largest error attained under their assumptions, as "
             "multiples of $\\|\\mathbf{g}_t^K\\|$ (tight: the bound is attained).}"),
             f"\\begin{{tabular}}{{lll{'r' * len(names)}rrrll}}", "\\toprule",
             " & ".join(head) + " \\\\", "\\midrule"]
    for d, note in zip(dicts, notes):
        cells = [d["theorem"], d["variant"], d["estimator"], *(rational(d[n]) for n in names),
                 number(d["bound"]), number(d["attained"]), number(d["ratio"]), d["method"], note]
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines)


def _replay(paths: list[str]) -> int:
    from .tightness import replay

    failed = 0
    for path in paths:
        witness = load_witness(path)
        try:
            ok, detail = replay(witness)
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"--replay {path}: not a tightness witness ({exc})") from None
        failed += not ok
        print(f"{path}: {'reproduced' if ok else 'NOT reproduced'} -- {detail}")
    return 1 if failed else 0


def tightness_main(argv: list[str]) -> int:
    """``binomgbml tightness``: two-sided bounds at a point or over a sweep, or replay witnesses."""
    from .tightness import VARIANTS, two_sided_rows, write_witness

    args = _tightness_parser().parse_args(_attach_negative_values(list(argv)))
    if args.replay:
        return _replay(args.replay)
    if args.format not in FORMATS:
        raise UsageError(f"--format: {args.format!r} is not one of {', '.join(FORMATS)}")
    if args.variant not in (*VARIANTS, "all"):
        raise UsageError(f"--variant: {args.variant!r} is not one of {', '.join(VARIANTS)}, all")
    theorems = parse_theorems(args.theorem)
    points = _points(args).points()
    out = _out_dir(args.out, create=True)
    rows, skipped = two_sided_rows(theorems, points, variant=args.variant, starts=args.starts,
                                   seed=args.seed, progress=not args.no_progress)
    if not rows:
        raise UsageError(f"no point satisfies the theorem's conditions ({skipped[0][2]})")
    if skipped:
        print(f"binomgbml tightness: skipped {len(skipped)} (theorem, point) pairs outside the "
              f"theorem's conditions, e.g. {skipped[0][2]}", file=sys.stderr)
    written: dict = {}
    for row in rows:
        key = id(row.witness)
        if key not in written:
            written[key] = str(write_witness(row.witness, out))
    paths = [written[id(row.witness)] for row in rows]
    sys.stdout.write(format_rows(rows, paths, args.format) + "\n")
    if args.format == "table":
        print(f"# replay every witness: binomgbml tightness --replay {Path(out) / '*.json'}")
    return 0


# --------------------------------------------------------------------------------------------
# diagnose


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive finite number")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer")
    return value


def _diagnose_parser() -> ArgumentParser:
    from estimators import HVP_MODES

    parser = ArgumentParser(prog="binomgbml diagnose", description="The constants of a real "
                            "trajectory (per-step Hessian spectra by Lanczos, H, h, Assumptions 3.7 and "
                            "3.9 along it) and every applicable bound with them next to each "
                            "estimator's actual error against exact MAML (docs/tightness.md).")
    parser.add_argument("factory", help="package.module:function returning (model, loss, support, query)")
    parser.add_argument("--K", type=_positive_int, default=5, help="inner steps (default 5)")
    parser.add_argument("--alpha", type=_positive_float, default=0.01, help="inner step size (default 0.01)")
    parser.add_argument("--M", type=_positive_int, default=1,
                        help="Assumption 3.9: the number of strongly convex last steps (default 1)")
    parser.add_argument("--variant", default="all", help="printed, corrected or all (default)")
    parser.add_argument("--hvp", default="auto", choices=HVP_MODES, help="HVP mode (default auto)")
    parser.add_argument("--seed", type=_count, default=0, help="seed of the Lanczos start vectors")
    parser.add_argument("--format", default="table", help="table (default) or json")
    return parser


def _task(factory, target: str):
    """``(model, loss, support, query)`` from the user's factory; UsageError when it is not that."""
    try:
        made = factory()
    except Exception as exc:  # the user's code: one clear line, original chained
        raise UsageError(f"{target} raised {type(exc).__name__}: {exc}") from exc
    keys = ("model", "loss", "support", "query")
    if isinstance(made, dict):
        missing = [k for k in keys if k not in made]
        if missing:
            raise UsageError(f"{target} returned a dict without {', '.join(missing)}")
        return tuple(made[k] for k in keys)
    if not isinstance(made, (tuple, list)) or len(made) != 4:
        raise UsageError(f"{target} returned {type(made).__name__}, expected (model, loss, support, "
                         "query)")
    return tuple(made)


#: float64 estimators and the float64 maml they are compared with differ by rounding: an error
#: within ROUNDING * max(||g||, ||maml||) of the bound is not reported as above it
ROUNDING = 1e-12


def _diagnose_note(error: float, bound: float, rounding: float) -> str:
    """The note of a diagnose row: "error above bound" beyond float64 rounding, a milder note
    within it (binom(K) against a zero bound: rounding, not a violation)."""
    if error > bound + rounding:
        return "error above bound"
    return "above bound by float64 rounding only" if error > bound else ""


def _diagnose_table(target: str, diag) -> str:
    s = diag.spectra
    lines = [(f"# diagnose {target}: K={diag.K}, alpha={diag.alpha:g}, d={diag.d}; ||g|| = "
             f"{diag.g_norm:.6g}, ||maml|| = {diag.maml_norm:.6g}"),
             f"# per-step Hessian spectra by Lanczos (largest residual {s.residual:.2g}):"]
    lines += ["#   " + line for line in _aligned(
        ["k", "lambda_min", "lambda_max"],
        [[str(k), f"{a.value:.6g}", f"{b.value:.6g}"] for k, (a, b) in enumerate(zip(s.lam_min, s.lam_max))])]
    low = min(r.value for r in s.lam_min)
    yes = {True: "holds", False: "fails"}
    lines.append(f"# H = {diag.H:.6g} (alpha H = {diag.alpha * diag.H:.6g}); Assumption 3.7 (convex) "
                 f"{yes[diag.assumptions['3.7']]} along the trajectory (min lambda_min = {low:.6g}); "
                 f"Assumption 3.9 with M = {diag.M} {yes[diag.assumptions['3.9']]}"
                 + (f" (h = {diag.h:.6g})" if diag.h is not None else ""))
    head = ["theorem", "variant", "estimator", "L", "bound", "error", "error/bound", "note"]
    body = [[r["theorem"], r["variant"], r["estimator"], str(r["L"]), _g(r["bound"]), _g(r["error"]),
             _g(r["ratio"]), _diagnose_note(r["error"], r["bound"], ROUNDING * max(diag.g_norm, diag.maml_norm))]
            for r in diag.rows]
    lines += _aligned(head, body)
    reasons: dict = {}
    for s_ in diag.skipped:
        reasons.setdefault((s_["theorem"], s_["reason"]), []).append(str(s_["L"]))
    lines += [f"# not applicable: Theorem {t} at L = {','.join(Ls)}: {reason}"
              for (t, reason), Ls in reasons.items()]
    return "\n".join(lines)


def diagnose_main(argv: list[str]) -> int:
    """``binomgbml diagnose module:factory``: a model's constants, bounds and actual errors."""
    args = _diagnose_parser().parse_args(argv)
    if args.format not in ("table", "json"):
        raise UsageError(f"--format: {args.format!r} is not one of table, json")
    if args.variant not in ("printed", "corrected", "all"):
        raise UsageError(f"--variant: {args.variant!r} is not one of printed, corrected, all")
    if args.M > args.K:
        raise UsageError(f"--M: {args.M} is larger than --K {args.K}")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # so that a module in the working directory imports
    model, loss, support, query = _task(_import_target(args.factory, "factory"), args.factory)

    import estimators

    from .diagnose import diagnose

    traj = estimators.Trajectory.from_model(model, loss, support, query, args.K, args.alpha, hvp=args.hvp)
    diag = diagnose(traj, M=args.M, variant=args.variant, seed=args.seed)
    if args.format == "json":
        print(json.dumps({"factory": args.factory, **diag.to_json()}, indent=1))
    else:
        print(_diagnose_table(args.factory, diag))
    return 0
