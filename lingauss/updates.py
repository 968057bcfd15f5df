r"""Blahut–Arimoto half-steps: the exact encoder and decoder minimisers of the γλ-VAE loss.

With :math:`P = \gamma\Sigma_Z^{-1} + 2\lambda I_n`, the loss terms that depend on the encoder are
:math:`\tfrac12[\operatorname{tr}(B\Sigma_YB^\top) + \operatorname{tr}\Sigma_W - \log|\Sigma_W|]
+ \tfrac12\operatorname{tr}(PE)`, minimised by

.. math:: \Sigma_W = (I_m + A^\top P A)^{-1}, \qquad B = \Sigma_W A^\top P

whenever :math:`I_m + A^\top PA \succ 0` (otherwise the loss is unbounded below along B).
For the decoder, :math:`E(A) = E(A^\star) + (A - A^\star)\Sigma_X(A - A^\star)^\top` with

.. math:: A^\star = \Sigma_{YX}\Sigma_X^{-1}, \quad \Sigma_X = B\Sigma_YB^\top + \Sigma_W,
          \quad \Sigma_{YX} = \Sigma_YB^\top,

so :math:`A^\star` minimises :math:`\operatorname{tr}(PE)` for every :math:`P \succ 0` (it does not
depend on γ, λ or Σ_Z), and Vu et al.'s (2024) :math:`(\Sigma_Y^{-1} + B^\top\Sigma_W^{-1}B)^{-1}
B^\top\Sigma_W^{-1}` is the same matrix. Then :math:`\Sigma_Z` minimises
:math:`\log|\Sigma_Z| + \operatorname{tr}(\Sigma_Z^{-1}E)` inside its family:

- ``"full"``: :math:`\Sigma_Z = E` (the update of Vu et al. 2024);
- ``"diagonal"``: :math:`\Sigma_Z = \operatorname{diag}(E)`;
- ``"isotropic"``: :math:`\Sigma_Z = (\operatorname{tr}E/n)\,I_n`;
- ``"true"`` (needs the model's σ²) or a fixed SPD matrix: :math:`\Sigma_Z` is not learned.

The families are declared once in :mod:`lingauss.noise_families`.

When λ < 0 and :math:`P` is indefinite the decoder step is a stationary point, not a minimiser:
:func:`lingauss.well_posedness` explains when that happens.
"""

from __future__ import annotations

import numpy as np

from lingauss.params import InvalidParameter
from ._validation import as_finite_scalar, as_matrix, as_spd
from .noise_families import LEARNED_FAMILIES, decoder_noise_family, resolve_decoder_noise

__all__ = ["DECODER_FAMILIES", "encoder_update", "decoder_update", "project_noise"]

#: Learned decoder-noise families (declared in :mod:`lingauss.noise_families`); a fixed SPD
#: matrix, or ``"true"`` with a model, is the other option.
DECODER_FAMILIES = LEARNED_FAMILIES


def _mT(x):
    return np.swapaxes(x, -1, -2)


def _sym(x):
    return 0.5 * (x + _mT(x))


def parse_decoder_noise(decoder_noise, n: int, model=None) -> tuple[str, np.ndarray | None]:
    """``(family, fixed_matrix)`` from a learned family's name, ``"true"`` (with ``model``: σ²I),
    or a fixed SPD (n, n) matrix; family ``"fixed"`` for the last two."""
    if isinstance(decoder_noise, str) and decoder_noise_family(decoder_noise).learned:
        return decoder_noise, None
    return "fixed", as_spd(resolve_decoder_noise(decoder_noise, model), "decoder_noise", size=n)


def project_noise(E: np.ndarray, family: str, fixed: np.ndarray | None = None) -> np.ndarray:
    """Minimiser of ``log|Σ_Z| + tr(Σ_Z⁻¹E)`` over the family (batched over leading axes), as
    declared in :mod:`lingauss.noise_families`.

    Examples
    --------
    >>> import numpy as np
    >>> from lingauss.updates import project_noise
    >>> E = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> project_noise(E, "diagonal")
    array([[2., 0.],
           [0., 1.]])
    >>> project_noise(E, "isotropic")
    array([[1.5, 0. ],
           [0. , 1.5]])
    """
    return decoder_noise_family(family).project(E, fixed)


def _encoder_matrix(A, sigma_z, gamma, lam):
    """``(M, P)`` with ``P = γΣ_Z⁻¹ + 2λI`` and ``M = I + AᵀPA`` (unvalidated, batched)."""
    n, m = A.shape[-2], A.shape[-1]
    gamma = np.asarray(gamma, dtype=np.float64)[..., None, None]
    lam = np.asarray(lam, dtype=np.float64)[..., None, None]
    P = _sym(gamma * np.linalg.inv(sigma_z) + 2.0 * lam * np.eye(n))
    M = _sym(np.eye(m) + _mT(A) @ P @ A)
    return M, P


def _encoder_from_matrix(A, M, P):
    sigma_w = _sym(np.linalg.inv(M))
    return sigma_w @ _mT(A) @ P, sigma_w


def _decoder(sigma_y, B, sigma_w):
    """``(A*, E(A*))`` with ``A* = Σ_YX Σ_X⁻¹`` and ``E(A*) = Σ_Y − A* Σ_XY`` (unvalidated)."""
    sigma_x = _sym(B @ sigma_y @ _mT(B) + sigma_w)
    cross = sigma_y @ _mT(B)                                  # Σ_YX, (n, m)
    A = _mT(np.linalg.solve(sigma_x, _mT(cross)))
    return A, _sym(sigma_y - A @ _mT(cross))


def encoder_update(A, sigma_z, gamma, lam) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact encoder minimiser ``(B, Σ_W)`` for fixed decoder ``(A, Σ_Z)``.

    :math:`\Sigma_W = (I_m + A^\top P A)^{-1}`, :math:`B = \Sigma_W A^\top P`,
    :math:`P = \gamma\Sigma_Z^{-1} + 2\lambda I_n`. Batched over leading axes of ``A``/``sigma_z``.
    Raises ``ValueError`` if :math:`I_m + A^\top PA` is not positive definite: then no minimiser
    exists (the loss is unbounded below along B; only possible for λ < 0).

    Examples
    --------
    At γ = 1, λ = 0 the encoder step is the exact posterior of the decoder: for a one-latent decoder
    A = (1, 0.5)ᵀ with Σ_Z = I, Σ_W = (1 + AᵀA)⁻¹ = 1/2.25 and B = Σ_W Aᵀ.

    >>> import numpy as np
    >>> from lingauss import encoder_update
    >>> B, sigma_w = encoder_update(np.array([[1.0], [0.5]]), np.eye(2), gamma=1.0, lam=0.0)
    >>> sigma_w.round(6), B.round(6)
    (array([[0.444444]]), array([[0.444444, 0.222222]]))
    """
    A = as_matrix(A, "A", batch=True)
    sigma_z = as_spd(sigma_z, "sigma_z", size=A.shape[-2], batch=True)
    gamma = as_finite_scalar(gamma, "gamma", minimum=0.0, batch=True)
    lam = as_finite_scalar(lam, "lam", batch=True)
    M, P = _encoder_matrix(A, sigma_z, gamma, lam)
    try:
        np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        raise InvalidParameter("I + A^T P A is not positive definite for these (A, sigma_z, gamma, lam):"
                         " the loss is unbounded below in B, no encoder minimiser exists") from None
    return _encoder_from_matrix(A, M, P)


def decoder_update(sigma_y, B, sigma_w, decoder_noise="full") -> tuple[np.ndarray, np.ndarray]:
    r"""Exact decoder minimiser ``(A, Σ_Z)`` for fixed encoder ``(B, Σ_W)``.

    :math:`A = \Sigma_{YX}\Sigma_X^{-1}`; :math:`\Sigma_Z` = the residual covariance
    :math:`E` projected on ``decoder_noise`` (``"full"``, ``"diagonal"``, ``"isotropic"``, or a fixed
    SPD matrix that is returned unchanged). Batched over leading axes.
    Raises ``ValueError`` when the learned Σ_Z would be singular (the residual vanishes in some
    direction: the loss is unbounded below).

    Examples
    --------
    A = Σ_YX Σ_X⁻¹ is the regression of Y on X; the isotropic Σ_Z is tr E / n · I.

    >>> import numpy as np
    >>> from lingauss import decoder_update, residual_covariance
    >>> sigma_y = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> B, sigma_w = np.array([[1.0, 0.0]]), np.array([[0.5]])
    >>> A, sigma_z = decoder_update(sigma_y, B, sigma_w, "isotropic")
    >>> A.ravel().round(6)                  # Σ_Y Bᵀ / (B Σ_Y Bᵀ + Σ_W) = (2, 0.5) / 2.5
    array([0.8, 0.2])
    >>> bool(np.allclose(sigma_z, np.trace(residual_covariance(sigma_y, A, B, sigma_w)) / 2 * np.eye(2)))
    True
    """
    sigma_y = as_spd(sigma_y, "sigma_y", batch=True)
    n = sigma_y.shape[-1]
    B = as_matrix(B, "B", shape=(None, n), batch=True)
    sigma_w = as_spd(sigma_w, "sigma_w", size=B.shape[-2], batch=True)
    family, fixed = parse_decoder_noise(decoder_noise, n)
    A, E = _decoder(sigma_y, B, sigma_w)
    sigma_z = project_noise(E, family, fixed)
    try:
        np.linalg.cholesky(sigma_z)
    except np.linalg.LinAlgError:
        raise InvalidParameter("the residual covariance E is singular, so the learned sigma_z would be"
                         " too: the loss is unbounded below (log|Σ_Z| → −∞)") from None
    return A, sigma_z
