"""Each Blahut–Arimoto half-step is the exact minimiser of the loss over its block of parameters."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import lingauss as lg
from lingauss.testing import ba_states, linear_gaussian_models


def _random_spd_perturbation(S, rng, size):
    """S + a symmetric perturbation, kept positive definite."""
    k = S.shape[0]
    D = rng.standard_normal((k, k)) * size
    T = S + 0.5 * (D + D.T)
    vals, vecs = np.linalg.eigh(T)
    return (vecs * np.maximum(vals, 1e-6)) @ vecs.T


def _loss(model, st_, gamma, lam):
    return lg.gamma_lambda_loss(model.sigma_y, st_["A"], st_["B"], st_["sigma_w"], st_["sigma_z"],
                                gamma, lam).total


@given(model=linear_gaussian_models(s=3, n=4), state=ba_states(4, 3), gamma=st.floats(0.1, 3.0),
       lam=st.floats(0.0, 1.0), seed=st.integers(0, 2**31))
def test_encoder_update_is_minimiser(model, state, gamma, lam, seed):
    rng = np.random.default_rng(seed)
    B, sigma_w = lg.encoder_update(state["A"], state["sigma_z"], gamma, lam)
    best = dict(state, B=B, sigma_w=sigma_w)
    f0 = _loss(model, best, gamma, lam)
    for size in (1e-4, 1e-2, 1.0):
        trial = dict(best, B=B + size * rng.standard_normal(B.shape),
                     sigma_w=_random_spd_perturbation(sigma_w, rng, size))
        assert _loss(model, trial, gamma, lam) >= f0 - 1e-10 * max(1.0, abs(f0))


@pytest.mark.parametrize("family", ["full", "diagonal", "isotropic"])
@given(model=linear_gaussian_models(s=3, n=4), state=ba_states(4, 2), gamma=st.floats(0.1, 3.0),
       lam=st.floats(0.0, 1.0), seed=st.integers(0, 2**31))
def test_decoder_update_is_minimiser_within_family(family, model, state, gamma, lam, seed):
    rng = np.random.default_rng(seed)
    A, sigma_z = lg.decoder_update(model.sigma_y, state["B"], state["sigma_w"], family)
    best = dict(state, A=A, sigma_z=sigma_z)
    f0 = _loss(model, best, gamma, lam)
    for size in (1e-4, 1e-2, 0.5):
        Sz = _random_spd_perturbation(sigma_z, rng, size * np.abs(sigma_z).max())
        if family == "diagonal":
            Sz = np.diag(np.diag(Sz))
        elif family == "isotropic":
            Sz = np.trace(Sz) / 4 * np.eye(4)
        for trial in (dict(best, A=A + size * rng.standard_normal(A.shape)), dict(best, sigma_z=Sz)):
            assert _loss(model, trial, gamma, lam) >= f0 - 1e-10 * max(1.0, abs(f0))


@given(model=linear_gaussian_models(s=3, n=5), state=ba_states(5, 3))
def test_decoder_equals_seed_formula(model, state):
    """Σ_YX Σ_X⁻¹ = (Σ_Y⁻¹ + BᵀΣ_W⁻¹B)⁻¹BᵀΣ_W⁻¹ (seed eq. 10), and Σ_Z(full) = the seed's inverse."""
    B, Sw = state["B"], state["sigma_w"]
    A, Sz = lg.decoder_update(model.sigma_y, B, Sw, "full")
    Swi = np.linalg.inv(Sw)
    post = np.linalg.inv(np.linalg.inv(model.sigma_y) + B.T @ Swi @ B)
    np.testing.assert_allclose(A, post @ B.T @ Swi, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(Sz, post, rtol=1e-7, atol=1e-9)


def test_encoder_matches_seed_equation_9():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 3))
    Sz = np.diag([0.3, 0.5, 0.7, 0.9])
    gamma, lam = 1.01, -0.02
    P = gamma * np.linalg.inv(Sz) + 2 * lam * np.eye(4)
    inv = np.linalg.inv(np.eye(3) + A.T @ P @ A)
    B, Sw = lg.encoder_update(A, Sz, gamma, lam)
    np.testing.assert_allclose(B, inv @ A.T @ P, rtol=1e-10)
    np.testing.assert_allclose(Sw, inv, rtol=1e-10)


def test_fixed_noise_is_returned_unchanged_and_A_does_not_depend_on_it():
    rng = np.random.default_rng(1)
    sy = lg.talk_scenario().model.sigma_y
    B, Sw = rng.standard_normal((3, 4)), 0.4 * np.eye(3)
    fixed = np.diag([0.2, 0.3, 0.4, 0.5])
    A1, Sz1 = lg.decoder_update(sy, B, Sw, fixed)
    A2, _ = lg.decoder_update(sy, B, Sw, "diagonal")
    np.testing.assert_array_equal(Sz1, fixed)
    np.testing.assert_allclose(A1, A2, rtol=1e-12)


def test_batched_updates_match_single():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 4, 2))
    Sz = np.eye(4) * rng.uniform(0.2, 1.0, (6, 1, 1))
    g, l = rng.uniform(0.5, 2, 6), rng.uniform(0, 0.5, 6)
    B, Sw = lg.encoder_update(A, Sz, g, l)
    for k in range(6):
        b, s = lg.encoder_update(A[k], Sz[k], g[k], l[k])
        np.testing.assert_allclose(B[k], b, rtol=1e-12)
        np.testing.assert_allclose(Sw[k], s, rtol=1e-12)


def test_encoder_update_raises_when_no_minimiser_exists():
    # P = γΣ_Z⁻¹ + 2λI with λ very negative is indefinite; a large A makes I + AᵀPA indefinite.
    with pytest.raises(ValueError, match="unbounded below in B"):
        lg.encoder_update(10 * np.ones((2, 1)), np.eye(2), 1.0, -1.0)


def test_decoder_update_rejects_bad_family():
    with pytest.raises(ValueError, match="decoder_noise must be one of"):
        lg.decoder_update(np.eye(2), np.ones((1, 2)), np.eye(1), "banded")
    with pytest.raises(ValueError, match="decoder_noise must be positive definite"):
        lg.decoder_update(np.eye(2), np.ones((1, 2)), np.eye(1), -np.eye(2))
