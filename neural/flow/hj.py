r"""The Hamilton–Jacobi penalty that makes each potential an optimal-transport flow (Song et al. (2023)).

The potentials should satisfy the (generalised) HJ equation

.. math:: \partial_t u^k(z, t) + \tfrac12\|\nabla_z u^k(z, t)\|^2 = f(z, t), \qquad f \le 0,

whose solutions are the velocity potentials of L2-Wasserstein geodesics (f = 0) or of flows with a
negative external force (f < 0; Song et al.'s (2023) appendix, eqs. 16–20). The penalty is the squared
residual, plus an initial condition on the gradient:

.. math:: \mathcal L_{HJ} = \frac1{T}\sum_{t=1}^{T}\mathbb E_z\Big(\partial_t u^k + \tfrac12\|\nabla u^k\|^2
          - f\Big)^2 + \mathbb E_z\|\nabla u^k(z_0, 0)\|^2 .

:func:`hj_residual` is the residual of any callable potential; :class:`NegativeForce` is the
optional learned force f(z, t) = −softplus(MLP(z, e(t))) ≤ 0 (default: no force, f = 0).
Exact solution used by the tests: u(z, t) = −‖z‖²/(2(c − t)) with f = 0 (∂_t u = −‖z‖²/(2(c−t)²),
∇u = −z/(c−t)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lingauss.params import InvalidParameter
from .potential import SinusoidalTimeEmbedding, potential_derivatives

__all__ = ["NegativeForce", "hj_residual", "hj_residual_from", "hj_initial_condition", "hj_loss"]


class NegativeForce(nn.Module):
    """f(z, t) = −softplus(MLP([z, e(t)])) ≤ 0, shape (B,) (the paper's constraint f ≤ 0)."""

    def __init__(self, latent_dim: int, *, hidden: int = 32, time_dim: int = 16):
        super().__init__()
        self.embed = SinusoidalTimeEmbedding(time_dim)
        self.net = nn.Sequential(nn.Linear(int(latent_dim) + time_dim, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor, t) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=z.dtype, device=z.device)
        if t.dim() == 0:
            t = t.expand(z.shape[0])
        return -F.softplus(self.net(torch.cat([z, self.embed(t)], dim=1)).squeeze(1))


def hj_residual_from(dt: torch.Tensor, grad: torch.Tensor, force: torch.Tensor | None = None) -> torch.Tensor:
    r"""∂_t u + ½‖∇u‖² − f per sample (B,) from already computed derivatives (f = 0 if ``None``)."""
    r = dt + 0.5 * grad.pow(2).sum(dim=1)
    return r if force is None else r - force


def hj_residual(u, z: torch.Tensor, t, force=None, *, create_graph: bool = True) -> torch.Tensor:
    """HJ residual (B,) of a potential ``u(z, t) -> (B,)`` at points ``z`` (B, d), time ``t``.

    ``force``: ``None`` (f = 0), a tensor (B,), or a callable f(z, t) -> (B,).
    """
    der = potential_derivatives(u, z, t, create_graph=create_graph)
    f = force(z, t) if callable(force) else force
    return hj_residual_from(der["dt"], der["grad"], f)


def hj_initial_condition(u, z0: torch.Tensor, *, create_graph: bool = True) -> torch.Tensor:
    """‖∇u(z_0, 0)‖² per sample (B,)."""
    g = potential_derivatives(u, z0, 0.0, time_derivative=False, create_graph=create_graph)["grad"]
    return g.pow(2).sum(dim=1)


def hj_loss(u, zs, ts, z0: torch.Tensor | None = None, force=None, *,
            create_graph: bool = True) -> torch.Tensor:
    r"""𝓛_HJ for one potential: the mean over the points ``zs[i]`` (each (B, d)) at times ``ts[i]``
    of the squared residual (averaged over t and samples), plus mean ‖∇u(z_0, 0)‖² if ``z0`` is
    given."""
    if len(zs) != len(ts) or not len(zs):
        raise InvalidParameter("zs and ts must be non-empty and of equal length")
    res = torch.stack([hj_residual(u, z, t, force, create_graph=create_graph).pow(2).mean()
                       for z, t in zip(zs, ts)]).mean()
    if z0 is not None:
        res = res + hj_initial_condition(u, z0, create_graph=create_graph).mean()
    return res
