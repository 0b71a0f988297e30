"""verify.check_estimator: a plain call inside pytest, passing for correct estimators and raising
an AssertionError with a shrunk, replayable counterexample for wrong ones."""

import json
import math
import re
from itertools import combinations
from pathlib import Path

import pytest
import torch

import estimators
from verify import check_estimator
from verify.check import EstimatorError, VerifyInputError, replay_estimator_witness


def binom(traj, L):
    return estimators.binom(traj, L)


def test_correct_estimators_pass_their_claims(tmp_path):
    summary = check_estimator(binom, equals="binom", claim=["thm3.6.binom", "thm3.8.binom"],
                              examples=15, starts=1, out=tmp_path)
    assert set(summary) == {"equals:reference binom", "thm3.6.binom", "thm3.8.binom"}
    assert summary["thm3.8.binom"]["max_ratio"] <= 1
    check_estimator(lambda traj, L: estimators.maml(traj), equals="maml", examples=10, out=tmp_path)
    # a callable reference: Remark 3.4, BinomMAML at L = K is MAML
    check_estimator(lambda traj, L: estimators.maml(traj), equals=lambda traj, L: estimators.binom(traj, traj.K),
                    examples=10, out=tmp_path)


def test_wrong_claim_against_a_callable_reference_raises(tmp_path):
    def eq8(traj, L):
        return estimators.binom(traj, L)

    with pytest.raises(AssertionError, match="violates equals:eq8"):
        check_estimator(lambda traj, L: estimators.trunc(traj, L), equals=eq8, examples=30, out=tmp_path)


def test_wrong_equality_claim_raises_with_counterexample_and_witness(tmp_path):
    def wrong(traj, L):
        return estimators.trunc(traj, L)

    with pytest.raises(AssertionError) as info:
        check_estimator(wrong, equals="binom", examples=30, out=tmp_path)
    message = str(info.value)
    assert "counterexample" in message and "reference binom" in message
    path = re.search(r"witness saved to (\S+)", message).group(1)
    witness = json.loads(Path(path).read_text())
    assert witness["id"] == "equals:reference binom"
    # shrunk: Hypothesis minimises the example (a 1-d, short trajectory)
    assert witness["params"]["K"] <= 2 and len(witness["g"]) == 1
    # the difference reported is the real one: recompute both sides from the witness
    # (d = 1: scalars; TruncMAML P^L g, eq. (8) as a sum over subsets of at most L steps)
    h = [Hk[0][0] for Hk in witness["hessians"]]
    (g,), a, L, K = witness["g"], witness["params"]["alpha"], witness["params"]["L"], witness["params"]["K"]
    trunc = math.prod(1 - a * hk for hk in h[K - L:]) * g
    eq8 = sum(math.prod(-a * h[k] for k in ks) for l in range(L + 1) for ks in combinations(range(K), l)) * g
    assert witness["estimate"] == pytest.approx([trunc], rel=1e-12, abs=1e-12)
    assert witness["other"] == pytest.approx([eq8], rel=1e-12, abs=1e-12)
    assert abs(witness["error"] - abs(trunc - eq8)) < 1e-12 and witness["error"] > witness["bound"]
    assert replay_estimator_witness(wrong, witness)[0]
    assert not replay_estimator_witness(binom, witness)[0]


def test_bound_claim_violation_is_found(tmp_path):
    """FOMAML is not within the BinomMAML bound (12c) (at L = K the bound is 0)."""
    with pytest.raises(AssertionError, match="violates thm3.8.binom"):
        check_estimator(lambda traj, L: estimators.fo(traj), claim="thm3.8.binom", examples=20,
                        starts=0, out=tmp_path)


def test_adversarial_search_finds_the_non_commuting_violation_of_12b(tmp_path):
    """The true TruncMAML breaks the printed (12b) (docs/errata.md, V2): random examples rarely
    see it; the adversarial search over the Hessians does."""
    with pytest.raises(AssertionError, match="violates thm3.8.trunc"):
        check_estimator(lambda traj, L: estimators.trunc(traj, L), claim="thm3.8.trunc", examples=5,
                        starts=6, out=tmp_path)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(), "needs equals"),
    (dict(equals="exact"), "equals='exact'"),
    (dict(claim="thm3.8.sharp"), "claim='thm3.8.sharp' is not a bound id"),
    (dict(equals="binom", examples=0), "examples=0 must be an integer >= 1"),
])
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        check_estimator(binom, **kwargs)


def test_commuting_claims_draw_commuting_hessians(tmp_path):
    """The true FOMAML / TruncMAML satisfy (12a), (12b) for commuting Hessians: the claims
    ".commuting" must be checked on commuting sequences only (non-commuting ones break them, V1/V2)."""
    summary = check_estimator(lambda traj, L: estimators.fo(traj), claim="thm3.8.fo.commuting",
                              examples=100, starts=1, out=tmp_path)
    assert summary["thm3.8.fo.commuting"]["max_ratio"] <= 1
    summary = check_estimator(lambda traj, L: estimators.trunc(traj, L), claim="thm3.8.trunc.commuting",
                              examples=100, starts=1, out=tmp_path)
    assert summary["thm3.8.trunc.commuting"]["max_ratio"] <= 1


def test_small_max_K_keeps_the_adversarial_points_inside_the_theorem(tmp_path):
    summary = check_estimator(binom, claim="thm3.10.binom", examples=5, starts=2, max_K=2, out=tmp_path)
    assert summary["thm3.10.binom"]["max_ratio"] <= 1


def test_an_estimator_that_raises_is_reported_in_one_line(tmp_path):
    def crashes(traj, L):
        raise ZeroDivisionError("boom")

    with pytest.raises(EstimatorError, match=r"the estimator raised ZeroDivisionError: boom \(called as "
                                              r"fn\(trajectory, L\) with K=1, L=0, d=1") as info:
        check_estimator(crashes, equals="fo", examples=5, out=tmp_path)
    assert isinstance(info.value, ValueError) and isinstance(info.value.__cause__, ZeroDivisionError)


def test_a_witness_that_cannot_be_written_still_reports_the_violation(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(AssertionError, match="witness NOT saved: cannot write"):
        check_estimator(lambda traj, L: estimators.fo(traj), equals="maml", examples=10, out=not_a_dir)


V1 = {"id": "thm3.8.fo", "params": {"K": 2, "L": 0, "alpha": 1.0, "H": 1.0},
      "hessians": [[[0, 0], [0, 1]], [[0.64, -0.48], [-0.48, 0.36]]], "g": [1, -3]}  # errata V1


def fomaml(traj, L):
    return estimators.fo(traj)


@pytest.mark.parametrize("change, fragment", [
    (dict(g=None), "witness has no 'g'"),
    (dict(params={"K": 2, "L": 0, "H": 1.0}), "witness has no params.alpha"),
    (dict(params={"K": 2, "L": 0, "alpha": "x", "H": 1.0}), "params.alpha='x' must be a finite number"),
    (dict(hessians=[[["a"]]]), "witness hessians must be a numeric array"),
    (dict(hessians=[[[1.0]]]), "expected K x d x d = 2 x 2 x 2"),
])
def test_replaying_a_malformed_witness_names_what_is_wrong(change, fragment):
    witness = {k: v for k, v in {**V1, **change}.items() if v is not None}
    with pytest.raises(ValueError, match=re.escape(fragment)):
        replay_estimator_witness(fomaml, witness)


def test_replay_checks_the_claims_assumption():
    assert replay_estimator_witness(fomaml, V1)[0]  # the real FOMAML breaks the printed (12a)
    # a witness outside the claim checks nothing: bad input, not "holds"
    with pytest.raises(VerifyInputError, match="do not commute"):
        replay_estimator_witness(fomaml, dict(V1, id="thm3.8.fo.commuting"))
    with pytest.raises(VerifyInputError, match=re.escape("H^0 is not symmetric with spectrum in [0, 1] (Assumption 3.7)")):
        replay_estimator_witness(fomaml, dict(V1, hessians=[[[2, 0], [0, 0]], [[0, 0], [0, 0]]]))


def _returning(make):
    def estimator(traj, L):
        return make(estimators.binom(traj, L))
    return estimator


@pytest.mark.parametrize("make, fragment", [
    (lambda v: v.to(torch.bfloat16), "returned dtype torch.bfloat16, expected float64"),
    (lambda v: v.to(torch.float32), "returned dtype torch.float32, expected float64"),
    (lambda v: v.round().long(), "returned dtype torch.int64, expected float64"),
    (lambda v: v + 1e-3j, "returned complex values (torch.complex128): a meta-gradient is real"),
    (lambda v: v.to(torch.complex128), "returned complex values"),  # zero imaginary part: still refused
    (lambda v: v.numpy().astype(complex), "returned complex values (complex128)"),
    (lambda v: v[None], "returned shape (1, 1), expected (1,)"),
    (lambda v: v * float("nan"), "returned non-finite entries (nan at index 0)"),
    (lambda v: None, "returned NoneType None, not a torch tensor or NumPy array"),
    (lambda v: v.tolist(), "returned list ["),
])
def test_an_invalid_estimate_is_a_violation_that_says_what_was_returned(tmp_path, make, fragment):
    """Checked before it is compared: an estimate that is not a real float64 vector of g's shape
    with finite entries fails, with a shrunk counterexample and a witness whose replay fails too
    (the imaginary part of a complex estimate used to be dropped, and it passed)."""
    estimator = _returning(make)
    with pytest.raises(AssertionError, match=re.escape(fragment)) as info:
        check_estimator(estimator, equals="binom", examples=5, out=tmp_path)
    assert "counterexample: K=1, L=0" in str(info.value)  # shrunk to the smallest case
    witness = json.loads(next(tmp_path.glob("*.json")).read_text())
    violated, detail = replay_estimator_witness(estimator, witness)
    assert violated and fragment in detail
    assert replay_estimator_witness(binom, witness) == (False, "|difference| = 0, allowed 1e-10 (ratio 0)")


def test_an_invalid_equals_reference_is_bad_input(tmp_path):
    with pytest.raises(EstimatorError, match=re.escape("the equals= reference returned complex values")):
        check_estimator(binom, equals=_returning(lambda v: v + 1j), examples=3, out=tmp_path)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(equals="binom", starts=1.5), "starts=1.5 must be an integer >= 0"),
    (dict(equals="binom", examples=True), "examples=True must be an integer >= 1"),
    (dict(equals="binom", seed=-1), "seed=-1 must be an integer >= 0"),
    (dict(equals="binom", seed="x"), "seed='x' must be an integer >= 0"),
    (dict(equals="binom", max_K=0), "max_K=0 must be an integer >= 1"),
    (dict(equals="binom", max_d=2.5), "max_d=2.5 must be an integer >= 1"),
    (dict(equals="binom", out=3), "out=3 must be a directory path or None"),
    (dict(equals="binom", name=3), "name=3 must be a string"),
    (dict(equals=3), "equals=3 is not one of maml, binom, trunc, fo, imaml or a callable"),
    (dict(equals="exact"), "equals='exact' is not one of"),
    (dict(claim=3), "claim=3 must be a bound id or a list of bound ids"),
    (dict(claim=["thm3.6.binom", None]), "claim=['thm3.6.binom', None] must be a bound id"),
    (dict(claim="thm3.8.sharp"), "claim='thm3.8.sharp' is not a bound id"),
    (dict(claim=[]), "needs equals=... and/or claim=..."),
])
def test_bad_arguments_raise_the_packages_input_error(kwargs, fragment):
    with pytest.raises(VerifyInputError, match=re.escape(fragment)):
        check_estimator(binom, **kwargs)
    with pytest.raises(VerifyInputError, match="estimator=3 must be callable"):
        check_estimator(3, equals="binom")


# -- implicit-gradient estimators (Trajectory, lam[, steps]) -------------------------------------


def test_implicit_estimators_pass_their_claims():
    summary = check_estimator(estimators.imaml_exact, equals="imaml", examples=15)
    assert set(summary) == {"imaml.exact"} and summary["imaml.exact"]["examples"] == 15
    assert summary["imaml.exact"]["max_ratio"] < 1
    cg = lambda traj, lam, steps: estimators.imaml_cg(traj, lam, steps).x
    for steps in (0, 2):  # 0 steps: g itself, within 2 sqrt(kappa) ||g - x*||
        assert check_estimator(cg, claim="imaml.cg", steps=steps, examples=10)["imaml.cg"]["max_ratio"] <= 1
    zero_start = lambda traj, lam, steps: estimators.imaml_cg(traj, lam, steps, x0="zero").x
    assert check_estimator(zero_start, claim="imaml.cg", steps=1, x0="zero", examples=10)


def test_wrong_implicit_estimators_are_caught():
    with pytest.raises(AssertionError, match="estimator violates imaml.exact"):  # first-order MAML
        check_estimator(lambda traj, lam: traj.g, equals="imaml", examples=20)
    with pytest.raises(AssertionError, match="estimator violates imaml.cg"):  # claims 2 steps, takes 1
        check_estimator(lambda traj, lam, steps: estimators.imaml_cg(traj, lam, 1).x, claim="imaml.cg",
                        steps=2, examples=30)
    with pytest.raises(AssertionError, match="returned dtype torch.float32"):
        check_estimator(lambda traj, lam: traj.g.float(), equals="imaml", examples=5)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"claim": "imaml.cg"}, "steps=None must be an integer >= 0"),
    ({"claim": "imaml.cg", "steps": 1, "x0": "ones"}, "x0='ones' must be 'g' or 'zero'"),
    ({"claim": ["imaml.cg", "thm3.6.binom"], "steps": 1}, "do not mix them"),
    ({"equals": "binom", "steps": 2}, "steps= and x0= belong to the implicit-gradient claim"),
])
def test_implicit_claims_refuse_bad_arguments(kwargs, fragment):
    with pytest.raises(VerifyInputError, match=re.escape(fragment)):
        check_estimator(lambda traj, lam, steps=0: traj.g, examples=2, **kwargs)


def test_an_implicit_estimator_that_raises_is_one_error():
    with pytest.raises(EstimatorError, match=r"the estimator raised ZeroDivisionError: .*fn\(trajectory, lam\)"):
        check_estimator(lambda traj, lam: 1 / 0, equals="imaml", examples=2)


def test_check_estimator_cli_implicit_claims(capsys):
    import binomgbml

    assert binomgbml.main(["check-estimator", "estimators:imaml_exact", "--equals", "imaml", "--examples", "5"]) == 0
    assert "imaml.exact: holds (5 examples" in capsys.readouterr().out
    assert binomgbml.main(["check-estimator", "estimators:fo", "--equals", "imaml", "--examples", "10"]) == 2
    assert "the estimator raised TypeError" in capsys.readouterr().err  # fo takes (traj), not (traj, lam)
