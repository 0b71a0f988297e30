"""Tables of bounds: one row per (theorem, parameter point), and its four output formats.

A row is a dict with the keys of the JSON schema of ``binomgbml bounds``: ``theorem``, ``K``,
``L``, ``alpha``, ``H``, ``h``, ``M`` (inputs; rationals as "p/q" strings, h and M None when not
given), ``applicable``, ``reason`` (None when applicable) and ``fo``, ``trunc``, ``binom``
(floats, or Fractions in exact mode; None when not applicable).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import sys
from fractions import Fraction

import numpy as np

from . import exact as _exact
from . import numeric as _numeric
from .lemmas import to_float
from .params import BoundsInputError, NotApplicable, exact_point
from .theorems import ESTIMATORS, arguments, broken_condition, get_theorem

__all__ = ["bound_rows", "format_rows", "FORMATS", "unlimited_int_digits"]

FORMATS = ("table", "json", "csv", "latex")
_INPUTS = ("K", "L", "alpha", "H", "h", "M")


def bound_rows(theorems, points, *, exact=False, normalize=None, strict=False) -> list[dict]:
    """Rows for every theorem (outer loop) and every point (dicts with K, L, alpha, H, h, M:
    ints, Fractions or "p/q" strings; h, M may be None).

    ``normalize="fo"`` divides each bound by the same theorem's fo bound (Figure 2).
    ``strict=True`` raises ``NotApplicable`` (naming the command-line flags) for a point that
    breaks a theorem's conditions, instead of giving a not-applicable row.
    """
    if normalize not in (None, "fo"):
        raise ValueError(f"normalize = {normalize!r} is not 'fo' or None")
    checked = [exact_point(**{n: p.get(n) for n in _INPUTS}) for p in points]
    rows = []
    for theorem in map(get_theorem, theorems):
        block = []
        for p in _progress(checked, f"Theorem {theorem.number}: conditions", at_least=100_000):
            condition = broken_condition(theorem, p)
            reason = None if condition is None else f"Theorem {theorem.number}: {condition.reason(p)}"
            if reason and strict:
                raise NotApplicable(f"{condition.flags}: {condition.reason(p)} (Theorem "
                                    f"{theorem.number}, at {_describe(p)}); ask --theorem all to "
                                    "list such points as not-applicable rows")
            block.append(_row(theorem.number, p, reason))
        live = [(row, p) for row, p in zip(block, checked) if row["applicable"]]
        if live:
            values = (_exact_values if exact else _numeric_values)(theorem.number, [p for _, p in live], normalize)
            for (row, _), value in zip(live, values):
                row.update(value)
        rows += block
    return rows


def _describe(p: dict) -> str:
    return ", ".join(f"{n}={p[n]}" for n in _INPUTS if p[n] is not None)


def _row(number: str, p: dict, reason) -> dict:
    row = {"theorem": number}
    row.update({n: (None if p[n] is None else (p[n] if n in ("K", "L", "M") else str(p[n])))
                for n in _INPUTS})
    row.update(applicable=reason is None, reason=reason, fo=None, trunc=None, binom=None)
    return row


def _progress(items, description: str, at_least: int):
    """``items``, with a progress bar on stderr when there are at least ``at_least`` of them."""
    if len(items) < at_least:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=description, file=sys.stderr, leave=False)


def _exact_values(number, points, normalize):
    out = []
    for p in _progress(points, f"Theorem {number}: exact bounds", at_least=1_000):
        values = _exact.THEOREM_FUNCTIONS[number](*arguments(number, p))
        values = {k: Fraction(v) for k, v in values.items()}
        if normalize:
            values = {k: v / values["fo"] for k, v in values.items()}
        out.append(values)
    return out


def _numeric_values(number, points, normalize):
    # x = alpha*H (and y = alpha*h) rounded once from the exact product, so that x <= 1 stays true
    columns = zip(*(arguments(number, p) for p in points))
    arrays = [np.array([to_float(Fraction(v)) for v in column]) for column in columns]
    if normalize:
        _require_float_range(number, points, arrays[2])
    with np.errstate(over="ignore", under="ignore"):
        logs = _numeric.LOG_THEOREM_FUNCTIONS[number](*arrays)
        if normalize:
            logs = {k: v - logs["fo"] for k, v in logs.items()}
        values = {k: np.exp(v) for k, v in logs.items()}
    for k, v in values.items():
        if np.isnan(v).any():  # a bug, never a result: say so loudly
            raise RuntimeError(f"internal error: Theorem {number} {k} gave NaN")
    return [{k: float(values[k][i]) for k in ESTIMATORS} for i in range(len(points))]


def _require_float_range(number, points, x) -> None:
    """--normalize fo in floats needs alpha*H inside float64: where it rounds to 0 or inf, the fo
    bound is exactly 0 or inf in log space too, and the ratio would be 0/0 or inf/inf (NaN)."""
    bad = (x == 0) | np.isinf(x)
    if bad.any():
        p = points[int(np.argmax(bad))]
        product = Fraction(p["alpha"]) * Fraction(p["H"])
        magnitude = math.log10(product.numerator) - math.log10(product.denominator)
        raise BoundsInputError(
            f"--normalize fo: alpha*H = about 10^{magnitude:.0f} (--alpha/--H) is outside the "
            f"float64 range (Theorem {number}, at K={p['K']}, L={p['L']}), where the fo bound "
            "rounds to 0 or inf and the ratio is undefined in floats; add --exact")


# ---- formats -----------------------------------------------------------------------------------

def format_rows(rows: list[dict], fmt: str = "table", *, normalize=None) -> str:
    """Render rows as "table" (aligned text), "json", "csv" or "latex" (booktabs)."""
    try:
        formatter = {"table": _table, "json": _json, "csv": _csv, "latex": _latex}[fmt]
    except KeyError:
        raise ValueError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}") from None
    with unlimited_int_digits():
        return formatter(rows, normalize)


@contextlib.contextmanager
def unlimited_int_digits():
    """Lift Python's 4300-digit limit on int <-> str conversion for the duration: exact values for
    K = 10,000, and inputs like ``--alpha 1e5000``, have more digits."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(limit)


def _text(value, float_format=repr) -> str:
    """A bound value as text: "p/q" exactly, inf, and floats through ``float_format`` (by default
    the shortest round-trip repr; the table passes 6 significant digits)."""
    if value is None:
        return ""
    if isinstance(value, Fraction):
        return str(value)
    return "inf" if math.isinf(value) else float_format(value)


def _columns(rows):
    """Input columns to show: h and M only when some row has them."""
    return [n for n in _INPUTS if n not in ("h", "M") or any(r[n] is not None for r in rows)]


def _table(rows, normalize):
    names = _columns(rows)
    head = ["theorem"] + names + list(ESTIMATORS) + ["note"]
    body = []
    for r in rows:
        values = [_text(r[k], "{:.6g}".format) if r["applicable"] else "n/a" for k in ESTIMATORS]
        body.append([r["theorem"]] + ["" if r[n] is None else str(r[n]) for n in names] + values
                    + [r["reason"] or ""])
    widths = [max(len(x) for x in column) for column in zip(head, *body)]
    title = "# error bounds / fo bound of the same theorem" if normalize else "# error bounds / ||g_t^K||"
    lines = [title] + ["  ".join(x.ljust(w) for x, w in zip(line, widths)).rstrip() for line in [head] + body]
    return "\n".join(lines)


_INF_TOKEN = "__binomgbml_inf__"


def _json(rows, normalize):
    def encode(v):
        if isinstance(v, Fraction):
            return str(v)
        if isinstance(v, float) and math.isinf(v):
            return _INF_TOKEN
        return v
    data = {"rows": [{k: encode(v) for k, v in r.items()} for r in rows]}
    # JSON has no infinity: 1e999 is a valid JSON number that parses to inf (Python, JavaScript)
    return json.dumps(data, indent=1, allow_nan=False).replace(f'"{_INF_TOKEN}"', "1e999")


def _csv(rows, normalize):
    buffer = io.StringIO()
    keys = ["theorem", *_INPUTS, "applicable", "reason", *ESTIMATORS]
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(keys)
    for r in rows:
        writer.writerow(["" if r[k] is None else (str(r[k]).lower() if k == "applicable" else _text(r[k])
                                                  if k in ESTIMATORS else r[k]) for k in keys])
    return buffer.getvalue().rstrip("\n")


def _latex_number(value) -> str:
    if isinstance(value, Fraction):
        return f"$\\frac{{{value.numerator}}}{{{value.denominator}}}$" if value.denominator != 1 \
            else f"${value.numerator}$"
    if math.isinf(value):
        return "$\\infty$"
    if value != 0 and not 1e-3 <= abs(value) < 1e4:
        mantissa, exponent = f"{value:.4e}".split("e")
        return f"${mantissa}\\times 10^{{{int(exponent)}}}$"
    return f"${value:.6g}$"


def _latex_input(value) -> str:
    if value is None:
        return ""
    f = Fraction(value)
    return f"${f.numerator}/{f.denominator}$" if f.denominator != 1 else f"${f.numerator}$"


def _theorem_list(rows) -> str:
    numbers = list(dict.fromkeys(r["theorem"] for r in rows))
    return ("Theorem " if len(numbers) == 1 else "Theorems ") + ", ".join(numbers)


def _latex(rows, normalize):
    names = _columns(rows)
    symbols = {"K": "$K$", "L": "$L$", "alpha": "$\\alpha$", "H": "$H$", "h": "$h$", "M": "$M$"}
    head = (["Theorem"] + [symbols[n] for n in names]
            + ["$e^{\\mathrm{FO}}$", "$e^{\\mathrm{Tr}}$", "$e^{\\mathrm{Bin}}$"])
    caption = ("Error bounds normalized by the first-order bound" if normalize
               else "Error bounds, as multiples of $\\|\\mathbf{g}_t^K\\|$")
    lines = ["% needs \\usepackage{booktabs}", "\\begin{table}[t]", "\\centering",
             f"\\caption{{{caption} ({_theorem_list(rows)}).}}",
             f"\\begin{{tabular}}{{l{'r' * len(names)}rrr}}", "\\toprule", " & ".join(head) + " \\\\",
             "\\midrule"]
    previous = None
    for r in rows:
        if previous is not None and r["theorem"] != previous:
            lines.append("\\midrule")
        previous = r["theorem"]
        values = ([_latex_number(r[k]) for k in ESTIMATORS] if r["applicable"]
                  else ["\\multicolumn{3}{c}{n/a}"])
        lines.append(" & ".join([r["theorem"]] + [_latex_input(r[n]) for n in names] + values) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines)
