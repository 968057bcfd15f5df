"""The one dataset interface every model, the trainer, the bridge and the swap metrics use.

A dataset holds its arrays in memory as numpy (float32 images in [0, 1], channels first) and knows
its ground-truth factors:

* :class:`FactorDataset` — single images ``images`` (N, C, H, W) with ``factors`` (N, s).
* :class:`SequenceDataset` — sequences ``sequences`` (N, T, C, H, W) with ``factors`` (N, T, s);
  ``factor_static[j]`` says whether factor j is *static content* (shape, colour, scale, digit:
  constant along every sequence) or *dynamic* (motion, transformation parameters) — the SKD/MSD
  convention. A dynamic factor may still happen to be constant within a sequence (a velocity
  under wrap-around, a Sprites action label).

Factor metadata (``factor_names``, ``factor_kinds`` ∈ {"discrete", "continuous"},
``cardinalities`` — the number of classes of a discrete factor, ``0`` for a continuous one) is
shared. Discrete factors are stored as their class index (0..card−1, as float) in ``factors``;
``factor_values`` optionally maps a class to its physical value (e.g. a scale or an angle).
Both classes are torch-free: :meth:`torch_dataset` wraps the arrays for a DataLoader on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lingauss.params import InvalidParameter

__all__ = ["FactorDataset", "SequenceDataset", "FACTOR_KINDS"]

FACTOR_KINDS = ("discrete", "continuous")


def _check_meta(s: int, names, kinds, cards) -> None:
    if len(names) != s or len(kinds) != s or len(cards) != s:
        raise InvalidParameter(f"factor_names, factor_kinds and cardinalities must each have {s} entries, "
                         f"got {len(names)}, {len(kinds)}, {len(cards)}")
    bad = [k for k in kinds if k not in FACTOR_KINDS]
    if bad:
        raise InvalidParameter(f"factor_kinds must be in {FACTOR_KINDS}, got {bad}")
    for k, c in zip(kinds, cards):
        if (k == "discrete") != (int(c) > 0):
            raise InvalidParameter("cardinalities must be > 0 for discrete factors and 0 for continuous ones")


@dataclass(frozen=True, eq=False)
class FactorDataset:
    """Images with ground-truth factors (see module doc)."""

    images: np.ndarray
    factors: np.ndarray
    factor_names: tuple[str, ...]
    factor_kinds: tuple[str, ...]
    cardinalities: tuple[int, ...]
    factor_values: dict = field(default_factory=dict)
    name: str = "dataset"

    def __post_init__(self) -> None:
        if self.images.ndim != 4:
            raise InvalidParameter(f"images must be (N, C, H, W), got shape {self.images.shape}")
        if self.factors.ndim != 2 or self.factors.shape[0] != self.images.shape[0]:
            raise InvalidParameter(f"factors must be (N, s) with N = {self.images.shape[0]}, got {self.factors.shape}")
        _check_meta(self.factors.shape[1], self.factor_names, self.factor_kinds, self.cardinalities)

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def n_factors(self) -> int:
        return self.factors.shape[1]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def subset(self, index) -> "FactorDataset":
        """The rows ``index`` (an int array, slice or boolean mask) as a new dataset."""
        return FactorDataset(self.images[index], self.factors[index], self.factor_names,
                             self.factor_kinds, self.cardinalities, self.factor_values, self.name)

    def pooled(self, k: int) -> "FactorDataset":
        """The same dataset with every image shrunk by ``k × k`` mean pooling (``H`` and ``W`` must
        be multiples of ``k``): ``out[n, c, i, j] = mean_{a, b < k} images[n, c, k·i + a, k·j + b]``.
        Factors and metadata are unchanged — a 64 × 64 dSprites image pooled with ``k = 2`` is a
        32 × 32 image of the same scene (anti-aliased by the averaging)."""
        k = int(k)
        n, c, h, w = self.images.shape
        if k < 1 or h % k or w % k:
            raise InvalidParameter(f"k must be a positive divisor of the image size {h}×{w}, got {k}")
        images = self.images.reshape(n, c, h // k, k, w // k, k).mean(axis=(3, 5), dtype=np.float64)
        return FactorDataset(images.astype(self.images.dtype), self.factors, self.factor_names,
                             self.factor_kinds, self.cardinalities, self.factor_values, self.name)

    def torch_dataset(self):
        """A ``torch.utils.data.TensorDataset`` of (images, factors) as float32 tensors."""
        import torch

        return torch.utils.data.TensorDataset(torch.from_numpy(np.ascontiguousarray(self.images, np.float32)),
                                              torch.from_numpy(np.ascontiguousarray(self.factors, np.float32)))


@dataclass(frozen=True, eq=False)
class SequenceDataset:
    """Sequences of frames with per-frame ground-truth factors (see module doc)."""

    sequences: np.ndarray
    factors: np.ndarray
    factor_names: tuple[str, ...]
    factor_kinds: tuple[str, ...]
    cardinalities: tuple[int, ...]
    factor_static: tuple[bool, ...]
    factor_values: dict = field(default_factory=dict)
    name: str = "sequences"

    def __post_init__(self) -> None:
        if self.sequences.ndim != 5:
            raise InvalidParameter(f"sequences must be (N, T, C, H, W), got shape {self.sequences.shape}")
        if self.factors.ndim != 3 or self.factors.shape[:2] != self.sequences.shape[:2]:
            raise InvalidParameter(f"factors must be (N, T, s) matching sequences {self.sequences.shape[:2]}, "
                             f"got {self.factors.shape}")
        s = self.factors.shape[2]
        _check_meta(s, self.factor_names, self.factor_kinds, self.cardinalities)
        if len(self.factor_static) != s:
            raise InvalidParameter(f"factor_static must have {s} entries, got {len(self.factor_static)}")

    def __len__(self) -> int:
        return self.sequences.shape[0]

    @property
    def n_frames(self) -> int:
        return self.sequences.shape[1]

    @property
    def n_factors(self) -> int:
        return self.factors.shape[2]

    @property
    def static_factors(self) -> np.ndarray:
        """(N, s_static): the static factors, one row per sequence."""
        return self.factors[:, 0, np.array(self.factor_static, dtype=bool)]

    def subset(self, index) -> "SequenceDataset":
        return SequenceDataset(self.sequences[index], self.factors[index], self.factor_names,
                               self.factor_kinds, self.cardinalities, self.factor_static,
                               self.factor_values, self.name)

    def frames(self) -> FactorDataset:
        """Every frame as a single image with its per-frame factors (N·T rows)."""
        N, T = self.sequences.shape[:2]
        return FactorDataset(self.sequences.reshape(N * T, *self.sequences.shape[2:]),
                             self.factors.reshape(N * T, -1), self.factor_names, self.factor_kinds,
                             self.cardinalities, self.factor_values, self.name + "-frames")

    def torch_dataset(self):
        import torch

        return torch.utils.data.TensorDataset(torch.from_numpy(np.ascontiguousarray(self.sequences, np.float32)),
                                              torch.from_numpy(np.ascontiguousarray(self.factors, np.float32)))
