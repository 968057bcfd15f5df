r"""The I_m disentanglement metric (Vu et al. 2024), exact and fast.

For a latents-first joint covariance of [x_1..x_m; v_1..v_s], an *assignment* sends each factor
v_j to one latent (groups may be empty; :math:`m^s` of them). Its score is

.. math:: \mathcal{I}(S) = \sum_{i:\,S_i\ne\emptyset} I(x_i; V_{S_i})
          - \sum_{p<q,\ S_p,S_q\ne\emptyset} I(V_{S_p}; V_{S_q})

(nats) and :math:`\mathcal{I}_m` is the maximum over assignments. Two methods give the same answer:

* ``"exhaustive"`` scores every labelled assignment (Numba; the reference), in O(1) amortised
  time per assignment after tabulating log-determinants of all 2^s factor subsets.
* ``"exact"`` uses that the penalty depends only on the unlabelled set partition while the reward is
  a matching of blocks to distinct latents: it enumerates set partitions into ≤ m blocks
  (restricted growth strings, :func:`~lingauss.metrics.partitions.count_set_partitions` of them
  instead of m^s) with branch-and-bound — MI is monotone under set inclusion, so the partial
  penalty only grows and a block's reward is at most its reward with every unplaced factor added
  (proof in :func:`lingauss.metrics._im_kernels.exact`) — and solves each surviving matching
  exactly.

  A second exact search, ``"dp"``, goes latent by latent over labelled assignments and bounds
  each branch by the penalty-free optimum of the rest (a dynamic programme over subsets, O(m 3^s)):
  exact when factors are independent (zero penalties), which is where the partition bounds are
  loosest. ``"exact"`` runs the partition search and, if it has not finished after
  ``_PARTITION_NODES`` nodes, switches to ``"dp"`` (s ≤ 18); ``"partition"`` never switches.

``"auto"`` picks exhaustive when m^s ≤ 10^5, else exact. ``IMResult.method`` names the search that
produced the result (``"exhaustive"``, ``"partition"`` or ``"dp"``). Ties: assignments within ``tol`` nats of
the maximum are counted (``ties``), and so are the distinct groupings among them
(``tied_groupings``; > 1 means the best grouping is ambiguous). The exhaustive method records at most
4096 tied assignments for ``tied_groupings`` (exact below that, a lower bound above).
"""

from __future__ import annotations

import numpy as np

from ..scenarios import canonical_grouping
from ._im_kernels import exact as _exact_kernel
from ._im_kernels import exact_dp as _exact_dp_kernel
from ._im_kernels import exhaustive as _exhaustive_kernel
from ._im_kernels import penalty_free_dp, score_of_masks, subset_tables
from ._joint import check_joint, correlation
from .results import IMLandscape, IMResult

__all__ = ["im_score", "im_scores_all", "im_score_from_samples", "im_tables", "MAX_FACTORS"]

#: Largest number of factors (the tables hold 2^s entries per latent).
MAX_FACTORS = 20
_MAX_EXHAUSTIVE = 10**13
_MAX_LANDSCAPE = 10**7
_AUTO_EXHAUSTIVE = 10**5
_TIE_RECORDS = 4096
_PARTITION_NODES = 5_000_000
_MAX_DP_FACTORS = 18
_METHODS = ("auto", "exhaustive", "exact", "partition", "dp")


def im_tables(joint_cov, n_latents: int) -> tuple[np.ndarray, np.ndarray]:
    """``(LD, R)``: log|R_VV[M]| and I(x_i; V_M) (nats) for every factor subset M (bit j = factor j).

    Computed on the correlation matrix; raises ``ValueError`` for a bad ``joint_cov``/``n_latents``
    or more than :data:`MAX_FACTORS` factors.
    """
    cov, m, s = check_joint(joint_cov, n_latents)
    if s > MAX_FACTORS:
        raise ValueError(f"joint_cov has {s} factors; I_m supports at most {MAX_FACTORS} "
                         f"(its tables hold 2^s entries per latent)")
    LD, R, ok = subset_tables(correlation(cov), m, s)
    if not ok:
        raise ValueError("joint_cov is numerically singular: a conditional variance vanished")
    return LD, R


def _groups_from(assignment, m):
    return tuple(tuple(j for j, a in enumerate(assignment) if a == i) for i in range(m))


def _decode(index: int, m: int, s: int) -> tuple[int, ...]:
    out = []
    for _ in range(s):
        index, digit = divmod(index, m)
        out.append(digit)
    return tuple(out)


def _greedy_incumbent(LD, R, m, s) -> float:
    """Score of 'every factor to its most informative latent' (a feasible lower bound)."""
    masks = np.zeros(m, dtype=np.int64)
    for j in range(s):
        masks[int(np.argmax(R[:, 1 << j]))] |= 1 << j
    return float(score_of_masks(masks, LD, R))


def _factor_order(LD, s) -> np.ndarray:
    """Place the most dependent factors first: decreasing Σ_k I(v_j; v_k)."""
    dep = np.zeros(s)
    for j in range(s):
        for k in range(s):
            if j != k:
                dep[j] += 0.5 * (LD[1 << j] + LD[1 << k] - LD[(1 << j) | (1 << k)])
    return np.argsort(-dep, kind="stable").astype(np.int64)


def im_score(joint_cov, n_latents: int, *, method: str = "auto", tol: float = 1e-9) -> IMResult:
    """The I_m score of a latents-first joint covariance, with the maximising assignment.

    Parameters
    ----------
    joint_cov : (m+s, m+s) SPD array, latents first (see :meth:`LinearGaussianModel.joint_covariance`)
    n_latents : m, with 1 ≤ m < m+s
    method : ``"auto"``, ``"exhaustive"`` (all m^s assignments), ``"exact"`` (partition
        branch-and-bound, switching to ``"dp"`` if it runs long), ``"partition"`` or ``"dp"``;
        all return the same score, grouping and ties
    tol : absolute tolerance (nats) for counting ties at the maximum

    Returns
    -------
    IMResult
        ``score`` (nats), ``assignment``, ``groups``, ``grouping``, ``ties``, ``tied_groupings``,
        ``n_evaluated``, ``method``.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    LD, R = im_tables(joint_cov, n_latents)
    m, s = int(n_latents), LD.shape[0].bit_length() - 1
    n_assign = m ** s
    if method == "auto":
        method = "exhaustive" if n_assign <= _AUTO_EXHAUSTIVE else "exact"
    if method == "exhaustive":
        if n_assign > _MAX_EXHAUSTIVE:
            raise ValueError(f"method='exhaustive' would score m^s = {n_assign:.3g} assignments; "
                             "use method='exact'")
        rec = np.empty(_TIE_RECORDS, dtype=np.int64)
        state = _exhaustive_kernel(LD, R, m, s, float(tol), False, np.empty(0), rec)
        return _labelled_result(_decode(int(state[1]), m, s), state, rec, m, s, n_assign, "exhaustive")
    if method == "dp" and s > _MAX_DP_FACTORS:
        raise ValueError(f"method='dp' supports at most {_MAX_DP_FACTORS} factors (O(m 3^s) table)")
    incumbent = _greedy_incumbent(LD, R, m, s)
    if method in ("exact", "partition"):
        budget = _PARTITION_NODES if (method == "exact" and s <= _MAX_DP_FACTORS) else 0
        best, masks, lat, ties, tied_groupings, n_leaves, complete = _exact_kernel(
            LD, R, m, s, _factor_order(LD, s), float(tol), incumbent, budget)
        if complete:
            assignment = [0] * s
            for b in range(m):
                if lat[b] >= 0:
                    for j in range(s):
                        if (int(masks[b]) >> j) & 1:
                            assignment[j] = int(lat[b])
            return _result(tuple(assignment), float(best), int(ties), int(tied_groupings),
                           int(n_leaves), "partition", m)
    F = penalty_free_dp(R, m, s)
    rec = np.empty(_TIE_RECORDS, dtype=np.int64)
    state, masks, n_leaves = _exact_dp_kernel(LD, R, F, m, s, float(tol), incumbent, rec)
    assignment = tuple(next(i for i in range(m) if (int(masks[i]) >> j) & 1) for j in range(s))
    return _labelled_result(assignment, state, rec, m, s, int(n_leaves), "dp")


def _result(assignment, score, ties, tied_groupings, n_evaluated, method, m) -> IMResult:
    groups = _groups_from(assignment, m)
    return IMResult(score=score, assignment=assignment, groups=groups,
                    grouping=canonical_grouping(groups), ties=ties, tied_groupings=tied_groupings,
                    n_evaluated=n_evaluated, method=method)


def _labelled_result(assignment, state, rec, m, s, n_evaluated, method) -> IMResult:
    """Result of a search over labelled assignments: tied groupings from the recorded ties."""
    tied = {canonical_grouping(_groups_from(_decode(int(k), m, s), m)) for k in rec[:int(state[3])]}
    return _result(assignment, float(state[0]), int(state[2]), max(len(tied), 1), n_evaluated, method, m)


def im_scores_all(joint_cov, n_latents: int) -> IMLandscape:
    """Every labelled assignment's score (nats), for small cases (m^s ≤ 10^7): ranking and plots."""
    LD, R = im_tables(joint_cov, n_latents)
    m, s = int(n_latents), LD.shape[0].bit_length() - 1
    if m ** s > _MAX_LANDSCAPE:
        raise ValueError(f"im_scores_all would store m^s = {m ** s:.3g} scores (limit {_MAX_LANDSCAPE:.0e})")
    out = np.empty(m ** s)
    _exhaustive_kernel(LD, R, m, s, 0.0, True, out, np.empty(1, dtype=np.int64))
    return IMLandscape(scores=out, n_latents=m, n_factors=s)


def im_score_from_samples(latents, factors, *, shrinkage=None, method: str = "auto",
                          tol: float = 1e-9) -> IMResult:
    """I_m of sampled latents (N×m) and factors (N×s) through their joint sample covariance.

    See :func:`lingauss.metrics.samples.joint_covariance_from_samples` for ``shrinkage``.
    """
    from .samples import joint_covariance_from_samples

    cov = joint_covariance_from_samples(latents, factors, shrinkage=shrinkage)
    return im_score(cov, np.shape(latents)[1] if np.ndim(latents) == 2 else 1, method=method, tol=tol)
