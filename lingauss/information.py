r"""Entropy and mutual information of jointly Gaussian variables, from a covariance matrix.

For a zero-mean Gaussian vector with covariance :math:`\Sigma` and index sets :math:`a, b, c`:

.. math::

    h(a) &= \tfrac12 \log\big((2\pi e)^{|a|}\,|\Sigma_{aa}|\big) \\
    I(a; b) &= \tfrac12\big(\log|\Sigma_{aa}| + \log|\Sigma_{bb}| - \log|\Sigma_{a\cup b}|\big) \\
    I(a; b \mid c) &= \tfrac12\big(\log|\Sigma_{a\cup c}| + \log|\Sigma_{b\cup c}|
                       - \log|\Sigma_{c}| - \log|\Sigma_{a\cup b\cup c}|\big)

All values are in nats. Mutual information is invariant to rescaling each variable, so the
log-determinants inside MI are computed on the *correlation* matrix of the block, through a Cholesky
factor: this keeps badly scaled covariances (variances spanning many orders of magnitude) accurate,
and a block that is not positive definite gives a ``ValueError`` naming it, never a NaN.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from lingauss.params import InvalidParameter
from ._validation import as_index_set, as_matrix, symmetry_tolerance

__all__ = ["gaussian_entropy", "gaussian_mi", "gaussian_conditional_mi", "logdet_spd"]

_LOG_2PI_E = float(np.log(2.0 * np.pi * np.e))


def logdet_spd(mat: np.ndarray, name: str = "matrix") -> float:
    """``log|M|`` of a symmetric positive-definite matrix by Cholesky (``2 Σ log L_ii``).

    Raises ``ValueError`` naming ``name`` if ``M`` is not square, not symmetric, contains NaN/inf
    or is not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> from lingauss.information import logdet_spd
    >>> M = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> bool(np.isclose(logdet_spd(M), np.log(np.linalg.det(M))))
    True
    """
    mat = as_matrix(mat, name)
    if mat.shape[0] != mat.shape[1]:
        raise InvalidParameter(f"{name} must be square, got shape {mat.shape}")
    if mat.shape[0] == 0:
        return 0.0
    if np.max(np.abs(mat - mat.T)) > symmetry_tolerance(mat):
        raise InvalidParameter(f"{name} must be symmetric")
    try:
        chol = np.linalg.cholesky(mat)
    except np.linalg.LinAlgError:
        raise InvalidParameter(f"{name} is not positive definite") from None
    diag = np.diagonal(chol)
    if np.any(diag <= 0.0):
        raise InvalidParameter(f"{name} is singular to working precision")
    return float(2.0 * np.sum(np.log(diag)))


def _check_cov(cov) -> np.ndarray:
    arr = as_matrix(cov, "cov")
    if arr.shape[0] != arr.shape[1]:
        raise InvalidParameter(f"cov must be square, got shape {arr.shape}")
    if np.max(np.abs(arr - arr.T), initial=0.0) > symmetry_tolerance(arr):
        raise InvalidParameter("cov must be symmetric")
    return 0.5 * (arr + arr.T)


def _correlation_logdet(cov: np.ndarray, idx: tuple[int, ...], label: str) -> float:
    """``log|R_idx|`` with ``R`` the correlation matrix of the block ``idx``."""
    if not idx:
        return 0.0
    block = cov[np.ix_(idx, idx)]
    var = np.diagonal(block)
    if np.any(var <= 0.0):
        raise InvalidParameter(f"covariance block of {label} {list(idx)} has a non-positive variance")
    scale = 1.0 / np.sqrt(var)
    return logdet_spd(block * scale[:, None] * scale[None, :],
                      f"covariance block of {label} {list(idx)}")


def gaussian_entropy(cov, idx: Iterable[int] | int | None = None) -> float:
    r"""Differential entropy :math:`h = \tfrac12 \log((2\pi e)^k |\Sigma_{idx}|)` in nats.

    ``idx`` selects a block (default: the whole vector). Raises ``ValueError`` when the block is
    not positive definite (the entropy would be :math:`-\infty`).

    Examples
    --------
    >>> import numpy as np
    >>> from lingauss import gaussian_entropy
    >>> bool(np.isclose(gaussian_entropy(np.eye(2)), np.log(2 * np.pi * np.e)))
    True
    """
    arr = _check_cov(cov)
    sel = tuple(range(arr.shape[0])) if idx is None else as_index_set(idx, "idx", arr.shape[0])
    if not sel:
        return 0.0
    block = arr[np.ix_(sel, sel)]
    return 0.5 * (len(sel) * _LOG_2PI_E + logdet_spd(block, f"covariance block {list(sel)}"))


def gaussian_mi(cov, a: Iterable[int] | int, b: Iterable[int] | int) -> float:
    r"""Mutual information :math:`I(a;b)` in nats between two disjoint blocks of a Gaussian vector.

    :math:`I(a;b) = \tfrac12(\log|\Sigma_{aa}| + \log|\Sigma_{bb}| - \log|\Sigma_{a\cup b}|)`,
    0 when ``a`` or ``b`` is empty. Always ≥ 0 (clipped at 0 against round-off of order 1e-15).
    Raises ``ValueError`` if the blocks overlap (the MI of a continuous variable with itself is
    infinite) or a block is not positive definite.

    Examples
    --------
    For two unit-variance variables with correlation ρ, I = −½ log(1 − ρ²):

    >>> import numpy as np
    >>> from lingauss import gaussian_mi
    >>> cov = np.array([[1.0, 0.6], [0.6, 1.0]])
    >>> bool(np.isclose(gaussian_mi(cov, [0], [1]), -0.5 * np.log(1 - 0.6**2)))
    True
    >>> gaussian_mi(cov, [0], [])
    0.0
    """
    arr = _check_cov(cov)
    ia = as_index_set(a, "a", arr.shape[0])
    ib = as_index_set(b, "b", arr.shape[0])
    if set(ia) & set(ib):
        raise InvalidParameter(f"a and b must be disjoint, both contain {sorted(set(ia) & set(ib))}")
    if not ia or not ib:
        return 0.0
    joint = tuple(sorted(ia + ib))
    value = 0.5 * (_correlation_logdet(arr, ia, "a") + _correlation_logdet(arr, ib, "b")
                   - _correlation_logdet(arr, joint, "a ∪ b"))
    return max(value, 0.0)


def gaussian_conditional_mi(cov, a: Iterable[int] | int, b: Iterable[int] | int,
                            c: Iterable[int] | int = ()) -> float:
    r"""Conditional mutual information :math:`I(a;b\mid c)` in nats.

    :math:`\tfrac12(\log|\Sigma_{a\cup c}| + \log|\Sigma_{b\cup c}| - \log|\Sigma_c|
    - \log|\Sigma_{a\cup b\cup c}|)`; equals :func:`gaussian_mi` when ``c`` is empty. The three
    sets must be pairwise disjoint.

    Examples
    --------
    In a Gaussian Markov chain x0 → x1 → x2, x0 and x2 are independent given x1:

    >>> import numpy as np
    >>> from lingauss import gaussian_conditional_mi
    >>> cov = np.array([[1.0, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 1.0]])
    >>> round(gaussian_conditional_mi(cov, [0], [2], [1]), 12)
    0.0
    >>> gaussian_conditional_mi(cov, [0], [2]) > 0
    True
    """
    arr = _check_cov(cov)
    size = arr.shape[0]
    ia, ib, ic = (as_index_set(x, nm, size) for x, nm in ((a, "a"), (b, "b"), (c, "c")))
    for (s1, n1), (s2, n2) in (((ia, "a"), (ib, "b")), ((ia, "a"), (ic, "c")), ((ib, "b"), (ic, "c"))):
        if set(s1) & set(s2):
            raise InvalidParameter(f"{n1} and {n2} must be disjoint, both contain {sorted(set(s1) & set(s2))}")
    if not ia or not ib:
        return 0.0
    ac = tuple(sorted(ia + ic))
    bc = tuple(sorted(ib + ic))
    abc = tuple(sorted(ia + ib + ic))
    value = 0.5 * (_correlation_logdet(arr, ac, "a ∪ c") + _correlation_logdet(arr, bc, "b ∪ c")
                   - _correlation_logdet(arr, ic, "c") - _correlation_logdet(arr, abc, "a ∪ b ∪ c"))
    return max(value, 0.0)
