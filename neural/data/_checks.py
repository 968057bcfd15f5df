"""Argument checks shared by the dataset builders of :mod:`neural.data` (private).

Every public function validates at its boundary and raises a ``ValueError`` naming the bad
argument; generation code then trusts its inputs.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from lingauss.params import InvalidParameter

__all__ = ["check_count", "check_optional_count", "check_positive", "check_finite", "check_int_array",
           "check_choice", "check_path", "subsample_index"]


def _is_int(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_count(value, name: str, *, minimum: int = 1) -> int:
    """``value`` as an ``int`` ≥ ``minimum``, else ``ValueError`` naming ``name``."""
    if not _is_int(value) or value < minimum:
        raise InvalidParameter(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_optional_count(value, name: str, *, minimum: int = 1) -> int | None:
    return None if value is None else check_count(value, name, minimum=minimum)


def _as_real(value, name: str) -> float:
    """``value`` as a float (not a bool or a string), else ``ValueError`` naming ``name``."""
    try:
        if isinstance(value, (bool, np.bool_, str, bytes)):
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        raise InvalidParameter(f"{name} must be a real number, got {value!r}") from None


def check_positive(value, name: str, *, strict: bool = True) -> float:
    """``value`` as a finite float > 0 (``strict``) or ≥ 0, else ``ValueError`` naming ``name``."""
    out = _as_real(value, name)
    if not np.isfinite(out) or (out <= 0 if strict else out < 0):
        raise InvalidParameter(f"{name} must be a finite number {'>' if strict else '>='} 0, got {value!r}")
    return out


def check_finite(value, name: str) -> float:
    """``value`` as a finite float, else ``ValueError`` naming ``name``."""
    out = _as_real(value, name)
    if not np.isfinite(out):
        raise InvalidParameter(f"{name} must be finite, got {value!r}")
    return out


def check_int_array(value, name: str, cardinalities, *, ndim: int = 2) -> np.ndarray:
    """``value`` as an int64 array whose last axis holds one class index per factor.

    Floats are accepted when they are whole numbers (factors are stored as floats in the
    datasets); entry ``[..., j]`` must lie in ``0..cardinalities[j]-1``.
    """
    try:
        arr = np.asarray(value)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise TypeError
    except (TypeError, ValueError):
        raise InvalidParameter(f"{name} must be a numeric array of class indices") from None
    if arr.ndim != ndim or arr.shape[-1] != len(cardinalities):
        raise InvalidParameter(f"{name} must have {ndim} axes with {len(cardinalities)} columns "
                         f"(one per factor), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise InvalidParameter(f"{name} must hold whole-number class indices")
    out = arr.astype(np.int64)
    cards = np.asarray(cardinalities, dtype=np.int64)
    bad = (out < 0) | (out >= cards)
    if np.any(bad):
        j = int(np.argwhere(bad)[0][-1])
        raise InvalidParameter(f"{name} column {j} must lie in 0..{cards[j] - 1}, "
                         f"got values in [{out[..., j].min()}, {out[..., j].max()}]")
    return out


def check_choice(value, name: str, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidParameter(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_path(value, name: str) -> str:
    """An existing file path, else ``ValueError`` naming ``name``."""
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidParameter(f"{name} must be a file path, got {type(value).__name__}")
    path = os.fspath(value)
    if not os.path.isfile(path):
        raise InvalidParameter(f"{name} does not name an existing file: {path!r}")
    return path


def subsample_index(n_total: int, max_items: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted row indices: all rows, or ``max_items`` distinct rows drawn uniformly by ``rng``."""
    if max_items is None or max_items >= n_total:
        return np.arange(n_total)
    return np.sort(rng.choice(n_total, size=max_items, replace=False))
