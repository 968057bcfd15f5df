r"""The time-evolving prior: diffusion of N(0, I) by the probability-flow form of the heat equation.

Song et al. (2023): p(z_0) = N(0, I), the prior evolves by a diffusion ∂_t p = D_k ∇²p, realised as a
particle flow along the potential u^k_prior = −D_k log p(z_t), i.e. the step

.. math:: z_t = z_{t-1} + \nabla u^k_{prior} = z_{t-1} - D_k \nabla\log p_{t-1}(z_{t-1}).

For an isotropic Gaussian p_{t−1} = N(0, s²_{t−1} I) the step is linear, z_t = (1 + D_k/s²_{t−1}) z_{t−1},
so every prior marginal stays Gaussian and is known in closed form:

.. math:: p_{k,t} = N(0, s_{k,t}^2 I), \qquad s_{k,0} = 1, \quad s_{k,t} = s_{k,t-1} + D_k / s_{k,t-1}

(s_t² = s_{t−1}² + 2D_k + D_k²/s_{t−1}²: the explicit-Euler step of the heat equation's probability
flow, whose continuous solution has s² growing by 2D_k per unit time). Its Jacobian log-det,
d·log(1 + D_k/s²), is exactly what the continuity equation subtracts, so the prior density of a
prior particle is the same whether tracked along the flow or read off the closed form.

The diffusivities D_k = softplus(ρ_k) ≥ 0 are learned per transformation (``learn=True``) or fixed.
The public code learns a mean and a scale per step instead (``Diffusion_Log``); here the marginal
is tied to D_k by the PDE.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lingauss.params import InvalidParameter

__all__ = ["DiffusionPrior"]

_LOG_2PI = math.log(2.0 * math.pi)


class DiffusionPrior(nn.Module):
    """K diffusing Gaussian priors (module doc).

    Parameters
    ----------
    n_transformations : K
    diffusion : initial D_k (> 0), the same for every k
    learn : learn the D_k (else they are buffers)
    """

    def __init__(self, n_transformations: int, *, diffusion: float = 0.05, learn: bool = True):
        super().__init__()
        if not diffusion > 0:
            raise InvalidParameter(f"diffusion must be > 0, got {diffusion!r}")
        raw = torch.full((int(n_transformations),), math.log(math.expm1(float(diffusion))))
        if learn:
            self.raw_diffusion = nn.Parameter(raw)
        else:
            self.register_buffer("raw_diffusion", raw)

    @property
    def diffusion(self) -> torch.Tensor:
        """D_k (K,)."""
        return F.softplus(self.raw_diffusion)

    def scales(self, n_frames: int) -> torch.Tensor:
        """s_{k,t} for t = 0..n_frames−1, shape (K, n_frames)."""
        D = self.diffusion
        s = [torch.ones_like(D)]
        for _ in range(1, int(n_frames)):
            s.append(s[-1] + D / s[-1])
        return torch.stack(s, dim=1)

    def log_prob(self, z: torch.Tensor, weights: torch.Tensor, t: int) -> torch.Tensor:
        r"""Σ_k w_k log N(z; 0, s²_{k,t} I) per sample (B,), weights (B, K) (one-hot: log p_{k,t}(z))."""
        s = self.scales(int(t) + 1)[:, -1].to(z.dtype)                        # (K,)
        d = z.shape[1]
        sq = z.pow(2).sum(dim=1, keepdim=True)                                 # (B, 1)
        logp = -0.5 * (d * _LOG_2PI + 2 * d * torch.log(s)[None, :] + sq / s.pow(2)[None, :])
        return (weights.to(z.dtype) * logp).sum(dim=1)

    def step(self, z: torch.Tensor, k: int, t: int) -> torch.Tensor:
        """One prior particle step z_t = z_{t−1} + D_k z_{t−1} / s²_{k,t−1} (t ≥ 1)."""
        s = self.scales(int(t))[k, -1]
        return z + self.diffusion[k] * z / s.pow(2)
