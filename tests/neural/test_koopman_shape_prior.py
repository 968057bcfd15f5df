"""The shape-and-palette swap prior of the Koopman models (``w_shape``): the palette distance
against a brute-force loop, its invariances on generated Sprites-like clips, and its place in the loss."""

import numpy as np
import pytest
import torch

from neural.data.sprites_like import make_sprites_like, render_sprites_like
from neural.koopman import SKD, SSMSKD
from neural.koopman.base import MASK_SCALE, foreground_mask, palette_distance


def _brute_palette(a, b, frames=1, bands=3):
    """The module doc's definition, one pixel at a time (numpy float64)."""
    T, H = a.shape[1], a.shape[-2]
    f = min(frames, T)
    idx = [int((j + 0.5) * T / f) for j in range(f)]
    edges = [round(k * H / bands) for k in range(bands + 1)]
    out = []
    for x, y in zip(a, b):
        total = 0.0
        for lo, hi in zip(edges[:-1], edges[1:]):
            def px(c):
                c = c[idx, :, lo:hi]
                return (c.transpose(0, 2, 3, 1).reshape(-1, c.shape[1]),
                        np.tanh(np.clip(c, 0, None).sum(1) / MASK_SCALE).ravel())
            ca, ma = px(x)
            cb, mb = px(y)
            for (cs, ms, co, mo) in ((ca, ma, cb, mb), (cb, mb, ca, ma)):
                num = 0.0
                for c, w in zip(cs, ms):
                    d = [np.sum((c - o) ** 2) + (3.0 if wo < 0.5 else 0.0) for o, wo in zip(co, mo)]
                    num += w * min(d)
                total += num / max(ms.sum(), 1e-6)
        out.append(total / bands)
    return float(np.mean(out))


def test_palette_distance_equals_a_brute_force_loop():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (3, 5, 3, 6, 4)) * (rng.uniform(size=(3, 5, 1, 6, 4)) > 0.4)
    b = rng.uniform(0, 1, (3, 5, 3, 6, 4)) * (rng.uniform(size=(3, 5, 1, 6, 4)) > 0.4)
    for frames, bands in ((1, 3), (2, 1), (5, 2)):
        got = palette_distance(torch.as_tensor(a), torch.as_tensor(b), frames=frames, bands=bands).item()
        assert got == pytest.approx(_brute_palette(a, b, frames, bands), rel=1e-9, abs=1e-12)


def test_palette_sees_colours_and_not_motion_mask_sees_motion_and_not_colours():
    """On generated clips: changing the action (every colour kept) moves the palette distance by
    less than a fifth of what changing one colour does (raised arms and the sword enter other
    bands); the mask moves the other way, by less than a tenth."""
    ds = make_sprites_like(16, rng=0, image_size=16, n_frames=8, random_start=True)
    f = ds.factors
    x = torch.as_tensor(ds.sequences, dtype=torch.float32)

    def render(g):
        return torch.as_tensor(render_sprites_like(g.reshape(-1, 6), image_size=16).reshape(x.shape),
                               dtype=torch.float32)

    moved = f.copy()
    moved[..., 4] = (moved[..., 4] + 4) % 9                 # another action type and direction
    recoloured = f.copy()
    recoloured[..., 2] = (recoloured[..., 2] + 1) % 6       # another top colour
    assert abs(palette_distance(x, x).item()) < 1e-6                 # rounding of |a|² + |b|² − 2a·b
    assert palette_distance(x, render(moved)).item() < 0.2 * palette_distance(x, render(recoloured)).item()
    mask_err = lambda y: torch.mean((foreground_mask(x) - foreground_mask(y)) ** 2).item()
    assert mask_err(render(recoloured)) < 0.1 * mask_err(render(moved))


@pytest.mark.parametrize("cls, kw", [(SKD, dict(k=6, n_static=2)), (SSMSKD, dict(k=5))])
def test_shape_term_enters_the_loss_with_its_weight_and_reaches_the_encoder(cls, kw):
    ds = make_sprites_like(4, rng=1, image_size=16, n_frames=6, random_start=True)
    x = torch.as_tensor(ds.sequences, dtype=torch.float32)
    common = dict(channels=(4, 8), hidden=16, image_size=16, **kw)
    torch.manual_seed(0)
    off = cls(**common)
    assert "shape" not in off.loss(x)
    torch.manual_seed(0)
    on = cls(w_shape=2.0, **common)
    out = on.loss(x)
    torch.manual_seed(0)
    base = cls(**common).loss(x)["loss"].item()                 # the same weights without the term
    assert out["loss"].item() == pytest.approx(base + 2.0 * out["shape"].item(), rel=1e-5)
    on.zero_grad()
    out["shape"].backward()
    grads = [p.grad for p in on.encoder.parameters() if p.grad is not None]
    assert grads and any(float(g.abs().sum()) > 0 for g in grads)
    with pytest.raises(ValueError, match="w_shape"):
        cls(w_shape=-1.0, **common)
