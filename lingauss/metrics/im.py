r"""The I_m disentanglement metric (Vu et al. 2024), exact and fast.

For a latents-first joint covariance of [x_1..x_m; v_1..v_s], an *assignment* sends each factor
v_j to one latent (groups may be empty; :math:`m^s` of them). Its score is

.. math:: \mathcal{I}(S) = \sum_{i:\,S_i\ne\emptyset} I(x_i; V_{S_i})
          - \sum_{p<q,\ S_p,S_q\ne\emptyset} I(V_{S_p}; V_{S_q})

(nats) and :math:`\mathcal{I}_m` is the maximum over assignments. All methods give the same answer:

* ``"exhaustive"`` scores every labelled assignment (Numba; the reference), in O(1) amortised
  time per assignment after tabulating log-determinants of all 2^s factor subsets.
* ``"exact"`` (alias ``"partition"``) uses that the penalty depends only on the unlabelled set
  partition while the reward is a matching of blocks to distinct latents: it enumerates set
  partitions into ≤ m blocks (restricted growth strings,
  :func:`~lingauss.metrics.partitions.count_set_partitions` of them instead of m^s) with
  branch-and-bound and solves each surviving matching exactly. A node is cut when a Lagrangian
  bound on the reward of every completion, minus the partial penalty (MI is monotone under
  inclusion, so the penalty only grows), falls below the incumbent (a local-search optimum found
  first); proofs in :mod:`lingauss.metrics._im_bounds` and :mod:`lingauss.metrics._im_search`. The search starts from ~4096 subtrees,
  runs on ``n_jobs`` threads in chunks of ~0.1 s (progress, Ctrl-C, ``time_limit``), and hands
  unexplored siblings of busy threads to idle ones. Stopped by ``time_limit``, it returns the
  best assignment found and a certified upper bound: the largest node bound over the unexplored
  part of the tree.
* ``"dp"`` goes latent by latent over labelled assignments and bounds each branch by the
  penalty-free optimum of the rest (a dynamic programme over subsets, O(m 3^s), s ≤ 18); kept as
  an independent second exact search.

``"auto"`` picks exhaustive when m^s ≤ 10^5, else exact. ``IMResult.method`` names the search that
produced the result (``"exhaustive"``, ``"partition"`` or ``"dp"``); ``bound``/``exact`` say whether a time
limit cut the search short. Ties: assignments within ``tol`` nats of
the maximum are counted (``ties``), and so are the distinct groupings among them
(``tied_groupings``; > 1 means the best grouping is ambiguous). The exhaustive method records at most
4096 tied assignments for ``tied_groupings`` (exact below that, a lower bound above).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import replace

import numba
import numpy as np
from tqdm.auto import tqdm

from lingauss.params import InvalidParameter
from ..grouping import assignment_groups, canonical_grouping
from ..params import Interval, Options, validate_params
from ..warmup import register
from . import _im_bounds as _bounds
from . import _im_search as _kernels
from ._im_kernels import exact_dp as _exact_dp_kernel
from ._im_kernels import exhaustive as _exhaustive_kernel
from ._im_kernels import penalty_free_dp, score_of_masks, subset_tables, subset_tables_t
from ._joint import check_joint, correlation
from .partitions import count_set_partitions
from .results import IMLandscape, IMResult

__all__ = ["im_score", "im_scores_all", "im_score_from_samples", "im_tables", "MAX_FACTORS"]

#: Largest number of factors (the tables hold 2^s entries per latent).
MAX_FACTORS = 20
_MAX_EXHAUSTIVE = 10**13
_MAX_LANDSCAPE = 10**7
_AUTO_EXHAUSTIVE = 10**5
_TIE_RECORDS = 4096
_TASKS = 4096            # the search starts from about this many subtrees (load balancing)
_CHUNK_SECONDS = 0.1     # kernels return to Python this often (progress, time limit, Ctrl-C)
_MIN_CHUNK_NODES = 1000  # ... but run at least this many nodes per thread in between
_RESTARTS = 30           # local-search restarts for the incumbent
_PRICE_ITERS = 15        # subgradient steps for the Lagrangian prices
_PARALLEL_FACTORS = 16   # below this many factors a call takes well under a second: one thread
_MAX_DP_FACTORS = 18
_METHODS = ("auto", "exhaustive", "exact", "partition", "dp")


def im_tables(joint_cov, n_latents: int) -> tuple[np.ndarray, np.ndarray]:
    """``(LD, R)``: log|R_VV[M]| and I(x_i; V_M) (nats) for every factor subset M (bit j = factor j).

    Computed on the correlation matrix; raises ``ValueError`` for a bad ``joint_cov``/``n_latents``
    or more than :data:`MAX_FACTORS` factors.
    """
    cov, m, s = check_joint(joint_cov, n_latents)
    if s > MAX_FACTORS:
        raise InvalidParameter(f"joint_cov has {s} factors; I_m supports at most {MAX_FACTORS} "
                         f"(its tables hold 2^s entries per latent)")
    LD, R, ok = subset_tables(correlation(cov), m, s)
    if not ok:
        raise InvalidParameter("joint_cov is numerically singular: a conditional variance vanished")
    return LD, R


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


#: What :func:`im_score` accepts, declared once (the command line reads it instead of re-checking).
IM_CONSTRAINTS = dict(
    method=[Options(_METHODS)],
    tol=[Interval(float, 0, None, closed="left")],
    time_limit=[None, Interval(float, 0, None, closed="neither")],
    progress=[bool, callable],
    n_jobs=[None, Interval(int, 1, numba.config.NUMBA_NUM_THREADS)],
)


@validate_params(**IM_CONSTRAINTS)
def im_score(joint_cov, n_latents: int, *, method: str = "auto", tol: float = 1e-9,
             time_limit: float | None = None, progress=True, n_jobs: int | None = None) -> IMResult:
    """The I_m score of a latents-first joint covariance, with the maximising assignment.

    Parameters
    ----------
    joint_cov : (m+s, m+s) SPD array, latents first (see :meth:`LinearGaussianModel.joint_covariance`)
    n_latents : m, with 1 ≤ m < m+s
    method : ``"auto"``, ``"exhaustive"`` (all m^s assignments), ``"exact"`` / ``"partition"``
        (the parallel partition branch-and-bound) or ``"dp"`` (subset-DP search, s ≤ 18);
        all return the same score, grouping and ties
    tol : absolute tolerance (nats) for counting ties at the maximum
    time_limit : seconds (``None``: no limit, the answer is exact). With a limit the partition
        search stops after about that long and returns the best assignment found, with a certified
        upper bound (``bound``) on the maximum and ``exact=False`` if it did not finish (the
        tables and the incumbent are built first, about a second at s = 20). Only the
        partition search takes a limit (``"auto"`` uses it except on ≤ 10^5 assignments, which the
        exhaustive kernel scores in milliseconds).
    progress : ``True`` shows a progress bar on stderr for searches that run over a second,
        ``False`` nothing; a callable is called after every chunk (about 0.1 s) with a dict
        ``{"done", "total", "score", "bound", "nodes", "elapsed"}``.
    n_jobs : threads of the partition search (``None``: :func:`numba.get_num_threads`).

    Returns
    -------
    IMResult
        ``score`` (nats), ``assignment``, ``groups``, ``grouping``, ``ties``, ``tied_groupings``,
        ``n_evaluated``, ``method``, ``bound`` (≥ the true maximum; equal to ``score`` when
        ``exact``), ``exact``, ``n_nodes`` (search nodes bounded). Ctrl-C interrupts the search
        within about 0.1 s (``KeyboardInterrupt``).
    """
    time_limit = None if time_limit is None else float(time_limit)
    n_jobs = numba.get_num_threads() if n_jobs is None else int(n_jobs)
    cov, m, s = check_joint(joint_cov, n_latents)
    n_assign = m ** s
    if time_limit is not None and method in ("exhaustive", "dp"):
        raise InvalidParameter(f"time_limit is supported by method='exact', 'partition' or 'auto', not {method!r}")
    if method == "auto":
        method = "exhaustive" if n_assign <= _AUTO_EXHAUSTIVE else "exact"
    if method in ("exact", "partition"):
        return _partition_search(cov, m, s, float(tol), time_limit, progress, n_jobs)
    LD, R = im_tables(cov, m)
    if method == "exhaustive":
        if n_assign > _MAX_EXHAUSTIVE:
            raise InvalidParameter(f"method='exhaustive' would score m^s = {n_assign:.3g} assignments; "
                             "use method='exact'")
        rec = np.empty(_TIE_RECORDS, dtype=np.int64)
        state = _exhaustive_kernel(LD, R, m, s, float(tol), False, np.empty(0), rec)
        return _labelled_result(_decode(int(state[1]), m, s), state, rec, m, s, n_assign, "exhaustive")
    if s > _MAX_DP_FACTORS:
        raise InvalidParameter(f"method='dp' supports at most {_MAX_DP_FACTORS} factors (O(m 3^s) table)")
    incumbent = _greedy_incumbent(LD, R, m, s)
    F = penalty_free_dp(R, m, s)
    rec = np.empty(_TIE_RECORDS, dtype=np.int64)
    state, masks, n_leaves = _exact_dp_kernel(LD, R, F, m, s, float(tol), incumbent, rec)
    assignment = tuple(next(i for i in range(m) if (int(masks[i]) >> j) & 1) for j in range(s))
    return _labelled_result(assignment, state, rec, m, s, int(n_leaves), "dp")


def _factor_order(corr, m, s) -> np.ndarray:
    """Search order: most dependent factors first (decreasing Σ_k I(v_j; v_k), pairwise MI)."""
    rho = corr[m:, m:]
    mi = -0.5 * np.log(np.clip(1.0 - rho ** 2, 1e-300, None))
    np.fill_diagonal(mi, 0.0)
    return np.argsort(-mi.sum(axis=1), kind="stable").astype(np.int64)


def _task_depth(s, m) -> int:
    d = 0
    while d < s - 1 and count_set_partitions(d, m) < _TASKS:
        d += 1
    return d


class _Search:
    """State of one parallel partition search (see :mod:`lingauss.metrics._im_search`)."""

    def __init__(self, LD, E, lamsuf, m, s, tol, incumbent, n_slots):
        self.LD, self.E, self.lamsuf, self.m, self.s, self.tol = LD, E, lamsuf, m, s, tol
        d0 = _task_depth(s, m)
        labs, ubs = _kernels.make_tasks(LD, E, lamsuf, m, s, d0, incumbent, tol)
        idx = np.argsort(-ubs, kind="stable")
        self.labs = np.ascontiguousarray(labs[idx])
        self.ubs = ubs[idx].copy()
        self.tlen = np.full(len(idx), d0, dtype=np.int64)
        self.pool = deque(range(len(idx)))
        n = n_slots
        self.queue = np.zeros((n, 1), dtype=np.int64)
        self.qpos = np.zeros(n, dtype=np.int64)
        self.qlen = np.zeros(n, dtype=np.int64)
        self.cur = np.full(n, -1, dtype=np.int64)
        self.choice = np.full((n, s + 1), -1, dtype=np.int64)
        self.kst = np.zeros((n, s + 1), dtype=np.int64)
        self.pst = np.zeros((n, s + 1))
        self.blk = np.zeros((n, m), dtype=np.int64)
        self.dep = np.zeros(n, dtype=np.int64)
        self.base = np.zeros(n, dtype=np.int64)
        self.cap = np.full((n, s + 1), m, dtype=np.int64)
        self.thresh = np.array([incumbent])
        self.best = np.full(n, -np.inf)
        self.bmask = np.zeros((n, m), dtype=np.int64)
        self.blat = np.full((n, m), -1, dtype=np.int64)
        self.ties = np.zeros(n)
        self.tgroup = np.zeros(n, dtype=np.int64)
        self.leaves = np.zeros(n, dtype=np.int64)
        self.nodes = np.zeros(n, dtype=np.int64)
        self.done = np.zeros(n, dtype=np.int64)

    @property
    def finished(self) -> bool:
        return not self.pool and bool(np.all(self.cur < 0)) and bool(np.all(self.qpos >= self.qlen))

    def _fill_queues(self):
        n = len(self.cur)
        for slot in range(n):                        # unstarted queued tasks go back to the pool
            for q in self.queue[slot, self.qpos[slot]:self.qlen[slot]][::-1]:
                self.pool.appendleft(int(q))
        per = -(-len(self.pool) // n) if self.pool else 0
        if per > self.queue.shape[1]:
            self.queue = np.zeros((n, per), dtype=np.int64)
        for slot in range(n):
            take = [self.pool.popleft() for _ in range(min(per, len(self.pool)))]
            self.queue[slot, :len(take)] = take
            self.qpos[slot], self.qlen[slot] = 0, len(take)

    def _steal(self):
        """Idle slots and an empty pool: hand the untried siblings at the shallowest open depth of
        each busy slot's stack to the pool as new tasks (the busy slot stops below them)."""
        if self.pool or not np.any(self.cur < 0):
            return
        new_labs, new_len, new_ubs = [], [], []
        for slot in np.flatnonzero(self.cur >= 0):
            for e in range(int(self.base[slot]), min(int(self.dep[slot]), self.s - 1)):
                k = int(self.kst[slot, e])
                limit = min(k + 1 if k < self.m else k, int(self.cap[slot, e]))
                first = int(self.choice[slot, e]) + 1
                if first >= limit:
                    continue
                for c in range(first, limit):
                    lab = np.zeros(self.s, dtype=np.int64)
                    lab[:e] = self.choice[slot, :e]
                    lab[e] = c
                    new_labs.append(lab)
                    new_len.append(e + 1)
                    new_ubs.append(_kernels.prefix_bound(self.LD, self.E, self.lamsuf, self.m, self.s,
                                                         lab, e + 1))
                self.cap[slot, e] = first
                break
        if new_labs:
            start = len(self.ubs)
            self.labs = np.ascontiguousarray(np.vstack([self.labs, np.array(new_labs)]))
            self.tlen = np.concatenate([self.tlen, new_len]).astype(np.int64)
            self.ubs = np.concatenate([self.ubs, new_ubs])
            self.pool.extend(range(start, len(self.ubs)))

    def run_chunk(self, budget):
        self._fill_queues()
        _kernels.search_chunk(self.LD, self.E, self.lamsuf, self.m, self.s, self.tol, int(budget),
                              self.labs, self.tlen, self.queue, self.qpos, self.qlen, self.cur,
                              self.choice, self.kst, self.pst, self.blk, self.dep, self.base,
                              self.cap, self.thresh, self.best, self.bmask, self.blat, self.ties,
                              self.tgroup, self.leaves, self.nodes, self.done)
        self._steal()

    def open_bound(self) -> float:
        """Largest bound over the unexplored nodes (−inf when the search is complete)."""
        out = -np.inf
        pending = list(self.pool)
        for slot in range(len(self.cur)):
            pending.extend(int(q) for q in self.queue[slot, self.qpos[slot]:self.qlen[slot]])
            out = max(out, _kernels.frontier_bound(self.LD, self.E, self.lamsuf, self.m, self.s, slot,
                                                   self.choice, self.kst, self.pst, self.dep,
                                                   self.base, self.cap, self.labs, self.cur))
        if pending:
            out = max(out, float(np.max(self.ubs[pending])))
        return out


def _search_tables(cov, m, s, n_jobs, parallel):
    """``(order, LD, E, lamsuf, incumbent, inc_masks)``: the search order of the factors, the
    log-determinant and Lagrangian reward tables, and the local-search incumbent."""
    corr = correlation(cov)
    order = _factor_order(corr, m, s)
    perm = np.concatenate([np.arange(m), m + order])
    old_threads = numba.get_num_threads()
    numba.set_num_threads(n_jobs)
    try:
        LD, RT, ok = subset_tables_t(np.ascontiguousarray(corr[np.ix_(perm, perm)]), m, s,
                                     n_jobs if parallel else 1)
    finally:
        numba.set_num_threads(old_threads)
    if not ok:
        raise InvalidParameter("joint_cov is numerically singular: a conditional variance vanished")
    incumbent, inc_masks = _bounds.local_search(LD, RT.T, m, s, _RESTARTS, 0)
    numba.set_num_threads(n_jobs)
    try:
        lams = np.stack([_bounds.standalone_prices(RT, m, s),
                         _bounds.lagrange_prices(RT, m, s, _PRICE_ITERS, incumbent, parallel)])
        E = _bounds.reward_tables(RT, lams, m, s, parallel)
    finally:
        numba.set_num_threads(old_threads)
    lamsuf = np.concatenate([np.cumsum(lams[:, ::-1], axis=1)[:, ::-1], np.zeros((2, 1))], axis=1)
    return order, LD, E, lamsuf, incumbent, inc_masks


def _partition_search(cov, m, s, tol, time_limit, progress, n_jobs) -> IMResult:
    """Exact (or, under ``time_limit``, anytime) I_m by the partition branch-and-bound."""
    t0 = time.perf_counter()
    if s > MAX_FACTORS:
        raise InvalidParameter(f"joint_cov has {s} factors; I_m supports at most {MAX_FACTORS} "
                         f"(its tables hold 2^s entries per latent)")
    parallel = n_jobs > 1 and s >= _PARALLEL_FACTORS
    order, LD, E, lamsuf, incumbent, inc_masks = _search_tables(cov, m, s, n_jobs, parallel)
    search = _Search(LD, E, lamsuf, m, s, tol, incumbent, n_jobs if parallel else 1)
    budget, bar = 2 * _MIN_CHUNK_NODES, None
    old_threads = numba.get_num_threads()
    numba.set_num_threads(n_jobs)
    try:
        while not search.finished:
            if time_limit is not None and time.perf_counter() - t0 >= time_limit:
                break
            c0 = time.perf_counter()
            search.run_chunk(budget)
            dt = time.perf_counter() - c0
            budget = int(min(max(budget * _CHUNK_SECONDS / max(dt, 1e-4), _MIN_CHUNK_NODES), 10**8))
            if progress is True and bar is None and time.perf_counter() - t0 > 1.0:
                bar = tqdm(total=len(search.ubs), desc=f"I_m exact (s={s}, m={m})", unit="task",
                           file=sys.stderr, leave=False)
            if bar is not None or callable(progress):
                info = {"done": int(search.done.sum()), "total": len(search.ubs),
                        "score": float(max(search.thresh[0], incumbent)),
                        "bound": float(max(search.open_bound(), search.thresh[0], incumbent)),
                        "nodes": int(search.nodes.sum()), "elapsed": time.perf_counter() - t0}
                if bar is not None:
                    bar.total = info["total"]
                    bar.n = info["done"]
                    bar.set_postfix(score=f"{info['score']:.6g}", bound=f"{info['bound']:.6g}", refresh=False)
                    bar.refresh()
                if callable(progress):
                    progress(info)
    finally:
        numba.set_num_threads(old_threads)
        if bar is not None:
            bar.close()
    exact = search.finished
    found = search.best > -np.inf
    if found.any() and (exact or search.best.max() >= incumbent):
        top = float(search.best.max())
        winner = int(np.argmax(search.best))
        near = search.best >= top - tol
        ties, tied_groupings = int(search.ties[near].sum()), int(search.tgroup[near].sum())
        assignment_sorted = np.zeros(s, dtype=np.int64)
        for b in range(m):
            for j in range(s):
                if search.blat[winner, b] >= 0 and (int(search.bmask[winner, b]) >> j) & 1:
                    assignment_sorted[j] = search.blat[winner, b]
    else:                                             # only under a time limit: the incumbent
        top, ties, tied_groupings = float(incumbent), 1, 1
        assignment_sorted = np.zeros(s, dtype=np.int64)
        for i in range(m):
            for j in range(s):
                if (int(inc_masks[i]) >> j) & 1:
                    assignment_sorted[j] = i
    assignment = [0] * s
    for pos, j in enumerate(order):
        assignment[int(j)] = int(assignment_sorted[pos])
    bound = top if exact else max(top, search.open_bound())
    res = _result(tuple(assignment), top, max(ties, 1), max(tied_groupings, 1),
                  int(search.leaves.sum()), "partition", m)
    return replace(res, bound=float(bound), exact=bool(exact), n_nodes=int(search.nodes.sum()))


def _result(assignment, score, ties, tied_groupings, n_evaluated, method, m) -> IMResult:
    groups = assignment_groups(assignment, m)
    return IMResult(score=score, assignment=assignment, groups=groups,
                    grouping=canonical_grouping(groups), ties=ties, tied_groupings=tied_groupings,
                    n_evaluated=n_evaluated, method=method)


def _labelled_result(assignment, state, rec, m, s, n_evaluated, method) -> IMResult:
    """Result of a search over labelled assignments: tied groupings from the recorded ties."""
    tied = {canonical_grouping(assignment_groups(_decode(int(k), m, s), m)) for k in rec[:int(state[3])]}
    return _result(assignment, float(state[0]), int(state[2]), max(len(tied), 1), n_evaluated, method, m)


def im_scores_all(joint_cov, n_latents: int) -> IMLandscape:
    """Every labelled assignment's score (nats), for small cases (m^s ≤ 10^7): ranking and plots."""
    LD, R = im_tables(joint_cov, n_latents)
    m, s = int(n_latents), LD.shape[0].bit_length() - 1
    if m ** s > _MAX_LANDSCAPE:
        raise InvalidParameter(f"im_scores_all would store m^s = {m ** s:.3g} scores (limit {_MAX_LANDSCAPE:.0e})")
    out = np.empty(m ** s)
    _exhaustive_kernel(LD, R, m, s, 0.0, True, out, np.empty(1, dtype=np.int64))
    return IMLandscape(scores=out, n_latents=m, n_factors=s)


def im_score_from_samples(latents, factors, *, shrinkage=None, method: str = "auto",
                          tol: float = 1e-9, time_limit: float | None = None, progress=True,
                          n_jobs: int | None = None) -> IMResult:
    """I_m of sampled latents (N×m) and factors (N×s) through their joint sample covariance.

    See :func:`lingauss.metrics.samples.joint_covariance_from_samples` for ``shrinkage`` and
    :func:`im_score` for the other options.
    """
    from .samples import joint_covariance_from_samples

    cov = joint_covariance_from_samples(latents, factors, shrinkage=shrinkage)
    return im_score(cov, np.shape(latents)[1] if np.ndim(latents) == 2 else 1, method=method, tol=tol,
                    time_limit=time_limit, progress=progress, n_jobs=n_jobs)


@register("im", description="I_m kernels: exact partition search, exhaustive, subset DP, tables")
def _warm_im() -> None:
    """Call every I_m kernel once on a small covariance (the production argument types)."""
    m, s = 3, 6
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m + s, m + s))
    cov = a @ a.T + (m + s) * np.eye(m + s)
    for method in ("exact", "exhaustive", "dp"):
        im_score(cov, m, method=method, progress=lambda info: None, n_jobs=1)
    im_scores_all(cov, m)
    order, LD, E, lamsuf, _, _ = _search_tables(cov, m, s, 1, False)
    _kernels.prefix_bound(LD, E, lamsuf, m, s, np.zeros(s, dtype=np.int64), 1)  # work stealing
