r"""The plain-VAE baseline of the FFRL comparison, given the only transformation model a VAE has.

A plain VAE (:class:`neural.models.BetaVAE` with β = 1, the same conv blocks and latent size as the
flow model) is trained on single frames. To roll a latent forward it needs some dynamics; two are
offered:

* ``shift`` (default): the mean latent displacement per step of each transformation,
  Δ_k = mean over training sequences with label k and t ≥ 1 of μ(x_t) − μ(x_{t−1}), fitted after
  training (:meth:`ShiftVAE.fit_shifts`); z_t = z_0 + t Δ_k — the best constant-velocity
  transformation model in that latent space, in the least-squares sense;
* ``static`` (Δ_k = 0): z_t = z_0, i.e. the transformation is ignored.

Song et al. (2023) does not say how the VAE row of its table rolls latents. ``static`` uses no label
information, like the paper's VAE row (``analysis.bench.flow`` row ``VAE``); ``shift`` uses the
labels after training (row ``ShiftVAE``, a stronger baseline than the paper's).
The log-likelihood of a frame is the standard importance-sampling (IWAE) estimate with the
frame's own posterior q(z|x_t) as proposal and the N(0, I) prior.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lingauss.params import InvalidParameter
from neural.torch_utils import DeviceMixin
from neural.models.vae import BetaVAE, gaussian_log_density

from .metrics import pixel_log_likelihood
from .model import unpack_sequence_batch

__all__ = ["ShiftVAE"]


class ShiftVAE(DeviceMixin, nn.Module):
    """Plain VAE on frames + per-transformation latent shifts (module doc).

    ``loss(batch)`` takes the same sequence batches as :class:`~.model.FlowFactorizedVAE` and
    trains the VAE on all their frames (recon + KL per frame, batch mean).
    """

    def __init__(self, *, n_transformations: int = 3, latent_dim: int = 8, in_channels: int = 3,
                 image_size: int = 28, channels: Sequence[int] = (32, 64), hidden: int = 256,
                 dynamics: str = "shift"):
        super().__init__()
        if dynamics not in ("shift", "static"):
            raise InvalidParameter(f"dynamics must be 'shift' or 'static', got {dynamics!r}")
        self.dynamics = dynamics
        self.n_transformations, self.latent_dim = int(n_transformations), int(latent_dim)
        self.vae = BetaVAE(beta=1.0, in_channels=in_channels, latent_dim=latent_dim,
                           image_size=image_size, channels=channels, hidden=hidden)
        self.register_buffer("shifts", torch.zeros(self.n_transformations, self.latent_dim))

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def loss(self, batch) -> dict[str, torch.Tensor]:
        seq, _ = unpack_sequence_batch(batch)
        return self.vae.loss(seq.flatten(0, 1))

    def encode(self, x, batch_size: int = 256) -> torch.Tensor:
        return self.vae.encode(x, batch_size=batch_size)

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.vae.decode(z))

    def one_hot(self, k) -> torch.Tensor:
        return F.one_hot(torch.as_tensor(k, device=self.device).long(), self.n_transformations).to(self.dtype)

    @torch.no_grad()
    def fit_shifts(self, sequences, labels, batch_size: int = 256) -> torch.Tensor:
        """Set Δ_k from sequences (N, T, C, H, W) with labels (N,) (module doc); returns (K, d)."""
        seq = torch.as_tensor(np.asarray(sequences) if not torch.is_tensor(sequences) else sequences)
        labels = torch.as_tensor(np.asarray(labels)).round().long()
        N, T = seq.shape[:2]
        if self.dynamics == "static" or T < 2:
            self.shifts.zero_()
            return self.shifts.clone()
        mu = self.encode(seq.flatten(0, 1), batch_size=batch_size).view(N, T, -1).cpu()
        step = (mu[:, 1:] - mu[:, :-1]).mean(dim=1)                       # (N, d)
        for k in range(self.n_transformations):
            sel = labels == k
            self.shifts[k] = step[sel].mean(0).to(self.shifts) if bool(sel.any()) else 0.0
        return self.shifts.clone()

    @torch.no_grad()
    def rollout(self, z0: torch.Tensor, weights: torch.Tensor, n_frames: int) -> list[torch.Tensor]:
        """[z_0 + t Σ_k w_k Δ_k for t = 0..n_frames−1]."""
        delta = weights.to(z0) @ self.shifts.to(z0)
        return [z0 + t * delta for t in range(int(n_frames))]

    @torch.no_grad()
    def frame_log_likelihood(self, seq: torch.Tensor, weights=None, n_samples: int = 16,
                             proposal: str = "encoder", pixel: str = "bernoulli") -> torch.Tensor:
        """IWAE estimates of log p(x_t) per frame (B, T) in nats, S = ``n_samples`` (module doc);
        ``pixel`` the reading of log p(x|z) (:func:`.metrics.pixel_log_likelihood`)."""
        seq = seq.to(self.device, self.dtype)
        B, T = seq.shape[:2]
        S = int(n_samples)
        x = seq.flatten(0, 1)
        mean, logvar = self.vae.encode_distribution(x)
        mean, logvar = mean.repeat_interleave(S, 0), logvar.repeat_interleave(S, 0)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        log_r = gaussian_log_density(z, mean, logvar).sum(1)
        log_prior = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
        log_px = pixel_log_likelihood(self.vae.decode(z), x.repeat_interleave(S, 0), pixel)
        log_w = (log_px + log_prior - log_r).view(B * T, S)
        return (torch.logsumexp(log_w, dim=1) - math.log(S)).view(B, T)
