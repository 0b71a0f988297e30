"""verify.strategies: the drawn objects satisfy the paper's assumptions, extremes are reachable,
and bad arguments are refused with a message naming them."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings, strategies as st
from hypothesis.errors import InvalidArgument

import bounds
from verify.rationals import spectrum_violation
from verify.strategies import bound_parameters, hessian_sequences, householder, trajectories

INTERVALS = {"3.5": lambda k, K, M: (-2, 2), "3.7": lambda k, K, M: (0, 2),
             "3.9": lambda k, K, M: (Fraction(1, 3), 2) if k >= K - M else (-2, 2)}


def _kw(assumption):
    return dict(H=2, h=Fraction(1, 3), M=1) if assumption == "3.9" else dict(H=2)


@pytest.mark.parametrize("assumption", ["3.5", "3.7", "3.9"])
@settings(max_examples=15)
@given(data=st.data())
def test_exact_hessians_are_symmetric_with_spectra_exactly_in_the_assumed_interval(assumption, data):
    K = data.draw(st.integers(1, 4))
    hs = data.draw(hessian_sequences(K=K, d=st.integers(1, 3), assumption=assumption, exact=True,
                                     **_kw(assumption)))
    assert hs.shape[0] == K and all(isinstance(x, Fraction) for x in hs.ravel())
    for k, Hk in enumerate(hs):
        # exact: principal minors of H - lo I and hi I - H are >= 0
        assert spectrum_violation(Hk, *INTERVALS[assumption](k, K, 1)) is None


@pytest.mark.parametrize("assumption", ["3.5", "3.7", "3.9"])
@settings(max_examples=15)
@given(data=st.data())
def test_float_hessians_have_spectra_in_the_interval(assumption, data):
    K = data.draw(st.integers(1, 4))
    hs = data.draw(hessian_sequences(K=K, d=3, assumption=assumption, **_kw(assumption)))
    assert hs.dtype == np.float64
    for k, Hk in enumerate(hs):
        lo, hi = INTERVALS[assumption](k, K, 1)
        ev = np.linalg.eigvalsh(Hk)
        assert np.allclose(Hk, Hk.T, atol=1e-14)
        assert ev.min() >= float(lo) - 1e-12 and ev.max() <= float(hi) + 1e-12


@settings(max_examples=15)
@given(hessian_sequences(K=3, d=3, commuting=True, exact=True))
def test_commuting_sequences_commute_exactly(hs):
    for A in hs:
        for B in hs:
            assert (A @ B == B @ A).all()


def test_householder_products_are_exactly_orthogonal():
    Q = householder([[1, 2, Fraction(1, 3)], [0, -1, 5]], 3, exact=True)
    assert (Q @ Q.T == np.eye(3, dtype=int)).all()


GENERATE_ONLY = settings(phases=[Phase.generate], max_examples=5000, database=None)


def test_extreme_cases_are_reachable():
    minus_H = find(hessian_sequences(K=2, d=2, H=1, exact=True),
                   lambda hs: all((Hk == -np.eye(2, dtype=int)).all() for Hk in hs), settings=GENERATE_ONLY)
    assert (minus_H[0] == -np.eye(2, dtype=int)).all()
    # a rank-one projection H q q^T that is not diagonal
    rank_one = find(hessian_sequences(K=1, d=2, assumption="3.7", H=1, exact=True),
                    lambda hs: hs[0][0, 1] != 0 and hs[0][0, 0] * hs[0][1, 1] == hs[0][0, 1] ** 2
                    and hs[0][0, 0] + hs[0][1, 1] == 1, settings=GENERATE_ONLY)
    assert rank_one[0][0, 1] != 0
    non_commuting = find(hessian_sequences(K=2, d=2, exact=True),
                         lambda hs: not (hs[0] @ hs[1] == hs[1] @ hs[0]).all(), settings=GENERATE_ONLY)
    assert not (non_commuting[0] @ non_commuting[1] == non_commuting[1] @ non_commuting[0]).all()


@pytest.mark.parametrize("theorem", ["3.6", "3.8", "3.10"])
@settings(max_examples=20)
@given(data=st.data())
def test_bound_parameters_satisfy_the_theorem_conditions(theorem, data):
    exact = data.draw(st.booleans())
    p = data.draw(bound_parameters(theorem=theorem, exact=exact))
    assert bounds.not_applicable(theorem, p["K"], p["L"], p["alpha"], p["H"], p["h"], p["M"]) is None
    assert (p["h"] is None) == (theorem != "3.10")
    if exact:
        assert isinstance(p["alpha"], Fraction) and isinstance(p["H"], Fraction)


def test_exact_bound_parameters_from_float_values_are_fractions():
    p = find(bound_parameters(theorem="3.10", K=4, alpha=0.5, H=1.0, h=0.25, exact=True), lambda p: True)
    assert all(type(p[k]) is Fraction for k in ("alpha", "H", "h"))
    assert (p["alpha"], p["H"], p["h"]) == (Fraction(1, 2), 1, Fraction(1, 4))


def test_bound_parameters_3_10_draws_M_to_fit_a_given_L():
    p = find(bound_parameters(theorem="3.10", K=6, L=1), lambda p: True, settings=GENERATE_ONLY)
    assert p["M"] == 1 and bounds.not_applicable("3.10", **p) is None


def test_bound_parameters_accept_values_and_strategies():
    p = find(bound_parameters(theorem="3.8", K=4, L=st.just(2), alpha=Fraction(1, 4), H=1, exact=True),
             lambda p: True)
    assert (p["K"], p["L"], p["alpha"]) == (4, 2, Fraction(1, 4))


@pytest.mark.parametrize("strategy, fragment", [
    (lambda: hessian_sequences(K=0, d=2), "K=0"),
    (lambda: hessian_sequences(K=2, d=2, assumption="3.8"), "assumption='3.8'"),
    (lambda: hessian_sequences(K=2, d=2, assumption="3.9"), "needs h and M"),
    (lambda: hessian_sequences(K=2, d=2, assumption="3.9", H=1, h=2, M=1), "h=2"),
    (lambda: hessian_sequences(K=2, d=2, H=-1), "H=-1"),
    (lambda: bound_parameters(theorem="3.7"), "theorem='3.7'"),
    (lambda: bound_parameters(theorem="3.8", alpha=2, H=1), "alpha=2"),
    (lambda: bound_parameters(theorem="3.6", M=1), "h and M apply to theorem 3.10"),
    (lambda: bound_parameters(theorem="3.8", alpha=0.1, H=10, exact=True), "breaks alpha <= 1/H"),
    (lambda: hessian_sequences(K=2, d=2, commuting="yes"), "commuting='yes' must be True or False"),
])
def test_bad_arguments_name_the_argument(strategy, fragment):
    with pytest.raises(InvalidArgument, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        find(strategy(), lambda x: True)


@settings(max_examples=5)
@given(trajectories(K=3, d=2, assumption="3.7", alpha=0.5))
def test_trajectories_are_estimator_trajectories(traj):
    from estimators import Trajectory

    assert isinstance(traj, Trajectory) and traj.K == 3 and traj.d == 2 and traj.alpha == 0.5
