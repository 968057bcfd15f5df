r"""Factor-conditional samplers for the intervention-based metrics (BetaVAE, FactorVAE scores).

The BetaVAE and FactorVAE scores do not take a fixed sample: they need batches of latents in which
one factor is held fixed while the others vary. A *factor sampler* is any object with

* ``n_factors`` — the number s of factors;
* ``sample_factors(n, rng)`` — n draws of the factors from their joint distribution, (n, s);
* ``sample_factors_given(index, values, rng)`` — ``len(values)`` draws with factor ``index`` set to
  ``values`` and the other factors drawn from their *conditional* distribution given it, (n, s);
* ``sample_latents(factors, rng)`` — the latents of observations generated from those factors,
  (n, m) (observation noise and encoder noise included).

Every method takes a ``numpy.random.Generator``; the metrics pass theirs, so a seed fixes the
numbers. With independent factors (the datasets of disentanglement_lib) the conditional is the
marginal, and ``sample_factors_given`` is "sample, then overwrite column ``index``" — what the
reference does for every dataset.

Two implementations:

* :class:`IndependentDiscreteSampler` — independent uniform discrete factors (the reference's
  ``IdentityObservationsData`` and its kin) and any ``encode(factors, rng)`` representation;
* :class:`LinearGaussianSampler` — the linear Gaussian model :math:`V \sim N(0, \Sigma_V)`,
  :math:`Y = \Gamma V + \tilde Z`, with the encoder :math:`X = BY + W`; factors with a non-diagonal
  :math:`\Sigma_V` are drawn from the exact Gaussian conditional.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from lingauss.params import InvalidParameter
from .._validation import as_matrix, as_rng, as_spd
from ..model import LinearGaussianModel

__all__ = ["FactorSampler", "IndependentDiscreteSampler", "LinearGaussianSampler",
           "check_sampler_output"]


@runtime_checkable
class FactorSampler(Protocol):
    """What :func:`~lingauss.metrics.standard_sampling.beta_vae_score` and
    :func:`~lingauss.metrics.standard_sampling.factor_vae_score` need (see the module notes)."""

    @property
    def n_factors(self) -> int: ...

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray: ...

    def sample_factors_given(self, index: int, values: np.ndarray,
                             rng: np.random.Generator) -> np.ndarray: ...

    def sample_latents(self, factors: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...


def _check_count(n, name: str = "n") -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral, np.integer)) or n < 1:
        raise InvalidParameter(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _check_index(index, s: int) -> int:
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (numbers.Integral, np.integer)) \
            or not 0 <= index < s:
        raise InvalidParameter(f"index must be an integer in [0, {s}), got {index!r}")
    return int(index)


def _check_values(values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 1:
        raise InvalidParameter(f"values must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameter("values contains NaN or inf")
    return arr


def check_sampler_output(arr, name: str, rows: int, cols: int | None = None) -> np.ndarray:
    """A sampler's output as a finite float64 (rows, cols) array, else ``ValueError`` naming
    ``sampler`` and the method."""
    try:
        out = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameter(f"sampler.{name} must return a numeric array ({exc})") from None
    if out.ndim != 2 or out.shape[0] != rows or (cols is not None and out.shape[1] != cols) \
            or out.shape[1] < 1:
        want = f"({rows}, {cols if cols is not None else 'm'})"
        raise InvalidParameter(f"sampler.{name} must return an array of shape {want}, got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise InvalidParameter(f"sampler.{name} returned NaN or inf")
    return out


class IndependentDiscreteSampler:
    r"""Independent factors, factor j uniform on :math:`\{0, 1, \dots, K_j - 1\}`, encoded by a
    user function.

    Parameters
    ----------
    num_values : sequence of int
        :math:`K_j \ge 1`, the number of values of each factor.
    encode : callable ``(factors, rng) -> latents``
        Maps an (n, s) float array of factors to (n, m) latents (observation and encoder in one;
        use ``rng`` for any noise so that seeds reproduce). E.g. ``lambda f, rng: f`` is the
        reference's identity representation of ``IdentityObservationsData``.
    """

    def __init__(self, num_values: Sequence[int],
                 encode: Callable[[np.ndarray, np.random.Generator], np.ndarray]):
        try:
            values = [int(k) for k in num_values]
            ok = len(values) >= 1 and all(
                not isinstance(k, (bool, np.bool_)) and float(k) == int(k) for k in num_values)
        except (TypeError, ValueError):
            ok = False
        if not ok or min(values) < 1:
            raise InvalidParameter(f"num_values must be a non-empty sequence of positive integers, "
                             f"got {num_values!r}")
        if not callable(encode):
            raise InvalidParameter(f"encode must be callable (factors, rng) -> latents, got {encode!r}")
        self.num_values = tuple(values)
        self.encode = encode

    @property
    def n_factors(self) -> int:
        return len(self.num_values)

    def sample_factors(self, n: int, rng=None) -> np.ndarray:
        """(n, s) uniform draws, as float64."""
        n = _check_count(n)
        gen = as_rng(rng)
        return np.column_stack([gen.integers(0, k, size=n) for k in self.num_values]).astype(float)

    def sample_factors_given(self, index: int, values, rng=None) -> np.ndarray:
        """Independent factors: draw all, then set column ``index`` to ``values``."""
        index = _check_index(index, self.n_factors)
        vals = _check_values(values)
        out = self.sample_factors(vals.size, rng)
        out[:, index] = vals
        return out

    def sample_latents(self, factors, rng=None) -> np.ndarray:
        """``encode(factors, rng)``, checked to be a finite (n, m) array."""
        f = as_matrix(factors, "factors", shape=(None, self.n_factors))
        return check_sampler_output(self.encode(f, as_rng(rng)), "encode", f.shape[0])

    def __repr__(self) -> str:
        return f"IndependentDiscreteSampler(num_values={self.num_values})"


class LinearGaussianSampler:
    r"""Factor sampler of the linear Gaussian model with an encoder :math:`X = BY + W`.

    Factors :math:`V \sim N(0, \Sigma_V)`; given factors, :math:`Y = \Gamma V + \tilde Z`,
    :math:`\tilde Z \sim N(0, \sigma^2 I_n)` and :math:`X = BY + W`, :math:`W \sim N(0, \Sigma_W)`.
    Holding factor k at :math:`v_k`, the others are drawn from the exact conditional

    .. math::

        V_{-k} \mid v_k \sim N\!\Big(\frac{\Sigma_{-k,k}}{\Sigma_{kk}} v_k,\;
            \Sigma_{-k,-k} - \frac{\Sigma_{-k,k}\Sigma_{k,-k}}{\Sigma_{kk}}\Big).

    So the joint law of (factors, latents) from ``sample_factors`` + ``sample_latents`` has the
    latents-first covariance :attr:`joint_covariance` = ``model.joint_covariance(B, sigma_w)``.

    Parameters
    ----------
    model : LinearGaussianModel
    B : (m, n) array
        Encoder matrix.
    sigma_w : (m, m) array
        Encoder noise covariance, symmetric positive definite.
    """

    def __init__(self, model: LinearGaussianModel, B, sigma_w):
        if not isinstance(model, LinearGaussianModel):
            raise InvalidParameter(f"model must be a LinearGaussianModel, got {type(model).__name__}")
        self.model = model
        self.joint_covariance = model.joint_covariance(B, sigma_w)  # validates B and sigma_w
        self.joint_covariance.setflags(write=False)
        self.B = np.array(as_matrix(B, "B"), copy=True)
        self.B.setflags(write=False)
        m = self.B.shape[0]
        self.sigma_w = np.array(as_spd(sigma_w, "sigma_w", size=m), copy=True)
        self.sigma_w.setflags(write=False)
        self._chol_v = np.linalg.cholesky(model.sigma_v)
        self._chol_w = np.linalg.cholesky(self.sigma_w)
        self._conditionals: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    @property
    def n_factors(self) -> int:
        return self.model.s

    @property
    def n_latents(self) -> int:
        return self.B.shape[0]

    def _conditional(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(others, regression, chol)``: indices of the other factors, Σ_{-k,k}/Σ_kk, and the
        Cholesky factor of the Schur complement."""
        if k not in self._conditionals:
            sv = self.model.sigma_v
            others = np.array([j for j in range(self.n_factors) if j != k], dtype=np.int64)
            reg = sv[others, k] / sv[k, k]
            schur = sv[np.ix_(others, others)] - np.outer(reg, sv[k, others])
            chol = np.linalg.cholesky(0.5 * (schur + schur.T)) if others.size else np.zeros((0, 0))
            self._conditionals[k] = (others, reg, chol)
        return self._conditionals[k]

    def sample_factors(self, n: int, rng=None) -> np.ndarray:
        """(n, s) draws of :math:`V \\sim N(0, \\Sigma_V)`."""
        n = _check_count(n)
        return as_rng(rng).standard_normal((n, self.n_factors)) @ self._chol_v.T

    def sample_factors_given(self, index: int, values, rng=None) -> np.ndarray:
        """Factor ``index`` set to ``values``, the others from the exact Gaussian conditional."""
        k = _check_index(index, self.n_factors)
        vals = _check_values(values)
        others, reg, chol = self._conditional(k)
        out = np.empty((vals.size, self.n_factors))
        out[:, k] = vals
        if others.size:
            noise = as_rng(rng).standard_normal((vals.size, others.size)) @ chol.T
            out[:, others] = vals[:, None] * reg[None, :] + noise
        return out

    def sample_latents(self, factors, rng=None) -> np.ndarray:
        """:math:`X = B(\\Gamma v + \\tilde z) + w` for each row v of ``factors`` (fresh noise)."""
        f = as_matrix(factors, "factors", shape=(None, self.n_factors))
        gen = as_rng(rng)
        n = f.shape[0]
        y = f @ self.model.mixing.T + np.sqrt(self.model.noise_var) * gen.standard_normal(
            (n, self.model.n))
        return y @ self.B.T + gen.standard_normal((n, self.n_latents)) @ self._chol_w.T

    def __repr__(self) -> str:
        return f"LinearGaussianSampler(s={self.n_factors}, n={self.model.n}, m={self.n_latents})"
