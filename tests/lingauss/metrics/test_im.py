"""I_m: exhaustive and exact against an independent brute force written from `gaussian_mi` alone."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import lingauss as lg
from lingauss.metrics import (count_assignments, count_set_partitions, im_score, im_scores_all,
                              set_partitions, stirling2)
from lingauss.metrics import _im_bounds
from lingauss.metrics._im_kernels import subset_tables_t
from lingauss.metrics._joint import correlation
from lingauss.scenarios import canonical_grouping
from lingauss.testing import _spd_from_seed, joint_covariances


def brute_scores(cov, m, s):
    """Every labelled assignment's score, straight from the seed's definition (itertools order)."""
    out = {}
    for asg in itertools.product(range(m), repeat=s):
        groups = [[j for j in range(s) if asg[j] == i] for i in range(m)]
        val = sum(lg.gaussian_mi(cov, [i], [m + j for j in g]) for i, g in enumerate(groups) if g)
        blocks = [g for g in groups if g]
        for p, q in itertools.combinations(range(len(blocks)), 2):
            val -= lg.gaussian_mi(cov, [m + j for j in blocks[p]], [m + j for j in blocks[q]])
        out[asg] = val
    return out


def brute_best(cov, m, s):
    scores = brute_scores(cov, m, s)
    best = max(scores.values())
    arg = max(scores, key=scores.get)
    return best, canonical_grouping([[j for j in range(s) if arg[j] == i] for i in range(m)]), scores


def _check_against_brute(cov, m, s):
    best, grouping, scores = brute_best(cov, m, s)
    for method in ("exhaustive", "partition", "dp"):
        res = im_score(cov, m, method=method)
        assert res.score == pytest.approx(best, abs=1e-9), method
        # the returned assignment really scores the maximum, and its grouping is the argmax's
        assert scores[res.assignment] == pytest.approx(best, abs=1e-9)
        near = sum(v >= best - 1e-9 for v in scores.values())
        assert res.ties == near
        if near == 1:
            assert res.grouping == grouping


@pytest.mark.parametrize("s, m", [(1, 1), (1, 3), (2, 2), (3, 3), (4, 2), (3, 5), (5, 3), (4, 4)])
@settings(max_examples=8)
@given(data=st.data())
def test_both_methods_match_brute_force(s, m, data):
    cov, _ = data.draw(joint_covariances(m=m, s=s))
    _check_against_brute(cov, m, s)


@pytest.mark.parametrize("size", [(3, 4, 3), (5, 5, 4)])
@pytest.mark.parametrize("index", [1, 2, 3])
@pytest.mark.parametrize("lam", [0.0, 0.02])
def test_paper_scenarios_match_brute_force(size, index, lam):
    sc = lg.talk_scenario(size, index)
    r = lg.blahut_arimoto(sc.model, sc.n_latents, 1.0, lam, decoder_noise="diagonal", rng=index, max_iter=3000)
    cov = sc.model.joint_covariance(r.B, r.sigma_w)
    _check_against_brute(cov, sc.n_latents, sc.model.s)


def test_exact_equals_exhaustive_for_every_size_up_to_5e4_assignments():
    n = 0
    for s in range(1, 17):
        for m in range(1, 9):
            if m ** s > 5 * 10 ** 4:
                continue
            for seed in range(3):
                cov = _spd_from_seed(1000 * s + 10 * m + seed, m + s, 1e3, 1.0)
                a = im_score(cov, m, method="exhaustive")
                for method in ("partition", "dp"):
                    b = im_score(cov, m, method=method)
                    assert b.method == method
                    assert a.score == pytest.approx(b.score, abs=1e-10)
                    assert (a.grouping, a.ties, a.tied_groupings) == (b.grouping, b.ties, b.tied_groupings)
                n += 1
    assert n > 100


def test_landscape_is_every_assignment_in_documented_order():
    cov = _spd_from_seed(3, 7, 100.0, 1.0)
    m, s = 3, 4
    land = im_scores_all(cov, m)
    scores = brute_scores(cov, m, s)
    assert land.scores.shape == (m ** s,)
    for k, val in enumerate(land.scores):
        assert val == pytest.approx(scores[land.assignment(k)], abs=1e-10)
    assert scores[land.argmax()] == pytest.approx(max(scores.values()))


def test_reward_bound_and_monotone_penalty_hold_for_every_partial_partition():
    """The two facts behind branch-and-bound, checked on all prefixes of all set partitions."""
    m, s = 3, 5
    cov = _spd_from_seed(11, m + s, 50.0, 1.0)
    _, RT, _ = subset_tables_t(correlation(cov), m, s)
    E = _im_bounds.reward_tables(RT, np.zeros((1, s)), m, s, False)     # λ = 0: R[i, M ∪ U]

    def reward_and_penalty(blocks):
        best = max(sum(lg.gaussian_mi(cov, [lat], [m + j for j in blk]) for blk, lat in zip(blocks, perm))
                   for perm in itertools.permutations(range(m), len(blocks)))
        pen = sum(lg.gaussian_mi(cov, [m + j for j in p], [m + j for j in q])
                  for p, q in itertools.combinations(blocks, 2))
        return best, pen

    finals = [(p, *reward_and_penalty(p)) for p in set_partitions(s, m)]
    checked = 0
    for d in range(1, s):
        placed = set(range(d))
        U = sum(1 << j for j in range(d, s))
        prefixes = {tuple(tuple(j for j in blk if j in placed) for blk in p if set(blk) & placed)
                    for p, _, _ in finals}
        for prefix in prefixes:
            completions = [(r, pen) for p, r, pen in finals
                           if tuple(tuple(j for j in blk if j in placed) for blk in p if set(blk) & placed) == prefix]
            masks = np.zeros(m, dtype=np.int64)
            for b, blk in enumerate(prefix):
                masks[b] = sum(1 << j for j in blk)
            assert U == ((1 << s) - 1) ^ ((1 << d) - 1)
            bound = _im_bounds.node_bound(E, np.zeros((1, s + 1)), masks, len(prefix), d, m, s)
            assert bound >= max(r for r, _ in completions) - 1e-12
            partial_pen = reward_and_penalty(prefix)[1] if len(prefix) > 1 else 0.0
            assert partial_pen <= min(pen for _, pen in completions) + 1e-12
            checked += 1
    assert checked > 20


@given(pair=joint_covariances(m=3, s=3), seed=st.integers(0, 2**31))
def test_permuting_latents_permutes_the_assignment(pair, seed):
    cov, m = pair
    rng = np.random.default_rng(seed)
    perm = rng.permutation(m)                       # new latent k is old latent perm[k]
    order = np.concatenate([perm, np.arange(m, cov.shape[0])])
    a = im_score(cov, m)
    b = im_score(cov[np.ix_(order, order)], m)
    assert b.score == pytest.approx(a.score, abs=1e-10)
    if a.tied_groupings == 1 and a.ties == 1:
        inverse = np.argsort(perm)
        assert b.assignment == tuple(int(inverse[i]) for i in a.assignment)


@given(pair=joint_covariances(m=2, s=4), seed=st.integers(0, 2**31))
def test_permuting_factors_permutes_the_assignment_and_rescaling_changes_nothing(pair, seed):
    cov, m = pair
    s = cov.shape[0] - m
    rng = np.random.default_rng(seed)
    perm = rng.permutation(s)                       # new factor k is old factor perm[k]
    order = np.concatenate([np.arange(m), m + perm])
    a = im_score(cov, m)
    b = im_score(cov[np.ix_(order, order)], m)
    assert b.score == pytest.approx(a.score, abs=1e-10)
    if a.ties == 1:
        assert b.assignment == tuple(a.assignment[p] for p in perm)
    scale = np.exp(rng.uniform(-3, 3, cov.shape[0])) * rng.choice([-1, 1], cov.shape[0])
    c = im_score(cov * np.outer(scale, scale), m)
    assert c.score == pytest.approx(a.score, abs=1e-9)
    assert (c.grouping, c.ties) == (a.grouping, a.ties)


@pytest.mark.parametrize("s, m", [(3, 3), (4, 3), (5, 4), (6, 2)])
def test_flat_landscape_counts_every_assignment_as_a_tie(s, m):
    cov = np.eye(m + s)                             # latents carry no information, factors independent
    for method in ("exhaustive", "partition", "dp"):
        res = im_score(cov, m, method=method)
        assert res.score == pytest.approx(0.0, abs=1e-12)
        assert res.ties == m ** s
        assert res.tied_groupings == count_set_partitions(s, m)
        assert res.ambiguous


def test_exact_is_fast_and_right_where_penalties_vanish():
    """Weakly informative latents on independent factors: a flat landscape, no penalties."""
    from analysis.bench import im_benchmark_covariance

    cov = im_benchmark_covariance(9, 5, "weak", seed=1)
    ref = im_score(cov, 5, method="exhaustive")
    for method in ("exact", "dp"):
        res = im_score(cov, 5, method=method)
        assert res.score == pytest.approx(ref.score, abs=1e-10)
        assert (res.grouping, res.ties, res.tied_groupings) == (ref.grouping, ref.ties, ref.tied_groupings)


def test_counts():
    assert count_assignments(3, 3) == 27 and count_assignments(5, 4) == 1024
    for s in range(0, 8):
        for m in range(0, 7):
            parts = list(set_partitions(s, m))
            assert len(parts) == len(set(parts)) == count_set_partitions(s, m)
            if s:
                assert count_set_partitions(s, m) == sum(stirling2(s, k) for k in range(1, min(s, m) + 1))
            # independent count: distinct groupings of all labelled assignments
            if 0 < m and m ** s <= 5000:
                labelled = {canonical_grouping([[j for j in range(s) if a[j] == i] for i in range(m)])
                            for a in itertools.product(range(m), repeat=s)}
                assert len(labelled) == count_set_partitions(s, m)


def test_from_samples_finds_the_population_grouping():
    sc = lg.talk_scenario((3, 4, 3), 2)
    B = np.array([[1.0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]])
    sw = 0.2 * np.eye(3)
    exact = im_score(sc.model.joint_covariance(B, sw), 3)
    rng = np.random.default_rng(0)
    v, y = sc.model.sample(200_000, rng)
    x = y @ B.T + rng.multivariate_normal(np.zeros(3), sw, size=len(y))
    est = lg.im_score_from_samples(x, v)
    assert est.grouping == exact.grouping
    assert est.score == pytest.approx(exact.score, abs=0.01)


@pytest.mark.parametrize("cov, m, match", [
    (np.array([[1.0, 0.2], [0.3, 1.0]]), 1, "joint_cov must be symmetric"),
    (np.diag([1.0, -1.0]), 1, "joint_cov must be positive definite"),
    (np.array([[np.nan, 0.0], [0.0, 1.0]]), 1, "joint_cov contains NaN"),
    (np.eye(3), 0, "n_latents must satisfy"),
    (np.eye(3), 3, "n_latents must satisfy"),
    (np.eye(3), 1.5, "n_latents must be a positive integer"),
    (np.eye(3), True, "n_latents must be a positive integer"),
])
def test_bad_input(cov, m, match):
    for fn in (im_score, lg.sap_score):
        with pytest.raises(ValueError, match=match):
            fn(cov, m)


def test_bad_method_and_sizes():
    with pytest.raises(ValueError, match="method must be"):
        im_score(np.eye(3), 1, method="greedy")
    with pytest.raises(ValueError, match="at most 20"):
        im_score(np.eye(22), 1)
    with pytest.raises(ValueError, match="im_scores_all would store"):
        im_scores_all(np.eye(16), 4)


@pytest.mark.slow
def test_brute_force_for_every_size_up_to_5e4_assignments():
    """The issue's full check (minutes): brute force from gaussian_mi for every m^s ≤ 5·10^4."""
    for s in range(1, 16):
        for m in range(1, 9):
            if m ** s <= 5 * 10 ** 4:
                _check_against_brute(_spd_from_seed(77 * s + m, m + s, 1e2, 1.0), m, s)
