r"""Joint covariance of [latents; factors] estimated from samples, and SAP on it.

Given N paired samples of m latents (an N×m array) and s factors (N×s), the data matrix
:math:`Z = [X\;V]` (N × p, p = m + s) is centred column-wise, :math:`Z_c = Z - \bar Z`, and

.. math:: S = \tfrac1N Z_c^\top Z_c

(the maximum-likelihood estimate, as in ``numpy.cov(..., bias=True)`` and scikit-learn's
``empirical_covariance``). The 1/N versus 1/(N−1) choice is immaterial to every metric of
:mod:`lingauss.metrics`: they depend on the covariance only through correlations, which a global
factor does not change. Units: products of the input units.

Optional shrinkage acts on the **correlation** matrix, never on raw covariances. With
:math:`D = \operatorname{diag}(S)^{1/2}` (a constant column gets :math:`D_{jj} = 1`) and the sample
correlation :math:`R = D^{-1} S D^{-1}`,

.. math:: \hat\Sigma = D\,\big[(1 - \alpha) R + \alpha\,\mu I\big]\,D, \qquad
          \mu = \operatorname{tr}R/p, \quad \alpha \in [0, 1],

with a fixed :math:`\alpha` or the Ledoit–Wolf (2004) estimate of the optimal one computed on the
standardised columns (see :func:`ledoit_wolf_shrinkage`); :math:`\mu = 1` unless a column is
constant. Shrinking :math:`S` itself towards :math:`\operatorname{tr}S/p\cdot I` (scikit-learn's
``ledoit_wolf`` on raw columns) would depend on the units: multiplying one factor by 1000 would
make the target dominated by that factor and all but erase the others' correlations. Here the
variances are kept and only the correlations are shrunk, so every metric computed from
:math:`\hat\Sigma` (all of them depend on the covariance through correlations alone) is invariant
to rescaling or shifting any column, for every shrinkage setting.
"""

from __future__ import annotations

import numbers

import numpy as np

from lingauss.params import InvalidParameter
from .sap import SAPResult, sap_score

__all__ = ["joint_covariance_from_samples", "ledoit_wolf_shrinkage", "sap_score_from_samples"]

#: More variables than samples is accepted (with shrinkage) only up to this many variables: beyond
#: it the arrays are almost surely transposed, and the p × p covariance would be huge.
_MAX_UNDERSAMPLED = 256
_SHRINK_HINT = "use shrinkage='ledoit_wolf' or a float shrinkage in (0, 1]"


def _as_samples(value, name: str) -> np.ndarray:
    """``value`` as a finite float64 (N, k) array; a 1-D array is one column."""
    if isinstance(value, (str, bytes)):
        raise InvalidParameter(f"{name} must be a real numeric array, got {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameter(f"{name} must be a real numeric array ({exc})") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InvalidParameter(f"{name} must be a 1-D or 2-D array (samples × variables), got shape {arr.shape}")
    if arr.shape[1] < 1:
        raise InvalidParameter(f"{name} must have at least one column (variable), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        rows = np.unique(np.nonzero(~np.isfinite(arr))[0])
        raise InvalidParameter(f"{name} contains NaN or inf (first in row {int(rows[0])})")
    return arr


def _shrinkage_arg(shrinkage) -> float | str | None:
    if shrinkage is None:
        return None
    if isinstance(shrinkage, str):
        if shrinkage == "ledoit_wolf":
            return shrinkage
        raise InvalidParameter(f"shrinkage must be None, 'ledoit_wolf' or a float in [0, 1], got {shrinkage!r}")
    if isinstance(shrinkage, (bool, np.bool_)) or not isinstance(shrinkage, numbers.Real):
        raise InvalidParameter(f"shrinkage must be None, 'ledoit_wolf' or a float in [0, 1], got {shrinkage!r}")
    alpha = float(shrinkage)
    if not 0.0 <= alpha <= 1.0:  # also rejects NaN
        raise InvalidParameter(f"shrinkage must be in [0, 1], got {shrinkage!r}")
    return alpha


def ledoit_wolf_shrinkage(centred: np.ndarray) -> float:
    r"""Ledoit–Wolf (2004) shrinkage intensity :math:`\alpha \in [0, 1]` of centred N×p data.

    :func:`joint_covariance_from_samples` calls it on standardised columns (unit variance), so
    that the intensity, like the metrics, does not depend on the units.

    With :math:`S = Z^\top Z/N`, :math:`\mu = \operatorname{tr}S/p` and the normalised Frobenius norm
    :math:`\lVert A\rVert^2 = \operatorname{tr}(AA^\top)/p`:

    .. math::

        d^2 = \lVert S - \mu I\rVert^2, \qquad
        \bar b^2 = \frac1{N^2}\sum_{k=1}^N \lVert z_k z_k^\top - S\rVert^2
                 = \frac{1}{pN^2}\Big(\sum_k \lVert z_k\rVert_2^4 - N\,\lVert S\rVert_F^2\Big),

    :math:`b^2 = \min(\bar b^2, d^2)` and :math:`\alpha = b^2/d^2` (0 when :math:`b^2 = 0`).
    Dimensionless. ``centred`` must already have zero column means (not checked).
    """
    z = np.asarray(centred, dtype=np.float64)
    n, p = z.shape
    s = z.T @ z / n
    mu = np.trace(s) / p
    d2 = (np.sum(s * s) - 2.0 * mu * np.trace(s) + p * mu * mu) / p
    row_sq = np.einsum("ij,ij->i", z, z)
    b2_bar = (np.sum(row_sq * row_sq) / n - np.sum(s * s)) / (p * n)
    b2 = min(max(b2_bar, 0.0), d2)
    return 0.0 if b2 <= 0.0 else float(b2 / d2)


def _singular_message(centred: np.ndarray, m: int, n: int, alpha: float) -> str:
    """Why an (un- or under-shrunk) sample covariance is not positive definite."""
    p = centred.shape[1]
    if n <= p:
        return (f"only N = {n} samples for m + s = {p} variables: the sample covariance has rank "
                f"< {p} and the joint covariance is singular — {_SHRINK_HINT}")
    scale = np.sqrt(np.sum(centred * centred, axis=0))
    scale[scale == 0.0] = 1.0
    r = np.linalg.qr(centred / scale, mode="r")
    diag = np.abs(np.diagonal(r))
    k = int(np.argmin(diag > 1e-7 * np.sqrt(p)))
    if diag[k] > 1e-7 * np.sqrt(p):
        k = int(np.argmin(diag))
    which = f"latents column {k}" if k < m else f"factors column {k - m}"
    return (f"{which} is (numerically) a linear combination of the preceding columns of "
            f"[latents, factors]; the joint covariance is singular — {_SHRINK_HINT}")


def joint_covariance_from_samples(latents, factors, *, shrinkage=None) -> np.ndarray:
    r"""Latents-first (m+s)×(m+s) sample covariance of [latents; factors], optionally shrunk.

    .. math::

        S = \tfrac1N Z_c^\top Z_c,\quad Z_c = [X\;V] - \overline{[X\;V]};\qquad
        \hat\Sigma = D\big[(1-\alpha)D^{-1}SD^{-1} + \alpha\,\mu I\big]D,\quad D = \operatorname{diag}(S)^{1/2}

    Shrinkage acts on the correlation matrix (the module docstring gives the reason): the
    variances are those of the samples and only the correlations are pulled towards 0, so the
    result's correlations — and every metric — are unchanged by rescaling or shifting a column.

    Parameters
    ----------
    latents : (N, m) or (N,) array
        Samples of the m latents (a 1-D array is a single latent).
    factors : (N, s) or (N,) array
        Samples of the s factors, paired row by row with ``latents``.
    shrinkage : None, "ledoit_wolf" or float in [0, 1]
        None: the plain sample covariance (α = 0). ``"ledoit_wolf"``: α from
        :func:`ledoit_wolf_shrinkage` on the standardised columns (equal to
        ``sklearn.covariance.ledoit_wolf`` of the standardised data, implemented here in numpy).
        A float: that fixed α.

    Returns
    -------
    numpy.ndarray
        A float64 symmetric positive-definite matrix, in the units of the inputs' products (the
        1/N normalisation is the maximum-likelihood one; the metrics are invariant to it). A
        constant column (allowed with shrinkage) gets variance α·μ and zero covariances.

    Raises
    ------
    ValueError
        Naming ``latents``/``factors`` (not 1-D/2-D, no column, NaN/inf, fewer than 2 samples,
        different numbers of rows), ``shrinkage``, or — when the result is not positive definite —
        the cause: a constant column, fewer samples than variables, or a column that is a linear
        combination of others, with a hint to use shrinkage.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> v = rng.standard_normal((500, 2))
    >>> x = v @ [[1.0, 0.3], [0.0, 1.0]] + 0.1 * rng.standard_normal((500, 2))
    >>> a = joint_covariance_from_samples(x, v, shrinkage="ledoit_wolf")
    >>> b = joint_covariance_from_samples(x, 1000.0 * v + 7.0, shrinkage="ledoit_wolf")
    >>> corr = lambda c: c / np.sqrt(np.outer(np.diag(c), np.diag(c)))
    >>> bool(np.allclose(corr(a), corr(b)))
    True
    """
    x = _as_samples(latents, "latents")
    v = _as_samples(factors, "factors")
    if x.shape[0] != v.shape[0]:
        raise InvalidParameter(f"latents and factors must have the same number of samples (rows), got "
                         f"{x.shape[0]} and {v.shape[0]}")
    n = x.shape[0]
    if n < 2:
        raise InvalidParameter(f"latents and factors need at least 2 samples to estimate a covariance, got {n}")
    mode = _shrinkage_arg(shrinkage)
    m = x.shape[1]
    if m + v.shape[1] > max(n, _MAX_UNDERSAMPLED):
        which = "latents" if x.shape[1] >= v.shape[1] else "factors"
        shape = x.shape if which == "latents" else v.shape
        raise InvalidParameter(f"{which} has shape {shape}: {m + v.shape[1]} variables but only {n} samples "
                         "(rows) — transposed? Pass samples as rows, (N, m) and (N, s)")
    z = np.hstack([x, v])
    p = z.shape[1]
    centred = z - z.mean(axis=0)
    constant = np.ptp(z, axis=0) == 0.0
    centred[:, constant] = 0.0  # exact zeros, not round-off of the mean
    with np.errstate(over="ignore", invalid="ignore"):
        sample = centred.T @ centred / n
    if not np.all(np.isfinite(sample)):
        raise InvalidParameter("latents and factors are too large: their covariance overflows float64")
    std = np.sqrt(np.diagonal(sample)).copy()
    std[constant | (std == 0.0)] = 1.0
    corr_sample = sample / std[:, None] / std[None, :]
    if mode is None:
        alpha = 0.0
    elif mode == "ledoit_wolf":
        alpha = ledoit_wolf_shrinkage(centred / std)
    else:
        alpha = float(mode)
    mu = np.trace(corr_sample) / p
    shrunk = (1.0 - alpha) * corr_sample
    shrunk[np.diag_indices(p)] += alpha * mu
    cov = shrunk * std[:, None] * std[None, :]
    cov = 0.5 * (cov + cov.T)

    var = np.diagonal(cov)
    if np.any(var <= 0.0):
        k = int(np.flatnonzero(var <= 0.0)[0])
        which = f"latents has a constant column {k}" if k < m else f"factors has a constant column {k - m}"
        hint = _SHRINK_HINT if np.any(~constant) else "every column is constant"
        raise InvalidParameter(f"{which}; the joint covariance is singular — {hint}")
    scale = 1.0 / np.sqrt(var)
    corr = cov * scale[:, None] * scale[None, :]
    smallest = float(np.linalg.eigvalsh(0.5 * (corr + corr.T))[0])
    if smallest <= 100.0 * p * np.finfo(np.float64).eps:
        raise InvalidParameter(_singular_message(centred, m, n, alpha)
                         + f" (smallest eigenvalue of the correlation matrix {smallest:.3g}"
                         + (f", shrinkage {alpha:.3g})" if alpha > 0 else ")"))
    return cov


def sap_score_from_samples(latents, factors, *, shrinkage=None) -> SAPResult:
    """SAP score (:func:`lingauss.metrics.sap.sap_score`) of the sample joint covariance.

    ``sap_score(joint_covariance_from_samples(latents, factors, shrinkage=shrinkage), m)``; the same
    arguments and errors as :func:`joint_covariance_from_samples`.
    """
    x = _as_samples(latents, "latents")
    cov = joint_covariance_from_samples(x, factors, shrinkage=shrinkage)
    return sap_score(cov, x.shape[1])
