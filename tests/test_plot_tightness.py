"""``plot figure2 --tightness`` and ``plot bounds --tightness``: the band from the attained worst
case up to each bound, against brute force over every scalar-Hessian vertex with the dense
reference, and what is drawn."""

import csv
import itertools
import subprocess
import sys
from fractions import Fraction as F

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

import binomgbml
import bounds
from bounds.plotting import bounds_figure
from bounds.plotting.figures import figure2
from verify.measure import exact_error
from verify.strategies import spectrum_intervals

ESTIMATORS = ("fo", "trunc", "binom")
ASSUMPTION = {"3.6": "3.5", "3.8": "3.7", "3.10": "3.9"}


def _brute_force(theorem, est, K, L, alpha, H, h, M):
    """max |error| / |g| over all 2^K vertices of the assumption's box (H^k = lambda_k, d = 1),
    each error by estimators.reference in Fractions (independent of the vertex-class enumeration)."""
    spans = spectrum_intervals(K, ASSUMPTION[theorem], F(H), None if h is None else F(h), M)
    best = F(0)
    for vertex in itertools.product(*spans):
        hs = np.array([[[F(lam)]] for lam in vertex], dtype=object)
        best = max(best, abs(exact_error(hs, np.array([F(1)], dtype=object), F(alpha), L, est)[0]))
    return best


def _read_csv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def figure2_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("figure2_tightness")
    assert binomgbml.main(["plot", "figure2", "--tightness", "--out", str(out), "--data",
                           "--formats", "svg"]) == 0
    return out


def test_figure2_band_equals_brute_force_over_every_vertex(figure2_dir):
    """Each attained_<estimator> cell is the correctly rounded float of the exact worst case over
    the 32 vertices, divided exactly by the fo bound (the normalisation of the curves); it never
    exceeds the plotted bound (every plotted bound holds for commuting Hessians)."""
    rows = [r for r in _read_csv(figure2_dir / "figure2_tightness.csv") if r["applicable"] == "True"]
    assert len(rows) == 6 + 6 + 4
    for r in rows:
        p = {"K": int(r["K"]), "L": int(r["L"]), "alpha": F(r["alpha"]), "H": F(r["H"]),
             "h": F(r["h"]) if r["theorem"] == "3.10" else None,
             "M": int(r["M"]) if r["theorem"] == "3.10" else None}
        fo_bound = F(bounds.evaluate(r["theorem"], *p.values(), exact=True)["fo"])
        for est in ESTIMATORS:
            expected = _brute_force(r["theorem"], est, **p) / fo_bound
            assert float(r[f"attained_{est}"]) == float(expected), (r, est)
            assert float(r[f"attained_{est}"]) <= float(r[est])
    # docs/tightness.md: (12c) at L = 1 is 5/8, the worst case 499/1024, the fo bound 781/1024
    row = next(r for r in rows if r["theorem"] == "3.8" and r["L"] == "1")
    assert float(row["attained_binom"]) == float(F(499, 781))
    assert float(row["binom"]) == float(F(5, 8) / F(781, 1024))


def test_figure2_caption_says_what_is_shaded_and_without_the_flag_nothing_is(figure2_dir, tmp_path):
    caption = (figure2_dir / "figure2_tightness.txt").read_text()
    assert "Shaded: from the largest error attained under the theorem's assumption" in caption
    assert binomgbml.main(["plot", "figure2", "--out", str(tmp_path), "--data", "--formats", "svg"]) == 0
    assert "Shaded" not in (tmp_path / "figure2.txt").read_text()
    header = (tmp_path / "figure2.csv").read_text().splitlines()[0]
    assert "attained" not in header
    assert not any(isinstance(c, PolyCollection) for ax in figure2().fig.axes for c in ax.collections)


def test_one_band_per_estimator_with_a_drawable_bound():
    """Figure 2: a band for every estimator on every panel (fo's is empty, attained = bound, but
    drawn); its vertices are the attained and the bound values over L."""
    plot = figure2(tightness=True)
    for ax in plot.fig.axes[:3]:
        polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(polys) == 3
    binom_b = [c for c in plot.fig.axes[1].collections if isinstance(c, PolyCollection)][2]
    ys = binom_b.get_paths()[0].vertices[:, 1]
    rows = [r for r in plot.rows if r["theorem"] == "3.8" and r["L"] < 5]
    for r in rows:  # L = 5: both 0, off the log axis
        assert np.isclose(ys, r["binom"], rtol=1e-12).any() and np.isclose(ys, r["attained_binom"], rtol=1e-12).any()


def test_plot_bounds_tightness_vs_K_and_alpha(tmp_path, capsys):
    """Not normalised: attained is the worst case itself; points outside the conditions have no
    band and an empty cell."""
    assert binomgbml.main(["plot", "bounds", "--vs", "K", "--K", "1:4", "--L", "1", "--theorem", "3.8",
                           "--tightness", "--data", "--formats", "svg", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    rows = _read_csv(tmp_path / "bounds_vs_K_tightness.csv")
    assert [r["K"] for r in rows] == ["1", "2", "3", "4"]
    for r in rows:
        for est in ESTIMATORS:
            expected = _brute_force("3.8", est, int(r["K"]), 1, F(1, 4), 1, None, None)
            assert float(r[f"attained_{est}"]) == float(expected)
    plot = bounds_figure(["3.8"], "alpha", [F(1, 2), F(1), F(2)], {"K": 3, "L": 1, "H": 1},
                         tightness=True)
    by_alpha = {r["alpha"]: r for r in plot.rows}
    assert by_alpha[F(2)]["applicable"] is False and by_alpha[F(2)]["attained_fo"] is None
    assert by_alpha[F(1)]["attained_fo"] == float(_brute_force("3.8", "fo", 3, 1, F(1), 1, None, None))


def test_tightness_plots_import_no_torch_and_no_verify(tmp_path):
    code = ("import sys; from bounds.plotting.figures import figure2; figure2(tightness=True); "
            "bad = sorted(m for m in ('torch', 'verify', 'estimators') if m in sys.modules); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_variant_all_shades_once_and_divides_by_each_variants_fo_bound():
    """With --variant all the band is drawn once per estimator (down from the printed curve); the
    corrected rows' attained values are divided by the corrected fo bound, as their curves are."""
    plot = figure2(variant="all", tightness=True)
    assert len([c for c in plot.fig.axes[1].collections if isinstance(c, PolyCollection)]) == 3
    rows = [r for r in plot.rows if r["theorem"] == "3.8" and r["variant"] == "corrected"]
    assert len(rows) == 6
    for r in rows:
        p = [r[n] for n in ("K", "L", "alpha", "H")]
        fo = F(bounds.evaluate("3.8", *p, exact=True, variant="corrected")["fo"])
        assert fo == F(5, 4)  # min(K alpha H, 2)
        for est in ESTIMATORS:
            assert r[f"attained_{est}"] == float(_brute_force("3.8", est, *p, None, None) / fo)
