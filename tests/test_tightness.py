"""Two-sided bounds (verify.tightness): the exact commuting worst case against brute force and the
dense reference, the multilinearity it rests on, the search's exact witnesses, replay, and the
``binomgbml tightness`` command."""

import itertools
import json
import math
import random
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

import binomgbml
from verify import tightness as T
from verify.measure import error_matrices, exact_error
from verify.strategies import spectrum_intervals

ESTIMATORS = ("fo", "trunc", "binom")
DOCS_WITNESSES = sorted((Path(__file__).resolve().parents[1] / "docs" / "witnesses" / "tightness").glob("*.json"))
ASSUMPTION = {"3.6": "3.5", "3.8": "3.7", "3.10": "3.9"}


def _reference_error(estimator, lambdas, alpha, L):
    """The signed scalar error P^K g - estimate with d = 1, g = 1, by estimators.reference."""
    H = np.array([[[F(lam)]] for lam in lambdas], dtype=object)
    return exact_error(H, np.array([F(1)], dtype=object), F(alpha), L, estimator)[0]


def _cases(max_K):
    """(theorem, K, L, alpha, H, h, M, estimator) over small K, every L, every estimator."""
    for theorem in ("3.6", "3.8", "3.10"):
        for K in range(2 if theorem == "3.10" else 1, max_K + 1):
            for L in range(K + 1):
                Ms = range(1, min(L, K - L) + 1) if theorem == "3.10" else [None]
                for M in Ms:
                    alpha = F(3, 2) if theorem == "3.6" else F(3, 4)
                    h = F(1, 5) if theorem == "3.10" else None
                    for est in ESTIMATORS:
                        yield theorem, K, L, alpha, F(1), h, M, est


def _spans(theorem, K, H, h, M):
    return spectrum_intervals(K, ASSUMPTION[theorem], H, h, M)


def test_scalar_error_equals_the_dense_reference():
    rng = random.Random(0)
    for K in range(1, 6):
        for L in range(K + 1):
            for est in ESTIMATORS:
                lambdas = [F(rng.randint(-8, 8), rng.randint(1, 6)) for _ in range(K)]
                alpha = F(rng.randint(1, 6), 4)
                assert T.scalar_error(est, [alpha * lam for lam in lambdas], L) == \
                    _reference_error(est, lambdas, alpha, L)


def test_the_error_is_multilinear_in_the_eigenvalues():
    """Along each coordinate lambda_k the reference error (a polynomial of degree <= K in lambda_k)
    takes K + 1 collinear values: it is affine in lambda_k (exactly, at random rational points)."""
    rng = random.Random(1)
    for K in range(1, 5):
        for L in range(K + 1):
            for est in ESTIMATORS:
                point = [F(rng.randint(-6, 6), rng.randint(1, 4)) for _ in range(K)]
                for k in range(K):
                    ts = [F(t, 3) for t in range(-K, K + 2, 2)][:K + 1]
                    values = [_reference_error(est, point[:k] + [t] + point[k + 1:], F(1, 2), L) for t in ts]
                    slopes = {(b - a) / (tb - ta) for a, b, ta, tb in zip(values, values[1:], ts, ts[1:])}
                    assert len(slopes) == 1, (est, K, L, k)


def test_symmetry_reduction_equals_every_vertex():
    """The grouped enumeration (prod (n_g + 1) vertices) finds the maximum over all 2^K vertices,
    each evaluated by the dense reference."""
    for theorem, K, L, alpha, H, h, M, est in _cases(5):
        spans = _spans(theorem, K, H, h, M)
        value, lambdas = T.commuting_worst_case(est, spans, alpha, L)
        every = max(abs(_reference_error(est, v, alpha, L)) for v in itertools.product(*spans))
        assert value == every
        assert abs(_reference_error(est, lambdas, alpha, L)) == value
        assert all(lo <= lam <= hi for lam, (lo, hi) in zip(lambdas, spans))


@pytest.mark.parametrize("max_K,points", [(3, 21), (4, 9)])
def test_commuting_worst_case_against_brute_force_on_a_fine_grid(max_K, points):
    """The exact worst case equals the maximum of |error| over a fine grid of the box (which holds
    its vertices), and no grid point nor random interior point exceeds it (float64, d = 1 errors by
    verify.measure.error_matrices, independent of the vertex enumeration)."""
    rng = np.random.default_rng(0)
    for theorem, K, L, alpha, H, h, M, est in _cases(max_K):
        if K < max_K - 1:
            continue
        spans = _spans(theorem, K, H, h, M)
        value = float(T.commuting_worst_case(est, spans, alpha, L)[0])
        axes = [np.linspace(float(lo), float(hi), points) for lo, hi in spans]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, K)
        inside = np.column_stack([rng.uniform(float(lo), float(hi), 2000) for lo, hi in spans])
        for lam in (grid, inside):
            errors = np.abs(error_matrices(lam[:, :, None, None], float(alpha), L, est)[:, 0, 0])
            assert errors.max() <= value * (1 + 1e-12) + 1e-13  # L = K: exactly 0, float round-off
        assert np.abs(error_matrices(grid[:, :, None, None], float(alpha), L, est)).max() == \
            pytest.approx(value, rel=1e-12, abs=1e-13)


def test_sharpness_claims_of_the_paper_are_tight_with_their_witnesses():
    """(11a-c) attained at H^k = -H I; (12a) at H I; (12b) at H I then 0; (12c) at L = K - 1 (and
    not for L <= K - 2); (13b) at -H I then h I: tight, with those Hessians as witnesses."""
    for K in range(1, 6):
        for L in range(K + 1):
            for est in ESTIMATORS:
                row, = T.two_sided("3.6", est, K, L, F(1, 3), 2, starts=0)
                assert row.tight
                if L < K or est == "fo":
                    assert [x[0][0] for x in row.witness.hessians] == [-2] * K
            fo, = T.two_sided("3.8", "fo", K, L, F(1, 3), 1, starts=0)
            trunc, = T.two_sided("3.8", "trunc", K, L, F(1, 3), 1, starts=0)
            binom, = T.two_sided("3.8", "binom", K, L, F(1, 3), 1, starts=0)
            assert fo.tight and trunc.tight
            assert binom.tight == (L >= K - 1)
            if 1 <= L <= K - 1:
                row, = T.two_sided("3.10", "trunc", K, L, F(1, 3), 1, F(1, 4), 1, starts=0)
                assert row.tight
                assert [x[0][0] for x in row.witness.hessians] == [-1] * (K - 1) + [F(1, 4)]


def test_figure_2_values_exactly():
    """Two values of docs/tightness.md's table, exactly: (12c) at K = 5, L = 1, alpha H = 1/4 is
    5/8 and the commuting worst case is 499/1024 = sum_{l >= 2} (-1)^l C(5, l) 4^-l, at H^k = H I
    (ratio 499/640); under Assumption 3.9 (M = 1, h = 1/10) it is the same 499/1024."""
    row, = T.two_sided("3.8", "binom", 5, 1, F(1, 4), 1, starts=0)
    assert row.bound == F(5, 8) and row.witness.attained_squared == F(499, 1024) ** 2
    assert sum((-1) ** l * math.comb(5, l) * F(1, 4) ** l for l in range(2, 6)) == F(499, 1024)
    assert [x[0][0] for x in row.witness.hessians] == [1] * 5
    assert row.ratio == pytest.approx(499 / 640, rel=1e-15)
    row, = T.two_sided("3.10", "binom", 5, 1, F(1, 4), 1, F(1, 10), 1, starts=0)
    assert row.witness.attained_squared == F(499, 1024) ** 2 and not row.tight


def test_search_exceeds_the_printed_12a_with_an_exact_non_commuting_witness(tmp_path):
    """At K = 3, alpha H = 1 the search finds a non-commuting error above (12a) (docs/errata.md V1)
    and below the corrected min(K alpha H, 2) = 2; the witness replays exactly under Assumption 3.7."""
    printed, corrected = T.two_sided("3.8", "fo", 3, 0, 1, 1, variant="all", starts=4, seed=0)
    assert printed.method == "search" and printed.exceeded and printed.attained > 1.28
    assert corrected.variant == "corrected" and corrected.bound == 2 and not corrected.exceeded
    witness = printed.witness
    assert witness.hessians.shape[1] >= 2
    A, B = witness.hessians[0], witness.hessians[1]
    assert (A @ B != B @ A).any()  # not commuting
    path = T.write_witness(witness, tmp_path)
    ok, detail = T.replay(json.loads(path.read_text()))
    assert ok and "exceeded" in detail and "Assumption 3.7" in detail


def test_replay_rejects_a_witness_outside_the_assumption_or_with_another_value(tmp_path):
    row, = T.two_sided("3.8", "binom", 3, 1, F(1, 2), 1, starts=0)
    data = json.loads(T.write_witness(row.witness, tmp_path).read_text())
    ok, _ = T.replay(data)
    assert ok
    bad = json.loads(json.dumps(data))
    bad["hessians"][0][0][0] = "-1/2"  # eigenvalue below 0: breaks Assumption 3.7
    ok, detail = T.replay(bad)
    assert not ok and "breaks Assumption 3.7" in detail
    bad = json.loads(json.dumps(data))
    bad["exact"]["error_squared"] = "1/3"
    ok, detail = T.replay(bad)
    assert not ok and "not the recorded" in detail
    bad = json.loads(json.dumps(data))
    bad["params"]["alpha"] = "2"  # alpha H > 1 breaks Theorem 3.8's condition
    ok, detail = T.replay(bad)
    assert not ok and "conditions" in detail


def test_identical_problems_share_one_search_and_l_equal_k_needs_none(monkeypatch):
    """fo (every L) and trunc/binom at L = 0 are one problem; at L = K trunc and binom have error 0
    for every Hessian sequence: K = 3, L = 0..3 needs 1 + 2 + 2 searches."""
    calls = []
    search = T.search_worst_case

    def counted(estimator, spans, alpha, L, **kw):
        calls.append((estimator, L))
        return search(estimator, spans, alpha, L, **kw)

    monkeypatch.setattr(T, "search_worst_case", counted)
    points = [{"K": 3, "L": L, "alpha": F(1, 2), "H": F(1), "h": None, "M": None} for L in range(4)]
    rows, skipped = T.two_sided_rows(["3.8"], points, starts=2)
    assert not skipped and len(rows) == 12
    assert sorted(calls) == [("binom", 1), ("binom", 2), ("fo", 0), ("trunc", 1), ("trunc", 2)]
    for r in rows:
        if r.params["L"] == 3 and r.estimator != "fo":
            assert r.attained == 0 and r.tight and r.ratio is None


def test_band_gives_attained_below_bound_per_estimator():
    band = T.band("3.8", 5, range(6), F(1, 4), 1)
    assert band["binom"]["L"] == list(range(6))
    assert all(a <= b * (1 + 1e-15) for a, b in zip(band["binom"]["attained"], band["binom"]["bound"]))
    assert band["binom"]["tight"] == [False, False, False, False, True, True]
    corrected = T.band("3.10", 5, range(6), F(1, 4), 1, F(1, 10), 1, variant="corrected")
    assert corrected["fo"]["L"] == [1, 2, 3, 4]  # M = 1 <= min(L, K-L)
    with pytest.raises(ValueError, match="one band per plot"):
        T.band("3.8", 5, range(6), F(1, 4), 1, variant="all")


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="alpha"):
        T.worst_case("3.8", "fo", 3, 1, 2, 1)  # alpha H = 2 > 1
    with pytest.raises(ValueError, match="estimator"):
        T.worst_case("3.8", "maml", 3, 1, F(1, 2), 1)
    with pytest.raises(ValueError, match="starts"):
        T.worst_case("3.8", "fo", 3, 1, F(1, 2), 1, starts=-1)
    with pytest.raises(ValueError, match="variant"):
        T.two_sided("3.8", "fo", 3, 1, F(1, 2), 1, variant="restricted")


# --------------------------------------------------------------------------------------------
# the command


def test_cli_json_rows_have_exactly_the_documented_keys(tmp_path, capsys):
    argv = ["tightness", "--theorem", "3.8", "--K", "3", "--L", "0:3", "--alpha", "1/2", "--H", "1",
            "--variant", "all", "--starts", "0", "--format", "json", "--out", str(tmp_path)]
    assert binomgbml.main(argv) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    keys = ["theorem", "variant", "estimator", "K", "L", "alpha", "H", "h", "M", "bound", "attained",
            "ratio", "method", "witness"]
    assert all(list(r) == keys for r in rows)
    assert len(rows) == 4 * (3 + 2)  # per L: three printed, corrected (12a) and (12b)
    first = rows[0]
    assert first["alpha"] == "1/2" and first["h"] is None and first["method"] == "exact commuting"
    assert first["bound"] == pytest.approx(0.875) and first["attained"] == pytest.approx(0.875)
    replay = ["tightness", "--replay", *sorted({r["witness"] for r in rows})]
    assert binomgbml.main(replay) == 0
    assert capsys.readouterr().out.count("reproduced --") == len({r["witness"] for r in rows})


def test_cli_table_csv_latex(tmp_path, capsys):
    base = ["tightness", "--theorem", "3.10", "--K", "4", "--L", "0:4", "--alpha", "1/4", "--H", "1",
            "--h", "1/10", "--M", "1", "--starts", "0", "--out", str(tmp_path)]
    assert binomgbml.main(base) == 0
    captured = capsys.readouterr()
    assert "skipped 2" in captured.err  # L = 0 and L = 4 break M <= min(L, K-L)
    lines = captured.out.splitlines()
    assert lines[1].split()[:3] == ["theorem", "variant", "estimator"]
    assert any("tight" in line.split() for line in lines)
    assert lines[-1].startswith("# replay every witness: binomgbml tightness --replay")
    assert binomgbml.main(base + ["--format", "csv"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0].split(",")[-1] == "note" and len(csv_lines) == 1 + 3 * 3
    assert binomgbml.main(base + ["--format", "latex"]) == 0
    latex = capsys.readouterr().out
    assert "\\begin{tabular}" in latex and latex.count("\\\\") == 1 + 9


@pytest.mark.parametrize("argv,needle", [
    (["--variant", "restricted"], "--variant"),
    (["--starts", "-1"], "--starts"),
    (["--format", "xml"], "--format"),
    (["--theorem", "3.9"], "--theorem"),
    (["--theorem", "3.10", "--L", "0", "--h", "1/10", "--M", "1"], "no point satisfies"),
    (["--alpha", "-1"], "--alpha"),
])
def test_cli_bad_input_is_one_line_exit_2(argv, needle, tmp_path, capsys):
    assert binomgbml.main(["tightness", "--out", str(tmp_path), "--starts", "0", *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


def test_cli_replay_of_a_missing_or_foreign_file(tmp_path, capsys):
    assert binomgbml.main(["tightness", "--replay", str(tmp_path / "none.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"id": "thm3.8.fo", "params": {}}))
    assert binomgbml.main(["tightness", "--replay", str(other)]) == 2
    assert "tightness witness" in capsys.readouterr().err


def test_the_committed_figure_2_witnesses_replay_exactly():
    """docs/tightness.md's table: every witness file reproduces, and tight rows are tight."""
    assert len(DOCS_WITNESSES) == 48
    for path in DOCS_WITNESSES:
        data = json.loads(path.read_text())
        ok, detail = T.replay(data)
        assert ok, (path.name, detail)
        if data["attained"] == data["bounds"]["printed"]:
            assert "printed bound" in detail and "tight" in detail.split("printed bound")[1].split(";")[0]


def test_values_beyond_float64_are_inf_never_an_error(tmp_path, capsys):
    assert T.sqrt_float(F(10 ** 800, 3)) == math.inf
    assert T.sqrt_float(F(10 ** 600, 7)) == pytest.approx(10 ** 300 / math.sqrt(7), rel=1e-12)
    assert T.sqrt_float(F(9, 4)) == 1.5 and T.sqrt_float(F(2)) == math.sqrt(2)
    argv = ["tightness", "--theorem", "3.6", "--K", "50", "--L", "0", "--alpha", "10000000", "--H", "1",
            "--starts", "0", "--format", "json", "--out", str(tmp_path)]
    assert binomgbml.main(argv) == 0  # (1 + 10^7)^50 - 1 is about 10^350
    text = capsys.readouterr().out
    assert '"bound": 1e999' in text and "Infinity" not in text and "NaN" not in text
    rows = json.loads(text)["rows"]
    assert rows[0]["attained"] == math.inf and rows[0]["ratio"] == 1.0
