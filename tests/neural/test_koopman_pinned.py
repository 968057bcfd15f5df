"""Koopman behaviours pinned: the brute-force exploration's documented tie rule (the first
maximal partition with factors in order and smaller channel subsets first) against an
enumeration of all labelled partitions, and zero eigenvalues of a full-rank operator — not only
the padded zeros of a low-rank one — excluded from the static candidates."""

import itertools

import numpy as np
import pytest
import torch

from neural.koopman import SSMSKD
from neural.koopman.exploration import brute_force_exploration
from neural.koopman.operator import KoopmanFit

TINY = dict(channels=(4, 4), hidden=8, in_channels=1, image_size=16)


def _reference(table, K, factors):
    """First maximal assignment over (mask of factor 0, mask of factor 1, …) in ascending order."""
    best, arg = -np.inf, None
    full = (1 << K) - 1

    def rec(i, left, masks):
        nonlocal best, arg
        if i == len(factors) - 1:
            masks = masks + [left]
            val = sum(table[f][mk] for f, mk in zip(factors, masks))
            if val > best:
                best, arg = val, list(masks)
            return
        for sub in range(left + 1):
            if sub & ~left:
                continue
            rec(i + 1, left & ~sub, masks + [sub])

    rec(0, full, [])
    assign = [None] * K
    for f, mk in zip(factors, arg):
        for c in range(K):
            if mk >> c & 1:
                assign[c] = f
    return best, assign


@pytest.mark.parametrize("seed", range(6))
def test_brute_force_ties_follow_the_documented_rule(seed):
    rng = np.random.default_rng(seed)
    K, factors = 4, ["a", "b", "c"]
    table = {f: rng.integers(0, 2, 1 << K).astype(float) for f in factors}   # many ties

    def score(subset):
        mask = sum(1 << c for c in subset)
        return {f: table[f][mask] for f in factors}

    res = brute_force_exploration(score, K, factors)
    value, assign = _reference(table, K, factors)
    assert list(res.assignment) == assign, (res.assignment, assign)
    assert res.total == value


def _full_rank_fit(eigs, seed=0):
    """A one-sequence, full-rank (factors None) fit whose operator has eigenvalues ``eigs``."""
    k = len(eigs)
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((k, k)))[0]
    C = torch.tensor(Q @ np.diag(eigs) @ Q.T)[None]
    X = torch.zeros(1, k + 1, k, dtype=torch.float64)
    return KoopmanFit(C=C, X=X, Y=X, Z_pred_next=X, Z_pred=X, factors=None, per_instance=True)


def test_zero_eigenvalues_of_a_full_rank_fit_are_never_static_candidates():
    eigs = np.array([0.0, -0.3, 0.6, 1e-15, 0.95])
    fit = _full_rank_fit(eigs)
    m = SSMSKD(k=5, **TINY)
    lam = torch.tensor(eigs, dtype=torch.complex128)[None]
    ok = m.static_candidates(fit, lam)[0].tolist()
    assert ok == [False, True, True, False, True]
    negative_only = torch.tensor([0.0, -0.3, 0.0, 1e-16, -0.7], dtype=torch.complex128)[None]
    pair = m.static_mode(_full_rank_fit(negative_only[0].real.numpy()), negative_only)
    assert abs(float(pair.value[0]) + 0.3) < 1e-6      # −0.3, not a zero that is nearer 1
