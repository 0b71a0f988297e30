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

from .evaluation import broken, get_theorem, values, variants_for
from .exact import RationalBracket
from .params import BoundsInputError, NotApplicable, exact_point, to_float
from .statement import Theorem

__all__ = ["bound_rows", "format_rows", "FORMATS", "unlimited_int_digits", "columns_of"]

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
    with unlimited_int_digits():
        return formatter(rows, normalize)


@contextlib.contextmanager
def unlimited_int_digits() -> Iterator[None]:
    """Lift Python's 4300-digit limit on int <-> str conversion for the duration: exact values for
    K = 10,000, and inputs like ``--alpha 1e5000``, have more digits."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
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
