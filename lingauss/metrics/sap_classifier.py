r"""SAP score (Kumar et al. 2018) from samples, as in disentanglement_lib's ``compute_sap``.

A score matrix :math:`S` (m latents × s factors) is built one latent and one factor at a time, and
the score is the mean over factors of the gap between the two largest entries of each column:

.. math::

    \mathrm{SAP} = \frac1{|J|}\sum_{j\in J} \big(S_{(1)j} - S_{(2)j}\big).

Two branches for :math:`S_{ij}`, as in the reference:

* **continuous factor** — squared correlation from the covariance (``numpy.cov``, ddof = 1) on the
  training samples:
  :math:`S_{ij} = \mathrm{Cov}(x_i, v_j)^2 / (\mathrm{Var}\,x_i\,\mathrm{Var}\,v_j)` when
  :math:`\mathrm{Var}\,x_i > 10^{-12}`, else 0 (the reference's absolute threshold);
* **discrete factor** — test accuracy of a linear SVM predicting :math:`v_j` from :math:`x_i` alone:
  ``sklearn.svm.LinearSVC(C=0.01, class_weight="balanced")`` trained on the training samples,
  :math:`S_{ij}` = fraction of test samples classified correctly. Deviation from the reference:
  the latent is first standardised with the training split's mean and standard deviation. The
  reference fits the raw latent, and with :math:`C = 0.01` the penalty acts on a weight whose size
  depends on the latent's units — multiplying a latent by 1000 changed its accuracies and the score.

The reference picks one branch for all factors (``continuous_factors``; False, i.e. the SVM, in
the reference study, with 10000 training and 5000 test points). Here the branch is chosen per
factor (see :func:`standard_sap`); with all factors discrete or all continuous this is the
reference. For the population version on a Gaussian joint covariance see
:func:`lingauss.metrics.sap.sap_score` (the continuous branch, exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lingauss.params import InvalidParameter
from .._validation import as_rng
from ._standard import (DEFAULT_TEST_FRACTION, check_bins, check_pair, check_test, discrete_mask,
                        factor_labels, freeze, require_sklearn, sklearn_seed, split_train_test,
                        standardise)

__all__ = ["StandardSAPResult", "standard_sap", "SAP_SVM_C", "SAP_VARIANCE_FLOOR"]

#: Regularisation of the reference's ``LinearSVC`` (discrete branch).
SAP_SVM_C = 0.01
#: A latent with sample variance at or below this scores 0 in the continuous branch (reference).
SAP_VARIANCE_FLOOR = 1e-12


@dataclass(frozen=True, eq=False)
class StandardSAPResult:
    r"""The SAP score of a sample.

    ``score``: mean over non-constant factors of :math:`S_{(1)j} - S_{(2)j}` (dimensionless, [0, 1]).
    ``matrix``: read-only (m, s) score matrix :math:`S` (squared correlations in continuous
    columns, SVM test accuracies in discrete columns).
    ``gaps[j]``: :math:`S_{(1)j} - S_{(2)j}` (second largest = 0 when m = 1; 0.0 for a constant factor).
    ``top_latent[j]``: :math:`\arg\max_i S_{ij}`.
    ``discrete_factors[j]``: factor j used the SVM branch (else the correlation branch).
    ``constant_factors[j]``: factor j is constant in the training samples and is left out.
    """

    score: float
    matrix: np.ndarray
    gaps: tuple[float, ...]
    top_latent: tuple[int, ...]
    discrete_factors: tuple[bool, ...]
    constant_factors: tuple[bool, ...]


def _corr2_matrix(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(m, s) squared correlations of every latent column with every factor column: the
    reference's per-pair ``numpy.cov(x_i, v_j, ddof=1)`` formula for all pairs at once (one
    centring per column and one matrix product instead of m·s covariance calls; equal up to
    floating-point rounding). A latent with variance ≤ :data:`SAP_VARIANCE_FLOOR` scores 0; a
    constant factor column gives 0 (the caller leaves it out)."""
    xc = x - x.mean(axis=0)
    vc = v - v.mean(axis=0)
    scale = 1.0 / (x.shape[0] - 1)
    var_x = np.einsum("ij,ij->j", xc, xc) * scale
    var_v = np.einsum("ij,ij->j", vc, vc) * scale
    cov = (xc.T @ vc) * scale
    denom = var_x[:, None] * var_v[None, :]
    ok = (var_x > SAP_VARIANCE_FLOOR)[:, None] & (denom > 0.0)
    out = np.zeros(cov.shape)
    np.divide(cov ** 2, denom, out=out, where=ok)
    return np.minimum(out, 1.0)


def standard_sap(latents, factors, *, test=None, test_fraction: float = DEFAULT_TEST_FRACTION,
                 discrete_factors=None, factor_bins: int = 20, svm_c: float = SAP_SVM_C,
                 rng=None) -> StandardSAPResult:
    r"""SAP score of paired samples (disentanglement_lib's ``compute_sap``).

    .. math::

        \mathrm{SAP} = \frac1{|J|}\sum_{j\in J}\big(S_{(1)j} - S_{(2)j}\big),\quad
        S_{ij} = \begin{cases}
            \mathrm{corr}(x_i, v_j)^2 & v_j \text{ continuous}\\
            \text{test accuracy of LinearSVC}(C)\ x_i \mapsto v_j & v_j \text{ discrete}
        \end{cases}

    Parameters
    ----------
    latents, factors : (N, m), (N, s) arrays
        Paired samples; the training set when ``test`` is given.
    test : None or (latents_test, factors_test)
        Held-out samples for the SVM branch. ``None``: when some factor is discrete, the rows are
        shuffled (seeded by ``rng``) and ``test_fraction`` of them held out; when every factor is
        continuous no split is made and all N samples give the correlations (a given ``test`` is
        then unused: the correlation branch only ever uses the training samples, as the reference).
    test_fraction : float
        Held-out fraction when ``test`` is None (1/3: the reference's 10000 train + 5000 test).
    discrete_factors : None, bool or sequence of s bools
        Which factors use the SVM branch. ``None``: the factors whose values are all integers.
        ``True`` reproduces the reference study (``continuous_factors=False``), ``False`` the
        reference's ``continuous_factors=True``. A continuous factor forced into the SVM branch
        is first cut into ``factor_bins`` equal-width bins (edges from the training samples).
    factor_bins : int
        Bins for continuous factors in the SVM branch (20).
    svm_c : float
        ``LinearSVC`` regularisation (0.01, the reference's).
    rng : Generator, int or None
        Seeds the split and the SVMs (one ``random_state`` for every SVM, so permuting latents
        permutes the rows of ``matrix`` exactly).

    Defects of the reference handled here: a factor constant in the training samples (the
    reference divides by a zero variance, or the SVM fails on one class) is left out of the mean
    and flagged; every factor constant raises ``ValueError``. With m = 1 the second largest is 0.

    Raises ``ValueError`` naming ``latents``/``factors``/``test`` (shape, NaN/inf, N mismatch, too
    few samples), ``test_fraction``, ``discrete_factors``, ``factor_bins``, ``svm_c`` or ``rng``;
    ``ImportError`` when the SVM branch is needed and scikit-learn is missing.
    """
    x, v = check_pair(latents, factors)
    gen = as_rng(rng)
    kf = check_bins(factor_bins, "factor_bins")
    if isinstance(svm_c, (bool, np.bool_)) or not np.isscalar(svm_c) or not float(svm_c) > 0 \
            or not np.isfinite(float(svm_c)):
        raise InvalidParameter(f"svm_c must be a positive finite float, got {svm_c!r}")
    checked = check_test(test, x, v)
    extra = () if checked is None else (checked[1],)
    discrete = discrete_mask(v, discrete_factors, *extra)
    m, s = x.shape[1], v.shape[1]
    if discrete.any():
        x_tr, v_tr, x_te, v_te = split_train_test(x, v, test, test_fraction, gen)
    else:
        x_tr, v_tr, x_te, v_te = x, v, None, None
    constant = np.ptp(v_tr, axis=0) == 0.0
    if np.all(constant):
        raise InvalidParameter("factors: every factor is constant in the training samples; SAP is undefined")
    matrix = np.zeros((m, s))
    continuous = ~discrete & ~constant
    if continuous.any():
        matrix[:, continuous] = _corr2_matrix(x_tr, v_tr[:, continuous])
    if np.any(discrete & ~constant):
        lab_tr, lab_te = factor_labels(v_tr, discrete, kf, v_te)
        svm = require_sklearn("svm", "standard_sap (discrete factors)")
        seed = sklearn_seed(gen)
        z_tr, z_te = standardise(x_tr, x_te)
        for j in np.flatnonzero(discrete & ~constant):
            for i in range(m):
                clf = svm.LinearSVC(C=float(svm_c), class_weight="balanced", random_state=seed)
                clf.fit(z_tr[:, i:i + 1], lab_tr[:, j])
                matrix[i, j] = float(np.mean(clf.predict(z_te[:, i:i + 1]) == lab_te[:, j]))
    ordered = np.sort(matrix, axis=0)
    second = ordered[-2] if m >= 2 else np.zeros(s)
    gaps = np.where(constant, 0.0, ordered[-1] - second)
    return StandardSAPResult(score=float(np.mean(gaps[~constant])), matrix=freeze(matrix),
                             gaps=tuple(float(g) for g in gaps),
                             top_latent=tuple(int(i) for i in np.argmax(matrix, axis=0)),
                             discrete_factors=tuple(bool(d) for d in discrete),
                             constant_factors=tuple(bool(c) for c in constant))
