"""Closed-form Gaussian MIG: against gaussian_mi, invariances, and sample estimators converging."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lingauss as lg
from lingauss.metrics import (GaussianMIGResult, LinearGaussianSampler, gaussian_mig,
                              gaussian_mig_from_samples, standard_mig)
from lingauss.testing import joint_covariances


def _scenario():
    """Two correlated factors, three latents: x0 ≈ v0, x1 ≈ v1, x2 a noisy mix (ties on purpose)."""
    model = lg.LinearGaussianModel.standard(np.array([[1.0, 0.3], [0.3, 1.0]]), 3, 0.05)
    B = np.array([[1.0, 0.0, 0.2], [0.3, 1.0, 0.0], [0.5, 0.5, 0.0]])
    return LinearGaussianSampler(model, B, np.diag([0.05, 0.2, 0.5]))


@given(joint_covariances())
def test_matches_gaussian_mi_definition(case):
    cov, m = case
    s = cov.shape[0] - m
    res = gaussian_mig(cov, m)
    mi = np.array([[lg.gaussian_mi(cov, i, m + j) for j in range(s)] for i in range(m)])
    np.testing.assert_allclose(res.mi_matrix, mi, rtol=1e-9, atol=1e-12)
    srt = np.sort(mi, axis=0)
    gaps = srt[-1] - (srt[-2] if m > 1 else 0.0)
    np.testing.assert_allclose(res.unnormalized_gaps, gaps, atol=1e-10)
    assert res.unnormalized_score == pytest.approx(np.mean(gaps), abs=1e-10)
    info = [lg.gaussian_mi(cov, range(m), m + j) for j in range(s)]
    np.testing.assert_allclose(res.factor_information, info, rtol=1e-10, atol=1e-13)
    assert 0.0 <= res.score <= 1.0
    assert res.score == pytest.approx(np.mean(res.gaps), abs=1e-12)
    assert all(g <= i + 1e-10 for g, i in zip(res.unnormalized_gaps, info))


@given(joint_covariances(), st.data())
def test_invariant_to_permuting_and_rescaling_latents(case, data):
    cov, m = case
    perm = np.array(data.draw(st.permutations(range(m))))
    scale = np.array(data.draw(st.lists(st.floats(1e-2, 1e2), min_size=m, max_size=m)))
    order = np.concatenate([perm, np.arange(m, cov.shape[0])])
    d = np.concatenate([scale, np.ones(cov.shape[0] - m)])
    moved = cov[np.ix_(order, order)] * d[:, None] * d[None, :]
    base, res = gaussian_mig(cov, m), gaussian_mig(moved, m)
    np.testing.assert_allclose(res.mi_matrix, base.mi_matrix[perm], rtol=1e-8, atol=1e-12)
    assert res.unnormalized_score == pytest.approx(base.unnormalized_score, abs=1e-9)
    assert res.score == pytest.approx(base.score, abs=1e-8)


def test_one_to_one_code_by_hand():
    """x_i = v_i + noise_i: I(x_i; v_i) = ½ log(1 + var_i / noise_i), everything else 0."""
    var, noise = np.array([1.0, 2.0, 0.5]), np.array([0.1, 0.3, 0.05])
    model = lg.LinearGaussianModel.standard(np.diag(var), 3, 1e-12)
    res = gaussian_mig(model.joint_covariance(np.eye(3), np.diag(noise)), 3)
    expected = 0.5 * np.log1p(var / noise)
    np.testing.assert_allclose(np.diag(res.mi_matrix), expected, rtol=1e-8)
    assert res.unnormalized_score == pytest.approx(expected.mean(), rel=1e-8)
    assert res.score == pytest.approx(1.0, abs=1e-9)
    assert res.top_latent == (0, 1, 2)
    assert isinstance(res, GaussianMIGResult)


def test_uninformative_factor_contributes_zero_to_normalized():
    model = lg.LinearGaussianModel.standard(np.eye(2), 2, 0.1)
    res = gaussian_mig(model.joint_covariance(np.array([[1.0, 0.0], [2.0, 0.0]]), np.eye(2)), 2)
    assert res.factor_information[1] == pytest.approx(0.0, abs=1e-15)
    assert res.unnormalized_gaps[1] == pytest.approx(0.0, abs=1e-15)
    assert np.isfinite(res.score)
    assert res.score == pytest.approx(0.5 * res.unnormalized_gaps[0] / res.factor_information[0])


def test_plugin_estimator_converges_to_closed_form():
    """Gaussian plug-in: mean |error| over 5 seeds shrinks like N^{-1/2} (×100 samples → ÷10)."""
    sampler = _scenario()
    exact = gaussian_mig(sampler.joint_covariance, 3)
    errors = {}
    for n in (2_000, 200_000):
        errs = []
        for seed in range(5):
            gen = np.random.default_rng(seed)
            v = sampler.sample_factors(n, gen)
            x = sampler.sample_latents(v, gen)
            est = gaussian_mig_from_samples(x, v)
            errs.append(abs(est.unnormalized_score - exact.unnormalized_score))
            errs.append(abs(est.score - exact.score))
        errors[n] = float(np.mean(errs))
    assert errors[200_000] < 0.003
    assert errors[200_000] < 0.3 * errors[2_000]


def test_histogram_estimator_needs_growing_bins():
    """The reference's 20-bin histogram MI is biased low here (binning loses information) and does
    not improve with N; with K ≈ 2 N^{1/3} bins the unnormalised sample MIG converges."""
    sampler = _scenario()
    exact = gaussian_mig(sampler.joint_covariance, 3).unnormalized_score
    gen = np.random.default_rng(0)
    fixed, growing = {}, {}
    for n in (2_000, 200_000):
        v = sampler.sample_factors(n, gen)
        x = sampler.sample_latents(v, gen)
        k = int(round(2 * n ** (1 / 3)))
        fixed[n] = standard_mig(x, v).unnormalized_score - exact
        growing[n] = standard_mig(x, v, num_bins=k, factor_bins=k).unnormalized_score - exact
    assert fixed[200_000] < -0.05 and fixed[2_000] < -0.05  # the documented bias, not noise
    assert abs(growing[200_000]) < 0.02
    assert abs(growing[200_000]) < 0.5 * abs(growing[2_000])


@pytest.mark.parametrize("bad, m, match", [
    (np.array([[1.0, 2.0], [2.0, 1.0]]), 1, "joint_cov"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), 1, "joint_cov"),
    (np.eye(3), 3, "n_latents"),
    (np.eye(3), 0, "n_latents"),
])
def test_bad_arguments_raise(bad, m, match):
    with pytest.raises(ValueError, match=match):
        gaussian_mig(bad, m)


def test_from_samples_errors_name_the_argument():
    with pytest.raises(ValueError, match="same number of samples"):
        gaussian_mig_from_samples(np.ones((5, 2)), np.ones((4, 1)))
    with pytest.raises(ValueError, match="constant"):
        gaussian_mig_from_samples(np.ones((5, 2)), np.arange(5.0))
