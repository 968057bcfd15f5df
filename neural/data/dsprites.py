r"""Procedural dSprites: 64×64 images of a square, an ellipse or a heart, rendered on the machine.

The factors and their values follow DeepMind's dSprites (no file is read; the shapes are drawn from
implicit curves, so they differ from the original bitmaps in detail):

============  =====  ================================================================  ===========
factor        card.  physical value of class k                                         kind
============  =====  ================================================================  ===========
shape         3      ``SHAPES[k]`` = square, ellipse, heart                            discrete
scale         6      ``SCALES[k]`` = 0.5 + 0.1 k  (linspace(0.5, 1, 6))                discrete
orientation   40     ``ORIENTATIONS[k]`` = 2πk/40 radians, counter-clockwise           discrete
pos_x         32     ``POSITIONS[k]`` = k/31 ∈ [0, 1], left → right                    discrete
pos_y         32     ``POSITIONS[k]`` = k/31 ∈ [0, 1], top → bottom                    discrete
colour (opt)  6      ``HUES[k]`` = k/6 turns: red, yellow, green, cyan, blue, magenta  discrete
============  =====  ================================================================  ===========

Class arrays are (N, 5) — or (N, 6) with the colour appended last — in the order above. (The
original file's 40 orientations are ``linspace(0, 2π, 40)``, whose first and last coincide; here
they are the 40 distinct angles 2πk/40.)

Geometry (pixel (row i, column j) has its centre at ((i + ½)/64, (j + ½)/64) in image units):

* the sprite's reference point — the centroid of the shape — sits at
  ``MARGIN + p (1 − 2 MARGIN)`` in image units for a position p ∈ [0, 1] (``MARGIN`` = 1/4), i.e. at
  pixel index 64 (MARGIN + p/2) − ½ ∈ [15.5, 47.5]; one position class moves it by 32/31 ≈ 1.03 px.
  Every shape at every scale and orientation stays inside the image.
* the shape's radius is R = ``BASE_RADIUS`` · scale (image units; ``BASE_RADIUS`` = 0.16, 10.24 px at
  scale 1). In the shape frame (u, v) = rotation by −θ of the offset from the centroid, with the
  image y axis turned to point up, measured in units of R, a pixel is inside when

  - square:  max(|u|, |v|) ≤ 1 (area 4R²);
  - ellipse: (u/1.3)² + (v/0.65)² ≤ 1 (major axis along u at θ = 0);
  - heart:   (a² + b² − 1)³ − a² b³ ≤ 0 with (a, b) = (u, v + ``HEART_CENTROID``) — the classic
    implicit heart, lobes up at θ = 0, shifted so that its centroid is the reference point; it is
    mirror-symmetric about its v axis.

  Areas therefore grow like scale², and a square rotated by 90° is the same square.

Images are binary (1 inside, 0 outside) with one channel; ``supersample = k`` averages k×k
sub-pixel samples instead (grey edges). With the colour factor the image has three channels,
``mask · hue_to_rgb(HUES[c])`` (fully saturated colours).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lingauss.params import InvalidParameter
from lingauss._validation import as_rng
from lingauss.metrics.factor_samplers import IndependentDiscreteSampler

from ._checks import check_count, check_int_array
from ._colour import hue_to_rgb
from .base import FactorDataset

__all__ = [
    "SHAPES", "SCALES", "ORIENTATIONS", "POSITIONS", "HUES", "IMAGE_SIZE", "MARGIN", "BASE_RADIUS",
    "HEART_CENTROID", "DSPRITES_FACTORS", "DSPRITES_CARDINALITIES",
    "dsprites_factor_values", "position_to_pixel", "render_shapes", "render_dsprites",
    "sample_dsprites_factors", "make_dsprites", "DSpritesSampler",
]

IMAGE_SIZE = 64
SHAPES = ("square", "ellipse", "heart")
SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = 2.0 * np.pi * np.arange(40) / 40.0
POSITIONS = np.linspace(0.0, 1.0, 32)
HUES = np.arange(6) / 6.0
MARGIN = 0.25
BASE_RADIUS = 0.16
#: y offset of the centroid of {(x²+y²−1)³ ≤ x²y³} above the origin (numerical, 4000² grid).
HEART_CENTROID = 0.29347
_ELLIPSE_AXES = (1.3, 0.65)

DSPRITES_FACTORS = ("shape", "scale", "orientation", "pos_x", "pos_y")
DSPRITES_CARDINALITIES = (3, 6, 40, 32, 32)
_COLOUR_CARD = len(HUES)


def _names_cards(colour: bool) -> tuple[tuple[str, ...], tuple[int, ...]]:
    if colour:
        return DSPRITES_FACTORS + ("colour",), DSPRITES_CARDINALITIES + (_COLOUR_CARD,)
    return DSPRITES_FACTORS, DSPRITES_CARDINALITIES


def dsprites_factor_values(colour: bool = False) -> dict:
    """The ``factor_values`` map: factor name → array of the physical value of each class."""
    out = {"shape": np.array(SHAPES), "scale": SCALES.copy(), "orientation": ORIENTATIONS.copy(),
           "pos_x": POSITIONS.copy(), "pos_y": POSITIONS.copy()}
    if colour:
        out["colour"] = HUES.copy()
    return out


def position_to_pixel(position) -> np.ndarray:
    """Pixel index (row for pos_y, column for pos_x) of a sprite's centroid at ``position`` ∈ [0, 1]:
    64 (MARGIN + position (1 − 2 MARGIN)) − ½."""
    return IMAGE_SIZE * (MARGIN + np.asarray(position, dtype=np.float64) * (1.0 - 2.0 * MARGIN)) - 0.5


def _inside(shape_id: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    if shape_id == 0:
        return np.maximum(np.abs(u), np.abs(v)) <= 1.0
    if shape_id == 1:
        a, b = _ELLIPSE_AXES
        return (u / a) ** 2 + (v / b) ** 2 <= 1.0
    b = v + np.float32(HEART_CENTROID)
    a2 = u * u
    w = a2 + b * b - 1.0
    return w * w * w - a2 * b * b * b <= 0.0


def _as_vector(value, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1:
        raise InvalidParameter(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameter(f"{name} contains NaN or inf")
    return arr


def render_shapes(shape, scale, orientation, pos_x, pos_y, hue=None, *, supersample: int = 1,
                  chunk: int | None = None) -> np.ndarray:
    """Render sprites from *physical* factor values (vectorised over the batch).

    Parameters
    ----------
    shape : int array (N,)
        0 square, 1 ellipse, 2 heart.
    scale : float array (N,) or scalar
        Size multiplier, > 0; the radius is ``BASE_RADIUS · scale`` image units. Shapes larger than
        scale 1 may be cut by the border.
    orientation : float array (N,) or scalar
        Angle θ in radians, counter-clockwise as displayed.
    pos_x, pos_y : float arrays (N,) or scalars
        Positions in [0, 1] (values outside move the sprite towards/over the border); see
        :func:`position_to_pixel`.
    hue : float array (N,), scalar or None
        Colour hue in turns; ``None`` gives one channel, otherwise three (``mask · hue_to_rgb(hue)``).
    supersample : int ≥ 1
        k×k sub-pixel samples per pixel (1: binary images).
    chunk : int ≥ 1 or None
        Images evaluated at once (memory ≈ 5 · chunk · (64 k)² · 4 bytes); ``None``: 256 // k²
        (small chunks stay in cache and are fastest).

    Returns
    -------
    float32 array (N, C, 64, 64) in [0, 1], C = 1 or 3.
    """
    shape_arr = np.asarray(shape)
    if shape_arr.ndim != 1 or shape_arr.dtype.kind not in "iuf" or \
            not np.all(np.isin(shape_arr, (0, 1, 2))):
        raise InvalidParameter("shape must be a 1-D array of shape ids in {0, 1, 2}")
    n = shape_arr.shape[0]
    shape_arr = shape_arr.astype(np.int64)
    k = check_count(supersample, "supersample")
    if k > 255:
        raise InvalidParameter(f"supersample must be <= 255, got {supersample!r}")
    chunk = max(1, 256 // (k * k)) if chunk is None else check_count(chunk, "chunk")
    cols = {}
    for name, val in (("scale", scale), ("orientation", orientation), ("pos_x", pos_x),
                      ("pos_y", pos_y)):
        arr = _as_vector(val, name)
        try:
            cols[name] = np.broadcast_to(arr, (n,))
        except ValueError:
            raise InvalidParameter(f"{name} must broadcast to the {n} sprites, got shape {arr.shape}") from None
    if np.any(cols["scale"] <= 0):
        raise InvalidParameter("scale must be > 0")
    hues = None
    if hue is not None:
        harr = _as_vector(hue, "hue")
        try:
            hues = np.broadcast_to(harr, (n,))
        except ValueError:
            raise InvalidParameter(f"hue must broadcast to the {n} sprites, got shape {harr.shape}") from None

    size = IMAGE_SIZE
    fine = size * k
    grid = ((np.arange(fine) + 0.5) / fine).astype(np.float32)
    mask = np.empty((n, size, size), dtype=np.float32)
    radius = BASE_RADIUS * cols["scale"]
    centre_x = MARGIN + cols["pos_x"] * (1.0 - 2.0 * MARGIN)
    centre_y = MARGIN + cols["pos_y"] * (1.0 - 2.0 * MARGIN)
    cos_t, sin_t = np.cos(cols["orientation"]), np.sin(cols["orientation"])
    for shape_id in range(3):
        rows = np.flatnonzero(shape_arr == shape_id)
        for start in range(0, rows.size, chunk):
            idx = rows[start:start + chunk]
            inv_r = (1.0 / radius[idx]).astype(np.float32)[:, None, None]
            dx = (grid[None, None, :] - centre_x[idx].astype(np.float32)[:, None, None]) * inv_r
            dy = (centre_y[idx].astype(np.float32)[:, None, None] - grid[None, :, None]) * inv_r  # y up
            c = cos_t[idx].astype(np.float32)[:, None, None]
            s = sin_t[idx].astype(np.float32)[:, None, None]
            u = c * dx + s * dy
            v = c * dy - s * dx
            inside = _inside(shape_id, u, v)
            if k == 1:
                mask[idx] = inside
            else:  # average the k×k sub-pixels (strided adds: much faster than a reshaped mean)
                sub = inside.view(np.uint8).reshape(idx.size, size, k, size, k)
                acc = np.zeros((idx.size, size, size), dtype=np.uint16)
                for a in range(k):
                    for b in range(k):
                        acc += sub[:, :, a, :, b]
                mask[idx] = acc * np.float32(1.0 / (k * k))
    if hues is None:
        return mask[:, None]
    rgb = hue_to_rgb(hues).astype(np.float32)  # (N, 3)
    return mask[:, None] * rgb[:, :, None, None]


def render_dsprites(classes, *, supersample: int = 1) -> np.ndarray:
    """Render dSprites from class indices.

    Parameters
    ----------
    classes : int array (N, 5) or (N, 6)
        Columns shape, scale, orientation, pos_x, pos_y [, colour] (see the module table); whole
        floats are accepted.
    supersample : int ≥ 1
        See :func:`render_shapes`.

    Returns
    -------
    float32 array (N, 1, 64, 64) — or (N, 3, 64, 64) with the colour column — in [0, 1].
    """
    arr = np.asarray(classes)
    colour = arr.ndim == 2 and arr.shape[1] == len(DSPRITES_FACTORS) + 1
    cls = check_int_array(classes, "classes", _names_cards(colour)[1])
    hue = HUES[cls[:, 5]] if colour else None
    return render_shapes(cls[:, 0], SCALES[cls[:, 1]], ORIENTATIONS[cls[:, 2]], POSITIONS[cls[:, 3]],
                         POSITIONS[cls[:, 4]], hue, supersample=supersample)


def sample_dsprites_factors(n: int, rng=None, *, colour: bool = False) -> np.ndarray:
    """``n`` independent uniform draws of the factor classes, int64 (n, 5) or (n, 6) with colour."""
    n = check_count(n, "n")
    gen = as_rng(rng)
    cards = _names_cards(bool(colour))[1]
    return np.column_stack([gen.integers(0, c, size=n) for c in cards]).astype(np.int64)


def make_dsprites(n: int, *, rng=None, colour: bool = False, supersample: int = 1) -> FactorDataset:
    """A procedural dSprites dataset of ``n`` images with uniformly drawn, independent factors.

    Parameters
    ----------
    n : int ≥ 1
        Number of images.
    rng : numpy Generator, int seed or None
        Same seed, same dataset.
    colour : bool
        Add the colour factor (6 hues, three channels); otherwise one channel.
    supersample : int ≥ 1
        See :func:`render_shapes`.

    Returns
    -------
    FactorDataset with images (n, C, 64, 64) float32, factors (n, 5|6) = the classes (as float),
    all factors discrete, and ``factor_values`` = :func:`dsprites_factor_values`.
    """
    classes = sample_dsprites_factors(n, rng, colour=colour)
    images = render_dsprites(classes, supersample=supersample)
    names, cards = _names_cards(bool(colour))
    return FactorDataset(images, classes.astype(np.float64), names, ("discrete",) * len(names), cards,
                         dsprites_factor_values(bool(colour)),
                         "colour-dsprites" if colour else "dsprites")


class DSpritesSampler(IndependentDiscreteSampler):
    """Factor-conditional sampler of procedural dSprites for the BetaVAE / FactorVAE scores.

    Implements :class:`lingauss.metrics.factor_samplers.FactorSampler`: independent uniform factor
    classes (``sample_factors``, ``sample_factors_given`` — sample all, overwrite column ``index``),
    and ``sample_latents(factors, rng)`` = ``encode(render_dsprites(factors))``, rendered and
    encoded ``batch_size`` images at a time.

    Parameters
    ----------
    encode : callable ``images -> latents``
        Maps float32 images (b, C, 64, 64) to a numeric (b, m) array (e.g. a trained encoder's
        means, converted to numpy). A stochastic encoder draws its own noise.
    colour : bool
        Include the colour factor (6 factors, three-channel images).
    batch_size : int ≥ 1
        Images rendered and encoded per call of ``encode``.
    supersample : int ≥ 1
        See :func:`render_shapes`.
    """

    def __init__(self, encode: Callable[[np.ndarray], np.ndarray], *, colour: bool = False,
                 batch_size: int = 1024, supersample: int = 1):
        if not callable(encode):
            raise InvalidParameter(f"encode must be callable images -> latents, got {encode!r}")
        self.batch_size = check_count(batch_size, "batch_size")
        self.supersample = check_count(supersample, "supersample")
        self.colour = bool(colour)
        self.image_encode = encode
        self.factor_names = _names_cards(self.colour)[0]
        super().__init__(_names_cards(self.colour)[1], self._render_encode)

    def _render_encode(self, factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        classes = check_int_array(factors, "factors", self.num_values)
        out = []
        for start in range(0, classes.shape[0], self.batch_size):
            images = render_dsprites(classes[start:start + self.batch_size], supersample=self.supersample)
            lat = np.asarray(self.image_encode(images), dtype=np.float64)
            if lat.ndim == 1:
                lat = lat[:, None]
            out.append(lat)
        return np.concatenate(out, axis=0)

    def __repr__(self) -> str:
        return f"DSpritesSampler(colour={self.colour}, batch_size={self.batch_size})"
