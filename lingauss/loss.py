r"""The exact γλ-VAE loss of the linear Gaussian β-VAE (per sample, in nats).

With encoder :math:`X = BY + W`, decoder :math:`\hat Y = A\hat X + Z` and prior
:math:`\hat X \sim N(0, I_m)`, the residual covariance is

.. math:: E = \mathbb{E}[(Y-AX)(Y-AX)^\top] = (I-AB)\Sigma_Y(I-AB)^\top + A\Sigma_W A^\top

and the loss :math:`L = \mathbb{E}_Y \mathrm{KL}(q(x|y)\,\|\,N(0,I_m)) - \gamma\,\mathbb{E}\log p(y|x)
+ \lambda\,\mathbb{E}\|Y - AX\|^2` has the terms

.. math::

    \mathrm{kl}  &= \tfrac12\left[\operatorname{tr}(B\Sigma_YB^\top + \Sigma_W) - \log|\Sigma_W| - m\right] \\
    \mathrm{nll} &= \tfrac12\left[n\log 2\pi + \log|\Sigma_Z| + \operatorname{tr}(\Sigma_Z^{-1}E)\right] \\
    \mathrm{mse} &= \operatorname{tr} E, \qquad \mathrm{total} = \mathrm{kl} + \gamma\,\mathrm{nll} + \lambda\,\mathrm{mse}.

This is the expectation itself (formula (3) as printed by Vu et al. (2024) drops factors and a trace), so a
Monte-Carlo estimate converges to it; ``tests/lingauss/test_loss.py`` checks that and
:mod:`lingauss.symbolic` derives it independently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lingauss.params import InvalidParameter
from ._validation import as_finite_scalar, as_matrix, as_spd

__all__ = ["LossTerms", "gamma_lambda_loss", "residual_covariance"]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class LossTerms:
    """The γλ-VAE loss terms in nats per sample: ``total = kl + gamma * nll + lam * mse``.

    Each field is a float, or an array with the batch shape when the inputs were batched.
    """

    total: float | np.ndarray
    kl: float | np.ndarray
    nll: float | np.ndarray
    mse: float | np.ndarray


def _mT(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


def _trace(x: np.ndarray) -> np.ndarray:
    return np.trace(x, axis1=-2, axis2=-1)


def _chol_logdet(chol: np.ndarray) -> np.ndarray:
    return 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)


def _residual(sigma_y, A, B, sigma_w) -> np.ndarray:
    n = sigma_y.shape[-1]
    resid = np.eye(n) - A @ B
    E = resid @ sigma_y @ _mT(resid) + A @ sigma_w @ _mT(A)
    return 0.5 * (E + _mT(E))


def _loss_terms(sigma_y, A, B, sigma_w, sigma_z, gamma, lam, E=None):
    """Unvalidated kernel: arrays with matching batch axes → (total, kl, nll, mse).

    Raises ``numpy.linalg.LinAlgError`` if Σ_W or Σ_Z is not positive definite.
    """
    n, m = A.shape[-2], A.shape[-1]
    if E is None:
        E = _residual(sigma_y, A, B, sigma_w)
    chol_w = np.linalg.cholesky(sigma_w)
    chol_z = np.linalg.cholesky(sigma_z)
    kl = 0.5 * (_trace(B @ sigma_y @ _mT(B)) + _trace(sigma_w) - _chol_logdet(chol_w) - m)
    # tr(Σ_Z⁻¹ E) = ‖L⁻¹ E^{1/2}‖², computed as tr(L⁻¹ E L⁻ᵀ) with one triangular-free solve.
    half = np.linalg.solve(chol_z, E)
    trace_term = _trace(np.linalg.solve(chol_z, _mT(half)))
    nll = 0.5 * (n * _LOG_2PI + _chol_logdet(chol_z) + trace_term)
    mse = _trace(E)
    total = kl + gamma * nll + lam * mse
    return total, kl, nll, mse


def residual_covariance(sigma_y, A, B, sigma_w) -> np.ndarray:
    r"""Residual covariance :math:`E = (I-AB)\Sigma_Y(I-AB)^\top + A\Sigma_WA^\top` (batched).

    Examples
    --------
    A decoder that outputs nothing leaves the whole data covariance as residual:

    >>> import numpy as np
    >>> from lingauss import residual_covariance
    >>> sigma_y = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> residual_covariance(sigma_y, A=np.zeros((2, 1)), B=np.ones((1, 2)), sigma_w=np.eye(1))
    array([[2. , 0.5],
           [0.5, 1. ]])
    """
    sigma_y, A, B, sigma_w = _validate(sigma_y, A, B, sigma_w)
    return _residual(sigma_y, A, B, sigma_w)


def _validate(sigma_y, A, B, sigma_w, sigma_z=None):
    sigma_y = as_spd(sigma_y, "sigma_y", batch=True)
    n = sigma_y.shape[-1]
    A = as_matrix(A, "A", shape=(n, None), batch=True)
    m = A.shape[-1]
    B = as_matrix(B, "B", shape=(m, n), batch=True)
    sigma_w = as_spd(sigma_w, "sigma_w", size=m, batch=True)
    out = [sigma_y, A, B, sigma_w]
    if sigma_z is not None:
        out.append(as_spd(sigma_z, "sigma_z", size=n, batch=True))
    try:
        shape = np.broadcast_shapes(*(x.shape[:-2] for x in out))
    except ValueError:
        raise InvalidParameter("batch axes of sigma_y, A, B, sigma_w, sigma_z do not broadcast: "
                         + ", ".join(str(x.shape) for x in out)) from None
    return [np.broadcast_to(x, shape + x.shape[-2:]) for x in out]


def gamma_lambda_loss(sigma_y, A, B, sigma_w, sigma_z, gamma, lam) -> LossTerms:
    r"""Exact γλ-VAE loss terms (nats per sample) of the linear Gaussian β-VAE.

    Parameters
    ----------
    sigma_y : (..., n, n)  data covariance :math:`\Sigma_Y` (SPD)
    A : (..., n, m)        decoder matrix
    B : (..., m, n)        encoder matrix
    sigma_w : (..., m, m)  encoder noise covariance :math:`\Sigma_W` (SPD)
    sigma_z : (..., n, n)  decoder noise covariance :math:`\Sigma_Z` (SPD)
    gamma, lam : float or array broadcasting against the batch axes

    Returns
    -------
    LossTerms
        ``kl``, ``nll``, ``mse`` and ``total = kl + gamma*nll + lam*mse`` as in the module
        docstring; floats for unbatched inputs, arrays of the broadcast batch shape otherwise.

    Leading (batch) axes broadcast, so a whole grid of parameters is evaluated in one call.
    Raises ``ValueError`` naming the argument for a wrong shape, NaN/inf, a negative ``gamma``
    (the range :func:`lingauss.blahut_arimoto` accepts), or a covariance that is not symmetric
    positive definite.

    Examples
    --------
    The collapsed solution (B = 0, Σ_W = I, A = 0, Σ_Z = Σ_Y) has kl = 0, mse = tr Σ_Y, and its nll
    is the Gaussian negative log-likelihood of the data, ½ (n log 2π + log|Σ_Y| + n):

    >>> import numpy as np
    >>> from lingauss import gamma_lambda_loss
    >>> sigma_y = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> t = gamma_lambda_loss(sigma_y, np.zeros((2, 1)), np.zeros((1, 2)), np.eye(1), sigma_y,
    ...                       gamma=1.0, lam=0.1)
    >>> t.kl, t.mse
    (0.0, 3.0)
    >>> bool(np.isclose(t.nll, 0.5 * (2 * np.log(2 * np.pi) + np.log(1.75) + 2)))
    True
    >>> bool(np.isclose(t.total, t.kl + 1.0 * t.nll + 0.1 * t.mse))
    True

    Batched: a grid of γ values in one call.

    >>> gamma_lambda_loss(sigma_y, np.zeros((2, 1)), np.zeros((1, 2)), np.eye(1), sigma_y,
    ...                   gamma=np.array([0.5, 1.0]), lam=0.0).total.shape
    (2,)
    """
    sigma_y, A, B, sigma_w, sigma_z = _validate(sigma_y, A, B, sigma_w, sigma_z)
    gamma = as_finite_scalar(gamma, "gamma", minimum=0.0, batch=True)   # as blahut_arimoto: γ ≥ 0
    lam = as_finite_scalar(lam, "lam", batch=True)
    total, kl, nll, mse = _loss_terms(sigma_y, A, B, sigma_w, sigma_z, gamma, lam)
    batched = np.ndim(total) > 0
    conv = (lambda x: x) if batched else float
    return LossTerms(total=conv(total), kl=conv(kl), nll=conv(nll), mse=conv(mse))
