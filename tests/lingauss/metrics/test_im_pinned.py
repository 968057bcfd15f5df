"""I_m search behaviours pinned against independent references: ties found in different search
slots are pooled within the tolerance, the anytime bound never falls below the score or the true
maximum, the caller's Numba thread count survives every exit of a search, every method's
assignment (labels included, not only the unlabelled grouping) really scores the reported value,
and work-stealing splits leave no cap behind that hides part of a later task."""

import itertools

import numba
import numpy as np
import pytest

import lingauss as lg
import lingauss.metrics.im as im_module
from analysis.bench import im_benchmark_covariance
from lingauss.metrics import _im_bounds as B
from lingauss.metrics import count_set_partitions, im_score


def _score_by_definition(cov, m, assignment):
    """Σ_i I(x_i; V_{S_i}) − Σ_{p<q} I(V_{S_p}; V_{S_q}) from gaussian_mi (nats)."""
    groups = [[m + j for j, a in enumerate(assignment) if a == i] for i in range(m)]
    val = sum(lg.gaussian_mi(cov, [i], g) for i, g in enumerate(groups) if g)
    for p, q in itertools.combinations(range(m), 2):
        if groups[p] and groups[q]:
            val -= lg.gaussian_mi(cov, groups[p], groups[q])
    return val


def _near_flat(s, m, seed=0):
    """Identity plus correlations ~1e-7: every assignment scores within ~1e-12 of every other."""
    a = 3e-4 * np.random.default_rng(seed).standard_normal((m + s, m + s))
    return np.eye(m + s) + a @ a.T


def _split_into_slots(monkeypatch, tasks=1):
    monkeypatch.setattr(im_module, "_TASKS", tasks)
    monkeypatch.setattr(im_module, "_PARALLEL_FACTORS", 1)          # two slots even at small s
    monkeypatch.setattr(im_module, "_CHUNK_SECONDS", 1e-6)
    monkeypatch.setattr(im_module, "_MIN_CHUNK_NODES", 3)


@pytest.mark.parametrize("s, m", [(8, 3), (7, 4)])
def test_ties_in_different_slots_are_pooled_within_the_tolerance(s, m, monkeypatch):
    """Scores differ by ~1e-13 (not exactly 0), tol = 1e-9: every assignment is a tie, whichever
    slot found it; and every partition is scored once (no cap left over after a split)."""
    cov = _near_flat(s, m)
    ref = im_score(cov, m, method="exhaustive")
    assert ref.ties == m ** s
    _split_into_slots(monkeypatch)
    res = im_score(cov, m, method="exact", n_jobs=min(2, numba.config.NUMBA_NUM_THREADS),
                   progress=False)
    assert res.ties == m ** s and res.tied_groupings == count_set_partitions(s, m)
    assert res.n_evaluated == count_set_partitions(s, m)
    dp = im_score(cov, m, method="dp")
    assert dp.ties == m ** s


def _poor_incumbent(LD, R, m, s, restarts, seed):
    masks = np.zeros(m, dtype=np.int64)
    masks[0] = (1 << s) - 1
    return float(R[0, (1 << s) - 1]), masks


class _ChunkClock:
    """A ``time`` stand-in whose clock advances one second per reading: a ``time_limit`` of k
    stops the search after a fixed number of chunks, whatever the machine's load."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        self.now += 1.0
        return self.now


@pytest.mark.parametrize("kind", ["structured", "random"])
def test_anytime_bound_is_never_below_the_score_nor_the_true_maximum(kind, monkeypatch):
    """A weak incumbent, tiny chunks, and the search stopped after 1, 2, 4, … chunks."""
    covs = [im_benchmark_covariance(12, 5, kind, seed) for seed in range(3)]
    exact = [im_score(c, 5, progress=False, n_jobs=1).score for c in covs]
    monkeypatch.setattr(B, "local_search", _poor_incumbent)
    monkeypatch.setattr(im_module, "_MIN_CHUNK_NODES", 5)
    monkeypatch.setattr(im_module, "_TASKS", 64)
    monkeypatch.setattr(im_module, "time", _ChunkClock())
    stopped = 0
    for cov, top in zip(covs, exact):
        for limit in (2, 4, 8, 16, 32, 64, 128, 256):
            r = im_score(cov, 5, time_limit=float(limit), progress=False, n_jobs=1)
            stopped += not r.exact
            assert r.bound >= r.score and r.bound >= top - 1e-10
            assert r.score <= top + 1e-10
            assert _score_by_definition(cov, 5, r.assignment) == pytest.approx(r.score, abs=1e-9)
    assert stopped > 0


@pytest.mark.parametrize("caller_threads", [1, 2])
def test_the_callers_numba_thread_count_is_restored_on_every_exit(caller_threads, monkeypatch):
    top = numba.config.NUMBA_NUM_THREADS
    caller_threads = min(caller_threads, top)
    monkeypatch.setattr(im_module, "_PARALLEL_FACTORS", 1)
    before = numba.get_num_threads()
    numba.set_num_threads(caller_threads)
    try:
        cov = im_benchmark_covariance(10, 4, "structured", 0)
        im_score(cov, 4, method="exact", n_jobs=top, progress=False)            # finished
        assert numba.get_num_threads() == caller_threads
        im_score(cov, 4, method="exact", n_jobs=top, time_limit=1e-9, progress=False)  # cut short
        assert numba.get_num_threads() == caller_threads

        def stop(info):
            raise KeyboardInterrupt

        monkeypatch.setattr(im_module, "_CHUNK_SECONDS", 1e-5)
        with pytest.raises(KeyboardInterrupt):
            im_score(im_benchmark_covariance(13, 6, "random", 2), 6, method="exact", n_jobs=top,
                     progress=stop)
        assert numba.get_num_threads() == caller_threads
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("method", ["exhaustive", "exact", "dp"])
@pytest.mark.parametrize("seed", range(4))
def test_every_methods_assignment_scores_what_it_reports_labels_included(method, seed):
    """The grouping is unlabelled, so it cannot see a decoding that permutes latent labels; the
    labelled assignment's own score (from gaussian_mi) can."""
    s, m = 7, 4
    cov = im_benchmark_covariance(s, m, "structured" if seed % 2 else "random", seed)
    res = im_score(cov, m, method=method, progress=False)
    assert _score_by_definition(cov, m, res.assignment) == pytest.approx(res.score, abs=1e-9)
    assert res.groups == tuple(tuple(j for j, a in enumerate(res.assignment) if a == i)
                               for i in range(m))
