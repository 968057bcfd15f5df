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

from lingauss.params import InvalidParameter

__all__ = ["SinusoidalTimeEmbedding", "ScalarPotential", "PotentialSet", "potential_derivatives",
           "closed_form_derivatives",
           "hessian_func", "ACTIVATIONS"]

ACTIVATIONS = {"tanh": nn.Tanh, "softplus": nn.Softplus, "silu": nn.SiLU}


class SinusoidalTimeEmbedding(nn.Module):
    r"""e(t) = [sin(ω_j t), cos(ω_j t)]_j with ω_j = P^{-j/(h−1)}, h = dim/2 (transformer /
    diffusion-model positional embedding; P = ``max_period``). Smooth in t, so ∂_t u exists."""

    def __init__(self, dim: int = 16, max_period: float = 1000.0):
        super().__init__()
        if dim < 2 or dim % 2:
            raise InvalidParameter(f"dim must be an even integer >= 2, got {dim!r}")
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
            raise InvalidParameter(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
        if int(layers) < 1 or int(hidden) < 1 or int(latent_dim) < 1:
            raise InvalidParameter("latent_dim, hidden and layers must be positive")
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

    @property
    def closed_form(self) -> bool:
        """Whether :meth:`derivatives` applies (tanh hidden layers, the default)."""
        return all(isinstance(m, (nn.Linear, nn.Tanh)) for m in self.net)

    def derivatives(self, z: torch.Tensor, t, *, hessian: bool = True,
                    time_derivative: bool = True) -> dict[str, torch.Tensor | None]:
        """u, ∇_z u, ∂_t u and ∇²_z u in closed form (:func:`closed_form_derivatives`)."""
        return closed_form_derivatives([self], None, z, t, hessian=hessian, time_derivative=time_derivative)


def _layer(linears, index, x):
    """x (B, in) through linear layer ``linears[index_b]`` per sample (one layer if index is None)."""
    if index is None:
        return linears[0](x)
    W = torch.stack([m.weight for m in linears])[index]                     # (B, out, in)
    b = torch.stack([m.bias for m in linears])[index]
    return torch.baddbmm(b[:, :, None], W, x[:, :, None]).squeeze(2)


def _weight(linears, index, cols=None):
    W = linears[0].weight[None] if index is None else torch.stack([m.weight for m in linears])[index]
    return W if cols is None else W[:, :, cols]


def closed_form_derivatives(potentials, index, z: torch.Tensor, t, *, hessian: bool = True,
                            time_derivative: bool = True) -> dict[str, torch.Tensor | None]:
    r"""u, ∇_z u, ∂_t u and ∇²_z u of :class:`ScalarPotential` s in closed form — the quantities of
    :func:`potential_derivatives`, by explicit forward formulas instead of nested autograd (tanh
    hidden layers only, :attr:`ScalarPotential.closed_form`). Sample b uses
    ``potentials[index[b]]`` (``index`` (B,) long; ``None``: the single potential ``potentials[0]``
    for every sample), so K potentials cost one set of batched operations.

    With x = [z, τ(t)], a_l = W_l h_{l−1} + b_l, h_l = tanh(a_l) (h_0 = x), u = wᵀh_L + b and
    g_l = ∂u/∂h_l (g_L = w, g_{l−1} = W_lᵀ(σ'(a_l) ⊙ g_l)):

    * ∇_x u = g_0; ∇_z u its first d entries; ∂_t u = g_0[d:] · τ'(t), with τ(t) = GELU(A e(t) + c),
      τ' = GELU'(·) ⊙ A e'(t), e' the derivative of the sinusoidal embedding;
    * ∇²_z u = Σ_l M_lᵀ diag(σ''(a_l) ⊙ g_l) M_l with M_l = ∂a_l/∂z = W_l J_{l−1},
      J_l = diag(σ'(a_l)) M_l, J_0 = [I_d; 0] (exact: u is linear in h_L).

    Every result is an ordinary differentiable function of z and the weights, so training
    backpropagates through it (third derivatives included) with one backward pass.
    """
    pots = list(potentials)
    if not all(p.closed_form for p in pots):
        raise InvalidParameter("closed-form derivatives need tanh hidden layers (activation='tanh')")
    B, d = z.shape
    tt = torch.as_tensor(t, dtype=z.dtype, device=z.device)
    tt = (tt.expand(B) if tt.dim() == 0 else tt.reshape(B))
    embed = pots[0].embed
    e = embed(tt)
    lin_t = [p.time[0] for p in pots]
    a_t = _layer(lin_t, index, e)
    tau = nn.functional.gelu(a_t)
    nets = [[m for m in p.net if isinstance(m, nn.Linear)] for p in pots]
    n_hidden = len(nets[0]) - 1
    layers = [[net[l] for net in nets] for l in range(n_hidden + 1)]
    h = torch.cat([z, tau], dim=1)
    d1s, d2s = [], []
    for l in range(n_hidden):
        h = torch.tanh(_layer(layers[l], index, h))
        s1 = 1.0 - h * h
        d1s.append(s1)
        d2s.append(-2.0 * h * s1)
    value = _layer(layers[-1], index, h).squeeze(1)
    g = _weight(layers[-1], index)[:, 0].expand(B, -1)
    curv = [None] * n_hidden
    for l in range(n_hidden - 1, -1, -1):
        curv[l] = d2s[l] * g
        g = torch.bmm((d1s[l] * g)[:, None, :], _weight(layers[l], index).expand(B, -1, -1)).squeeze(1)
    grad, dt = g[:, :d], None
    if time_derivative:
        w = embed.freqs.to(z.dtype)[None, :]
        ang = tt[:, None] * w
        de = torch.cat([w * ang.cos(), -w * ang.sin()], dim=1)
        gelu_prime = 0.5 * (1.0 + torch.erf(a_t / math.sqrt(2.0))) \
            + a_t * torch.exp(-0.5 * a_t * a_t) / math.sqrt(2.0 * math.pi)
        dtau = gelu_prime * torch.bmm(_weight(lin_t, index).expand(B, -1, -1), de[:, :, None]).squeeze(2)
        dt = (g[:, d:] * dtau).sum(1)
    hess = None
    if hessian:
        M = _weight(layers[0], index, slice(0, d)).expand(B, -1, -1)          # (B, H_1, d)
        hess = z.new_zeros(B, d, d)
        for l in range(n_hidden):
            if l > 0:
                M = torch.bmm(_weight(layers[l], index).expand(B, -1, -1), d1s[l - 1][:, :, None] * M)
            hess = hess + torch.einsum("bhi,bh,bhj->bij", M, curv[l], M)
    return {"value": value, "grad": grad, "dt": dt, "hessian": hess}


class PotentialSet(nn.Module):
    """K independent potentials u^0..u^{K−1} (one per transformation); ``self[k]`` is u^k."""

    def __init__(self, n_potentials: int, latent_dim: int, **kwargs):
        super().__init__()
        if int(n_potentials) < 1:
            raise InvalidParameter(f"n_potentials must be >= 1, got {n_potentials!r}")
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
        raise InvalidParameter(f"z must be (B, d), got shape {tuple(z.shape)}")
    with torch.enable_grad():
        if not z.requires_grad:
            z = z.detach().requires_grad_(True)
        tt = _time_tensor(t, z)
        value = u(z, tt)
        if value.shape != (z.shape[0],):
            raise InvalidParameter(f"the potential must return shape ({z.shape[0]},), got {tuple(value.shape)}")
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
