"""SKD and SSM-SKD: shapes, one latent width, swaps (identity with itself), short training runs."""

import math

import numpy as np
import pytest
import torch

from neural.koopman import (SKD, SSMSKD, channel_swap, eigenbasis_swap, fit_koopman, static_codes)
from neural.train import Trainer

TINY = dict(channels=(4, 4, 8, 8), hidden=16, in_channels=1)


@pytest.fixture(scope="module")
def seqs():
    """Four 6-frame sequences of a moving bright square (64×64, one channel)."""
    x = torch.zeros(4, 6, 1, 64, 64)
    for i in range(4):
        for t in range(6):
            r, c = 8 + 6 * t, 10 + 9 * i
            x[i, t, 0, r:r + 8 + 2 * i, c:c + 8] = 1.0
    return x


def test_one_latent_width_everywhere(seqs):
    m = SKD(k=6, n_static=2, **TINY)
    assert m.encoder.lstm.hidden_size == m.encoder.lstm.input_size == 6
    assert m.decoder.lstm.hidden_size == m.decoder.lstm.input_size == 6
    Z = m.encode(seqs)
    assert Z.shape == (4, 6, 6) and m.decode(Z).shape == seqs.shape
    assert m.koopman(Z).C.shape == (6, 6)
    assert SSMSKD(k=5, **TINY).koopman(Z[..., :5]).C.shape == (4, 5, 5)
    with pytest.raises(ValueError, match="n_static"):
        SKD(k=4, n_static=4)


def test_swap_with_itself_is_the_identity(seqs):
    torch.manual_seed(0)
    for m in (SKD(k=6, n_static=2, **TINY), SSMSKD(k=7, **TINY)):
        with torch.no_grad():
            Z = m.encode(seqs).double()
            for static, dyn in (("all", False), (None, True), ([0], True), ("all", True)):
                torch.testing.assert_close(m.recombine_latents(Z, Z, static, dyn), Z, atol=1e-9, rtol=1e-9)
            torch.testing.assert_close(m.recombine(seqs, seqs, "all", True), m.decode(m.encode(seqs)),
                                       atol=1e-5, rtol=1e-5)
            # swapping everything from y gives y's latents
            Zy = Z.flip(0)
            torch.testing.assert_close(m.recombine_latents(Z, Zy, "all", True), Zy, atol=1e-8, rtol=1e-8)


def test_eigenbasis_and_channel_swaps_exchange_exactly_the_chosen_parts():
    gen = torch.Generator().manual_seed(0)
    Z = torch.randn(4, 7, 3, generator=gen, dtype=torch.float64)
    C = fit_koopman(Z).C
    lam, V = torch.linalg.eig(C)
    Vi = torch.linalg.inv(V)
    real = int(torch.nonzero(lam.imag.abs() < 1e-12)[0])
    out = eigenbasis_swap(Z[:2], Z[2:], V, Vi, [real])
    phi = lambda z: z.to(torch.complex128) @ V  # noqa: E731
    torch.testing.assert_close(phi(out)[..., real], phi(Z[2:])[..., real])
    others = [j for j in range(3) if j != real]
    torch.testing.assert_close(phi(out)[..., others], phi(Z[:2])[..., others])
    S, D = Z, 2 * Z
    swapped = channel_swap(S[:2], D[:2], S[2:], D[2:], [1], None)
    torch.testing.assert_close(swapped[..., 1], S[2:, ..., 1] + D[:2, ..., 1])
    torch.testing.assert_close(swapped[..., 0], S[:2, ..., 0] + D[:2, ..., 0])


@pytest.mark.parametrize("cls,kw", [(SKD, dict(k=6, n_static=2)), (SSMSKD, dict(k=7))])
def test_tiny_model_trains_with_decreasing_loss_and_no_nan(cls, kw, seqs):
    torch.manual_seed(0)
    m = cls(**kw, **TINY)
    with torch.no_grad():
        before = {k: float(v) for k, v in m.loss(seqs).items()}
    tr = Trainer(m, lr=3e-3, seed=0, progress=False, grad_clip=1.0, max_bad_steps=1)
    res = tr.fit(seqs, 25, batch_size=None)
    assert res.status == "completed" and res.bad_steps == 0
    with torch.no_grad():
        after = {k: float(v) for k, v in m.loss(seqs).items()}
    assert all(math.isfinite(v) for v in after.values())
    assert after["loss"] < 0.8 * before["loss"]
    assert after["rec"] < before["rec"]
    assert {"rec", "pred_x", "pred_z", "eig", "eig_static", "eig_dynamic"} <= set(after)


def test_weights_are_parameters_and_enter_the_loss(seqs):
    torch.manual_seed(0)
    m = SSMSKD(k=5, w_rec=2.0, w_pred_x=0.5, w_pred_z=3.0, w_eig=0.25, **TINY)
    with torch.no_grad():
        out = m.loss(seqs)
    expected = 2.0 * out["rec"] + 0.5 * out["pred_x"] + 3.0 * out["pred_z"] + 0.25 * out["eig"]
    assert float(out["loss"]) == pytest.approx(float(expected), rel=1e-6)
    with pytest.raises(ValueError, match="w_eig"):
        SKD(w_eig=-1.0)


def test_static_codes_shapes(seqs):
    torch.manual_seed(0)
    assert static_codes(SSMSKD(k=5, **TINY), seqs.numpy()).shape == (4, 5)
    codes = static_codes(SKD(k=6, n_static=2, **TINY), seqs.numpy())
    assert codes.shape == (4, 4) and np.all(np.isfinite(codes))


def test_residual_lstms_and_output_bias(seqs):
    """Residual LSTMs (default) pass the frame code through; init_output_bias starts at the mean."""
    torch.manual_seed(0)
    m = SKD(k=6, n_static=2, **TINY)
    assert m.encoder.residual and m.decoder.residual
    assert not SKD(k=6, n_static=2, residual=False, **TINY).encoder.residual
    b, T = seqs.shape[:2]
    codes = m.encoder.frame(seqs.flatten(0, 1)).reshape(b, T, 6)
    torch.testing.assert_close(m.encode(seqs), codes + m.encoder.lstm(codes)[0])
    mean = float(seqs.mean())
    m.decoder.init_output_bias(mean)
    torch.testing.assert_close(torch.sigmoid(m.decoder.frame.deconv[-1].bias), torch.tensor([mean]))
    from neural.koopman.metrics import reconstruction_errors
    m.eval()
    e = reconstruction_errors(m, seqs, seqs.mean((0, 1)))
    assert set(e) == {"recon_mse", "baseline_mse", "fg_recon_mse", "fg_baseline_mse"}
    assert all(math.isfinite(v) and v >= 0 for v in e.values())


@pytest.mark.parametrize("cls,kw", [(SKD, dict(k=6, n_static=2)), (SSMSKD, dict(k=8))])
def test_tiny_models_train_on_sprites_like_data(cls, kw):
    """A few steps on Sprites-like sequences (T − 1 = 5 < k = 8 for SSM-SKD): no NaN, the loss falls."""
    from neural.data import make_sprites_like

    data = make_sprites_like(8, n_frames=6, rng=0, image_size=16)
    x = torch.as_tensor(data.sequences)
    torch.manual_seed(0)
    m = cls(**kw, channels=(4, 8), hidden=16, in_channels=3, image_size=16)
    m.decoder.init_output_bias(x.mean((0, 1, 3, 4)))
    m.eval()
    with torch.no_grad():
        before = float(m.loss(x)["loss"])
    m.train()
    res = Trainer(m, lr=3e-3, seed=0, progress=False, grad_clip=1.0, max_bad_steps=1).fit(x, 30, batch_size=None)
    assert res.status == "completed" and res.bad_steps == 0
    m.eval()
    with torch.no_grad():
        after = {k: float(v) for k, v in m.loss(x).items()}
    assert all(math.isfinite(v) for v in after.values())
    assert after["loss"] < before
