"""Validation of the joint covariance of [latents; factors] shared by every metric."""

from __future__ import annotations

import numpy as np

from lingauss.params import InvalidParameter
from .._validation import as_spd

__all__ = ["check_joint"]


def check_joint(joint_cov, n_latents) -> tuple[np.ndarray, int, int]:
    """``(cov, m, s)`` from a latents-first joint covariance and ``n_latents = m``.

    Raises ``ValueError`` naming ``joint_cov`` (not square, not symmetric, NaN/inf, not positive
    definite) or ``n_latents`` (not an integer with 1 ≤ m < size, so at least one factor remains).
    """
    if isinstance(n_latents, (bool, np.bool_)) or not isinstance(n_latents, (int, np.integer)):
        raise InvalidParameter(f"n_latents must be a positive integer, got {n_latents!r}")
    cov = as_spd(joint_cov, "joint_cov")
    size = cov.shape[0]
    if not 1 <= n_latents < size:
        raise InvalidParameter(f"n_latents must satisfy 1 <= n_latents < {size} (the joint covariance size),"
                         f" got {n_latents}")
    return cov, int(n_latents), size - int(n_latents)


def correlation(cov: np.ndarray) -> np.ndarray:
    """The correlation matrix ``D^{-1/2} Σ D^{-1/2}`` (MI and SAP are invariant to this rescaling)."""
    d = 1.0 / np.sqrt(np.diag(cov))
    corr = cov * d[:, None] * d[None, :]
    np.fill_diagonal(corr, 1.0)
    return 0.5 * (corr + corr.T)
