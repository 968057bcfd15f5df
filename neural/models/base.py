"""What every model shares: the batch convention and the Gaussian-posterior conv VAE skeleton."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lingauss.params import InvalidParameter
from ..torch_utils import DeviceMixin
from .blocks import DEFAULT_CHANNELS, DEFAULT_HIDDEN, ConvDecoder, ConvEncoder

__all__ = ["TrainableModel", "batch_images", "gaussian_kl", "ConvVAE", "RECONSTRUCTIONS"]

RECONSTRUCTIONS = ("bernoulli", "gaussian")


@runtime_checkable
class TrainableModel(Protocol):
    """What :class:`neural.train.Trainer` needs: ``loss(batch)`` → dict with a ``"loss"`` entry.

    Optional: ``aux_parameters()`` and an ``"aux_loss"`` entry (see :mod:`neural.train`).
    """

    def loss(self, batch) -> dict[str, torch.Tensor]: ...


def batch_images(batch) -> torch.Tensor:
    """The data tensor of a batch: the tensor itself, the first element of a tuple/list
    (``(images, factors)``), or the ``"images"``/``"x"`` entry of a dict."""
    if isinstance(batch, torch.Tensor):
        return batch
    if isinstance(batch, np.ndarray):
        return torch.from_numpy(batch)
    if isinstance(batch, Mapping):
        for key in ("images", "x", "y"):
            if key in batch:
                return batch[key]
        raise KeyError("a dict batch needs an 'images', 'x' or 'y' entry")
    if isinstance(batch, (list, tuple)) and batch:
        return batch_images(batch[0])
    raise TypeError(f"cannot take the data tensor of a batch of type {type(batch).__name__}")


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""Per-sample :math:`\mathrm{KL}(N(\mu, \mathrm{diag}\,e^{\ell}) \| N(0, I)) =
    \tfrac12\sum_i(\mu_i^2 + e^{\ell_i} - \ell_i - 1)` in nats, shape (N,)."""
    return 0.5 * torch.sum(mean.pow(2) + logvar.exp() - logvar - 1.0, dim=1)


class ConvVAE(DeviceMixin, nn.Module):
    r"""Gaussian-posterior VAE on images with the shared conv blocks; the β-VAE family subclasses it.

    ``loss(batch)`` returns per-sample batch means in nats: ``recon`` (−log p(x|z) for one
    reparameterised z), ``kl`` (closed form), the model's own terms, and ``loss`` (their weighted
    sum, see :meth:`regularizer`). Reconstruction: ``"bernoulli"`` (default; decoder outputs
    logits, −log p = binary cross-entropy summed over pixels) or ``"gaussian"`` (mean =
    sigmoid(logits), fixed ``gaussian_std``, −log p = ½‖x − mean‖²/σ² + ½D log 2πσ²; the default
    σ² = ½ makes it disentanglement_lib's l2 loss plus a constant).
    """

    def __init__(self, *, in_channels: int = 1, latent_dim: int = 10, image_size: int = 64,
                 channels: Sequence[int] = DEFAULT_CHANNELS, hidden: int = DEFAULT_HIDDEN,
                 reconstruction: str = "bernoulli", gaussian_std: float = math.sqrt(0.5)):
        super().__init__()
        if reconstruction not in RECONSTRUCTIONS:
            raise InvalidParameter(f"reconstruction must be one of {RECONSTRUCTIONS}, got {reconstruction!r}")
        if not gaussian_std > 0:
            raise InvalidParameter(f"gaussian_std must be > 0, got {gaussian_std!r}")
        if int(latent_dim) < 1:
            raise InvalidParameter(f"latent_dim must be >= 1, got {latent_dim!r}")
        self.latent_dim = int(latent_dim)
        self.in_channels, self.image_size = int(in_channels), int(image_size)
        self.reconstruction = reconstruction
        self.gaussian_std = float(gaussian_std)
        self.encoder = ConvEncoder(in_channels, latent_dim, image_size=image_size, channels=channels,
                                   hidden=hidden)
        self.decoder = ConvDecoder(in_channels, latent_dim, image_size=image_size, channels=channels,
                                   hidden=hidden)

    # ------------------------------------------------------------------------------- pieces
    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each (N, latent_dim), with gradients."""
        return self.encoder(x)

    @torch.no_grad()
    def encode(self, x, batch_size: int = 256) -> torch.Tensor:
        """The representation: posterior means (N, latent_dim), computed in chunks without grad.

        ``x`` is a tensor or array (N, C, H, W); the result is on the model's device.
        """
        x = batch_images(x)
        if x.dim() == 3:
            x = x.unsqueeze(0)
        dtype = next(self.parameters()).dtype
        chunks = [self.encoder(x[i:i + batch_size].to(self.device, dtype))[0]
                  for i in range(0, x.shape[0], batch_size)]
        return torch.cat(chunks) if chunks else torch.empty(0, self.latent_dim, device=self.device)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder outputs (logits), (N, C, H, W)."""
        return self.decoder(z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Mean reconstruction sigmoid(decode(encode(x))) in [0, 1]."""
        return torch.sigmoid(self.decode(self.encode(x)))

    @staticmethod
    def reparameterize(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """z = mean + exp(logvar / 2) · ε, ε ~ N(0, I) from torch's global RNG."""
        return mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)

    def reconstruction_nll(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Per-sample −log p(x | z) in nats, shape (N,)."""
        if self.reconstruction == "bernoulli":
            return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        var = self.gaussian_std ** 2
        sq = (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)
        return 0.5 * sq / var + 0.5 * x[0].numel() * math.log(2 * math.pi * var)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mean, logvar = self.encode_distribution(x)
        z = self.reparameterize(mean, logvar)
        return {"mean": mean, "logvar": logvar, "z": z, "logits": self.decode(z)}

    # --------------------------------------------------------------------------------- loss
    def regularizer(self, out: dict[str, torch.Tensor], kl: torch.Tensor) -> dict[str, torch.Tensor]:
        """The model's penalty: a dict with ``"penalty"`` (added to recon) and terms to log."""
        raise NotImplementedError

    def loss(self, batch) -> dict[str, torch.Tensor]:
        x = batch_images(batch).to(self.device, next(self.parameters()).dtype)
        out = self.forward(x)
        recon = self.reconstruction_nll(x, out["logits"]).mean()
        kl = gaussian_kl(out["mean"], out["logvar"]).mean()
        reg = self.regularizer(out, kl)
        penalty = reg.pop("penalty")
        return {"loss": recon + penalty, "recon": recon, "kl": kl, **reg}
