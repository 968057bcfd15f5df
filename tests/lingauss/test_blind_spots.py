"""Tests aimed at bugs the rest of the suite would let through: Blahut–Arimoto's stopping rule and
statuses, input checks shared with the loss, and the intervention/classifier metrics."""

import numpy as np
import pytest

import lingauss as lg
from lingauss.metrics.factor_samplers import IndependentDiscreteSampler

SC1 = lg.talk_scenario((3, 4, 3), 1)


def test_convergence_is_judged_on_the_absolute_loss_change():
    """λ < 0: the loss can rise between iterations. The run must stop at the first iteration whose
    |ΔL| ≤ tol·max(1, |L|) — recomputed here from the history — not at the first rise."""
    tol = 1e-10
    r = lg.blahut_arimoto(SC1.model, 3, 1.0, -1.0, decoder_noise="full", rng=0, max_iter=3000, tol=tol)
    h = r.history
    change = h[:-1] - h[1:]
    assert r.n_increases > 0 and np.any(change < 0)            # this run does go uphill
    met = np.abs(change) <= tol * np.maximum(1.0, np.abs(h[1:]))
    assert r.status == "converged" and met.any()
    assert r.n_iter == int(np.argmax(met)) + 1                  # the first iteration that meets tol
    assert np.argmax(change < 0) + 1 < r.n_iter                 # a rise came earlier


def test_a_run_stopped_by_max_iter_with_kl_below_the_collapse_tolerance_is_collapsed():
    """γ = 0.5 collapses; at 25 iterations (tol = 0: never converged) its KL is already tiny."""
    r = lg.blahut_arimoto(SC1.model, 3, 0.5, 0.0, decoder_noise="isotropic", rng=0, max_iter=25, tol=0.0)
    kl = lg.gamma_lambda_loss(SC1.model.sigma_y, r.A, r.B, r.sigma_w, r.sigma_z, 0.5, 0.0).kl
    assert r.n_iter == 25 and kl <= 1e-6
    assert r.status == "collapsed"
    grid = lg.blahut_arimoto_grid(SC1.model, 3, [0.5], [0.0], decoder_noise="isotropic", rng=0,
                                  max_iter=25, tol=0.0)
    assert grid.status[0, 0] == "collapsed"


def test_a_singular_encoder_noise_is_diverged_and_named():
    """Σ_Z fixed at 1e-12·I with m > n: Σ_W = (I + AᵀΣ_Z⁻¹A)⁻¹ has eigenvalues ~1e-12·scale in
    the n directions A spans — singular relative to the (m − n) unit ones."""
    n = SC1.model.n
    r = lg.blahut_arimoto(SC1.model, n + 1, 1.0, 0.0, decoder_noise=1e-12 * np.eye(n), rng=0, max_iter=50)
    assert r.status == "diverged" and "Σ_W" in r.message
    assert np.all(np.isfinite(r.sigma_w))


@pytest.mark.parametrize("bad", [np.zeros((0, 0)), np.zeros((2, 0, 0))])
def test_an_empty_covariance_is_a_value_error(bad):
    with pytest.raises(ValueError, match="sigma_y"):
        lg.blahut_arimoto(bad, 1, 1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_y"):
        lg.blahut_arimoto_grid(bad, 1, [1.0], [0.0])


@pytest.mark.parametrize("rng", [-1, 2.5, "0", True, np.random.RandomState(0)])
def test_an_invalid_rng_names_rng(rng):
    with pytest.raises(ValueError, match="rng"):
        lg.blahut_arimoto(SC1.model, 3, 1.0, 0.0, rng=rng, max_iter=2)


@pytest.mark.parametrize("gamma", [-0.5, -1e-9, 0.0, 0.7])
def test_loss_and_solver_agree_on_valid_gamma(gamma):
    sy = SC1.model.sigma_y
    args = (sy, np.ones((4, 3)), np.zeros((3, 4)), np.eye(3), np.eye(4))
    try:
        lg.gamma_lambda_loss(*args, gamma, 0.0)
        loss_ok = True
    except ValueError as exc:
        assert "gamma" in str(exc)
        loss_ok = False
    try:
        lg.blahut_arimoto(sy, 3, gamma, 0.0, max_iter=2)
        ba_ok = True
    except ValueError as exc:
        assert "gamma" in str(exc)
        ba_ok = False
    assert loss_ok == ba_ok == (gamma >= 0)


def test_dci_informativeness_of_uninformative_latents_is_chance_on_the_test_split():
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(0)
    n, K = 900, 4
    factors = rng.integers(0, K, (n, 2)).astype(float)
    latents = rng.standard_normal((n, 3))                     # independent of the factors
    res = lg.standard_dci(latents, factors, rng=1, discrete_factors=True)
    # held-out accuracy of any classifier on independent inputs: 1/K, binomial sd ≈ 0.025 per factor
    assert abs(res.informativeness_test - 1 / K) < 0.08
    assert res.informativeness_train > res.informativeness_test + 0.2    # the trees memorise


def test_factor_vae_eval_accuracy_is_the_majority_vote_of_the_training_votes():
    """Noisy latents: the training and evaluation majorities differ on some latent, so the eval
    accuracy must be Σ_d V^eval[c(d), d] / Σ V^eval with c(d) = argmax_k V^train[k, d]."""
    def encode(f, rng):
        return f + 3.0 * rng.standard_normal(f.shape)
    sampler = IndependentDiscreteSampler([3, 3, 3, 3], encode)
    res = lg.factor_vae_score(sampler, batch_size=4, num_train=60, num_eval=60,
                              num_variance_estimate=500, rng=3)
    tv, ev = np.asarray(res.train_votes), np.asarray(res.eval_votes)
    c_train = [int(np.argmax(tv[:, d])) if tv[:, d].sum() > 0 else -1 for d in range(tv.shape[1])]
    c_eval = [int(np.argmax(ev[:, d])) if ev[:, d].sum() > 0 else -1 for d in range(ev.shape[1])]

    def acc(votes, c):
        return sum(votes[c[d], d] for d in range(votes.shape[1]) if c[d] >= 0) / votes.sum()

    assert acc(ev, c_train) != acc(ev, c_eval)                 # the case separates the two rules
    assert res.eval_accuracy == pytest.approx(acc(ev, c_train), abs=1e-15)
    assert res.train_accuracy == pytest.approx(acc(tv, c_train), abs=1e-15)
