r"""Modularity and explicitness (Ridgeway & Mozer 2018) from samples, as in disentanglement_lib.

**Modularity** (from the m × s MI matrix :math:`M`, latents binned into 20 equal-width bins as in
:mod:`~lingauss.metrics.mig`): for code i with :math:`\theta_i = \max_j M_{ij}`,

.. math::

    \delta_i = \frac{\sum_j M_{ij}^2 - \theta_i^2}{\theta_i^2\,(s - 1)},\qquad
    \mathrm{mod}_i = 1 - \delta_i,\qquad
    \mathrm{Modularity} = \frac1m \sum_i \mathrm{mod}_i,

with :math:`\mathrm{mod}_i = 0` for a code carrying no information (:math:`\theta_i = 0`; the
reference computes 0/0 first and then overwrites it) and :math:`\mathrm{mod}_i = 1` when s = 1
and :math:`\theta_i > 0` (the reference divides by s − 1 = 0).

**Explicitness**: the latents are standardised with the training mean and standard deviation
(``numpy.std``, ddof = 0; a constant latent is left at 0 instead of dividing by 0); for each factor
a ``sklearn.linear_model.LogisticRegression()`` (defaults: lbfgs, C = 1, 100 iterations) is
trained on all latents, and the score is its one-vs-rest ROC-AUC, macro-averaged over the classes
(the reference's ``roc_auc_score`` on ``MultiLabelBinarizer`` indicators), on the training and on
the test samples; explicitness is the mean over factors.

Reference study sizes: 10000 training and 5000 test samples, 20 bins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lingauss.params import InvalidParameter
from .._validation import as_matrix, as_rng
from ._standard import (DEFAULT_TEST_FRACTION, check_bins, check_pair, discrete_mask,
                        factor_labels, freeze, require_sklearn, sklearn_seed, split_train_test, standardise)
from .discrete import discrete_mutual_info, histogram_discretize

__all__ = ["ModularityResult", "modularity_score", "standard_modularity"]


@dataclass(frozen=True, eq=False)
class ModularityResult:
    r"""Modularity and explicitness of a sample.

    ``modularity``: :math:`\frac1m\sum_i \mathrm{mod}_i` in [0, 1].
    ``per_latent``: :math:`\mathrm{mod}_i` of each latent.
    ``explicitness_train``, ``explicitness_test``: mean over the non-constant factors of the
    macro one-vs-rest ROC-AUC of a logistic regression, in [0, 1] (0.5 = chance).
    ``mi_matrix``: read-only (m, s) plug-in MI (nats) on the training samples.
    ``constant_factors[j]``: factor j has one class in the training samples and no explicitness.
    ``discrete_factors[j]``: factor j used its values as classes (else equal-width bins).
    """

    modularity: float
    per_latent: tuple[float, ...]
    explicitness_train: float
    explicitness_test: float
    mi_matrix: np.ndarray
    constant_factors: tuple[bool, ...]
    discrete_factors: tuple[bool, ...]

    @property
    def score(self) -> float:
        """The headline score, ``modularity``."""
        return self.modularity


def _per_latent(mi: np.ndarray) -> np.ndarray:
    sq = mi * mi
    theta2 = sq.max(axis=1)
    s = mi.shape[1]
    out = np.zeros(mi.shape[0])
    live = theta2 > 0.0
    if s == 1:
        out[live] = 1.0
        return out
    delta = (sq[live].sum(axis=1) - theta2[live]) / (theta2[live] * (s - 1))
    out[live] = 1.0 - delta
    return out


def modularity_score(mi_matrix) -> float:
    r"""Modularity :math:`\frac1m\sum_i\big(1 - \frac{\sum_j M_{ij}^2 - \theta_i^2}
    {\theta_i^2(s-1)}\big)` of an (m, s) MI matrix (codes are rows), with 0 for a code whose row is
    zero and 1 for a non-zero code when s = 1. Raises ``ValueError`` naming ``mi_matrix``
    (not 2-D, empty, NaN/inf, negative).
    """
    mi = as_matrix(mi_matrix, "mi_matrix")
    if mi.size == 0:
        raise InvalidParameter(f"mi_matrix must be non-empty, got shape {mi.shape}")
    if np.any(mi < 0.0):
        raise InvalidParameter("mi_matrix must be non-negative")
    return float(np.mean(_per_latent(mi)))


def _macro_auc(labels: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float | None:
    """Mean over classes (present with both outcomes) of the one-vs-rest ROC-AUC (Mann–Whitney)."""
    from scipy.stats import rankdata
    aucs = []
    for c, cls in enumerate(classes):
        pos = labels == cls
        n_pos, n_neg = int(pos.sum()), int((~pos).sum())
        if n_pos == 0 or n_neg == 0:
            continue
        ranks = rankdata(proba[:, c])
        aucs.append((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
    return float(np.mean(aucs)) if aucs else None


def standard_modularity(latents, factors, *, test=None,
                        test_fraction: float = DEFAULT_TEST_FRACTION, num_bins: int = 20,
                        discrete_factors=None, factor_bins: int = 20,
                        rng=None) -> ModularityResult:
    r"""Modularity and explicitness of paired samples (``compute_modularity_explicitness``).

    Parameters
    ----------
    latents, factors : (N, m), (N, s) arrays
        Paired samples; the training set when ``test`` is given (modularity uses the training
        samples only, as the reference).
    test : None or (latents_test, factors_test)
        Held-out samples for ``explicitness_test``. ``None``: the rows are shuffled (seeded by
        ``rng``) and ``test_fraction`` of them held out.
    test_fraction : float
        Held-out fraction when ``test`` is None (1/3: the reference's 10000 + 5000).
    num_bins : int
        Equal-width bins per latent for the MI matrix (20).
    discrete_factors : None, bool or sequence of s bools
        Which factors are class labels. ``None``: those whose values are all integers; continuous
        factors are cut into ``factor_bins`` equal-width bins (edges from the training samples).
    factor_bins : int
        Bins per continuous factor (20).
    rng : Generator, int or None
        Seeds the split and the logistic regressions.

    The one-vs-rest AUC of a class absent from the evaluated samples (or present in all of them) is
    undefined and left out of the macro average (``explicitness_test`` = 0.5, chance, if no class
    of any factor has a defined test AUC); a factor with a single class in the training
    samples gets no explicitness (left out of the means, flagged in ``constant_factors``). Every
    factor constant raises ``ValueError``.

    Raises ``ValueError`` naming ``latents``/``factors``/``test``, ``test_fraction``, ``num_bins``,
    ``discrete_factors``, ``factor_bins`` or ``rng``; ``ImportError`` without scikit-learn.
    """
    x, v = check_pair(latents, factors)
    gen = as_rng(rng)
    k = check_bins(num_bins, "num_bins")
    kf = check_bins(factor_bins, "factor_bins")
    x_tr, v_tr, x_te, v_te = split_train_test(x, v, test, test_fraction, gen)
    discrete = discrete_mask(v_tr, discrete_factors, v_te)
    lab_tr, lab_te = factor_labels(v_tr, discrete, kf, v_te)
    s = v.shape[1]
    constant = np.array([np.unique(lab_tr[:, j]).size < 2 for j in range(s)])
    if np.all(constant):
        raise InvalidParameter("factors: every factor has a single value in the training samples; "
                         "explicitness is undefined")
    mi = discrete_mutual_info(histogram_discretize(x_tr, k), lab_tr)
    per_latent = _per_latent(mi)

    linear_model = require_sklearn("linear_model", "standard_modularity (explicitness)")
    seed = sklearn_seed(gen)
    z_tr, z_te = standardise(x_tr, x_te)
    exp_train, exp_test = [], []
    for j in np.flatnonzero(~constant):
        clf = linear_model.LogisticRegression(random_state=seed).fit(z_tr, lab_tr[:, j])
        auc_tr = _macro_auc(lab_tr[:, j], clf.predict_proba(z_tr), clf.classes_)
        auc_te = _macro_auc(lab_te[:, j], clf.predict_proba(z_te), clf.classes_)
        exp_train.append(auc_tr)
        if auc_te is not None:
            exp_test.append(auc_te)
    return ModularityResult(modularity=float(np.mean(per_latent)),
                            per_latent=tuple(float(p) for p in per_latent),
                            explicitness_train=float(np.mean(exp_train)),
                            explicitness_test=float(np.mean(exp_test)) if exp_test else 0.5,
                            mi_matrix=freeze(mi), constant_factors=tuple(bool(c) for c in constant),
                            discrete_factors=tuple(bool(d) for d in discrete))
