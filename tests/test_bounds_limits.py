"""Limits on the work a short input may ask for (docs/bounds.md, "Limits"), plots that cannot
overflow inside matplotlib, and the column-by-column CSV of `binomgbml bounds` against the
per-point rows. Every refusal is one line, exit status 2, and names the limit."""

import io
from fractions import Fraction

import matplotlib
import pytest

import binomgbml
import bounds
from bounds import cli
from bounds.plotting import figures
from bounds.plotting.figures import BoundPoint, figure2
from bounds.tables import bound_rows, format_rows, sweep_csv


def run(argv, capsys):
    status = binomgbml.main(argv)
    return status, capsys.readouterr()


@pytest.mark.parametrize("argv, needles", [
    (["bounds", "--alpha", "1e99999999"], ["--alpha", "more than 10,000 digits"]),
    (["bounds", "--H", "1e-99999999", "--exact"], ["--H", "more than 10,000 digits"]),
    (["bounds", "--h", "1/" + "7" * 10_001, "--M", "1"], ["--h", "more than 10,000 digits"]),
    (["bounds", "--alpha", "1/4,1e10001"], ["--alpha", "more than 10,000 digits"]),
    (["bounds", "--K", "1000000", "--L", "3", "--exact"], ["K = 1000000", "100,000", "--exact"]),
    (["bounds", "--K", "100000", "--L", "3", "--alpha", "0.013", "--exact", "--theorem", "3.6"],
     ["K = 100000", "alpha*H = 13/1000", "200,000", "--exact"]),
    (["bounds", "--K", "9007199254740993", "--L", "3"], ["K = 9007199254740993", "2^53"]),
    (["bounds", "--K", "9007199254740993", "--L", "3", "--format", "csv"], ["K = 9007199254740993", "2^53"]),
    (["plot", "figure2", "--K", "3000", "--out", "D"], ["--K", "2,001"]),
    (["plot", "bounds", "--vs", "L", "--K", "5000", "--out", "D"], ["--L", "2,001"]),
    (["plot", "bounds", "--vs", "alpha", "--alpha", "1e-400,1/4", "--out", "D"], ["--alpha", "1e-200"]),
    (["plot", "bounds", "--vs", "alpha", "--alpha", "1/4,1e400", "--out", "D"], ["--alpha", "1e+200"]),
])
def test_beyond_a_limit_is_one_line_exit_2(argv, needles, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out = run(argv, capsys)
    lines = out.err.strip().splitlines()
    assert status == 2 and len(lines) == 1, out.err[-500:]
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_api_limits():
    with pytest.raises(bounds.BoundsInputError, match="100,000"):
        bounds.evaluate("3.8", 10**6, 3, "1/4", 1, exact=True)
    with pytest.raises(bounds.BoundsInputError, match="digits"):
        bounds.evaluate("3.6", 5, 1, Fraction(1, 10**20_000), 1, exact=True)
    with pytest.raises(bounds.BoundsInputError, match="digits"):
        bounds.not_applicable("3.8", 5, 1, "1e99999999", 1)
    with pytest.raises(bounds.BoundsInputError, match="2\\^53"):
        bounds.evaluate("3.6", 2**53 + 1, 3, 0.25, 1.0)  # would silently be K = 2^53
    with pytest.raises(bounds.BoundsInputError, match="2\\^53"):
        bounds.applicable("3.6", [5, 2**60], 3, 0.25, 1.0)
    with pytest.raises(bounds.BoundsInputError, match="digits"):
        bounds.theorem_3_6.fo.evaluate(70_000, 3, "0.013", 1, exact=True)  # one bound, same limit
    # inside the limits: exact at K = 10,000 and a 5000-digit input still work
    assert bounds.evaluate("3.6", 10_000, 9_998, "1/4", 1, exact=True)["trunc"] > 0
    assert bounds.evaluate("3.6", 5, 1, "1e-5000", 1, exact=True)["fo"] > 0


def _points(values):
    return [BoundPoint("3.6", {"K": 1500, "L": i, "alpha": Fraction(1, 4), "H": 1, "h": None, "M": None},
                       None, dict(zip(("fo", "trunc", "binom"), v))) for i, v in enumerate(values)]


@pytest.mark.parametrize("values", [
    [(1.0, 3e-200, 1e-199), (1.0, 6e143, 1e-150)],    # the span of figure2 --K 1500 (overflowed)
    [(1e150, 1e180, 1e198), (1e160, 1e170, 1e190)],   # all far up: limits collapsed to [1, 10]
    [(1e-190, 1e-180, 1e-199), (1e-150, 1e-160, 1e-170)],
])
def test_wide_log_axes_are_drawn_and_hold_their_data(values, monkeypatch):
    monkeypatch.setattr(figures, "bound_points", lambda *a, **k: _points(values))
    plot = figure2(K=1)
    with matplotlib.rc_context(plot.rc):
        plot.fig.savefig(io.BytesIO(), format="png")
    ys = [y for v in values for y in v]
    for ax in plot.fig.axes[:3]:
        lo, hi = ax.get_ylim()
        assert lo <= min(ys) and max(ys) <= hi
        assert all(lo <= t <= hi for t in ax.get_yticks())


SWEEPS = [
    ["--K", "1:9", "--alpha", "1/4,2,1/3", "--H", "1,3", "--h", "1/10,5", "--M", "1,2"],
    ["--K", "1:9", "--alpha", "1/4,2", "--h", "1/10,5", "--M", "1,2", "--exact", "--variant", "all"],
    ["--K", "3,7", "--L", "0,2,5,9", "--alpha", "0.013,1e-400,1e400", "--variant", "all"],
    ["--K", "3,7", "--L", "0:5", "--alpha", "0.013,1/4", "--h", "1/10", "--M", "1", "--normalize", "fo",
     "--variant", "all"],
    ["--K", "3,7", "--L", "0:5", "--alpha", "1/4", "--h", "1/10", "--M", "1", "--normalize", "fo", "--exact"],
    [],
    ["--K", "20", "--theorem", "3.8", "--variant", "corrected", "--exact"],
]


@pytest.mark.parametrize("argv", SWEEPS)
def test_csv_by_columns_is_byte_for_byte_the_per_point_csv(argv):
    args = cli._parser().parse_args(argv)
    sweep = cli._points(args)
    theorems = cli.parse_theorems(args.theorem)
    options = {"exact": args.exact, "normalize": args.normalize, "strict": len(theorems) == 1,
               "variant": args.variant}
    per_point = format_rows(bound_rows(theorems, sweep.points(), **options), "csv")
    assert sweep_csv(theorems, *sweep.columns(), **options) == per_point
    assert "false" in per_point or "3.8" in argv  # the sweeps have inapplicable points


def test_csv_refuses_like_the_per_point_path(capsys):
    argv = ["bounds", "--K", "5", "--alpha", "1/4,2", "--theorem", "3.8"]
    status, table = run(argv, capsys)
    status_csv, csv_ = run(argv + ["--format", "csv"], capsys)
    assert status == status_csv == 2 and table.err == csv_.err and "alpha*H = 2 > 1" in csv_.err
