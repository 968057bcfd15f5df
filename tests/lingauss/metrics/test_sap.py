"""SAP score on a joint covariance: against direct computations, known codes and invariances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingauss.metrics.sap import SAPResult, sap_score
from lingauss.metrics.samples import sap_score_from_samples
from lingauss.model import LinearGaussianModel
from lingauss.testing import joint_covariances


def _reference_sap(corr2: np.ndarray) -> tuple[float, list[int], list[float]]:
    """Eq. (8) with plain Python loops: per column the largest and the largest over the other rows."""
    m, s = corr2.shape
    gaps, tops = [], []
    for j in range(s):
        col = [float(corr2[i, j]) for i in range(m)]
        best = max(range(m), key=lambda i: (col[i], -i))
        second = max((col[i] for i in range(m) if i != best), default=0.0)
        tops.append(best)
        gaps.append(col[best] - second)
    return sum(gaps) / s, tops, gaps


def _corr2_from_cov(cov: np.ndarray, m: int) -> np.ndarray:
    """S_ij = Σ_{x_i v_j}² / (Σ_{x_i x_i} Σ_{v_j v_j}), entry by entry."""
    s = cov.shape[0] - m
    out = np.empty((m, s))
    for i in range(m):
        for j in range(s):
            out[i, j] = cov[i, m + j] ** 2 / (cov[i, i] * cov[m + j, m + j])
    return out


def _diagonal_code_cov(s: int, noise: float, perm=None) -> np.ndarray:
    """Independent factors with distinct variances, latent i = factor perm[i] + N(0, noise)."""
    perm = np.arange(s) if perm is None else np.asarray(perm)
    model = LinearGaussianModel.standard(np.diag(np.arange(1.0, s + 1.0)), s, 1e-12)
    B = np.eye(s)[perm]
    return model.joint_covariance(B, noise * np.eye(s))


def test_matches_numpy_corrcoef_on_samples():
    rng = np.random.default_rng(11)
    n, m, s = 4000, 3, 4
    v = rng.standard_normal((n, s)) @ rng.standard_normal((s, s))
    x = v @ rng.standard_normal((s, m)) + rng.standard_normal((n, m)) * [0.3, 1.0, 3.0]
    corr2 = np.corrcoef(np.hstack([x, v]), rowvar=False)[:m, m:] ** 2
    score, tops, gaps = _reference_sap(corr2)
    res = sap_score_from_samples(x, v)
    np.testing.assert_allclose(res.matrix, corr2, rtol=1e-10, atol=1e-13)
    assert res.score == pytest.approx(score, abs=1e-12)
    assert res.top_latent == tuple(tops)
    np.testing.assert_allclose(res.gaps, gaps, atol=1e-12)
    assert res.score == pytest.approx(np.mean(res.gaps), abs=1e-15)


@given(joint_covariances())
def test_matches_direct_formula_on_covariance(case):
    cov, m = case
    res = sap_score(cov, m)
    corr2 = _corr2_from_cov(cov, m)
    score, tops, gaps = _reference_sap(corr2)
    assert res.matrix.shape == (m, cov.shape[0] - m)
    np.testing.assert_allclose(res.matrix, corr2, rtol=1e-9, atol=1e-12)
    assert res.score == pytest.approx(score, abs=1e-10)
    np.testing.assert_allclose(res.gaps, gaps, atol=1e-10)
    for j, (top, tied) in enumerate(zip(res.top_latent, res.tied_top)):
        if not tied:
            assert top == tops[j]
    groups = {}
    for j, top in enumerate(res.top_latent):
        groups.setdefault(top, []).append(j)
    assert res.grouping == tuple(sorted((tuple(g) for g in groups.values()), key=lambda g: g[0]))


@given(joint_covariances())
def test_bounds(case):
    cov, m = case
    res = sap_score(cov, m)
    assert 0.0 <= res.score <= 1.0
    assert np.all((res.matrix >= 0.0) & (res.matrix <= 1.0))
    assert all(0.0 <= g <= 1.0 for g in res.gaps)
    assert all(isinstance(t, int) for t in res.top_latent)
    assert all(isinstance(t, bool) for t in res.tied_top)
    assert isinstance(res.score, float)


@pytest.mark.parametrize("s", [1, 2, 3, 5])
def test_one_to_one_diagonal_code_scores_one(s):
    res = sap_score(_diagonal_code_cov(s, 1e-10), s)
    assert res.score == pytest.approx(1.0, abs=1e-8)
    assert res.top_latent == tuple(range(s))
    assert res.grouping == tuple((j,) for j in range(s))
    assert not any(res.tied_top)
    np.testing.assert_allclose(res.matrix, np.eye(s), atol=1e-8)


def test_permuted_diagonal_code_finds_the_permutation():
    perm = [2, 0, 3, 1]  # latent i encodes factor perm[i]
    res = sap_score(_diagonal_code_cov(4, 1e-10, perm), 4)
    assert res.score == pytest.approx(1.0, abs=1e-8)
    assert res.top_latent == tuple(int(i) for i in np.argsort(perm))
    assert res.grouping == ((0,), (1,), (2,), (3,))


def test_diagonal_code_from_samples():
    rng = np.random.default_rng(3)
    n, s = 20_000, 3
    v = rng.standard_normal((n, s)) * [1.0, 5.0, 0.2]
    x = v + 1e-4 * rng.standard_normal((n, s))
    res = sap_score_from_samples(x, v)
    # Off-diagonal squared sample correlations of independent columns are O(1/N).
    assert res.score == pytest.approx(1.0, abs=2e-3)
    assert res.top_latent == (0, 1, 2)


@pytest.mark.parametrize("s", [1, 2, 4])
def test_duplicated_latent_scores_zero_and_ties(s):
    """Latents 0 and 2 are copies of Σ_j v_j with equal independent noise: every column ties."""
    model = LinearGaussianModel.standard(np.eye(s), s, 0.01)
    B = np.vstack([np.ones(s), 0.05 * (-1.0) ** np.arange(s), np.ones(s)])
    cov = model.joint_covariance(B, np.diag([1e-3, 1.0, 1e-3]))
    res = sap_score(cov, 3)
    assert res.score == pytest.approx(0.0, abs=1e-12)
    assert all(res.tied_top)
    assert res.ambiguous
    np.testing.assert_allclose(res.matrix[0], res.matrix[2], rtol=1e-12)
    assert np.all(res.matrix[1] < res.matrix[0])


@pytest.mark.parametrize("scale", [3.7, -0.13, 1e3])
def test_rescaled_copy_ties_within_round_off(scale):
    """Latent 1 = scale × latent 0 in distribution: equal corr² up to round-off, still a tie."""
    model = LinearGaussianModel.standard(np.array([[1.0, 0.4, 0.0], [0.4, 2.0, 0.3], [0.0, 0.3, 0.5]]),
                                         4, 0.05)
    row = np.array([0.7, -1.1, 0.4, 0.2])
    B = np.vstack([row, scale * row])
    cov = model.joint_covariance(B, np.diag([0.3, 0.3 * scale ** 2]))
    res = sap_score(cov, 2)
    assert res.tied_top == (True, True, True)
    assert res.score == pytest.approx(0.0, abs=1e-12)
    # A genuine, tiny difference (noise 1e-6 relative larger on latent 1) is not a tie.
    cov2 = model.joint_covariance(B, np.diag([0.3, 0.3 * (1 + 1e-6) * scale ** 2]))
    res2 = sap_score(cov2, 2)
    assert res2.tied_top == (False, False, False)
    assert res2.top_latent == (0, 0, 0)


def test_duplicated_latent_from_samples_scores_near_zero():
    rng = np.random.default_rng(5)
    n, s = 5000, 3
    v = rng.standard_normal((n, s))
    base = v @ np.array([1.0, -0.5, 2.0])
    x = np.column_stack([base + 1e-5 * rng.standard_normal(n), base + 1e-5 * rng.standard_normal(n)])
    res = sap_score_from_samples(x, v)
    # The copies' corr² differ by O(noise / sd(base) / sqrt(N)) ≈ 1e-7.
    assert res.score == pytest.approx(0.0, abs=1e-5)
    assert res.matrix.min() > 0.01  # the copies really do carry the factors


def test_single_latent_second_largest_is_zero():
    model = LinearGaussianModel.standard(np.array([[1.0, 0.3], [0.3, 2.0]]), 3, 0.2)
    cov = model.joint_covariance(np.array([[1.0, -2.0, 0.5]]), np.array([[0.4]]))
    res = sap_score(cov, 1)
    corr2 = _corr2_from_cov(cov, 1)
    np.testing.assert_allclose(res.gaps, corr2[0], rtol=1e-12)
    assert res.score == pytest.approx(corr2[0].mean(), rel=1e-12)
    assert res.top_latent == (0, 0)
    assert res.grouping == ((0, 1),)
    assert res.tied_top == (False, False)


def test_uncorrelated_latents_are_tied():
    """An encoder carrying no factor (B = 0): every corr² is 0, every factor's top is tied."""
    model = LinearGaussianModel.standard(np.eye(3), 4, 0.1)
    res = sap_score(model.joint_covariance(np.zeros((2, 4)), np.eye(2)), 2)
    assert res.score == 0.0
    assert res.tied_top == (True, True, True)


def test_single_latent_is_never_tied():
    """With m = 1 there is no second latent: even a zero column is not a tie (one block anyway)."""
    model = LinearGaussianModel.standard(np.eye(3), 4, 0.1)
    res = sap_score(model.joint_covariance(np.array([[1.0, 0.0, 0.0, 0.0]]), np.eye(1)), 1)
    assert res.matrix[0, 1] == 0.0 and res.gaps[1] == 0.0
    assert res.tied_top == (False, False, False)
    assert res.grouping == ((0, 1, 2),)


@given(joint_covariances(), st.data())
def test_permuting_latents_permutes_rows(case, data):
    cov, m = case
    perm = np.array(data.draw(st.permutations(range(m))))  # new latent k = old latent perm[k]
    order = np.concatenate([perm, np.arange(m, cov.shape[0])])
    base, res = sap_score(cov, m), sap_score(cov[np.ix_(order, order)], m)
    np.testing.assert_allclose(res.matrix, base.matrix[perm], rtol=1e-12, atol=1e-15)
    assert res.score == pytest.approx(base.score, abs=1e-12)
    np.testing.assert_allclose(res.gaps, base.gaps, atol=1e-12)
    inverse = np.argsort(perm)
    for j, tied in enumerate(base.tied_top):
        if not tied:
            assert res.top_latent[j] == inverse[base.top_latent[j]]
    if not base.ambiguous:
        assert res.grouping == base.grouping


@given(joint_covariances(), st.data())
def test_permuting_factors_permutes_columns(case, data):
    cov, m = case
    s = cov.shape[0] - m
    perm = np.array(data.draw(st.permutations(range(s))))  # new factor k = old factor perm[k]
    order = np.concatenate([np.arange(m), m + perm])
    base, res = sap_score(cov, m), sap_score(cov[np.ix_(order, order)], m)
    np.testing.assert_allclose(res.matrix, base.matrix[:, perm], rtol=1e-12, atol=1e-15)
    assert res.score == pytest.approx(base.score, abs=1e-12)
    np.testing.assert_allclose(res.gaps, np.asarray(base.gaps)[perm], atol=1e-12)
    for k, j in enumerate(perm):
        if not base.tied_top[j]:
            assert res.top_latent[k] == base.top_latent[j]


@given(joint_covariances(), st.data())
def test_rescaling_and_sign_flips_change_nothing(case, data):
    cov, m = case
    size = cov.shape[0]
    mags = data.draw(st.lists(st.floats(1e-3, 1e3), min_size=size, max_size=size))
    signs = data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=size, max_size=size))
    d = np.asarray(mags) * np.asarray(signs)
    base, res = sap_score(cov, m), sap_score(cov * d[:, None] * d[None, :], m)
    np.testing.assert_allclose(res.matrix, base.matrix, rtol=1e-9, atol=1e-12)
    assert res.score == pytest.approx(base.score, abs=1e-10)
    np.testing.assert_allclose(res.gaps, base.gaps, atol=1e-10)
    assert res.tied_top == base.tied_top or base.ambiguous
    if not base.ambiguous:
        assert res.top_latent == base.top_latent
        assert res.grouping == base.grouping


def test_result_is_frozen_and_matrix_read_only():
    res = sap_score(_diagonal_code_cov(2, 0.1), 2)
    assert isinstance(res, SAPResult)
    with pytest.raises(ValueError):
        res.matrix[0, 0] = 0.5
    with pytest.raises(AttributeError):
        res.score = 0.0  # type: ignore[misc]
    assert (res.n_latents, res.n_factors) == (2, 2)


@pytest.mark.parametrize("bad, match", [
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "joint_cov"),          # not positive definite
    (np.array([[1.0, 0.5], [0.0, 1.0]]), "joint_cov"),          # not symmetric
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "joint_cov"),
    (np.ones((2, 3)), "joint_cov"),
])
def test_bad_joint_cov_raises(bad, match):
    with pytest.raises(ValueError, match=match):
        sap_score(bad, 1)


@pytest.mark.parametrize("m", [0, 3, 4, -1, 1.0, True, "1"])
def test_bad_n_latents_raises(m):
    with pytest.raises(ValueError, match="n_latents"):
        sap_score(np.eye(3), m)
