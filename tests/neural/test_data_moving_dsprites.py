"""Moving dSprites: static content constant over time, positions move by the velocity."""

import numpy as np
import pytest

from neural.data import (HUES, POSITIONS, SCALES, SequenceDataset, make_moving_dsprites, move_positions,
                         position_to_pixel)
from neural.data._colour import rgb_to_hue

ROWS = np.arange(64)[:, None]
COLS = np.arange(64)[None, :]


@pytest.fixture(scope="module")
def seqs():
    return make_moving_dsprites(60, n_frames=8, rng=11)


def test_same_seed_same_sequences_and_different_seed_differs():
    a, b, c = (make_moving_dsprites(6, n_frames=5, rng=s) for s in (2, 2, 3))
    assert np.array_equal(a.sequences, b.sequences) and np.array_equal(a.factors, b.factors)
    assert not np.array_equal(a.factors, c.factors)


def test_layout_and_flags(seqs):
    assert isinstance(seqs, SequenceDataset)
    assert seqs.sequences.shape == (60, 8, 3, 64, 64) and seqs.sequences.dtype == np.float32
    assert seqs.factor_names == ("shape", "colour", "scale", "pos_x", "pos_y", "vel_x", "vel_y")
    assert seqs.factor_static == (True, True, True, False, False, False, False)
    assert seqs.cardinalities == (3, 6, 6, 32, 32, 5, 5)
    assert np.all(seqs.factors >= 0) and np.all(seqs.factors < np.array(seqs.cardinalities))
    grey = make_moving_dsprites(3, n_frames=4, rng=0, colour=False)
    assert grey.sequences.shape == (3, 4, 1, 64, 64) and "colour" not in grey.factor_names
    assert grey.factor_static == (True, True, False, False, False, False)


def test_static_factors_are_constant_and_rendered_constantly(seqs):
    static = seqs.factors[:, :, np.array(seqs.factor_static)]
    assert np.all(static == static[:, :1])
    np.testing.assert_array_equal(seqs.static_factors, static[:, 0])
    area = seqs.sequences.max(axis=2).sum(axis=(2, 3))  # (N, T)
    # the same shape and scale in every frame: the pixel area changes only by the discretisation
    # at a new sub-pixel offset (a 10.24-px square covers 10² or 11² pixels)
    assert np.all(np.abs(area / area[:, :1] - 1) < 0.3)
    r_px = 0.16 * 64 * SCALES[seqs.factors[:, 0, 2].astype(int)]
    mean_rel = area.mean(axis=1) / r_px ** 2  # area in R² units: ≈ 4 square, 2.65 ellipse, 3.66 heart
    np.testing.assert_allclose(mean_rel, np.array([4.0, 2.65, 3.66])[seqs.factors[:, 0, 0].astype(int)],
                               rtol=0.12)
    for seq, f in zip(seqs.sequences, seqs.factors):
        mask = seq.max(axis=1) > 0
        hues = rgb_to_hue(seq.transpose(0, 2, 3, 1)[mask])
        np.testing.assert_allclose(hues, HUES[int(f[0, 1])], atol=1e-6)


def test_positions_move_by_the_velocity_every_frame(seqs):
    vel = seqs.factor_values["vel_x"]
    pos = seqs.factors[:, :, 3:5].astype(int)
    v = vel[seqs.factors[:, :, 5:7].astype(int)]
    step = pos[:, 1:] - pos[:, :-1]
    free = (pos[:, :-1] + v[:, :-1] >= 0) & (pos[:, :-1] + v[:, :-1] <= 31)
    assert free.mean() > 0.8
    np.testing.assert_array_equal(step[free], v[:, :-1][free])
    # the image centroids follow the labels
    mask = seqs.sequences.max(axis=2)
    m = mask.sum(axis=(2, 3))
    cx = (mask * COLS).sum(axis=(2, 3)) / m
    cy = (mask * ROWS).sum(axis=(2, 3)) / m
    np.testing.assert_allclose(cx, position_to_pixel(POSITIONS[pos[..., 0]]), atol=1.0)
    np.testing.assert_allclose(cy, position_to_pixel(POSITIONS[pos[..., 1]]), atol=1.0)
    dx = np.diff(cx, axis=1)[free[..., 0]]
    np.testing.assert_allclose(dx, v[:, :-1, 0][free[..., 0]] * 32 / 31, atol=1.0)


def test_bounce_and_wrap_trajectories():
    pos, head = move_positions(np.array([29, 1, 5, 0, 31]), np.array([2, -2, 0, -3, 31]), 6)
    np.testing.assert_array_equal(pos, [[29, 31, 29, 27, 25, 23],
                                        [1, 1, 3, 5, 7, 9],
                                        [5, 5, 5, 5, 5, 5],
                                        [0, 3, 6, 9, 12, 15],
                                        [31, 0, 31, 0, 31, 0]])
    np.testing.assert_array_equal(head[:2], [[2, -2, -2, -2, -2, -2], [-2, 2, 2, 2, 2, 2]])
    # p_{t+1} = reflect(p_t + heading_t) everywhere
    reflect = lambda q: np.where(q < 0, -q, np.where(q > 31, 62 - q, q))  # noqa: E731
    np.testing.assert_array_equal(pos[:, 1:], reflect(pos[:, :-1] + head[:, :-1]))
    pos, head = move_positions(np.array([30, 2]), np.array([1, -2]), 4, boundary="wrap")
    np.testing.assert_array_equal(pos, [[30, 31, 0, 1], [2, 0, 30, 28]])
    np.testing.assert_array_equal(head, [[1] * 4, [-2] * 4])
    wrapped = make_moving_dsprites(10, n_frames=6, rng=1, boundary="wrap", colour=False)
    assert np.all(wrapped.factors[:, :, 4:] == wrapped.factors[:, :1, 4:])


@pytest.mark.parametrize("kwargs, name", [
    (dict(n=0), "n"),
    (dict(n=2, n_frames=0), "n_frames"),
    (dict(n=2, boundary="stick"), "boundary"),
    (dict(n=2, velocities=(0, 1, 2)), "velocities"),
    (dict(n=2, velocities=(1, 1, -1)), "velocities"),
    (dict(n=2, velocities=(40, -40)), "velocities"),
    (dict(n=2, orientation=40), "orientation"),
    (dict(n=2, rng=1.5), "rng"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    n = kwargs.pop("n")
    with pytest.raises(ValueError, match=name):
        make_moving_dsprites(n, **kwargs)


def test_move_positions_checks_its_arguments():
    with pytest.raises(ValueError, match="start"):
        move_positions(np.array([32]), np.array([1]), 3)
    with pytest.raises(ValueError, match="velocity"):
        move_positions(np.array([3]), np.array([1, 2]), 3)
