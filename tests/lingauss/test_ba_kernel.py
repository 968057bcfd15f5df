"""The compiled Blahut–Arimoto kernel against the numpy reference (method="numpy") and closed forms."""

import numba
import numpy as np
import pytest

import lingauss as lg

FAMILIES = ["full", "diagonal", "isotropic", "true", "fixed"]


def _problem(seed):
    """A random linear Gaussian model (n in 3..5, m in 1..n) with a random grid of (γ, λ)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    s = int(rng.integers(1, n + 1))
    model = lg.LinearGaussianModel(sigma_v=np.diag(rng.uniform(0.5, 2.0, s)),
                                   mixing=rng.standard_normal((n, s)), noise_var=float(rng.uniform(0.05, 0.3)))
    m = int(rng.integers(1, n + 1))
    return model, m, np.sort(rng.uniform(0.8, 1.2, 4)), np.sort(rng.uniform(-0.1, 0.3, 3)), rng


def _noise(family, model, rng):
    return np.diag(rng.uniform(0.05, 0.5, model.n)) if family == "fixed" else family


def _close(a, b, tol=1e-10):
    scale = max(1.0, float(np.max(np.abs(b))))
    return float(np.max(np.abs(a - b))) <= tol * scale


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("seed", range(6))
def test_kernel_equals_reference_on_a_fixed_budget(family, seed):
    """Same arithmetic, step for step: 15 iterations (tol = 0) on random problems of every family."""
    model, m, gammas, lams, rng = _problem(seed)
    kw = dict(decoder_noise=_noise(family, model, rng), rng=seed, max_iter=15, tol=0.0)
    ours = lg.blahut_arimoto_grid(model, m, gammas, lams, **kw)
    ref = lg.blahut_arimoto_grid(model, m, gammas, lams, method="numpy", **kw)
    np.testing.assert_array_equal(ours.status, ref.status)
    np.testing.assert_array_equal(ours.n_iter, ref.n_iter)
    np.testing.assert_array_equal(ours.message, ref.message)
    for f in ("A", "B", "sigma_w", "sigma_z"):
        assert _close(getattr(ours, f), getattr(ref, f)), f
    for f in ("total", "kl", "nll", "mse"):
        assert _close(getattr(ours.loss, f), getattr(ref.loss, f)), f


@pytest.mark.parametrize("family", FAMILIES)
def test_kernel_equals_reference_to_convergence(family):
    """Default stopping rule on the (3,4,3) scenario-2 grid of Vu et al. (2024) and a random problem:
    the same status at every point; where the run stops by the tolerance or the budget, the same
    iteration count and the same solution to 1e-10. A diverging run moves along a direction in
    which the loss is unbounded, where rounding differences grow instead of dying out, and stops
    when a matrix is singular to 1e-10: there the same reason is required and the stopping
    iteration within 5 %. Where an unbounded objective has driven Σ_W and Σ_Z together to the
    rounding floor (eigenvalues ~1e-15 of the data's scale: E = Σ_Y − AΣ_XY is then rounding noise,
    and whether the reference calls the stalled loss "converged" or a noisy Σ_Z "singular" is
    chance), no comparison is made."""
    sc = lg.talk_scenario((3, 4, 3), 2)
    cases = [(sc.model, 3, np.array([0.98, 0.99, 1.0, 1.01, 1.02]), np.array([-0.02, -0.01, 0.0, 0.01, 0.02]),
              np.random.default_rng(0))]
    cases.append(_problem(100 + FAMILIES.index(family)))
    for model, m, gammas, lams, rng in cases:
        kw = dict(decoder_noise=_noise(family, model, rng), rng=1, max_iter=3000)
        ours = lg.blahut_arimoto_grid(model, m, gammas, lams, **kw)
        ref = lg.blahut_arimoto_grid(model, m, gammas, lams, method="numpy", **kw)
        floor = 1e-12 * np.trace(model.sigma_y) / model.n
        for idx in np.ndindex(ours.shape):
            if min(np.linalg.eigvalsh(ref.sigma_w[idx])[0], np.linalg.eigvalsh(ref.sigma_z[idx])[0]) < floor:
                continue                 # Σ_W and Σ_Z at the rounding floor: the verdict is noise
            assert ours.status[idx] == ref.status[idx], idx
            if ref.status[idx] == "diverged":
                assert ours.message[idx].split(": ", 1)[1] == ref.message[idx].split(": ", 1)[1]
                assert abs(int(ours.n_iter[idx]) - int(ref.n_iter[idx])) <= 0.05 * ref.n_iter[idx] + 1
                continue
            assert ours.n_iter[idx] == ref.n_iter[idx] and ours.message[idx] == ref.message[idx]
            for f in ("A", "B", "sigma_w", "sigma_z"):
                assert _close(getattr(ours, f)[idx], getattr(ref, f)[idx]), (idx, f)
            assert _close(ours.loss.total[idx], ref.loss.total[idx])


@pytest.mark.parametrize("method", ["compiled", "numpy"])
def test_isotropic_optimum_is_the_closed_form_ppca(method):
    """γ = 1, λ = 0, isotropic Σ_Z: the maximum-likelihood pPCA of Tipping & Bishop (1999)."""
    sy = lg.talk_scenario((5, 5, 4), 1, root_std=[1.5, 1.2, 1.0, 0.8, 0.6]).model.sigma_y
    n, m = 5, 2
    vals, vecs = np.linalg.eigh(sy)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    s2 = vals[m:].mean()
    C = (vecs[:, :m] * (vals[:m] - s2)) @ vecs[:, :m].T + s2 * np.eye(n)
    nll = 0.5 * (n * np.log(2 * np.pi) + np.linalg.slogdet(C)[1] + np.trace(np.linalg.solve(C, sy)))
    res = lg.blahut_arimoto(sy, m, 1.0, 0.0, decoder_noise="isotropic", rng=0, max_iter=50_000, tol=1e-15,
                            method=method)
    assert res.status == "converged"
    assert res.loss.total == pytest.approx(nll, rel=1e-9)       # the ELBO at its optimum is the likelihood
    np.testing.assert_allclose(res.A @ res.A.T + res.sigma_z, C, atol=1e-6)
    np.testing.assert_allclose(res.sigma_z, s2 * np.eye(n), rtol=1e-6)


def test_one_point_history_and_threads_agree():
    """One point (with its history) equals its grid point; 2 threads give the same bits as one."""
    sc = lg.talk_scenario((5, 5, 4), 2)
    g, l = np.linspace(0.98, 1.02, 7), np.linspace(-0.02, 0.02, 6)
    one = lg.blahut_arimoto_grid(sc.model, 4, g, l, rng=2, max_iter=2000, n_jobs=1)
    two = lg.blahut_arimoto_grid(sc.model, 4, g, l, rng=2, max_iter=2000, n_jobs=min(2, numba.config.NUMBA_NUM_THREADS))
    for f in ("A", "B", "sigma_w", "sigma_z", "n_iter", "status"):
        np.testing.assert_array_equal(getattr(one, f), getattr(two, f))
    r = lg.blahut_arimoto(sc.model, 4, g[3], l[2], rng=2, max_iter=2000)
    ref = lg.blahut_arimoto(sc.model, 4, g[3], l[2], rng=2, max_iter=2000, method="numpy")
    assert r.status == one.status[3, 2] and r.n_iter == one.n_iter[3, 2]
    np.testing.assert_array_equal(r.A, one.A[3, 2])
    assert len(r.history) == r.n_iter + 1 and r.history[-1] == r.loss.total
    assert _close(r.history, ref.history) and r.n_increases == ref.n_increases


def test_bad_method_and_threads_raise():
    sy = np.eye(2) * 2.0
    with pytest.raises(ValueError, match="method must be one of"):
        lg.blahut_arimoto(sy, 1, 1.0, 0.0, method="fortran")
    with pytest.raises(ValueError, match="n_jobs must be None or an integer"):
        lg.blahut_arimoto_grid(sy, 1, [1.0], [0.0], n_jobs=0)


def test_every_family_declares_a_kernel():
    from lingauss.noise_families import (KERNEL_DIAGONAL, KERNEL_FIXED, KERNEL_FULL, KERNEL_ISOTROPIC,
                                         decoder_noise_families)
    codes = {f.name: f.kernel for f in decoder_noise_families().values()}
    assert codes == {"full": KERNEL_FULL, "diagonal": KERNEL_DIAGONAL, "isotropic": KERNEL_ISOTROPIC,
                     "true": KERNEL_FIXED, "fixed": KERNEL_FIXED}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("seed", range(3))
def test_one_lane_point_equals_its_eight_lane_grid_point(family, seed):
    """blahut_arimoto runs its point on one lane, the grid on eight: same statuses, iterations and
    solutions at every point of a random problem of every family (default stopping rule)."""
    model, m, gammas, lams, rng = _problem(100 + seed)
    kw = dict(decoder_noise=_noise(family, model, rng), rng=seed, max_iter=3000)
    grid = lg.blahut_arimoto_grid(model, m, gammas, lams, **kw)
    for i, g in enumerate(gammas):
        for j, l in enumerate(lams):
            one = lg.blahut_arimoto(model, m, g, l, **kw)
            assert (one.status, one.n_iter) == (grid.status[i, j], grid.n_iter[i, j])
            if one.status in ("converged", "collapsed", "max_iter"):
                for f in ("A", "sigma_z"):
                    assert _close(getattr(one, f), getattr(grid, f)[i, j], 1e-12), f


def test_nonfinite_marks_flag_exactly_the_lanes_with_inf_or_nan():
    """The kernel's vectorised finiteness test against np.isfinite, with lanes whose plain sum
    would overflow (finite: not flagged) and lanes holding one inf, -inf or NaN."""
    from lingauss._small_linalg import LANES, add_nonfinite_marks
    rng = np.random.default_rng(0)
    for trial in range(20):
        X = rng.standard_normal((4, 3, LANES))
        X[:, :, 0] = 1e308                                # sum overflows, every entry finite
        for q in rng.choice(np.arange(1, LANES), size=3, replace=False):
            X[rng.integers(4), rng.integers(3), q] = rng.choice([np.inf, -np.inf, np.nan])
        out = np.zeros(LANES)
        add_nonfinite_marks(X, out, LANES)
        np.testing.assert_array_equal(out != 0.0, ~np.isfinite(X).all(axis=(0, 1)))


@pytest.mark.parametrize("seed", range(5))
def test_start_terms_are_the_loss_terms_of_the_starting_point(seed):
    """The closed-form starting terms (B = 0, Σ_W = I) equal the general loss on random inputs."""
    from lingauss._ba_run import start_terms

    rng = np.random.default_rng(seed)
    n, m = rng.integers(2, 7), rng.integers(1, 5)
    X = rng.standard_normal((n, 3 * n))
    sigma_y = X @ X.T / (3 * n) + 0.1 * np.eye(n)
    Z = rng.standard_normal((n, n))
    sigma_z = Z @ Z.T / n + 0.2 * np.eye(n)
    A0 = rng.standard_normal((n, m))
    want = lg.gamma_lambda_loss(sigma_y, A0, np.zeros((m, n)), np.eye(m), sigma_z, gamma=1.0, lam=0.0)
    assert np.allclose(start_terms(sigma_y, A0, sigma_z), (want.kl, want.nll, want.mse), rtol=1e-12, atol=1e-13)
