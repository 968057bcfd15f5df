r"""The factor scenarios of Vu et al. (2024) as ready-made :class:`~lingauss.model.LinearGaussianModel` s.

Every scenario is a set of *independent sub-groups* of factors. Inside a group the first factor is
the root, :math:`v_r \sim N(0, \sigma_v^2)`, and every other member depends on it linearly,

.. math:: v_j = \alpha_j v_r + z_j, \qquad z_j \sim N(0, \sigma_{z_j}^2),

which gives the :math:`\Sigma_V` blocks of Vu et al. (2024): :math:`\operatorname{var} v_j = \alpha_j^2\sigma_v^2
+ \sigma_{z_j}^2`, :math:`\operatorname{cov}(v_r, v_j) = \alpha_j\sigma_v^2`,
:math:`\operatorname{cov}(v_j, v_k) = \alpha_j\alpha_k\sigma_v^2`. The true grouping of a scenario
is its set of sub-groups.

Sizes and groupings (0-based factor indices):

=========  ========  ================================  =======================
(s, n, m)  scenario  groups                            independent sub-groups
=========  ========  ================================  =======================
(3, 4, 3)  1         {0} {1} {2}                       3
(3, 4, 3)  2         {0, 1} {2}                        2  (v2 = α v1 + z2)
(3, 4, 3)  3         {0, 1, 2}                         1  (v2 = α v1 + z2, v3 = β v1 + z3)
(5, 5, 4)  1         {0, 1} {2, 3} {4}                 3
(5, 5, 4)  2         {0, 1, 2} {3, 4}                  2
(5, 5, 4)  3         {0, 1, 2, 3, 4}                   1
=========  ========  ================================  =======================

Vu et al. (2024) give no numbers for σ_v, α, β, σ_z or σ²; ours are **documented defaults, each a
parameter**: root standard deviation ``root_std = 1``, coupling ``coupling = 1`` (α = β = 1),
dependent-noise standard deviation ``dependent_noise_std = 0.5`` and observation noise variance
``noise_var = 0.1`` (they require σ² < 1). The (5, 5, 4) groupings are our reading of their
figure caption ("3, 2 and 1 independent sub-groups"), which gives no membership.

Reference: M. Vu, S. Wei and X. Wan, *Investigating Disentanglement in β-VAE within a Linear
Gaussian Setting*, talk, 2024 (the documentation's references page).
"""

from __future__ import annotations

import operator

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lingauss.params import InvalidParameter
from ._validation import as_finite_scalar
from .grouping import canonical_grouping, check_partition, grouping_text  # noqa: F401 - the first and last re-exported (older imports)
from .model import LinearGaussianModel

__all__ = [
    "Scenario",
    "SCENARIO_GROUPS",
    "dependent_factor_covariance",
    "scenario_from_groups",
    "talk_scenario",
    "talk_scenarios",
]

#: (s, n, m) → scenario number → groups of factor indices.
SCENARIO_GROUPS: dict[tuple[int, int, int], dict[int, tuple[tuple[int, ...], ...]]] = {
    (3, 4, 3): {1: ((0,), (1,), (2,)), 2: ((0, 1), (2,)), 3: ((0, 1, 2),)},
    (5, 5, 4): {1: ((0, 1), (2, 3), (4,)), 2: ((0, 1, 2), (3, 4)), 3: ((0, 1, 2, 3, 4),)},
}


def _per_factor(value, name: str, s: int) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (s,)) if np.ndim(value) == 0 \
        else np.asarray(value, dtype=np.float64)
    if arr.shape != (s,):
        raise InvalidParameter(f"{name} must be a scalar or have one entry per factor ({s}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameter(f"{name} contains NaN or inf")
    return arr


def dependent_factor_covariance(groups, *, root_std: float | Sequence[float] = 1.0,
                                coupling: float | Sequence[float] = 1.0,
                                dependent_noise_std: float | Sequence[float] = 0.5) -> np.ndarray:
    r""":math:`\Sigma_V` of independent sub-groups with linear dependence on each group's root.

    ``groups`` is a partition of ``0..s-1``; the smallest index of each group is its root. The
    per-factor parameters may be scalars or length-``s`` sequences: ``root_std`` is read at the
    roots, ``coupling`` (α_j) and ``dependent_noise_std`` (σ_{z_j}) at the dependent factors.

    Examples
    --------
    Factors 0 and 1 form a group (v2 = v1 + z2, var z2 = 0.25), factor 2 is on its own:

    >>> from lingauss import dependent_factor_covariance
    >>> dependent_factor_covariance([(0, 1), (2,)])
    array([[1.  , 1.  , 0.  ],
           [1.  , 1.25, 0.  ],
           [0.  , 0.  , 1.  ]])
    """
    canon = check_partition(groups)
    s = sum(len(g) for g in canon)
    sd = _per_factor(root_std, "root_std", s)
    alpha = _per_factor(coupling, "coupling", s)
    noise = _per_factor(dependent_noise_std, "dependent_noise_std", s)
    if np.any(sd <= 0):
        raise InvalidParameter("root_std must be > 0")
    dependents = [j for g in canon for j in g[1:]]
    if np.any(alpha[dependents] == 0):
        raise InvalidParameter("coupling must be non-zero at dependent factors (a zero coupling makes the"
                         " factor independent of its group, contradicting the grouping)")
    if np.any(noise <= 0):
        raise InvalidParameter("dependent_noise_std must be > 0 (otherwise Σ_V is singular)")
    cov = np.zeros((s, s))
    for g in canon:
        root, deps = g[0], g[1:]
        load = np.zeros(s)
        load[root] = 1.0
        load[list(deps)] = alpha[list(deps)]
        cov += sd[root] ** 2 * np.outer(load, load)
        cov[list(deps), list(deps)] += noise[list(deps)] ** 2
    return cov


@dataclass(frozen=True, eq=False)
class Scenario:
    """A named factor scenario: its model, latent dimension ``n_latents`` and true grouping."""

    name: str
    model: LinearGaussianModel
    n_latents: int
    true_grouping: tuple[tuple[int, ...], ...]
    description: str = ""

    @property
    def size(self) -> tuple[int, int, int]:
        """``(s, n, m)``."""
        return (self.model.s, self.model.n, self.n_latents)

    @property
    def n_groups(self) -> int:
        """Number of independent sub-groups of factors."""
        return len(self.true_grouping)


def scenario_from_groups(groups, n: int, n_latents: int, *, noise_var: float = 0.1,
                         name: str | None = None, **cov_params) -> Scenario:
    """Scenario for any partition of the factors into independent sub-groups.

    ``cov_params`` go to :func:`dependent_factor_covariance`. Γ is the first ``s`` standard basis
    vectors of R^n (:meth:`LinearGaussianModel.standard`).

    Examples
    --------
    >>> from lingauss import scenario_from_groups
    >>> sc = scenario_from_groups([(0, 1), (2,)], n=4, n_latents=3)
    >>> sc.name, sc.true_grouping, sc.size
    ('groups {v1, v2} {v3}', ((0, 1), (2,)), (3, 4, 3))
    """
    canon = check_partition(groups)
    sigma_v = dependent_factor_covariance(canon, **cov_params)
    model = LinearGaussianModel.standard(sigma_v, n, as_finite_scalar(noise_var, "noise_var"))
    if not isinstance(n_latents, (int, np.integer)) or not 1 <= n_latents:
        raise InvalidParameter(f"n_latents must be a positive integer, got {n_latents!r}")
    desc = " ".join("{" + ", ".join(f"v{i + 1}" for i in g) + "}" for g in canon)
    return Scenario(name=name or f"groups {desc}", model=model, n_latents=int(n_latents),
                    true_grouping=canon, description=f"independent sub-groups {desc}")


def talk_scenario(size: tuple[int, int, int] = (3, 4, 3), index: int = 1, **params) -> Scenario:
    """One of the scenarios of Vu et al. (2024): ``size`` ∈ {(3, 4, 3), (5, 5, 4)}, ``index`` ∈ {1, 2, 3}.

    ``params``: ``noise_var``, ``root_std``, ``coupling``, ``dependent_noise_std`` (see module doc).

    Examples
    --------
    >>> from lingauss import talk_scenario
    >>> sc = talk_scenario((5, 5, 4), 2)
    >>> sc.name, sc.true_grouping, sc.n_latents
    ('(5,5,4) scenario 2', ((0, 1, 2), (3, 4)), 4)
    >>> sc.model.sigma_y.shape
    (5, 5)
    """
    try:
        size = tuple(operator.index(x) for x in size)
    except TypeError:
        raise InvalidParameter(f"size must be one of {sorted(SCENARIO_GROUPS)}, got {size!r}") from None
    if size not in SCENARIO_GROUPS:
        raise InvalidParameter(f"size must be one of {sorted(SCENARIO_GROUPS)}, got {size}")
    if isinstance(index, (bool, np.bool_)) or index not in SCENARIO_GROUPS[size]:
        raise InvalidParameter(f"index must be 1, 2 or 3, got {index!r}")
    s, n, m = size
    return scenario_from_groups(SCENARIO_GROUPS[size][index], n, m,
                                name=f"({s},{n},{m}) scenario {index}", **params)


def talk_scenarios(**params) -> list[Scenario]:
    """All six scenarios of Vu et al. (2024), (3, 4, 3) first, with shared ``params``.

    Examples
    --------
    >>> from lingauss import talk_scenarios
    >>> [sc.n_groups for sc in talk_scenarios(noise_var=0.05)]
    [3, 2, 1, 3, 2, 1]
    """
    return [talk_scenario(size, k, **params) for size in SCENARIO_GROUPS for k in (1, 2, 3)]
