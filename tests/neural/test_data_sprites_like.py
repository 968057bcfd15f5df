"""Procedural Sprites-like sequences: factors as specified, and recoverable from the pixels."""

import numpy as np
import pytest

from neural.data import (BOTTOM_COLOURS, HAIR_COLOURS, SKIN_COLOURS, SPRITES_ACTIONS, SPRITES_LIKE_ACTIONS,
                         TOP_COLOURS, make_sprites_like, render_sprites_like)


@pytest.fixture(scope="module")
def data():
    return make_sprites_like(60, n_frames=8, rng=3, image_size=32)


def test_layout_and_determinism(data):
    assert data.sequences.shape == (60, 8, 3, 32, 32) and data.sequences.dtype == np.float32
    assert 0.0 <= data.sequences.min() and data.sequences.max() <= 1.0
    assert data.factor_names == ("skin", "hair", "top", "bottom", "action", "pose")
    assert data.factor_static == (True,) * 4 + (False,) * 2
    assert data.cardinalities == (6, 6, 6, 6, 9, 8)
    assert SPRITES_LIKE_ACTIONS == SPRITES_ACTIONS                 # the real files' class order
    np.testing.assert_array_equal(make_sprites_like(60, n_frames=8, rng=3, image_size=32).sequences,
                                  data.sequences)


def test_static_factors_constant_and_dynamics_as_specified(data):
    f = data.factors.astype(int)
    assert np.all(f[:, :, :5] == f[:, :1, :5])                     # appearance and action per sequence
    np.testing.assert_array_equal(f[:, :, 5], np.broadcast_to(np.arange(8), (60, 8)))   # pose_t = t
    r = make_sprites_like(40, n_frames=12, rng=4, image_size=32, random_start=True).factors.astype(int)
    np.testing.assert_array_equal(r[:, :, 5], (r[:, :1, 5] + np.arange(12)) % 8)
    assert len(np.unique(r[:, 0, 5])) > 1
    # every frame differs from the next (the pose moves), and the action changes the frames
    d = np.abs(np.diff(data.sequences, axis=1)).reshape(60, 7, -1).max(-1)
    assert np.all(d > 0.1)
    base = np.tile(f[0, :, :], (9, 1, 1))
    base[:, :, 4] = np.arange(9)[:, None]
    frames = render_sprites_like(base.reshape(-1, 6), image_size=32).reshape(9, 8, -1)
    for a in range(9):
        for b in range(a):
            assert np.abs(frames[a] - frames[b]).max(-1).min() > 0.1   # at every pose


def test_colours_are_read_back_from_the_pixels(data):
    f = data.factors[:, 0].astype(int)
    S = 32
    px = lambda x, y: data.sequences[:, :, :, int(y * S), int(x * S)]  # noqa: E731 — (N, T, 3)
    facing = np.select([f[:, 4] % 3 == 1, f[:, 4] % 3 == 2], [-1.0, 1.0], 0.0)
    for i in range(60):
        hx = 0.5 + 0.02 * facing[i]
        torso = data.sequences[i, :, :, int(0.5 * S), int(0.5 * S)]
        np.testing.assert_allclose(torso, np.broadcast_to(TOP_COLOURS[f[i, 2]], (8, 3)), atol=1e-6)
        np.testing.assert_allclose(data.sequences[i, :, :, int(0.33 * S), int(hx * S)],
                                   np.broadcast_to(SKIN_COLOURS[f[i, 0]], (8, 3)), atol=1e-6)
        np.testing.assert_allclose(data.sequences[i, :, :, int(0.66 * S), int(0.45 * S)],
                                   np.broadcast_to(BOTTOM_COLOURS[f[i, 3]], (8, 3)), atol=1e-6)
        if f[i, 4] // 3 != 2:                                       # no sword over the hair
            np.testing.assert_allclose(data.sequences[i, :, :, int(0.14 * S), int(hx * S)],
                                       np.broadcast_to(HAIR_COLOURS[f[i, 1]], (8, 3)), atol=1e-6)
    assert px(0.02, 0.02).max() == 0.0                              # black background


def test_render_reproduces_the_dataset_and_checks_its_input(data):
    again = render_sprites_like(data.factors.reshape(-1, 6), image_size=32)
    np.testing.assert_array_equal(again.reshape(data.sequences.shape), data.sequences)
    with pytest.raises(ValueError, match="factors"):
        render_sprites_like(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="factors"):
        render_sprites_like(np.array([[0, 0, 0, 6, 0, 0]]))
    with pytest.raises(ValueError, match="image_size"):
        make_sprites_like(2, image_size=8)
    with pytest.raises(ValueError, match="n "):
        make_sprites_like(0)
