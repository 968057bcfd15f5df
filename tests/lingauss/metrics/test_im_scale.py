"""I_m at scale: Lagrangian bounds, the parallel/resumable partition search, anytime answers.

Independent references: brute force over completions from ``gaussian_mi``, the exhaustive kernel,
and a randomised local search written here from the score's definition on the tables.
"""

import itertools

import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import lingauss as lg
import lingauss.metrics.im as im_module
from analysis.bench import im_benchmark_covariance
from lingauss.metrics import im_score, im_tables, set_partitions
from lingauss.metrics import _im_bounds as B
from lingauss.metrics import _im_search as K
from lingauss.metrics._im_kernels import subset_tables, subset_tables_t
from lingauss.testing import _spd_from_seed, joint_covariances


def _score(groups, LD, R):
    """Score of latent-labelled groups (masks) from the definition on the tables."""
    m = len(groups)
    val = sum(R[i, g] for i, g in enumerate(groups) if g)
    for p, q in itertools.combinations(range(m), 2):
        if groups[p] and groups[q]:
            val -= 0.5 * (LD[groups[p]] + LD[groups[q]] - LD[groups[p] | groups[q]])
    return val


def random_local_search(cov, m, restarts, seed):
    """Best of first-improvement single-factor moves from random assignments (a lower bound)."""
    LD, R = im_tables(cov, m)
    s = cov.shape[0] - m
    rng = np.random.default_rng(seed)
    best = -np.inf
    for _ in range(restarts):
        a = rng.integers(0, m, s)
        masks = [sum(1 << j for j in range(s) if a[j] == i) for i in range(m)]
        cur = _score(masks, LD, R)
        improved = True
        while improved:
            improved = False
            for j in rng.permutation(s):
                for i in rng.permutation(m):
                    if i == a[j]:
                        continue
                    new = list(masks)
                    new[a[j]] &= ~(1 << j)
                    new[i] |= 1 << j
                    v = _score(new, LD, R)
                    if v > cur + 1e-12:
                        masks, cur, a[j], improved = new, v, i, True
        best = max(best, cur)
    return best


# ------------------------------------------------------------------------------ bound proofs

def _permuted_tables(cov, m):
    corr = im_module.correlation(cov)
    s = cov.shape[0] - m
    LD, RT, ok = subset_tables_t(np.ascontiguousarray(corr), m, s)
    assert ok
    return LD, RT


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), lam_scale=st.floats(-1.0, 2.0))
def test_reward_tables_match_their_definition(seed, lam_scale):
    """E^{(d)}_i[S] = max_{X ⊆ {d..s-1}} R[i, S ∪ X] − λ(X), by enumeration."""
    m, s = 2, 5
    cov = _spd_from_seed(seed, m + s, 50.0, 1.0)
    LD, RT = _permuted_tables(cov, m)
    rng = np.random.default_rng(seed)
    lams = np.stack([lam_scale * rng.random(s), rng.standard_normal(s)])
    E = B.reward_tables(RT, lams, m, s, False)
    assert np.array_equal(E, B.reward_tables(RT, lams, m, s, True))
    for p in range(2):
        for d in range(s + 1):
            U = list(range(d, s))
            for S in range(1 << d):
                for i in range(m):
                    want = max(RT[S | sum(1 << j for j in X), i] - sum(lams[p][j] for j in X)
                               for r in range(len(U) + 1) for X in itertools.combinations(U, r))
                    assert E[(1 << d) - 1 + S, p, i] == pytest.approx(want, abs=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_node_bound_covers_every_completion(seed):
    """The Lagrangian bound minus the partial penalty is ≥ the score of every completion, for all
    prefixes of all set partitions, any prices (brute force from gaussian_mi)."""
    m, s = 3, 5
    cov = lg.LinearGaussianModel.standard(np.eye(s), s, 0.1).joint_covariance(
        np.random.default_rng(seed).standard_normal((m, s)), 0.3 * np.eye(m)) \
        if seed % 2 else _spd_from_seed(seed, m + s, 50.0, 1.0)
    LD, RT = _permuted_tables(cov, m)
    rng = np.random.default_rng(seed)
    lams = np.stack([B.standalone_prices(RT, m, s), 2 * rng.standard_normal(s)])
    lamsuf = np.concatenate([np.cumsum(lams[:, ::-1], axis=1)[:, ::-1], np.zeros((2, 1))], axis=1)
    E = B.reward_tables(RT, lams, m, s, False)

    def score(blocks):
        best = max(sum(lg.gaussian_mi(cov, [lat], [m + j for j in blk]) for blk, lat in zip(blocks, perm))
                   for perm in itertools.permutations(range(m), len(blocks)))
        return best - sum(lg.gaussian_mi(cov, [m + j for j in p], [m + j for j in q])
                          for p, q in itertools.combinations(blocks, 2))

    finals = [(p, score(p)) for p in set_partitions(s, m)]
    for d in range(0, s + 1):
        groups = {}
        for p, v in finals:
            prefix = tuple(tuple(j for j in blk if j < d) for blk in p if min(blk) < d)
            groups.setdefault(prefix, []).append(v)
        for prefix, values in groups.items():
            labels = np.zeros(s, dtype=np.int64)
            for b, blk in enumerate(prefix):
                labels[list(blk)] = b
            ub = K.prefix_bound(LD, E, lamsuf, m, s, labels, d)
            assert ub >= max(values) - 1e-10


def test_parallel_subset_tables_equal_serial():
    for s, m in [(6, 2), (9, 3), (11, 4)]:
        corr = im_module.correlation(_spd_from_seed(s, m + s, 20.0, 1.0))
        a = subset_tables_t(corr, m, s, 1)
        b = subset_tables_t(corr, m, s, 2)
        assert a[2] and b[2]
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        LD, R, _ = subset_tables(corr, m, s)
        assert np.array_equal(R, a[1].T)


# ------------------------------------------------------------------------------ the search

@pytest.mark.parametrize("kind", ["structured", "random", "grouped", "weak"])
@pytest.mark.parametrize("s, m", [(7, 3), (8, 4), (9, 3)])
def test_partition_search_agrees_with_exhaustive(kind, s, m):
    for seed in range(2):
        cov = im_benchmark_covariance(s, m, kind, seed)
        a = im_score(cov, m, method="exhaustive")
        b = im_score(cov, m, method="exact")
        assert b.exact and b.bound == b.score
        assert b.score == pytest.approx(a.score, abs=1e-10)
        assert (b.ties, b.tied_groupings) == (a.ties, a.tied_groupings)
        if a.tied_groupings == 1:
            assert b.grouping == a.grouping


@pytest.mark.parametrize("kind", ["structured", "random"])
@pytest.mark.parametrize("s, m", [(12, 5), (13, 6)])
def test_exact_beats_randomised_local_search_and_threads_agree(kind, s, m, monkeypatch):
    """Few subtrees, so idle threads steal siblings from busy ones; the answers must not change."""
    for seed in range(2):
        cov = im_benchmark_covariance(s, m, kind, seed)
        one = im_score(cov, m, n_jobs=1, progress=False)
        assert one.exact and one.bound == one.score
        assert one.score >= random_local_search(cov, m, restarts=4, seed=seed) - 1e-10
        monkeypatch.setattr(im_module, "_TASKS", 2)
        monkeypatch.setattr(im_module, "_PARALLEL_FACTORS", 1)          # two slots even at s < 16
        two = im_score(cov, m, n_jobs=min(2, numba.config.NUMBA_NUM_THREADS), progress=False)
        monkeypatch.undo()
        assert two.score == pytest.approx(one.score, abs=1e-10)
        assert (two.grouping, two.ties, two.tied_groupings) == (one.grouping, one.ties, one.tied_groupings)
        if s == 12:
            dp = im_score(cov, m, method="dp")
            assert dp.score == pytest.approx(one.score, abs=1e-10) and dp.grouping == one.grouping


def test_work_stealing_splits_a_running_task(monkeypatch):
    monkeypatch.setattr(im_module, "_TASKS", 1)
    monkeypatch.setattr(im_module, "_PARALLEL_FACTORS", 1)
    monkeypatch.setattr(im_module, "_CHUNK_SECONDS", 1e-6)
    monkeypatch.setattr(im_module, "_MIN_CHUNK_NODES", 2)
    cov = im_benchmark_covariance(10, 5, "structured", 3)
    seen = []
    res = im_score(cov, 5, method="exact", n_jobs=min(2, numba.config.NUMBA_NUM_THREADS),
                   progress=lambda info: seen.append(info["total"]))
    ref = im_score(cov, 5, method="exhaustive")
    assert res.score == pytest.approx(ref.score, abs=1e-10)
    assert (res.ties, res.tied_groupings) == (ref.ties, ref.tied_groupings)
    if numba.config.NUMBA_NUM_THREADS > 1:
        assert max(seen) > 1                        # new tasks were handed out


# ------------------------------------------------------------------------------ anytime answers

@pytest.mark.parametrize("weak_incumbent", [False, True])
@pytest.mark.parametrize("kind, n_jobs, tasks", [("random", 1, 4096), ("structured", 2, 4096),
                                                 ("random", 1, 1), ("structured", 1, 1)])
def test_every_intermediate_bound_is_certified(kind, n_jobs, tasks, weak_incumbent, monkeypatch):
    """Tiny chunks: after each, bound ≥ the true maximum ≥ the best found so far. With a weak
    incumbent (every factor on latent 0) the search must find the optimum itself, so the
    frontier bounds of the unexplored subtrees carry the certificate."""
    cov = im_benchmark_covariance(13, 6, kind, 2)
    exact = im_score(cov, 6, progress=False)
    monkeypatch.setattr(im_module, "_CHUNK_SECONDS", 1e-6)
    monkeypatch.setattr(im_module, "_MIN_CHUNK_NODES", 5)
    monkeypatch.setattr(im_module, "_TASKS", tasks)          # 1: the certificate is one stack
    monkeypatch.setattr(im_module, "_PARALLEL_FACTORS", 1)
    if weak_incumbent:
        def poor(LD, R, m, s, restarts, seed):
            masks = np.zeros(m, dtype=np.int64)
            masks[0] = (1 << s) - 1
            return float(R[0, (1 << s) - 1]), masks
        monkeypatch.setattr(B, "local_search", poor)
    seen = []
    res = im_score(cov, 6, progress=seen.append, n_jobs=min(n_jobs, numba.config.NUMBA_NUM_THREADS))
    assert res.score == pytest.approx(exact.score, abs=1e-12)
    assert len(seen) >= 2
    for info in seen:
        assert info["bound"] >= exact.score - 1e-10
        assert info["score"] <= exact.score + 1e-10
        assert info["done"] <= info["total"]


@pytest.mark.parametrize("limit", [1e-6, 0.02])
def test_time_limit_returns_a_feasible_assignment_and_a_certified_bound(limit, monkeypatch):
    monkeypatch.setattr(im_module, "_CHUNK_SECONDS", 1e-4)
    cov = im_benchmark_covariance(14, 8, "structured", 0)
    exact = im_score(cov, 8, progress=False)
    res = im_score(cov, 8, time_limit=limit, progress=False)
    LD, R = im_tables(cov, 8)
    masks = [sum(1 << j for j, a in enumerate(res.assignment) if a == i) for i in range(8)]
    assert _score(masks, LD, R) == pytest.approx(res.score, abs=1e-10)     # the score is real
    assert res.score <= exact.score + 1e-10 <= res.bound + 2e-10
    if not res.exact:
        assert res.bound >= res.score
    else:
        assert res.bound == res.score == pytest.approx(exact.score, abs=1e-10)
    if limit == 1e-6:
        assert not res.exact


@settings(max_examples=10, deadline=None)
@given(pair=joint_covariances(m=3, s=6), limit=st.sampled_from([None, 1e-9]))
def test_bound_is_never_below_the_score(pair, limit):
    cov, m = pair
    res = im_score(cov, m, method="exact", time_limit=limit, progress=False)
    ref = im_score(cov, m, method="exhaustive")
    assert res.bound >= ref.score - 1e-10 and res.bound >= res.score
    assert res.score <= ref.score + 1e-10
    if res.exact:
        assert res.score == pytest.approx(ref.score, abs=1e-10)


def test_ctrl_c_between_chunks_stops_the_search_and_restores_threads(monkeypatch):
    """The search returns to Python every chunk; a KeyboardInterrupt there propagates at once."""
    monkeypatch.setattr(im_module, "_CHUNK_SECONDS", 1e-4)
    cov = im_benchmark_covariance(13, 6, "random", 2)
    threads = numba.get_num_threads()
    calls = []

    def interrupt(info):
        calls.append(info)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        im_score(cov, 6, progress=interrupt, n_jobs=1)
    assert len(calls) == 1 and numba.get_num_threads() == threads


def test_time_limit_passes_through_the_sample_path():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((2000, 9))
    x = v[:, :4] @ rng.standard_normal((4, 4)) + rng.standard_normal((2000, 4))
    res = lg.im_score_from_samples(x, v, time_limit=1e-9, progress=False)
    full = lg.im_score_from_samples(x, v, method="exhaustive")
    assert res.bound >= full.score - 1e-10 >= res.score - 2e-10


@pytest.mark.parametrize("kw, match", [
    ({"time_limit": -1.0}, "time_limit must be"), ({"time_limit": float("nan")}, "time_limit must be"),
    ({"time_limit": True}, "time_limit must be"), ({"n_jobs": 0}, "n_jobs must be"),
    ({"n_jobs": 1.5}, "n_jobs must be"), ({"progress": "yes"}, "progress must be"),
    ({"time_limit": 1.0, "method": "exhaustive"}, "time_limit is supported"),
    ({"time_limit": 1.0, "method": "dp"}, "time_limit is supported"),
])
def test_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        im_score(np.eye(6), 2, **kw)


@pytest.mark.parametrize("s, m", [(8, 4), (9, 3)])
def test_stealing_neither_loses_nor_repeats_work_on_a_flat_landscape(s, m, monkeypatch):
    """Every assignment ties, so every partition is a leaf: the counts expose lost or repeated
    subtrees when tasks are split between two slots in tiny chunks."""
    from lingauss.metrics import count_set_partitions

    monkeypatch.setattr(im_module, "_TASKS", 1)
    monkeypatch.setattr(im_module, "_PARALLEL_FACTORS", 1)
    monkeypatch.setattr(im_module, "_CHUNK_SECONDS", 1e-6)
    monkeypatch.setattr(im_module, "_MIN_CHUNK_NODES", 3)
    seen = []
    res = im_score(np.eye(m + s), m, method="exact", n_jobs=min(2, numba.config.NUMBA_NUM_THREADS),
                   progress=lambda info: seen.append(info["total"]))
    assert res.score == pytest.approx(0.0, abs=1e-12)
    assert res.ties == m ** s and res.tied_groupings == count_set_partitions(s, m)
    assert res.n_evaluated == count_set_partitions(s, m)
    if numba.config.NUMBA_NUM_THREADS > 1:
        assert max(seen) > 1
