"""The closed-form γλ-VAE loss against Monte-Carlo estimates of its defining expectations."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import multivariate_normal

import lingauss as lg
from lingauss.testing import ba_states, linear_gaussian_models


def _mc_terms(sigma_y, A, B, sigma_w, sigma_z, n_samples, rng):
    """Per-sample Monte-Carlo values of kl, nll and mse from densities (scipy), not from traces."""
    n, m = A.shape
    y = rng.multivariate_normal(np.zeros(n), sigma_y, size=n_samples)
    w = rng.multivariate_normal(np.zeros(m), sigma_w, size=n_samples)
    x = y @ B.T + w
    # KL(q(x|y) || N(0, I)) = E_{x~q}[log q(x|y) - log p(x)]: one draw of x per y is unbiased.
    log_q = multivariate_normal(np.zeros(m), sigma_w).logpdf(w)
    log_p = multivariate_normal(np.zeros(m), np.eye(m)).logpdf(x)
    resid = y - x @ A.T
    nll = -multivariate_normal(np.zeros(n), sigma_z).logpdf(resid)
    mse = np.sum(resid ** 2, axis=1)
    return {"kl": log_q - log_p, "nll": nll, "mse": mse}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_matches_monte_carlo(seed):
    rng = np.random.default_rng(seed)
    n, m = 4, 3
    model = lg.talk_scenario((3, 4, 3), seed + 1).model
    A = rng.standard_normal((n, m))
    B = rng.standard_normal((m, n)) * 0.5
    q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    sigma_w = q @ np.diag(rng.uniform(0.2, 1.0, m)) @ q.T
    sigma_z = np.diag(rng.uniform(0.3, 2.0, n))
    gamma, lam = 0.9, 0.3
    exact = lg.gamma_lambda_loss(model.sigma_y, A, B, sigma_w, sigma_z, gamma, lam)
    mc = _mc_terms(model.sigma_y, A, B, sigma_w, sigma_z, 200_000, rng)
    mc["total"] = mc["kl"] + gamma * mc["nll"] + lam * mc["mse"]
    for name, samples in mc.items():
        se = samples.std() / np.sqrt(samples.size)
        assert abs(samples.mean() - getattr(exact, name)) < 5 * se, name


def test_monte_carlo_catches_the_printed_seed_formula():
    """A loss missing the ½ on the trace (as the seed's formula (3) prints it) fails the MC check."""
    rng = np.random.default_rng(5)
    model = lg.talk_scenario((3, 4, 3), 2).model
    A, B = rng.standard_normal((4, 3)), rng.standard_normal((3, 4)) * 0.5
    sigma_w, sigma_z = 0.5 * np.eye(3), 0.7 * np.eye(4)
    E = lg.residual_covariance(model.sigma_y, A, B, sigma_w)
    wrong_nll = 0.5 * (4 * np.log(2 * np.pi) + np.log(np.linalg.det(sigma_z))) + np.trace(np.linalg.solve(sigma_z, E))
    mc = _mc_terms(model.sigma_y, A, B, sigma_w, sigma_z, 100_000, rng)["nll"]
    se = mc.std() / np.sqrt(mc.size)
    assert abs(mc.mean() - wrong_nll) > 5 * se


def test_residual_covariance_is_sample_residual_covariance():
    rng = np.random.default_rng(3)
    model = lg.talk_scenario((5, 5, 4), 1).model
    A, B = rng.standard_normal((5, 4)), rng.standard_normal((4, 5))
    sigma_w = 0.3 * np.eye(4)
    v, y = model.sample(400_000, rng)
    x = y @ B.T + rng.multivariate_normal(np.zeros(4), sigma_w, size=len(y))
    r = y - x @ A.T
    E = lg.residual_covariance(model.sigma_y, A, B, sigma_w)
    np.testing.assert_allclose(r.T @ r / len(r), E, atol=0.03 * np.abs(E).max())


@given(state=ba_states(4, 2), model=linear_gaussian_models(s=3, n=4),
       gamma=st.floats(0, 3), lam=st.floats(-1, 1))
def test_total_is_weighted_sum_and_terms_are_bounded(state, model, gamma, lam):
    t = lg.gamma_lambda_loss(model.sigma_y, state["A"], state["B"], state["sigma_w"], state["sigma_z"], gamma, lam)
    assert t.total == pytest.approx(t.kl + gamma * t.nll + lam * t.mse, rel=1e-12, abs=1e-12)
    assert t.kl >= -1e-12          # a KL divergence
    assert t.mse >= 0.0
    assert np.isfinite([t.total, t.kl, t.nll, t.mse]).all()


def test_kl_is_zero_exactly_at_the_prior_encoder():
    sy = lg.talk_scenario().model.sigma_y
    t = lg.gamma_lambda_loss(sy, np.ones((4, 3)), np.zeros((3, 4)), np.eye(3), np.eye(4), 1.0, 0.0)
    assert t.kl == pytest.approx(0.0, abs=1e-14)


def test_batched_equals_loop():
    rng = np.random.default_rng(7)
    sy = lg.talk_scenario((5, 5, 4), 3).model.sigma_y
    A = rng.standard_normal((3, 2, 5, 4))
    B = rng.standard_normal((3, 2, 4, 5))
    sw = np.eye(4) * rng.uniform(0.1, 1, (3, 2, 1, 1))
    sz = np.eye(5) * rng.uniform(0.1, 1, (3, 2, 1, 1))
    gamma = rng.uniform(0.5, 1.5, (3, 2))
    lam = rng.uniform(-0.1, 0.1, (3, 2))
    batch = lg.gamma_lambda_loss(sy, A, B, sw, sz, gamma, lam)
    assert batch.total.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            one = lg.gamma_lambda_loss(sy, A[i, j], B[i, j], sw[i, j], sz[i, j], gamma[i, j], lam[i, j])
            for f in ("total", "kl", "nll", "mse"):
                assert getattr(batch, f)[i, j] == pytest.approx(getattr(one, f), rel=1e-12)


@pytest.mark.parametrize("arg, bad, match", [
    ("sigma_y", np.array([[1.0, 2.0], [0.0, 1.0]]), "sigma_y must be symmetric"),
    ("sigma_y", -np.eye(2), "sigma_y must be positive definite"),
    ("A", np.ones((3, 1)), "A must have trailing shape"),
    ("B", np.ones((2, 2)), "B must have trailing shape"),
    ("sigma_w", np.array([[np.nan]]), "sigma_w contains NaN"),
    ("sigma_z", np.zeros((2, 2)), "sigma_z must be positive definite"),
    ("gamma", np.inf, "gamma must be finite"),
])
def test_bad_arguments_raise_value_error_naming_them(arg, bad, match):
    args = {"sigma_y": np.eye(2), "A": np.ones((2, 1)), "B": np.ones((1, 2)), "sigma_w": np.eye(1),
            "sigma_z": np.eye(2), "gamma": 1.0, "lam": 0.0}
    args[arg] = bad
    with pytest.raises(ValueError, match=match):
        lg.gamma_lambda_loss(**args)
