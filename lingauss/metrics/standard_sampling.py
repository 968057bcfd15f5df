r"""The intervention-based scores: BetaVAE (Higgins et al. 2017) and FactorVAE (Kim & Mnih 2018).

Both draw batches in which one factor is held fixed, from a
:class:`~lingauss.metrics.factor_samplers.FactorSampler`, as disentanglement_lib's
``compute_beta_vae_sklearn`` and ``compute_factor_vae`` do (defaults of the reference study:
batch size 64, 10000 training and 5000 evaluation points, 10000 samples for the global variances,
pruning threshold 0.05).

**BetaVAE score.** One point: draw a factor index k uniformly from the s factors, a batch of L
factor vectors :math:`v^{(1)}_{1..L}` and a second batch :math:`v^{(2)}_l` sharing factor k with
the first (:math:`v^{(2)}_{l,k} = v^{(1)}_{l,k}`, the others from their conditional given it), their
latents :math:`z^{(1)}_l, z^{(2)}_l`, and the feature

.. math:: f = \frac1L \sum_{l=1}^L \big|z^{(1)}_l - z^{(2)}_l\big| \in \mathbb{R}^m

labelled k. A ``sklearn.linear_model.LogisticRegression()`` (defaults) is fitted on the training
points; the scores are its accuracy on them and on fresh evaluation points.

**FactorVAE score.** Global variances :math:`\sigma^2_d` (ddof = 1) of each latent over
``num_variance_estimate`` samples; latent d is *active* when :math:`\sigma_d \ge` ``prune_threshold``
and :math:`\sigma^2_d > 0`. One point: draw k, one value :math:`v_k` from the factor's marginal, a
batch of L factor vectors with factor k fixed at :math:`v_k`, their latents, and the vote

.. math:: d^\star = \arg\min_{d\ \text{active}} \frac{\widehat{\mathrm{Var}}_{\text{batch}}(z_d)}{\sigma^2_d}

(an index into *all* m latents). Votes :math:`V_{kd}` are counted over the points; the majority-vote
classifier maps latent d to :math:`c(d) = \arg\max_k V^{\text{train}}_{kd}`, and the accuracy of a
vote matrix is :math:`\sum_d V_{c(d) d} / \sum_{kd} V_{kd}` (training votes and fresh evaluation
votes).

**Defects of the reference fixed here.**

1. ``num_active_dims``: the reference reports ``len`` of the boolean mask, i.e. always m. Here it is
   the number of active latents.
2. The reference takes the argmin over the pruned vector ``ratio[active]`` and uses that position as
   a latent index, so with an inactive latent before an active one the vote lands on the wrong
   latent (the accuracy is unchanged — the relabelling is injective — but the vote matrix and the
   factor → latent map are wrong). Here the position is mapped back to the latent's index.
3. With the reference's code default threshold 0, a constant latent (:math:`\sigma^2_d = 0`) stays
   active and its ratio is 0/0 = NaN, so ``argmin`` returns it; here it is inactive.
4. A latent without training votes gets no class (``latent_factor`` = −1) and its evaluation votes
   count as errors; the reference's ``argmax`` of a zero column silently assigns it factor 0.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from lingauss.params import InvalidParameter
from .._validation import as_rng
from ._standard import require_sklearn, sklearn_seed
from .factor_samplers import FactorSampler, check_sampler_output

__all__ = ["BetaVAEResult", "FactorVAEResult", "beta_vae_score", "factor_vae_score",
           "FACTOR_VAE_PRUNE_THRESHOLD"]

#: The reference study's ``prune_dims.threshold`` (latents with a smaller global sd are inactive).
FACTOR_VAE_PRUNE_THRESHOLD = 0.05
_CHUNK_POINTS = 1024


@dataclass(frozen=True)
class BetaVAEResult:
    """BetaVAE score: ``train_accuracy`` and ``eval_accuracy`` of the logistic regression (in [0, 1];
    chance is 1/s), and ``n_latents``."""

    train_accuracy: float
    eval_accuracy: float
    n_latents: int

    @property
    def score(self) -> float:
        """The headline score, ``eval_accuracy``."""
        return self.eval_accuracy


@dataclass(frozen=True, eq=False)
class FactorVAEResult:
    r"""FactorVAE score.

    ``train_accuracy``, ``eval_accuracy``: majority-vote accuracy on the training and evaluation
    votes (in [0, 1]; 0 when no latent is active).
    ``num_active_dims``: the number of active latents (not the reference's m).
    ``active_dims``: their indices.
    ``train_votes``, ``eval_votes``: read-only (s, m) vote counts :math:`V_{kd}` (columns are *all*
    latents; inactive ones get no votes).
    ``latent_factor[d]``: :math:`c(d)`, the factor latent d is classified as (−1: no training votes).
    """

    train_accuracy: float
    eval_accuracy: float
    num_active_dims: int
    active_dims: tuple[int, ...]
    train_votes: np.ndarray
    eval_votes: np.ndarray
    latent_factor: tuple[int, ...]

    @property
    def score(self) -> float:
        """The headline score, ``eval_accuracy``."""
        return self.eval_accuracy


def _frozen_counts(votes) -> np.ndarray:
    out = np.array(votes, dtype=np.int64, copy=True)
    out.setflags(write=False)
    return out


def _positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)) \
            or value < minimum:
        raise InvalidParameter(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_sampler(sampler) -> int:
    if not isinstance(sampler, FactorSampler):
        raise InvalidParameter("sampler must provide n_factors, sample_factors(n, rng), "
                         "sample_factors_given(index, values, rng) and sample_latents(factors, rng) "
                         f"(see lingauss.metrics.factor_samplers), got {type(sampler).__name__}")
    s = sampler.n_factors
    if isinstance(s, (bool, np.bool_)) or not isinstance(s, (numbers.Integral, np.integer)) or s < 2:
        raise InvalidParameter(f"sampler must have at least 2 factors (n_factors), got {s!r}")
    return int(s)


def _factors(sampler, n: int, s: int, gen) -> np.ndarray:
    return check_sampler_output(sampler.sample_factors(n, gen), "sample_factors", n, s)


def _given(sampler, k: int, values: np.ndarray, s: int, gen) -> np.ndarray:
    out = check_sampler_output(sampler.sample_factors_given(k, values, gen),
                               "sample_factors_given", values.size, s)
    return out


def _latents(sampler, factors: np.ndarray, gen, m: int | None = None) -> np.ndarray:
    return check_sampler_output(sampler.sample_latents(factors, gen), "sample_latents",
                                factors.shape[0], m)


def _chunks(idx: np.ndarray):
    for start in range(0, idx.size, _CHUNK_POINTS):
        yield idx[start:start + _CHUNK_POINTS]


def _beta_vae_points(sampler, s: int, batch_size: int, num_points: int, gen,
                     m: int | None) -> tuple[np.ndarray, np.ndarray]:
    labels = gen.integers(0, s, size=num_points)
    feats = None
    for k in range(s):
        for idx in _chunks(np.flatnonzero(labels == k)):
            g = idx.size
            f1 = _factors(sampler, g * batch_size, s, gen)
            f2 = _given(sampler, k, f1[:, k].copy(), s, gen)
            z1 = _latents(sampler, f1, gen, m)
            m = z1.shape[1]
            z2 = _latents(sampler, f2, gen, m)
            if feats is None:
                feats = np.empty((num_points, m))
            feats[idx] = np.abs(z1 - z2).reshape(g, batch_size, m).mean(axis=1)
    return feats, labels


def beta_vae_score(sampler, *, batch_size: int = 64, num_train: int = 10000,
                   num_eval: int = 5000, rng=None) -> BetaVAEResult:
    r"""BetaVAE disentanglement score (``compute_beta_vae_sklearn``), see the module notes.

    Feature of a point with fixed factor k: :math:`f = \frac1L\sum_l |z^{(1)}_l - z^{(2)}_l|`;
    score = accuracy of ``LogisticRegression()`` predicting k from f.

    Parameters
    ----------
    sampler : FactorSampler
        Factor-conditional sampler (:mod:`lingauss.metrics.factor_samplers`), s ≥ 2 factors.
    batch_size : int
        L, pairs per point (64).
    num_train, num_eval : int
        Training and evaluation points (10000 and 5000).
    rng : Generator, int or None
        Seeds the sampling and the classifier.

    If every training point has the same label (tiny ``num_train``) the classifier predicts it.
    Raises ``ValueError`` naming ``sampler`` (not a sampler, < 2 factors, bad output),
    ``batch_size``, ``num_train``, ``num_eval`` or ``rng``; ``ImportError`` without scikit-learn.
    """
    s = _check_sampler(sampler)
    L = _positive_int(batch_size, "batch_size")
    n_train = _positive_int(num_train, "num_train")
    n_eval = _positive_int(num_eval, "num_eval")
    gen = as_rng(rng)
    linear_model = require_sklearn("linear_model", "beta_vae_score")
    x_tr, y_tr = _beta_vae_points(sampler, s, L, n_train, gen, None)
    m = x_tr.shape[1]
    seed = sklearn_seed(gen)
    if np.unique(y_tr).size == 1:
        def predict(x, label=y_tr[0]):
            return np.full(x.shape[0], label)
    else:
        predict = linear_model.LogisticRegression(random_state=seed).fit(x_tr, y_tr).predict
    train_acc = float(np.mean(predict(x_tr) == y_tr))
    x_ev, y_ev = _beta_vae_points(sampler, s, L, n_eval, gen, m)
    return BetaVAEResult(train_accuracy=train_acc, eval_accuracy=float(np.mean(predict(x_ev) == y_ev)),
                         n_latents=m)


def _factor_vae_votes(sampler, s: int, m: int, batch_size: int, num_points: int, gen,
                      global_var: np.ndarray, active: np.ndarray) -> np.ndarray:
    votes = np.zeros((s, m), dtype=np.int64)
    active_idx = np.flatnonzero(active)
    labels = gen.integers(0, s, size=num_points)
    for k in range(s):
        for idx in _chunks(np.flatnonzero(labels == k)):
            g = idx.size
            fixed = _factors(sampler, g, s, gen)[:, k]
            f = _given(sampler, k, np.repeat(fixed, batch_size), s, gen)
            z = _latents(sampler, f, gen, m).reshape(g, batch_size, m)
            local = np.var(z, axis=1, ddof=1)
            ratio = local[:, active_idx] / global_var[active_idx]
            chosen = active_idx[np.argmin(ratio, axis=1)]  # position in the subset -> latent index
            votes[k] += np.bincount(chosen, minlength=m)
    return votes


def _vote_accuracy(votes: np.ndarray, latent_factor: np.ndarray) -> float:
    total = votes.sum()
    if total == 0:
        return 0.0
    cols = np.flatnonzero(latent_factor >= 0)
    return float(votes[latent_factor[cols], cols].sum() / total)


def factor_vae_score(sampler, *, batch_size: int = 64, num_train: int = 10000,
                     num_eval: int = 5000, num_variance_estimate: int = 10000,
                     prune_threshold: float = FACTOR_VAE_PRUNE_THRESHOLD,
                     rng=None) -> FactorVAEResult:
    r"""FactorVAE disentanglement score (``compute_factor_vae``), with the reference's defects fixed.

    Vote of a point with factor k fixed:
    :math:`d^\star = \arg\min_{d \text{ active}} \widehat{\mathrm{Var}}_{\text{batch}}(z_d)/\sigma_d^2`;
    score = majority-vote accuracy :math:`\sum_d V_{c(d)d} / \sum V`. See the module notes for
    the definition and the four deviations from the reference.

    Parameters
    ----------
    sampler : FactorSampler
        Factor-conditional sampler, s ≥ 2 factors.
    batch_size : int
        L ≥ 2, samples per point (64).
    num_train, num_eval : int
        Training and evaluation points (10000 and 5000).
    num_variance_estimate : int
        Samples for the global variances, ≥ 2 (10000).
    prune_threshold : float
        A latent is active when its global sd ≥ this (0.05, the reference study's
        ``prune_dims.threshold``; the reference code's own default is 0) and its variance is > 0.
    rng : Generator, int or None
        Seeds all the sampling.

    Raises ``ValueError`` naming ``sampler``, ``batch_size``, ``num_train``, ``num_eval``,
    ``num_variance_estimate``, ``prune_threshold`` or ``rng``.
    """
    s = _check_sampler(sampler)
    L = _positive_int(batch_size, "batch_size", 2)
    n_train = _positive_int(num_train, "num_train")
    n_eval = _positive_int(num_eval, "num_eval")
    n_var = _positive_int(num_variance_estimate, "num_variance_estimate", 2)
    if isinstance(prune_threshold, (bool, np.bool_)) or not isinstance(prune_threshold, numbers.Real) \
            or not np.isfinite(prune_threshold) or prune_threshold < 0:
        raise InvalidParameter(f"prune_threshold must be a finite float >= 0, got {prune_threshold!r}")
    gen = as_rng(rng)
    z = _latents(sampler, _factors(sampler, n_var, s, gen), gen)
    m = z.shape[1]
    global_var = np.var(z, axis=0, ddof=1)
    active = (global_var > 0.0) & (np.sqrt(global_var) >= float(prune_threshold))
    active_dims = tuple(int(d) for d in np.flatnonzero(active))
    if not active.any():
        zeros = _frozen_counts(np.zeros((s, m)))
        return FactorVAEResult(train_accuracy=0.0, eval_accuracy=0.0, num_active_dims=0,
                               active_dims=(), train_votes=zeros, eval_votes=zeros,
                               latent_factor=(-1,) * m)
    train_votes = _factor_vae_votes(sampler, s, m, L, n_train, gen, global_var, active)
    latent_factor = np.where(train_votes.sum(axis=0) > 0, np.argmax(train_votes, axis=0), -1)
    eval_votes = _factor_vae_votes(sampler, s, m, L, n_eval, gen, global_var, active)
    return FactorVAEResult(train_accuracy=_vote_accuracy(train_votes, latent_factor),
                           eval_accuracy=_vote_accuracy(eval_votes, latent_factor),
                           num_active_dims=len(active_dims), active_dims=active_dims,
                           train_votes=_frozen_counts(train_votes), eval_votes=_frozen_counts(eval_votes),
                           latent_factor=tuple(int(c) for c in latent_factor))
