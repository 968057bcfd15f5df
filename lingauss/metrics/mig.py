r"""Mutual Information Gap (Chen et al. 2018) from samples, as in disentanglement_lib.

Given N paired samples of m latents and s factors:

1. each latent column is discretised into ``num_bins`` = 20 equal-width bins
   (:func:`~lingauss.metrics.discrete.histogram_discretize`);
2. a discrete factor keeps its values as labels; a continuous one is discretised the same way
   into ``factor_bins`` = 20 bins (the reference assumes discrete factors; see
   :func:`standard_mig` for the rule);
3. :math:`M_{ij} = \hat I(\mathrm{bin}(x_i); v_j)` and :math:`H_j = \hat H(v_j)`, plug-in
   estimates in nats (:func:`~lingauss.metrics.discrete.discrete_mutual_info`);
4. per factor, the gap between the two largest entries of column j, normalised by the entropy:

.. math::

    \mathrm{MIG} = \frac{1}{|J|}\sum_{j \in J}
        \frac{M_{(1)j} - M_{(2)j}}{H_j},\qquad J = \{j : H_j > 0\}.

Deviations from the reference, all documented on :func:`standard_mig`: constant factors
(:math:`H_j = 0`, where the reference divides 0 by 0 and returns NaN) are left out of the mean and
flagged; with a single latent the second-largest MI is taken as 0 (the reference fails).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lingauss.params import InvalidParameter
from ._standard import check_bins, check_pair, discrete_mask, factor_labels, freeze
from .discrete import discrete_entropy, discrete_mutual_info, histogram_discretize

__all__ = ["MIGResult", "standard_mig", "mig_from_matrix"]


@dataclass(frozen=True, eq=False)
class MIGResult:
    r"""The Mutual Information Gap of a sample.

    ``score``: mean over non-constant factors of :math:`(M_{(1)j} - M_{(2)j}) / H_j`
    (dimensionless, in [0, 1]).
    ``unnormalized_score``: the same mean of the raw gaps :math:`M_{(1)j} - M_{(2)j}` (nats).
    ``mi_matrix``: read-only (m, s) plug-in MI :math:`M_{ij}` (nats), latents are rows.
    ``entropies``: read-only (s,) plug-in entropies :math:`H_j` of the (discretised) factors (nats).
    ``gaps[j]``: factor j's normalised gap (0.0 for a constant factor, see ``constant_factors``).
    ``top_latent[j]``: :math:`\arg\max_i M_{ij}` (lowest index on a tie).
    ``constant_factors[j]``: factor j has :math:`H_j = 0` and is left out of both means.
    ``discrete_factors[j]``: factor j was used as discrete labels (else binned).

    Compared by identity (``eq=False``): the matrices are arrays.
    """

    score: float
    unnormalized_score: float
    mi_matrix: np.ndarray
    entropies: np.ndarray
    gaps: tuple[float, ...]
    top_latent: tuple[int, ...]
    constant_factors: tuple[bool, ...]
    discrete_factors: tuple[bool, ...]


def mig_from_matrix(mi_matrix, entropies) -> tuple[float, float, np.ndarray, np.ndarray]:
    r"""``(score, unnormalized_score, gaps, constant)`` from an (m, s) MI matrix and (s,) entropies.

    :math:`g_j = M_{(1)j} - M_{(2)j}` (second largest = 0 when m = 1); ``gaps`` = :math:`g_j / H_j`
    for :math:`H_j > 0` and 0 otherwise; both scores average over :math:`\{j : H_j > 0\}` only.
    Raises ``ValueError`` (naming ``factors``) when every factor is constant.
    """
    mi = np.asarray(mi_matrix, dtype=np.float64)
    h = np.asarray(entropies, dtype=np.float64)
    ordered = np.sort(mi, axis=0)
    second = ordered[-2] if mi.shape[0] >= 2 else np.zeros(mi.shape[1])
    raw = ordered[-1] - second
    constant = h <= 0.0
    if np.all(constant):
        raise InvalidParameter("factors: every factor is constant (zero entropy); MIG is undefined")
    keep = ~constant
    gaps = np.zeros_like(raw)
    gaps[keep] = raw[keep] / h[keep]
    return float(np.mean(gaps[keep])), float(np.mean(raw[keep])), gaps, constant


def standard_mig(latents, factors, *, num_bins: int = 20, discrete_factors=None,
                 factor_bins: int = 20) -> MIGResult:
    r"""Mutual Information Gap of paired samples, disentanglement_lib's ``compute_mig``.

    .. math::

        \mathrm{MIG} = \frac1{|J|}\sum_{j\in J}\frac{\hat I(\mathrm{bin}(x_{i^{(1)}_j}); v_j)
                       - \hat I(\mathrm{bin}(x_{i^{(2)}_j}); v_j)}{\hat H(v_j)}

    with :math:`i^{(1)}_j, i^{(2)}_j` the latents of largest and second-largest MI with factor j
    and :math:`J` the non-constant factors. Plug-in MI in nats on 20-bin equal-width histograms
    (reference defaults: ``num_bins=20``, ``num_train=10000`` samples).

    Parameters
    ----------
    latents : (N, m) array
        Latent codes (a 1-D array is one latent).
    factors : (N, s) array
        Ground-truth factors, paired row by row with ``latents``.
    num_bins : int
        Equal-width bins per latent (20, the reference study's ``discretizer.num_bins``).
    discrete_factors : None, bool or sequence of s bools
        Which factors are discrete labels. ``None`` (default): a factor is discrete iff all its
        values are integers. Continuous factors are binned into ``factor_bins`` equal-width bins,
        so their entropy (and the score) depends on that choice — for Gaussian factors see
        :func:`lingauss.metrics.mig_gaussian.gaussian_mig`.
    factor_bins : int
        Equal-width bins per continuous factor (20).

    Defects of the reference handled here: a constant factor (zero entropy; the reference returns
    0/0 = NaN) is *left out* of the mean and flagged in ``constant_factors`` (every factor
    constant raises ``ValueError``); with m = 1 the second-largest MI is 0.

    Raises ``ValueError`` naming ``latents``/``factors`` (shape, NaN/inf, different N, N < 2),
    ``num_bins``, ``factor_bins`` or ``discrete_factors``.
    """
    x, v = check_pair(latents, factors)
    k = check_bins(num_bins, "num_bins")
    kf = check_bins(factor_bins, "factor_bins")
    discrete = discrete_mask(v, discrete_factors)
    lab_v, _ = factor_labels(v, discrete, kf)
    lab_x = histogram_discretize(x, k)
    mi = discrete_mutual_info(lab_x, lab_v)
    h = np.atleast_1d(discrete_entropy(lab_v))
    score, raw_score, gaps, constant = mig_from_matrix(mi, h)
    return MIGResult(score=score, unnormalized_score=raw_score, mi_matrix=freeze(mi),
                     entropies=freeze(h), gaps=tuple(float(g) for g in gaps),
                     top_latent=tuple(int(i) for i in np.argmax(mi, axis=0)),
                     constant_factors=tuple(bool(c) for c in constant),
                     discrete_factors=tuple(bool(d) for d in discrete))
