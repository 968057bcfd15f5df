r"""Numba kernels of the I_m metric: log-determinant tables, exhaustive and subset-DP search, and
the block→latent matching (the partition search is in :mod:`lingauss.metrics._im_search`).

Notation (all on the *correlation* matrix of [X; V], so var x_i = var v_j = 1; MI is invariant):

* ``LD[M]`` = log|R_VV[M]| for every factor subset M (bit j = factor j), LD[∅] = 0.
* ``R[i, M]`` = I(x_i; V_M) = −½ log(1 − ρ²_{i·M}), ρ² the squared multiple correlation of x_i on V_M.
* ``pen(P, Q)`` = LD[P] + LD[Q] − LD[P ∪ Q] = 2 I(V_P; V_Q); it vanishes when P or Q is empty, so the
  score of an assignment with group masks M_0..M_{m−1} needs no case analysis:

  .. math:: \mathcal{I}(M) = \sum_i R[i, M_i] - \tfrac12 \sum_{p<q} \mathrm{pen}(M_p, M_q).

Ties are tracked with a running maximum: a value more than ``tol`` above the best resets the count;
a value within ``tol`` of it is counted (and raises the best if larger).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_NEG = -np.inf


@njit(cache=True)
def subset_tables(corr, m, s):
    """``(LD, R, ok)``: tables over all 2^s factor subsets (:func:`subset_tables_t`, R latent-major)."""
    LD, RT, ok = subset_tables_t(corr, m, s, np.int64(1))
    return LD, np.ascontiguousarray(RT.T), ok


@njit(cache=True)
def _subset_dfs(corr, m, s, prefix, LD, RT, max_depth):
    """Fill LD/RT for the stack ``prefix`` (increasing factors) and every extension of it by larger
    factors with at most ``max_depth`` elements (the prefix's own sub-prefixes are not written).
    Returns False if a Schur complement is not positive."""
    L = np.zeros((s, s))
    Z = np.zeros((m, s))
    zz = np.zeros((m, s + 1))
    ld = np.zeros(s + 1)
    masks = np.zeros(s + 1, dtype=np.int64)
    elems = np.zeros(s, dtype=np.int64)
    nxt = np.zeros(s + 1, dtype=np.int64)
    D = prefix.shape[0]
    depth = 0
    while True:
        if depth < D:
            j = prefix[depth]
        else:
            j = nxt[depth]
            if j >= s or depth >= max_depth:
                depth -= 1
                if depth < D:
                    break
                continue
            nxt[depth] = j + 1
        vj = m + j
        d2 = corr[vj, vj]
        for a in range(depth):
            acc = corr[m + elems[a], vj]
            for b in range(a):
                acc -= L[depth, b] * L[a, b]
            L[depth, a] = acc / L[a, a]
            d2 -= L[depth, a] * L[depth, a]
        if not d2 > 0.0:
            return False
        L[depth, depth] = np.sqrt(d2)
        elems[depth] = j
        mask = masks[depth] | (1 << j)
        masks[depth + 1] = mask
        ld[depth + 1] = ld[depth] + np.log(d2)
        write = depth + 1 >= D
        if write:
            LD[mask] = ld[depth + 1]
        for i in range(m):
            acc = corr[i, vj]
            for b in range(depth):
                acc -= L[depth, b] * Z[i, b]
            Z[i, depth] = acc / L[depth, depth]
            zz[i, depth + 1] = zz[i, depth] + Z[i, depth] * Z[i, depth]
            resid = 1.0 - zz[i, depth + 1]
            if not resid > 0.0:
                return False
            if write:
                RT[mask, i] = -0.5 * np.log(resid)
        depth += 1
        nxt[depth] = j + 1
    return True


@njit(cache=True, parallel=True)
def _subset_tasks_par(corr, m, s, tasks, LD, RT, n_workers, ok):
    for w in prange(n_workers):
        for t in range(w, tasks.shape[0], n_workers):
            if not _subset_dfs(corr, m, s, tasks[t], LD, RT, s):
                ok[w] = False


@njit(cache=True)
def subset_tables_t(corr, m, s, n_workers=1):
    """``(LD, RT, ok)``: tables over all 2^s factor subsets by depth-first passes, RT[M, i] = R[i, M].

    Subsets are visited as stacks of increasing factor indices; pushing factor j extends the
    Cholesky factor of R_VV[stack] by one row (O(k²)) and the forward-substituted cross terms
    z_i = L⁻¹ r_{V,x_i} by one entry (O(k) each), so the whole table costs O(2^s (s² + m s)).
    With ``n_workers`` > 1 the subsets of ≤ 2 elements are done first and the stacks starting with
    each 3-element prefix are shared out, largest first, round-robin over the threads.
    ``ok`` is False if a Schur complement is not positive (the matrix is not positive definite).
    """
    size = 1 << s
    LD = np.zeros(size)
    RT = np.zeros((size, m))
    if n_workers <= 1 or s < 6:
        return LD, RT, _subset_dfs(corr, m, s, np.zeros(0, dtype=np.int64), LD, RT, s)
    if not _subset_dfs(corr, m, s, np.zeros(0, dtype=np.int64), LD, RT, np.int64(2)):
        return LD, RT, False
    n = s * (s - 1) * (s - 2) // 6
    tasks = np.zeros((n, 3), dtype=np.int64)
    q = 0
    for c in range(2, s):            # largest first: the stacks below {a, b, c} number 2^(s-1-c)
        for a in range(c):
            for b in range(a + 1, c):
                tasks[q, 0], tasks[q, 1], tasks[q, 2] = a, b, c
                q += 1
    ok = np.ones(n_workers, dtype=np.bool_)
    _subset_tasks_par(corr, m, s, tasks, LD, RT, n_workers, ok)
    good = True
    for w in range(n_workers):
        good = good and ok[w]
    return LD, RT, good


@njit(cache=True)
def score_of_masks(masks, LD, R):
    """I_m score of one assignment given its group masks (from scratch, O(m²))."""
    m = masks.shape[0]
    total = 0.0
    for i in range(m):
        total += R[i, masks[i]]
    for p in range(m):
        for q in range(p + 1, m):
            total -= 0.5 * (LD[masks[p]] + LD[masks[q]] - LD[masks[p] | masks[q]])
    return total


@njit(cache=True)
def _record(v, idx, tol, state, rec):
    """Running-maximum tie bookkeeping. state = [best, best_idx, ties, n_rec] (float64)."""
    best = state[0]
    if v > best + tol:
        state[0] = v
        state[1] = idx
        state[2] = 1.0
        rec[0] = idx
        state[3] = 1.0
    elif v >= best - tol:
        state[2] += 1.0
        if v > best:
            state[0] = v
            state[1] = idx
        n = int(state[3])
        if n < rec.shape[0]:
            rec[n] = idx
            state[3] = n + 1.0


@njit(cache=True)
def exhaustive(LD, R, m, s, tol, store_all, out, rec):
    """Score all m^s labelled assignments; index = Σ_j a_j m^j (factor 0 least significant).

    For s ≥ 2 the two lowest digits are handled analytically: for fixed labels of factors 2..s−1
    (group masks ``g``), moving factor 1 into group l changes only g_l, and moving factor 0 into
    group i changes only that group again, so each of the m² inner scores costs O(1) after an O(m²)
    precomputation on ``g`` — no running sums, so no drift over billions of assignments.
    Returns ``state`` = [best, best_idx, ties, n_recorded]; tied indices go to ``rec``.
    """
    state = np.array([_NEG, -1.0, 0.0, 0.0])
    best = _NEG
    if s < 2:
        masks = np.zeros(m, dtype=np.int64)
        for i in range(m):
            masks[:] = 0
            masks[i] = 1
            v = score_of_masks(masks, LD, R)
            if store_all:
                out[i] = v
            _record(v, i, tol, state, rec)
        return state
    b0, b1 = 1, 2
    n_outer = 1
    for _ in range(s - 2):
        n_outer *= m
    digits = np.zeros(s, dtype=np.int64)            # labels of factors 2..s-1
    g = np.zeros(m, dtype=np.int64)
    for j in range(2, s):
        g[0] |= 1 << j
    pen = np.zeros((m, m))
    T = np.zeros((m, m))
    D0 = np.zeros(m)                                 # D_i on g, before factor 1 moves
    Rd = np.zeros(m)
    Ld = np.zeros(m)
    mm = m * m
    for outer in range(n_outer):
        # --- precompute on g (factors 0 and 1 unplaced): base score, pair penalties, T, row sums
        base = 0.0
        for i in range(m):
            base += R[i, g[i]]
            Rd[i] = R[i, g[i] | b0] - R[i, g[i]]
            Ld[i] = LD[g[i] | b0] - LD[g[i]]
        for p in range(m):
            for q in range(p + 1, m):
                u = g[p] | g[q]
                pen[p, q] = LD[g[p]] + LD[g[q]] - LD[u]
                pen[q, p] = pen[p, q]
                base -= 0.5 * pen[p, q]
                T[p, q] = LD[u | b0] - LD[u]
                T[q, p] = T[p, q]
        for i in range(m):
            acc = 0.0
            for q in range(m):
                if q != i:
                    acc += T[i, q]
            D0[i] = Rd[i] - 0.5 * (m - 1) * Ld[i] + 0.5 * acc
        # --- factor 1 into group l
        for l in range(m):
            gl = g[l] | b1
            base_l = base + R[l, gl] - R[l, g[l]]
            for q in range(m):
                if q != l:
                    base_l -= 0.5 * ((LD[gl] + LD[g[q]] - LD[gl | g[q]]) - pen[l, q])
            # D_i for factor 0 into group i, with group l now gl
            for i in range(m):
                if i == l:
                    rd = R[l, gl | b0] - R[l, gl]
                    ldl = LD[gl | b0] - LD[gl]
                    acc = 0.0
                    for q in range(m):
                        if q != l:
                            u = gl | g[q]
                            acc += LD[u | b0] - LD[u]
                    d = rd - 0.5 * (m - 1) * ldl + 0.5 * acc
                else:
                    u = g[i] | gl
                    d = D0[i] + 0.5 * (LD[u | b0] - LD[u] - T[i, l])
                v = base_l + d
                idx = i + m * l + mm * outer
                if store_all:
                    out[idx] = v
                if v >= best - tol:          # the slow path runs only near the maximum
                    _record(v, idx, tol, state, rec)
                    best = state[0]
        # --- odometer step on factors 2..s-1, moving bits between group masks
        j = 2
        while j < s:
            old = digits[j]
            g[old] &= ~(1 << j)
            if old + 1 < m:
                digits[j] = old + 1
                g[old + 1] |= 1 << j
                break
            digits[j] = 0
            g[0] |= 1 << j
            j += 1
    return state


@njit(cache=True)
def _popcount(x):
    c = 0
    while x:
        x &= x - 1
        c += 1
    return c


@njit(cache=True)
def _matchings(W, k, m, target, count, used_out):
    """DFS over injective maps π: blocks → latents with value Σ_b W[b, π(b)], pruned by row maxima.

    ``count=False``: the best value above ``target`` (−inf if none), its map written to ``used_out``.
    ``count=True``: the number of maps whose value is ≥ ``target``.
    """
    rowmax_suffix = np.zeros(k + 1)
    for b in range(k - 1, -1, -1):
        mx = _NEG
        for i in range(m):
            if W[b, i] > mx:
                mx = W[b, i]
        rowmax_suffix[b] = rowmax_suffix[b + 1] + mx
    best = target
    found = False
    n_found = 0
    choice = np.full(k, -1, dtype=np.int64)
    partial = np.zeros(k + 1)
    used = 0
    b = 0
    while b >= 0:
        if choice[b] >= 0:
            used &= ~(1 << choice[b])
        nxt = choice[b] + 1
        placed = False
        while nxt < m:
            if not (used >> nxt) & 1:
                val = partial[b] + W[b, nxt]
                reach = val + rowmax_suffix[b + 1]
                if (count and reach >= target) or (not count and reach > best):
                    choice[b] = nxt
                    used |= 1 << nxt
                    partial[b + 1] = val
                    placed = True
                    break
            nxt += 1
        if not placed:
            choice[b] = -1
            b -= 1
            continue
        if b == k - 1:
            if count:
                n_found += partial[k] >= target
            elif partial[k] > best:
                best = partial[k]
                found = True
                for t in range(k):
                    used_out[t] = choice[t]
            continue
        b += 1
    if count:
        return float(n_found)
    return best if found else _NEG


@njit(cache=True)
def penalty_free_dp(R, m, s):
    r"""``F[i, U]`` = max over disjoint U_i..U_{m−1} covering U of Σ_{l≥i} R[l, U_l] (O(m 3^s)).

    The I_m score without its penalty; since the penalty is ≥ 0, ``F[i, U]`` bounds the reward any
    assignment of U to latents i..m−1 can earn net of penalty. ``F[m, U] = −∞`` for U ≠ ∅ (every
    factor must be assigned).
    """
    size = 1 << s
    F = np.full((m + 1, size), _NEG)
    F[m, 0] = 0.0
    for i in range(m - 1, -1, -1):
        for U in range(size):
            best = _NEG
            T = U
            while True:
                v = R[i, T] + F[i + 1, U ^ T]
                if v > best:
                    best = v
                if T == 0:
                    break
                T = (T - 1) & U
            F[i, U] = best
    return F


@njit(cache=True)
def exact_dp(LD, R, F, m, s, tol, incumbent, rec):
    r"""Branch-and-bound over labelled assignments, latent by latent, with the bound of :func:`penalty_free_dp`.

    Latent i takes a subset T of the unplaced factors U (possibly empty). A node with reward r and
    penalty p so far is cut when r + R[i, T] + F[i+1, U∖T] − p − Δp < max(best, incumbent) − tol,
    where Δp = Σ_{l<i} I(V_{S_l}; V_T) ≥ 0 is the penalty T adds (later blocks only add more).
    The bound is exact when the factors are independent (zero penalties), which is where the
    partition search of :func:`exact` is weakest. Returns (state, best_masks, n_leaves) with
    ``state`` = [best, best_idx, ties, n_recorded] as in :func:`exhaustive`.
    """
    full = (1 << s) - 1
    S = np.zeros(m, dtype=np.int64)
    Ust = np.zeros(m + 1, dtype=np.int64)
    Ust[0] = full
    rew = np.zeros(m + 1)
    pen = np.zeros(m + 1)
    Tcur = np.zeros(m, dtype=np.int64)
    started = np.zeros(m, dtype=np.bool_)
    state = np.array([_NEG, -1.0, 0.0, 0.0])
    best_masks = np.zeros(m, dtype=np.int64)
    thresh = incumbent
    n_leaves = 0
    i = 0
    while i >= 0:
        U = Ust[i]
        if not started[i]:
            T = U
            started[i] = True
        elif Tcur[i] == 0:
            i -= 1
            continue
        else:
            T = (Tcur[i] - 1) & U
        Tcur[i] = T
        inc = 0.0
        if T != 0:
            for p in range(i):
                if S[p] != 0:
                    inc += 0.5 * (LD[S[p]] + LD[T] - LD[S[p] | T])
        r = rew[i] + R[i, T]
        pn = pen[i] + inc
        rest = U ^ T
        if r + F[i + 1, rest] - pn < thresh - tol:
            continue
        S[i] = T
        if i == m - 1:
            n_leaves += 1
            v = r - pn
            idx = 0
            for j in range(s - 1, -1, -1):
                for lat in range(m):
                    if (S[lat] >> j) & 1:
                        idx = idx * m + lat
                        break
            before = state[0]
            _record(v, idx, tol, state, rec)
            if state[0] > before:
                for lat in range(m):
                    best_masks[lat] = S[lat]
            if state[0] > thresh:
                thresh = state[0]
            continue
        Ust[i + 1] = rest
        rew[i + 1] = r
        pen[i + 1] = pn
        started[i + 1] = False
        i += 1
    return state, best_masks, n_leaves
