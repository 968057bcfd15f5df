r"""Numba kernels of the exact I_m search at scale: a resumable, parallel branch-and-bound over set
partitions, pruned by the reward bounds of :mod:`lingauss.metrics._im_bounds` (the incumbent,
the Lagrangian reward tables and their prices, with their proofs).

Notation as in :mod:`lingauss.metrics._im_kernels`: ``LD[M]`` = log|R_VV[M]|, ``R[i, M]`` =
I(x_i; V_M), ``pen(P, Q)`` = LD[P] + LD[Q] − LD[P ∪ Q] = 2 I(V_P; V_Q). Factors are indexed in
*search order*: the search places factor 0, then 1, …, so a node at depth d has placed the factors
{0..d−1} (blocks M_0..M_{k−1}, a restricted growth string) and the unplaced set is the suffix
U_d = {d..s−1}.

A node's bound is :func:`~lingauss.metrics._im_bounds.node_bound` minus its partial penalty.

**Penalty.** Adding a factor to a block or opening a block never lowers
Σ_{p<q} I(V_{M_p}; V_{M_q}) (MI is monotone under inclusion), so the node's partial penalty
bounds the final one from below, and a node is cut when
reward bound − partial penalty < max(best, incumbent) − tol.

**Anytime bound.** A depth-first search stopped anywhere leaves unexplored exactly: the tasks not
yet started, and for each running task and each depth e on its stack, the children c > choice[e]
of the path node at depth e (:func:`frontier_bound`). Every complete partition not yet scored
lies below one of these nodes, and every pruned one scored < best − tol ≤ best, so
max(best, bounds of those nodes) is an upper bound on I_m.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._im_kernels import _matchings
from ._im_bounds import _NEG, node_bound


# -------------------------------------------------------------------------------------- tasks

@njit(cache=True)
def _pen_inc(LD, blocks, k, c, bit):
    """½ × increase of Σ_{p<q} pen(M_p, M_q) when ``bit`` joins block c (c == k: a new block)."""
    inc = 0.0
    if c < k:
        old = blocks[c]
        new = old | bit
        for q in range(k):
            if q != c:
                inc += 0.5 * ((LD[new] + LD[blocks[q]] - LD[new | blocks[q]])
                              - (LD[old] + LD[blocks[q]] - LD[old | blocks[q]]))
    else:
        for q in range(k):
            inc += 0.5 * (LD[bit] + LD[blocks[q]] - LD[bit | blocks[q]])
    return inc



@njit(cache=True)
def make_tasks(LD, E, lamsuf, m, s, depth, thresh, tol):
    """Every restricted growth prefix of length ``depth`` whose node bound is ≥ thresh − tol.

    Returns (labels (n, s) with the prefix in the first ``depth`` columns, upper bounds (n,)).
    """
    cap = 1024
    labs = np.zeros((cap, s), dtype=np.int64)
    ubs = np.zeros(cap)
    n = 0
    if depth == 0:
        blocks = np.zeros(m, dtype=np.int64)
        labs[0, 0] = 0
        ubs[0] = node_bound(E, lamsuf, blocks, np.int64(0), np.int64(0), m, s)
        return labs[:1], ubs[:1]
    blocks = np.zeros(m, dtype=np.int64)
    choice = np.full(s, -1, dtype=np.int64)
    kst = np.zeros(s + 1, dtype=np.int64)
    pst = np.zeros(s + 1)
    d = 0
    while d >= 0:
        bit = 1 << d
        k = kst[d]
        if choice[d] >= 0:
            blocks[choice[d]] &= ~bit
        c = choice[d] + 1
        limit = k + 1 if k < m else k
        advanced = False
        while c < limit:
            pen = pst[d] + _pen_inc(LD, blocks, k, c, bit)
            blocks[c] |= bit
            knew = k + 1 if c == k else k
            ub = node_bound(E, lamsuf, blocks, knew, d + 1, m, s) - pen
            if ub < thresh - tol:
                blocks[c] &= ~bit
                c += 1
                continue
            choice[d] = c
            if d + 1 == depth:
                if n == cap:
                    cap *= 2
                    nl = np.zeros((cap, s), dtype=np.int64)
                    nu = np.zeros(cap)
                    for q in range(n):           # element loops: a slice copy would compile
                        nu[q] = ubs[q]           # Numba's string formatting of shape errors
                        for e in range(s):
                            nl[q, e] = labs[q, e]
                    labs, ubs = nl, nu
                for e in range(depth):
                    labs[n, e] = choice[e]
                ubs[n] = ub
                n += 1
                blocks[c] &= ~bit
                c += 1
                continue
            kst[d + 1] = knew
            pst[d + 1] = pen
            d += 1
            choice[d] = -1
            advanced = True
            break
        if not advanced:
            choice[d] = -1
            d -= 1
    return labs[:n], ubs[:n]


# ------------------------------------------------------------------------------ the search

@njit(cache=True)
def _load_task(LD, labs, tlen, t, slot, choice, kst, pst, blk, dep, base, m):
    """Start slot ``slot`` on task t: blocks of the prefix, its penalty, depth = prefix length."""
    L = tlen[t]
    for b in range(m):
        blk[slot, b] = 0
    k = 0
    for e in range(L):
        c = labs[t, e]
        choice[slot, e] = c
        blk[slot, c] |= 1 << e
        if c + 1 > k:
            k = c + 1
    pen = 0.0
    for p in range(k):
        for q in range(p + 1, k):
            a, b = blk[slot, p], blk[slot, q]
            pen += 0.5 * (LD[a] + LD[b] - LD[a | b])
    kst[slot, L] = k
    pst[slot, L] = pen
    choice[slot, L] = -1
    dep[slot] = L
    base[slot] = L


@njit(cache=True)
def _run_slot(LD, E, lamsuf, m, s, tol, slot, budget, labs, tlen, queue, qpos, qlen, cur,
              choice, kst, pst, blk, dep, base, cap, thresh, best, bmask, blat, ties, tgroup,
              leaves, nodes, done_tasks):
    """Depth-first search of slot ``slot`` for about ``budget`` nodes, resuming its saved state.

    ``cur[slot]`` is the task in progress (−1: none; the next one is taken from
    ``queue[slot, qpos:qlen]``). ``cap[slot, e]``: choices at depth e stop below it (the rest was
    handed to other tasks). Leaves solve the block→latent matching exactly; ties are counted with
    a running maximum per slot (merged in Python).
    """
    W = np.zeros((m, m))
    lat = np.zeros(m, dtype=np.int64)
    blocks = blk[slot]
    leaf_off = (1 << s) - 1
    thr = max(thresh[0], best[slot])
    spent = 0
    while spent < budget:
        if cur[slot] < 0:
            if qpos[slot] >= qlen[slot]:
                return
            t = queue[slot, qpos[slot]]
            qpos[slot] += 1
            cur[slot] = t
            _load_task(LD, labs, tlen, t, slot, choice, kst, pst, blk, dep, base, m)
            for e in range(s + 1):
                cap[slot, e] = m
        d = dep[slot]
        th = thresh[0]
        if th > thr:
            thr = th
        if d == s:
            leaves[slot] += 1
            thr = _score_leaf(E, leaf_off, blocks, kst[slot, d], m, pst[slot, d], W, lat, thr, tol,
                              slot, best, bmask, blat, ties, tgroup, thresh)
            cur[slot] = -1
            done_tasks[0] += 1
            spent += 1
            continue
        bit = 1 << d
        k = kst[slot, d]
        if choice[slot, d] >= 0:
            blocks[choice[slot, d]] &= ~bit
        c = choice[slot, d] + 1
        limit = k + 1 if k < m else k
        if cap[slot, d] < limit:
            limit = cap[slot, d]
        advanced = False
        while c < limit:
            pen = pst[slot, d] + _pen_inc(LD, blocks, k, c, bit)
            blocks[c] |= bit
            knew = k + 1 if c == k else k
            spent += 1
            nodes[slot] += 1
            if d == s - 1:
                leaves[slot] += 1
                thr = _score_leaf(E, leaf_off, blocks, knew, m, pen, W, lat, thr, tol, slot, best,
                                  bmask, blat, ties, tgroup, thresh)
                blocks[c] &= ~bit
                c += 1
                continue
            ub = node_bound(E, lamsuf, blocks, knew, d + 1, m, s) - pen
            if ub < thr - tol:
                blocks[c] &= ~bit
                c += 1
                continue
            choice[slot, d] = c
            kst[slot, d + 1] = knew
            pst[slot, d + 1] = pen
            dep[slot] = d + 1
            choice[slot, d + 1] = -1
            cap[slot, d + 1] = m
            advanced = True
            break
        if not advanced:
            choice[slot, d] = -1
            if d == base[slot]:
                cur[slot] = -1
                done_tasks[0] += 1
            else:
                dep[slot] = d - 1


@njit(cache=True)
def _score_leaf(E, leaf_off, blocks, k, m, pen, W, lat, thr, tol, slot, best, bmask, blat, ties,
                tgroup, thresh):
    """Score the complete partition ``blocks[:k]`` (penalty ``pen``): fill the block × latent
    rewards W, solve the matching above the threshold, record it; the updated threshold."""
    for b in range(k):
        row = E[leaf_off + blocks[b], 0]
        for i in range(m):
            W[b, i] = row[i]
    val = _matchings(W, k, m, thr - tol + pen, np.bool_(False), lat) - pen
    if val > _NEG:
        _leaf_record(val, W, k, m, pen, tol, slot, blocks, lat, best, bmask, blat, ties, tgroup)
        if best[slot] > thr:
            thr = best[slot]
            if thr > thresh[0]:
                thresh[0] = thr
    return thr


@njit(cache=True)
def _store_best(W, k, m, slot, blocks, lat, best, val, bmask, blat):
    """Make ``val`` the slot's best and store its partition and optimal block → latent matching."""
    best[slot] = val
    _matchings(W, k, m, _NEG, np.bool_(False), lat)
    for b in range(m):
        bmask[slot, b] = blocks[b] if b < k else 0
        blat[slot, b] = lat[b] if b < k else -1


@njit(cache=True)
def _leaf_record(val, W, k, m, pen, tol, slot, blocks, lat, best, bmask, blat, ties, tgroup):
    """Running-maximum tie bookkeeping of one leaf partition (its matching value ``val``)."""
    b0 = best[slot]
    if val > b0 + tol:
        ties[slot] = _matchings(W, k, m, val - tol + pen, np.bool_(True), lat)
        tgroup[slot] = 1
        _store_best(W, k, m, slot, blocks, lat, best, val, bmask, blat)
    elif val >= b0 - tol:
        ties[slot] += _matchings(W, k, m, b0 - tol + pen, np.bool_(True), lat)
        tgroup[slot] += 1
        if val > b0:
            _store_best(W, k, m, slot, blocks, lat, best, val, bmask, blat)


@njit(cache=True, parallel=True)
def _search_chunk_par(LD, E, lamsuf, m, s, tol, budget, labs, tlen, queue, qpos, qlen, cur,
                      choice, kst, pst, blk, dep, base, cap, thresh, best, bmask, blat, ties, tgroup,
                      leaves, nodes, done):
    for slot in prange(cur.shape[0]):           # np.int64: the serial call's type (one compile)
        _run_slot(LD, E, lamsuf, m, s, tol, np.int64(slot), budget, labs, tlen, queue, qpos, qlen, cur,
                  choice, kst, pst, blk, dep, base, cap, thresh, best, bmask, blat, ties, tgroup,
                  leaves, nodes, done[slot:slot + 1])


@njit(cache=True)
def search_chunk(LD, E, lamsuf, m, s, tol, budget, labs, tlen, queue, qpos, qlen, cur,
                 choice, kst, pst, blk, dep, base, cap, thresh, best, bmask, blat, ties, tgroup,
                 leaves, nodes, done):
    """Run every slot for about ``budget`` nodes, then return to Python; slots run on their own
    threads when there are several (they share only ``thresh``, the best score so far — a stale
    read only weakens pruning, so races cannot change the answer)."""
    if cur.shape[0] > 1:
        _search_chunk_par(LD, E, lamsuf, m, s, tol, budget, labs, tlen, queue, qpos, qlen, cur,
                          choice, kst, pst, blk, dep, base, cap, thresh, best, bmask, blat, ties,
                          tgroup, leaves, nodes, done)
    else:
        _run_slot(LD, E, lamsuf, m, s, tol, np.int64(0), budget, labs, tlen, queue, qpos, qlen, cur,
                  choice, kst, pst, blk, dep, base, cap, thresh, best, bmask, blat, ties, tgroup,
                  leaves, nodes, done[0:1])


@njit(cache=True)
def frontier_bound(LD, E, lamsuf, m, s, slot, choice, kst, pst, dep, base, cap, labs, cur):
    """Largest node bound over the unexplored part of slot ``slot``'s task (−inf if none).

    The unexplored nodes are, at every depth e on the stack, the children c > choice[e] (below the
    slot's cap) of the path node at depth e; their bounds cover every remaining completion.
    """
    if cur[slot] < 0:
        return _NEG
    out = _NEG
    blocks = np.zeros(m, dtype=np.int64)
    t = cur[slot]
    L = base[slot]
    k = 0
    for e in range(L):
        c = labs[t, e]
        blocks[c] |= 1 << e
        if c + 1 > k:
            k = c + 1
    d = dep[slot]
    if d == s:
        return node_bound(E, lamsuf, blocks, k, s, m, s) - pst[slot, s]
    for e in range(L, d + 1):
        bit = 1 << e
        k = kst[slot, e]
        limit = k + 1 if k < m else k
        if cap[slot, e] < limit:
            limit = cap[slot, e]
        for c in range(choice[slot, e] + 1, limit):
            pen = pst[slot, e] + _pen_inc(LD, blocks, k, c, bit)
            blocks[c] |= bit
            knew = k + 1 if c == k else k
            ub = node_bound(E, lamsuf, blocks, knew, e + 1, m, s) - pen
            blocks[c] &= ~bit
            if ub > out:
                out = ub
        if e < d:
            blocks[choice[slot, e]] |= bit
    return out


@njit(cache=True)
def prefix_bound(LD, E, lamsuf, m, s, prefix, L):
    """Bound of the node whose first L factors carry the restricted growth labels ``prefix[:L]``."""
    blocks = np.zeros(m, dtype=np.int64)
    k = 0
    for e in range(L):
        blocks[prefix[e]] |= 1 << e
        if prefix[e] + 1 > k:
            k = prefix[e] + 1
    pen = 0.0
    for p in range(k):
        for q in range(p + 1, k):
            pen += 0.5 * (LD[blocks[p]] + LD[blocks[q]] - LD[blocks[p] | blocks[q]])
    return node_bound(E, lamsuf, blocks, k, L, m, s) - pen
