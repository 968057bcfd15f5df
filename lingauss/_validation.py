"""Argument checks shared by the public functions of :mod:`lingauss`.

Every public function validates at its boundary and raises a ``ValueError`` that names the bad
argument; the internal kernels then trust their inputs.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from lingauss.params import InvalidParameter

__all__ = [
    "as_matrix",
    "as_spd",
    "as_finite_scalar",
    "as_rng",
    "symmetry_tolerance",
]


def symmetry_tolerance(mat: np.ndarray) -> float:
    """Absolute tolerance for ``‖M − Mᵀ‖_max``: 1e-8 relative to the largest entry."""
    scale = float(np.max(np.abs(mat), initial=0.0))
    return 1e-8 * max(scale, 1.0)


def as_matrix(value, name: str, *, shape: tuple[int | None, int | None] | None = None,
              batch: bool = False) -> np.ndarray:
    """Return ``value`` as a finite float64 array with two trailing axes.

    ``shape`` fixes the trailing shape (``None`` leaves an axis free). With ``batch=False`` the
    array must be exactly 2-D; with ``batch=True`` leading axes are allowed.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameter(f"{name} must be a real numeric matrix ({exc})") from None
    if arr.ndim < 2 or (not batch and arr.ndim != 2):
        want = "a matrix with two trailing axes" if batch else "a 2-D matrix"
        raise InvalidParameter(f"{name} must be {want}, got shape {arr.shape}")
    if shape is not None:
        for axis, want in zip(arr.shape[-2:], shape):
            if want is not None and axis != want:
                raise InvalidParameter(
                    f"{name} must have trailing shape {tuple('*' if w is None else w for w in shape)},"
                    f" got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameter(f"{name} contains NaN or inf")
    return arr


def as_spd(value, name: str, *, size: int | None = None, batch: bool = False) -> np.ndarray:
    """Return ``value`` as a symmetric positive-definite float64 matrix (or batch of them).

    Raises ``ValueError`` naming ``name`` when it is not square, not symmetric (relative tolerance
    1e-8), contains NaN/inf, or is not positive definite (Cholesky fails).
    """
    arr = as_matrix(value, name, shape=(size, size), batch=batch)
    if arr.shape[-1] != arr.shape[-2]:
        raise InvalidParameter(f"{name} must be square, got shape {arr.shape}")
    if arr.shape[-1] == 0:
        raise InvalidParameter(f"{name} must not be empty, got shape {arr.shape}")
    asym = np.max(np.abs(arr - np.swapaxes(arr, -1, -2)), initial=0.0)
    if asym > symmetry_tolerance(arr):
        raise InvalidParameter(f"{name} must be symmetric (max |M - M^T| = {asym:.3g})")
    arr = 0.5 * (arr + np.swapaxes(arr, -1, -2))
    try:
        np.linalg.cholesky(arr)
    except np.linalg.LinAlgError:
        eig = np.linalg.eigvalsh(arr).min()
        raise InvalidParameter(f"{name} must be positive definite (smallest eigenvalue {eig:.3g})") from None
    return arr


def as_finite_scalar(value, name: str, *, minimum: float | None = None,
                     strict: bool = False, batch: bool = False) -> np.ndarray | float:
    """Return ``value`` as a finite float (or float array with ``batch=True``), checking a lower bound."""
    arr = np.asarray(value, dtype=np.float64) if not isinstance(value, str) else None
    if arr is None or (not batch and arr.ndim != 0):
        raise InvalidParameter(f"{name} must be a real scalar, got {value!r}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameter(f"{name} must be finite, got {value!r}")
    if minimum is not None:
        bad = arr <= minimum if strict else arr < minimum
        if np.any(bad):
            rel = ">" if strict else ">="
            raise InvalidParameter(f"{name} must be {rel} {minimum}, got {value!r}")
    return float(arr) if arr.ndim == 0 else arr


def as_rng(rng) -> np.random.Generator:
    """``numpy.random.Generator`` from a Generator, a non-negative integer seed, a ``SeedSequence``
    or ``None`` (fresh entropy); anything else is a ValueError naming ``rng``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)):
        raise InvalidParameter(f"rng must be a numpy Generator, a non-negative int seed or None, got {rng!r}")
    if isinstance(rng, numbers.Integral) and rng < 0:
        raise InvalidParameter(f"rng must be a non-negative int seed (or a Generator or None), got {rng!r}")
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    raise InvalidParameter(f"rng must be a numpy Generator, a non-negative int seed or None, "
                     f"got {type(rng).__name__}")


def as_index_set(value, name: str, size: int) -> tuple[int, ...]:
    """Sorted tuple of distinct integer indices into an axis of length ``size``."""
    if isinstance(value, (numbers.Integral, np.integer)):
        value = (value,)
    try:
        items = () if isinstance(value, (str, bytes)) else tuple(value)
        if isinstance(value, (str, bytes)) or any(isinstance(i, (bool, np.bool_)) for i in items):
            raise TypeError
        idx = tuple(operator.index(i) for i in items)
    except TypeError:
        raise InvalidParameter(f"{name} must be an int or an iterable of ints, got {value!r}") from None
    if len(set(idx)) != len(idx):
        raise InvalidParameter(f"{name} has repeated indices: {idx}")
    for i in idx:
        if not 0 <= i < size:
            raise InvalidParameter(f"{name} index {i} out of range for a {size}-variable covariance")
    return tuple(sorted(idx))
