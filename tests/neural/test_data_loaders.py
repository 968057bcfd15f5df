"""Loaders of the real dSprites / 3D Shapes / Sprites files, round-tripped on tiny files."""

import sys

import numpy as np
import pytest

from neural.data import (SHAPES3D_FACTORS, SPRITES_ACTIONS, FactorDataset, SequenceDataset,
                         dsprites_factor_values, load_3dshapes, load_dsprites, load_sprites, render_dsprites,
                         sample_dsprites_factors)


@pytest.fixture
def dsprites_file(tmp_path):
    classes = sample_dsprites_factors(40, rng=0)
    vals = dsprites_factor_values()
    values = np.column_stack([np.ones(40), classes[:, 0] + 1.0] +
                             [vals[name][classes[:, j]] for j, name in
                              enumerate(("scale", "orientation", "pos_x", "pos_y"), start=1)])
    latents_classes = np.column_stack([np.zeros(40, int), classes])
    imgs = render_dsprites(classes)[:, 0].astype(np.uint8)
    path = tmp_path / "dsprites.npz"
    np.savez_compressed(path, imgs=imgs, latents_classes=latents_classes, latents_values=values)
    return path, imgs, classes, values


def test_dsprites_round_trip(dsprites_file):
    path, imgs, classes, values = dsprites_file
    ds = load_dsprites(path)
    assert isinstance(ds, FactorDataset) and ds.images.shape == (40, 1, 64, 64)
    np.testing.assert_array_equal(ds.images[:, 0], imgs.astype(np.float32))
    np.testing.assert_array_equal(ds.factors, classes)
    assert ds.factor_names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert ds.cardinalities == tuple(int(c) for c in classes.max(axis=0) + 1)
    for j, name in enumerate(ds.factor_names):
        np.testing.assert_array_equal(ds.factor_values[name][classes[:, j]], values[:, j + 1])
    kept = load_dsprites(str(path), keep_colour=True)
    assert kept.factor_names[-1] == "colour" and kept.cardinalities[-1] == 1
    assert np.all(kept.factors[:, -1] == 0) and np.all(kept.factor_values["colour"] == 1.0)


def test_dsprites_subsample_is_seeded_and_consistent(dsprites_file):
    path, imgs, classes, _ = dsprites_file
    a, b, c = (load_dsprites(path, max_items=7, rng=s) for s in (1, 1, 2))
    assert len(a) == 7 and np.array_equal(a.factors, b.factors) and not np.array_equal(a.factors, c.factors)
    np.testing.assert_array_equal(a.images, render_dsprites(a.factors))  # rows stay paired
    assert len(load_dsprites(path, max_items=100, rng=0)) == 40


def test_dsprites_bad_files_and_arguments(tmp_path, dsprites_file):
    path = dsprites_file[0]
    with pytest.raises(ValueError, match="path"):
        load_dsprites(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="path"):
        load_dsprites(3)
    with pytest.raises(ValueError, match="max_items"):
        load_dsprites(path, max_items=0)
    bad = tmp_path / "bad.npz"
    np.savez(bad, imgs=np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="latents_classes"):
        load_dsprites(bad)


@pytest.fixture
def shapes3d_file(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    n = 30
    grids = [np.linspace(0, 0.9, 10), np.linspace(0, 0.9, 10), np.linspace(0, 0.9, 10),
             np.linspace(0.75, 1.25, 8), np.arange(4.0), np.linspace(-30, 30, 15)]
    classes = np.column_stack([np.arange(n) % g.size for g in grids])
    labels = np.column_stack([g[classes[:, j]] for j, g in enumerate(grids)])
    images = rng.integers(0, 256, size=(n, 64, 64, 3), dtype=np.uint8)
    path = tmp_path / "3dshapes.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=images)
        f.create_dataset("labels", data=labels)
    return path, images, classes, labels


def test_3dshapes_round_trip_and_subsample(shapes3d_file):
    path, images, classes, labels = shapes3d_file
    ds = load_3dshapes(path)
    assert ds.images.shape == (30, 3, 64, 64) and ds.images.dtype == np.float32
    np.testing.assert_allclose(ds.images, images.transpose(0, 3, 1, 2) / 255.0, atol=1e-7)
    assert ds.factor_names == SHAPES3D_FACTORS and ds.cardinalities == (10, 10, 10, 8, 4, 15)
    np.testing.assert_array_equal(ds.factors, classes)
    for j, name in enumerate(SHAPES3D_FACTORS):
        np.testing.assert_allclose(ds.factor_values[name][classes[:, j]], labels[:, j])
    sub = load_3dshapes(path, max_items=5, rng=3)
    again = load_3dshapes(path, max_items=5, rng=3)
    assert len(sub) == 5 and np.array_equal(sub.images, again.images)
    rows = [int(np.flatnonzero((classes == f).all(axis=1))[0]) for f in sub.factors]
    np.testing.assert_allclose(sub.images, images[rows].transpose(0, 3, 1, 2) / 255.0, atol=1e-7)


def test_3dshapes_errors(tmp_path, monkeypatch, shapes3d_file):
    import h5py

    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f.create_dataset("images", data=np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="labels"):
        load_3dshapes(bad)
    with pytest.raises(ValueError, match="path"):
        load_3dshapes(tmp_path / "missing.h5")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match="h5py"):
        load_3dshapes(shapes3d_file[0])


@pytest.fixture
def sprites_files(tmp_path):
    rng = np.random.default_rng(1)
    n, t = 12, 8
    frames = rng.random((n, t, 16, 16, 3)).astype(np.float32)
    attr_cls = rng.integers(0, 6, size=(n, 4))
    act_cls = rng.integers(0, 9, size=n)
    attrs = np.zeros((n, t, 4, 6))
    attrs[np.arange(n)[:, None, None], np.arange(t)[None, :, None], np.arange(4)[None, None, :],
          attr_cls[:, None, :]] = 1
    acts = np.zeros((n, t, 9))
    acts[np.arange(n), :, act_cls] = 1
    paths = {k: tmp_path / f"sprites_{k}.npy" for k in "XAD"}
    np.save(paths["X"], frames)
    np.save(paths["A"], attrs)
    np.save(paths["D"], acts)
    return paths, frames, attr_cls, act_cls


def test_sprites_round_trip(sprites_files, tmp_path):
    paths, frames, attr_cls, act_cls = sprites_files
    ds = load_sprites(paths["X"], attributes_path=paths["A"], actions_path=paths["D"])
    assert isinstance(ds, SequenceDataset) and ds.sequences.shape == (12, 8, 3, 16, 16)
    np.testing.assert_array_equal(ds.sequences, frames.transpose(0, 1, 4, 2, 3))
    assert ds.factor_names == ("body", "bottom", "top", "hair", "action")
    assert ds.factor_static == (True, True, True, True, False) and ds.cardinalities == (6, 6, 6, 6, 9)
    np.testing.assert_array_equal(ds.factors[:, 3, :4], attr_cls)
    np.testing.assert_array_equal(ds.factors[:, 5, 4], act_cls)
    assert np.all(ds.factors == ds.factors[:, :1])
    assert list(ds.factor_values["action"]) == list(SPRITES_ACTIONS)
    # integer-class label files and uint8 frames
    np.save(tmp_path / "a_int.npy", attr_cls)
    np.save(tmp_path / "d_int.npy", act_cls)
    np.save(tmp_path / "x_u8.npy", (frames * 255).astype(np.uint8))
    ds2 = load_sprites(tmp_path / "x_u8.npy", attributes_path=tmp_path / "a_int.npy",
                       actions_path=tmp_path / "d_int.npy")
    np.testing.assert_array_equal(ds2.factors, ds.factors)
    np.testing.assert_allclose(ds2.sequences, ds.sequences, atol=1 / 255 + 1e-6)
    bare = load_sprites(paths["X"], max_items=4, rng=0)
    assert bare.sequences.shape == (4, 8, 3, 16, 16) and bare.n_factors == 0


def test_sprites_subsample_keeps_rows_paired(sprites_files):
    paths, frames, attr_cls, act_cls = sprites_files
    ds = load_sprites(paths["X"], attributes_path=paths["A"], actions_path=paths["D"], max_items=5, rng=7)
    for seq, f in zip(ds.sequences, ds.factors):
        row = int(np.flatnonzero(np.all(frames.transpose(0, 1, 4, 2, 3) == seq, axis=(1, 2, 3, 4)))[0])
        np.testing.assert_array_equal(f[0, :4], attr_cls[row])
        assert f[0, 4] == act_cls[row]


def test_sprites_bad_files(tmp_path, sprites_files):
    paths = sprites_files[0]
    np.save(tmp_path / "flat.npy", np.zeros((3, 16, 16, 3)))
    with pytest.raises(ValueError, match="frames_path"):
        load_sprites(tmp_path / "flat.npy")
    np.save(tmp_path / "a_bad.npy", np.zeros((12, 8, 4, 5)))
    with pytest.raises(ValueError, match="attributes_path"):
        load_sprites(paths["X"], attributes_path=tmp_path / "a_bad.npy")
    np.save(tmp_path / "d_bad.npy", np.full(12, 9))
    with pytest.raises(ValueError, match="actions_path"):
        load_sprites(paths["X"], actions_path=tmp_path / "d_bad.npy")
    with pytest.raises(ValueError, match="actions_path"):
        load_sprites(paths["X"], actions_path=tmp_path / "nope.npy")
