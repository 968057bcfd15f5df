"""well_posedness: each verdict checked against the loss itself along the path its reason names."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import lingauss as lg
from lingauss.testing import ba_states
from lingauss.updates import project_noise

SY = lg.talk_scenario((3, 4, 3), 2).model.sigma_y


def _profiled_loss(A, B, sigma_w, gamma, lam, family):
    """Loss with Σ_Z at its optimum inside the family (the profile the docstring argues with)."""
    E = lg.residual_covariance(SY, A, B, sigma_w)
    return lg.gamma_lambda_loss(SY, A, B, sigma_w, project_noise(E, family), gamma, lam).total


@pytest.mark.parametrize("family", ["full", "diagonal"])
def test_gamma_above_one_is_unbounded_along_the_stated_path(family):
    gamma, lam = 1.2, 0.05
    verdict = lg.well_posedness(gamma, lam, family)
    assert verdict.regime == "unbounded_encoder_noise" and not verdict.bounded_below
    # one latent copies coordinate 0, encoder noise ε → 0: slope (γ−1)/2 per unit of log ε
    A, B = np.zeros((4, 1)), np.zeros((1, 4))
    A[0, 0] = B[0, 0] = 1.0
    eps = np.array([1e-3, 1e-6, 1e-9])
    vals = np.array([_profiled_loss(A, B, np.array([[e]]), gamma, lam, family) for e in eps])
    slopes = np.diff(vals) / np.diff(np.log(eps))
    np.testing.assert_allclose(slopes, (gamma - 1) / 2, rtol=1e-3)


def test_isotropic_gamma_above_one_bounded_when_m_below_n():
    assert lg.well_posedness(1.5, 0.0, "isotropic", n_latents=3, n_features=4).ok
    res = lg.blahut_arimoto(SY, 3, 1.5, 0.0, decoder_noise="isotropic", rng=0, tol=1e-14)
    assert res.status == "converged"
    # the bound of the docstring: tr E ≥ sum of the n − m smallest eigenvalues of Σ_Y
    assert res.loss.mse >= np.linalg.eigvalsh(SY)[:1].sum() - 1e-12


def test_isotropic_unbounded_when_m_at_least_n_and_gamma_n_above_m():
    v = lg.well_posedness(1.5, 0.0, "isotropic", n_latents=4, n_features=4)
    assert v.regime == "unbounded_encoder_noise"
    assert lg.well_posedness(0.9, 0.0, "isotropic", n_latents=4, n_features=4).bounded_below
    A, B = np.eye(4), np.eye(4)
    vals = [_profiled_loss(A, B, e * np.eye(4), 1.5, 0.0, "isotropic") for e in (1e-3, 1e-6)]
    assert vals[1] < vals[0] - 1.0


@pytest.mark.parametrize("family", ["full", "diagonal", "isotropic"])
def test_negative_lambda_is_unbounded_along_growing_decoder(family):
    v = lg.well_posedness(1.0, -0.01, family)
    assert v.regime == "unbounded_decoder_gain"
    rng = np.random.default_rng(0)
    B, Sw = rng.standard_normal((2, 4)), 0.5 * np.eye(2)
    A0 = rng.standard_normal((4, 2))
    vals = [_profiled_loss(t * A0, B, Sw, 1.0, -0.01, family) for t in (1e1, 1e2, 1e3)]
    assert vals[0] > vals[1] > vals[2] and vals[2] < -1e3


@pytest.mark.parametrize("scale, lam, bounded", [(2.0, -0.4, False), (1.0, -0.1, True), (1.0, -0.6, False),
                                                   (1.0, 0.0, True)])
def test_fixed_noise_verdict_follows_the_sign_of_P(scale, lam, bounded):
    """P = γΣ_Z⁻¹ + 2λI = (1/scale + 2λ)I: bounded iff P ⪰ 0; the loss along A = tA0 agrees."""
    Sz = scale * np.eye(4)
    v = lg.well_posedness(1.0, lam, Sz)
    assert v.bounded_below is bounded and v.ok is bounded
    rng = np.random.default_rng(1)
    B, A0 = rng.standard_normal((2, 4)), rng.standard_normal((4, 2))
    vals = [lg.gamma_lambda_loss(SY, t * A0, B, 0.5 * np.eye(2), Sz, 1.0, lam).total for t in (1e2, 1e3)]
    assert (vals[1] > vals[0]) is bounded


@given(state=ba_states(4, 3), gamma=st.floats(0.05, 0.999))
def test_collapse_is_the_global_minimum_for_gamma_below_one(state, gamma):
    """For γ < 1, λ = 0, full Σ_Z, no state beats the collapsed encoder's γ·NLL*."""
    assert lg.well_posedness(gamma, 0.0, "full").regime == "collapse"
    nll_star = 0.5 * (4 * np.log(2 * np.pi) + np.linalg.slogdet(SY)[1] + 4)
    val = _profiled_loss(state["A"], state["B"], state["sigma_w"], gamma, 0.0, "full")
    assert val >= gamma * nll_star - 1e-9
    collapsed = lg.gamma_lambda_loss(SY, np.zeros((4, 3)), np.zeros((3, 4)), np.eye(3), SY, gamma, 0.0)
    assert collapsed.total == pytest.approx(gamma * nll_star, rel=1e-12)


def test_known_oracles_are_well_posed_and_continuum_is_reported():
    assert lg.well_posedness(1.0, 0.0, "isotropic").ok
    assert lg.well_posedness(1.0, 0.0, "diagonal").ok
    assert lg.well_posedness(1.0, 0.0, "full").regime == "continuum"
    assert lg.well_posedness(1.0, 0.02, "full").minimum_attained is None
    assert lg.well_posedness(1.0, 0.02, "diagonal").regime == "boundary"
    assert lg.well_posedness(1.0, 0.02, "isotropic").ok
    assert "rotation" in lg.well_posedness(1.0, 0.0, "isotropic").reason


def test_rotation_invariance_claim():
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((4, 3)), rng.standard_normal((3, 4))
    Sw, Sz = 0.3 * np.eye(3) + 0.1, np.diag(rng.uniform(0.2, 1, 4))
    R, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a = lg.gamma_lambda_loss(SY, A, B, Sw, Sz, 1.3, 0.2).total
    b = lg.gamma_lambda_loss(SY, A @ R.T, R @ B, R @ Sw @ R.T, Sz, 1.3, 0.2).total
    assert a == pytest.approx(b, rel=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        lg.well_posedness(-0.1, 0.0)
    with pytest.raises(ValueError, match="decoder_noise must be one of"):
        lg.well_posedness(1.0, 0.0, "tridiagonal")


@pytest.mark.parametrize("family", ["full", "diagonal"])
def test_boundary_regime_shows_shrinking_encoder_noise(family):
    """The evidence behind 'boundary': BA's Σ_W keeps shrinking while the loss keeps falling."""
    assert lg.well_posedness(1.0, 0.01, family).regime == "boundary"
    runs = [lg.blahut_arimoto(SY, 3, 1.0, 0.01, decoder_noise=family, rng=0, max_iter=k) for k in (500, 5000)]
    eig = [np.linalg.eigvalsh(r.sigma_w).min() for r in runs]
    assert eig[1] < 0.3 * eig[0]
    assert runs[1].loss.total < runs[0].loss.total
    iso = lg.blahut_arimoto(SY, 3, 1.0, 0.01, decoder_noise="isotropic", rng=0)
    assert iso.status == "converged"
