"""Sample MIG (disentanglement_lib's compute_mig) and the discretisation / plug-in MI helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingauss.metrics import (MIGResult, discrete_entropy, discrete_mutual_info,
                              histogram_discretize, histogram_edges, standard_mig)
from lingauss.metrics.mig import mig_from_matrix

sk_metrics = pytest.importorskip("sklearn.metrics")


def _identity_data(n=3000, s=10, k=10, seed=0):
    """The reference's IdentityObservationsData: s factors uniform on 1..k, observed as is."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, k + 1, size=(n, s)).astype(np.float64)


def _reference_mig(x, v, num_bins=20):
    """compute_mig with plain numpy + sklearn: histogram discretiser, mutual_info_score, entropy
    as mutual_info_score(v, v), gap of the sorted column over the entropy (discrete factors)."""
    m, s = x.shape[1], v.shape[1]
    disc = np.zeros_like(x)
    for i in range(m):
        disc[:, i] = np.digitize(x[:, i], np.histogram(x[:, i], num_bins)[1][:-1])
    mi = np.array([[sk_metrics.mutual_info_score(v[:, j], disc[:, i]) for j in range(s)]
                   for i in range(m)])
    h = np.array([sk_metrics.mutual_info_score(v[:, j], v[:, j]) for j in range(s)])
    srt = np.sort(mi, axis=0)[::-1]
    return float(np.mean((srt[0] - srt[1]) / h)), mi, h


# --- helpers ---------------------------------------------------------------------------------

def test_histogram_discretize_is_the_reference_discretizer():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((500, 3)) * [1.0, 10.0, 1e-3]
    lab = histogram_discretize(z, 20)
    for i in range(3):
        expected = np.digitize(z[:, i], np.histogram(z[:, i], 20)[1][:-1])
        np.testing.assert_array_equal(lab[:, i], expected)
    assert lab.min() == 1 and lab.max() == 20
    np.testing.assert_array_equal(histogram_discretize(z[:, 0], 7),
                                  np.digitize(z[:, 0], histogram_edges(z[:, 0], 7)[:-1]))
    assert np.all(histogram_discretize(np.full(10, 3.0), 20) == histogram_discretize(np.full(10, 3.0), 20)[0])


def test_discrete_mi_and_entropy_match_sklearn():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 6, size=(800, 3))
    b = np.column_stack([a[:, 0] // 2, rng.integers(0, 4, 800), (a[:, 1] + a[:, 2]) % 5])
    mi = discrete_mutual_info(a, b)
    for i in range(3):
        for j in range(3):
            assert mi[i, j] == pytest.approx(sk_metrics.mutual_info_score(b[:, j], a[:, i]), abs=1e-12)
    h = discrete_entropy(b)
    for j in range(3):
        assert h[j] == pytest.approx(sk_metrics.mutual_info_score(b[:, j], b[:, j]), abs=1e-12)
    assert discrete_entropy(np.zeros(5)) == 0.0
    assert discrete_entropy(np.arange(4)) == pytest.approx(np.log(4))


# --- the reference's sanity cases (bands from mig_test.py) -----------------------------------

def test_identity_representation_scores_near_one():
    v = _identity_data()
    res = standard_mig(v, v)
    assert 0.9 <= res.score <= 1.0
    assert res.top_latent == tuple(range(10))
    assert res.discrete_factors == (True,) * 10
    np.testing.assert_allclose(res.entropies, discrete_entropy(v), rtol=1e-12)


def test_zero_representation_scores_zero():
    v = _identity_data()
    res = standard_mig(np.zeros_like(v), v)
    assert 0.0 <= res.score <= 0.2
    assert res.score == 0.0 and np.all(res.mi_matrix == 0.0)


def test_duplicated_representation_scores_near_zero():
    v = _identity_data()
    res = standard_mig(np.hstack([v, v]), v)
    assert 0.0 <= res.score <= 0.1


def test_equals_the_reference_computation():
    rng = np.random.default_rng(3)
    v = rng.integers(0, 5, size=(2000, 3)).astype(float)
    x = np.column_stack([v[:, 0] + 0.3 * rng.standard_normal(2000), v[:, 1] * v[:, 2],
                         rng.standard_normal(2000), v[:, 2] + rng.standard_normal(2000)])
    score, mi, h = _reference_mig(x, v)
    res = standard_mig(x, v)
    assert isinstance(res, MIGResult)
    np.testing.assert_allclose(res.mi_matrix, mi, atol=1e-12)
    np.testing.assert_allclose(res.entropies, h, atol=1e-12)
    assert res.score == pytest.approx(score, abs=1e-12)
    srt = np.sort(mi, axis=0)
    assert res.unnormalized_score == pytest.approx(np.mean(srt[-1] - srt[-2]), abs=1e-12)


# --- fixed defects and extensions ------------------------------------------------------------

def test_constant_factor_is_skipped_not_nan():
    v = _identity_data(n=2000, s=3)
    v[:, 1] = 4.0
    res = standard_mig(v, v)
    assert res.constant_factors == (False, True, False)
    assert res.gaps[1] == 0.0 and np.isfinite(res.score)
    ref = standard_mig(v[:, [0, 2]], v[:, [0, 2]])
    assert res.score == pytest.approx(ref.score, abs=1e-12)
    with pytest.raises(ValueError, match="factors"):
        standard_mig(v, np.ones((2000, 2)))


def test_single_latent_second_is_zero():
    v = _identity_data(n=1000, s=2)
    res = standard_mig(v[:, :1], v)
    mi = res.mi_matrix[0]
    np.testing.assert_allclose(res.gaps, mi / res.entropies, atol=1e-12)


def test_continuous_factors_are_binned():
    rng = np.random.default_rng(4)
    v = rng.standard_normal((4000, 2))
    res = standard_mig(v, v)
    assert res.discrete_factors == (False, False)
    # A latent equal to the factor has the same 20 bins: MI = entropy of the binned factor.
    np.testing.assert_allclose(np.diag(res.mi_matrix), res.entropies, rtol=1e-12)
    assert res.score > 0.95
    coarse = standard_mig(v, v, factor_bins=5)
    assert np.all(coarse.entropies < res.entropies)
    forced = standard_mig(v, np.round(v * 3), discrete_factors=False)
    assert forced.discrete_factors == (False, False)
    mixed = standard_mig(v, np.column_stack([np.round(v[:, 0]), v[:, 1]]))
    assert mixed.discrete_factors == (True, False)


def test_mig_from_matrix_by_hand():
    mi = np.array([[0.9, 0.1], [0.3, 0.1], [0.2, 0.0]])
    score, raw, gaps, constant = mig_from_matrix(mi, [1.2, 0.0])
    assert gaps[0] == pytest.approx(0.6 / 1.2) and gaps[1] == 0.0
    assert score == pytest.approx(0.5) and raw == pytest.approx(0.6)
    assert constant.tolist() == [False, True]


@given(st.integers(0, 2**32 - 1), st.integers(2, 5), st.integers(1, 3), st.data())
def test_permuting_latents_changes_nothing(seed, m, s, data):
    rng = np.random.default_rng(seed)
    n = 300
    v = rng.integers(0, 4, size=(n, s)).astype(float)
    x = v @ rng.standard_normal((s, m)) + rng.standard_normal((n, m))
    perm = np.array(data.draw(st.permutations(range(m))))
    if np.all(np.ptp(v, axis=0) == 0):
        return
    base, res = standard_mig(x, v), standard_mig(x[:, perm], v)
    np.testing.assert_array_equal(res.mi_matrix, base.mi_matrix[perm])
    assert res.score == base.score
    assert res.unnormalized_score == base.unnormalized_score
    assert 0.0 <= res.score <= 1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(latents=np.ones((5, 2)), factors=np.ones((4, 2))), "same number of samples"),
    (dict(latents=np.ones((1, 2)), factors=np.ones((1, 2))), "at least 2"),
    (dict(latents=np.array([[np.nan, 1.0], [1.0, 2.0]]), factors=np.ones((2, 1))), "latents"),
    (dict(latents=np.ones((3, 2)), factors=np.array([1.0, np.inf, 2.0])), "factors"),
    (dict(latents=np.ones((3, 2, 1)), factors=np.ones((3, 1))), "latents"),
    (dict(latents=np.ones((3, 2)), factors=np.ones((3, 0))), "factors"),
    (dict(latents=np.ones((3, 2)), factors=np.arange(3.0), num_bins=0), "num_bins"),
    (dict(latents=np.ones((3, 2)), factors=np.arange(3.0), factor_bins=2.5), "factor_bins"),
    (dict(latents=np.ones((3, 2)), factors=np.arange(3.0), discrete_factors=[True, False]),
     "discrete_factors"),
    (dict(latents=np.ones((3, 2)), factors=np.arange(3.0), discrete_factors="yes"), "discrete_factors"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        standard_mig(**kwargs)
