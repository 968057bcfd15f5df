"""Procedural dSprites: determinism, label correctness by pixels and moments, the sampler."""

import numpy as np
import pytest

from lingauss.metrics.factor_samplers import FactorSampler
from lingauss.metrics.standard_sampling import factor_vae_score
from neural.data import (BASE_RADIUS, DSPRITES_CARDINALITIES, HUES, POSITIONS, SCALES, DSpritesSampler,
                         FactorDataset, make_dsprites, position_to_pixel, render_dsprites, render_shapes,
                         sample_dsprites_factors)
from neural.data._colour import rgb_to_hue

ROWS = np.arange(64)[:, None]
COLS = np.arange(64)[None, :]


def centroid(img):
    """(column, row) centroid of a (64, 64) image."""
    m = img.sum()
    return (img * COLS).sum() / m, (img * ROWS).sum() / m


def test_same_seed_same_data_and_different_seed_differs():
    a, b, c = (make_dsprites(40, rng=s) for s in (3, 3, 4))
    assert np.array_equal(a.images, b.images) and np.array_equal(a.factors, b.factors)
    assert not np.array_equal(a.factors, c.factors)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(sample_dsprites_factors(30, g1, colour=True),
                          sample_dsprites_factors(30, g2, colour=True))


def test_dataset_layout_and_metadata():
    ds = make_dsprites(25, rng=0)
    assert isinstance(ds, FactorDataset)
    assert ds.images.shape == (25, 1, 64, 64) and ds.images.dtype == np.float32
    assert set(np.unique(ds.images)) <= {0.0, 1.0}
    assert ds.factor_names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert ds.cardinalities == DSPRITES_CARDINALITIES
    assert ds.factor_kinds == ("discrete",) * 5
    assert np.all(ds.factors >= 0) and np.all(ds.factors < np.array(DSPRITES_CARDINALITIES))
    assert list(ds.factor_values["shape"]) == ["square", "ellipse", "heart"]
    np.testing.assert_allclose(ds.factor_values["scale"], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert ds.factor_values["orientation"].size == 40 and ds.factor_values["orientation"].max() < 2 * np.pi
    col = make_dsprites(10, rng=0, colour=True)
    assert col.images.shape == (10, 3, 64, 64) and col.factor_names[-1] == "colour"
    assert col.cardinalities[-1] == len(HUES)
    # every image is non-empty and well inside the frame
    assert np.all(ds.images.sum(axis=(1, 2, 3)) > 20)
    assert ds.images[:, :, [0, -1], :].sum() == 0 and ds.images[:, :, :, [0, -1]].sum() == 0


def test_centroid_matches_position_within_a_pixel():
    cls = sample_dsprites_factors(90, rng=1)
    cls[:, 0] = np.arange(90) % 3  # every shape
    imgs = render_dsprites(cls)[:, 0]
    for img, c in zip(imgs, cls):
        cx, cy = centroid(img)
        assert abs(cx - position_to_pixel(POSITIONS[c[3]])) < 1.0
        assert abs(cy - position_to_pixel(POSITIONS[c[4]])) < 1.0
    # extremes of the position range
    corners = np.array([[s, 5, 7, px, py] for s in range(3) for px in (0, 31) for py in (0, 31)])
    for img, c in zip(render_dsprites(corners)[:, 0], corners):
        cx, cy = centroid(img)
        assert abs(cx - position_to_pixel(POSITIONS[c[3]])) < 1.0
        assert abs(cy - position_to_pixel(POSITIONS[c[4]])) < 1.0


def test_area_grows_like_scale_squared():
    r_px = BASE_RADIUS * 64
    exact = {0: 4.0, 1: np.pi * 1.3 * 0.65, 2: 3.66196}  # areas in units of R²
    for shape in range(3):
        cls = np.array([[shape, k, 3, 16, 16] for k in range(6)])
        area = render_dsprites(cls)[:, 0].sum(axis=(1, 2))
        np.testing.assert_allclose(area, exact[shape] * (r_px * SCALES) ** 2, rtol=0.05)
        np.testing.assert_allclose(area / area[-1], SCALES ** 2, rtol=0.06)


@pytest.mark.parametrize("scale", [0, 3, 5])
def test_square_rotated_by_quarter_turns_is_the_same_square(scale):
    base = np.array([[0, scale, 0, 16, 16], [0, scale, 0, 3, 27]])
    for quarter in (10, 20, 30):
        rot = base.copy()
        rot[:, 2] = quarter
        assert np.abs(render_dsprites(rot) - render_dsprites(base)).sum() <= 2


def test_point_reflection_is_a_half_turn_and_ellipse_has_two_fold_symmetry():
    for shape in range(3):
        for theta in (0.3, 1.1):
            a = render_shapes(np.array([shape]), 0.9, theta, 0.5, 0.5)[0, 0]
            b = render_shapes(np.array([shape]), 0.9, theta + np.pi, 0.5, 0.5)[0, 0]
            assert np.abs(b - a[::-1, ::-1]).sum() <= 2
            if shape == 1:
                assert np.abs(a - b).sum() <= 2


def test_heart_is_mirror_symmetric_about_its_axis_and_points_down():
    up = render_shapes(np.array([2]), 1.0, 0.0, 0.5, 0.37)[0, 0]
    assert np.array_equal(up, up[:, ::-1])  # axis vertical at θ = 0, centred on column 31.5
    side = render_shapes(np.array([2]), 0.8, np.pi / 2, 0.21, 0.5)[0, 0]
    assert np.abs(side - side[::-1, :]).sum() <= 2  # axis horizontal at θ = π/2
    assert not np.array_equal(up, up[::-1, :])  # but not symmetric top-bottom
    rows = np.flatnonzero(up.sum(axis=1))
    width = up.sum(axis=1)[rows]
    assert np.argmax(width) < rows.size // 2  # the lobes (widest part) are on top
    assert width[-1] <= 0.25 * width.max()  # the tip at the bottom


def test_colour_channels_are_mask_times_hue():
    cls = sample_dsprites_factors(24, rng=5, colour=True)
    grey = render_dsprites(cls[:, :5])[:, 0]
    rgb = render_dsprites(cls)
    assert rgb.shape == (24, 3, 64, 64)
    np.testing.assert_array_equal(rgb.max(axis=1), grey)
    for img, c, m in zip(rgb, cls, grey):
        mean_rgb = img[:, m > 0].mean(axis=1)
        assert abs(rgb_to_hue(mean_rgb) - HUES[c[5]]) < 1e-6


def test_supersampling_gives_grey_edges_and_the_same_area():
    cls = np.array([[s, 4, 6, 10, 20] for s in range(3)])
    hard = render_dsprites(cls)
    soft = render_dsprites(cls, supersample=4)
    assert soft.min() >= 0 and soft.max() <= 1 and np.unique(soft).size > 2
    np.testing.assert_allclose(soft.sum(axis=(1, 2, 3)), hard.sum(axis=(1, 2, 3)), rtol=0.04)


def position_encoder(images):
    out = np.empty((images.shape[0], 2))
    for i, img in enumerate(images):
        out[i] = centroid(img.max(axis=0))
    return out


def test_sampler_protocol_conditionals_and_latents():
    sampler = DSpritesSampler(position_encoder, batch_size=7)
    assert isinstance(sampler, FactorSampler) and sampler.n_factors == 5
    f = sampler.sample_factors(50, np.random.default_rng(0))
    assert f.shape == (50, 5) and np.all(f < np.array(DSPRITES_CARDINALITIES))
    g = sampler.sample_factors_given(2, np.full(9, 17.0), np.random.default_rng(0))
    assert g.shape == (9, 5) and np.all(g[:, 2] == 17)
    z = sampler.sample_latents(f, np.random.default_rng(1))
    assert z.shape == (50, 2)
    np.testing.assert_allclose(z[:, 0], position_to_pixel(POSITIONS[f[:, 3].astype(int)]), atol=1.0)
    np.testing.assert_allclose(z[:, 1], position_to_pixel(POSITIONS[f[:, 4].astype(int)]), atol=1.0)
    assert DSpritesSampler(lambda x: x.reshape(len(x), -1)[:, :3], colour=True).n_factors == 6
    with pytest.raises(ValueError, match="factors"):
        sampler.sample_latents(np.full((2, 5), 0.5), None)


def test_sampler_drives_the_factor_vae_score():
    sampler = DSpritesSampler(position_encoder)
    res = factor_vae_score(sampler, batch_size=16, num_train=40, num_eval=20, num_variance_estimate=200,
                           rng=0)
    votes = np.asarray(res.train_votes)
    # a batch with pos_x fixed always votes for latent 0 (x centroid), pos_y for latent 1
    assert votes[3, 0] > 0 and votes[3, 1] == 0
    assert votes[4, 1] > 0 and votes[4, 0] == 0


@pytest.mark.parametrize("call, name", [
    (lambda: make_dsprites(0), "n"),
    (lambda: make_dsprites(2.5), "n"),
    (lambda: make_dsprites(3, rng="seed"), "rng"),
    (lambda: make_dsprites(3, supersample=0), "supersample"),
    (lambda: render_dsprites(np.zeros((2, 4), int)), "classes"),
    (lambda: render_dsprites(np.array([[3, 0, 0, 0, 0]])), "classes"),
    (lambda: render_dsprites(np.array([[0, 0, 40, 0, 0]])), "classes"),
    (lambda: render_dsprites(np.array([[0, 0.5, 0, 0, 0]])), "classes"),
    (lambda: render_dsprites(np.array([[0, 0, 0, 0, 0, 6]])), "classes"),
    (lambda: render_shapes(np.array([0]), -1.0, 0.0, 0.5, 0.5), "scale"),
    (lambda: render_shapes(np.array([0, 1]), 1.0, [0.0, 1.0, 2.0], 0.5, 0.5), "orientation"),
    (lambda: render_shapes(np.array([0]), 1.0, np.nan, 0.5, 0.5), "orientation"),
    (lambda: render_shapes(np.array([5]), 1.0, 0.0, 0.5, 0.5), "shape"),
    (lambda: DSpritesSampler(3), "encode"),
    (lambda: DSpritesSampler(position_encoder, batch_size=0), "batch_size"),
])
def test_bad_arguments_raise_value_error_naming_them(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_pooled_images_are_block_means_with_factors_kept():
    d = make_dsprites(5, rng=1)
    p = d.pooled(2)
    assert p.images.shape == (5, 1, 32, 32) and p.images.dtype == d.images.dtype
    n, c, i, j = 3, 0, 7, 20                                 # one block by hand
    block = d.images[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
    assert p.images[n, c, i, j] == pytest.approx(block.mean(), abs=1e-7)
    # mass is kept (mean pooling: total ink / k²) and the centroid halves
    np.testing.assert_allclose(p.images.sum(axis=(1, 2, 3)), d.images.sum(axis=(1, 2, 3)) / 4, rtol=1e-5)
    cx, cy = centroid(d.images[n, 0])
    m = p.images[n, 0]
    pcx = (m * np.arange(32)[None, :]).sum() / m.sum()
    assert pcx == pytest.approx((cx - 0.5) / 2, abs=0.25)      # floor(x/2) vs (x − ½)/2: within ¼
    assert np.array_equal(p.factors, d.factors) and p.factor_names == d.factor_names
    with pytest.raises(ValueError, match="k must be"):
        d.pooled(3)
