r"""DCI — Disentanglement, Completeness, Informativeness (Eastwood & Williams 2018) from samples.

As disentanglement_lib's ``compute_dci``: for each factor j a gradient-boosted tree classifier
(``sklearn.ensemble.GradientBoostingClassifier()`` with its defaults: 100 stages, learning rate
0.1, depth 3) predicts :math:`v_j` from all m latents; its impurity-based feature importances
form column j of the importance matrix :math:`R \in \mathbb{R}_{\ge 0}^{m\times s}`.

* Disentanglement of code i, with :math:`P_{ij} = R_{ij} / \sum_k R_{ik}` and entropy in base s:

  .. math::

      D_i = 1 - H_s(P_{i\cdot}),\qquad
      D = \sum_i \rho_i D_i,\quad \rho_i = \frac{\sum_j R_{ij}}{\sum_{ij} R_{ij}}.

* Completeness of factor j, with :math:`\tilde P_{ij} = R_{ij}/\sum_k R_{kj}` and base m:

  .. math::

      C_j = 1 - H_m(\tilde P_{\cdot j}),\qquad
      C = \sum_j \tilde\rho_j C_j,\quad \tilde\rho_j = \frac{\sum_i R_{ij}}{\sum_{ij} R_{ij}}.

  In both, :math:`10^{-11}` is added to every entry before normalising (as the reference, through
  ``scipy.stats.entropy``), and an all-zero :math:`R` gets uniform weights :math:`\rho`.
* Informativeness: the mean over factors of the classifiers' accuracy on the training and on the
  test samples (the reference names it an error but reports accuracy; higher is better).

Reference study sizes: 10000 training and 5000 test samples.

Backends (``backend=``; declared in :data:`DCI_BACKENDS`, which the metric registry lists):

* ``"gbt"`` (default, the reference): ``GradientBoostingClassifier`` and its impurity-based
  importances, as above. Exact but slow: every stage fits one tree per class on all samples
  (about 12 s for 5 factors of 10 classes at N = 1,000 on one core, roughly linear in N).
* ``"hist"``: ``sklearn.ensemble.HistGradientBoostingClassifier`` with the reference's settings
  where they exist (100 iterations, learning rate 0.1, depth 3, no early stopping,
  ``min_samples_leaf`` 1) on latents binned into 255 quantile bins; the importance of latent i is
  its **total split gain** — the sum, over every tree of every iteration and class, of the loss
  reduction of the splits on latent i — normalised to sum 1, the histogram-boosting counterpart of
  the impurity importance (the gain of a split is the Newton-step loss reduction instead of the
  reduction of squared error of the pseudo-residuals). It reads the fitted trees' split records
  (``_predictors``, the only place scikit-learn keeps them). Seconds at N = 10,000; the
  benchmark ``lingauss bench metrics`` measures its agreement with ``"gbt"`` (correlation of the
  importance matrices, differences of D and C).

Deviation from the reference: the latents are standardised with the training split's mean and
standard deviation before the trees are fitted. Trees are invariant to it in exact arithmetic, but
scikit-learn fits them on float32 copies, whose rounding (hence the splits and the importances)
depended on the latents' units and offsets; now the scores do not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from lingauss.params import InvalidParameter
from .._validation import as_matrix, as_rng
from ._standard import (DEFAULT_TEST_FRACTION, check_bins, check_pair, discrete_mask,
                        factor_labels, freeze, require_sklearn, sklearn_seed, split_train_test,
                        standardise)

__all__ = ["DCIResult", "standard_dci", "dci_disentanglement", "dci_completeness",
           "DCI_EPSILON", "DCI_BACKENDS", "HIST_DEFAULTS"]

#: Added to every importance before the entropies (the reference's 1e-11).
DCI_EPSILON = 1e-11

#: Settings of the ``"hist"`` backend's ``HistGradientBoostingClassifier`` (``gbt_kwargs``
#: override them): the reference's stages, learning rate and depth; leaves as small as its.
HIST_DEFAULTS = MappingProxyType({"max_iter": 100, "learning_rate": 0.1, "max_depth": 3,
                                  "max_leaf_nodes": None, "min_samples_leaf": 1,
                                  "early_stopping": False})


def _fit_gbt(ensemble, x, y, seed, kwargs):
    model = ensemble.GradientBoostingClassifier(random_state=seed, **kwargs)
    model.fit(x, y)
    return model, np.abs(model.feature_importances_)


def _split_gain(model, m: int) -> np.ndarray:
    """Total split gain per feature over every tree of a fitted HistGradientBoostingClassifier,
    normalised to sum 1 (all zero when no tree split)."""
    gain = np.zeros(m)
    for stage in model._predictors:
        for tree in stage:
            nodes = tree.nodes[~tree.nodes["is_leaf"].astype(bool)]
            np.add.at(gain, nodes["feature_idx"].astype(np.int64), np.maximum(nodes["gain"], 0.0))
    total = gain.sum()
    return gain / total if total > 0 else gain


def _fit_hist(ensemble, x, y, seed, kwargs):
    model = ensemble.HistGradientBoostingClassifier(random_state=seed, **{**HIST_DEFAULTS, **kwargs})
    model.fit(x, y)
    return model, _split_gain(model, x.shape[1])


@dataclass(frozen=True)
class DCIBackend:
    """A tree-ensemble backend of :func:`standard_dci`: the estimator and how importances are read."""

    name: str
    estimator: str
    importance: str
    fit: Callable


#: The backends of :func:`standard_dci` by name, the reference first (module notes).
DCI_BACKENDS = MappingProxyType({b.name: b for b in (
    DCIBackend("gbt", "GradientBoostingClassifier", "impurity decrease (feature_importances_)",
               _fit_gbt),
    DCIBackend("hist", "HistGradientBoostingClassifier", "total split gain", _fit_hist),
)})


@dataclass(frozen=True, eq=False)
class DCIResult:
    r"""DCI scores of a sample.

    ``disentanglement``, ``completeness``: :math:`D`, :math:`C` in [0, 1] (see the module notes).
    ``informativeness_train``, ``informativeness_test``: mean classifier accuracy over the
    non-constant factors, in [0, 1].
    ``importance_matrix``: read-only (m, s) :math:`R` (column j sums to 1 unless factor j is
    constant or no latent was used, then 0).
    ``constant_factors[j]``: factor j has one class in the training samples: no classifier is fitted,
    its importance column is 0 and it is left out of the informativeness means.
    ``discrete_factors[j]``: factor j used its values as classes (else equal-width bins).
    """

    disentanglement: float
    completeness: float
    informativeness_train: float
    informativeness_test: float
    importance_matrix: np.ndarray
    constant_factors: tuple[bool, ...]
    discrete_factors: tuple[bool, ...]

    @property
    def score(self) -> float:
        """The headline score, :math:`D` (``disentanglement``), as disentanglement_lib reports it."""
        return self.disentanglement


def _importance(importance_matrix) -> np.ndarray:
    r = as_matrix(importance_matrix, "importance_matrix")
    if r.shape[0] < 1 or r.shape[1] < 1:
        raise InvalidParameter(f"importance_matrix must be non-empty, got shape {r.shape}")
    if np.any(r < 0.0):
        raise InvalidParameter("importance_matrix must be non-negative")
    return r


def _one_minus_entropy(p: np.ndarray, base: int) -> np.ndarray:
    """1 − H_base of each row of ``p + ε`` (rows normalised); 1 when base = 1 (nothing to spread)."""
    if base == 1:
        return np.ones(p.shape[0])
    q = p + DCI_EPSILON
    q = q / q.sum(axis=1, keepdims=True)
    return 1.0 - (-np.sum(q * np.log(q), axis=1) / np.log(base))


def _weighted(per: np.ndarray, totals: np.ndarray) -> float:
    weights = np.full(totals.shape, 1.0 / totals.size) if totals.sum() == 0.0 \
        else totals / totals.sum()
    return float(np.sum(per * weights))


def dci_disentanglement(importance_matrix) -> float:
    r"""DCI disentanglement :math:`D = \sum_i \rho_i (1 - H_s(P_{i\cdot}))` of an (m, s) importance
    matrix (codes are rows; entropy base s = number of factors; :math:`10^{-11}` added; an
    all-zero matrix gives uniform :math:`\rho` and D = 0). With s = 1, every :math:`D_i = 1`.
    Raises ``ValueError`` naming ``importance_matrix`` (not 2-D, empty, NaN/inf, negative).
    """
    r = _importance(importance_matrix)
    return _weighted(_one_minus_entropy(r, r.shape[1]), r.sum(axis=1))


def dci_completeness(importance_matrix) -> float:
    r"""DCI completeness :math:`C = \sum_j \tilde\rho_j (1 - H_m(\tilde P_{\cdot j}))` of an (m, s)
    importance matrix (entropy base m = number of codes; :math:`10^{-11}` added; all-zero gives
    C = 0). With m = 1, every :math:`C_j = 1`. Raises ``ValueError`` like
    :func:`dci_disentanglement`.
    """
    r = _importance(importance_matrix)
    return _weighted(_one_minus_entropy(r.T, r.shape[0]), r.sum(axis=0))


def standard_dci(latents, factors, *, test=None, test_fraction: float = DEFAULT_TEST_FRACTION,
                 discrete_factors=None, factor_bins: int = 20,
                 gbt_kwargs: Mapping | None = None, backend: str = "gbt", rng=None) -> DCIResult:
    r"""DCI of paired samples (disentanglement_lib's ``compute_dci``), see the module notes.

    Parameters
    ----------
    latents, factors : (N, m), (N, s) arrays
        Paired samples; the training set when ``test`` is given.
    test : None or (latents_test, factors_test)
        Held-out samples for ``informativeness_test``. ``None``: the rows are shuffled (seeded by
        ``rng``) and ``test_fraction`` of them held out.
    test_fraction : float
        Held-out fraction when ``test`` is None (1/3: the reference's 10000 train + 5000 test).
    discrete_factors : None, bool or sequence of s bools
        Which factors are class labels. ``None``: those whose values are all integers. A continuous
        factor is cut into ``factor_bins`` equal-width bins (edges from the training samples) and
        the bins are the classes.
    factor_bins : int
        Bins per continuous factor (20).
    gbt_kwargs : mapping or None
        Extra keyword arguments of the backend's classifier (default none: the reference's
        defaults, or :data:`HIST_DEFAULTS`). ``random_state`` is always drawn from ``rng``.
    backend : str
        ``"gbt"`` (the reference's gradient-boosted trees) or ``"hist"`` (histogram gradient
        boosting with split-gain importances, much faster at large N); see the module notes and
        :data:`DCI_BACKENDS`.
    rng : Generator, int or None
        Seeds the split and the classifiers.

    Defects of the reference handled here: a factor with a single class in the training samples
    (the reference's classifier fails) gets a zero importance column and is left out of the
    informativeness means; every factor constant raises ``ValueError``.

    Raises ``ValueError`` naming ``latents``/``factors``/``test`` (shape, NaN/inf, N mismatch, too
    few samples), ``test_fraction``, ``discrete_factors``, ``factor_bins``, ``gbt_kwargs``,
    ``backend`` or ``rng``; ``ImportError`` without scikit-learn.
    """
    x, v = check_pair(latents, factors)
    gen = as_rng(rng)
    kf = check_bins(factor_bins, "factor_bins")
    if backend not in DCI_BACKENDS:
        raise InvalidParameter(f"backend must be one of {tuple(DCI_BACKENDS)}, got {backend!r}")
    fit = DCI_BACKENDS[backend].fit
    if gbt_kwargs is not None and not isinstance(gbt_kwargs, Mapping):
        raise InvalidParameter(f"gbt_kwargs must be None or a mapping, got {type(gbt_kwargs).__name__}")
    kwargs = dict(gbt_kwargs or {})
    kwargs.pop("random_state", None)
    x_tr, v_tr, x_te, v_te = split_train_test(x, v, test, test_fraction, gen)
    x_tr, x_te = standardise(x_tr, x_te)   # trees are invariant to it, their float32 copies are not
    discrete = discrete_mask(v_tr, discrete_factors, v_te)
    lab_tr, lab_te = factor_labels(v_tr, discrete, kf, v_te)
    m, s = x.shape[1], v.shape[1]
    constant = np.array([np.unique(lab_tr[:, j]).size < 2 for j in range(s)])
    if np.all(constant):
        raise InvalidParameter("factors: every factor has a single value in the training samples; "
                         "DCI is undefined")
    ensemble = require_sklearn("ensemble", "standard_dci")
    seed = sklearn_seed(gen)
    importance = np.zeros((m, s))
    acc_train, acc_test = [], []
    for j in np.flatnonzero(~constant):
        try:
            model, importance[:, j] = fit(ensemble, x_tr, lab_tr[:, j], seed, kwargs)
        except TypeError as exc:
            raise InvalidParameter(f"gbt_kwargs are not {DCI_BACKENDS[backend].estimator} arguments "
                             f"({exc})") from None
        acc_train.append(np.mean(model.predict(x_tr) == lab_tr[:, j]))
        acc_test.append(np.mean(model.predict(x_te) == lab_te[:, j]))
    return DCIResult(disentanglement=dci_disentanglement(importance),
                     completeness=dci_completeness(importance),
                     informativeness_train=float(np.mean(acc_train)),
                     informativeness_test=float(np.mean(acc_test)),
                     importance_matrix=freeze(importance),
                     constant_factors=tuple(bool(c) for c in constant),
                     discrete_factors=tuple(bool(d) for d in discrete))
