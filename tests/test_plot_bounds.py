"""Plots of the bounds: Figure 2 and `binomgbml plot bounds`. Files are checked byte-wise (vector
PDF with TrueType fonts only, no raster image), and every CSV number against the bounds computed
here independently in exact arithmetic (fractions and math.comb)."""

import csv
import math
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import binomgbml
from bounds.plotting import bounds_figure, presets
from bounds.plotting.figures import bound_point
from bounds.plotting.output import LOG_RANGE, log_drawable


def theorem_3_6(K, L, x):
    """eq. (11a)-(11c) with x = alpha*H."""
    return {"fo": (1 + x) ** K - 1, "trunc": (1 + x) ** K - (1 + x) ** L,
            "binom": sum(math.comb(K, l) * x ** l for l in range(L + 1, K + 1))}


def theorem_3_8(K, L, x):
    """eq. (12a)-(12c)."""
    return {"fo": 1 - (1 - x) ** K, "trunc": 1 - (1 - x) ** (K - L),
            "binom": math.comb(K, L + 1) * x ** (L + 1)}


def theorem_3_10(K, L, x, y, M):
    """eq. (13a)-(13c) with y = alpha*h."""
    return {"fo": max((1 + x) ** (K - M) * (1 - y) ** M - 1, 1 - (1 - x) ** K),
            "trunc": ((1 + x) ** (K - M) - (1 + x) ** (L - M)) * (1 - y) ** M,
            "binom": x ** (L + 1) * sum(math.comb(K - l, L) * (1 - y) ** (l - 1) for l in range(1, M + 1))
            + (1 - y) ** M * sum(math.comb(K - M, l) * x ** l for l in range(L + 1, K - M + 1))}


def expected(row):
    K, L, M = int(row["K"]), int(row["L"]), int(row["M"])
    x = Fraction(row["alpha"]) * Fraction(row["H"])
    y = Fraction(row["alpha"]) * Fraction(row["h"])
    values = {"3.6": lambda: theorem_3_6(K, L, x), "3.8": lambda: theorem_3_8(K, L, x),
              "3.10": lambda: theorem_3_10(K, L, x, y, M)}[row["theorem"]]()
    if row["normalize"] == "fo":
        values = {e: v / values["fo"] for e, v in values.items()}
    return {e: float(v) for e, v in values.items()}


def read_csv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def run_cli(argv, capsys):
    status = binomgbml.main(["plot", *argv])
    return status, capsys.readouterr()


@pytest.fixture(scope="module")
def figure2_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("figure2")
    assert binomgbml.main(["plot", "figure2", "--out", str(out), "--data"]) == 0
    return out


def test_figure2_pdf_is_vector_with_truetype_fonts_only(figure2_dir):
    pdf = (figure2_dir / "figure2.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert b"/FontType 3" not in pdf and b"/Type3" not in pdf
    assert b"/Subtype /Image" not in pdf and b"/Subtype/Image" not in pdf
    font_types = set(re.findall(rb"/Subtype */(\w+)", pdf)) & {b"TrueType", b"CIDFontType2", b"Type1"}
    assert font_types and font_types <= {b"TrueType", b"CIDFontType2"}  # Type 42 = TrueType


def test_figure2_svg_png_and_caption(figure2_dir):
    svg = (figure2_dir / "figure2.svg").read_text()
    assert "<svg" in svg and "<image" not in svg
    assert (figure2_dir / "figure2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    caption = (figure2_dir / "figure2.txt").read_text()
    assert "(c) L = 0 left out" in caption and "(c) L = 5 left out" in caption
    assert "min(L, K-L)" in caption


def test_figure2_csv_equals_independent_exact_bounds(figure2_dir):
    rows = read_csv(figure2_dir / "figure2.csv")
    assert [(r["panel"], r["theorem"]) for r in rows] == (
        [("a", "3.6")] * 6 + [("b", "3.8")] * 6 + [("c", "3.10")] * 6)
    for row in rows:
        assert (row["K"], row["alpha"], row["H"], row["h"], row["M"]) == ("5", "1/4", "1", "1/10", "1")
        if row["theorem"] == "3.10" and row["L"] in ("0", "5"):  # 1 <= M <= min(L, K-L) fails
            assert row["applicable"] == "False" and "min(L, K-L)" in row["reason"]
            assert row["fo"] == row["trunc"] == row["binom"] == ""
            continue
        assert row["applicable"] == "True" and row["normalize"] == "fo"
        want = expected(row)
        for e in ("fo", "trunc", "binom"):
            assert float(row[e]) == want[e], (row, e)  # both correctly rounded from exact values
    # the figure's message, as numbers: binom below trunc for every 1 <= L < K
    for row in rows:
        if row["applicable"] == "True" and 1 <= int(row["L"]) < 5:
            assert float(row["binom"]) < float(row["trunc"])


def test_plot_bounds_overlays_and_csv(tmp_path, capsys):
    status, out = run_cli(["bounds", "--vs", "K", "--K", "1:8", "--L", "1", "--alpha", "1/8,1/4",
                           "--theorem", "3.6,3.8", "--out", str(tmp_path), "--data",
                           "--formats", "pdf,png"], capsys)
    assert status == 0, out.err
    assert out.out.split() == [str(tmp_path / f"bounds_vs_K.{e}") for e in ("pdf", "png", "txt", "csv")]
    rows = read_csv(tmp_path / "bounds_vs_K.csv")
    assert len(rows) == 2 * 2 * 8  # theorems x alphas x K
    assert {r["panel"] for r in rows} == {"0", "1", "2", "3"}
    for row in rows:
        assert row["normalize"] == "" and row["applicable"] == "True"
        want = expected(row)
        for e in ("fo", "trunc", "binom"):
            assert float(row[e]) == want[e]
    assert not (tmp_path / "bounds_vs_K.svg").exists()


def test_plot_bounds_vs_K_sweeps_1_to_10_by_default(tmp_path, capsys):
    status, out = run_cli(["bounds", "--vs", "K", "--L", "1,2", "--out", str(tmp_path), "--data",
                           "--formats", "png"], capsys)
    assert status == 0, out.err
    rows = read_csv(tmp_path / "bounds_vs_K.csv")
    assert [(r["K"], r["L"]) for r in rows] == (
        [(str(K), "1") for K in range(1, 11)] + [(str(K), "2") for K in range(2, 11)])  # L <= K
    for row in rows:
        assert float(row["binom"]) == expected(row)["binom"]


def test_plot_bounds_vs_alpha_skips_points_outside_theorem_3_8(tmp_path, capsys):
    status, out = run_cli(["bounds", "--vs", "alpha", "--alpha", "1/4,1/2,1,2", "--theorem", "3.8",
                           "--L", "2", "--out", str(tmp_path), "--data", "--name", "a"], capsys)
    assert status == 0, out.err
    rows = read_csv(tmp_path / "a.csv")
    assert [r["applicable"] for r in rows] == ["True", "True", "True", "False"]  # alpha*H <= 1
    assert "alpha = 2 left out" in (tmp_path / "a.txt").read_text()
    for row in rows[:3]:
        assert float(row["binom"]) == expected(row)["binom"]


@pytest.mark.parametrize("argv, needle", [
    (["bounds", "--vs", "Q", "--out", "D"], "--vs"),
    (["bounds", "--vs", "L"], "--out"),
    (["bounds", "--vs", "L", "--out", "D", "--K", "0"], "--K: 0"),
    (["bounds", "--vs", "L", "--out", "D", "--alpha", "-1"], "--alpha: -1"),
    (["bounds", "--vs", "L", "--out", "D", "--alpha", "1/0"], "--alpha: '1/0'"),
    (["bounds", "--vs", "L", "--out", "D", "--H", "abc"], "--H: 'abc'"),
    (["bounds", "--vs", "alpha", "--out", "D"], "--alpha"),
    (["bounds", "--vs", "K", "--out", "D", "--K", "5"], "--K: '5' gives one value"),  # a 1-point "curve"
    (["bounds", "--vs", "L", "--out", "D", "--L", "3"], "--L: '3' gives one value"),
    (["bounds", "--vs", "L", "--out", "D", "--theorem", "3.7"], "--theorem: '3.7'"),
    (["bounds", "--vs", "L", "--out", "D", "--estimators", "fo,best"], "--estimators: 'best'"),
    (["bounds", "--vs", "L", "--out", "D", "--formats", "gif"], "--formats: 'gif'"),
    (["bounds", "--vs", "L", "--out", "D", "--theorem", "3.10", "--M", "3"], "--theorem 3.10"),
    (["bounds", "--vs", "L", "--out", "D", "--normalize", "max"], "--normalize"),
    (["figure2", "--out", "D", "--K", "5,6"], "--K: '5,6'"),
    (["figure2", "--out", ""], "--out ''"),
    (["figure2", "--out", "D", "--preset", "a4"], "--preset"),
    (["figure2", "--out", "D", "--usetex"], "--usetex"),
    (["poster", "--out", "D"], "poster"),
])
def test_bad_input_is_one_line_exit_2(argv, needle, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(presets.shutil, "which", lambda name: None)  # no LaTeX, whatever the machine
    monkeypatch.chdir(tmp_path)
    status, out = run_cli(argv, capsys)
    assert status == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.err
    assert not (tmp_path / "D").exists()  # nothing written on bad input


def test_values_beyond_the_log_axis_range_are_in_the_csv_not_drawn(tmp_path, capsys):
    # fo at alpha = 1e56 is about 1e280: drawn, it made matplotlib's log locator overflow (traceback)
    status, out = run_cli(["bounds", "--vs", "alpha", "--alpha", "1/4,1e56", "--L", "0",
                           "--out", str(tmp_path), "--data", "--formats", "png"], capsys)
    assert status == 0, out.err
    rows = read_csv(tmp_path / "bounds_vs_alpha.csv")
    assert [r["alpha"] for r in rows] == ["1/4", str(10 ** 56)]
    for row in rows:
        want = expected(row)
        assert [float(row[e]) for e in ("fo", "trunc", "binom")] == [
            want[e] for e in ("fo", "trunc", "binom")]
    assert 1e279 < float(rows[1]["fo"]) < 1e281
    caption = (tmp_path / "bounds_vs_alpha.txt").read_text()
    assert "3 nonzero value(s) outside 1e-200 to 1e+200" in caption  # fo, trunc, binom at 1e56


def test_api_reads_floats_as_decimals_and_names_bad_values():
    point = bound_point("3.6", {"K": 5, "L": 2, "alpha": 0.1, "H": 1})
    assert point.params["alpha"] == Fraction(1, 10)  # not the binary 3602879701896397/2**55
    want = theorem_3_6(5, 2, Fraction(1, 10))
    assert point.values == {e: float(v) for e, v in want.items()}
    for alpha, needle in (("abc", "alpha = 'abc'"), (math.nan, "alpha = nan"), ([], "alpha = []")):
        with pytest.raises(ValueError, match=re.escape(needle)):
            bound_point("3.6", {"K": 5, "L": 2, "alpha": alpha, "H": 1})
    with pytest.raises(ValueError, match="no --L value given"):
        bounds_figure(["3.6"], "L", [], {"K": 5, "alpha": "1/4", "H": 1})


def test_log_drawable_keeps_only_the_reliable_range():
    x, y = log_drawable([0, 1, 2, 3, 4, 5, 6], [0.0, 1e-201, 1e-200, 1.0, 1e200, 1e201, math.inf])
    assert x.tolist() == [2, 3, 4] and y.tolist() == [1e-200, 1.0, 1e200]
    assert LOG_RANGE == (1e-200, 1e200)


def test_out_that_is_a_file_is_an_error(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("")
    status, out = run_cli(["figure2", "--out", str(target)], capsys)
    assert status == 2 and "exists and is not a directory" in out.err


def test_presets_are_plain_rcparams_dicts():
    for name, width in (("iclr", 5.5), ("neurips", 5.5), ("column", 3.25)):
        rc = presets.PRESETS[name](ncols=2)
        assert rc["figure.figsize"][0] == width
        assert rc["figure.figsize"][1] == pytest.approx(width / 2 / ((1 + 5 ** 0.5) / 2))
        assert rc["pdf.fonttype"] == 42 and rc["ps.fonttype"] == 42
        assert rc["text.usetex"] is False and rc["font.family"] == "serif"
    assert presets.iclr(height_to_width=1.0)["figure.figsize"] == (5.5, 5.5)
    with pytest.raises(ValueError, match="width_in"):
        presets.figsize(0)


def test_usetex_only_when_latex_is_found(monkeypatch):
    monkeypatch.setattr(presets.shutil, "which", lambda name: None)
    with pytest.raises(presets.LaTeXUnavailable, match="latex"):
        presets.iclr(usetex=True)
    monkeypatch.setattr(presets.shutil, "which", lambda name: "/usr/bin/latex")
    assert presets.iclr(usetex=True)["text.usetex"] is True


def test_python_m_and_no_torch(tmp_path):
    code = ("import sys, bounds.plotting, bounds.plotting.cli; "
            "assert 'torch' not in sys.modules, 'bounds.plotting imported torch'")
    subprocess.run([sys.executable, "-c", code], check=True)
    proc = subprocess.run([sys.executable, "-m", "bounds.plotting", "figure2", "--out", str(tmp_path),
                           "--formats", "svg"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "figure2.svg").exists()


def test_figure2_variant_all_draws_corrected_beside_printed(tmp_path, capsys):
    from bounds.plotting import figure2

    plot = figure2(variant="all")
    labels = [t.get_text() for t in plot.fig.legends[0].get_texts()]
    assert "TruncMAML (as printed)" in labels and "TruncMAML (corrected)" in labels
    assert "BinomMAML (corrected)" in labels  # normalised by the corrected fo bound, it moves too
    assert "FOMAML" in labels  # fo / fo = 1 in both variants: one curve
    assert "false in general as printed" in plot.caption and "commuting Hessians" in plot.caption
    corrected = [r for r in plot.rows if r["variant"] == "corrected"]
    assert {r["panel"] for r in corrected} == {"b", "c"}  # Theorem 3.6 has no correction
    for r in corrected:
        if r["panel"] == "b" and r["applicable"]:
            K, L, x = 5, r["L"], Fraction(1, 4)
            assert r["trunc"] == float(min((K - L) * x, 2) / min(K * x, 2)) and r["fo"] == 1.0
    status, out = run_cli(["figure2", "--out", str(tmp_path), "--variant", "corrected", "--data",
                           "--formats", "png"], capsys)
    assert status == 0 and "in their place" in (tmp_path / "figure2.txt").read_text()
    assert {r["variant"] for r in read_csv(tmp_path / "figure2.csv")} == {"corrected"}


def test_plot_bounds_variant_all_and_the_printed_caption_note(tmp_path, capsys):
    status, out = run_cli(["bounds", "--vs", "L", "--theorem", "3.8", "--out", str(tmp_path), "--data",
                           "--formats", "png", "--variant", "all"], capsys)
    assert status == 0, out.err
    rows = read_csv(tmp_path / "bounds_vs_L.csv")
    assert [r["variant"] for r in rows] == ["printed"] * 6 + ["corrected"] * 6
    assert [r["fo_status"] for r in rows] == ["false in general"] * 6 + ["corrected"] * 6
    printed = bounds_figure(["3.8"], "L", range(6), {"K": 5, "alpha": "1/4", "H": 1})
    assert "As printed, (12a), (12b) are false in general" in printed.caption
    status, out = run_cli(["bounds", "--vs", "L", "--out", "D", "--variant", "best"], capsys)
    assert status == 2 and "--variant" in out.err


@pytest.mark.parametrize("where, needle", [
    ("a_file", "exists and is not a directory"),
    ("a_file/sub", "cannot write there (Not a directory)"),
    ("/proc/binomgbml-out", "cannot write there"),  # a place no one can create a directory in
    ("", "--out '': must name a directory"),
])
@pytest.mark.parametrize("argv", [["figure2"], ["bounds", "--vs", "L"]])
def test_an_out_that_cannot_be_written_fails_before_any_work(argv, where, needle, capsys, monkeypatch, tmp_path):
    if where.startswith("/proc") and not Path("/proc/self").exists():
        pytest.skip("no /proc on this system")
    import bounds.plotting.cli as plot_cli

    def no_work(*args, **kwargs):
        raise AssertionError("the figure was computed before --out was checked")

    monkeypatch.setattr(plot_cli, "figure2", no_work)
    monkeypatch.setattr(plot_cli, "bounds_figure", no_work)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("")
    status, out = run_cli([*argv, "--out", where], capsys)
    assert status == 2 and needle in out.err and len(out.err.strip().splitlines()) == 1, out.err


def test_checking_out_leaves_nothing_behind_on_bad_input(capsys, tmp_path):
    status, out = run_cli(["figure2", "--out", str(tmp_path / "new" / "dir"), "--K", "0"], capsys)
    assert status == 2 and not (tmp_path / "new").exists()
