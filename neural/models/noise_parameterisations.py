r"""Σ_Z of the linear Gaussian VAE as torch parameters, one parameterisation per decoder-noise
structure declared in :mod:`lingauss.noise_families` (its ``kernel`` code says which structure a
family has; the family's ``project`` says which matrices belong to it):

* ``KERNEL_ISOTROPIC`` — σ²I: one log-variance;
* ``KERNEL_DIAGONAL`` — diag(d): n log-variances;
* ``KERNEL_FULL`` — L Lᵀ with L lower triangular, positive diagonal (log-diagonal + strict lower part);
* ``KERNEL_FIXED`` — a given SPD matrix, held as its Cholesky factor (a buffer, not learned).

Each exposes ``chol()`` (L_Z), ``logdet()`` (log|Σ_Z|), ``whiten(r)`` (rows r ↦ L_Z⁻¹ r),
``n_free()`` (free parameters) and ``assign(Σ_Z)`` (set the parameters from a matrix of the family).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lingauss.params import InvalidParameter
from lingauss.noise_families import KERNEL_DIAGONAL, KERNEL_FIXED, KERNEL_FULL, KERNEL_ISOTROPIC

__all__ = ["noise_parameterisation", "chol_params"]


def chol_params(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(strict lower part of L, log diag L) of the Cholesky factor L of an SPD ``matrix``."""
    L = np.linalg.cholesky(matrix)
    return np.tril(L, -1), np.log(np.diag(L))


class _LogVariance(nn.Module):
    """σ²I (``size`` 0: one log-variance) or diag(d) (``size`` n): exp of log-variances."""

    def __init__(self, n: int, size: int, dtype):
        super().__init__()
        self.n = n
        self.log_var = nn.Parameter(torch.zeros((size,) if size else (), dtype=dtype))

    def chol(self) -> torch.Tensor:
        d = torch.exp(0.5 * self.log_var)
        if self.log_var.dim() == 0:
            return torch.eye(self.n, dtype=d.dtype, device=d.device) * d
        return torch.diag(d)

    def logdet(self) -> torch.Tensor:
        return self.n * self.log_var if self.log_var.dim() == 0 else self.log_var.sum()

    def whiten(self, r: torch.Tensor) -> torch.Tensor:
        return r * torch.exp(-0.5 * self.log_var)

    def n_free(self) -> int:
        """Free parameters of Σ_Z."""
        return int(self.log_var.numel())

    def assign(self, sigma_z: np.ndarray) -> None:
        d = np.diag(sigma_z)
        value = np.log(d.mean()) if self.log_var.dim() == 0 else np.log(d)
        self.log_var.copy_(torch.as_tensor(value, dtype=self.log_var.dtype, device=self.log_var.device))


class _Cholesky(nn.Module):
    """L Lᵀ: a learned Cholesky factor (``learned``) or a fixed one (a buffer)."""

    def __init__(self, n: int, dtype, fixed: np.ndarray | None = None):
        super().__init__()
        self.learned = fixed is None
        if self.learned:
            self.offdiag = nn.Parameter(torch.zeros(n, n, dtype=dtype))
            self.log_diag = nn.Parameter(torch.zeros(n, dtype=dtype))
            self.register_buffer("tril", torch.tril(torch.ones(n, n, dtype=dtype), -1))
        else:
            self.register_buffer("fixed", torch.as_tensor(np.linalg.cholesky(fixed), dtype=dtype))

    def chol(self) -> torch.Tensor:
        if self.learned:
            return self.offdiag * self.tril + torch.diag(self.log_diag.exp())
        return self.fixed

    def logdet(self) -> torch.Tensor:
        if self.learned:
            return 2.0 * self.log_diag.sum()
        return 2.0 * torch.log(torch.diagonal(self.fixed)).sum()

    def whiten(self, r: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve_triangular(self.chol(), r.T, upper=False).T

    def n_free(self) -> int:
        """Free parameters of Σ_Z: the strict lower triangle and the diagonal (0 when fixed)."""
        return int(self.tril.sum()) + self.log_diag.numel() if self.learned else 0

    def assign(self, sigma_z: np.ndarray) -> None:
        if not self.learned:
            raise InvalidParameter("sigma_z is fixed for this model")
        off, logd = chol_params(sigma_z)
        self.offdiag.copy_(torch.as_tensor(off, dtype=self.offdiag.dtype, device=self.offdiag.device))
        self.log_diag.copy_(torch.as_tensor(logd, dtype=self.log_diag.dtype, device=self.log_diag.device))


_BY_KERNEL = {
    KERNEL_ISOTROPIC: lambda n, dtype, fixed: _LogVariance(n, 0, dtype),
    KERNEL_DIAGONAL: lambda n, dtype, fixed: _LogVariance(n, n, dtype),
    KERNEL_FULL: lambda n, dtype, fixed: _Cholesky(n, dtype),
    KERNEL_FIXED: lambda n, dtype, fixed: _Cholesky(n, dtype, fixed),
}


def noise_parameterisation(family, n: int, dtype, fixed: np.ndarray | None = None) -> nn.Module:
    """The Σ_Z parameterisation of a :class:`~lingauss.noise_families.DecoderNoiseFamily`."""
    return _BY_KERNEL[family.kernel](n, dtype, fixed)
