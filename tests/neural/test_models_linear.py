"""The torch linear Gaussian VAE against lingauss: same loss, and SGD reaches the closed-form optimum."""

import time

import numpy as np
import pytest
import torch

import lingauss as lg
from neural.models import LinearGaussianVAE, rotate_to_principal_axes
from neural.train import Trainer


def _random_point(n, m, family, rng):
    A = rng.standard_normal((n, m))
    B = rng.standard_normal((m, n)) * 0.5
    q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    sigma_w = q @ np.diag(rng.uniform(0.2, 1.0, m)) @ q.T
    if family == "isotropic":
        sigma_z = 0.7 * np.eye(n)
    elif family == "diagonal":
        sigma_z = np.diag(rng.uniform(0.3, 2.0, n))
    else:
        L = np.tril(rng.standard_normal((n, n)) * 0.3, -1) + np.diag(rng.uniform(0.5, 1.5, n))
        sigma_z = L @ L.T
    return {"A": A, "B": B, "sigma_w": sigma_w, "sigma_z": sigma_z}


@pytest.mark.parametrize("family", ["isotropic", "diagonal", "full"])
def test_parameters_round_trip_and_expected_objective_is_exact(family):
    rng = np.random.default_rng(0)
    sc = lg.talk_scenario((3, 4, 3), 2)
    p = _random_point(4, 3, family, rng)
    model = LinearGaussianVAE(4, 3, gamma=0.8, lam=0.3, decoder_noise=family).set_parameters(**p)
    got = model.to_lingauss()
    for k in p:
        np.testing.assert_allclose(got[k], p[k], rtol=1e-12, atol=1e-12)
    np.linalg.cholesky(got["sigma_w"])
    exact = model.exact_loss(sc.model)
    ref = lg.gamma_lambda_loss(sc.model.sigma_y, gamma=0.8, lam=0.3, **p)
    assert exact.total == pytest.approx(ref.total, rel=1e-12)
    # the analytic objective at Σ̂_Y = Σ_Y is lingauss's loss, term by term
    S = torch.tensor(sc.model.sigma_y)
    with torch.no_grad():
        terms = model._expected_loss(S)
    for name in ("kl", "nll", "mse"):
        assert float(terms[name]) == pytest.approx(getattr(exact, name), rel=1e-10)
    assert float(terms["loss"]) == pytest.approx(exact.total, rel=1e-10)


@pytest.mark.parametrize("family", ["isotropic", "full"])
def test_reparameterised_minibatch_estimate_converges_to_exact_loss(family):
    """KL (and nll, mse) of the sampled minibatch loss vs lingauss's closed form, within 5 SE."""
    rng = np.random.default_rng(1)
    sc = lg.talk_scenario((3, 4, 3), 3)
    p = _random_point(4, 3, family, rng)
    model = LinearGaussianVAE(4, 3, gamma=0.9, lam=0.2, decoder_noise=family).set_parameters(**p)
    exact = model.exact_loss(sc.model)
    torch.manual_seed(0)
    with torch.no_grad():
        batches = [model.loss(torch.from_numpy(sc.model.sample(4000, rng)[1])) for _ in range(50)]
    for name in ("kl", "nll", "mse", "loss"):
        vals = np.array([float(b[name]) for b in batches])
        se = vals.std(ddof=1) / np.sqrt(len(vals))
        target = exact.total if name == "loss" else getattr(exact, name)
        assert abs(vals.mean() - target) < 5 * se, name
    # and the estimate is really stochastic in ε (the reparameterisation path is exercised)
    y = torch.from_numpy(sc.model.sample(64, rng)[1])
    with torch.no_grad():
        assert float(model.loss(y)["nll"]) != float(model.loss(y)["nll"])
        assert float(model.loss(y)["kl"]) == float(model.loss(y)["kl"])    # kl: closed form per sample


def test_exact_gradient_vanishes_at_the_blahut_arimoto_optimum():
    sc = lg.talk_scenario((3, 4, 3), 2)
    ba = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    model = LinearGaussianVAE(4, 3, decoder_noise="isotropic").set_parameters(
        A=ba.A, B=ba.B, sigma_w=ba.sigma_w, sigma_z=ba.sigma_z)
    loss = model._expected_loss(torch.tensor(sc.model.sigma_y))["loss"]
    loss.backward()
    grad = max(float(p.grad.abs().max()) for p in model.parameters())
    assert grad < 1e-5
    model.zero_grad()
    model.set_parameters(B=ba.B * 1.1)
    model._expected_loss(torch.tensor(sc.model.sigma_y))["loss"].backward()
    assert float(model.B.grad.abs().max()) > 1e-2


def _tipping_bishop_loss(sigma_y, m):
    """−(max log-likelihood) of pPCA per sample = the γ=1, λ=0 ELBO optimum (posterior exact)."""
    ell = np.sort(np.linalg.eigvalsh(sigma_y))[::-1]
    n = len(ell)
    s2 = ell[m:].mean()
    return 0.5 * (n * np.log(2 * np.pi) + np.sum(np.log(ell[:m])) + (n - m) * np.log(s2) + n)


def _gauge_grouping(params, model, m):
    g = rotate_to_principal_axes(params, model)
    return lg.im_score(model.joint_covariance(g["B"], g["sigma_w"]), m).grouping


@pytest.mark.parametrize("size,objective,steps", [((3, 4, 3), "sample", 1200),
                                                  ((5, 5, 4), "expected", 1500)])
def test_sgd_reaches_the_ppca_optimum(size, objective, steps):
    """The cross-check: Adam on samples reaches the closed-form pPCA optimum (γ=1, λ=0, isotropic)."""
    sc = lg.talk_scenario(size, 2)
    n, m = sc.model.n, sc.n_latents
    ba = lg.blahut_arimoto(sc.model, m, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    optimum = ba.loss.total
    assert optimum == pytest.approx(_tipping_bishop_loss(sc.model.sigma_y, m), rel=1e-6)
    _, y = sc.model.sample(4096, rng=0)
    torch.manual_seed(0)
    model = LinearGaussianVAE(n, m, gamma=1.0, lam=0.0, decoder_noise="isotropic", objective=objective)
    start_gap = (model.exact_loss(sc.model).total - optimum) / abs(optimum)
    t0 = time.perf_counter()
    tr = Trainer(model, optimizer="adam", lr=1e-2, seed=0, progress=False,
                 plateau={"window": 50, "patience": 3})
    res = tr.fit(torch.from_numpy(y), steps=steps, batch_size=None)
    elapsed = time.perf_counter() - t0
    gap = (model.exact_loss(sc.model).total - optimum) / abs(optimum)
    print(f"{size} {objective}: start gap {100 * start_gap:.1f}%, final gap {100 * gap:.4f}% "
          f"after {res.step} steps in {elapsed:.1f}s")
    assert res.status == "completed"
    assert start_gap > 0.2                  # the test starts far away ...
    assert abs(gap) < 0.02                  # ... and ends within 2% of the exact optimum
    # same I_m grouping as BA once the rotation gauge is fixed (pPCA is rotation invariant, the
    # grouping of an arbitrarily rotated optimum is not); here it is also the true grouping
    learned = model.to_lingauss()
    ba_params = {"A": ba.A, "B": ba.B, "sigma_w": ba.sigma_w}
    assert _gauge_grouping(learned, sc.model, m) == _gauge_grouping(ba_params, sc.model, m) \
        == sc.true_grouping
    # the gauge is a symmetry of the loss
    g = rotate_to_principal_axes(learned, sc.model)
    assert lg.gamma_lambda_loss(sc.model.sigma_y, g["A"], g["B"], g["sigma_w"], learned["sigma_z"],
                                1.0, 0.0).total == pytest.approx(model.exact_loss(sc.model).total, rel=1e-10)


def test_raw_grouping_depends_on_the_rotation_gauge():
    """Why the cross-check fixes the gauge: rotating a pPCA optimum changes its raw I_m grouping."""
    sc = lg.talk_scenario((3, 4, 3), 2)
    ba = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    rng = np.random.default_rng(0)
    raw, gauged = set(), set()
    for _ in range(10):
        Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
        p = {"B": Q @ ba.B, "sigma_w": Q @ ba.sigma_w @ Q.T}
        raw.add(lg.im_score(sc.model.joint_covariance(p["B"], p["sigma_w"]), 3).grouping)
        gauged.add(_gauge_grouping(p, sc.model, 3))
    assert len(raw) > 1 and gauged == {sc.true_grouping}


def test_bad_arguments():
    with pytest.raises(ValueError, match="decoder_noise"):
        LinearGaussianVAE(4, 3, decoder_noise="spherical")
    with pytest.raises(ValueError, match="objective"):
        LinearGaussianVAE(4, 3, objective="exact")
    with pytest.raises(ValueError, match="positive definite"):
        LinearGaussianVAE(2, 1, decoder_noise=np.diag([1.0, -1.0]))
    model = LinearGaussianVAE(4, 3)
    with pytest.raises(ValueError, match="isotropic"):
        model.set_parameters(sigma_z=np.diag([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        model.loss(torch.zeros(5, 3))
