r"""Learned scalar potentials :math:`u^k(z, t)` and their derivatives.

Song et al. (2023) moves a latent by the gradient of one of K potentials, one per transformation:

.. math:: z_t = z_{t-1} + \nabla_z u^k(z_{t-1}, t), \qquad t = 1, \dots, T-1,

so a transformation is a (time-dependent) gradient flow in latent space. Each potential is a small
MLP on ``[z, e(t)]`` where ``e(t)`` is a sinusoidal time embedding followed by a linear layer and a
GELU (the embedding of the public code, ``SinusoidalPositionEmbeddings``). Activations are smooth
(``tanh`` by default) because the model needs second derivatives (the Hessian enters the density
update) and, through training, third ones.

:func:`potential_derivatives` returns u, ∇_z u, ∂_t u and optionally the Hessian ∇²_z u of any
callable ``u(z, t) -> (B,)`` by reverse-mode autograd (``create_graph=True`` when the result must be
differentiated again, i.e. during training). The Hessian rows come from one batched
vector-Jacobian product (``torch.autograd.grad(..., is_grads_batched=True)``, which runs
``torch.func.vmap`` over the d basis vectors), so its cost is one vmapped backward pass, not d.
:func:`hessian_func` is the same Hessian by ``torch.func.vmap(torch.func.hessian(...))`` on a
per-sample function (used by the tests as an independent check).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["SinusoidalTimeEmbedding", "ScalarPotential", "PotentialSet", "potential_derivatives",
           "hessian_func", "ACTIVATIONS"]

ACTIVATIONS = {"tanh": nn.Tanh, "softplus": nn.Softplus, "silu": nn.SiLU}


class SinusoidalTimeEmbedding(nn.Module):
    r"""e(t) = [sin(ω_j t), cos(ω_j t)]_j with ω_j = P^{-j/(h−1)}, h = dim/2 (transformer /
    diffusion-model positional embedding; P = ``max_period``). Smooth in t, so ∂_t u exists."""

    def __init__(self, dim: int = 16, max_period: float = 1000.0):
        super().__init__()
        if dim < 2 or dim % 2:
            raise ValueError(f"dim must be an even integer >= 2, got {dim!r}")
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64)
                          / max(half - 1, 1))
        self.register_buffer("freqs", freqs.float(), persistent=False)
        self.dim = int(dim)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        ang = t.reshape(-1, 1) * self.freqs.to(t.dtype)[None, :]
        return torch.cat([ang.sin(), ang.cos()], dim=1)


class ScalarPotential(nn.Module):
    r"""u(z, t): an MLP on ``[z, GELU(W e(t) + b)]`` → scalar, shape (B,).

    Parameters
    ----------
    latent_dim : d
    hidden : width of the hidden layers; ``layers`` their number (≥ 1)
    time_dim : size of the sinusoidal embedding
    activation : ``"tanh"`` (default), ``"softplus"`` or ``"silu"`` — smooth, never ReLU
    out_scale : the output layer's initial weights are multiplied by this (a small initial flow)
    """

    def __init__(self, latent_dim: int, *, hidden: int = 64, layers: int = 2, time_dim: int = 16,
                 activation: str = "tanh", out_scale: float = 0.1):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
        if int(layers) < 1 or int(hidden) < 1 or int(latent_dim) < 1:
            raise ValueError("latent_dim, hidden and layers must be positive")
        self.latent_dim = int(latent_dim)
        self.embed = SinusoidalTimeEmbedding(time_dim)
        self.time = nn.Sequential(nn.Linear(time_dim, time_dim), nn.GELU())
        mods, prev = [], self.latent_dim + time_dim
        for _ in range(int(layers)):
            mods += [nn.Linear(prev, hidden), ACTIVATIONS[activation]()]
            prev = hidden
        out = nn.Linear(prev, 1)
        with torch.no_grad():
            out.weight.mul_(out_scale)
            out.bias.zero_()
        mods.append(out)
        self.net = nn.Sequential(*mods)

    def forward(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=z.dtype, device=z.device)
        if t.dim() == 0:
            t = t.expand(z.shape[0])
        h = torch.cat([z, self.time(self.embed(t))], dim=1)
        return self.net(h).squeeze(1)


class PotentialSet(nn.Module):
    """K independent potentials u^0..u^{K−1} (one per transformation); ``self[k]`` is u^k."""

    def __init__(self, n_potentials: int, latent_dim: int, **kwargs):
        super().__init__()
        if int(n_potentials) < 1:
            raise ValueError(f"n_potentials must be >= 1, got {n_potentials!r}")
        self.potentials = nn.ModuleList([ScalarPotential(latent_dim, **kwargs)
                                         for _ in range(int(n_potentials))])

    def __len__(self) -> int:
        return len(self.potentials)

    def __getitem__(self, k: int) -> ScalarPotential:
        return self.potentials[k]


def _time_tensor(t, z: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=z.dtype, device=z.device)
    if t.dim() == 0:
        t = t.expand(z.shape[0])
    return t.reshape(z.shape[0]).clone().requires_grad_(True)


def potential_derivatives(u, z: torch.Tensor, t, *, hessian: bool = False, time_derivative: bool = True,
                          create_graph: bool = True) -> dict[str, torch.Tensor | None]:
    r"""u, ∇_z u, ∂_t u (and ∇²_z u) of ``u(z, t) -> (B,)`` at a batch of points, by autograd.

    Parameters
    ----------
    u : callable (z (B, d), t (B,)) → (B,); samples must not interact (true of an MLP)
    z : (B, d) points (need not be a leaf; gradients are taken w.r.t. this tensor)
    t : scalar or (B,) times
    hessian : also return the per-sample Hessians (B, d, d) (one batched VJP over the basis)
    time_derivative : also return ∂_t u (B,)
    create_graph : keep the graph of the derivatives (training: the flow step and the HJ loss are
        differentiated again); ``False`` for evaluation

    Returns
    -------
    dict with ``value`` (B,), ``grad`` (B, d), ``dt`` (B,) or ``None``, ``hessian`` or ``None``.
    """
    if z.dim() != 2:
        raise ValueError(f"z must be (B, d), got shape {tuple(z.shape)}")
    with torch.enable_grad():
        if not z.requires_grad:
            z = z.detach().requires_grad_(True)
        tt = _time_tensor(t, z)
        value = u(z, tt)
        if value.shape != (z.shape[0],):
            raise ValueError(f"the potential must return shape ({z.shape[0]},), got {tuple(value.shape)}")
        inputs = (z, tt) if time_derivative else (z,)
        grads = torch.autograd.grad(value.sum(), inputs, create_graph=create_graph or hessian,
                                    allow_unused=True)
        g = grads[0] if grads[0] is not None else torch.zeros_like(z)
        dt = None
        if time_derivative:
            dt = grads[1] if grads[1] is not None else torch.zeros_like(tt)
        hess = None
        if hessian:
            d = z.shape[1]
            if not g.requires_grad:               # u affine in z: the Hessian is zero
                hess = z.new_zeros(z.shape[0], d, d)
            else:
                basis = torch.eye(d, dtype=z.dtype, device=z.device)[:, None, :].expand(d, z.shape[0], d)
                rows = torch.autograd.grad(g, z, grad_outputs=basis, is_grads_batched=True,
                                           create_graph=create_graph, allow_unused=True)[0]
                hess = z.new_zeros(z.shape[0], d, d) if rows is None else rows.transpose(0, 1)
            if not create_graph:
                hess = hess.detach()
        if not create_graph:
            g = g.detach()
            dt = None if dt is None else dt.detach()
            value = value.detach()
    return {"value": value, "grad": g, "dt": dt, "hessian": hess}


def hessian_func(u, z: torch.Tensor, t) -> torch.Tensor:
    """Per-sample Hessians (B, d, d) of ``u`` by ``torch.func.vmap(torch.func.hessian(·))``.

    ``u`` must be vmappable (an MLP is); each sample is evaluated as a batch of one.
    """
    tt = torch.as_tensor(t, dtype=z.dtype, device=z.device)
    if tt.dim() == 0:
        tt = tt.expand(z.shape[0])

    def single(zi, ti):
        return u(zi[None], ti[None])[0]

    return torch.func.vmap(torch.func.hessian(single, argnums=0))(z, tt.reshape(z.shape[0]))
