"""Bayesian meta-gradients of iBaML (Zhang, Li, Gao, Giannakis, AAAI 2023): explicit and implicit.

A task of Bayesian meta-learning (iBaML problem (5)) has a diagonal Gaussian prior
``p(theta_t; theta) = N(m, diag(d))`` with learnable ``theta = [m; d]`` and a surrogate posterior
``q(theta_t; v) = N(m_t, diag(d_t))``, ``v = [m_t; d_t]`` (both flat tensors of length 2d, the
variances positive). A :class:`BayesianTask` supplies two functions:

* ``train_nll(m_t, d_t)`` -- the expected negative log-likelihood ``L^tr(v)`` on the training set
  (Lemma 1), and
* ``val_loss(m_t, d_t, m, d)`` -- the meta-loss ``L^val(v, theta)`` (problem (5)).

The inner level minimises ``KL(q || posterior) = L^tr(v) + KL(q(.; v) || p(.; theta)) + const``
by K steps of gradient descent (:func:`bayes_inner_loop`). Two meta-gradient estimators:

* :func:`bayes_explicit` -- the explicit Bayesian meta-gradient, eq. (9): backpropagation through
  the K inner steps (``torch.func.grad`` of the unrolled loop; O(K d) memory);
* :func:`ibaml` -- the generalized implicit gradient, eqs. (14)-(17): conjugate gradient on
  ``H_t(v_hat) u = nabla_1 L^val`` with the product (16), then ``g_hat = G_t(v_hat) u + nabla_2 L^val``
  by (17). CG is only justified for a positive definite ``H_t(v_hat)`` (problem (15) has no
  minimiser otherwise); a non-positive curvature met by CG is detected and, with ``solver="auto"``,
  the system is solved densely instead (Lemma 1 needs only invertibility), with diagnostics.

Everything runs on the device and in the dtype of ``theta`` (float32 or float64). The exact
yardstick is :mod:`estimators.reference_bayes` (independent code, linear-Gaussian model (19)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.func import grad, jvp, vmap

from .errors import EstimatorInputError, check_int, check_positive
from .implicit import conjugate_gradient

__all__ = ["SOLVERS", "BayesianTask", "IbamlResult", "bayes_explicit", "bayes_inner_loop", "ibaml",
           "kl_divergence", "linear_gaussian_task"]

#: how :func:`ibaml` solves H_t(v_hat) u = nabla_1 L^val
SOLVERS = ("auto", "cg", "dense")

Tensor = torch.Tensor


@dataclass(frozen=True)
class BayesianTask:
    """One task: ``train_nll(m_t, d_t) -> L^tr`` and ``val_loss(m_t, d_t, m, d) -> L^val`` (scalars)."""

    train_nll: Callable[[Tensor, Tensor], Tensor]
    val_loss: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]


def kl_divergence(m_t: Tensor, d_t: Tensor, m: Tensor, d: Tensor) -> Tensor:
    """KL(N(m_t, diag d_t) || N(m, diag d)) = sum_i [d_t/d + (m_t - m)^2/d - 1 + log d - log d_t] / 2."""
    return 0.5 * torch.sum(d_t / d + (m_t - m) ** 2 / d - 1 + torch.log(d) - torch.log(d_t))


def linear_gaussian_task(X: Tensor, y: Tensor, X_val: Tensor, y_val: Tensor, sigma2: float,
                         kappa: float = 0.0) -> BayesianTask:
    """iBaML's linear-Gaussian model, eq. (19): ``y = X^T theta_t + e``, e white with variance sigma2.

    ``X`` is d x N (one column per sample, as in the paper). ``L^tr`` is the expected nll
    ``(|y - X^T m_t|^2 + sum_i d_t,i [X X^T]_ii) / (2 sigma2)`` (constants dropped), ``L^val`` the
    same on the validation data plus ``kappa KL(q || p)`` (a direct dependence on theta).
    """
    sigma2 = check_positive("sigma2", sigma2)
    if isinstance(kappa, bool) or not isinstance(kappa, (int, float)) or not kappa >= 0:
        raise EstimatorInputError(f"kappa={kappa!r} must be a real number >= 0")
    for name, Z, z in (("X", X, y), ("X_val", X_val, y_val)):
        if Z.ndim != 2 or z.shape != (Z.shape[1],) or Z.shape[0] != X.shape[0]:
            raise EstimatorInputError(f"{name} has shape {tuple(Z.shape)} and its targets "
                                      f"{tuple(z.shape)}: need d x N and (N,), with the same d")

    def expected_nll(Z, z, m_t, d_t):
        return (torch.sum((z - Z.T @ m_t) ** 2) + torch.sum(d_t * torch.sum(Z * Z, dim=1))) / (2 * sigma2)

    def val_loss(m_t, d_t, m, d):
        nll = expected_nll(X_val, y_val, m_t, d_t)
        return nll + kappa * kl_divergence(m_t, d_t, m, d) if kappa else nll

    return BayesianTask(lambda m_t, d_t: expected_nll(X, y, m_t, d_t), val_loss)


# --------------------------------------------------------------------------------------------
# checks


def _halves(x: Tensor) -> tuple[Tensor, Tensor]:
    n = x.shape[0] // 2
    return x[:n], x[n:]


def _check_point(name: str, x: Tensor, like: Tensor | None = None) -> Tensor:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise EstimatorInputError(f"{name} must be a floating-point torch tensor, got {type(x).__name__}"
                                  + (f" of {x.dtype}" if isinstance(x, torch.Tensor) else ""))
    if x.ndim != 1 or x.shape[0] == 0 or x.shape[0] % 2:
        raise EstimatorInputError(f"{name} has shape {tuple(x.shape)}: need (2d,) = [mean; variance]")
    if like is not None and (x.shape != like.shape or x.dtype != like.dtype or x.device != like.device):
        raise EstimatorInputError(f"{name} is {tuple(x.shape)} {x.dtype} on {x.device}: need "
                                  f"{tuple(like.shape)} {like.dtype} on {like.device}, like theta")
    if not bool(torch.isfinite(x).all()):
        raise EstimatorInputError(f"{name} has non-finite entries")
    variance = _halves(x)[1]
    if not bool((variance > 0).all()):
        i = int(torch.nonzero(variance <= 0)[0])
        raise EstimatorInputError(f"{name}: variance entry {i} is {float(variance[i])!r}: need > 0 "
                                  "(Assumption 5 / a Gaussian)")
    return x


def _scalar(name: str, value: Tensor) -> Tensor:
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise EstimatorInputError(f"{name} must return a scalar tensor, got "
                                  f"{tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__}")
    return value.reshape(())


def _finite(name: str, x: Tensor) -> Tensor:
    if not bool(torch.isfinite(x).all()):
        raise EstimatorInputError(f"{name} is not finite in {x.dtype}: the losses or their "
                                  "derivatives overflowed at this point")
    return x


# --------------------------------------------------------------------------------------------
# the inner level


def _objective(task: BayesianTask):
    """v, theta -> L^tr(v) + KL(q(.; v) || p(.; theta)): problem (5) up to a constant."""

    def objective(v, theta):
        m_t, d_t = _halves(v)
        m, d = _halves(theta)
        return _scalar("train_nll", task.train_nll(m_t, d_t)) + kl_divergence(m_t, d_t, m, d)

    return objective


def bayes_inner_loop(task: BayesianTask, theta: Tensor, alpha: float, K: int,
                     v0: Tensor | None = None) -> Tensor:
    """The K + 1 GD iterates ``v^0..v^K`` (rows) on problem (5), ``v^0 = theta`` unless given.

    Raises when a step makes a variance non-positive (the surrogate leaves the Gaussians: take a
    smaller alpha) or the iterate becomes non-finite.
    """
    theta = _check_point("theta", theta)
    alpha = check_positive("alpha", alpha)
    K = check_int("K", K, 1)
    v = theta.detach().clone() if v0 is None else _check_point("v0", v0, theta).detach().clone()
    step = grad(_objective(task))
    out = [v]
    with torch.no_grad():
        for k in range(K):
            v = v - alpha * step(v, theta.detach())
            variance = _halves(v)[1]
            if not bool(torch.isfinite(v).all()) or not bool((variance > 0).all()):
                raise EstimatorInputError(f"GD step {k + 1} of {K} left the Gaussians (a variance <= 0 "
                                          f"or a non-finite iterate) with alpha={alpha}: need a smaller alpha")
            out.append(v)
    return torch.stack(out)


def bayes_explicit(task: BayesianTask, theta: Tensor, alpha: float, K: int,
                   v0: Tensor | None = None) -> Tensor:
    """The explicit Bayesian meta-gradient, eq. (9): ``grad_theta L^val(v^K(theta), theta)``.

    Backpropagation through the K GD steps of :func:`bayes_inner_loop` (``v^0 = theta`` unless a
    fixed ``v0`` is given), by ``torch.func.grad`` of the unrolled loop: O(K d) memory.
    """
    bayes_inner_loop(task, theta, alpha, K, v0)  # checks the inputs and that every step stays valid
    step = grad(_objective(task))

    def outer(th):
        v = th if v0 is None else v0
        for _ in range(K):
            v = v - alpha * step(v, th)
        m_t, d_t = _halves(v)
        m, d = _halves(th)
        return _scalar("val_loss", task.val_loss(m_t, d_t, m, d))

    return _finite("bayes_explicit", grad(outer)(theta.detach()))


# --------------------------------------------------------------------------------------------
# the generalized implicit gradient


@dataclass(frozen=True)
class IbamlResult:
    """What :func:`ibaml` computed, and how.

    ``grad`` is g_hat (eq. (17)), ``u`` the solution estimate of H_t(v_hat) u = nabla_1 L^val;
    ``solver`` is "cg" or "dense" (what produced ``u``); ``iterations`` the CG steps taken;
    ``residual_norms`` |nabla_1 L^val - H u_j| after each CG step j = 0, 1, ... (recurrence values);
    ``curvatures`` the Rayleigh quotient p_j^T H p_j / p_j^T p_j of each CG step (the CG is
    :func:`estimators.implicit.conjugate_gradient`); ``fallback`` why the dense solve replaced CG
    (None if it did not); ``eigenvalues`` of H_t(v_hat), ascending (dense solves only, else None).
    """

    grad: Tensor
    u: Tensor
    solver: str
    iterations: int
    residual_norms: tuple[float, ...]
    curvatures: tuple[float, ...]
    fallback: str | None
    eigenvalues: Tensor | None

    @property
    def positive_definite(self) -> bool | None:
        """Is H_t(v_hat) positive definite (dense solves), else None (CG cannot certify it)."""
        return None if self.eigenvalues is None else bool(self.eigenvalues[0] > 0)


def _dense_solve(H, b: Tensor):
    """Solve with H assembled from 2d products; refuses a singular H (Lemma 1, Assumption 4)."""
    n = b.shape[0]
    eye = torch.eye(n, dtype=b.dtype, device=b.device)
    Hd = vmap(H)(eye)  # row j is H e_j; H is symmetric
    Hd = 0.5 * (Hd + Hd.T)
    eigenvalues = torch.linalg.eigvalsh(Hd)
    scale = float(eigenvalues.abs().max())
    smallest = float(eigenvalues.abs().min())
    if not smallest > n * torch.finfo(b.dtype).eps * scale:
        raise EstimatorInputError(f"H_t(v_hat) is singular in {b.dtype} (smallest |eigenvalue| "
                                  f"{smallest:.3e}, largest {scale:.3e}): Lemma 1 needs it invertible "
                                  "(Assumption 4)")
    return torch.linalg.solve(Hd, b), eigenvalues


def ibaml(task: BayesianTask, theta: Tensor, v_hat: Tensor, steps: int | None = None, *,
          solver: str = "auto", tol: float = 0.0) -> IbamlResult:
    """The generalized implicit gradient g_hat of iBaML at the inner-level output ``v_hat``.

    1. ``H_t(v_hat) p`` by eq. (16): the HVP of L^tr (forward-over-reverse) plus
       ``[p_m / d ; (1/d + 2 grad_d L^tr(v_hat))^2 p_d / 2]``;
    2. ``u ~ H_t(v_hat)^{-1} nabla_1 L^val(v_hat, theta)`` (eqs. (14)-(15)):
       ``solver="cg"`` -- at most ``steps`` CG iterations from 0 (Algorithm 1 line 7), stopping
       when the residual is <= ``tol |nabla_1 L^val|``; non-positive curvature raises;
       ``solver="auto"`` -- the same, but non-positive curvature switches to the dense solve;
       ``solver="dense"`` -- H assembled from 2d products and solved directly (``steps`` unused);
    3. ``g_hat = [u_m / d ; -grad_m L^tr(v_hat) u_m / d + u_d / (2 d^2)] + nabla_2 L^val``, eq. (17).

    CG's curvature check is necessary, not sufficient: CG can end without meeting a negative
    curvature of an indefinite H; only the dense solve certifies definiteness (``eigenvalues``).
    """
    theta = _check_point("theta", theta)
    v_hat = _check_point("v_hat", v_hat, theta)
    if solver not in SOLVERS:
        raise EstimatorInputError(f"solver={solver!r} is not one of {', '.join(map(repr, SOLVERS))}")
    if solver != "dense":
        if steps is None:
            raise EstimatorInputError(f"solver={solver!r} needs steps (the CG iteration cap L >= 1)")
        steps = check_int("steps", steps, 1)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol < float("inf"):
        raise EstimatorInputError(f"tol={tol!r} must be a finite number >= 0")
    theta, v_hat = theta.detach(), v_hat.detach()
    d = _halves(theta)[1]

    def train(v):
        return _scalar("train_nll", task.train_nll(*_halves(v)))

    def val(v, th):
        return _scalar("val_loss", task.val_loss(*_halves(v), *_halves(th)))

    g_tr = _finite("grad L^tr(v_hat)", grad(train)(v_hat))
    g_m, g_d = _halves(g_tr)
    diagonal = torch.cat([1 / d, 0.5 * (1 / d + 2 * g_d) ** 2])  # the block-diagonal term of (16)
    train_grad = grad(train)

    def H(p):
        return jvp(train_grad, (v_hat,), (p,))[1] + diagonal * p

    b, c = grad(val, argnums=(0, 1))(v_hat, theta)
    b, c = _finite("nabla_1 L^val(v_hat)", b), _finite("nabla_2 L^val(v_hat)", c)
    fallback, eigenvalues = None, None
    residuals: tuple[float, ...]
    curvatures: tuple[float, ...]
    if solver == "dense":
        (u, eigenvalues), used, iterations, residuals, curvatures = _dense_solve(H, b), "dense", 0, (), ()
    else:
        cg = conjugate_gradient(H, b, torch.zeros_like(b), steps, rtol=tol, recompute=False)  # type: ignore[arg-type]
        u, iterations, residuals, curvatures, used = cg.x, cg.iterations, cg.residual_norms, cg.curvatures, "cg"
        if cg.nonpositive_curvature is not None:
            fallback = (f"CG met curvature p^T H p / p^T p = {curvatures[-1]:.3e} <= 0 at step "
                        f"{cg.nonpositive_curvature}: H_t(v_hat) is not positive definite, so problem "
                        "(15) has no minimiser")
            if solver == "cg":
                raise EstimatorInputError(f"{fallback}; use solver='auto' or 'dense'")
            (u, eigenvalues), used = _dense_solve(H, b), "dense"
    u = _finite("the solution u of H_t(v_hat) u = nabla_1 L^val", u)
    u_m, u_d = _halves(u)
    g_hat = torch.cat([u_m / d, -g_m * u_m / d + u_d / (2 * d ** 2)]) + c
    return IbamlResult(_finite("ibaml", g_hat), u, used, iterations, tuple(residuals),
                       tuple(curvatures), fallback, eigenvalues)
