"""Tables of bounds: one row per (theorem, variant, parameter point), and its four output formats.

A row is a dict with the keys of the JSON schema of ``binomgbml bounds``: ``theorem``, ``variant``
("printed" or "corrected"), the theorem's parameters (for Theorems 3.6, 3.8, 3.10: ``K``, ``L``,
``alpha``, ``H``, ``h``, ``M``; rationals as "p/q" strings, None when not given), ``applicable``,
``reason`` (None when applicable), one value per bound (``fo``, ``trunc``, ``binom``: floats, or
Fractions in exact mode; None when not applicable), and per bound its ``status`` ("holds",
"false in general", "corrected") and ``holds_for`` (where a value that is false in general still
holds, e.g. "commuting Hessians"; else None), as dicts keyed like the values.

A related paper's theorem (``imaml.lemma3``, ``ji2022.prop1``, ...) has its own parameters and
value keys; its rows carry only its own parameters. An exact value that is irrational (an
iteration count with a square root and a logarithm) is a ``RationalBracket``: ``[lower, upper]``
in text (rounded outwards), ``{"lower": "p/q", "upper": "p/q"}`` in JSON.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from .evaluation import MAX_EXACT_DIGITS, broken, get_theorem, values, variants_for
from .exact import RationalBracket
from .params import (
    FLOAT_INTEGER_LIMIT,
    MAX_FLOAT_INTEGER,
    BoundsInputError,
    NotApplicable,
    exact_point,
    format_value,
    to_float,
)
from .statement import Theorem

__all__ = ["bound_rows", "format_rows", "sweep_csv", "FORMATS", "exact_int_digits", "columns_of"]

FORMATS = ("table", "json", "csv", "latex")


def columns_of(theorems: Iterable[Theorem]) -> tuple[list[str], list[str]]:
    """The parameter names and the value keys of the theorems' rows, in order."""
    theorems = list(theorems)
    params = list(dict.fromkeys(p.name for t in theorems for p in t.hypotheses.signature))
    keys = list(dict.fromkeys(k for t in theorems for k in t.bounds))
    return params, keys


def bound_rows(theorems: Iterable[Theorem | str], points: Sequence[Mapping[str, Any]], *,
               exact: bool = False, normalize: str | None = None, strict: bool = False,
               variant: str = "printed") -> list[dict[str, Any]]:
    """Rows for every theorem (outer loop), every point (dicts with the theorems' parameters:
    ints, Fractions or "p/q" strings; None or absent: not given) and every variant asked for
    (``variant``: "printed", "corrected" or "all": the corrected row follows the printed one for
    each point of a theorem that has corrections).

    ``normalize="fo"`` divides each bound by the same theorem's (and variant's) fo bound
    (Figure 2). ``strict=True`` raises ``NotApplicable`` (naming the parameters) for a point that
    breaks a theorem's conditions, instead of giving a not-applicable row.
    """
    if normalize not in (None, "fo"):
        raise ValueError(f"normalize = {normalize!r} is not 'fo' or None")
    chosen = [get_theorem(t) for t in theorems]
    params, _ = columns_of(chosen)
    signature = {p.name: p for t in chosen for p in t.hypotheses.signature}
    checked = [exact_point(signature.values(), {n: p.get(n) for n in params}) for p in points]
    rows = []
    for theorem in chosen:
        names = variants_for(theorem, variant)
        reasons_of: dict[int, list[str | None]] = {}
        block = {}
        for name in names:
            hypotheses = theorem.hypotheses_for(name)  # a corrected variant may need fewer conditions
            if id(hypotheses) not in reasons_of:
                reasons_of[id(hypotheses)] = _reasons(theorem, hypotheses, checked, params, strict)
            reasons = reasons_of[id(hypotheses)]
            live = [p for p, reason in zip(checked, reasons) if reason is None]
            computed = iter(_values(theorem, live, exact, name, normalize) if live else [])
            block[name] = [_row(theorem, name, p, params, reason, None if reason else next(computed))
                           for p, reason in zip(checked, reasons)]
        rows += [row for group in zip(*block.values()) for row in group]
    return rows


def _reasons(theorem: Theorem, hypotheses: Any, checked: Sequence[Mapping[str, Any]],
             params: Sequence[str], strict: bool) -> list[str | None]:
    """Why each point breaks the hypotheses (None where it does not); ``strict``: raise instead."""
    reasons = []
    for p in _progress(checked, f"{theorem.name}: conditions", at_least=100_000):
        why = broken(hypotheses, p)
        if why and strict:
            describe = ", ".join(f"{n}={p[n]}" for n in params if p[n] is not None)
            flags = "/".join("{" + n + "}" for n in why[1])
            raise NotApplicable(f"{flags}: {why[0]} ({theorem.name}, at {describe})", why[1])
        reasons.append(None if why is None else f"{theorem.name}: {why[0]}")
    return reasons


def _row(theorem: Theorem, variant: str, p: Mapping[str, Any], params: Sequence[str],
         reason: str | None, value: Mapping[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"theorem": theorem.number}
    integers = {par.name for par in theorem.hypotheses.signature if par.integer}
    own = {par.name for par in theorem.hypotheses.signature}
    row.update({n: (None if p.get(n) is None else (p[n] if n in integers else str(p[n])))
                for n in params if n in own})
    row.update(applicable=reason is None, reason=reason)
    row.update({k: (None if value is None else value[k]) for k in theorem.bounds})
    chosen = {k: (b, b.variant(variant)) for k, b in theorem.bounds.items()}
    row["variant"] = variant
    row["status"] = {k: v.status for k, (b, v) in chosen.items()}
    row["holds_for"] = {k: b.holds_for(v) for k, (b, v) in chosen.items()}
    return row


def _progress(items: Sequence[Any], description: str, at_least: int) -> Iterable[Any]:
    """``items``, with a progress bar on stderr when there are at least ``at_least`` of them."""
    if len(items) < at_least:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=description, file=sys.stderr, leave=False)


def _values(theorem: Theorem, points: Sequence[Mapping[str, Any]], exact: bool, variant: str,
            normalize: str | None) -> list[dict[str, Any]]:
    if exact:
        return [values(theorem, theorem.arguments(p), exact=True, variant=variant, normalize=normalize)
                for p in _progress(points, f"{theorem.name}: exact bounds", at_least=1_000)]
    # the arguments (x = alpha*H, ...) rounded once from their exact values, so that x <= 1 stays true
    exact_args = [theorem.arguments(p) for p in points]
    arrays = [np.array([to_float(Fraction(v)) for v in column]) for column in zip(*exact_args)]
    for expr, column in zip(theorem.hypotheses.arguments, zip(*exact_args)):
        if isinstance(column[0], int) and max(column) >= MAX_FLOAT_INTEGER:
            raise BoundsInputError(f"{expr.text()} = {max(column)} {FLOAT_INTEGER_LIMIT}", expr.names())

    def undefined(bad: np.ndarray) -> None:
        _float_range_error(theorem, points, exact_args, arrays, int(np.argmax(bad)), normalize or "")

    out = values(theorem, arrays, exact=False, variant=variant, normalize=normalize, undefined=undefined)
    keys = list(theorem.bounds)
    return [{k: float(np.broadcast_to(out[k], (len(points),))[i]) for k in keys} for i in range(len(points))]


def _float_range_error(theorem: Theorem, points: Sequence[Mapping[str, Any]], exact_args: list,
                       arrays: list, index: int, normalize: str) -> None:
    """Normalising in floats needs the normalising bound inside float64: where an argument (alpha*H)
    rounds to 0 or inf, that bound is exactly 0 or inf even in log space and the ratio is undefined
    (0/0 or inf/inf). Raises, naming the argument."""
    integer = {p.name for p in theorem.hypotheses.signature if p.integer}
    for expr, column, value in zip(theorem.hypotheses.arguments, arrays, exact_args[index]):
        if set(expr.names()) <= integer:
            continue  # K, L, M are exact in floats
        if column[index] == 0 or np.isinf(column[index]):
            value = Fraction(value)
            magnitude = math.log10(value.numerator) - math.log10(value.denominator)
            names = expr.names()
            p = points[index]
            at = ", ".join(f"{n}={p[n]}" for n in sorted(integer, key=list(p).index) if p.get(n) is not None)
            raise BoundsInputError(
                f"{{normalize}} {normalize}: {expr.text()} = about 10^{magnitude:.0f} "
                f"({'/'.join('{' + n + '}' for n in names)}) is outside the float64 range "
                f"({theorem.name}, at {at}), where the {normalize} bound rounds to "
                "0 or inf and the ratio is undefined in floats; add {exact}",
                ("normalize", *names, "exact"))
    raise BoundsInputError(f"{{normalize}} {normalize}: the {normalize} bound of {theorem.name} is 0 or "
                           f"inf in floats at {dict(points[index])}; add {{exact}}", ("normalize", "exact"))


# ---- formats -----------------------------------------------------------------------------------

def format_rows(rows: list[dict[str, Any]], fmt: str = "table", *, normalize: str | None = None) -> str:
    """Render rows as "table" (aligned text), "json", "csv" or "latex" (booktabs)."""
    try:
        formatter = {"table": _table, "json": _json, "csv": _csv, "latex": _latex}[fmt]
    except KeyError:
        raise ValueError(f"format = {fmt!r} is not one of {', '.join(FORMATS)}") from None
    with exact_int_digits():
        return formatter(rows, normalize)


#: Python's limit on int <-> str conversion inside exact_int_digits: the exact values are checked
#: against MAX_EXACT_DIGITS from an estimate before they are computed; this is the backstop
INT_STR_DIGITS = 4 * MAX_EXACT_DIGITS


@contextlib.contextmanager
def exact_int_digits() -> Iterator[None]:
    """Raise Python's 4300-digit limit on int <-> str conversion to ``INT_STR_DIGITS`` for the
    duration: exact values for K = 10,000, and inputs like ``--alpha 1e5000``, have more digits
    (converting is quadratic in the digits: never unlimited)."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(max(limit, INT_STR_DIGITS) if limit else 0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(limit)


def _text(value: Any, float_format: Any = repr) -> str:
    """A bound value as text: "p/q" exactly, inf, and floats through ``float_format`` (by default
    the shortest round-trip repr; the table passes 6 significant digits); a bracket as
    "[lower, upper]" (exact ends by default; with ``float_format`` rounded outwards)."""
    if value is None:
        return ""
    if isinstance(value, RationalBracket):
        if float_format is repr:
            return f"[{value.lower}, {value.upper}]"
        return f"[{_outward(value.lower, False)}, {_outward(value.upper, True)}]"
    if isinstance(value, Fraction):
        return str(value)
    return "inf" if math.isinf(value) else float_format(value)


def _outward(value: Fraction, up: bool, digits: int = 6) -> str:
    """``value`` to ``digits`` significant digits, rounded down (or ``up``): a bracket's end."""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value.numerator)) - math.log10(value.denominator))
    scale = Fraction(10) ** (digits - 1 - exponent)
    n = math.ceil(value * scale) if up else math.floor(value * scale)
    return f"{float(n / scale):.{digits + 1}g}"


def _blocks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Consecutive rows whose theorems share their columns (one block for BinomGBML's theorems;
    a related paper's theorems, with their own parameters and values, one block each)."""
    blocks: list[list[dict[str, Any]]] = []
    previous = None
    for r in rows:
        columns = columns_of([get_theorem(r["theorem"])])
        if columns != previous:
            blocks.append([])
        blocks[-1].append(r)
        previous = columns
    return blocks


def _title(rows: list[dict[str, Any]], normalize: str | None) -> str:
    """The table's first line: what the values are (a related paper: its title)."""
    from .papers import PAPERS, paper_of

    papers = [p for p in dict.fromkeys(paper_of(r["theorem"]) for r in rows) if p not in (None, "binomgbml")]
    if papers:
        return "# " + "; ".join(getattr(PAPERS[p], "TITLE", p) for p in papers)
    return "# error bounds / fo bound of the same theorem" if normalize else "# error bounds / ||g_t^K||"


def _layout(rows: list[dict[str, Any]]) -> tuple[list[str], list[str], bool]:
    """Parameter columns to show (one that only some assumption needs, like h and M, only when
    some row has it), value keys, and whether the rows differ in variant."""
    theorems = [get_theorem(n) for n in dict.fromkeys(r["theorem"] for r in rows)]
    params, keys = columns_of(theorems)
    optional = {p.name for t in theorems for p in t.hypotheses.signature if p.needed_by}
    params = [n for n in params if n not in optional or any(r.get(n) is not None for r in rows)]
    return params, keys, len({r["variant"] for r in rows}) > 1


def _equation(row: Mapping[str, Any], key: str) -> str:
    return get_theorem(row["theorem"]).bounds[key].equation


def _status_note(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    """"(12a), (12b) false in general (hold for commuting Hessians)"; "(12a), (12b) corrected"."""
    notes = []
    for status in ("false in general", "corrected", "vacuous"):
        chosen = [k for k in keys if row["status"].get(k) == status]
        by_where: dict[Any, list[str]] = {}
        for k in chosen:
            by_where.setdefault(row["holds_for"].get(k), []).append(_equation(row, k))
        for where, equations in by_where.items():
            note = f"{', '.join(equations)} {status}"
            if where:
                note += f" ({'hold' if len(equations) > 1 else 'holds'} for {where})"
            notes.append(note)
    return "; ".join(notes)


def _table(rows: list[dict[str, Any]], normalize: str | None) -> str:
    title = _title(rows, normalize)
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    if variants != ["printed"]:
        title += f" ({' and '.join(variants)} statements)"
    lines = [title]
    for i, block in enumerate(_blocks(rows)):
        lines += [""] * (i > 0) + _table_block(block)
    return "\n".join(lines)


def _table_block(rows: list[dict[str, Any]]) -> list[str]:
    names, keys, by_variant = _layout(rows)
    head = ["theorem"] + (["variant"] if by_variant else []) + names + keys + ["note"]
    body = []
    for r in rows:
        cells = [_text(r[k], "{:.6g}".format) if r["applicable"] else "n/a" for k in keys]
        body.append([r["theorem"]] + ([r["variant"]] if by_variant else [])
                    + ["" if r.get(n) is None else str(r[n]) for n in names] + cells
                    + [r["reason"] or _status_note(r, keys)])
    widths = [max(len(x) for x in column) for column in zip(head, *body)]
    return ["  ".join(x.ljust(w) for x, w in zip(line, widths)).rstrip() for line in [head] + body]


_INF_TOKEN = "__binomgbml_inf__"


def _json(rows: list[dict[str, Any]], normalize: str | None) -> str:
    def encode(v: Any) -> Any:
        if isinstance(v, RationalBracket):
            return {"lower": str(v.lower), "upper": str(v.upper)}
        if isinstance(v, Fraction):
            return str(v)
        if isinstance(v, float) and math.isinf(v):
            return _INF_TOKEN
        return v
    data = {"rows": [{k: encode(v) for k, v in r.items()} for r in rows]}
    # JSON has no infinity: 1e999 is a valid JSON number that parses to inf (Python, JavaScript)
    return json.dumps(data, indent=1, allow_nan=False).replace(f'"{_INF_TOKEN}"', "1e999")


def csv_columns(rows: list[dict[str, Any]]) -> list[str]:
    """theorem, the parameters, applicable, reason, the values, variant, then ``<key>_status``
    and ``<key>_holds_for`` for each value (the columns of the JSON rows, flattened)."""
    theorems = [get_theorem(n) for n in dict.fromkeys(r["theorem"] for r in rows)]
    params, keys = columns_of(theorems)
    return (["theorem", *params, "applicable", "reason", *keys, "variant"]
            + [f"{k}_status" for k in keys] + [f"{k}_holds_for" for k in keys])


def _csv(rows: list[dict[str, Any]], normalize: str | None) -> str:
    buffer = io.StringIO()
    theorems = [get_theorem(n) for n in dict.fromkeys(r["theorem"] for r in rows)]
    keys = columns_of(theorems)[1]
    nested = {f"{k}_{field}": (field, k) for k in keys for field in ("status", "holds_for")}
    columns = csv_columns(rows)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        cells = []
        for c in columns:
            if c in nested:
                field, key = nested[c]
                value = r[field].get(key)
            elif c in keys:
                value = None if r.get(c) is None else _text(r[c])
            elif c == "applicable":
                value = str(r[c]).lower()
            else:
                value = r.get(c)
            cells.append("" if value is None else value)
        writer.writerow(cells)
    return buffer.getvalue().rstrip("\n")


_MARKS = {"false in general": "\\dagger", "corrected": "\\ddagger", "vacuous": "\\S"}


def _latex_number(value: Any, mark: str | None = None) -> str:
    suffix = f"^{{{mark}}}" if mark else ""
    if isinstance(value, RationalBracket):
        return f"$[{_outward(value.lower, False)}, {_outward(value.upper, True)}]{suffix}$"
    if isinstance(value, Fraction):
        return (f"$\\frac{{{value.numerator}}}{{{value.denominator}}}{suffix}$" if value.denominator != 1
                else f"${value.numerator}{suffix}$")
    if math.isinf(value):
        return f"$\\infty{suffix}$"
    if value != 0 and not 1e-3 <= abs(value) < 1e4:
        mantissa, exponent = f"{value:.4e}".split("e")
        return f"${mantissa}\\times 10^{{{int(exponent)}}}{suffix}$"
    return f"${value:.6g}{suffix}$"


def _latex_input(value: Any) -> str:
    if value is None:
        return ""
    f = Fraction(value)
    return f"${f.numerator}/{f.denominator}$" if f.denominator != 1 else f"${f.numerator}$"


def _theorem_list(rows: list[dict[str, Any]]) -> str:
    numbers = list(dict.fromkeys(r["theorem"] for r in rows))
    return ("Theorem " if len(numbers) == 1 else "Theorems ") + ", ".join(numbers)


def _latex_legend(rows: list[dict[str, Any]], keys: Sequence[str]) -> list[str]:
    """One line under the table per mark used: which values are false in general and where they
    hold; which are corrected (not in the paper) and where they are proven."""
    lines = []
    for status, mark in _MARKS.items():
        marked: dict[str, list[str]] = {}
        for r in rows:
            for k in keys:
                if r["applicable"] and r["status"].get(k) == status:
                    bound = get_theorem(r["theorem"]).bounds[k]
                    variant = bound.variant(r["variant"])
                    where = (bound.holds_for(variant) if status in ("false in general", "vacuous")
                             else bound.variant_reference(variant))
                    marked.setdefault(bound.equation, []).append(where or "")
        if not marked:
            continue
        equations = ", ".join(marked)
        details = "; ".join(dict.fromkeys(w for ws in marked.values() for w in ws if w))
        if status == "false in general":
            refuted = "for non-commuting Hessians" if "commuting Hessians" in details else "by an exact witness"
            text = (f"{equations}: false in general as printed (refuted {refuted}); "
                    f"{'they hold' if len(marked) > 1 else 'it holds'} for {details}.")
        elif status == "vacuous":
            text = (f"{equations}: vacuous as printed (its assumptions cannot hold together); "
                    f"{'they hold' if len(marked) > 1 else 'it holds'} for {details}.")
        else:
            text = f"{equations}: corrected bound, not in the paper (proof: {details})."
        lines.append(f"\\par\\smallskip{{\\footnotesize ${mark}$ {_latex_escape(text)}}}")
    return lines


_LATEX_SPECIAL = str.maketrans({"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}",
                                **{c: "\\" + c for c in "_%&#${}"}})


def _latex_escape(text: str) -> str:
    """Plain text for LaTeX: its special characters escaped (one pass)."""
    return text.translate(_LATEX_SPECIAL)


def _latex(rows: list[dict[str, Any]], normalize: str | None) -> str:
    from .papers import PAPERS, paper_of

    papers = [p for p in dict.fromkeys(paper_of(r["theorem"]) for r in rows) if p not in (None, "binomgbml")]
    if papers:
        caption = "; ".join(_latex_escape(getattr(PAPERS[p], "TITLE", p)) for p in papers)
    else:
        caption = ("Error bounds normalized by the first-order bound" if normalize
                   else "Error bounds, as multiples of $\\|\\mathbf{g}_t^K\\|$")
    lines = ["% needs \\usepackage{booktabs}", "\\begin{table}[t]", "\\centering",
             f"\\caption{{{caption} ({_theorem_list(rows)}).}}"]
    for i, block in enumerate(_blocks(rows)):
        lines += ["\\medskip"] * (i > 0) + _latex_block(block)
    keys = list(dict.fromkeys(k for r in rows for k in r["status"]))
    lines += [*_latex_legend(rows, keys), "\\end{table}"]
    return "\n".join(lines)


def _latex_block(rows: list[dict[str, Any]]) -> list[str]:
    names, keys, by_variant = _layout(rows)
    theorems = [get_theorem(n) for n in dict.fromkeys(r["theorem"] for r in rows)]
    symbols = {p.name: f"${p.symbol or p.name}$" for t in theorems for p in t.hypotheses.signature}
    bound_symbols = {k: f"${b.symbol}$" for t in theorems for k, b in t.bounds.items()}
    head = (["Theorem"] + (["variant"] if by_variant else []) + [symbols[n] for n in names]
            + [bound_symbols[k] for k in keys])
    lines = [f"\\begin{{tabular}}{{l{'l' if by_variant else ''}{'r' * len(names)}{'r' * len(keys)}}}",
             "\\toprule", " & ".join(head) + " \\\\", "\\midrule"]
    previous = None
    for r in rows:
        if previous is not None and r["theorem"] != previous:
            lines.append("\\midrule")
        previous = r["theorem"]
        cells = ([_latex_number(r[k], _MARKS.get(r["status"][k])) for k in keys] if r["applicable"]
                 else [f"\\multicolumn{{{len(keys)}}}{{c}}{{n/a}}"])
        lines.append(" & ".join([r["theorem"]] + ([r["variant"]] if by_variant else [])
                                + [_latex_input(r.get(n)) for n in names] + cells) + " \\\\")
    return lines + ["\\bottomrule", "\\end{tabular}"]


# ---- sweeps to CSV, column by column -------------------------------------------------------------

def sweep_csv(theorems: Iterable[Theorem | str], ints: Mapping[str, np.ndarray | None],
              combos: Sequence[Mapping[str, Fraction | None]], combo: np.ndarray, *,
              exact: bool = False, normalize: str | None = None, strict: bool = False,
              variant: str = "printed") -> str:
    """``format_rows(bound_rows(theorems, points, ...), "csv")`` for a sweep given by columns,
    byte for byte, without a Python dict per row: the integer parameters as int64 arrays
    (``ints``: name -> array, or None when not given), the other parameters as a few distinct
    combinations (``combos``: dicts name -> Fraction or None) and each point's index into them
    (``combo``). The points must lie in the domain (as the command line's parsers ensure).

    Conditions are decided exactly: a relation of integers only over the int arrays, one of the
    other parameters once per combination, a mixed one point by point; a reason is built once per
    distinct value of what its condition reads. Floats are evaluated on the same arrays as
    :func:`bound_rows` evaluates them, so every value is the same float.
    """
    chosen = [get_theorem(t) for t in theorems]
    params, keys = columns_of(chosen)
    integer = {p.name for t in chosen for p in t.hypotheses.signature if p.integer}
    combo = np.asarray(combo, dtype=np.int64)
    cells = []
    for name in params:
        if name in integer:
            column = ints.get(name)
            cells.append([""] * len(combo) if column is None else column.astype(str).tolist())
        else:
            texts = ["" if c.get(name) is None else str(c[name]) for c in combos]
            cells.append([texts[c] for c in combo.tolist()])
    heads = list(map(",".join, zip(*cells))) if cells else [""] * len(combo)
    lines = [_csv_line(["theorem", *params, "applicable", "reason", *keys, "variant"]
                       + [f"{k}_status" for k in keys] + [f"{k}_holds_for" for k in keys])]
    empty = "," * (len(keys) - 1)
    for theorem in chosen:
        reasons = _sweep_reasons(theorem, ints, combos, combo, strict, params)
        live = np.array([i for i, r in enumerate(reasons) if r is None], dtype=np.int64)
        quoted: dict[str, str] = {}
        flags = ["true," if r is None else "false," + (quoted.get(r) or quoted.setdefault(r, _csv_line([r])))
                 for r in reasons]
        by_variant = []
        for name in variants_for(theorem, variant):
            computed = iter(_sweep_values(theorem, ints, combos, combo, live, exact, name, normalize))
            cells_ = [empty if r is not None else next(computed) for r in reasons]
            bounds_ = [(b, b.variant(name)) for b in (theorem.bounds[k] for k in keys)]
            tail = _csv_line([name, *(v.status for _, v in bounds_), *((b.holds_for(v) or "") for b, v in bounds_)])
            number = _csv_line([theorem.number])
            by_variant.append([f"{number},{h},{f},{c},{tail}" for h, f, c in zip(heads, flags, cells_)])
        lines += [line for group in zip(*by_variant) for line in group]
    return "\n".join(lines)


def _csv_line(cells: Sequence[str]) -> str:
    """One CSV line as ``csv.writer`` writes it (quoting where a cell needs it)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()[:-1]


def _sweep_point(ints: Mapping[str, np.ndarray | None], combos: Sequence[Mapping[str, Any]],
                 combo: np.ndarray, i: int, names: Iterable[str]) -> dict[str, Any]:
    """Point ``i`` of a sweep as an exact point (ints and Fractions)."""
    out: dict[str, Any] = {}
    for name in names:
        if name in ints:
            column = ints[name]
            out[name] = None if column is None else int(column[i])
        else:
            out[name] = combos[int(combo[i])].get(name)
    return out


def _sweep_reasons(theorem: Theorem, ints: Mapping[str, np.ndarray | None],
                   combos: Sequence[Mapping[str, Any]], combo: np.ndarray, strict: bool,
                   params: Sequence[str]) -> list[str | None]:
    """Each point's not-applicable reason (None where it satisfies every hypothesis), as
    :func:`bound_rows` gives it; with ``strict``, NotApplicable at the first such point."""
    n = len(combo)
    hyp = theorem.hypotheses
    first = np.full(n, -1, dtype=np.int64)  # index of the first broken hypothesis
    checks: list[Any] = []
    for par in hyp.parameters:
        if par.name in ints:
            missing = np.full(n, ints[par.name] is None)
        else:
            missing = np.array([c.get(par.name) is None for c in combos], dtype=bool)[combo]
        checks.append(missing)
    for condition in hyp.conditions:
        ok = np.ones(n, dtype=bool)
        for relation in condition.relations:
            ok &= _relation_holds(relation, ints, combos, combo, first == -1)
        checks.append(~ok)
    for index, bad in enumerate(checks):
        first[(first == -1) & bad] = index
    bad_points = np.flatnonzero(first >= 0)
    if strict and bad_points.size:
        p = _sweep_point(ints, combos, combo, int(bad_points[0]), params)
        why = broken(hyp, p)
        assert why is not None
        describe = ", ".join(f"{k}={p[k]}" for k in params if p[k] is not None)
        flags = "/".join("{" + k + "}" for k in why[1])
        raise NotApplicable(f"{flags}: {why[0]} ({theorem.name}, at {describe})", why[1])
    reasons: list[str | None] = [None] * n
    cache: dict[Any, str] = {}
    n_params = len(hyp.parameters)
    for i in bad_points.tolist():
        index = int(first[i])
        if index < n_params:
            key: Any = ("missing", index)
            if key not in cache:
                cache[key] = f"{theorem.name}: {hyp.parameters[index].missing()}"
        else:
            condition = hyp.conditions[index - n_params]
            p = _sweep_point(ints, combos, combo, i, condition.names())
            key = (index, tuple(p.values()))
            if key not in cache:
                cache[key] = f"{theorem.name}: {condition.reason(p, format_value)}"
        reasons[i] = cache[key]
    return reasons


def _relation_holds(relation: Any, ints: Mapping[str, np.ndarray | None],
                    combos: Sequence[Mapping[str, Any]], combo: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether ``relation`` holds at each point, exactly (False where a parameter is missing);
    decided only where ``wanted`` (elsewhere an earlier hypothesis already failed)."""
    names = relation.names()
    if all(n in ints for n in names):
        if any(ints[n] is None for n in names):
            return np.zeros(len(combo), dtype=bool)
        # int64 columns (the values are below 2^53): every operation here is exact in NumPy
        return np.asarray(relation.holds({n: ints[n] for n in names}, "numpy"), dtype=bool) | ~wanted
    if not any(n in ints for n in names):
        per_combo = np.array([all(c.get(n) is not None for n in names) and bool(relation.holds(c))
                              for c in combos], dtype=bool)
        return per_combo[combo]
    out = np.ones(len(combo), dtype=bool)
    for i in np.flatnonzero(wanted).tolist():
        p = _sweep_point(ints, combos, combo, i, names)
        out[i] = all(v is not None for v in p.values()) and bool(relation.holds(p))
    return out


def _sweep_values(theorem: Theorem, ints: Mapping[str, np.ndarray | None],
                  combos: Sequence[Mapping[str, Any]], combo: np.ndarray, live: np.ndarray,
                  exact: bool, variant: str, normalize: str | None) -> list[str]:
    """The CSV cells of the bounds at the live points, in order, each point's joined by commas."""
    names = [p.name for p in theorem.hypotheses.signature]
    keys = list(theorem.bounds)
    if exact or not len(live):
        points = [_sweep_point(ints, combos, combo, int(i), names) for i in live]
        out = _values(theorem, points, exact, variant, normalize) if points else []
        return [",".join(_text(v[k]) for k in keys) for v in out]
    live_combo = combo[live]
    columns = []
    for expr in theorem.hypotheses.arguments:
        if all(n in ints for n in expr.names()):
            exact_column = expr.evaluate({n: np.asarray(ints[n])[live] for n in expr.names()}, "numpy")
            column = np.asarray(exact_column, dtype=np.int64)
            if column.size and np.abs(column).max() >= MAX_FLOAT_INTEGER:
                raise BoundsInputError(f"{expr.text()} = {int(np.abs(column).max())} {FLOAT_INTEGER_LIMIT}",
                                       expr.names())
            columns.append(column.astype(float))
        else:
            per_combo = np.array([to_float(Fraction(expr.evaluate(c))) if all(c.get(n) is not None for n in expr.names())
                                  else np.nan for c in combos])
            columns.append(per_combo[live_combo])

    def undefined(bad: np.ndarray) -> None:
        j = int(np.argmax(bad))
        p = _sweep_point(ints, combos, combo, int(live[j]), names)
        _float_range_error(theorem, [p], [theorem.arguments(p)], [c[j:j + 1] for c in columns], 0,
                           normalize or "")

    result = values(theorem, columns, exact=False, variant=variant, normalize=normalize, undefined=undefined)
    # repr is _text for floats (the shortest round-trip repr; inf is "inf"; NaN never occurs)
    return list(map(",".join, zip(*(map(float.__repr__, result[k].tolist()) for k in keys))))
