r"""A backprop-friendly eigenvector of the real eigenvalue nearest 1 (SSM-SKD's single static mode).

Autograd through ``torch.linalg.eig`` eigenvectors is fragile (gauge freedom, division by
eigenvalue gaps, complex arithmetic); the seed proposes a backpropagation-friendly approximation for
an eigenvector of a *real* eigenvalue. We use **shifted inverse iteration** on the real operator:

.. math:: A = C - \sigma I,\qquad v \leftarrow A^{-1} v / \|A^{-1} v\|,\qquad
          w \leftarrow A^{-\top} w / \|A^{-\top} w\|\quad(\texttt{n\_iter}\text{ times}),

with the shift σ = Re λ̂ + ``offset``, λ̂ the real eigenvalue of C nearest ``target`` (= 1), found
with ``torch.linalg.eigvals`` on a detached copy (so σ is a constant for autograd). v is the right
eigenvector (C v = λ v), w the left one (wᵀ C = λ wᵀ); each step is a ``torch.linalg.solve`` (LU),
which autograd differentiates exactly, so the gradient is that of the n-step iteration. Its error
against the exact eigenvector shrinks like (|λ − σ| / |λ₂ − σ|)^n with λ₂ the next-nearest
eigenvalue: with offset 1e-3 and a gap of 0.1 that is 1e-2 per step. The eigenvalue is the
two-sided Rayleigh quotient λ = wᵀCv / wᵀv (real, differentiable, second-order accurate).
Signs are fixed so the largest-magnitude entry of v and of w is positive.

The static projector in the row convention Z_{t+1} = Z_t C is P = v wᵀ / (wᵀ v): the static
representation of a sequence is Z P (the static column of the eigenvector matrix times the static
row of its inverse, as in Hason's (2024) SSM-SKD swap), the dynamic one Z (I − P).

If C has no real eigenvalue (possible only for even k) the nearest complex one's real part is used
as the shift; the iteration then does not converge to an eigenvector (there is none that is real),
and ``StaticEigenpair.residual`` = ‖C v − λ v‖ reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lingauss.params import InvalidParameter

__all__ = ["StaticEigenpair", "static_eigenpair", "static_projector", "nearest_real_eigenvalue"]


@dataclass(frozen=True, eq=False)
class StaticEigenpair:
    """``value`` (...,) real eigenvalue, ``right`` v (..., k), ``left`` w (..., k), ``shift`` σ
    (...,) used, ``residual`` ‖C v − λ v‖ (...,) (detached)."""

    value: torch.Tensor
    right: torch.Tensor
    left: torch.Tensor
    shift: torch.Tensor
    residual: torch.Tensor


def nearest_real_eigenvalue(C: torch.Tensor, target: float = 1.0, *, tol: float = 1e-8,
                            eigvals: torch.Tensor | None = None,
                            candidates: torch.Tensor | None = None) -> torch.Tensor:
    """The real eigenvalue of C (..., k, k) nearest ``target`` (detached, float64, shape (...)).

    An eigenvalue counts as real when |Im λ| ≤ tol·max(1, |λ|); without one, Re of the nearest.
    ``candidates``: optional boolean mask (..., k) over ``eigvals`` (or the computed spectrum) of
    the eigenvalues allowed (SSM-SKD excludes the padded zeros of a low-rank operator); a spectrum
    with no allowed entry falls back to all of them.
    """
    lam = torch.linalg.eigvals(C.detach().to(torch.float64)) if eigvals is None else eigvals.detach()
    lam = lam.to(torch.complex128)
    if candidates is None:
        allowed = torch.ones(lam.shape, dtype=torch.bool, device=lam.device)
    else:
        allowed = candidates.to(torch.bool).expand(lam.shape)
        allowed = allowed | ~allowed.any(-1, keepdim=True)
    real = (lam.imag.abs() <= tol * lam.abs().clamp_min(1.0)) & allowed
    dist = (lam - target).abs()
    inf = torch.full_like(dist, float("inf"))
    dist_real = torch.where(real, dist, inf)
    none = ~real.any(-1, keepdim=True)
    idx = torch.where(none, torch.where(allowed, dist, inf), dist_real).argmin(-1, keepdim=True)
    return torch.gather(lam.real, -1, idx).squeeze(-1)


def _sign_fix(x: torch.Tensor) -> torch.Tensor:
    idx = x.detach().abs().argmax(-1, keepdim=True)
    sign = torch.sign(torch.gather(x.detach(), -1, idx))
    return x * torch.where(sign == 0, torch.ones_like(sign), sign)


def static_eigenpair(C: torch.Tensor, *, target: float = 1.0, n_iter: int = 4, shift=None,
                     offset: float = 1e-3, eigvals: torch.Tensor | None = None,
                     candidates: torch.Tensor | None = None) -> StaticEigenpair:
    """Eigenvalue, right and left eigenvector of the real eigenvalue of C nearest ``target``.

    Parameters
    ----------
    C : (..., k, k) real tensor (cast to float64), batched over leading dimensions
    target : the eigenvalue sought (1 for the static mode)
    n_iter : inverse-iteration steps (≥ 1)
    shift : optional fixed shift σ (scalar or (...,)); default Re λ̂ + ``offset`` (module doc)
    offset : distance of the automatic shift from the eigenvalue (> 0 keeps C − σI invertible)
    eigvals : optional precomputed spectrum (..., k) used to locate λ̂ (e.g. the low-rank one)
    candidates : optional boolean mask (..., k) over ``eigvals`` of the eigenvalues λ̂ may be
        (see :func:`nearest_real_eigenvalue`)
    """
    if int(n_iter) < 1:
        raise InvalidParameter(f"n_iter must be >= 1, got {n_iter!r}")
    C = C.to(torch.float64)
    k = C.shape[-1]
    if shift is None:
        sigma = nearest_real_eigenvalue(C, target, eigvals=eigvals, candidates=candidates) + float(offset)
    else:
        sigma = torch.as_tensor(shift, dtype=torch.float64, device=C.device).detach()
        sigma = sigma.expand(C.shape[:-2]) if sigma.dim() == 0 else sigma
    eye = torch.eye(k, dtype=C.dtype, device=C.device)
    A = C - sigma[..., None, None] * eye
    At = A.transpose(-1, -2)
    start = 1.0 + 0.1 * torch.sin(torch.arange(1, k + 1, dtype=C.dtype, device=C.device))
    v = start.expand(*C.shape[:-2], k)
    w = v
    for _ in range(int(n_iter)):
        v = torch.linalg.solve(A, v)
        v = v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)
        w = torch.linalg.solve(At, w)
        w = w / torch.linalg.vector_norm(w, dim=-1, keepdim=True)
    v, w = _sign_fix(v), _sign_fix(w)
    Cv = (C @ v[..., None])[..., 0]
    lam = (w * Cv).sum(-1) / (w * v).sum(-1)
    residual = torch.linalg.vector_norm(Cv - lam[..., None] * v, dim=-1).detach()
    return StaticEigenpair(value=lam, right=v, left=w, shift=sigma, residual=residual)


def static_projector(right: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
    """P = v wᵀ / (wᵀ v), (..., k, k): the oblique projector onto the mode along the others."""
    return right[..., :, None] * left[..., None, :] / (left * right).sum(-1)[..., None, None]
