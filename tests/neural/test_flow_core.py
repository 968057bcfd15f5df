"""neural.flow building blocks: derivatives, HJ residual, density update, log-det estimators, Gumbel."""

import itertools
import math

import pytest
import torch
from torch import nn

from neural.flow import (EXACT_MAX_DIM, TAU_RATE, DiffusionPrior, NegativeForce, ScalarPotential,
                         assignment_accuracy, confusion_matrix, density_step, flow_logdet, gumbel_softmax,
                         gumbel_temperature, hessian_func, hj_loss, hj_residual, hj_residual_from,
                         logdet_exact, logdet_hutchinson, potential_derivatives, resolve_logdet_method,
                         temperature_rate)


class Quadratic(nn.Module):
    """u(z, t) = ½ zᵀ Q z (Hessian Q everywhere)."""

    def __init__(self, Q):
        super().__init__()
        self.register_buffer("Q", Q)

    def forward(self, z, t):
        return 0.5 * torch.einsum("bi,ij,bj->b", z, self.Q, z)


class HJSolution(nn.Module):
    """u(z, t) = scale · (−‖z‖² / (2(c − t))) + eps · sin(z_0): an exact HJ solution (f = 0) when
    scale = 1 and eps = 0."""

    def __init__(self, c=5.0, scale=1.0, eps=0.0):
        super().__init__()
        self.c, self.scale, self.eps = c, scale, eps

    def forward(self, z, t):
        return self.scale * (-z.pow(2).sum(1) / (2 * (self.c - t))) + self.eps * torch.sin(z[:, 0])


def _sym(d, seed, radius):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(d, d, generator=g, dtype=torch.float64)
    Q = 0.5 * (A + A.T)
    return radius * Q / torch.linalg.eigvalsh(Q).abs().max()


# torch.func.hessian (jacfwd) scripts its jvp decompositions on first use: torch's own DeprecationWarning
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_gradient_time_derivative_and_hessian_match_finite_differences():
    torch.manual_seed(0)
    u = ScalarPotential(5, hidden=16, out_scale=1.0).double()
    z = torch.randn(4, 5, dtype=torch.float64)
    t = torch.tensor([0.5, 1.0, 2.0, 3.0], dtype=torch.float64)
    der = potential_derivatives(u, z, t, hessian=True, create_graph=False)
    h = 1e-6
    fd = torch.stack([(u(z + h * e, t) - u(z - h * e, t)) / (2 * h)
                      for e in torch.eye(5, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(der["grad"], fd, atol=1e-7, rtol=1e-6)
    torch.testing.assert_close(der["dt"], (u(z, t + h) - u(z, t - h)) / (2 * h), atol=1e-7, rtol=1e-6)
    g = lambda zz: potential_derivatives(u, zz, t, create_graph=False)["grad"]  # noqa: E731
    fd_h = torch.stack([(g(z + h * e) - g(z - h * e)) / (2 * h) for e in torch.eye(5, dtype=torch.float64)], 1)
    torch.testing.assert_close(der["hessian"], fd_h, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(hessian_func(u, z, t), der["hessian"], atol=1e-10, rtol=1e-10)
    assert torch.linalg.norm(der["grad"]) > 1e-3          # a non-trivial potential


def test_derivatives_keep_the_graph_for_training():
    torch.manual_seed(1)
    u = ScalarPotential(3, hidden=8)
    z = torch.randn(6, 3, requires_grad=True)
    der = potential_derivatives(u, z, 1.0, hessian=True)
    (der["grad"].pow(2).sum() + der["dt"].sum() + der["hessian"].sum()).backward()
    assert u.net[0].weight.grad is not None and torch.isfinite(u.net[0].weight.grad).all()
    assert u.net[0].weight.grad.abs().sum() > 0


def test_hj_residual_vanishes_for_an_exact_solution_and_not_for_perturbed_ones():
    z = torch.randn(64, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    for t in (0.0, 0.5, 2.0, 4.0):
        r = hj_residual(HJSolution(), z, t, create_graph=False)
        assert r.abs().max() < 1e-10
        for bad in (HJSolution(scale=1.5), HJSolution(eps=0.5)):
            assert hj_residual(bad, z, t, create_graph=False).abs().mean() > 1e-2
    # a negative force shifts the residual: u solves ∂_t u + ½|∇u|² = f for f = 0 only
    assert torch.allclose(hj_residual(HJSolution(), z, 1.0, torch.full((64,), -0.3, dtype=torch.float64),
                                      create_graph=False), torch.full((64,), 0.3, dtype=torch.float64))
    # the loss: squared residuals (0 here) + the initial condition ‖∇u(z, 0)‖² = ‖z‖²/c²
    loss = hj_loss(HJSolution(c=5.0), [z, z], [1.0, 2.0], z0=z, create_graph=False)
    assert float(loss) == pytest.approx(float((z.pow(2).sum(1) / 25.0).mean()), rel=1e-10)


def test_density_update_is_the_gaussian_change_of_variables_and_rowsum_differs():
    d = 4
    Q = _sym(d, 3, 0.6)
    mu = torch.tensor([0.3, -0.2, 0.5, 0.1], dtype=torch.float64)
    L = torch.linalg.cholesky(torch.eye(d, dtype=torch.float64) * 0.5 + 0.1)
    q0 = torch.distributions.MultivariateNormal(mu, scale_tril=L)
    z = q0.sample((32,)).requires_grad_(True)
    grad = potential_derivatives(Quadratic(Q), z, 0.0, time_derivative=False)["grad"]
    z1 = z + grad                                            # = (I + Q) z
    J = torch.eye(d, dtype=torch.float64) + Q
    q1 = torch.distributions.MultivariateNormal(J @ mu, covariance_matrix=J @ q0.covariance_matrix @ J.T)
    exact = flow_logdet(grad, z, method="exact", create_graph=False)
    torch.testing.assert_close(density_step(q0.log_prob(z), exact), q1.log_prob(z1), atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(exact, torch.full((32,), float(torch.linalg.slogdet(J)[1]), dtype=torch.float64))
    # the public code's Hessian row sums: Σ_i log|1 + (Q1)_i| — a closed-form, non-zero difference
    rowsum = flow_logdet(grad, z, method="rowsum", create_graph=False)
    closed = float(torch.log(torch.abs(1 + Q.sum(1))).sum())
    torch.testing.assert_close(rowsum, torch.full((32,), closed, dtype=torch.float64))
    gap = closed - float(torch.linalg.slogdet(J)[1])
    assert abs(gap) > 0.05
    torch.testing.assert_close(rowsum - exact, torch.full((32,), gap, dtype=torch.float64))
    # ... and no difference at all when the Hessian is diagonal
    D = torch.diag(torch.tensor([0.2, -0.3, 0.1, 0.4], dtype=torch.float64))
    gd = potential_derivatives(Quadratic(D), z, 0.0, time_derivative=False)["grad"]
    torch.testing.assert_close(flow_logdet(gd, z, method="rowsum", create_graph=False),
                               flow_logdet(gd, z, method="exact", create_graph=False))


def test_hutchinson_estimator_matches_the_exact_logdet_on_a_small_case():
    d = 6
    Q = _sym(d, 4, 0.3)
    z = torch.randn(3, d, dtype=torch.float64, requires_grad=True)
    grad = potential_derivatives(Quadratic(Q), z, 0.0, time_derivative=False)["grad"]
    exact = flow_logdet(grad, z, method="exact", create_graph=False)
    est = flow_logdet(grad, z, method="hutchinson", create_graph=False, n_probes=2000, n_terms=8,
                      generator=torch.Generator().manual_seed(0))
    # Rademacher-probe std ≈ (2 Σ_{i≠j} H_ij² / P)^½ ≈ 0.012 here: 0.07 is ~5σ
    torch.testing.assert_close(est, exact, atol=0.07, rtol=0)
    # a nonlinear potential (Hessian varies with z), small enough that ρ(H) < 1
    torch.manual_seed(5)
    u = ScalarPotential(d, hidden=16, out_scale=0.5).double()
    der = potential_derivatives(u, z, 1.0, hessian=True, time_derivative=False)
    assert torch.linalg.eigvalsh(der["hessian"]).abs().max() < 0.5
    ex = logdet_exact(der["hessian"].detach())
    hv = lambda v: torch.einsum("bij,bj->bi", der["hessian"].detach(), v)  # noqa: E731
    est = logdet_hutchinson(hv, 3, d, n_probes=2000, n_terms=8, generator=torch.Generator().manual_seed(1),
                            dtype=torch.float64)
    torch.testing.assert_close(est, ex, atol=0.07, rtol=0)
    # ... and it is an estimator: one probe is far off on some sample
    one = logdet_hutchinson(hv, 3, d, n_probes=1, n_terms=8, generator=torch.Generator().manual_seed(2),
                            dtype=torch.float64)
    assert not torch.allclose(one, ex, atol=1e-3)
    assert resolve_logdet_method("auto", EXACT_MAX_DIM) == "exact"
    assert resolve_logdet_method("auto", EXACT_MAX_DIM + 1) == "hutchinson"
    with pytest.raises(ValueError, match="logdet method"):
        resolve_logdet_method("trace", 3)


def test_diffusion_prior_particles_follow_the_closed_form_marginals():
    prior = DiffusionPrior(2, diffusion=0.3, learn=False)
    s = prior.scales(4)
    torch.testing.assert_close(s[:, 0], torch.ones(2))
    torch.testing.assert_close(s[0, 1:], torch.tensor([1.3, 1.3 + 0.3 / 1.3, 1.3 + 0.3 / 1.3 + 0.3 / (1.3 + 0.3 / 1.3)]))
    z = torch.randn(200_000, 2, generator=torch.Generator().manual_seed(0))
    for t in range(1, 4):
        z = prior.step(z, 1, t)
    assert float(z.std()) == pytest.approx(float(s[1, 3]), rel=0.01)
    w = torch.tensor([[0.0, 1.0]])
    expect = torch.distributions.Normal(0.0, s[1, 3]).log_prob(z[:1]).sum()
    torch.testing.assert_close(prior.log_prob(z[:1], w, 3)[0], expect)


def test_gumbel_temperature_schedule():
    assert gumbel_temperature(0) == 1.0
    assert gumbel_temperature(1000) == pytest.approx(math.exp(-0.03))
    cross = math.log(20) / 3e-5                      # ≈ 99,858 steps to reach 0.05
    assert gumbel_temperature(int(cross) - 100) > 0.05
    assert gumbel_temperature(int(cross) + 1) == 0.05 and gumbel_temperature(10 ** 7) == 0.05
    # the public code's staircase: τ refreshed every 100 steps
    assert gumbel_temperature(199, update_every=100) == gumbel_temperature(100)
    assert gumbel_temperature(200, update_every=100) < gumbel_temperature(199, update_every=100)
    with pytest.raises(ValueError):
        gumbel_temperature(-1)


def test_gumbel_softmax_hard_straight_through_and_gumbel_max_frequencies():
    logits = torch.tensor([[1.0, 0.0, -1.0]]).repeat(20000, 1).requires_grad_(True)
    y = gumbel_softmax(logits, 0.5, generator=torch.Generator().manual_seed(0))
    assert torch.all((y == 0) | (y == 1)) and torch.all(y.sum(1) == 1)
    freq = y.detach().mean(0)
    torch.testing.assert_close(freq, torch.softmax(logits[0].detach(), 0), atol=0.015, rtol=0)
    (y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()      # straight-through: soft gradient
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_scaled_temperature_schedule_reaches_its_floor_at_the_stated_fraction():
    for total, frac in ((600, 0.5), (1000, 0.25), (97, 1.0)):
        rate = temperature_rate(total, floor_fraction=frac)
        at = frac * total
        # closed form: τ(s) = exp(−ln(20) · s / at) — 1 at s = 0, 0.05 at s = at
        for s in (0, 1, int(at) // 2, int(at) - 1):
            assert gumbel_temperature(s, rate=rate) == pytest.approx(math.exp(-math.log(20) * s / at), rel=1e-12)
            assert gumbel_temperature(s, rate=rate) > 0.05
        assert gumbel_temperature(math.ceil(at), rate=rate) == pytest.approx(0.05, rel=1e-12)
        assert gumbel_temperature(math.ceil(at) + 1, rate=rate) == 0.05
        assert gumbel_temperature(total, rate=rate) == pytest.approx(0.05, rel=1e-12)
    # the paper's rate is the same formula at ~100k steps
    assert temperature_rate(99_858, floor_fraction=1.0) == pytest.approx(TAU_RATE, rel=1e-4)
    for bad in (dict(total_steps=0), dict(total_steps=10, floor_fraction=0.0),
                dict(total_steps=10, floor_fraction=1.5), dict(total_steps=10, minimum=2.0)):
        with pytest.raises(ValueError):
            temperature_rate(**bad)


def _brute_force_accuracy(pred, labels, K):
    return max(sum(int(perm[p] == y) for p, y in zip(pred, labels)) / len(pred)
               for perm in itertools.permutations(range(K)))


def test_assignment_accuracy_equals_brute_force_permutation_search():
    g = torch.Generator().manual_seed(0)
    for trial in range(60):
        K = 2 + trial % 4
        n = int(torch.randint(1, 40, (1,), generator=g))
        labels = torch.randint(0, K, (n,), generator=g)
        # predictions: a relabelled copy with some noise, or pure noise
        perm = torch.randperm(K, generator=g)
        pred = perm[labels] if trial % 3 else torch.randint(0, K, (n,), generator=g)
        flip = torch.rand(n, generator=g) < 0.3
        pred = torch.where(flip, torch.randint(0, K, (n,), generator=g), pred)
        expect = _brute_force_accuracy(pred.tolist(), labels.tolist(), K)
        assert assignment_accuracy(pred, labels, K) == pytest.approx(expect, abs=1e-12)
        C = confusion_matrix(pred, labels, K)
        assert C.sum() == n and C[int(pred[0]), int(labels[0])] >= 1
    assert assignment_accuracy([2, 0, 1], [0, 1, 2], 3) == 1.0
    with pytest.raises(ValueError, match="pred and labels"):
        assignment_accuracy([0, 3], [0, 1], 3)


class GHJSolution(nn.Module):
    """u(z, t) = v·z − ½‖v‖² t + F(t), F(t) = −(t + t³/3): solves ∂_t u + ½‖∇u‖² = f with the
    negative force f(z, t) = F'(t) = −(1 + t²)."""

    def __init__(self, v):
        super().__init__()
        self.v = v

    def forward(self, z, t):
        return z @ self.v - 0.5 * self.v.pow(2).sum() * t - (t + t ** 3 / 3)


def test_generalised_hj_residual_vanishes_with_the_negative_force_and_the_force_is_non_positive():
    v = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    z = torch.randn(32, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))

    def force(zz, t):
        t = torch.as_tensor(t, dtype=zz.dtype)
        return -(1 + t ** 2) * torch.ones(zz.shape[0], dtype=zz.dtype)

    for t in (0.0, 1.0, 3.5):
        assert hj_residual(GHJSolution(v), z, t, force, create_graph=False).abs().max() < 1e-10
        # without the force (plain HJ) or with the opposite sign the residual is −f = 1 + t², resp. 2(1 + t²)
        torch.testing.assert_close(hj_residual(GHJSolution(v), z, t, create_graph=False),
                                   torch.full((32,), -(1 + t * t), dtype=torch.float64))
        torch.testing.assert_close(hj_residual(GHJSolution(v), z, t, lambda zz, tt: -force(zz, tt),
                                               create_graph=False),
                                   torch.full((32,), -2 * (1 + t * t), dtype=torch.float64))
    # the learned force: f = −softplus(·) ≤ 0 whatever its weights, and not a constant
    torch.manual_seed(4)
    f = NegativeForce(3, time_dim=8)
    with torch.no_grad():
        for p in f.parameters():
            p.mul_(20.0)
    vals = torch.cat([f(torch.randn(500, 3) * 5, t) for t in (0.0, 1.0, 7.0)])
    assert torch.all(vals <= 0) and vals.max() > -1e-3 and vals.min() < -10
    # the residual subtracts the force: r = ∂_t u + ½‖∇u‖² − f
    dt, grad, fz = torch.randn(5), torch.randn(5, 3), -torch.rand(5)
    torch.testing.assert_close(hj_residual_from(dt, grad, fz), dt + 0.5 * grad.pow(2).sum(1) - fz)
