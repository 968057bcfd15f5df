"""Hypothesis strategies for property tests of linear Gaussian models (importable by other projects).

Requires ``hypothesis`` (the ``test`` extra). Every strategy draws its randomness through
hypothesis (a seed drawn by hypothesis feeds a NumPy generator), so failures shrink and replay.

>>> from hypothesis import given
>>> from lingauss.testing import spd_matrices
>>> @given(spd_matrices(4, max_condition=1e3))
... def test_something(S): ...
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from lingauss.params import InvalidParameter
from .model import LinearGaussianModel
from .noise_families import LEARNED_FAMILIES, decoder_noise_family
from .grouping import canonical_grouping

__all__ = [
    "spd_matrices",
    "linear_gaussian_models",
    "encoders",
    "joint_covariances",
    "ba_states",
    "groupings",
    "assert_covariance_matches_samples",
]

_seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _spd_from_seed(seed: int, size: int, max_condition: float, scale: float) -> np.ndarray:
    """Random SPD matrix with condition number exactly ``cond`` drawn log-uniformly in [1, max]."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    q = q * np.sign(np.diag(r))
    cond = float(np.exp(rng.uniform(0.0, np.log(max_condition))))
    eig = np.exp(rng.uniform(0.0, np.log(cond), size))
    eig[0], eig[-1] = 1.0, cond if size > 1 else 1.0
    eig *= scale / np.sqrt(cond)
    mat = (q * eig) @ q.T
    return 0.5 * (mat + mat.T)


def spd_matrices(size: int | st.SearchStrategy[int], *, max_condition: float = 1e3,
                 scale: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    """Symmetric positive-definite ``size``×``size`` matrices with condition number ≤ ``max_condition``.

    Eigenvalues are spread log-uniformly around ``scale`` in a random orthonormal basis.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from lingauss.testing import spd_matrices
    >>> @settings(max_examples=20, deadline=None)
    ... @given(spd_matrices(3, max_condition=100.0))
    ... def test_spd(S):
    ...     eig = np.linalg.eigvalsh(S)
    ...     assert np.allclose(S, S.T) and eig.min() > 0 and eig.max() / eig.min() <= 100.0 * (1 + 1e-9)
    >>> test_spd()
    """
    if max_condition < 1:
        raise InvalidParameter(f"max_condition must be >= 1, got {max_condition}")
    sizes = size if isinstance(size, st.SearchStrategy) else st.just(int(size))
    return st.builds(lambda seed, k: _spd_from_seed(seed, k, max_condition, scale), _seeds, sizes)


@st.composite
def linear_gaussian_models(draw, s: int | None = None, n: int | None = None, *,
                           max_condition: float = 1e2, standard_mixing: bool = False,
                           noise_var: tuple[float, float] = (0.05, 0.9)) -> LinearGaussianModel:
    """:class:`~lingauss.model.LinearGaussianModel` s: random Σ_V, Γ (or the standard basis), σ².

    ``s`` defaults to 1..4 and ``n`` to s..s+2.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from lingauss.testing import linear_gaussian_models
    >>> @settings(max_examples=20, deadline=None)
    ... @given(linear_gaussian_models(s=2))
    ... def test_data_covariance(model):
    ...     G = model.mixing
    ...     assert np.allclose(model.sigma_y, G @ model.sigma_v @ G.T + model.noise_var * np.eye(model.n))
    >>> test_data_covariance()
    """
    s = draw(st.integers(1, 4)) if s is None else s
    n = draw(st.integers(s, s + 2)) if n is None else n
    sigma_v = draw(spd_matrices(s, max_condition=max_condition))
    var = draw(st.floats(*noise_var))
    if standard_mixing:
        return LinearGaussianModel.standard(sigma_v, n, var)
    rng = np.random.default_rng(draw(_seeds))
    return LinearGaussianModel(sigma_v=sigma_v, mixing=rng.standard_normal((n, s)), noise_var=var)


@st.composite
def encoders(draw, m: int, n: int, *, max_condition: float = 1e2) -> tuple[np.ndarray, np.ndarray]:
    """``(B, Σ_W)``: an (m, n) encoder matrix with N(0, 1) entries and an SPD noise covariance.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from lingauss.testing import encoders
    >>> @settings(max_examples=10, deadline=None)
    ... @given(encoders(2, 5))
    ... def test_shapes(enc):
    ...     B, sigma_w = enc
    ...     assert B.shape == (2, 5) and sigma_w.shape == (2, 2)
    >>> test_shapes()
    """
    rng = np.random.default_rng(draw(_seeds))
    return rng.standard_normal((m, n)), draw(spd_matrices(m, max_condition=max_condition, scale=0.5))


@st.composite
def joint_covariances(draw, m: int | None = None, s: int | None = None, *,
                      max_condition: float = 1e2) -> tuple[np.ndarray, int]:
    """``(cov, m)``: latents-first joint covariance of [X; V] from a random model and encoder.

    Examples
    --------
    Any metric's invariants can be checked on these; here: mutual information is symmetric.

    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from lingauss import gaussian_mi
    >>> from lingauss.testing import joint_covariances
    >>> @settings(max_examples=20, deadline=None)
    ... @given(joint_covariances())
    ... def test_mi_symmetric(cov_m):
    ...     cov, m = cov_m
    ...     x, v = range(m), range(m, len(cov))
    ...     assert np.isclose(gaussian_mi(cov, x, v), gaussian_mi(cov, v, x))
    >>> test_mi_symmetric()
    """
    m = draw(st.integers(1, 4)) if m is None else m
    model = draw(linear_gaussian_models(s=s, max_condition=max_condition))
    B, sigma_w = draw(encoders(m, model.n, max_condition=max_condition))
    return model.joint_covariance(B, sigma_w), m


@st.composite
def ba_states(draw, n: int, m: int, *, decoder_noise: str = "full") -> dict[str, np.ndarray]:
    """A full BA state ``{"A", "B", "sigma_w", "sigma_z"}``; Σ_Z respects ``decoder_noise``.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from lingauss.testing import ba_states
    >>> @settings(max_examples=10, deadline=None)
    ... @given(ba_states(3, 2, decoder_noise="isotropic"))
    ... def test_isotropic(state):
    ...     z = state["sigma_z"]
    ...     assert np.allclose(z, z[0, 0] * np.eye(3))
    >>> test_isotropic()
    """
    rng = np.random.default_rng(draw(_seeds))
    B, sigma_w = draw(encoders(m, n))
    family = decoder_noise_family(decoder_noise)
    if not family.learned:
        raise InvalidParameter(f"decoder_noise must be a learned family {LEARNED_FAMILIES}, got {decoder_noise!r}")
    sigma_z = family.project(draw(spd_matrices(n, max_condition=10.0, scale=0.5)))
    return {"A": rng.standard_normal((n, m)), "B": B, "sigma_w": sigma_w, "sigma_z": sigma_z}


@st.composite
def groupings(draw, s: int) -> tuple[tuple[int, ...], ...]:
    """Canonical unlabelled set partitions of ``0..s-1`` (every partition has positive probability).

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from lingauss.testing import groupings
    >>> @settings(max_examples=20, deadline=None)
    ... @given(groupings(4))
    ... def test_partition(g):
    ...     assert sorted(j for block in g for j in block) == [0, 1, 2, 3]
    >>> test_partition()
    """
    labels = []
    for j in range(s):
        labels.append(draw(st.integers(0, max(labels, default=-1) + 1)))
    return canonical_grouping([tuple(j for j in range(s) if labels[j] == k) for k in set(labels)])


def assert_covariance_matches_samples(samples: np.ndarray, expected: np.ndarray, nsig: float = 6.0,
                                      check_mean: bool = True) -> None:
    r"""Assert that zero-mean samples (N × k) have covariance ``expected`` within sampling error.

    Entry (p, q) of :math:`\hat\Sigma = X^\top X / N` has standard deviation
    :math:`\sqrt{(\Sigma_{pp}\Sigma_{qq} + \Sigma_{pq}^2)/N}` for zero-mean Gaussians; every entry
    must lie within ``nsig`` of those, and (``check_mean``) every sample mean within ``nsig``
    standard errors of 0.

    Examples
    --------
    >>> import numpy as np
    >>> from lingauss import LinearGaussianModel
    >>> from lingauss.testing import assert_covariance_matches_samples
    >>> model = LinearGaussianModel.standard(np.array([[1.0, 0.5], [0.5, 1.0]]), n=3, noise_var=0.1)
    >>> v, y = model.sample(10_000, rng=0)
    >>> assert_covariance_matches_samples(y, model.sigma_y)      # passes: within sampling error
    >>> assert_covariance_matches_samples(y, 1.2 * model.sigma_y)
    Traceback (most recent call last):
    AssertionError: max deviation ...
    """
    n = samples.shape[0]
    est = samples.T @ samples / n
    d = np.diag(expected)
    std = np.sqrt((np.outer(d, d) + expected ** 2) / n)
    excess = np.abs(est - expected) / std
    assert np.all(excess <= nsig), f"max deviation {excess.max():.2f} sd\n{est}\n{expected}"
    if check_mean:
        assert np.all(np.abs(samples.mean(axis=0)) <= nsig * np.sqrt(d / n)), "sample mean is not 0"
