r"""SAP score (Kumar, Sattigeri & Balakrishnan 2018; Vu et al. 2024, eq. 7–8) on a joint covariance.

For latents :math:`x_1..x_m` and factors :math:`v_1..v_s` with the latents-first joint covariance
:math:`\Sigma` of :math:`[X; V]`, the score matrix is the squared correlation

.. math::

    S_{ij} = \operatorname{corr}(x_i, v_j)^2
           = \frac{\Sigma_{x_i v_j}^2}{\Sigma_{x_i x_i}\,\Sigma_{v_j v_j}} \in [0, 1]
    \qquad (i = 1..m,\; j = 1..s),

and the score is the mean gap between the two largest entries of each column,

.. math::

    \mathrm{SAP} = \frac1s \sum_{j=1}^s \big(S_{i^{(j)} j} - S_{i'^{(j)} j}\big),\qquad
    i^{(j)} = \arg\max_i S_{ij},\quad i'^{(j)} = \arg\max_{i \ne i^{(j)}} S_{ij}.

Everything is dimensionless and invariant to rescaling (and sign flips) of any latent or factor.
With a single latent (m = 1) there is no second-largest entry; it is taken to be 0, so the gap of
factor j is :math:`S_{1j}` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..grouping import canonical_grouping
from ._joint import check_joint, correlation

__all__ = ["SAPResult", "sap_score", "TIE_ATOL", "TIE_RTOL"]

#: Two squared correlations a ≥ b are *tied* when a − b ≤ TIE_ATOL + TIE_RTOL · a.
TIE_ATOL = 1e-12
TIE_RTOL = 1e-9


@dataclass(frozen=True, eq=False)
class SAPResult:
    r"""The SAP score of one joint covariance.

    ``score``: mean over factors of the gap between the largest and second-largest
    :math:`S_{ij} = \operatorname{corr}(x_i, v_j)^2` (dimensionless, in [0, 1]).
    ``matrix``: the read-only (m, s) matrix :math:`S` (latents are rows, factors columns).
    ``top_latent[j]``: :math:`\arg\max_i S_{ij}`, the 0-based latent of factor j (the lowest index
    on an exact tie; see ``tied_top``).
    ``grouping``: the factors grouped by their top latent, as a canonical unlabelled set partition
    (:func:`lingauss.grouping.canonical_grouping`).
    ``gaps[j]``: largest − second-largest entry of column j (second largest = 0 when m = 1);
    ``score`` is their mean.
    ``tied_top[j]``: the largest entry of column j ties the second
    (gap ≤ ``TIE_ATOL`` + ``TIE_RTOL`` · largest), so factor j's top latent is not determined.
    Always ``False`` when m = 1 (there is no other latent to tie with).

    Compared by identity (``eq=False``): ``matrix`` is an array.
    """

    score: float
    matrix: np.ndarray
    top_latent: tuple[int, ...]
    grouping: tuple[tuple[int, ...], ...]
    gaps: tuple[float, ...]
    tied_top: tuple[bool, ...]

    @property
    def n_latents(self) -> int:
        """m, the number of latents (rows of ``matrix``)."""
        return int(self.matrix.shape[0])

    @property
    def n_factors(self) -> int:
        """s, the number of factors (columns of ``matrix``)."""
        return int(self.matrix.shape[1])

    @property
    def ambiguous(self) -> bool:
        """True when some factor's top latent is tied, so ``grouping`` is not determined."""
        return any(self.tied_top)


def sap_score(joint_cov, n_latents) -> SAPResult:
    r"""SAP score of the latents-first joint covariance of :math:`[X; V]` (Kumar et al. 2018).

    .. math::

        S_{ij} = \frac{\Sigma_{x_i v_j}^2}{\Sigma_{x_i x_i}\Sigma_{v_j v_j}},\qquad
        \mathrm{SAP} = \frac1s\sum_j \big(\max_i S_{ij} - \operatorname{second\,max}_i S_{ij}\big)

    with the second maximum taken as 0 when ``n_latents`` = 1. Dimensionless, 0 ≤ SAP ≤ 1.

    Parameters
    ----------
    joint_cov : (m+s, m+s) array
        Symmetric positive-definite covariance of [latents; factors], latents first.
    n_latents : int
        m, with 1 ≤ m < m+s.

    Raises ``ValueError`` naming ``joint_cov`` (not square/symmetric/finite/positive definite) or
    ``n_latents``.
    """
    cov, m, s = check_joint(joint_cov, n_latents)
    corr = correlation(cov)
    matrix = np.clip(corr[:m, m:] ** 2, 0.0, 1.0)
    top = np.argmax(matrix, axis=0)
    largest = matrix[top, np.arange(s)]
    if m >= 2:
        second = np.sort(matrix, axis=0)[-2]
        tied = (largest - second) <= TIE_ATOL + TIE_RTOL * largest
    else:
        second = np.zeros(s)
        tied = np.zeros(s, dtype=bool)
    gaps = largest - second
    grouping = canonical_grouping([[j for j in range(s) if top[j] == i] for i in range(m)])
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    matrix.setflags(write=False)
    return SAPResult(score=float(np.mean(gaps)), matrix=matrix,
                     top_latent=tuple(int(i) for i in top), grouping=grouping,
                     gaps=tuple(float(x) for x in gaps),
                     tied_top=tuple(bool(t) for t in tied))
