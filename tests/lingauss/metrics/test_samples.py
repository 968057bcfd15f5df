"""Sample joint covariance of [latents; factors]: convergence, shrinkage, validation."""

from __future__ import annotations

import numpy as np
import pytest

from lingauss.metrics.samples import (joint_covariance_from_samples, ledoit_wolf_shrinkage,
                                      sap_score_from_samples)
from lingauss.metrics.sap import sap_score
from lingauss.scenarios import talk_scenario

sklearn_covariance = pytest.importorskip("sklearn.covariance")


def _data(n, m, s, seed=0, scales=None):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, s)) @ rng.standard_normal((s, s))
    x = v @ rng.standard_normal((s, m)) + rng.standard_normal((n, m))
    if scales is not None:
        x = x * scales[:m]
        v = v * scales[m:]
    return x + 3.0, v - 7.0  # non-zero means: the estimator must centre


def test_converges_to_the_model_joint_covariance():
    """x = By + w from the model's own samples; each entry within 5 sd of Σ (sd of a Gaussian
    sample covariance entry: sqrt((Σ_pp Σ_qq + Σ_pq²) / N))."""
    sc = talk_scenario((5, 5, 4), 2)
    model = sc.model
    rng = np.random.default_rng(2024)
    B = rng.standard_normal((sc.n_latents, model.n))
    sigma_w = np.diag([0.1, 0.5, 1.0, 2.0])
    expected = model.joint_covariance(B, sigma_w)
    n = 40_000
    v, y = model.sample(n, rng)
    w = rng.standard_normal((n, sc.n_latents)) * np.sqrt(np.diag(sigma_w))
    x = y @ B.T + w
    est = joint_covariance_from_samples(x, v)
    d = np.diag(expected)
    sd = np.sqrt((np.outer(d, d) + expected ** 2) / n)
    assert est.shape == expected.shape == (9, 9)
    assert np.max(np.abs(est - expected) / sd) < 5.0
    # ... and the SAP matrix converges too (corr² entries are within O(1/sqrt(N))).
    np.testing.assert_allclose(sap_score_from_samples(x, v).matrix,
                               sap_score(expected, 4).matrix, atol=0.03)


@pytest.mark.parametrize("n, m, s", [(3, 1, 1), (10, 2, 3), (500, 4, 5)])
def test_equals_numpy_biased_covariance(n, m, s):
    x, v = _data(n, m, s, seed=n)
    ref = np.cov(np.hstack([x, v]), rowvar=False, bias=True)
    est = joint_covariance_from_samples(x, v)
    np.testing.assert_allclose(est, ref, rtol=1e-12, atol=1e-12)
    assert est.dtype == np.float64
    np.testing.assert_array_equal(est, est.T)


def test_three_samples_by_hand():
    # x = (0, 1, 5), v = (1, 0, 2): centred (-2, -1, 3) and (0, -1, 1); 1/N normalisation.
    est = joint_covariance_from_samples([0.0, 1.0, 5.0], [1.0, 0.0, 2.0])
    np.testing.assert_allclose(est, [[14 / 3, 4 / 3], [4 / 3, 2 / 3]], rtol=1e-14)
    # Two samples always lie on a line: perfectly correlated, singular.
    with pytest.raises(ValueError, match="N = 2 samples"):
        joint_covariance_from_samples([0.0, 2.0], [1.0, -1.0])


def test_one_dimensional_inputs_are_single_columns():
    x, v = _data(200, 1, 3, seed=4)
    np.testing.assert_array_equal(joint_covariance_from_samples(x[:, 0], v),
                                  joint_covariance_from_samples(x, v))
    x2, v2 = _data(200, 3, 1, seed=5)
    np.testing.assert_array_equal(joint_covariance_from_samples(x2, v2[:, 0]),
                                  joint_covariance_from_samples(x2, v2))
    assert joint_covariance_from_samples(x[:, 0], v2[:, 0]).shape == (2, 2)


def _standardise(z):
    """Centred columns divided by their 1/N standard deviation (sklearn's StandardScaler), and D."""
    zc = z - z.mean(axis=0)
    sd = zc.std(axis=0)
    return zc / sd, sd


@pytest.mark.parametrize("n, m, s, seed", [(500, 2, 3, 0), (40, 3, 4, 1), (6, 3, 4, 2), (3, 1, 1, 3),
                                           (25, 5, 5, 4)])
def test_ledoit_wolf_equals_sklearn_on_standardised_columns(n, m, s, seed):
    """Σ̂ = D · sklearn.ledoit_wolf(standardised data) · D (shrinkage on the correlation matrix)."""
    x, v = _data(n, m, s, seed=seed, scales=np.geomspace(0.1, 10.0, m + s))
    zs, sd = _standardise(np.hstack([x, v]))
    ref_corr, ref_alpha = sklearn_covariance.ledoit_wolf(zs, assume_centered=True)
    est = joint_covariance_from_samples(x, v, shrinkage="ledoit_wolf")
    ref = ref_corr * np.outer(sd, sd)
    np.testing.assert_allclose(est, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())
    assert ledoit_wolf_shrinkage(zs) == pytest.approx(ref_alpha, rel=1e-10, abs=1e-14)
    # sklearn on the raw columns shrinks towards tr S / p · I, which depends on the units: not ours.
    raw, _ = sklearn_covariance.ledoit_wolf(np.hstack([x, v]))
    if n > m + s:
        assert not np.allclose(est, raw, rtol=1e-3)


def test_ledoit_wolf_intensity_is_clipped_at_one_like_sklearn():
    """One dominant outlier row makes the raw estimate b̄²/d² exceed 1; both clip it to 1."""
    x, v = _data(30, 2, 2, seed=6)
    x[0] *= 1e3
    v[0] *= 1e3
    zs, sd = _standardise(np.hstack([x, v]))
    n, p = zs.shape
    sample = zs.T @ zs / n
    mu = np.trace(sample) / p
    d2 = np.sum((sample - mu * np.eye(p)) ** 2) / p
    b2_bar = sum(np.sum((np.outer(r, r) - sample) ** 2) / p for r in zs) / n ** 2
    assert b2_bar > d2  # the clipping case, computed from the definition
    ref, ref_alpha = sklearn_covariance.ledoit_wolf(zs, assume_centered=True)
    assert ref_alpha == 1.0 and ledoit_wolf_shrinkage(zs) == 1.0
    np.testing.assert_allclose(joint_covariance_from_samples(x, v, shrinkage="ledoit_wolf"),
                               ref * np.outer(sd, sd), rtol=1e-10)


def test_ledoit_wolf_makes_few_samples_usable():
    x, v = _data(4, 3, 4, seed=9)
    with pytest.raises(ValueError, match="samples"):
        joint_covariance_from_samples(x, v)
    est = joint_covariance_from_samples(x, v, shrinkage="ledoit_wolf")
    assert np.linalg.eigvalsh(est).min() > 0
    assert 0.0 <= sap_score_from_samples(x, v, shrinkage="ledoit_wolf").score <= 1.0


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5, 1.0])
def test_fixed_shrinkage_by_hand(alpha):
    """Σ̂ = D[(1 − α)R + αI]D with R the sample correlation: variances kept, correlations × (1 − α)."""
    x, v = _data(50, 2, 3, seed=7)
    z = np.hstack([x, v])
    zc = z - z.mean(axis=0)
    sample = zc.T @ zc / 50
    sd = np.sqrt(np.diag(sample))
    expected = (1 - alpha) * sample + alpha * np.diag(sd ** 2)
    est = joint_covariance_from_samples(x, v, shrinkage=alpha)
    np.testing.assert_allclose(est, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.diag(est), np.diag(sample), rtol=1e-12)
    corr = est / np.outer(sd, sd)
    off = ~np.eye(5, dtype=bool)
    np.testing.assert_allclose(corr[off], (1 - alpha) * (sample / np.outer(sd, sd))[off], atol=1e-12)


def test_full_shrinkage_decorrelates():
    x, v = _data(50, 2, 3, seed=8)
    res = sap_score_from_samples(x, v, shrinkage=1.0)
    assert res.score == 0.0 and np.all(res.matrix == 0.0)


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan, np.inf, "oas", True, [0.5], 1j])
def test_bad_shrinkage_raises(bad):
    x, v = _data(50, 2, 3)
    with pytest.raises(ValueError, match="shrinkage"):
        joint_covariance_from_samples(x, v, shrinkage=bad)


def test_constant_latent_column_raises_and_names_it():
    x, v = _data(100, 3, 2)
    x[:, 2] = 0.1
    with pytest.raises(ValueError, match=r"latents has a constant column 2.*shrinkage"):
        joint_covariance_from_samples(x, v)
    with pytest.raises(ValueError, match="latents has a constant column 2"):
        sap_score_from_samples(x, v)


def test_constant_factor_column_raises_and_names_it():
    x, v = _data(100, 3, 2)
    v[:, 0] = -4.0
    with pytest.raises(ValueError, match=r"factors has a constant column 0.*singular"):
        joint_covariance_from_samples(x, v)


@pytest.mark.parametrize("shrinkage", ["ledoit_wolf", 0.2])
def test_constant_column_is_fine_with_shrinkage(shrinkage):
    x, v = _data(100, 3, 2)
    x[:, 2] = 0.1
    est = joint_covariance_from_samples(x, v, shrinkage=shrinkage)
    assert np.all(est[2, np.arange(5) != 2] == 0.0) and est[2, 2] > 0
    res = sap_score_from_samples(x, v, shrinkage=shrinkage)
    assert np.all(res.matrix[2] == 0.0)


def test_all_constant_raises_even_with_shrinkage():
    with pytest.raises(ValueError, match="constant"):
        joint_covariance_from_samples(np.ones((10, 2)), np.zeros((10, 1)), shrinkage=0.5)


def test_linearly_dependent_columns_raise():
    x, v = _data(100, 3, 2)
    v[:, 1] = 2.0 * x[:, 0] - x[:, 2]
    with pytest.raises(ValueError, match=r"factors column 1 is .*linear combination.*shrinkage"):
        joint_covariance_from_samples(x, v)
    x2, v2 = _data(100, 3, 2)
    x2[:, 1] = x2[:, 0]  # a duplicated latent
    with pytest.raises(ValueError, match=r"latents column 1 .*linear combination"):
        joint_covariance_from_samples(x2, v2)


def test_too_few_samples_raise():
    x, v = _data(5, 3, 3)
    with pytest.raises(ValueError, match=r"N = 5 samples for m \+ s = 6"):
        joint_covariance_from_samples(x, v)
    with pytest.raises(ValueError, match="at least 2 samples"):
        joint_covariance_from_samples(x[:1], v[:1])


def test_sample_count_mismatch_raises():
    x, v = _data(100, 2, 2)
    with pytest.raises(ValueError, match=r"latents and factors .*same number of samples.*100 and 99"):
        joint_covariance_from_samples(x, v[:99])


@pytest.mark.parametrize("which", ["latents", "factors"])
@pytest.mark.parametrize("bad", ["nan", "inf", "3d", "empty", "text"])
def test_bad_arrays_raise_naming_the_argument(which, bad):
    x, v = _data(50, 2, 2)
    arr = x if which == "latents" else v
    if bad == "nan":
        arr = arr.copy()
        arr[7, 1] = np.nan
    elif bad == "inf":
        arr = arr.copy()
        arr[3, 0] = -np.inf
    elif bad == "3d":
        arr = arr[:, :, None]
    elif bad == "empty":
        arr = np.empty((50, 0))
    else:
        arr = [["a", "b"]] * 50
    args = (arr, v) if which == "latents" else (x, arr)
    with pytest.raises(ValueError, match=which):
        joint_covariance_from_samples(*args)


def test_sap_from_samples_equals_sap_of_the_sample_covariance():
    x, v = _data(300, 3, 4, seed=12)
    for shrinkage in (None, "ledoit_wolf", 0.3):
        a = sap_score_from_samples(x, v, shrinkage=shrinkage)
        b = sap_score(joint_covariance_from_samples(x, v, shrinkage=shrinkage), 3)
        np.testing.assert_array_equal(a.matrix, b.matrix)
        assert (a.score, a.top_latent, a.grouping) == (b.score, b.top_latent, b.grouping)


def test_does_not_modify_inputs():
    x, v = _data(100, 3, 2)
    x[:, 2] = 0.1
    x0, v0 = x.copy(), v.copy()
    joint_covariance_from_samples(x, v, shrinkage=0.1)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(v, v0)


def test_transposed_samples_are_refused_before_any_large_allocation():
    import tracemalloc

    rng = np.random.default_rng(0)
    latents = rng.standard_normal((4, 30_000))
    tracemalloc.start()
    with pytest.raises(ValueError, match=r"latents has shape \(4, 30000\).*transposed"):
        joint_covariance_from_samples(latents, rng.standard_normal((4, 3)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50e6                          # a 30000² float64 covariance would be 7.2 GB
    # few samples of few variables stay allowed (with shrinkage)
    x, v = _data(4, 3, 4, seed=9)
    assert joint_covariance_from_samples(x, v, shrinkage="ledoit_wolf").shape == (7, 7)
