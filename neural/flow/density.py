r"""The posterior density along the flow: the log-determinant of I + ∇²u (exact, estimated, or the
public code's row sums).

A step z' = z + ∇u(z) is the map Φ(z) with Jacobian J = I + H, H = ∇²_z u (symmetric). By the
change of variables (the discrete continuity equation of Song et al. (2023))

.. math:: \log q_t(z_t) = \log q_{t-1}(z_{t-1}) - \log|\det(I + H(z_{t-1}))| .

Three ways to get :math:`\log|\det(I+H)|` per sample, chosen by ``method``:

``"exact"``
    ``torch.linalg.slogdet(I + H)`` of the full Hessian (B, d, d) — O(d) backward passes (batched)
    plus O(d³); exact for any H.
``"hutchinson"``
    :math:`\log\det(I+H) = \operatorname{tr}\log(I+H) = \sum_{j\ge1} \frac{(-1)^{j+1}}{j}
    \operatorname{tr}(H^j)`, the series truncated after ``n_terms`` terms, each trace estimated by
    Hutchinson's estimator :math:`\operatorname{tr}(A) ≈ \frac1P\sum_p v_p^\top A v_p` with
    Rademacher probes (``n_probes``), :math:`H^j v` by j Hessian-vector products (never the full
    Hessian). Valid only while the spectral radius ρ(H) < 1 (the series diverges otherwise; for a
    flow step that is the "small step" regime, I + H then being positive definite so the absolute
    value is not needed). Unbiased for the truncated series; the truncation bias is
    ≤ Σ_{j>n} ρ^j / j per eigenvalue. Cost n_terms · n_probes HVPs, independent of d.
``"rowsum"``
    The public code (``KingJamesSong/latent-flow``, ``HJPDE2.loss_pde``): ``u_zz = grad(u_z.sum(), z)``
    is the vector of Hessian **row sums** r = H·1, and the density is updated per dimension by
    −log|1 + r_i|; summed over dimensions this is :math:`\sum_i \log|1 + (H\mathbf 1)_i|`, which
    is **not** log|det(I + H)|: it equals it when H is diagonal, and differs otherwise (for
    u = ½ zᵀQz: log det(I+Q) versus Σ_i log|1 + Σ_j Q_ij|). Offered for comparison only.
``"auto"`` (default)
    ``"exact"`` when d ≤ ``exact_max_dim`` (:data:`EXACT_MAX_DIM` = 16), else ``"hutchinson"``.
"""

from __future__ import annotations

import torch

from lingauss.params import InvalidParameter

__all__ = ["EXACT_MAX_DIM", "LOGDET_METHODS", "logdet_exact", "logdet_rowsum", "logdet_hutchinson",
           "resolve_logdet_method", "flow_logdet", "density_step"]

#: Latent sizes up to this use the exact log-determinant under ``method="auto"``.
EXACT_MAX_DIM = 16
LOGDET_METHODS = ("auto", "exact", "hutchinson", "rowsum")


def logdet_exact(hessian: torch.Tensor) -> torch.Tensor:
    """log|det(I + H)| per sample, H (B, d, d) → (B,)."""
    d = hessian.shape[-1]
    eye = torch.eye(d, dtype=hessian.dtype, device=hessian.device)
    return torch.linalg.slogdet(eye + hessian)[1]


def logdet_rowsum(row_sums: torch.Tensor) -> torch.Tensor:
    r"""The public code's surrogate :math:`\sum_i \log|1 + (H\mathbf 1)_i|` from the row sums
    r = H·1 (B, d) → (B,). Not the log-determinant unless H is diagonal (module doc)."""
    return torch.log(torch.abs(1.0 + row_sums)).sum(dim=1)


def logdet_hutchinson(hvp, batch: int, dim: int, *, n_probes: int = 4, n_terms: int = 6,
                      generator: torch.Generator | None = None, dtype=torch.float32,
                      device=None) -> torch.Tensor:
    r"""Truncated-series Hutchinson estimate of log det(I + H) per sample (module doc).

    ``hvp(v)`` maps (B, d) → H v (B, d) per sample. Returns (B,). Requires ρ(H) < 1.
    """
    if n_probes < 1 or n_terms < 1:
        raise InvalidParameter("n_probes and n_terms must be >= 1")
    total = torch.zeros(batch, dtype=dtype, device=device)
    for _ in range(int(n_probes)):
        v = torch.randint(0, 2, (batch, dim), generator=generator, device="cpu" if generator else device)
        v = (2.0 * v - 1.0).to(dtype=dtype, device=device)
        w = v
        for j in range(1, int(n_terms) + 1):
            w = hvp(w)
            total = total + ((-1.0) ** (j + 1) / j) * (v * w).sum(dim=1)
    return total / n_probes


def resolve_logdet_method(method: str, dim: int, exact_max_dim: int = EXACT_MAX_DIM) -> str:
    """The method actually used: ``"auto"`` → ``"exact"`` if ``dim <= exact_max_dim`` else
    ``"hutchinson"``; the others are returned unchanged (``ValueError`` for unknown names)."""
    if method not in LOGDET_METHODS:
        raise InvalidParameter(f"logdet method must be one of {LOGDET_METHODS}, got {method!r}")
    if method == "auto":
        return "exact" if dim <= exact_max_dim else "hutchinson"
    return method


def flow_logdet(grad: torch.Tensor, z: torch.Tensor, *, method: str = "auto",
                exact_max_dim: int = EXACT_MAX_DIM, create_graph: bool = True, n_probes: int = 4,
                n_terms: int = 6, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""log|det(I + ∂grad/∂z)| per sample (B,), for a velocity ``grad`` = ∇u(z) (B, d) that was
    computed from ``z`` with its graph kept (``potential_derivatives(..., create_graph=True)`` or a
    weighted sum of such gradients).

    ``method`` as in the module doc; with ``"auto"`` the threshold is ``exact_max_dim``.
    """
    B, d = z.shape
    how = resolve_logdet_method(method, d, exact_max_dim)
    if not grad.requires_grad:                      # velocity independent of z: H = 0
        return z.new_zeros(B)
    if how == "exact":
        basis = torch.eye(d, dtype=z.dtype, device=z.device)[:, None, :].expand(d, B, d)
        rows = torch.autograd.grad(grad, z, grad_outputs=basis, is_grads_batched=True,
                                   create_graph=create_graph, retain_graph=True, allow_unused=True)[0]
        if rows is None:
            return z.new_zeros(B)
        return logdet_exact(rows.transpose(0, 1))
    if how == "rowsum":
        r = torch.autograd.grad(grad.sum(), z, create_graph=create_graph, retain_graph=True,
                                allow_unused=True)[0]
        return z.new_zeros(B) if r is None else logdet_rowsum(r)

    def hvp(v):
        out = torch.autograd.grad(grad, z, grad_outputs=v, create_graph=create_graph, retain_graph=True,
                                  allow_unused=True)[0]
        return torch.zeros_like(v) if out is None else out

    val = logdet_hutchinson(hvp, B, d, n_probes=n_probes, n_terms=n_terms, generator=generator,
                            dtype=z.dtype, device=z.device)
    return val if create_graph else val.detach()


def density_step(log_q: torch.Tensor, logdet: torch.Tensor) -> torch.Tensor:
    r"""log q_t(z_t) = log q_{t−1}(z_{t−1}) − log|det(I + ∇²u)| (the discrete continuity equation)."""
    return log_q - logdet
