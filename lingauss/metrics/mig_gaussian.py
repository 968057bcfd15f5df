r"""Closed-form Mutual Information Gap of jointly Gaussian latents and factors.

For the latents-first joint covariance :math:`\Sigma` of :math:`[X; V]` (docs: *Conventions*) every pairwise
mutual information is exact (nats):

.. math::

    M_{ij} = I(x_i; v_j) = -\tfrac12 \log\big(1 - \rho_{ij}^2\big),\qquad
    \rho_{ij} = \frac{\Sigma_{x_i v_j}}{\sqrt{\Sigma_{x_i x_i}\Sigma_{v_j v_j}}},

and the gap of factor j is :math:`g_j = M_{(1)j} - M_{(2)j}` (largest minus second largest over
latents; second largest = 0 when m = 1).

**Normalisation (the documented choice).** The sample MIG divides by the factor's entropy, which
for a continuous factor is a differential entropy: scale dependent, possibly negative, and the
discrete entropy of a binned Gaussian depends on the bins and diverges as they shrink. So:

* ``unnormalized_score`` = :math:`\frac1s\sum_j g_j` is the *unnormalised* MIG in nats. It is what a consistent
  estimator converges to: :func:`gaussian_mig_from_samples` (Gaussian plug-in on the sample joint
  covariance, error :math:`O(N^{-1/2})`) does; the histogram estimator of
  :func:`~lingauss.metrics.mig.standard_mig` (``unnormalized_score``) only does when the
  number of bins grows with N — with the reference's fixed 20 bins it stays biased low for strongly
  informative latents (binning loses information) and high by :math:`\approx (K-1)^2/(2N)` nats
  for weakly informative ones.
* ``score`` = :math:`\frac1s\sum_j g_j / I(v_j; X)`, each gap divided by what *all*
  latents together know about the factor (:math:`I(v_j; X) \ge M_{(1)j} \ge g_j`, so it lies in
  [0, 1] and is invariant to rescaling any variable); a factor with :math:`I(v_j; X) \le 10^{-12}`
  nats (no latent carries it) contributes 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..information import gaussian_mi
from ._joint import check_joint, correlation
from ._standard import freeze
from .samples import _as_samples, joint_covariance_from_samples

__all__ = ["GaussianMIGResult", "gaussian_mig", "gaussian_mig_from_samples"]

_INFO_FLOOR = 1e-12


@dataclass(frozen=True, eq=False)
class GaussianMIGResult:
    r"""Closed-form MIG of a Gaussian joint covariance.

    ``score``: :math:`\frac1s\sum_j (M_{(1)j} - M_{(2)j}) / I(v_j; X)`, in [0, 1] (dimensionless,
    like :attr:`MIGResult.score <lingauss.metrics.mig.MIGResult.score>`).
    ``unnormalized_score``: :math:`\frac1s\sum_j (M_{(1)j} - M_{(2)j})` in nats.
    ``mi_matrix``: read-only (m, s) :math:`I(x_i; v_j)` in nats.
    ``gaps[j]``: factor j's normalised gap :math:`(M_{(1)j} - M_{(2)j}) / I(v_j; X)` (``score`` is
    their mean, as for every result with ``gaps``).
    ``unnormalized_gaps[j]``: :math:`M_{(1)j} - M_{(2)j}` in nats.
    ``factor_information[j]``: :math:`I(v_j; X)` in nats, all latents together.
    ``top_latent[j]``: :math:`\arg\max_i M_{ij}` (lowest index on a tie).
    """

    score: float
    unnormalized_score: float
    mi_matrix: np.ndarray
    gaps: tuple[float, ...]
    unnormalized_gaps: tuple[float, ...]
    factor_information: tuple[float, ...]
    top_latent: tuple[int, ...]


def gaussian_mig(joint_cov, n_latents) -> GaussianMIGResult:
    r"""Exact MIG of jointly Gaussian [latents; factors] (latents first), see the module notes.

    .. math::

        \mathrm{score} = \frac1s\sum_j \frac{M_{(1)j} - M_{(2)j}}{I(v_j; X)},\quad
        \mathrm{unnormalized\_score} = \frac1s\sum_j \big(M_{(1)j} - M_{(2)j}\big)\ \text{nats},\quad
        M_{ij} = -\tfrac12\log(1-\rho_{ij}^2).

    Invariant to rescaling, sign flips and permutations of the latents. Raises ``ValueError`` naming
    ``joint_cov`` (not square/symmetric/finite/positive definite) or ``n_latents``.
    """
    cov, m, s = check_joint(joint_cov, n_latents)
    rho2 = np.clip(correlation(cov)[:m, m:] ** 2, 0.0, 1.0)
    mi = -0.5 * np.log1p(-np.minimum(rho2, 1.0 - 1e-16))
    ordered = np.sort(mi, axis=0)
    second = ordered[-2] if m >= 2 else np.zeros(s)
    gaps = ordered[-1] - second
    info = np.array([gaussian_mi(cov, range(m), m + j) for j in range(s)])
    ratio = np.where(info > _INFO_FLOOR, gaps / np.maximum(info, _INFO_FLOOR), 0.0)
    ratio = np.clip(ratio, 0.0, 1.0)  # round-off only: g_j <= I(v_j; X) exactly
    return GaussianMIGResult(score=float(np.mean(ratio)), unnormalized_score=float(np.mean(gaps)),
                             mi_matrix=freeze(mi), gaps=tuple(float(g) for g in ratio),
                             unnormalized_gaps=tuple(float(g) for g in gaps),
                             factor_information=tuple(float(i) for i in info),
                             top_latent=tuple(int(i) for i in np.argmax(mi, axis=0)))


def gaussian_mig_from_samples(latents, factors, *, shrinkage=None) -> GaussianMIGResult:
    """Gaussian plug-in MIG: :func:`gaussian_mig` of the sample joint covariance.

    ``gaussian_mig(joint_covariance_from_samples(latents, factors, shrinkage=shrinkage), m)``.
    A consistent estimator of the closed form when the samples are Gaussian (error
    :math:`O(N^{-1/2})`); the same arguments and errors as
    :func:`~lingauss.metrics.samples.joint_covariance_from_samples`.
    """
    x = _as_samples(latents, "latents")
    cov = joint_covariance_from_samples(x, factors, shrinkage=shrinkage)
    return gaussian_mig(cov, x.shape[1])
