"""Factor samplers, the BetaVAE score and the FactorVAE score (with the reference's defects fixed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lingauss as lg
from lingauss.metrics import (BetaVAEResult, FactorSampler, FactorVAEResult,
                              IndependentDiscreteSampler, LinearGaussianSampler, beta_vae_score,
                              factor_vae_score)
from lingauss.testing import assert_covariance_matches_samples

pytest.importorskip("sklearn.linear_model")


def _identity(num_values=(10,) * 10):
    """The reference's IdentityObservationsData with the identity representation."""
    return IndependentDiscreteSampler(list(num_values), lambda f, rng: f + 1.0)


def _gaussian_sampler():
    sigma_v = np.array([[1.0, 0.6, 0.0], [0.6, 2.0, -0.4], [0.0, -0.4, 0.5]])
    model = lg.LinearGaussianModel(sigma_v=sigma_v, mixing=np.random.default_rng(0).standard_normal((4, 3)),
                                   noise_var=0.1)
    B = np.random.default_rng(1).standard_normal((2, 4))
    return LinearGaussianSampler(model, B, np.array([[0.3, 0.1], [0.1, 0.2]]))


# --- samplers -------------------------------------------------------------------------------

def test_samplers_satisfy_the_protocol():
    assert isinstance(_identity(), FactorSampler)
    assert isinstance(_gaussian_sampler(), FactorSampler)
    assert not isinstance(object(), FactorSampler)


def test_linear_gaussian_sampler_joint_covariance():
    sampler = _gaussian_sampler()
    gen = np.random.default_rng(2)
    v = sampler.sample_factors(50_000, gen)
    x = sampler.sample_latents(v, gen)
    expected = sampler.model.joint_covariance(sampler.B, sampler.sigma_w)
    np.testing.assert_allclose(sampler.joint_covariance, expected)
    assert_covariance_matches_samples(np.hstack([x, v]), expected)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_linear_gaussian_sampler_exact_conditional(k):
    """Fixing v_k = c: the others have mean Σ_{-k,k} c / Σ_kk and the Schur-complement covariance."""
    sampler = _gaussian_sampler()
    sv = sampler.model.sigma_v
    c = 1.7
    f = sampler.sample_factors_given(k, np.full(40_000, c), np.random.default_rng(3))
    assert np.all(f[:, k] == c)
    others = [j for j in range(3) if j != k]
    mean = sv[others, k] / sv[k, k] * c
    schur = sv[np.ix_(others, others)] - np.outer(sv[others, k], sv[k, others]) / sv[k, k]
    assert_covariance_matches_samples(f[:, others] - mean, schur)


def test_samplers_are_seeded():
    for sampler in (_gaussian_sampler(), _identity((3, 4))):
        a = sampler.sample_latents(sampler.sample_factors(5, 7), 8)
        b = sampler.sample_latents(sampler.sample_factors(5, 7), 8)
        np.testing.assert_array_equal(a, b)
    disc = _identity((3, 4)).sample_factors_given(1, [2.0, 2.0, 2.0], 0)
    assert np.all(disc[:, 1] == 2.0) and np.all((disc[:, 0] >= 0) & (disc[:, 0] <= 2))


@pytest.mark.parametrize("call, match", [
    (lambda: IndependentDiscreteSampler([], lambda f, r: f), "num_values"),
    (lambda: IndependentDiscreteSampler([2, 0], lambda f, r: f), "num_values"),
    (lambda: IndependentDiscreteSampler([2], "f"), "encode"),
    (lambda: LinearGaussianSampler("model", np.eye(2), np.eye(2)), "model"),
    (lambda: LinearGaussianSampler(lg.LinearGaussianModel.standard(np.eye(2), 2, 0.1), np.eye(3),
                                   np.eye(3)), "B"),
    (lambda: LinearGaussianSampler(lg.LinearGaussianModel.standard(np.eye(2), 2, 0.1), np.eye(2),
                                   -np.eye(2)), "sigma_w"),
    (lambda: _identity((2, 2)).sample_factors(0, 0), "n"),
    (lambda: _identity((2, 2)).sample_factors_given(2, [1.0], 0), "index"),
    (lambda: _identity((2, 2)).sample_factors_given(0, [np.nan], 0), "values"),
    (lambda: _identity((2, 2)).sample_latents(np.ones((3, 3)), 0), "factors"),
])
def test_sampler_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- BetaVAE score (beta_vae_test.py: batch 5, 2000 + 2000) -----------------------------------

def test_beta_vae_identity_scores_near_one():
    res = beta_vae_score(_identity(), batch_size=5, num_train=2000, num_eval=2000, rng=0)
    assert isinstance(res, BetaVAEResult)
    assert 0.9 <= res.train_accuracy <= 1.0
    assert 0.9 <= res.eval_accuracy <= 1.0
    assert res.n_latents == 10


def test_beta_vae_zero_representation_is_chance():
    zero = IndependentDiscreteSampler([10] * 10, lambda f, rng: np.zeros_like(f))
    res = beta_vae_score(zero, batch_size=5, num_train=1000, num_eval=1000, rng=0)
    assert 0.0 <= res.eval_accuracy <= 0.2


def test_beta_vae_is_seeded_and_works_on_the_gaussian_model():
    sampler = _gaussian_sampler()
    a = beta_vae_score(sampler, batch_size=16, num_train=300, num_eval=200, rng=4)
    b = beta_vae_score(sampler, batch_size=16, num_train=300, num_eval=200, rng=4)
    assert a == b
    assert 1.0 / 3.0 < a.eval_accuracy <= 1.0  # two latents carry three correlated factors: better than chance


# --- FactorVAE score (factor_vae_test.py: batch 5, 3000 train, 2000 eval, 2500 variance) --------

def test_factor_vae_identity_scores_near_one():
    res = factor_vae_score(_identity(), batch_size=5, num_train=3000, num_eval=2000,
                           num_variance_estimate=2500, rng=0)
    assert isinstance(res, FactorVAEResult)
    assert 0.9 <= res.train_accuracy <= 1.0
    assert 0.9 <= res.eval_accuracy <= 1.0
    assert res.latent_factor == tuple(range(10))
    assert res.num_active_dims == 10


def test_factor_vae_zero_representation():
    zero = IndependentDiscreteSampler([10] * 10, lambda f, rng: np.zeros_like(f))
    for threshold in (0.05, 0.0):  # the study's and the reference code's default
        res = factor_vae_score(zero, batch_size=5, num_train=300, num_eval=200,
                               num_variance_estimate=250, prune_threshold=threshold, rng=0)
        assert 0.0 <= res.train_accuracy <= 0.2 and 0.0 <= res.eval_accuracy <= 0.2
        assert res.num_active_dims == 0 and res.active_dims == ()


def test_factor_vae_dead_dimension_fix():
    """Latent 0 is dead (sd 1e-3 < 0.05), latents 1..3 are the factors. The reference reports
    num_active_dims = 4 (the mask's length) and, taking the argmin over the pruned vector as a
    latent index, puts factor j's votes on latent j instead of j + 1."""
    def encode(f, rng):
        return np.column_stack([1e-3 * rng.standard_normal(f.shape[0]), f])
    sampler = IndependentDiscreteSampler([5, 5, 5], encode)
    res = factor_vae_score(sampler, batch_size=8, num_train=600, num_eval=300,
                           num_variance_estimate=1000, rng=1)
    assert res.num_active_dims == 3
    assert res.active_dims == (1, 2, 3)
    assert np.all(res.train_votes[:, 0] == 0) and np.all(res.eval_votes[:, 0] == 0)
    assert res.latent_factor == (-1, 0, 1, 2)
    assert np.all(np.argmax(res.train_votes, axis=1) == [1, 2, 3])
    assert res.train_votes.sum() == 600 and res.eval_votes.sum() == 300
    assert res.eval_accuracy > 0.9


@settings(max_examples=10)
@given(st.permutations(range(4)))
def test_factor_vae_permuting_latents_permutes_votes(perm):
    """Same seed, permuted encoder: the same draws, so the votes' columns are permuted exactly
    (the reference's subset-index bug would break this as soon as a dead latent moves)."""
    perm = list(perm)

    def encode(f, rng):
        noise = 0.01 * rng.standard_normal((f.shape[0], 3))
        return np.column_stack([f * np.array([1.0, 3.0, 0.5]) + noise, 1e-4 * noise[:, 0]])

    base = IndependentDiscreteSampler([5, 5, 5], encode)
    moved = IndependentDiscreteSampler([5, 5, 5], lambda f, rng: encode(f, rng)[:, perm])
    kw = dict(batch_size=6, num_train=300, num_eval=100, num_variance_estimate=300, rng=6)
    a, b = factor_vae_score(base, **kw), factor_vae_score(moved, **kw)
    np.testing.assert_array_equal(b.train_votes, a.train_votes[:, perm])
    np.testing.assert_array_equal(b.eval_votes, a.eval_votes[:, perm])
    assert a.train_accuracy == b.train_accuracy and a.eval_accuracy == b.eval_accuracy
    assert b.active_dims == tuple(sorted(perm.index(d) for d in a.active_dims))
    assert a.active_dims == (0, 1, 2)


def test_factor_vae_on_the_gaussian_model_is_seeded():
    sampler = _gaussian_sampler()
    a = factor_vae_score(sampler, batch_size=16, num_train=200, num_eval=100,
                         num_variance_estimate=500, rng=3)
    b = factor_vae_score(sampler, batch_size=16, num_train=200, num_eval=100,
                         num_variance_estimate=500, rng=3)
    np.testing.assert_array_equal(a.train_votes, b.train_votes)
    assert a.eval_accuracy == b.eval_accuracy
    assert a.num_active_dims == 2


class _BadSampler:
    n_factors = 2

    def sample_factors(self, n, rng):
        return np.zeros((n, 2))

    def sample_factors_given(self, index, values, rng):
        return np.zeros((len(values), 2))

    def sample_latents(self, factors, rng):
        return np.full((factors.shape[0], 2), np.nan)


@pytest.mark.parametrize("score", [beta_vae_score, factor_vae_score])
@pytest.mark.parametrize("kwargs, match", [
    (dict(sampler=object()), "sampler"),
    (dict(sampler=IndependentDiscreteSampler([3], lambda f, r: f)), "at least 2 factors"),
    (dict(sampler=_BadSampler()), "sampler.sample_latents"),
    (dict(sampler=IndependentDiscreteSampler([2, 2], lambda f, r: f[:, :1].T)), "sampler.encode"),
    (dict(sampler=_identity((2, 2)), batch_size=0), "batch_size"),
    (dict(sampler=_identity((2, 2)), num_train=1.5), "num_train"),
    (dict(sampler=_identity((2, 2)), num_eval=-1), "num_eval"),
    (dict(sampler=_identity((2, 2)), rng="x"), "rng"),
])
def test_score_errors(score, kwargs, match):
    with pytest.raises(ValueError, match=match):
        score(**{"num_train": 10, "num_eval": 10, "batch_size": 4, **kwargs})


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=1), "batch_size"),
    (dict(num_variance_estimate=1), "num_variance_estimate"),
    (dict(prune_threshold=-0.1), "prune_threshold"),
    (dict(prune_threshold=float("nan")), "prune_threshold"),
])
def test_factor_vae_specific_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        factor_vae_score(_identity((2, 2)), **kwargs)
