"""Blahut–Arimoto: monotone descent, known optima (pPCA, factor analysis), statuses, grid = loop."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import lingauss as lg
from lingauss.testing import linear_gaussian_models


def _ppca_nll(sigma_y, m):
    """Tipping & Bishop (1999): the maximum-likelihood pPCA fit and its negative log-likelihood."""
    n = sigma_y.shape[0]
    vals, vecs = np.linalg.eigh(sigma_y)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    s2 = vals[m:].mean()
    W = vecs[:, :m] * np.sqrt(vals[:m] - s2)
    C = W @ W.T + s2 * np.eye(n)
    nll = 0.5 * (n * np.log(2 * np.pi) + np.linalg.slogdet(C)[1] + np.trace(np.linalg.solve(C, sigma_y)))
    return nll, C


@pytest.mark.parametrize("size, index", [((3, 4, 3), 1), ((3, 4, 3), 3), ((5, 5, 4), 2)])
@pytest.mark.parametrize("m", [1, 2])
def test_isotropic_gamma1_lambda0_is_ppca(size, index, m):
    sy = lg.talk_scenario(size, index, root_std=[1.5, 1.2, 1.0, 0.8, 0.6][:size[0]]).model.sigma_y
    res = lg.blahut_arimoto(sy, m, 1.0, 0.0, decoder_noise="isotropic", rng=0, max_iter=50_000, tol=1e-15)
    nll, C = _ppca_nll(sy, m)
    assert res.status == "converged"
    assert res.loss.total == pytest.approx(nll, rel=1e-8)
    np.testing.assert_allclose(res.A @ res.A.T + res.sigma_z, C, atol=1e-5)


def test_diagonal_gamma1_lambda0_is_factor_analysis():
    """Compare with scikit-learn's FactorAnalysis fitted on the same samples (independent code)."""
    sklearn = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(0)
    n, m, N = 6, 2, 4000
    W = rng.standard_normal((n, m))
    psi = rng.uniform(0.2, 1.0, n)
    X = rng.standard_normal((N, m)) @ W.T + rng.standard_normal((N, n)) * np.sqrt(psi)
    X -= X.mean(axis=0)
    S = X.T @ X / N
    fa = sklearn.FactorAnalysis(n_components=m, tol=1e-12, max_iter=100_000, svd_method="lapack").fit(X)
    C_fa = fa.components_.T @ fa.components_ + np.diag(fa.noise_variance_)
    res = lg.blahut_arimoto(S, m, 1.0, 0.0, decoder_noise="diagonal", init="pca", max_iter=100_000, tol=1e-15)
    assert res.status == "converged"
    np.testing.assert_allclose(res.A @ res.A.T + res.sigma_z, C_fa, atol=2e-4)
    assert res.loss.total == pytest.approx(-fa.score(X), rel=1e-6)


@pytest.mark.parametrize("family", ["full", "diagonal", "isotropic"])
@given(model=linear_gaussian_models(s=3, n=4), gamma=st.floats(0.5, 1.5), lam=st.floats(0.0, 0.5),
       m=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_loss_history_is_non_increasing(family, model, gamma, lam, m, seed):
    res = lg.blahut_arimoto(model.sigma_y, m, gamma, lam, decoder_noise=family, rng=seed, max_iter=300)
    h = res.history
    assert len(h) == res.n_iter + 1
    assert np.all(np.diff(h) <= 1e-9 * np.maximum(1.0, np.abs(h[1:])))
    assert res.n_increases == 0
    assert res.loss.total == pytest.approx(h[-1])
    assert res.status in lg.STATUSES
    for arr in (res.A, res.B, res.sigma_w, res.sigma_z):
        assert np.all(np.isfinite(arr))


def test_fixed_noise_converges_to_stationary_point_of_the_loss():
    """With fixed Σ_Z the converged point has zero gradient: compare with finite differences."""
    sy = lg.talk_scenario((3, 4, 3), 2).model.sigma_y
    Sz = 0.2 * np.eye(4)
    res = lg.blahut_arimoto(sy, 3, 1.0, 0.1, decoder_noise=Sz, rng=1, max_iter=50_000, tol=1e-15)
    assert res.status == "converged"

    def f(A):
        return lg.gamma_lambda_loss(sy, A, res.B, res.sigma_w, Sz, 1.0, 0.1).total

    h = 1e-6
    grad = np.zeros_like(res.A)
    for idx in np.ndindex(res.A.shape):
        e = np.zeros_like(res.A)
        e[idx] = h
        grad[idx] = (f(res.A + e) - f(res.A - e)) / (2 * h)
    assert np.abs(grad).max() < 1e-6


class TestDegenerateRegimes:
    """The documented statuses, never an exception, never NaN."""

    sy = lg.talk_scenario((3, 4, 3), 1).model.sigma_y

    def test_gamma_above_one_diverges(self):
        res = lg.blahut_arimoto(self.sy, 3, 1.02, 0.0, rng=0)
        assert res.status == "diverged"
        assert "singular" in res.message and "unbounded" in res.message
        assert np.linalg.eigvalsh(res.sigma_w).min() < 1e-8

    def test_gamma_below_one_collapses(self):
        res = lg.blahut_arimoto(self.sy, 3, 0.98, 0.0, rng=0)
        assert res.status == "collapsed"
        np.testing.assert_allclose(res.B, 0.0, atol=1e-3)
        assert res.relative_error == pytest.approx(1.0, abs=1e-3)

    def test_gamma_one_full_is_a_continuum(self):
        """Two starts reach the same loss (the maximum likelihood) at different parameters."""
        r1 = lg.blahut_arimoto(self.sy, 3, 1.0, 0.0, rng=0, tol=1e-15)
        r2 = lg.blahut_arimoto(self.sy, 3, 1.0, 0.0, rng=1, tol=1e-15)
        ml = 0.5 * (4 * np.log(2 * np.pi) + np.linalg.slogdet(self.sy)[1] + 4)
        assert r1.loss.total == pytest.approx(ml, rel=1e-9)
        assert r2.loss.total == pytest.approx(ml, rel=1e-9)
        assert abs(r1.relative_error - r2.relative_error) > 1e-3
        assert "continuum" in r1.message

    def test_fixed_noise_with_indefinite_P_diverges(self):
        res = lg.blahut_arimoto(self.sy, 3, 1.0, -1.0, decoder_noise=np.eye(4), rng=0)
        assert res.status == "diverged"
        assert "unbounded" in res.message

    def test_overflowing_input_is_reported_invalid(self):
        res = lg.blahut_arimoto(1e300 * np.eye(2), 1, 1.0, 0.5, rng=0, max_iter=50)
        assert res.status in ("invalid", "diverged")
        assert np.all(np.isfinite(res.history))

    def test_grid_over_degenerate_region_is_finite(self):
        g = lg.blahut_arimoto_grid(self.sy, 3, [0.9, 1.0, 1.1], [-0.05, 0.0, 0.05], rng=0, max_iter=2000)
        for arr in (g.A, g.B, g.sigma_w, g.sigma_z, g.loss.total, g.relative_error):
            assert np.all(np.isfinite(arr))
        assert set(np.unique(g.status)) <= set(lg.STATUSES)
        assert g.status[2, 1] == "diverged" and g.status[0, 1] == "collapsed"


def test_grid_equals_loop_of_single_runs():
    sy = lg.talk_scenario((5, 5, 4), 2).model.sigma_y
    gammas, lams = [0.99, 1.0, 1.01], [0.0, 0.01]
    grid = lg.blahut_arimoto_grid(sy, 4, gammas, lams, decoder_noise="diagonal", rng=3, max_iter=400)
    for i, g in enumerate(gammas):
        for j, l in enumerate(lams):
            one = lg.blahut_arimoto(sy, 4, g, l, decoder_noise="diagonal", rng=3, max_iter=400)
            pt = grid.point(i, j)
            assert pt.status == one.status and pt.n_iter == one.n_iter
            np.testing.assert_allclose(pt.A, one.A, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(pt.sigma_z, one.sigma_z, rtol=1e-10, atol=1e-12)
            assert pt.loss.total == pytest.approx(one.loss.total, rel=1e-12)


def test_same_seed_same_numbers():
    sy = lg.talk_scenario().model.sigma_y
    a = lg.blahut_arimoto(sy, 3, 1.0, 0.01, rng=42, max_iter=100)
    b = lg.blahut_arimoto(sy, 3, 1.0, 0.01, rng=42, max_iter=100)
    c = lg.blahut_arimoto(sy, 3, 1.0, 0.01, rng=43, max_iter=100)
    np.testing.assert_array_equal(a.A, b.A)
    assert not np.allclose(a.A, c.A)


@pytest.mark.parametrize("kwargs, match", [
    (dict(sigma_y=np.array([[1.0, 0.5], [0.4, 1.0]])), "sigma_y must be symmetric"),
    (dict(sigma_y=np.diag([1.0, -1.0])), "sigma_y must be positive definite"),
    (dict(sigma_y=np.array([[np.nan, 0], [0, 1.0]])), "sigma_y contains NaN"),
    (dict(n_latents=0), "n_latents must be a positive integer"),
    (dict(n_latents=2.5), "n_latents must be a positive integer"),
    (dict(gamma=-1.0), "gamma must be >= 0"),
    (dict(lam=np.nan), "lam must be finite"),
    (dict(decoder_noise="band"), "decoder_noise must be one of"),
    (dict(max_iter=0), "max_iter must be a positive integer"),
    (dict(init="svd"), "init must be"),
    (dict(init=(np.ones((2, 3)), np.eye(2))), "init A must have trailing shape"),
])
def test_bad_inputs_raise(kwargs, match):
    args = dict(sigma_y=np.eye(2) * 2.0, n_latents=1, gamma=1.0, lam=0.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        lg.blahut_arimoto(**args)
