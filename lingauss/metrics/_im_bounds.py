r"""Numba kernels of the bounds behind the exact I_m search: the incumbent (a local search over
partitions) and the Lagrangian reward tables with their prices; the search that uses them is
:mod:`lingauss.metrics._im_search`.

Notation as in :mod:`lingauss.metrics._im_kernels`: ``LD[M]`` = log|R_VV[M]|, ``R[i, M]`` =
I(x_i; V_M), ``pen(P, Q)`` = LD[P] + LD[Q] − LD[P ∪ Q] = 2 I(V_P; V_Q). Factors are indexed in
*search order*: the search places factor 0, then 1, …, so a node at depth d has placed the factors
{0..d−1} (blocks M_0..M_{k−1}, a restricted growth string) and the unplaced set is the suffix
U_d = {d..s−1}.

**Lagrangian reward bound.** Fix prices λ_j (any real numbers). For latent i and depth d let

.. math:: E^{(d)}_i[S] = \max_{X \subseteq U_d} \big(R[i, S \cup X] - \lambda(X)\big),
          \qquad S \subseteq \{0..d-1\},\ \lambda(X) = \textstyle\sum_{j \in X} \lambda_j .

*Claim.* Every completion of the node earns reward at most
``λ(U_d) + (best way to put the blocks on distinct latents with values E)``, i.e.

* ``by_block`` = λ(U_d) + Σ_b max_i E_i[M_b] + the sum of the min(|U_d|, m − k) largest E_i[∅], and
* ``by_latent`` = λ(U_d) + Σ_i max(max_b E_i[M_b], E_i[∅] if a block can still open, else 0),

and :func:`node_bound` returns the smaller.

*Proof.* In a completion the unplaced factors split into disjoint X_b ⊆ U_d (X_b joins block b;
new blocks are M = ∅ with their X), the final blocks sit on distinct latents π(b), and since the
X_b partition U_d, Σ_b λ(X_b) = λ(U_d) exactly (no sign condition on λ). Hence

.. math:: \text{reward} = \sum_b R[\pi(b), M_b \cup X_b]
          = \lambda(U_d) + \sum_b \big(R[\pi(b), M_b \cup X_b] - \lambda(X_b)\big)
          \le \lambda(U_d) + \sum_b E^{(d)}_{\pi(b)}[M_b].

Bounding each existing block by its best latent and the new blocks (at most min(|U_d|, m − k) of
them, on distinct latents, each term ≥ 0 because X = ∅ gives E_i[∅] ≥ R[i, ∅] = 0) by the largest
E_i[∅] gives ``by_block``; bounding each latent by the best block it could host (or 0 when it hosts
none) gives ``by_latent``. With λ = 0, E_i[M] = R[i, M ∪ U_d] (R is monotone): every unplaced
factor joins every block, the plain monotonicity bound; good prices (below) make it much
tighter. ∎

The tables come from one suffix max-transform per latent (:func:`reward_tables`): start from
T[Y] = R[i, Y] − λ(Y) and fold bits s−1, s−2, …, 0 in, T[Y] ← max(T[Y], T[Y ∪ {b}]) for
Y ⊆ {0..b−1}; after folding bits ≥ d, T[S] = max_{X⊆U_d} (R[i, S ∪ X] − λ(S ∪ X)) for
S ⊆ {0..d−1} (induction on d: folding bit d−1 takes the larger of the maxima with and without
factor d−1, i.e. the maximum over X ⊆ U_{d−1}), so E^{(d)}_i[S] = T[S] + λ(S). Folding bit b
touches only Y < 2^b, so all s + 1 snapshots cost O(2^s) per latent; they are stored in
2^{s+1} − 1 rows (level d at rows 2^d − 1 …). Several price vectors may be used at once: each
gives a valid bound, and the smallest is taken.

**Prices**: :func:`standalone_prices` (λ_j = max_i R[i, {j}]) and :func:`lagrange_prices`: the root
bound f(λ) = λ(F) + Σ_i max_Y (R[i, Y] − λ(Y)) is convex and piecewise linear in λ, with
subgradient g_j = 1 − #{i : j ∈ Y*_i}; a few Polyak subgradient steps towards the incumbent shrink
it. Any λ is valid, so the choice only affects speed (the root-optimal prices are not always the
best deeper in the tree, hence both).

"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._im_kernels import _matchings, score_of_masks

_NEG = -np.inf


# ------------------------------------------------------------------------------------ incumbent

@njit(cache=True)
def _best_relabel(masks, R, m):
    """Put the non-empty blocks of ``masks`` on latents by an exact max-reward matching (in place)."""
    k = 0
    blocks = np.zeros(m, dtype=np.int64)
    for i in range(m):
        if masks[i] != 0:
            blocks[k] = masks[i]
            k += 1
    W = np.zeros((m, m))
    for b in range(k):
        for i in range(m):
            W[b, i] = R[i, blocks[b]]
    lat = np.zeros(m, dtype=np.int64)
    _matchings(W, k, m, _NEG, np.bool_(False), lat)
    masks[:] = 0
    for b in range(k):
        masks[lat[b]] = blocks[b]


@njit(cache=True)
def local_search(LD, R, m, s, n_restarts, seed):  # R: (m, 2^s), a transposed view is fine
    """A feasible assignment by steepest-ascent local search from greedy and random starts.

    Moves: send one factor to another latent; merge two latents' groups; re-seat the groups on
    latents by an exact matching. Returns (score, masks) of the best local optimum found (a lower
    bound on I_m, used as the branch-and-bound incumbent).
    """
    np.random.seed(seed)
    best = _NEG
    best_masks = np.zeros(m, dtype=np.int64)
    masks = np.zeros(m, dtype=np.int64)
    lab = np.zeros(s, dtype=np.int64)
    for r in range(n_restarts + 1):
        masks[:] = 0
        for j in range(s):
            if r == 0:                       # greedy: every factor to its most informative latent
                a = 0
                for i in range(1, m):
                    if R[i, 1 << j] > R[a, 1 << j]:
                        a = i
            elif r == 1:
                a = 0                        # all factors together
            else:
                a = np.random.randint(0, min(m, 1 + np.random.randint(0, m)))
            lab[j] = a
            masks[a] |= 1 << j
        cur = score_of_masks(masks, LD, R)
        improved = True
        while improved:
            improved = False
            # single-factor moves (steepest)
            bj, bi, bv = -1, -1, cur
            for j in range(s):
                a = lab[j]
                bit = 1 << j
                for i in range(m):
                    if i == a:
                        continue
                    masks[a] &= ~bit
                    masks[i] |= bit
                    v = score_of_masks(masks, LD, R)
                    masks[i] &= ~bit
                    masks[a] |= bit
                    if v > bv + 1e-12:
                        bj, bi, bv = j, i, v
            if bj >= 0:
                masks[lab[bj]] &= ~(1 << bj)
                masks[bi] |= 1 << bj
                lab[bj] = bi
                cur = bv
                improved = True
                continue
            # merges of two groups (onto either latent)
            bp, bq, bv = -1, -1, cur
            for p in range(m):
                for q in range(m):
                    if p == q or masks[p] == 0 or masks[q] == 0:
                        continue
                    mp, mq = masks[p], masks[q]
                    masks[p] = mp | mq
                    masks[q] = 0
                    v = score_of_masks(masks, LD, R)
                    masks[p], masks[q] = mp, mq
                    if v > bv + 1e-12:
                        bp, bq, bv = p, q, v
            if bp >= 0:
                masks[bp] |= masks[bq]
                masks[bq] = 0
                cur = bv
                improved = True
            old = masks.copy()
            _best_relabel(masks, R, m)
            v = score_of_masks(masks, LD, R)
            if v > cur + 1e-12:
                cur = v
                improved = True
            else:
                for i in range(m):
                    masks[i] = old[i]
            for i in range(m):
                for j in range(s):
                    if (masks[i] >> j) & 1:
                        lab[j] = i
        if cur > best:
            best = cur
            for i in range(m):
                best_masks[i] = masks[i]
    return best, best_masks


# --------------------------------------------------------------------------- Lagrangian tables

@njit(cache=True)
def _subset_sums(lam, s):
    """λ(Y) for every Y ⊆ {0..s−1} (bit j = factor j)."""
    size = 1 << s
    lamY = np.zeros(size)
    for b in range(s):
        half = 1 << b
        for Y in range(half):
            lamY[half + Y] = lamY[Y] + lam[b]
    return lamY


_ROWS = 1 << 14          # rows of a parallel work item in the table kernels


@njit(cache=True)
def _rows_max(RT, lamY, lo, hi, m, vals, argmax):
    for Y in range(lo, hi):
        ly = lamY[Y]
        for i in range(m):
            v = RT[Y, i] - ly
            if v > vals[i]:
                vals[i] = v
                argmax[i] = Y


@njit(cache=True, parallel=True)
def _rows_max_par(RT, lamY, m, size, vals, argmax):
    n = (size + _ROWS - 1) // _ROWS
    for c in prange(n):
        lo = np.int64(c) * _ROWS
        _rows_max(RT, lamY, lo, min(size, lo + _ROWS), m, vals[c], argmax[c])


@njit(cache=True)
def _root_terms(RT, lam, m, s, argmax, parallel):
    """Σ_i max_Y (R[i, Y] − λ(Y)), the maximisers written to ``argmax`` (rows in parallel)."""
    size = 1 << s
    lamY = _subset_sums(lam, s)
    n = (size + _ROWS - 1) // _ROWS
    vals = np.zeros((n, m))
    args = np.zeros((n, m), dtype=np.int64)
    if parallel:
        _rows_max_par(RT, lamY, m, size, vals, args)
    else:
        _rows_max(RT, lamY, np.int64(0), size, m, vals[0], args[0])
        n = 1
    total = 0.0
    for i in range(m):
        c = 0
        for q in range(1, n):
            if vals[q, i] > vals[c, i]:
                c = q
        total += vals[c, i]
        argmax[i] = args[c, i]
    return total


@njit(cache=True)
def standalone_prices(RT, m, s):
    """λ_j = max_i I(x_i; v_j): each factor priced at its best single reward."""
    lam = np.zeros(s)
    for j in range(s):
        mx = 0.0
        for i in range(m):
            if RT[1 << j, i] > mx:
                mx = RT[1 << j, i]
        lam[j] = mx
    return lam


@njit(cache=True)
def lagrange_prices(RT, m, s, iters, target, parallel):
    """Prices λ that make the root bound f(λ) = λ(F) + Σ_i max_Y (R[i, Y] − λ(Y)) small.

    Polyak subgradient steps from :func:`standalone_prices`, λ ← λ − t g with
    g_j = 1 − #{i : j ∈ Y*_i} and t = (f(λ) − target)/‖g‖² (``target``: a lower bound on the
    optimum, e.g. the incumbent); the best λ seen is returned. Any λ gives a valid bound (module
    docstring); the root-optimal one is not always the best deeper down, so the search uses both
    these prices and :func:`standalone_prices` and keeps the smaller bound.
    """
    lam = standalone_prices(RT, m, s)
    best_lam = lam.copy()
    best_f = np.inf
    argmax = np.zeros(m, dtype=np.int64)
    g = np.zeros(s)
    scale = 1.0
    for it in range(iters):
        f = _root_terms(RT, lam, m, s, argmax, parallel)
        for j in range(s):
            f += lam[j]
        if f < best_f:
            best_f = f
            for j in range(s):
                best_lam[j] = lam[j]
        else:
            scale *= 0.7
        nrm = 0.0
        for j in range(s):
            c = 0
            for i in range(m):
                c += (argmax[i] >> j) & 1
            g[j] = 1.0 - c
            nrm += g[j] * g[j]
        if nrm == 0.0:
            break
        t = scale * max(f - target, 1e-3 * abs(f) + 1e-12) / nrm
        for j in range(s):
            lam[j] -= t * g[j]
    return best_lam


@njit(cache=True)
def _fold(T, E, lamY, half, off, p, lo, hi, m):
    """Rows lo..hi−1 of one fold: T[Y] ← max(T[Y], T[Y + half]); E[off + Y, p] = T[Y] + λ(Y)."""
    for Y in range(lo, hi):
        ly = lamY[Y]
        for i in range(m):
            v = T[Y + half, i]
            if v > T[Y, i]:
                T[Y, i] = v
            E[off + Y, p, i] = T[Y, i] + ly


@njit(cache=True, parallel=True)
def _fold_par(T, E, lamY, half, off, p, m):
    n = (half + _ROWS - 1) // _ROWS
    for c in prange(n):
        lo = np.int64(c) * _ROWS
        _fold(T, E, lamY, half, off, p, lo, min(half, lo + _ROWS), m)


@njit(cache=True)
def reward_tables(RT, lams, m, s, parallel):
    """``E[2^d − 1 + S, p, i]`` = E^{(d)}_i[S] under prices ``lams[p]``, d = 0..s, S < 2^d.

    (Module docstring.) Latent-minor layout, so one node's lookups for all latents and price
    vectors share cache lines; the last level (d = s, nothing unplaced) is R itself. Each fold
    runs over contiguous rows (in parallel with ``parallel``).
    """
    size = 1 << s
    P = lams.shape[0]
    E = np.empty((2 * size - 1, P, m))
    T = np.empty((size, m))
    for p in range(P):
        lamY = _subset_sums(lams[p], s)
        for Y in range(size):
            ly = lamY[Y]
            for i in range(m):
                T[Y, i] = RT[Y, i] - ly
                E[size - 1 + Y, p, i] = RT[Y, i]
        for b in range(s - 1, -1, -1):
            half = 1 << b
            if parallel and half > _ROWS:
                _fold_par(T, E, lamY, half, half - 1, p, m)
            else:
                _fold(T, E, lamY, half, half - 1, p, np.int64(0), half, m)
    return E


@njit(cache=True)
def node_bound(E, lamsuf, blocks, k, d, m, s):
    """Upper bound on the reward of every completion of a node at depth d (module docstring).

    ``blocks[:k]``: the blocks of the placed factors {0..d−1}; ``lamsuf[p, d]`` = λ_p(U_d). The
    smallest bound over the price vectors p is returned.
    """
    off = (1 << d) - 1
    can_open = d < s and k < m
    n_new = min(s - d, m - k) if can_open else 0
    P = E.shape[1]
    out = np.inf
    best_lat = np.empty(m)
    for p in range(P):
        by_block = lamsuf[p, d]
        e0 = E[off, p]
        for i in range(m):
            best_lat[i] = e0[i] if can_open else 0.0
        for b in range(k):
            row = E[off + blocks[b], p]
            mx = _NEG
            for i in range(m):
                v = row[i]
                if v > mx:
                    mx = v
                if v > best_lat[i]:
                    best_lat[i] = v
            by_block += mx
        by_latent = lamsuf[p, d]
        for i in range(m):
            by_latent += best_lat[i]
        if n_new >= m:
            for i in range(m):
                by_block += e0[i]
        elif n_new > 0:
            taken = 0
            for _ in range(n_new):
                mx = _NEG
                arg = -1
                for i in range(m):
                    if not (taken >> i) & 1:
                        v = e0[i]
                        if v > mx:
                            mx = v
                            arg = i
                taken |= 1 << arg
                by_block += mx
        if by_block < out:
            out = by_block
        if by_latent < out:
            out = by_latent
    return out
