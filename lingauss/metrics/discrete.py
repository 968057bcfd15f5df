r"""Equal-width histogram discretisation and plug-in discrete entropy / mutual information.

The discretiser of disentanglement_lib (``histogram_discretizer``, 20 bins in the reference study):
a column :math:`z_1..z_N` is cut into ``num_bins`` equal-width bins spanning :math:`[\min z, \max z]`
(``numpy.histogram`` edges :math:`e_0 < \dots < e_K`) and

.. math:: \operatorname{bin}(z) = \#\{k < K : e_k \le z\} \in \{1, \dots, K\}

(``numpy.digitize(z, edges[:-1])``). A constant column gets ``numpy.histogram``'s default range
:math:`[z - 0.5, z + 0.5]`, so all its samples share one bin.

Plug-in (maximum-likelihood) estimates from the empirical joint distribution of two label vectors,
in nats (the same numbers as ``sklearn.metrics.mutual_info_score``, written in numpy):

.. math::

    \hat H(a) = -\sum_k \hat p_k \log \hat p_k,\qquad
    \hat I(a; b) = \sum_{k,l} \hat p_{kl} \log\frac{\hat p_{kl}}{\hat p_{k\cdot}\,\hat p_{\cdot l}}
    \;\ge 0 .

Bias, stated once for every metric that uses them: :math:`\hat I` over-estimates the MI of the
*labels* by about :math:`(K_a - 1)(K_b - 1)/(2N)` nats (Miller–Madow), and the MI of the labels
under-estimates that of the underlying continuous variables (data processing inequality); with a
fixed number of bins the second gap does not vanish as N grows.
"""

from __future__ import annotations

import numbers

import numpy as np

from lingauss.params import InvalidParameter
from .samples import _as_samples

__all__ = ["histogram_edges", "histogram_discretize", "discrete_entropy", "discrete_mutual_info"]


def check_bins(value, name: str) -> int:
    """A bin count: an integer >= 1, else ``ValueError`` naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)) \
            or value < 1:
        raise InvalidParameter(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _column(values, name: str) -> np.ndarray:
    arr = _as_samples(values, name)
    if arr.shape[1] != 1:
        raise InvalidParameter(f"{name} must be a single column (1-D), got shape {np.shape(values)}")
    return arr[:, 0]


def histogram_edges(values, num_bins: int = 20) -> np.ndarray:
    """The ``num_bins + 1`` equal-width bin edges of ``numpy.histogram(values, num_bins)``."""
    col = _column(values, "values")
    return np.histogram(col, check_bins(num_bins, "num_bins"))[1]


def histogram_discretize(values, num_bins: int = 20) -> np.ndarray:
    r"""Equal-width bin labels in ``1..num_bins`` of a 1-D array (or of each column of a 2-D one).

    ``numpy.digitize(z, numpy.histogram(z, num_bins)[1][:-1])`` per column, as the reference
    ``histogram_discretizer``; returns int64 labels of the same shape as ``values``.
    """
    k = check_bins(num_bins, "num_bins")
    arr = np.asarray(values)
    if arr.ndim == 2:
        mat = _as_samples(values, "values")
        out = np.empty(mat.shape, dtype=np.int64)
        for j in range(mat.shape[1]):
            out[:, j] = np.digitize(mat[:, j], np.histogram(mat[:, j], k)[1][:-1])
        return out
    col = _column(values, "values")
    return np.digitize(col, np.histogram(col, k)[1][:-1]).astype(np.int64)


def _codes(labels: np.ndarray) -> tuple[np.ndarray, int]:
    uniq, inverse = np.unique(labels, return_inverse=True)
    return inverse.ravel(), uniq.size


def _mi_codes(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> float:
    n = a.size
    joint = np.bincount(a * kb + b, minlength=ka * kb).astype(np.float64)
    pa = np.bincount(a, minlength=ka) / n
    pb = np.bincount(b, minlength=kb) / n
    nz = np.flatnonzero(joint)
    pab = joint[nz] / n
    value = float(np.sum(pab * (np.log(pab) - np.log(pa[nz // kb]) - np.log(pb[nz % kb]))))
    return max(value, 0.0)


def discrete_entropy(labels) -> np.ndarray | float:
    r"""Plug-in entropy :math:`-\sum_k \hat p_k \log \hat p_k` (nats) of a label vector, or of each
    column of an (N, s) array (then an (s,) array). Any hashable numeric labels; 0 for a constant."""
    arr = np.asarray(labels)
    mat = _as_samples(labels, "labels")
    out = np.empty(mat.shape[1])
    for j in range(mat.shape[1]):
        _, counts = np.unique(mat[:, j], return_counts=True)
        p = counts / counts.sum()
        out[j] = max(float(-np.sum(p * np.log(p))), 0.0)
    return float(out[0]) if arr.ndim == 1 else out


def discrete_mutual_info(latent_labels, factor_labels) -> np.ndarray:
    r"""(m, s) matrix of plug-in mutual informations :math:`\hat I(a_i; b_j)` in nats.

    ``latent_labels`` (N, m) and ``factor_labels`` (N, s) are paired rows of discrete labels (e.g.
    from :func:`histogram_discretize`); entry (i, j) equals
    ``sklearn.metrics.mutual_info_score(factor_labels[:, j], latent_labels[:, i])``.
    """
    a = _as_samples(latent_labels, "latent_labels")
    b = _as_samples(factor_labels, "factor_labels")
    if a.shape[0] != b.shape[0]:
        raise InvalidParameter(f"latent_labels and factor_labels must have the same number of samples "
                         f"(rows), got {a.shape[0]} and {b.shape[0]}")
    ca = [_codes(a[:, i]) for i in range(a.shape[1])]
    cb = [_codes(b[:, j]) for j in range(b.shape[1])]
    out = np.empty((a.shape[1], b.shape[1]))
    for i, (ai, ka) in enumerate(ca):
        for j, (bj, kb) in enumerate(cb):
            out[i, j] = _mi_codes(ai, ka, bj, kb)
    return out
