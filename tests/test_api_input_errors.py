"""Bad input to the public API of estimators and verify.check raises the package's input error
(estimators.EstimatorInputError, verify.errors.VerifyInputError: both ValueError subclasses, so the
CLI prints them as one line), never a bare TypeError / ValueError / RuntimeError from deep inside.
One test per class of bad input, each trying several members."""

from __future__ import annotations

import pytest
import torch

import estimators
from estimators import EstimatorInputError, Trajectory
from verify.check import check_estimator
from verify.errors import VerifyInputError


def mse(out, y):
    return ((out - y) ** 2).mean()


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    x, y = torch.randn(6, 2, dtype=torch.float64), torch.randn(6, 1, dtype=torch.float64)
    return model, x, y


def one_line(error: pytest.ExceptionInfo, *names: str) -> None:
    text = str(error.value)
    assert "\n" not in text and all(n in text for n in names), text


@pytest.mark.parametrize("loss_fn, support, names", [
    (mse, "short_targets", ["support", "size"]),            # output and target shapes do not match
    (lambda o, t: (o - t) ** 2, "ok", ["(6, 1)", "scalar"]),   # not a scalar
    (lambda o, t: (o, t), "ok", ["tuple", "scalar"]),          # not a tensor
    (lambda o: o.sum(), "ok", ["support"]),                  # wrong arity
    (mse, "wide_inputs", ["support", "shapes"]),             # inputs the model cannot take
    (mse, "no_pair", ["support", "pair"]),
])
def test_loss_and_data_that_do_not_fit_the_model(setup, loss_fn, support, names):
    model, x, y = setup
    data = {"short_targets": (x, y[:3]), "ok": (x, y), "wide_inputs": (torch.randn(6, 5, dtype=torch.float64), y),
            "no_pair": x}[support]
    with pytest.raises(EstimatorInputError) as error:
        Trajectory.from_model(model, loss_fn, data, (x, y), K=3, alpha=0.01)
    one_line(error, *names)
    with pytest.raises(EstimatorInputError):
        estimators.meta_gradient(model, loss_fn, [(data, (x, y))], 3, 0.01, "maml")


@pytest.mark.parametrize("estimator, options, names", [
    ("binom", {}, ["estimator='binom'", "'L'"]),             # binom without L
    ("trunc", {}, ["estimator='trunc'", "'L'"]),
    ("nope", {}, ["estimator='nope'", "one of"]),
    ("binom", {"L": "2"}, ["L='2'", "integer"]),
    ("binom", {"L": 9}, ["L=9", "<= 3"]),
    ("maml", {"foo": 1}, ["foo=1"]),
    ("binom", {"L": 1, "chunk_size": 0}, ["chunk_size=0"]),
    ("maml", {"hvp": "bad"}, ["hvp='bad'"]),
])
def test_estimator_names_and_options(setup, estimator, options, names):
    model, x, y = setup
    tasks = [((x, y), (x, y))]
    with pytest.raises(EstimatorInputError) as error:
        estimators.meta_gradient(model, mse, tasks, 3, 0.01, estimator, **options)
    one_line(error, *names)
    with pytest.raises(EstimatorInputError):
        estimators.MetaObjective(model, mse, K=3, alpha=0.01, estimator=estimator, **options)(tasks)


@pytest.mark.parametrize("estimator, names", [
    (lambda t: torch.zeros(2, dtype=torch.float64), ["shape (2,)", "(13,)"]),
    (lambda t: torch.zeros(13, 1, dtype=torch.float64), ["shape (13, 1)"]),
    (lambda t: torch.zeros(13), ["torch.float32", "float64"]),
    (lambda t: None, ["NoneType"]),
    (lambda t: [0.0] * 13, ["list"]),
    (lambda: None, ["cannot be called"]),
])
def test_callables_of_the_wrong_shape_or_signature(setup, estimator, names):
    model, x, y = setup
    tasks = [((x, y), (x, y))]
    with pytest.raises(EstimatorInputError) as error:
        estimators.accumulate_meta_gradient(model, mse, tasks, K=3, alpha=0.01, estimator=estimator)
    one_line(error, *names)
    with pytest.raises(EstimatorInputError):
        estimators.meta_gradient(model, mse, tasks, 3, 0.01, estimator)


@pytest.mark.parametrize("call, names", [
    (lambda: Trajectory.from_hessians(torch.eye(2)[None].double(), torch.ones(3, dtype=torch.float64), 0.1),
     ["g has shape (3,)"]),
    (lambda: Trajectory.from_hessians(torch.ones(1, 2, 3, dtype=torch.float64), torch.ones(2, dtype=torch.float64), 0.1),
     ["(1, 2, 3)", "K x d x d"]),
    (lambda: Trajectory.from_hessians([[[1.0]], [[1.0, 2.0]]], [1.0], 0.1), ["H cannot be read"]),
    (lambda: Trajectory.from_hessians(torch.eye(2, dtype=torch.complex128)[None],
                                      torch.ones(2, dtype=torch.complex128), 0.1), ["complex128"]),
    (lambda: Trajectory.from_hessians(torch.eye(2)[None].double(), torch.ones(2, dtype=torch.float64), 0.1,
                                      H_final=torch.eye(3).double()), ["H_final has shape (3, 3)"]),
    (lambda: Trajectory.from_hessians(torch.eye(2)[None].double(), torch.ones(2, dtype=torch.float64), 0.1)
     .unflatten(torch.zeros(3)), ["(3,)"]),
])
def test_arrays_of_the_wrong_shape(call, names):
    with pytest.raises(EstimatorInputError) as error:
        call()
    one_line(error, *names)


def binom(traj, L):
    return estimators.binom(traj, L)


@pytest.mark.parametrize("kwargs, names", [
    ({"equals": "binom", "starts": 1.5}, ["starts=1.5", "integer"]),
    ({"equals": "binom", "examples": 0}, ["examples=0"]),
    ({"equals": "binom", "examples": True}, ["examples=True"]),
    ({"equals": "binom", "seed": -1}, ["seed=-1"]),
    ({"equals": "binom", "max_d": 0}, ["max_d=0"]),
    ({"equals": "binom", "out": 3}, ["out=3"]),
    ({"equals": "nope"}, ["equals='nope'"]),
    ({"claim": "nope"}, ["claim='nope'"]),
    ({"claim": ["thm3.6.binom", 3]}, ["claim="]),
    ({"claim": []}, ["equals=", "claim="]),
])
def test_check_estimator_arguments(kwargs, names):
    with pytest.raises(VerifyInputError) as error:
        check_estimator(binom, **kwargs)
    one_line(error, *names)


@pytest.mark.parametrize("equals, names", [
    (lambda t, L: torch.zeros(7, dtype=torch.float64), ["shape (7,)"]),
    (lambda t, L: torch.zeros(1), ["float32"]),
    (lambda t: estimators.maml(t), ["TypeError"]),
])
def test_check_estimator_references_of_the_wrong_shape_or_signature(equals, names):
    with pytest.raises(VerifyInputError) as error:
        check_estimator(binom, equals=equals, examples=2, starts=0)
    assert all(n in str(error.value) for n in names), str(error.value)
