"""LinearGaussianModel: Σ_Y and the joint covariance of [X; V] against Monte-Carlo estimates.

Monte-Carlo tolerances: for zero-mean jointly Gaussian (p, q) the moment estimate
Ĉ_pq = (1/N) Σ_t p_t q_t has standard deviation sqrt((Σ_pp Σ_qq + Σ_pq²) / N); every entry is
checked to 6 of those standard deviations.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, strategies as st

from lingauss.model import LinearGaussianModel
from lingauss.testing import assert_covariance_matches_samples, encoders, linear_gaussian_models

N_MC = 200_000


def _spd(rng, k, lo=0.3, hi=2.0):
    q, _ = np.linalg.qr(rng.standard_normal((k, k)))
    return (q * rng.uniform(lo, hi, k)) @ q.T


def _fixed_models():
    rng = np.random.default_rng(2024)
    sv3 = _spd(rng, 3)
    return [
        LinearGaussianModel.standard(sv3, 4, 0.1),
        LinearGaussianModel.standard(sv3, 3, 0.5),
        LinearGaussianModel(sigma_v=_spd(rng, 2), mixing=rng.standard_normal((5, 2)), noise_var=0.3),
        LinearGaussianModel(sigma_v=np.array([[2.0]]), mixing=np.array([[1.0], [-2.0]]),
                            noise_var=0.05),
    ]


# ---------------------------------------------------------------- Σ_Y and sampling

@pytest.mark.parametrize("model", _fixed_models(), ids=lambda m: repr(m))
def test_sigma_y_closed_form_and_monte_carlo(model):
    G, sv, var = np.asarray(model.mixing), np.asarray(model.sigma_v), model.noise_var
    n, s = G.shape
    expected = G @ sv @ G.T + var * np.eye(n)
    np.testing.assert_allclose(model.sigma_y, expected, rtol=1e-12, atol=1e-14)

    v, y = model.sample(N_MC, rng=11)
    assert v.shape == (N_MC, s) and y.shape == (N_MC, n)
    assert v.dtype == np.float64 and y.dtype == np.float64
    # joint [v; y] has covariance [[Σ_V, Σ_V Γᵀ], [Γ Σ_V, Σ_Y]]
    joint = np.block([[sv, sv @ G.T], [G @ sv, expected]])
    assert_covariance_matches_samples(np.hstack([v, y]), joint)
    # the residual y − Γv is the isotropic observation noise
    assert_covariance_matches_samples(y - v @ G.T, var * np.eye(n))


@given(linear_gaussian_models())
def test_sigma_y_formula_property(model):
    G, sv = np.asarray(model.mixing), np.asarray(model.sigma_v)
    expected = G @ sv @ G.T + model.noise_var * np.eye(model.n)
    np.testing.assert_allclose(model.sigma_y, expected, rtol=1e-12, atol=1e-13)
    assert np.array_equal(model.sigma_y, model.sigma_y.T)
    assert np.linalg.eigvalsh(model.sigma_y).min() >= model.noise_var * (1 - 1e-9)
    assert (model.n, model.s) == G.shape


def test_sample_is_seeded():
    model = _fixed_models()[0]
    v1, y1 = model.sample(50, rng=3)
    v2, y2 = model.sample(50, rng=3)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(y1, y2)
    v3, y3 = model.sample(50, rng=4)
    assert not np.allclose(v1, v3) and not np.allclose(y1, y3)
    # a Generator with the same seed gives the same draws as the int seed
    v4, y4 = model.sample(50, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(v1, v4)
    np.testing.assert_array_equal(y1, y4)
    # a shared Generator advances: two consecutive draws differ
    gen = np.random.default_rng(9)
    assert not np.allclose(model.sample(20, gen)[1], model.sample(20, gen)[1])
    # rng=None gives fresh entropy: valid shapes
    v5, y5 = model.sample(7)
    assert v5.shape == (7, model.s) and y5.shape == (7, model.n)


@pytest.mark.parametrize("k", [1, 2, np.int64(5)])
def test_sample_shapes(k):
    model = _fixed_models()[2]
    v, y = model.sample(k, rng=0)
    assert v.shape == (int(k), model.s)
    assert y.shape == (int(k), model.n)
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(y))


# ---------------------------------------------------------------- joint covariance

@pytest.mark.parametrize("seed", [0, 1])
def test_joint_covariance_monte_carlo(seed):
    rng = np.random.default_rng(seed)
    model = _fixed_models()[2 * seed]          # s = 3, n = 4  and  s = 2, n = 5
    m = 4 if seed == 0 else 1                  # m ≠ s, so a transposed ordering cannot fit
    B = rng.standard_normal((m, model.n))
    sigma_w = _spd(rng, m, 0.2, 1.0)
    joint = model.joint_covariance(B, sigma_w)
    assert joint.shape == (m + model.s, m + model.s)

    v, y = model.sample(N_MC, rng=rng)
    w = rng.standard_normal((N_MC, m)) @ np.linalg.cholesky(sigma_w).T
    x = y @ B.T + w
    assert_covariance_matches_samples(np.hstack([x, v]), joint)          # latents first


@given(linear_gaussian_models(), st.integers(1, 4), st.data())
def test_joint_covariance_blocks_symmetric_pd(model, m, data):
    B, sigma_w = data.draw(encoders(m, model.n))
    G, sv = np.asarray(model.mixing), np.asarray(model.sigma_v)
    sigma_y = G @ sv @ G.T + model.noise_var * np.eye(model.n)
    joint = model.joint_covariance(B, sigma_w)
    np.testing.assert_allclose(joint[:m, :m], B @ sigma_y @ B.T + sigma_w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(joint[:m, m:], B @ G @ sv, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(joint[m:, :m], (B @ G @ sv).T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(joint[m:, m:], sv, rtol=1e-14, atol=0)
    assert np.array_equal(joint, joint.T)
    assert np.linalg.eigvalsh(joint).min() > 0
    np.linalg.cholesky(joint)


def test_joint_covariance_zero_encoder():
    """B = 0: latents are pure encoder noise, independent of the factors."""
    model = _fixed_models()[0]
    sigma_w = np.diag([0.5, 2.0])
    joint = model.joint_covariance(np.zeros((2, model.n)), sigma_w)
    np.testing.assert_array_equal(joint[:2, :2], sigma_w)
    np.testing.assert_array_equal(joint[:2, 2:], 0.0)


# ---------------------------------------------------------------- standard() and immutability

@pytest.mark.parametrize("s,n", [(1, 1), (1, 3), (3, 3), (3, 4), (5, 5), (2, 6)])
def test_standard_uses_first_basis_vectors(s, n):
    rng = np.random.default_rng(s * 10 + n)
    sv = _spd(rng, s)
    model = LinearGaussianModel.standard(sv, n, 0.25)
    expected = np.zeros((n, s))
    for j in range(s):
        expected[j, j] = 1.0                 # column j is e_j ∈ R^n
    np.testing.assert_array_equal(model.mixing, expected)
    assert (model.n, model.s) == (n, s)
    # Σ_Y = Σ_V ⊕ 0 plus σ² I
    sy = 0.25 * np.eye(n)
    sy[:s, :s] += sv
    np.testing.assert_allclose(model.sigma_y, sy, rtol=1e-14, atol=1e-15)


def test_arrays_are_frozen_and_copied():
    sv = np.array([[1.0, 0.3], [0.3, 2.0]])
    G = np.array([[1.0, 0.0], [0.5, 1.0], [0.0, 2.0]])
    model = LinearGaussianModel(sigma_v=sv, mixing=G, noise_var=0.2)
    for name in ("sigma_v", "mixing", "sigma_y"):
        arr = getattr(model, name)
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0, 0] = 99.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.noise_var = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.sigma_v = np.eye(2)
    # mutating the caller's arrays afterwards does not reach the model
    before = model.sigma_y.copy()
    sv[0, 0] = 50.0
    G[0, 0] = 50.0
    assert model.sigma_v[0, 0] == 1.0 and model.mixing[0, 0] == 1.0
    np.testing.assert_array_equal(model.sigma_y, before)
    assert model.sigma_v.dtype == np.float64


def test_accepts_nested_lists_and_ints():
    model = LinearGaussianModel(sigma_v=[[2, 1], [1, 2]], mixing=[[1, 0], [0, 1], [1, 1]], noise_var=1)
    assert model.sigma_v.dtype == np.float64 and isinstance(model.noise_var, float)
    np.testing.assert_allclose(model.sigma_y, [[3, 1, 3], [1, 3, 3], [3, 3, 7]])


# ---------------------------------------------------------------- errors

GOOD_SV = np.array([[1.0, 0.2], [0.2, 1.0]])
GOOD_G = np.eye(3, 2)


@pytest.mark.parametrize("bad", [
    np.array([[1.0, 2.0], [2.0, 1.0]]),          # indefinite
    np.array([[1.0, 0.5], [0.1, 1.0]]),          # non-symmetric
    np.array([[1.0, np.nan], [np.nan, 1.0]]),    # NaN
    np.array([[1.0, 0.0], [0.0, 0.0]]),          # singular
    np.ones((2, 3)),                             # non-square
    np.ones(2),                                  # not a matrix
], ids=["indefinite", "nonsymmetric", "nan", "singular", "nonsquare", "1d"])
def test_bad_sigma_v(bad):
    with pytest.raises(ValueError, match=r"sigma_v"):
        LinearGaussianModel(sigma_v=bad, mixing=np.eye(3, bad.shape[-1]), noise_var=0.1)
    with pytest.raises(ValueError, match=r"sigma_v"):
        LinearGaussianModel.standard(bad, 3, 0.1)


@pytest.mark.parametrize("bad", [np.eye(3, 3), np.eye(3, 1), np.ones(3), np.full((3, 2), np.nan)],
                         ids=["too-many-cols", "too-few-cols", "1d", "nan"])
def test_bad_mixing(bad):
    with pytest.raises(ValueError, match=r"mixing"):
        LinearGaussianModel(sigma_v=GOOD_SV, mixing=bad, noise_var=0.1)


@pytest.mark.parametrize("bad", [0.0, -0.5, np.nan, np.inf, "0.1", [0.1, 0.2]])
def test_bad_noise_var(bad):
    with pytest.raises(ValueError, match=r"noise_var"):
        LinearGaussianModel(sigma_v=GOOD_SV, mixing=GOOD_G, noise_var=bad)
    with pytest.raises(ValueError, match=r"noise_var"):
        LinearGaussianModel.standard(GOOD_SV, 3, bad)


@pytest.mark.parametrize("bad_n", [1, 0, -2, 2.0, 3.5, "3", None])
def test_standard_bad_n(bad_n):
    with pytest.raises(ValueError, match=r"\bn must"):
        LinearGaussianModel.standard(GOOD_SV, bad_n, 0.1)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", None])
def test_bad_n_samples(bad):
    model = LinearGaussianModel(sigma_v=GOOD_SV, mixing=GOOD_G, noise_var=0.1)
    with pytest.raises(ValueError, match=r"n_samples"):
        model.sample(bad, rng=0)


def test_bad_rng():
    model = LinearGaussianModel(sigma_v=GOOD_SV, mixing=GOOD_G, noise_var=0.1)
    with pytest.raises(ValueError, match=r"rng"):
        model.sample(5, rng="seed")


@pytest.mark.parametrize("bad_B", [np.ones((2, 2)), np.ones((2, 4)), np.ones(3),
                                   np.full((2, 3), np.nan)],
                         ids=["too-few-cols", "too-many-cols", "1d", "nan"])
def test_joint_covariance_bad_B(bad_B):
    model = LinearGaussianModel(sigma_v=GOOD_SV, mixing=GOOD_G, noise_var=0.1)
    with pytest.raises(ValueError, match=r"\bB\b"):
        model.joint_covariance(bad_B, np.eye(2))


@pytest.mark.parametrize("bad_w", [
    np.array([[1.0, 2.0], [2.0, 1.0]]),
    np.array([[1.0, 0.0], [0.0, 0.0]]),
    np.array([[1.0, 0.3], [0.0, 1.0]]),
    np.array([[1.0, 0.0], [0.0, np.inf]]),
    np.eye(3),                                   # wrong size for m = 2
], ids=["indefinite", "singular", "nonsymmetric", "inf", "wrong-size"])
def test_joint_covariance_bad_sigma_w(bad_w):
    model = LinearGaussianModel(sigma_v=GOOD_SV, mixing=GOOD_G, noise_var=0.1)
    with pytest.raises(ValueError, match=r"sigma_w"):
        model.joint_covariance(np.ones((2, 3)), bad_w)
