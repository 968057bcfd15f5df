"""The conv β-VAE family: forward/backward, encode, and each penalty against a direct computation."""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import norm

from neural.models import (BetaTCVAE, BetaVAE, ConvDecoder, ConvEncoder, DIPVAE, FactorVAE,
                           batch_images, dip_covariance, dip_penalty, gaussian_kl, permute_dims,
                           total_correlation)
from neural.train import Trainer


SMALL = dict(channels=(8, 8, 16, 16), hidden=32)


def _images(n=8, c=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, c, 64, 64, generator=g) > 0.7).float()


MODELS = [
    (BetaVAE, {"beta": 4.0}),
    (BetaTCVAE, {"beta": 6.0}),
    (FactorVAE, {"gamma": 10.0, "discriminator_hidden": 32, "discriminator_layers": 3}),
    (DIPVAE, {"kind": "i", "lambda_od": 10.0}),
    (DIPVAE, {"kind": "ii", "lambda_od": 5.0}),
]


@pytest.mark.parametrize("cls,kw", MODELS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_conv_models_train_and_encode(cls, kw):
    torch.manual_seed(0)
    model = cls(latent_dim=5, **SMALL, **kw)
    x = _images()
    factors = torch.zeros(8, 2)
    before = [p.detach().clone() for p in model.parameters()]
    res = Trainer(model, lr=1e-3, progress=False).fit(torch.utils.data.TensorDataset(x, factors),
                                                       steps=3, batch_size=8)
    assert res.status == "completed" and res.bad_steps == 0
    assert all(math.isfinite(v) for k, v in res.last.items() if isinstance(v, float))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    out = model.loss((x, factors))
    assert set(out) >= {"loss", "recon", "kl"} and torch.isfinite(out["loss"])
    out["loss"].backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    z = model.encode(x)
    assert z.shape == (8, 5) and not z.requires_grad
    torch.testing.assert_close(z, model.encode_distribution(x)[0].detach())
    assert model.reconstruct(x).shape == x.shape


def test_default_architecture_and_gaussian_reconstruction():
    """disentanglement_lib's conv sizes by default; 3 channels and Gaussian likelihood work."""
    enc = ConvEncoder(3, 10)
    assert [m.out_channels for m in enc.conv if isinstance(m, torch.nn.Conv2d)] == [32, 32, 64, 64]
    h = torch.zeros(2, 3, 64, 64)
    shapes = []
    for mod in enc.conv:
        h = mod(h)
        shapes.append(h.shape[-1])
    assert shapes[::2] == [32, 16, 8, 4]
    dec = ConvDecoder(3, 10)
    assert dec(torch.zeros(2, 10)).shape == (2, 3, 64, 64)
    torch.manual_seed(0)
    model = BetaVAE(1.0, in_channels=3, reconstruction="gaussian")
    x = torch.rand(4, 3, 64, 64)
    out = model.loss(x)
    assert torch.isfinite(out["loss"])
    # Gaussian recon: ½‖x − sigmoid(logits)‖²/σ² + ½D log 2πσ² for one reparameterised z
    torch.manual_seed(1)
    fwd = model(x)
    mean = torch.sigmoid(fwd["logits"])
    D = 3 * 64 * 64
    manual = ((x - mean) ** 2).flatten(1).sum(1) / (2 * 0.5) + 0.5 * D * math.log(2 * math.pi * 0.5)
    torch.testing.assert_close(model.reconstruction_nll(x, fwd["logits"]), manual)
    with pytest.raises(ValueError, match="image"):
        model.encode(torch.zeros(2, 1, 64, 64))
    with pytest.raises(ValueError, match="reconstruction"):
        BetaVAE(reconstruction="poisson")


def test_beta_vae_loss_is_recon_plus_beta_kl():
    torch.manual_seed(0)
    model = BetaVAE(3.0, latent_dim=4, **SMALL)
    torch.manual_seed(5)
    out = model.loss(_images(4))
    torch.testing.assert_close(out["loss"], out["recon"] + 3.0 * out["kl"])
    mean, logvar = torch.randn(6, 4), torch.randn(6, 4)
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(mean, (0.5 * logvar).exp()),
                                            torch.distributions.Normal(0.0, 1.0)).sum(1)
    torch.testing.assert_close(gaussian_kl(mean, logvar), ref)


def _tc_direct(z, mean, logvar, dataset_size):
    """MWS total correlation by explicit loops over samples, with scipy densities."""
    M, d = z.shape
    NM = dataset_size * M
    out = []
    for i in range(M):
        joint = [np.sum(norm.logpdf(z[i], mean[j], np.exp(0.5 * logvar[j]))) for j in range(M)]
        log_qz = logsumexp(joint) - np.log(NM)
        log_prod = 0.0
        for k in range(d):
            marg = [norm.logpdf(z[i, k], mean[j, k], np.exp(0.5 * logvar[j, k])) for j in range(M)]
            log_prod += logsumexp(marg) - np.log(NM)
        out.append(log_qz - log_prod)
    return float(np.mean(out))


def test_total_correlation_estimator_matches_direct_computation():
    rng = np.random.default_rng(0)
    M, d, N = 7, 3, 1000
    mean = rng.standard_normal((M, d))
    logvar = rng.uniform(-2, 0.5, (M, d))
    z = mean + np.exp(0.5 * logvar) * rng.standard_normal((M, d))
    T = lambda a: torch.tensor(a)  # noqa: E731
    got = float(total_correlation(T(z), T(mean), T(logvar), dataset_size=N))
    assert got == pytest.approx(_tc_direct(z, mean, logvar, N), rel=1e-10)
    # without dataset_size the constant (d − 1) log(NM) is dropped
    dropped = float(total_correlation(T(z), T(mean), T(logvar)))
    assert dropped == pytest.approx(got - (d - 1) * np.log(N * M), rel=1e-10)


def test_total_correlation_sees_dependence():
    """Latents copied across dimensions have a large TC; independent ones a small one."""
    torch.manual_seed(0)
    M, d = 400, 3
    logvar = torch.full((M, d), math.log(0.01))
    indep = torch.randn(M, d)
    dep = torch.randn(M, 1).repeat(1, d)
    tc = lambda m: float(total_correlation(m + 0.1 * torch.randn(M, d), m, logvar, dataset_size=M))  # noqa: E731
    assert tc(dep) > tc(indep) + 1.0      # MWS is biased for narrow posteriors: ordering only


def test_beta_tcvae_loss_uses_the_estimator():
    torch.manual_seed(0)
    model = BetaTCVAE(4.0, latent_dim=3, **SMALL)
    x = _images(6)
    torch.manual_seed(1)
    out = model.loss(x)
    torch.manual_seed(1)
    fwd = model(x)
    tc = total_correlation(fwd["z"], fwd["mean"], fwd["logvar"])
    torch.testing.assert_close(out["tc"], tc)
    torch.testing.assert_close(out["loss"], out["recon"] + out["kl"] + 3.0 * tc)


@pytest.mark.parametrize("kind", ["i", "ii"])
def test_dip_covariance_and_penalty_match_direct_computation(kind):
    rng = np.random.default_rng(1)
    mean = rng.standard_normal((9, 4)) @ rng.standard_normal((4, 4))
    logvar = rng.uniform(-1, 1, (9, 4))
    cov = np.cov(mean, rowvar=False, bias=True)
    if kind == "ii":
        cov = cov + np.diag(np.exp(logvar).mean(0))
    got = dip_covariance(torch.tensor(mean), torch.tensor(logvar), kind).numpy()
    np.testing.assert_allclose(got, cov, rtol=1e-12)
    lod, ld = 3.0, 7.0
    direct = lod * sum(cov[i, j] ** 2 for i in range(4) for j in range(4) if i != j) \
        + ld * sum((cov[i, i] - 1) ** 2 for i in range(4))
    assert float(dip_penalty(torch.tensor(cov), lod, ld)) == pytest.approx(direct, rel=1e-12)
    assert float(dip_penalty(torch.eye(4), lod, ld)) == 0.0
    model = DIPVAE(kind, lambda_od=2.0, latent_dim=3, **SMALL)
    assert model.lambda_d == (20.0 if kind == "i" else 2.0)
    torch.manual_seed(0)
    x = _images(5)
    out = model.loss(x)
    mu, lv = model.encode_distribution(x)
    torch.testing.assert_close(out["dip"], dip_penalty(dip_covariance(mu, lv, kind), 2.0, model.lambda_d))
    torch.testing.assert_close(out["loss"], out["recon"] + out["kl"] + out["dip"])


def test_permute_dims_permutes_each_dimension_independently():
    M, d = 64, 6
    z = torch.arange(M * d, dtype=torch.float64).reshape(M, d)
    out = permute_dims(z, generator=torch.Generator().manual_seed(0))
    perms = []
    for k in range(d):
        # each column is a permutation of the same column (values stay in their dimension)
        assert torch.equal(torch.sort(out[:, k]).values, z[:, k])
        perms.append(tuple(((out[:, k] - k) / d).long().tolist()))
    assert len(set(perms)) == d                        # a different permutation per dimension
    assert all(p != tuple(range(M)) for p in perms)
    # rows are broken up: a batch of identical columns no longer has identical columns
    same = torch.randn(M, 1).repeat(1, d)
    shuffled = permute_dims(same)
    assert not torch.equal(shuffled[:, 0], shuffled[:, 1])
    assert torch.equal(torch.sort(shuffled, 0).values, torch.sort(same, 0).values)
    # uniform over positions: element 0 of column 0 lands everywhere with about equal frequency
    g = torch.Generator().manual_seed(1)
    pos = [int(torch.nonzero(permute_dims(z, g)[:, 0] == 0)) for _ in range(3000)]
    counts = np.bincount(pos, minlength=M)
    assert counts.min() > 15 and counts.max() < 90


def test_factor_vae_discriminator_has_its_own_optimizer():
    kw = dict(latent_dim=4, discriminator_hidden=16, discriminator_layers=2, **SMALL)
    x = _images(8)

    def run(lr, aux_lr):
        torch.manual_seed(0)
        model = FactorVAE(50.0, **kw)
        vae0 = [p.detach().clone() for n, p in model.named_parameters() if not n.startswith("disc")]
        d0 = [p.detach().clone() for p in model.discriminator.parameters()]
        Trainer(model, lr=lr, aux_lr=aux_lr, progress=False).fit(x, steps=2, batch_size=8)
        vae_moved = any(not torch.equal(a, p) for a, (n, p) in
                        zip(vae0, [(n, p) for n, p in model.named_parameters() if not n.startswith("disc")]))
        d_moved = any(not torch.equal(a, p) for a, p in zip(d0, model.discriminator.parameters()))
        return vae_moved, d_moved

    # the VAE loss (which has gradients w.r.t. D through γ·tc) never moves the discriminator,
    # and the discriminator loss never moves the VAE
    assert run(lr=1e-3, aux_lr=0.0) == (True, False)
    assert run(lr=0.0, aux_lr=1e-2) == (False, True)
    torch.manual_seed(0)
    model = FactorVAE(1.0, **kw)
    out = model.loss(x)
    assert {"tc", "aux_loss", "disc_accuracy"} <= set(out)
    assert out["aux_loss"].requires_grad
    # the aux loss reaches the encoder only through detached latents
    out["aux_loss"].backward()
    assert all(p.grad is None for p in model.encoder.parameters())


def test_batch_images():
    x = torch.zeros(2, 1, 4, 4)
    assert batch_images(x) is x
    assert batch_images((x, torch.zeros(2, 3))) is x
    assert batch_images({"images": x}) is x
    with pytest.raises(TypeError):
        batch_images(3)
