"""Hue ↔ RGB conversions used to colour sprites and digits (private, vectorised numpy).

Hue is measured in turns, h ∈ [0, 1): 0 red, 1/6 yellow, 1/3 green, 1/2 cyan, 2/3 blue, 5/6 magenta.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hue_to_rgb", "rgb_to_hue"]


def hue_to_rgb(hue) -> np.ndarray:
    """RGB in [0, 1] of the fully saturated, full-value colour of hue ``hue`` (turns), shape (..., 3).

    HSV → RGB with S = V = 1: channel c ∈ {R, G, B} with offset n_c ∈ {5, 3, 1} is
    1 − max(0, min(k, 4 − k, 1)), k = (n_c + 6h) mod 6.
    """
    h = np.asarray(hue, dtype=np.float64)[..., None]
    k = (np.array([5.0, 3.0, 1.0]) + 6.0 * h) % 6.0
    return 1.0 - np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def rgb_to_hue(rgb) -> np.ndarray:
    """Hue in turns [0, 1) of RGB triples (..., 3) (HSV definition; 0 for greys)."""
    rgb = np.asarray(rgb, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx, mn = rgb.max(axis=-1), rgb.min(axis=-1)
    d = np.where(mx > mn, mx - mn, 1.0)
    h = np.where(mx == r, ((g - b) / d) % 6.0,
                 np.where(mx == g, (b - r) / d + 2.0, (r - g) / d + 4.0))
    return np.where(mx > mn, h / 6.0, 0.0) % 1.0
