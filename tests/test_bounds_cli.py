"""``binomgbml bounds``: defaults (Figure 2), sweeps, formats, bad input, start-up imports."""

import csv
import io
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import binomgbml
from bounds.cli import parse_integers, parse_rationals, parse_theorems
from test_bounds_formulas import reference_bounds

ROOT = Path(__file__).resolve().parents[1]
FIGURE_2 = dict(K=5, alpha=Fraction(1, 4), H=1, h=Fraction(1, 10), M=1)
ROW_KEYS = {"theorem", "K", "L", "alpha", "H", "h", "M", "applicable", "reason", "fo", "trunc", "binom",
            "variant", "status", "holds_for"}
CSV_KEYS = ROW_KEYS - {"status", "holds_for"} | {f"{k}_{c}" for k in ("fo", "trunc", "binom")
                                                 for c in ("status", "holds_for")}


def run(capsys, *argv):
    status = binomgbml.main(["bounds", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def rows(capsys, *argv):
    status, out, err = run(capsys, *argv, "--format", "json")
    assert status == 0, err
    data = json.loads(out)
    assert set(data) == {"rows"}
    for row in data["rows"]:
        assert set(row) == ROW_KEYS
    return data["rows"]


def test_no_flags_prints_the_figure_2_table(capsys):
    status, out, err = run(capsys)
    assert status == 0 and err == ""
    lines = out.strip().splitlines()
    assert lines[1].split()[:10] == ["theorem", "K", "L", "alpha", "H", "h", "M", "fo", "trunc", "binom"]
    body = [line.split() for line in lines[2:]]
    assert len(body) == 18  # 3 theorems x L = 0..5
    assert [(r[0], r[2]) for r in body] == [(t, str(L)) for t in ("3.6", "3.8", "3.10") for L in range(6)]
    not_applicable = [r for r in body if "n/a" in r]
    assert [(r[0], r[2]) for r in not_applicable] == [("3.10", "0"), ("3.10", "5")]
    for r in body:
        if "n/a" not in r:
            ref = reference_bounds(r[0], L=int(r[2]), **FIGURE_2)
            assert [float(v) for v in r[7:10]] == pytest.approx([float(ref[k]) for k in ("fo", "trunc", "binom")], rel=1e-5)


def test_json_matches_schema_and_exact_values(capsys):
    data = rows(capsys, "--exact")
    assert len(data) == 18
    for row in data:
        assert row["K"] == 5 and row["alpha"] == "1/4" and row["H"] == "1" and row["h"] == "1/10" and row["M"] == 1
        if row["applicable"]:
            assert row["reason"] is None
            ref = reference_bounds(row["theorem"], L=row["L"], **FIGURE_2)
            assert {k: Fraction(row[k]) for k in ("fo", "trunc", "binom")} == ref
            assert all(isinstance(row[k], str) for k in ("fo", "trunc", "binom"))
        else:
            assert row["theorem"] == "3.10" and row["L"] in (0, 5)
            assert "min(L, K-L)" in row["reason"] and row["fo"] is row["trunc"] is row["binom"] is None


def test_json_numeric_values_are_floats_and_inf_is_a_json_number(capsys):
    data = rows(capsys, "--K", "5", "--L", "2", "--theorem", "3.6")
    assert data[0]["h"] is None and data[0]["M"] is None
    ref = reference_bounds("3.6", 5, 2, "1/4", 1)
    assert [data[0][k] for k in ("fo", "trunc", "binom")] == pytest.approx([float(v) for v in ref.values()], rel=1e-13)
    status, out, _ = run(capsys, "--K", "10000", "--L", "1", "--theorem", "3.6", "--format", "json")
    assert "NaN" not in out and "Infinity" not in out
    assert json.loads(out)["rows"][0]["fo"] == float("inf")


def test_normalize_fo_divides_by_the_same_theorems_fo(capsys):
    data = rows(capsys, "--normalize", "fo", "--exact", "--theorem", "3.6,3.8")
    for row in data:
        ref = reference_bounds(row["theorem"], L=row["L"], **FIGURE_2)
        assert Fraction(row["fo"]) == 1
        assert Fraction(row["binom"]) == ref["binom"] / ref["fo"]
    numeric = rows(capsys, "--normalize", "fo", "--K", "10000", "--L", "9999", "--theorem", "3.6")
    assert numeric[0]["fo"] == 1.0 and 0 < numeric[0]["trunc"] < 1  # inf/inf handled in log space


def test_sweeps_cover_every_combination_and_skip_l_above_k(capsys):
    data = rows(capsys, "--K", "2:4", "--L", "3,1", "--alpha", "0.1,1/8", "--theorem", "3.6")
    points = {(r["K"], r["L"], r["alpha"]) for r in data}
    expected = {(K, L, a) for K in (2, 3, 4) for L in (3, 1) for a in ("1/10", "1/8") if L <= K}
    assert points == expected and len(data) == len(expected)
    default_l = rows(capsys, "--K", "1,3", "--theorem", "3.6")
    assert [(r["K"], r["L"]) for r in default_l] == [(1, 0), (1, 1), (3, 0), (3, 1), (3, 2), (3, 3)]


def test_theorem_3_10_without_h_or_m_is_not_applicable(capsys):
    data = rows(capsys, "--K", "5", "--L", "2")
    by_theorem = {r["theorem"]: r for r in data}
    assert by_theorem["3.6"]["applicable"] and by_theorem["3.8"]["applicable"]
    assert not by_theorem["3.10"]["applicable"] and "h is not given" in by_theorem["3.10"]["reason"]
    only_h = rows(capsys, "--K", "5", "--L", "2", "--h", "0.1")
    assert "M is not given" in only_h[-1]["reason"]


def test_several_theorems_give_not_applicable_rows(capsys):
    data = rows(capsys, "--alpha", "2", "--L", "1", "--h", "0.5", "--M", "1")
    by_theorem = {r["theorem"]: r for r in data}
    assert by_theorem["3.6"]["applicable"]
    assert "alpha*H = 2 > 1" in by_theorem["3.8"]["reason"] and "alpha*H = 2 > 1" in by_theorem["3.10"]["reason"]


def test_csv_parses(capsys):
    status, out, _ = run(capsys, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and len(table) == 18 and set(table[0]) == CSV_KEYS
    assert table[0]["applicable"] == "true" and table[12]["applicable"] == "false"
    assert float(table[1]["binom"]) == pytest.approx(821 / 1024, rel=1e-13)
    assert table[12]["binom"] == "" and "min(L, K-L)" in table[12]["reason"]


def test_latex_is_a_booktabs_table(capsys):
    status, out, _ = run(capsys, "--format", "latex", "--exact")
    assert status == 0
    for command in ("\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}", "\\end{tabular}"):
        assert command in out
    assert out.index("\\toprule") < out.index("\\midrule") < out.index("\\bottomrule")
    assert "\\frac{821}{1024}" in out and "n/a" in out
    body = out[out.index("\\midrule"):out.index("\\bottomrule")]
    assert body.count("\\\\") == 18
    numeric = run(capsys, "--format", "latex", "--K", "200", "--L", "150", "--theorem", "3.6")[1]
    assert "\\times 10^{" in numeric


def test_exact_large_k_prints_full_rationals(capsys):
    data = rows(capsys, "--exact", "--K", "10000", "--L", "9998", "--theorem", "3.6")
    x = Fraction(1, 4)
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # the denominator 4^10000 has 6021 digits
    try:
        assert Fraction(data[0]["binom"]) == 10_000 * x ** 9_999 + x ** 10_000
    finally:
        sys.set_int_max_str_digits(limit)


@pytest.mark.parametrize("argv,needles", [
    (["--K", "0"], ["--K", "0", "positive integer"]),
    (["--K", "-3"], ["--K", "-3", "positive integer"]),
    (["--K", "five"], ["--K", "'five'", "integer"]),
    (["--K", "1,,2"], ["--K", "''"]),
    (["--K", "1:2:3"], ["--K", "'1:2:3'"]),
    (["--K", "5", "--L", "6"], ["--L", "6", "0..K = 0..5"]),
    (["--L", "-1"], ["--L", "-1", "integer >= 0"]),
    (["--L", "4:2"], ["--L", "'4:2'", "a <= b"]),
    (["--K", "3", "--L", "4:6"], ["--L", "4:6", "0..K"]),
    (["--alpha", "0"], ["--alpha", "0", "not positive"]),
    (["--alpha", "-0.5"], ["--alpha", "-0.5", "not positive"]),
    (["--alpha", "-1/4"], ["--alpha", "-1/4", "not positive"]),  # not mistaken for an option
    (["--L", "-1:2"], ["--L", "-1", "integer >= 0"]),
    (["--K", "1:100000"], ["--K/--L", "5,000,150,000 parameter points", "more than 1,000,000"]),
    (["--K", "1:10000000000000"], ["--K", "'1:10000000000000'", "more than 1,000,000 values"]),
    (["--alpha", "1e5000", "--theorem", "3.8"], ["--alpha/--H", "alpha*H = 1000", "0 < alpha <= 1/H"]),
    (["--alpha", "1e400", "--normalize", "fo"], ["--normalize fo", "alpha*H", "10^400", "--exact"]),
    (["--alpha", "1e-400", "--normalize", "fo", "--theorem", "3.8"], ["--normalize fo", "10^-400", "--exact"]),
    (["--H", "abc"], ["--H", "'abc'", "not a number"]),
    (["--H", "inf"], ["--H", "'inf'", "finite"]),
    (["--alpha", "nan"], ["--alpha", "'nan'", "not a number"]),
    (["--alpha", "1/0"], ["--alpha", "'1/0'", "zero"]),
    (["--h", "-1"], ["--h", "-1", "not positive"]),
    (["--M", "0"], ["--M", "0", "positive integer"]),
    (["--format", "xml"], ["--format", "'xml'", "table, json, csv, latex"]),
    (["--theorem", "3.7"], ["--theorem", "'3.7'", "3.6, 3.8, 3.10, all"]),
    (["--normalize", "tr"], ["--normalize", "'tr'", "'fo'"]),
    (["--frobnicate"], ["--frobnicate"]),
    (["--theorem", "3.8", "--alpha", "2"], ["--alpha/--H", "alpha*H = 2 > 1", "0 < alpha <= 1/H"]),
    (["--theorem", "3.10", "--L", "2", "--h", "2", "--M", "1"], ["--h", "h = 2 > H = 1", "0 < h <= H"]),
    (["--theorem", "3.10", "--L", "2", "--h", "0.1", "--M", "3"], ["--M", "M = 3", "min(L, K-L)"]),
    (["--theorem", "3.10", "--L", "2"], ["--h", "not given"]),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needles):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("binomgbml bounds: error: ")
    for needle in needles:
        assert needle in err, (needle, err)


def test_alpha_h_beyond_float64_gives_inf_or_0_never_a_traceback_or_nan(capsys):
    # alpha*H = 10^400 is a finite rational; in floats the Theorem 3.6 bounds are inf (L < K) or 0
    data = rows(capsys, "--alpha", "1e400", "--K", "5", "--L", "1,5", "--theorem", "3.6")
    assert [[r[k] for k in ("fo", "trunc", "binom")] for r in data] == [[float("inf")] * 3,
                                                                      [float("inf"), 0.0, 0.0]]
    # more than Python's default 4300-digit limit on int -> str: still rows, not an error
    huge = rows(capsys, "--alpha", "1e5000", "--K", "5", "--L", "1", "--theorem", "3.6")[0]
    assert huge["alpha"] == "1" + "0" * 5000
    assert huge["fo"] == float("inf")
    # alpha*H = 10^-400: (11a) = 5*10^-400 + ... is below float64, so 0.0 (and exactly so in --exact)
    tiny = rows(capsys, "--alpha", "1e-400", "--K", "5", "--L", "1", "--theorem", "3.6")[0]
    assert tiny["fo"] == 0.0
    exact = rows(capsys, "--alpha", "1e-400", "--K", "5", "--L", "1", "--theorem", "3.6", "--exact",
                 "--normalize", "fo")[0]
    x = Fraction(1, 10 ** 400)
    assert Fraction(exact["trunc"]) == ((1 + x) ** 5 - (1 + x)) / ((1 + x) ** 5 - 1)


def test_parsers():
    assert parse_integers("--K", "1:3,7,2", 1) == [1, 2, 3, 7]
    assert parse_integers("--L", "0", 0) == [0]
    assert parse_rationals("--alpha", "0.25, 1/3,1e-2") == [Fraction(1, 4), Fraction(1, 3), Fraction(1, 100)]
    assert parse_theorems("all") == ["3.6", "3.8", "3.10"]
    assert parse_theorems("3.10,3.6") == ["3.10", "3.6"]


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_import_bounds_and_the_cli_do_not_import_torch_or_sympy():
    proc = _python("import sys, bounds, bounds.cli; bounds.evaluate('3.6', 5, 1, 0.25, 1.0);"
                   "print('torch' in sys.modules, 'sympy' in sys.modules)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_python_dash_m_bounds_works_and_fails_like_the_dispatcher():
    ok = subprocess.run([sys.executable, "-m", "bounds", "--K", "3", "--L", "1", "--theorem", "3.6"],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and ok.stdout.splitlines()[2].split()[:3] == ["3.6", "3", "1"]
    bad = subprocess.run([sys.executable, "-m", "bounds", "--K", "0"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--K" in bad.stderr


# ---- variants: printed (default), corrected, all -------------------------------------------------

def test_printed_values_that_are_false_in_general_are_marked_in_every_format(capsys):
    status, out, _ = run(capsys, "--theorem", "3.8", "--K", "5", "--L", "1")
    assert status == 0 and "(12a), (12b) false in general (hold for commuting Hessians)" in out
    row = rows(capsys, "--theorem", "3.8", "--K", "5", "--L", "1")[0]
    assert row["variant"] == "printed"
    assert row["status"] == {"fo": "false in general", "trunc": "false in general", "binom": "holds"}
    assert row["holds_for"] == {"fo": "commuting Hessians", "trunc": "commuting Hessians", "binom": None}
    _, out, _ = run(capsys, "--theorem", "3.8", "--K", "5", "--L", "1", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert set(table[0]) == CSV_KEYS
    assert (table[0]["fo_status"], table[0]["fo_holds_for"], table[0]["binom_status"]) == (
        "false in general", "commuting Hessians", "holds")
    _, out, _ = run(capsys, "--theorem", "3.8", "--K", "5", "--L", "1", "--format", "latex", "--exact")
    body = out[out.index("\\midrule"):out.index("\\bottomrule")]
    assert body.count("^{\\dagger}") == 2 and "$\\frac{5}{8}$" in body  # (12c) holds: unmarked
    legend = out[out.index("\\end{tabular}"):out.index("\\end{table}")]
    assert "$\\dagger$" in legend and "(12a), (12b)" in legend and "commuting Hessians" in legend


def test_variant_corrected_prints_the_proven_replacements(capsys):
    data = rows(capsys, "--exact", "--variant", "corrected")
    assert {r["variant"] for r in data} == {"corrected"} and len(data) == 18
    for r in data:
        if not r["applicable"]:
            continue
        ref = reference_bounds(r["theorem"], L=r["L"], **FIGURE_2)
        x, K, L = Fraction(1, 4), 5, r["L"]
        if r["theorem"] == "3.8":  # docs/errata.md V1, V2
            assert (Fraction(r["fo"]), Fraction(r["trunc"])) == (min(K * x, 2), min((K - L) * x, 2))
            assert r["status"] == {"fo": "corrected", "trunc": "corrected", "binom": "holds"}
        else:
            assert Fraction(r["trunc"]) == ref["trunc"] and Fraction(r["binom"]) == ref["binom"]
        if r["theorem"] == "3.6":
            assert Fraction(r["fo"]) == ref["fo"] and set(r["status"].values()) == {"holds"}


def test_variant_all_puts_each_corrected_row_under_its_printed_row(capsys):
    data = rows(capsys, "--variant", "all", "--K", "3", "--L", "1", "--h", "1/10", "--M", "1")
    assert [(r["theorem"], r["variant"]) for r in data] == [
        ("3.6", "printed"), ("3.8", "printed"), ("3.8", "corrected"), ("3.10", "printed"), ("3.10", "corrected")]
    status, out, _ = run(capsys, "--variant", "all", "--K", "3", "--L", "1", "--theorem", "3.8")
    lines = out.strip().splitlines()
    assert lines[1].split()[:3] == ["theorem", "variant", "K"]
    assert [line.split()[1] for line in lines[2:]] == ["printed", "corrected"]
    assert "(12a), (12b) corrected" in lines[3]
    status, out, _ = run(capsys, "--variant", "all", "--K", "3", "--L", "1", "--theorem", "3.8",
                         "--format", "latex")
    assert "^{\\ddagger}" in out and "corrected bound, not in the paper" in out


def test_bad_variant_is_one_line_exit_2(capsys):
    status, out, err = run(capsys, "--variant", "best")
    assert status == 2 and out == "" and "--variant: 'best' is not one of printed, corrected, all" in err
