r"""The β-VAE family of Locatello et al. (2019) on the shared conv blocks.

Every model's ``loss(batch)`` is a per-sample batch mean in nats, ``recon`` + the penalty below
(``recon`` = −log p(x|z), ``kl`` = KL(q(z|x) ‖ N(0, I)), closed form):

===============  =========================================================================
``BetaVAE``      recon + β·kl                                          (Higgins et al. 2017)
``BetaTCVAE``    recon + kl + (β − 1)·TC, TC by minibatch-weighted sampling (Chen et al. 2018;
                 the disentanglement_lib form of the β-TCVAE objective with α = γ = 1)
``FactorVAE``    recon + kl + γ·TC, TC ≈ E[D₀(z) − D₁(z)] from a discriminator's logits; the
                 discriminator minimises ``aux_loss`` (cross-entropy of real z vs permute_dims(z))
                 with its own optimizer (Kim & Mnih 2018)
``DIPVAE``       recon + kl + λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)², C = Cov[μ(x)] (DIP-I) or
                 E[diag σ²(x)] + Cov[μ(x)] (DIP-II) (Kumar et al. 2018)
===============  =========================================================================
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lingauss.params import InvalidParameter
from .base import ConvVAE

__all__ = ["BetaVAE", "BetaTCVAE", "FactorVAE", "DIPVAE", "gaussian_log_density",
           "total_correlation", "permute_dims", "dip_covariance", "dip_penalty", "Discriminator"]

_LOG_2PI = math.log(2.0 * math.pi)


def _nonneg(value, name):
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise InvalidParameter(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""Elementwise :math:`\log N(x; \mu, e^{\ell}) = -\tfrac12[\log 2\pi + \ell + (x-\mu)^2 e^{-\ell}]`."""
    return -0.5 * (_LOG_2PI + logvar + (x - mean).pow(2) * torch.exp(-logvar))


def total_correlation(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor,
                      dataset_size: int | None = None) -> torch.Tensor:
    r"""Minibatch-weighted-sampling estimate of TC(z) = KL(q(z) ‖ ∏_k q(z_k)) (Chen et al. 2018).

    With :math:`M` the batch size and :math:`N` the dataset size, for each sample :math:`z_i`

    .. math::

        \log q(z_i) &\approx \log\textstyle\sum_j q(z_i|x_j) - \log(NM), \\
        \log \textstyle\prod_k q(z_{ik}) &\approx \textstyle\sum_k \left[\log\sum_j q(z_{ik}|x_j)
            - \log(NM)\right],

    and the estimate is the batch mean of their difference. With ``dataset_size=None`` the
    constants :math:`(d-1)\log(NM)` are dropped (as in disentanglement_lib): the gradient is the
    same, the value is shifted.
    """
    M, d = z.shape
    log_qzx = gaussian_log_density(z[:, None, :], mean[None, :, :], logvar[None, :, :])  # (M, M, d)
    log_qz = torch.logsumexp(log_qzx.sum(2), dim=1)
    log_prod = torch.logsumexp(log_qzx, dim=1).sum(1)
    tc = log_qz - log_prod
    if dataset_size is not None:
        tc = tc + (d - 1) * math.log(float(dataset_size) * M)
    return tc.mean()


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Permute each latent dimension independently across the batch (Kim & Mnih, Alg. 1).

    Samples of ∏_k q(z_k) from samples of q(z); uses ``generator`` or torch's global RNG.
    """
    keys = torch.rand(z.shape, generator=generator, device=z.device if generator is None else "cpu")
    idx = torch.argsort(keys, dim=0).to(z.device)
    return torch.gather(z, 0, idx)


def dip_covariance(mean: torch.Tensor, logvar: torch.Tensor, kind: str) -> torch.Tensor:
    r"""The DIP-VAE covariance: DIP-I :math:`\mathrm{Cov}[\mu(x)]`; DIP-II
    :math:`\mathbb{E}[\mathrm{diag}\,\sigma^2(x)] + \mathrm{Cov}[\mu(x)]` (batch moments, 1/M)."""
    centred = mean - mean.mean(0, keepdim=True)
    cov = centred.T @ centred / mean.shape[0]
    if kind == "ii":
        cov = cov + torch.diag(logvar.exp().mean(0))
    elif kind != "i":
        raise InvalidParameter(f"kind must be 'i' or 'ii', got {kind!r}")
    return cov


def dip_penalty(cov: torch.Tensor, lambda_od: float, lambda_d: float) -> torch.Tensor:
    r""":math:`\lambda_{od}\sum_{i\ne j} C_{ij}^2 + \lambda_d\sum_i (C_{ii} - 1)^2`."""
    diag = torch.diagonal(cov)
    off = cov - torch.diag(diag)
    return lambda_od * off.pow(2).sum() + lambda_d * (diag - 1.0).pow(2).sum()


class BetaVAE(ConvVAE):
    """β-VAE: ``loss = recon + beta · kl``. Other arguments: :class:`~neural.models.base.ConvVAE`."""

    def __init__(self, beta: float = 4.0, **kwargs):
        super().__init__(**kwargs)
        self.beta = _nonneg(beta, "beta")

    def regularizer(self, out, kl):
        return {"penalty": self.beta * kl}


class BetaTCVAE(ConvVAE):
    """β-TCVAE: ``loss = recon + kl + (beta − 1) · tc`` with the minibatch-weighted TC estimate.

    ``dataset_size`` (optional) restores the MWS constants in the logged ``tc`` value.
    """

    def __init__(self, beta: float = 6.0, *, dataset_size: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.beta = _nonneg(beta, "beta")
        self.dataset_size = dataset_size

    def regularizer(self, out, kl):
        tc = total_correlation(out["z"], out["mean"], out["logvar"], self.dataset_size)
        return {"penalty": kl + (self.beta - 1.0) * tc, "tc": tc}


class Discriminator(nn.Module):
    """FactorVAE's discriminator: an MLP (``layers`` hidden layers of ``hidden`` units, LeakyReLU
    0.2) from z to two logits, class 0 = "from q(z)", class 1 = "from ∏_k q(z_k)"."""

    def __init__(self, latent_dim: int, hidden: int = 1000, layers: int = 6):
        super().__init__()
        mods, prev = [], int(latent_dim)
        for _ in range(int(layers)):
            mods += [nn.Linear(prev, hidden), nn.LeakyReLU(0.2)]
            prev = hidden
        mods.append(nn.Linear(prev, 2))
        self.net = nn.Sequential(*mods)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class FactorVAE(ConvVAE):
    r"""FactorVAE: ``loss = recon + kl + gamma · tc`` with ``tc = mean(D₀(z) − D₁(z))``.

    The discriminator's parameters are :meth:`aux_parameters`; ``loss`` also returns ``aux_loss``
    = ½[CE(D(z̄), 0) + CE(D(permute_dims(z̄)), 1)] on the detached batch z̄, which the trainer
    minimises with a separate optimizer (defaults ``aux_optimizer_defaults``: Adam, lr 1e-4,
    betas (0.5, 0.9) as in the paper). The same batch serves both, as in disentanglement_lib.
    """

    aux_optimizer_defaults = {"optimizer": "adam", "lr": 1e-4, "betas": (0.5, 0.9)}

    def __init__(self, gamma: float = 10.0, *, discriminator_hidden: int = 1000,
                 discriminator_layers: int = 6, **kwargs):
        super().__init__(**kwargs)
        self.gamma = _nonneg(gamma, "gamma")
        self.discriminator = Discriminator(self.latent_dim, discriminator_hidden, discriminator_layers)

    def aux_parameters(self):
        return self.discriminator.parameters()

    def regularizer(self, out, kl):
        z = out["z"]
        logits = self.discriminator(z)
        tc = (logits[:, 0] - logits[:, 1]).mean()
        zd = z.detach()
        real = self.discriminator(zd)
        fake = self.discriminator(permute_dims(zd))
        zeros = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
        aux = 0.5 * (F.cross_entropy(real, zeros) + F.cross_entropy(fake, zeros + 1))
        acc = 0.5 * ((real.argmax(1) == 0).float().mean() + (fake.argmax(1) == 1).float().mean())
        return {"penalty": kl + self.gamma * tc, "tc": tc, "aux_loss": aux,
                "disc_accuracy": acc.detach()}


class DIPVAE(ConvVAE):
    """DIP-VAE-I/II: ``loss = recon + kl + dip`` with :func:`dip_penalty` of :func:`dip_covariance`.

    ``lambda_d`` defaults to ``10 · lambda_od`` for DIP-I and ``lambda_od`` for DIP-II (Locatello
    et al.'s sweep convention).
    """

    def __init__(self, kind: str = "i", lambda_od: float = 10.0, lambda_d: float | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if kind not in ("i", "ii"):
            raise InvalidParameter(f"kind must be 'i' or 'ii', got {kind!r}")
        self.kind = kind
        self.lambda_od = _nonneg(lambda_od, "lambda_od")
        self.lambda_d = _nonneg((10.0 if kind == "i" else 1.0) * self.lambda_od
                                if lambda_d is None else lambda_d, "lambda_d")

    def regularizer(self, out, kl):
        dip = dip_penalty(dip_covariance(out["mean"], out["logvar"], self.kind),
                          self.lambda_od, self.lambda_d)
        return {"penalty": kl + dip, "dip": dip}
