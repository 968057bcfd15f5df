r"""Shared plumbing of the sample-based standard metric suite (Locatello et al. 2019).

Validation of paired ``(latents, factors)`` arrays, the discrete/continuous decision for factors,
factor labels for classifiers and mutual information, the train/test split, a seed for
scikit-learn, and the lazy scikit-learn import. Private: the public names live in the metric
modules.
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Sequence

import numpy as np

from lingauss.params import InvalidParameter, MissingDependency
from .discrete import check_bins, histogram_discretize, histogram_edges
from .samples import _as_samples

__all__ = [
    "DEFAULT_TEST_FRACTION", "check_bins", "check_pair", "check_test", "discrete_mask",
    "factor_labels", "freeze", "require_sklearn", "sklearn_seed", "split_train_test", "standardise",
]

#: Default held-out fraction when no test set is given: 5000 / (10000 + 5000), the sizes of the
#: reference study's SAP, DCI and modularity configurations.
DEFAULT_TEST_FRACTION = 1.0 / 3.0

_EXTRA_HINT = ("install scikit-learn, e.g. `pip install 'lingauss[metrics]'` (it is also in the "
               "`test` extra)")


def require_sklearn(module: str, what: str):
    """Import ``sklearn.<module>`` or raise an ``ImportError`` naming the extra that provides it."""
    try:
        return importlib.import_module(f"sklearn.{module}")
    except ImportError as exc:
        raise MissingDependency(f"{what} needs scikit-learn (sklearn.{module}): {_EXTRA_HINT}") from exc


def freeze(arr) -> np.ndarray:
    """A read-only contiguous float64 copy."""
    out = np.array(arr, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


def check_pair(latents, factors, *, min_samples: int = 2,
               names: tuple[str, str] = ("latents", "factors")) -> tuple[np.ndarray, np.ndarray]:
    """``(x, v)`` as finite float64 (N, m) and (N, s) arrays with the same N ≥ ``min_samples``.

    A 1-D array is one column. Raises ``ValueError`` naming the argument (not 1-D/2-D, no column,
    NaN/inf, different numbers of rows, too few rows).
    """
    x = _as_samples(latents, names[0])
    v = _as_samples(factors, names[1])
    if x.shape[0] != v.shape[0]:
        raise InvalidParameter(f"{names[0]} and {names[1]} must have the same number of samples (rows), "
                         f"got {x.shape[0]} and {v.shape[0]}")
    if x.shape[0] < min_samples:
        raise InvalidParameter(f"{names[0]} and {names[1]} need at least {min_samples} samples, "
                         f"got {x.shape[0]}")
    return x, v


def _evenly_spaced(values: np.ndarray) -> bool:
    """True when the distinct values are u_0 + k·δ for integers k, δ the smallest gap (to 1e-6)."""
    u = np.unique(values)
    if u.size <= 2:
        return True
    steps = (u - u[0]) / np.min(np.diff(u))
    return bool(np.all(np.abs(steps - np.round(steps)) <= 1e-6))


def discrete_mask(v: np.ndarray, discrete_factors, *extra: np.ndarray) -> np.ndarray:
    r"""Boolean (s,) mask: which factors are discrete.

    ``None`` (auto): factor j is discrete iff its distinct values (over ``v`` and the ``extra``
    arrays, e.g. a test set) are evenly spaced: :math:`(u_k - u_0)/\delta` is an integer for every
    distinct value :math:`u_k`, :math:`\delta` the smallest gap between them (to 1e-6). Class
    indices 0..K−1 qualify, and so does any positive rescaling or shift of them — unlike an
    "integer-valued" test, this decision does not depend on the factor's units. ``True``/``False``:
    all factors. A sequence of s booleans: per factor.
    """
    s = v.shape[1]
    if discrete_factors is None:
        return np.array([_evenly_spaced(np.concatenate([c[:, j] for c in (v, *extra)]))
                         for j in range(s)])
    if isinstance(discrete_factors, (bool, np.bool_)):
        return np.full(s, bool(discrete_factors))
    if isinstance(discrete_factors, (str, bytes)) or not isinstance(discrete_factors, Sequence) \
            and not isinstance(discrete_factors, np.ndarray):
        raise InvalidParameter(f"discrete_factors must be None, a bool or a sequence of {s} bools, "
                         f"got {discrete_factors!r}")
    mask = list(discrete_factors)
    if len(mask) != s or not all(isinstance(b, (bool, np.bool_)) for b in mask):
        raise InvalidParameter(f"discrete_factors must be None, a bool or a sequence of {s} bools "
                         f"(one per factor), got {discrete_factors!r}")
    return np.array(mask, dtype=bool)


def factor_labels(v_train: np.ndarray, discrete: np.ndarray, factor_bins: int,
                  v_test: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Integer class labels of every factor column, shared between train and test.

    A discrete factor's labels index its distinct values (over train and test together). A
    continuous factor is cut into ``factor_bins`` equal-width bins whose edges come from the
    *training* column (:func:`~lingauss.metrics.discrete.histogram_discretize`); test values
    outside the training range fall into the first or last bin.
    """
    s = v_train.shape[1]
    lab_train = np.empty(v_train.shape, dtype=np.int64)
    lab_test = None if v_test is None else np.empty(v_test.shape, dtype=np.int64)
    for j in range(s):
        if discrete[j]:
            both = v_train[:, j] if v_test is None else np.concatenate([v_train[:, j], v_test[:, j]])
            _, inverse = np.unique(both, return_inverse=True)
            lab_train[:, j] = inverse[:v_train.shape[0]]
            if lab_test is not None:
                lab_test[:, j] = inverse[v_train.shape[0]:]
        else:
            edges = histogram_edges(v_train[:, j], factor_bins)
            lab_train[:, j] = histogram_discretize(v_train[:, j], factor_bins)
            if lab_test is not None:
                lab_test[:, j] = np.clip(np.digitize(v_test[:, j], edges[:-1]), 1, factor_bins)
    return lab_train, lab_test


def check_fraction(value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) \
            or not 0.0 < float(value) < 1.0:
        raise InvalidParameter(f"test_fraction must be a float in (0, 1), got {value!r}")
    return float(value)


def check_test(test, x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``None`` or the validated pair ``(latents_test, factors_test)`` with the columns of x, v."""
    if test is None:
        return None
    if not isinstance(test, (tuple, list)) or len(test) != 2:
        raise InvalidParameter("test must be None or a pair (latents_test, factors_test)")
    xt, vt = check_pair(test[0], test[1], min_samples=1, names=("test latents", "test factors"))
    if xt.shape[1] != x.shape[1]:
        raise InvalidParameter(f"test latents must have {x.shape[1]} columns like latents, got {xt.shape[1]}")
    if vt.shape[1] != v.shape[1]:
        raise InvalidParameter(f"test factors must have {v.shape[1]} columns like factors, got {vt.shape[1]}")
    return xt, vt


def split_train_test(x: np.ndarray, v: np.ndarray, test, test_fraction, gen: np.random.Generator):
    """``(x_train, v_train, x_test, v_test)``.

    With ``test = (latents_test, factors_test)`` the given arrays are the training set and ``test``
    the held-out set (same numbers of columns). With ``test=None`` the rows are shuffled by
    ``gen`` and the last ``ceil(test_fraction · N)`` rows are held out; at least 2 training rows
    and 1 test row are required.
    """
    checked = check_test(test, x, v)
    if checked is not None:
        return (x, v) + checked
    frac = check_fraction(test_fraction)
    n = x.shape[0]
    n_test = int(np.ceil(frac * n))
    if n - n_test < 2 or n_test < 1:
        raise InvalidParameter(f"latents and factors have too few samples ({n}) to hold out a test "
                         f"fraction of {frac:g} and keep 2 training samples; pass more samples or "
                         f"an explicit test set")
    order = gen.permutation(n)
    tr, te = order[:n - n_test], order[n - n_test:]
    return x[tr], v[tr], x[te], v[te]


def sklearn_seed(gen: np.random.Generator) -> int:
    """One ``random_state`` integer for every scikit-learn estimator of a metric call."""
    return int(gen.integers(0, 2**31 - 1))


def standardise(x_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Latents z-scored with the training samples' mean and (1/N) standard deviation (a constant
    column is only centred), applied to ``x_train`` and each of ``others``.

    Every classifier of the suite sees standardised latents, so that no score depends on the units
    of a latent: a regularised linear classifier (SAP's ``LinearSVC``, explicitness's logistic
    regression) does otherwise, and gradient-boosted trees see float32 copies whose rounding
    depends on the scale and offset.
    """
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0.0] = 1.0
    return tuple((a - mean) / std for a in (x_train, *others))
