r"""Loaders for the real datasets, for users who have the files (nothing is downloaded).

==================  ==========================================================================
function            file layout supported
==================  ==========================================================================
``load_dsprites``   DeepMind's ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``: keys ``imgs``
                    (N, 64, 64) uint8 in {0, 1}, ``latents_classes`` (N, 6) int,
                    ``latents_values`` (N, 6) float, columns color, shape, scale, orientation,
                    posX, posY. The constant ``color`` column is dropped by default, giving the
                    5-factor layout of :func:`neural.data.dsprites.make_dsprites`;
                    ``keep_colour=True`` keeps it as a last column ``colour``.
``load_3dshapes``   DeepMind's ``3dshapes.h5``: datasets ``images`` (N, 64, 64, 3) uint8 and
                    ``labels`` (N, 6) float — floor_hue, wall_hue, object_hue, scale, shape,
                    orientation (physical values). Needs ``h5py`` (imported lazily).
``load_sprites``    the Sprites arrays of Li & Mandt's ``load_sprites.sprites_act`` as saved by
                    SKD: frames ``sprites_X_*.npy`` (N, T, H, W, C) float in [0, 1] (uint8 in
                    [0, 255] also accepted); optional attributes ``sprites_A_*.npy`` (N, T, 4, 6)
                    one-hot — body, bottom, top, hair, 6 classes each — or (N, 4) class indices;
                    optional actions ``sprites_D_*.npy`` (N, T, 9) one-hot — class 3·action +
                    direction, actions (walk, spellcard, slash), directions (front, left, right)
                    — or (N,) class indices.
==================  ==========================================================================

Discrete factors are stored as class indices (as float) with ``factor_values`` giving the physical
value (or name) of each class. ``max_items`` keeps a uniform random subset of that many rows (drawn
by ``rng``, kept in file order) — the full dSprites is 737,280 images, ≈ 12 GB as float32.
"""

from __future__ import annotations

import numpy as np

from lingauss.params import InvalidParameter, MissingDependency
from lingauss._validation import as_rng

from ._checks import check_optional_count, check_path, subsample_index
from .base import FactorDataset, SequenceDataset

__all__ = ["load_dsprites", "load_3dshapes", "load_sprites", "SHAPES3D_FACTORS", "SPRITES_ATTRIBUTES",
           "SPRITES_ACTIONS"]

_DSPRITES_NAMES = ("colour", "shape", "scale", "orientation", "pos_x", "pos_y")
SHAPES3D_FACTORS = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
SPRITES_ATTRIBUTES = ("body", "bottom", "top", "hair")
SPRITES_ACTIONS = tuple(f"{a} {d}" for a in ("walk", "spellcard", "slash")
                        for d in ("front", "left", "right"))


def _to_unit_float(arr: np.ndarray, name: str, *, binary: bool = False) -> np.ndarray:
    """uint8 [0, 255] → /255 (with ``binary``, a uint8 mask in {0, 1} stays 0/1); floats must
    already lie in [0, 1]."""
    arr = np.asarray(arr)
    if arr.dtype == np.uint8:
        scale = 1.0 if binary and (arr.size == 0 or arr.max() <= 1) else 255.0
        return arr.astype(np.float32) / np.float32(scale)
    out = arr.astype(np.float32)
    if out.size and (not np.all(np.isfinite(out)) or out.min() < 0 or out.max() > 1.0 + 1e-6):
        raise InvalidParameter(f"{name} must be uint8 or floats in [0, 1]")
    return out


def _load_key(archive, key: str, path: str):
    if key not in archive.files:
        raise InvalidParameter(f"path {path!r} has no array {key!r} (found {sorted(archive.files)})")
    return archive[key]


def load_dsprites(path, *, max_items: int | None = None, rng=None, keep_colour: bool = False) -> FactorDataset:
    """The dSprites ``.npz`` as a :class:`FactorDataset` (layout in the module table).

    Parameters
    ----------
    path : str or PathLike
        The ``.npz`` file.
    max_items : int ≥ 1 or None
        Keep a uniform random subset of this many images (``None``: all).
    rng : numpy Generator, int seed or None
        Draws the subset.
    keep_colour : bool
        Keep dSprites' constant colour latent as a last factor ``colour`` (cardinality 1).

    Returns
    -------
    FactorDataset: images (N, 1, 64, 64) float32 in [0, 1]; factors = the latent classes, columns
    shape, scale, orientation, pos_x, pos_y [, colour]; cardinalities = 1 + the largest class of
    each column in the file; ``factor_values[name][k]`` = the file's value of class k.
    """
    path = check_path(path, "path")
    max_items = check_optional_count(max_items, "max_items")
    gen = as_rng(rng)
    with np.load(path, allow_pickle=False) as archive:
        classes = np.asarray(_load_key(archive, "latents_classes", path))
        values = np.asarray(_load_key(archive, "latents_values", path), dtype=np.float64)
        imgs = _load_key(archive, "imgs", path)
    if imgs.ndim != 3 or classes.ndim != 2 or classes.shape[1] != 6 or values.shape != classes.shape \
            or classes.shape[0] != imgs.shape[0]:
        raise InvalidParameter(f"path {path!r} must hold imgs (N, H, W), latents_classes and latents_values "
                         f"(N, 6); got {imgs.shape}, {classes.shape}, {values.shape}")
    classes = classes.astype(np.int64)
    if classes.size and classes.min() < 0:
        raise InvalidParameter(f"path {path!r}: latents_classes must be non-negative")
    cards = classes.max(axis=0) + 1 if classes.size else np.ones(6, dtype=np.int64)
    table = {}
    for j, name in enumerate(_DSPRITES_NAMES):
        vals = np.full(int(cards[j]), np.nan)
        vals[classes[:, j]] = values[:, j]
        table[name] = vals
    idx = subsample_index(classes.shape[0], max_items, gen)
    order = [1, 2, 3, 4, 5] + ([0] if keep_colour else [])
    names = tuple(_DSPRITES_NAMES[j] for j in order)
    images = _to_unit_float(imgs[idx], "imgs", binary=True)[:, None]
    return FactorDataset(images, classes[idx][:, order].astype(np.float64), names,
                         ("discrete",) * len(order), tuple(int(cards[j]) for j in order),
                         {name: table[name] for name in names}, "dsprites")


def load_3dshapes(path, *, max_items: int | None = None, rng=None) -> FactorDataset:
    """The 3D Shapes ``.h5`` as a :class:`FactorDataset` (layout in the module table).

    Parameters
    ----------
    path : str or PathLike
        The ``.h5`` file.
    max_items : int ≥ 1 or None
        Keep a uniform random subset of this many images (``None``: all 480,000, ≈ 23 GB as float32).
    rng : numpy Generator, int seed or None
        Draws the subset.

    Returns
    -------
    FactorDataset: images (N, 3, 64, 64) float32 in [0, 1]; factors = class indices — the rank of
    each label among the distinct values of its column in the file (e.g. 10 hues, 8 scales,
    4 shapes, 15 orientations); ``factor_values[name]`` = those sorted distinct values.
    """
    path = check_path(path, "path")
    max_items = check_optional_count(max_items, "max_items")
    gen = as_rng(rng)
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover — exercised only without h5py
        raise MissingDependency("load_3dshapes needs h5py: pip install h5py (it is in the `test` extra)") from exc
    with h5py.File(path, "r") as f:
        for key in ("images", "labels"):
            if key not in f:
                raise InvalidParameter(f"path {path!r} has no dataset {key!r} (found {sorted(f.keys())})")
        labels = np.asarray(f["labels"][()], dtype=np.float64)
        n_total = f["images"].shape[0]
        if f["images"].ndim != 4 or labels.shape != (n_total, 6):
            raise InvalidParameter(f"path {path!r} must hold images (N, H, W, 3) and labels (N, 6); got "
                             f"{f['images'].shape} and {labels.shape}")
        idx = subsample_index(n_total, max_items, gen)
        images = f["images"][()] if idx.size == n_total else f["images"][idx]
    classes, table, cards = [], {}, []
    for j, name in enumerate(SHAPES3D_FACTORS):
        uniq, inv = np.unique(labels[:, j], return_inverse=True)
        classes.append(inv.reshape(-1))
        table[name] = uniq
        cards.append(int(uniq.size))
    factors = np.column_stack(classes)[idx].astype(np.float64)
    images = _to_unit_float(images, "images").transpose(0, 3, 1, 2)
    return FactorDataset(np.ascontiguousarray(images), factors, SHAPES3D_FACTORS, ("discrete",) * 6,
                         tuple(cards), table, "3dshapes")


def _classes_from(arr: np.ndarray, name: str, n: int, per_sequence_axes: int, n_classes: int) -> np.ndarray:
    """One-hot (N, T, ..., K) → per-sequence argmax at frame 0, or integer classes as given."""
    if arr.dtype.kind == "f" and arr.ndim == per_sequence_axes + 2:
        if arr.shape[0] != n or arr.shape[-1] != n_classes:
            raise InvalidParameter(f"{name} one-hot must have shape (N={n}, T, ..., {n_classes}), got {arr.shape}")
        return np.argmax(arr[:, 0], axis=-1).reshape(n, -1)
    if arr.dtype.kind in "iu" and arr.ndim == per_sequence_axes and arr.shape[0] == n:
        out = arr.astype(np.int64).reshape(n, -1)
        if out.size and (out.min() < 0 or out.max() >= n_classes):
            raise InvalidParameter(f"{name} classes must lie in 0..{n_classes - 1}")
        return out
    raise InvalidParameter(f"{name} must be one-hot floats (N, T, ..., {n_classes}) or integer classes, "
                     f"got dtype {arr.dtype} and shape {arr.shape}")


def load_sprites(frames_path, *, attributes_path=None, actions_path=None, max_items: int | None = None,
                 rng=None) -> SequenceDataset:
    """The Sprites ``.npy`` arrays as a :class:`SequenceDataset` (layout in the module table).

    Parameters
    ----------
    frames_path : str or PathLike
        ``.npy`` of frames (N, T, H, W, C), float in [0, 1] or uint8. Memory-mapped, so a subset
        reads only its rows.
    attributes_path : str, PathLike or None
        ``.npy`` of attributes: (N, T, 4, 6) one-hot floats (the class at frame 0 is used) or
        (N, 4) integer classes, columns body, bottom, top, hair.
    actions_path : str, PathLike or None
        ``.npy`` of actions: (N, T, 9) one-hot floats or (N,) integer classes (``SPRITES_ACTIONS``).
    max_items : int ≥ 1 or None
        Keep a uniform random subset of this many sequences.
    rng : numpy Generator, int seed or None
        Draws the subset.

    Returns
    -------
    SequenceDataset: sequences (N, T, C, H, W) float32; factors (N, T, s), repeated over frames:
    body, bottom, top, hair (static, 6 classes) if attributes are given, then action (9 classes,
    flagged dynamic — the motion factor — though constant along a Sprites sequence) if actions
    are given. Without label files s = 0.
    """
    frames_path = check_path(frames_path, "frames_path")
    max_items = check_optional_count(max_items, "max_items")
    gen = as_rng(rng)
    frames = np.load(frames_path, mmap_mode="r", allow_pickle=False)
    if frames.ndim != 5:
        raise InvalidParameter(f"frames_path must hold an (N, T, H, W, C) array, got shape {frames.shape}")
    n, t = frames.shape[:2]
    idx = subsample_index(n, max_items, gen)
    cols, names, cards, static, values = [], [], [], [], {}
    if attributes_path is not None:
        attrs = np.load(check_path(attributes_path, "attributes_path"), allow_pickle=False)
        a = _classes_from(attrs, "attributes_path", n, 2, 6)
        if a.shape[1] != len(SPRITES_ATTRIBUTES):
            raise InvalidParameter(f"attributes_path must hold {len(SPRITES_ATTRIBUTES)} attributes, got {a.shape[1]}")
        cols.append(a[idx])
        names += SPRITES_ATTRIBUTES
        cards += [6] * 4
        static += [True] * 4
    if actions_path is not None:
        acts = np.load(check_path(actions_path, "actions_path"), allow_pickle=False)
        cols.append(_classes_from(acts, "actions_path", n, 1, len(SPRITES_ACTIONS))[idx])
        names.append("action")
        cards.append(len(SPRITES_ACTIONS))
        static.append(False)
        values["action"] = np.array(SPRITES_ACTIONS)
    m = idx.size
    labels = np.concatenate(cols, axis=1) if cols else np.zeros((m, 0), dtype=np.int64)
    factors = np.broadcast_to(labels[:, None, :].astype(np.float64), (m, t, labels.shape[1])).copy()
    seq = _to_unit_float(np.asarray(frames[idx]), "frames_path").transpose(0, 1, 4, 2, 3)
    return SequenceDataset(np.ascontiguousarray(seq), factors, tuple(names), ("discrete",) * len(names),
                           tuple(cards), tuple(static), values, "sprites")
