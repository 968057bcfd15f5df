r"""The linear Gaussian generative model and the joint covariance of latents and factors.

Factors :math:`V \sim N(0, \Sigma_V)` in :math:`\mathbb{R}^s`; data :math:`Y = \Gamma V + \tilde Z`,
:math:`\Gamma \in \mathbb{R}^{n\times s}`, :math:`\tilde Z \sim N(0, \sigma^2 I_n)`, so

.. math:: \Sigma_Y = \Gamma \Sigma_V \Gamma^\top + \sigma^2 I_n .

An encoder :math:`X = BY + W`, :math:`W \sim N(0, \Sigma_W)`, gives the joint covariance of
:math:`[X; V]`, **latents first**:

.. math::

    \begin{bmatrix} B\Sigma_Y B^\top + \Sigma_W & B\Gamma\Sigma_V \\
                    \Sigma_V\Gamma^\top B^\top & \Sigma_V \end{bmatrix}

which is what every metric function of :mod:`lingauss` takes (with ``n_latents = m``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lingauss.params import InvalidParameter
from ._validation import as_finite_scalar, as_matrix, as_rng, as_spd

__all__ = ["LinearGaussianModel"]


def _frozen(arr: np.ndarray) -> np.ndarray:
    out = np.array(arr, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class LinearGaussianModel:
    r"""Linear Gaussian model :math:`Y = \Gamma V + \tilde Z`.

    Parameters
    ----------
    sigma_v : (s, s) array
        Factor covariance :math:`\Sigma_V`, symmetric positive definite.
    mixing : (n, s) array
        :math:`\Gamma`. Use :meth:`standard` for the default of Vu et al. (2024) (the first ``s`` standard basis
        vectors of :math:`\mathbb{R}^n`).
    noise_var : float
        Observation noise variance :math:`\sigma^2 > 0`.

    Examples
    --------
    >>> import numpy as np
    >>> from lingauss import LinearGaussianModel
    >>> model = LinearGaussianModel(sigma_v=np.eye(2), mixing=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
    ...                             noise_var=0.1)
    >>> model.s, model.n
    (2, 3)
    >>> model.sigma_y            # Γ Σ_V Γᵀ + σ² I
    array([[1.1, 0. , 1. ],
           [0. , 1.1, 1. ],
           [1. , 1. , 2.1]])
    """

    sigma_v: np.ndarray
    mixing: np.ndarray
    noise_var: float
    sigma_y: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sigma_v = as_spd(self.sigma_v, "sigma_v")
        mixing = as_matrix(self.mixing, "mixing", shape=(None, sigma_v.shape[0]))
        noise_var = as_finite_scalar(self.noise_var, "noise_var", minimum=0.0, strict=True)
        sigma_y = mixing @ sigma_v @ mixing.T + noise_var * np.eye(mixing.shape[0])
        object.__setattr__(self, "sigma_v", _frozen(sigma_v))
        object.__setattr__(self, "mixing", _frozen(mixing))
        object.__setattr__(self, "noise_var", float(noise_var))
        object.__setattr__(self, "sigma_y", _frozen(0.5 * (sigma_y + sigma_y.T)))

    @classmethod
    def standard(cls, sigma_v, n: int, noise_var: float) -> "LinearGaussianModel":
        """Model with :math:`\\Gamma` = the first ``s`` standard basis vectors of R^n (requires n ≥ s).

        Examples
        --------
        >>> import numpy as np
        >>> from lingauss import LinearGaussianModel
        >>> LinearGaussianModel.standard(np.eye(2), n=3, noise_var=0.1).mixing
        array([[1., 0.],
               [0., 1.],
               [0., 0.]])
        """
        s = np.shape(sigma_v)[0] if np.ndim(sigma_v) == 2 else None
        if s is None:
            raise InvalidParameter(f"sigma_v must be a 2-D matrix, got shape {np.shape(sigma_v)}")
        if not isinstance(n, (int, np.integer)) or n < s:
            raise InvalidParameter(f"n must be an integer >= s = {s}, got {n!r}")
        return cls(sigma_v=sigma_v, mixing=np.eye(int(n), s), noise_var=noise_var)

    @property
    def n(self) -> int:
        """Dimension of the data Y."""
        return self.mixing.shape[0]

    @property
    def s(self) -> int:
        """Number of generative factors."""
        return self.mixing.shape[1]

    def sample(self, n_samples: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(v, y)`` with shapes ``(n_samples, s)`` and ``(n_samples, n)``; seeded by ``rng``.

        Examples
        --------
        >>> import numpy as np
        >>> from lingauss import LinearGaussianModel
        >>> model = LinearGaussianModel.standard(np.eye(2), n=3, noise_var=0.1)
        >>> v, y = model.sample(20_000, rng=0)
        >>> v.shape, y.shape
        ((20000, 2), (20000, 3))
        >>> bool(np.allclose(np.cov(y.T), model.sigma_y, atol=0.05))
        True
        """
        if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool) or n_samples < 1:
            raise InvalidParameter(f"n_samples must be a positive integer, got {n_samples!r}")
        gen = as_rng(rng)
        v = gen.multivariate_normal(np.zeros(self.s), self.sigma_v, size=int(n_samples),
                                    method="cholesky")
        noise = gen.standard_normal((int(n_samples), self.n)) * np.sqrt(self.noise_var)
        return v, v @ self.mixing.T + noise

    def joint_covariance(self, B, sigma_w) -> np.ndarray:
        r"""Covariance of :math:`[X; V]` (latents first) for the encoder :math:`X = BY + W`.

        ``B`` is (m, n) and ``sigma_w`` (m, m) symmetric positive definite; returns the
        (m+s)×(m+s) matrix with blocks :math:`B\Sigma_YB^\top+\Sigma_W`, :math:`B\Gamma\Sigma_V`,
        :math:`\Sigma_V`.

        Examples
        --------
        An encoder that reads the two factor coordinates with noise variance 0.5:

        >>> import numpy as np
        >>> from lingauss import LinearGaussianModel
        >>> model = LinearGaussianModel.standard(np.eye(2), n=3, noise_var=0.1)
        >>> model.joint_covariance(B=np.eye(2, 3), sigma_w=0.5 * np.eye(2))
        array([[1.6, 0. , 1. , 0. ],
               [0. , 1.6, 0. , 1. ],
               [1. , 0. , 1. , 0. ],
               [0. , 1. , 0. , 1. ]])
        """
        B = as_matrix(B, "B", shape=(None, self.n))
        sigma_w = as_spd(sigma_w, "sigma_w", size=B.shape[0])
        sigma_x = B @ self.sigma_y @ B.T + sigma_w
        sigma_xv = B @ self.mixing @ self.sigma_v
        joint = np.block([[sigma_x, sigma_xv], [sigma_xv.T, self.sigma_v]])
        return 0.5 * (joint + joint.T)

    def __repr__(self) -> str:
        return f"LinearGaussianModel(s={self.s}, n={self.n}, noise_var={self.noise_var:g})"
