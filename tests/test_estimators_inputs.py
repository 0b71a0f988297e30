"""What Trajectory.from_model and maml_autograd refuse, and frozen parameters.

Each class of bad input is tried with several members, in every hvp mode where the mode matters:
a model whose forward pass is random, non-finite data or parameters, a loss that fails, is not a
scalar or broadcasts mismatched shapes. Frozen parameters (requires_grad=False) are held fixed and
get no meta-gradient; the yardstick is the same model with those tensors registered as buffers
(constants by construction), through maml_autograd and the dense reference.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from estimators import (
    HVP_MODES,
    EstimatorInputError,
    Trajectory,
    accumulate_meta_gradient,
    binom,
    maml,
    maml_autograd,
    trunc,
)
from estimators import reference as ref

ALPHA, K = 0.1, 3


@pytest.fixture(scope="module", autouse=True)
def one_intra_op_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def data(seed=0, n=8, d_in=3, classes=None):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d_in, generator=gen, dtype=torch.float64)
    y = (torch.randint(0, classes, (n,), generator=gen) if classes
         else torch.randn(n, 1, generator=gen, dtype=torch.float64))
    return x, y


def mse(out, y):
    return ((out - y) ** 2).mean()


def rel(a, b) -> float:
    b = torch.as_tensor(b, dtype=a.dtype)
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


def both(model, loss_fn, support, query, **kwargs):
    """Trajectory.from_model and maml_autograd on the same input: each must raise."""
    return [lambda: Trajectory.from_model(model, loss_fn, support, query, K, ALPHA, **kwargs),
            lambda: maml_autograd(model, loss_fn, support, query, K, ALPHA)]


# -- models whose forward pass is not a deterministic function of the parameters ------------------

class Noisy(nn.Module):
    """Adds torch.randn noise in forward (a random op outside any layer)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1).double()

    def forward(self, x):
        return self.lin(x) + 0.1 * torch.randn(x.shape[0], 1, dtype=x.dtype)


class FunctionalDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1).double()

    def forward(self, x):
        return self.lin(F.dropout(x, 0.5, training=True))


class NumpyNoise(nn.Module):
    """Randomness outside torch's generator: only a second evaluation can tell."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1).double()

    def forward(self, x):
        return self.lin(x) * float(1 + np.random.default_rng().normal())


class DrawsButIgnores(nn.Module):
    """Draws a random number and does not use it: deterministic, accepted."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1).double()

    def forward(self, x):
        torch.rand(1)
        return self.lin(x)


def stochastic_models():
    torch.manual_seed(0)
    return {
        "Dropout": nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 1)).double(),
        "Dropout2d-like AlphaDropout": nn.Sequential(nn.Linear(3, 8), nn.AlphaDropout(0.5),
                                                     nn.Linear(8, 1)).double(),
        "RReLU": nn.Sequential(nn.Linear(3, 8), nn.RReLU(), nn.Linear(8, 1)).double(),
        "torch.randn in forward": Noisy(),
        "F.dropout in forward": FunctionalDropout(),
        "numpy noise in forward": NumpyNoise(),
    }


@pytest.mark.parametrize("name", list(stochastic_models()))
@pytest.mark.parametrize("hvp", HVP_MODES)
def test_a_random_forward_pass_is_refused_in_every_mode(name, hvp):
    model = stochastic_models()[name]
    for call in both(model, mse, data(1), data(2), hvp=hvp):
        with pytest.raises(EstimatorInputError) as info:
            call()
        message = str(info.value)
        assert "not a deterministic function of its parameters" in message, name
        assert "need model.eval()" in message and "\n" not in message
        if name in ("Dropout", "RReLU"):  # the layer in training mode is named
            assert "in training mode: '1' (" + name in message


def test_a_random_model_in_eval_mode_and_one_that_ignores_its_draws_are_accepted():
    support, query = data(1), data(2)
    for model in [stochastic_models()["Dropout"].eval(), stochastic_models()["RReLU"].eval(),
                  DrawsButIgnores().double()]:
        traj = Trajectory.from_model(model, mse, support, query, K, ALPHA)
        assert rel(maml(traj), maml_autograd(model, mse, support, query, K, ALPHA)) < 1e-10


# -- non-finite data and parameters are bad input, not a diverging inner loop -------------------------

@pytest.mark.parametrize("where,needle", [
    ("support inputs", "support inputs have 1 non-finite entries (NaN or inf) of 24"),
    ("support targets", "support targets have 1 non-finite entries"),
    ("query inputs", "query inputs have 1 non-finite entries"),
    ("query targets", "query targets have 1 non-finite entries"),
])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_data_names_the_tensor(where, needle, bad):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    sets = {"support": list(data(1)), "query": list(data(2))}
    what, part = where.split()
    sets[what][0 if part == "inputs" else 1][0, 0] = bad
    for call in both(model, mse, tuple(sets["support"]), tuple(sets["query"])):
        with pytest.raises(EstimatorInputError, match="need finite data") as info:
            call()
        assert needle in str(info.value) and "diverged" not in str(info.value)


def test_non_finite_parameters_and_a_non_finite_loss_at_theta_are_named():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    with torch.no_grad():
        model[2].bias.fill_(float("nan"))
    for call in both(model, mse, data(1), data(2)):
        with pytest.raises(EstimatorInputError, match="model parameter '2.bias' has non-finite"):
            call()
    model = nn.Sequential(nn.Linear(3, 1)).double()
    for call in both(model, lambda out, y: torch.log(out - 1e6).mean(), data(1), data(2)):
        with pytest.raises(EstimatorInputError, match="loss_fn on the support set is nan at theta"):
            call()


# -- a loss that fails, is not a scalar or broadcasts mismatched shapes ------------------------------

def _raises_type_error(out, y):
    return out.sum() + "1"


@pytest.mark.parametrize("loss_fn,support,needle", [
    (lambda out, y: (out - y) ** 2, data(1), "returned (8, 1): need a scalar tensor"),
    (lambda out, y: float(((out - y) ** 2).mean()), data(1), "returned float: need a scalar"),
    (_raises_type_error, data(1), "failed on the support set"),                      # TypeError
    (F.mse_loss, (data(1)[0], data(1)[1][:, 0]), "broadcasts mismatched shapes"),   # (8,1) vs (8,)
    (F.binary_cross_entropy, (data(1)[0], torch.rand(7, 1, dtype=torch.float64)),
     "failed on the support set"),                                                  # ValueError
    (F.cross_entropy, (data(1)[0], torch.zeros(8, dtype=torch.float64)), "failed on the support set"),
    (F.cross_entropy, (data(1)[0], torch.zeros(5, dtype=torch.long)), "failed on the support set"),
])
def test_a_failing_or_mismatched_loss_is_an_input_error(loss_fn, support, needle):
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(3, 1), nn.Sigmoid()).double()
    for call in both(model, loss_fn, support, data(2)):
        with pytest.raises(EstimatorInputError) as info:
            call()
        assert needle in str(info.value) or "did not return a scalar" in str(info.value)
        assert "\n" not in str(info.value)


# -- frozen parameters ----------------------------------------------------------------------------------

class WithBuffers(nn.Module):
    """The MLP with chosen parameters registered as buffers instead: constants by construction."""

    def __init__(self, mlp: nn.Sequential, frozen: set[str]):
        super().__init__()
        self.frozen = frozen
        for name, p in mlp.named_parameters():
            key = name.replace(".", "_")
            if name in frozen:
                self.register_buffer(key, p.detach().clone())
            else:
                self.register_parameter(key, nn.Parameter(p.detach().clone()))

    def forward(self, x):
        t = dict(self.named_parameters()) | dict(self.named_buffers())
        h = torch.tanh(F.linear(x, t["0_weight"], t["0_bias"]))
        h = torch.tanh(F.linear(h, t["2_weight"], t["2_bias"]))
        return F.linear(h, t["4_weight"], t["4_bias"])


def frozen_mlp(frozen: set[str]):
    torch.manual_seed(6)
    mlp = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    for name, p in mlp.named_parameters():
        p.requires_grad_(name not in frozen)
    return mlp, WithBuffers(mlp, frozen)


FROZEN = [{"0.weight", "0.bias"}, {"2.bias"}, {"4.weight", "4.bias"}, {"0.weight", "2.weight", "4.bias"}]


def dense_hessians(model, support, query, K, alpha):
    """H^0..H^{K-1} and g of a model all of whose parameters are adapted, by plain autograd."""
    named = list(model.named_parameters())
    sizes = [p.numel() for _, p in named]

    def loss_at(flat, xy):
        parts = dict(zip([n for n, _ in named], [t.view_as(p) for t, (_, p) in
                                                 zip(torch.split(flat, sizes), named)]))
        return mse(torch.func.functional_call(model, parts, (xy[0],)), xy[1])

    phi = torch.cat([p.detach().reshape(-1) for _, p in named])
    H = []
    for _ in range(K):
        H.append(torch.autograd.functional.hessian(lambda f: loss_at(f, support), phi))
        x = phi.clone().requires_grad_(True)
        phi = phi - alpha * torch.autograd.grad(loss_at(x, support), x)[0]
    x = phi.clone().requires_grad_(True)
    return torch.stack(H).numpy(), torch.autograd.grad(loss_at(x, query), x)[0].numpy()


@pytest.mark.parametrize("frozen", FROZEN, ids=lambda f: ",".join(sorted(f)))
@pytest.mark.parametrize("hvp", HVP_MODES)
def test_frozen_parameters_are_held_fixed_and_get_no_meta_gradient(frozen, hvp):
    model, constants = frozen_mlp(frozen)
    support, query = data(7), data(8)
    adapted = [n for n, p in model.named_parameters() if p.requires_grad]
    traj = Trajectory.from_model(model, mse, support, query, K, ALPHA, hvp=hvp)
    assert traj.names == adapted
    assert traj.shapes == [p.shape for n, p in model.named_parameters() if p.requires_grad]
    assert traj.d == sum(p.numel() for p in model.parameters() if p.requires_grad)
    H, g = dense_hessians(constants, support, query, K, ALPHA)
    truth = maml_autograd(constants, mse, support, query, K, ALPHA)
    assert rel(traj.g, g) < 1e-12
    assert rel(maml(traj), truth) < 1e-10
    assert rel(maml_autograd(model, mse, support, query, K, ALPHA), truth) < 1e-12
    for L in range(K + 1):
        assert rel(binom(traj, L), ref.truncated_expansion(H, g, ALPHA, L)) < 1e-10, L
    assert rel(trunc(traj, 1), ref.truncated(H, g, ALPHA, 1)) < 1e-10
    assert list(traj.unflatten(maml(traj))) == adapted


def test_an_optimizer_step_leaves_frozen_parameters_unchanged():
    model, constants = frozen_mlp({"0.weight", "2.bias"})
    tasks = [(data(9), data(10)), (data(11), data(12))]
    truth = sum(maml_autograd(constants, mse, s, q, K, ALPHA) for s, q in tasks) / 2
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    accumulate_meta_gradient(model, mse, tasks, K, ALPHA, estimator="binom", L=K)
    assert model[0].weight.grad is None and model[2].bias.grad is None
    grads = torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.requires_grad])
    assert rel(grads, truth) < 1e-10
    torch.optim.Adam(model.parameters(), lr=0.1).step()
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) == (name in {"0.weight", "2.bias"}), name


def test_a_model_with_every_parameter_frozen_is_refused():
    model, _ = frozen_mlp({n for n, _ in frozen_mlp(set())[0].named_parameters()})
    for call in both(model, mse, data(1), data(2)):
        with pytest.raises(EstimatorInputError, match="all 6 are frozen, so there is nothing to adapt"):
            call()


# -- adapting some parameters, meta-learning the others ------------------------------------------

def _head_body_mlp():
    torch.manual_seed(12)
    return nn.Sequential(nn.Linear(1, 12), nn.Tanh(), nn.Linear(12, 12), nn.Tanh(),
                         nn.Linear(12, 1)).double()


@pytest.mark.parametrize("adapted,frozen", [
    (["4.weight", "4.bias"], []),                  # the head only ("last layer only")
    (["0.weight", "0.bias"], []),                  # the first layer only
    (["2.weight", "4.bias"], ["0.bias"]),          # scattered, with a frozen parameter
])
def test_adapted_parameters_get_their_estimate_and_the_others_their_exact_meta_gradient(adapted, frozen):
    """With ``adapted``, maml(traj) (the adapted part) and traj.meta_only_gradient() (the meta-only
    part) together equal maml_autograd through the unrolled loop (theta and w differentiated, w
    held fixed in the inner loop) to 1e-12, in every hvp mode (and both memory options of the
    autograd modes); frozen parameters get neither."""
    model = _head_body_mlp()
    for name in frozen:
        dict(model.named_parameters())[name].requires_grad_(False)
    gen = torch.Generator().manual_seed(13)
    x, xq = (-5 + 10 * torch.rand(8, 1, generator=gen, dtype=torch.float64) for _ in range(2))
    support, query, K, alpha = (x, torch.sin(x)), (xq, torch.cos(xq)), 3, 0.1
    truth = maml_autograd(model, mse, support, query, K, alpha, adapted=adapted)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    parts = dict(zip([n for n, _ in trainable], torch.split(truth, [p.numel() for _, p in trainable])))
    meta_only = [n for n, _ in trainable if n not in adapted]
    for hvp, memory in [(m, "fast") for m in HVP_MODES] + [("graph", "flat"), ("auto", "flat")]:
        traj = Trajectory.from_model(model, mse, support, query, K, alpha, hvp=hvp,
                                     memory=memory, adapted=adapted)
        assert traj.names == [n for n, _ in trainable if n in adapted]
        assert traj.meta_only_names == meta_only and not set(frozen) & set(traj.meta_only_names)
        head = torch.cat([parts[n].reshape(-1) for n in traj.names])
        body = torch.cat([parts[n].reshape(-1) for n in meta_only])
        assert rel(maml(traj), head) < 1e-12 and rel(binom(traj, K), head) < 1e-12, hvp
        assert rel(traj.meta_only_gradient(), body) < 1e-12, (hvp, memory)


def test_adapted_none_or_all_is_the_default_and_bad_choices_are_refused():
    model = _head_body_mlp()
    x = torch.linspace(-2, 2, 6, dtype=torch.float64).unsqueeze(1)
    data, names = (x, torch.sin(x)), [n for n, _ in model.named_parameters()]
    every = maml_autograd(model, mse, data, data, 2, 0.1)
    assert torch.equal(maml_autograd(model, mse, data, data, 2, 0.1, adapted=names), every)
    traj = Trajectory.from_model(model, mse, data, data, 2, 0.1, adapted=names)
    assert traj.meta_only_names == [] and traj.meta_only_gradient().shape == (0,)
    assert rel(maml(traj), every) < 1e-12
    dict(model.named_parameters())["0.bias"].requires_grad_(False)
    for adapted, needle in [(["head"], "'head', which is not a parameter"),
                            (["0.bias"], "'0.bias', which is frozen"), ([], "names no parameter"),
                            ("4.weight", "must be a collection of parameter names")]:
        for call in (lambda: Trajectory.from_model(model, mse, data, data, 2, 0.1, adapted=adapted),
                     lambda: maml_autograd(model, mse, data, data, 2, 0.1, adapted=adapted)):
            with pytest.raises(EstimatorInputError, match=needle):
                call()
    with pytest.raises(EstimatorInputError, match="explicit Hessians has no meta-only"):
        Trajectory.from_hessians(torch.eye(2).expand(1, 2, 2).double(), torch.ones(2).double(),
                                 0.1).meta_only_gradient()
