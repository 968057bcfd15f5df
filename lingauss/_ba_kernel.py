r"""The compiled Blahut–Arimoto iteration (Numba, cached): a whole grid, or one point, fused.

:func:`run_chunk` runs the complete loop of a range of (γ, λ) points: the encoder half-step, the
decoder half-step, the family's Σ_Z update (:mod:`lingauss._noise_kernels`, chosen by the family's
declared ``kernel`` code), the status checks and the loss of the stopping rule — no Python and no
allocation per iteration. The points run on ``nl`` *lanes* (:mod:`lingauss._small_linalg`): the
points advance together, one SIMD instruction per arithmetic step, and a lane whose point stops
(its own status, at its own iteration) takes the next point of the range at once, so no lane waits
for the slowest point. The lane count is a compile-time constant (``numba.literally``: one
specialisation per value, each cached): :func:`solve_grid` runs the chunks of a grid on LANES = 8
lanes in a ``prange`` loop (threads); :func:`solve_point` — :func:`lingauss.blahut_arimoto` —
runs its one point on a single lane, recording the loss history, so that one point does not pay
for eight.

Cheap exact status checks. The numpy reference (:mod:`lingauss._ba_numpy`) computes the
eigenvalues of Σ_W and Σ_Z every iteration to test ``λ_min/λ_max < singular_tol``. Here the bound
:math:`\lambda_\min/\lambda_\max \ge 1/(\operatorname{tr}S\,\operatorname{tr}S^{-1})` (both inverses
are at hand: Σ_W⁻¹ = I + AᵀPA, Σ_Z⁻¹ is needed for P) settles the test when it exceeds
``2·singular_tol``; only a nearly singular matrix goes to ``eigvalsh``, so the verdict is the
reference's and a diverging point stops at its first singular iterate.
"""

from __future__ import annotations

import math

import numpy as np
from numba import literally, njit, prange

from ._noise_kernels import noise_inverse, noise_update
from ._small_linalg import (LANES, add_nonfinite_marks, chol, chol_inverse, chol_logdet, lane_lu_solve,
                            lane_relative_min_eig, load_lane, select_into, solve_rows, store_lane,
                            trace)

# status codes: the order of lingauss.ba_solver.STATUSES; -1 = still running
RUNNING, CONVERGED, COLLAPSED, DIVERGED, MAX_ITER, INVALID = -1, 0, 1, 2, 3, 4
# reasons a run stopped early (texts in lingauss.ba_solver)
R_NONE, R_ENCODER, R_NONFINITE, R_SZ, R_SW, R_GAIN, R_LOSS = range(7)

_LOG_2PI = math.log(2.0 * math.pi)
_JIT = dict(cache=True, error_model="numpy", nogil=True, fastmath={"contract", "nsz"})


@njit(**_JIT)
def _load_point(p, q, A0, Sz0, Szinv0, terms0, gammas, lams, A, B, Sw, Sz, Szinv, St, gam, lm):
    load_lane(A0, A, q)
    load_lane(Sz0, Sz, q)
    load_lane(Szinv0, Szinv, q)
    m, n = B.shape[0], B.shape[1]
    for i in range(m):
        for k in range(n):
            B[i, k, q] = 0.0
        for j in range(m):
            Sw[i, j, q] = 1.0 if i == j else 0.0
    for t in range(4):
        St[t, q] = terms0[p, t]
    gam[q] = gammas[p]
    lm[q] = lams[p]


@njit(**_JIT)
def run_chunk(Sy, scale_n, A0, Sz0, terms0, gammas, lams, lo, hi, code, learned, F, Finv, F_logdet,
              max_iter, tol, collapse_tol, singular_tol, hist, outA, outB, outSw, outSz, outT, outI, nl):
    """Blahut–Arimoto on points ``lo..hi-1`` on the lanes; results into ``out*[p]``.

    Every point starts at the decoder ``(A0, Sz0)`` with B = 0, Σ_W = I and the loss terms
    ``terms0[p]`` (total, kl, nll, mse). ``outI[p]`` = (n_iter, status, reason, n_increases).
    ``hist`` (length max_iter + 1, or 0 for none): the total loss after each accepted iteration of
    point ``lo`` (one-point runs).
    """
    literally(nl)
    n, m = A0.shape
    L = nl
    keep_hist = hist.shape[0] > 0
    f = np.empty
    # state (last accepted iterate) and per-lane scalars
    A, B, Sw, Sz, Szinv = f((n, m, L)), f((m, n, L)), f((m, m, L)), f((n, n, L)), f((n, n, L))
    St = f((4, L))
    gam, lm = f(L), f(L)
    lp = np.full(L, -1, dtype=np.int64)
    lit = np.zeros(L, dtype=np.int64)
    ninc = np.zeros(L, dtype=np.int64)
    # the new iterate and workspaces
    P, T, M, LM, Lw = f((n, n, L)), f((n, m, L)), f((m, m, L)), f((m, m, L)), f((m, m, L))
    Swn, Bn, C, Sx, An = f((m, m, L)), f((m, n, L)), f((n, m, L)), f((m, m, L)), f((n, m, L))
    E, Szn, Szinvn, Lz, Lzi = f((n, n, L)), f((n, n, L)), f((n, n, L)), f((n, n, L)), f((n, n, L))
    okM, okX, okZ = np.ones(L, np.bool_), np.ones(L, np.bool_), np.ones(L, np.bool_)
    acc = np.zeros(L, np.bool_)
    ldM, ldZ, trZ, relZ = f(L), f(L), f(L), f(L)
    trw, trM, trE, trB, g2, wk, fin = f(L), f(L), f(L), f(L), f(L), f(L), f(L)
    work_n, work_m = f((n, n)), f((m, m))
    # Σ_Z⁻¹ of the starting decoder, once
    for q in range(L):
        load_lane(Sz0, Sz, q)
    noise_inverse(code, Sz, Finv, Szinv, Lz, Lzi, okZ, n, nl)
    Szinv0 = np.empty((n, n))
    store_lane(Szinv, 0, Szinv0)

    nxt = lo
    for q in range(nl):               # idle lanes run a copy of the first point, never stored
        _load_point(lo, q, A0, Sz0, Szinv0, terms0, gammas, lams, A, B, Sw, Sz, Szinv, St, gam, lm)
        if nxt < hi:
            lp[q] = nxt
            _load_point(nxt, q, A0, Sz0, Szinv0, terms0, gammas, lams, A, B, Sw, Sz, Szinv, St, gam, lm)
            nxt += 1
    active = 0
    for q in range(nl):
        if lp[q] >= 0:
            active += 1
    while active > 0:
        # ---------------- encoder half-step: P = γΣ_Z⁻¹ + 2λI, M = I + AᵀPA, Σ_W = M⁻¹, B = Σ_W AᵀP
        for i in range(n):
            for j in range(n):
                for q in range(nl):
                    P[i, j, q] = gam[q] * Szinv[i, j, q]
            for q in range(nl):
                P[i, i, q] += 2.0 * lm[q]
        for k in range(n):
            for j in range(m):
                for q in range(nl):
                    T[k, j, q] = 0.0
                for l in range(n):
                    for q in range(nl):
                        T[k, j, q] += P[k, l, q] * A[l, j, q]
        for i in range(m):
            for j in range(i + 1):
                for q in range(nl):
                    M[i, j, q] = 1.0 if i == j else 0.0
                for k in range(n):
                    for q in range(nl):
                        M[i, j, q] += A[k, i, q] * T[k, j, q]
                for q in range(nl):
                    M[j, i, q] = M[i, j, q]
        for q in range(nl):
            okM[q] = True
            okX[q] = True
        chol(M, LM, okM, m, nl)
        chol_inverse(LM, Lw, Swn, m, nl)
        chol_logdet(LM, ldM, m, nl)
        for i in range(m):
            for k in range(n):
                for q in range(nl):
                    Bn[i, k, q] = 0.0
                for j in range(m):
                    for q in range(nl):
                        Bn[i, k, q] += Swn[i, j, q] * T[k, j, q]
        # ---------------- decoder half-step: C = Σ_Y Bᵀ, Σ_X = BΣ_YBᵀ + Σ_W, A = C Σ_X⁻¹, E = Σ_Y − A Cᵀ
        for k in range(n):
            for i in range(m):
                for q in range(nl):
                    C[k, i, q] = 0.0
                for l in range(n):
                    s = Sy[k, l]
                    for q in range(nl):
                        C[k, i, q] += s * Bn[i, l, q]
        for q in range(nl):
            trB[q] = 0.0
        for i in range(m):
            for j in range(i + 1):
                for q in range(nl):
                    Sx[i, j, q] = 0.0
                for k in range(n):
                    for q in range(nl):
                        Sx[i, j, q] += Bn[i, k, q] * C[k, j, q]
                if i == j:
                    for q in range(nl):
                        trB[q] += Sx[i, i, q]
                for q in range(nl):
                    Sx[i, j, q] += Swn[i, j, q]
                    Sx[j, i, q] = Sx[i, j, q]
        solve_rows(Sx, C, Lw, An, okX, n, m, nl)
        for q in range(nl):
            if not okX[q]:
                lane_lu_solve(Sx, C, An, q, n, m)
        for k in range(n):
            for q in range(nl):
                E[k, k, q] = Sy[k, k]
            for i in range(m):
                for q in range(nl):
                    E[k, k, q] -= An[k, i, q] * C[k, i, q]
            for l in range(k):                     # sym(Σ_Y − A Cᵀ), as the reference
                for q in range(nl):
                    E[k, l, q] = Sy[k, l]
                    E[l, k, q] = Sy[l, k]
                for i in range(m):
                    for q in range(nl):
                        E[k, l, q] -= An[k, i, q] * C[l, i, q]
                        E[l, k, q] -= An[l, i, q] * C[k, i, q]
                for q in range(nl):
                    E[k, l, q] = 0.5 * (E[k, l, q] + E[l, k, q])
                    E[l, k, q] = E[k, l, q]
        noise_update(code, E, F, Finv, F_logdet, Szn, Szinvn, Lz, Lzi, okZ, ldZ, trZ, relZ, wk, n, nl)
        trace(Swn, trw, m, nl)
        trace(M, trM, m, nl)
        trace(E, trE, n, nl)
        for q in range(nl):
            g2[q] = 0.0
            fin[q] = 0.0
        add_nonfinite_marks(An, fin, nl)
        add_nonfinite_marks(Bn, fin, nl)
        add_nonfinite_marks(Szn, fin, nl)
        for k in range(n):
            for j in range(m):
                for q in range(nl):
                    g2[q] += An[k, j, q] * An[k, j, q]
        # ---------------- per lane: the status checks in the reference's order, then the loss
        for q in range(nl):
            acc[q] = False
            status, reason = RUNNING, R_NONE
            if not okM[q]:
                status, reason = DIVERGED, R_ENCODER
            elif fin[q] != 0.0:                    # a non-finite entry of A, B or Σ_Z
                status, reason = INVALID, R_NONFINITE
            elif learned and relZ[q] < 2.0 * singular_tol and \
                    lane_relative_min_eig(Szn, q, work_n) < singular_tol:
                status, reason = DIVERGED, R_SZ
            elif 1.0 / (trw[q] * trM[q]) < 2.0 * singular_tol and \
                    lane_relative_min_eig(Swn, q, work_m) < singular_tol:
                status, reason = DIVERGED, R_SW
            elif math.sqrt(g2[q] / scale_n) > 1.0 / singular_tol:
                status, reason = DIVERGED, R_GAIN
            elif not okZ[q]:                       # Σ_Z not positive definite: no loss value
                status, reason = INVALID, R_LOSS
            else:
                kl = 0.5 * (trB[q] + trw[q] + ldM[q] - m)          # log|Σ_W| = −log|M|
                nll = 0.5 * (n * _LOG_2PI + ldZ[q] + trZ[q])
                mse = trE[q]
                total = kl + gam[q] * nll + lm[q] * mse
                if not (math.isfinite(total) and math.isfinite(kl) and math.isfinite(nll)
                        and math.isfinite(mse)):
                    status, reason = INVALID, R_LOSS
                else:
                    prev = St[0, q]
                    change = prev - total
                    if change < -1e-10 * max(1.0, abs(prev)):
                        ninc[q] += 1
                    acc[q] = True
                    St[0, q], St[1, q], St[2, q], St[3, q] = total, kl, nll, mse
                    lit[q] += 1
                    if keep_hist and q == 0 and lp[0] >= 0:
                        hist[lit[0]] = total
                    if abs(change) <= tol * max(1.0, abs(total)):
                        status = CONVERGED
                    elif lit[q] >= max_iter:
                        status = MAX_ITER
            if status != RUNNING:
                lit[q] = -lit[q] - 1                   # flag: this lane's point stops now
                if lp[q] >= 0:
                    outI[lp[q], 1] = status
                    outI[lp[q], 2] = reason
        select_into(An, A, acc, nl)
        select_into(Bn, B, acc, nl)
        select_into(Swn, Sw, acc, nl)
        select_into(Szn, Sz, acc, nl)
        select_into(Szinvn, Szinv, acc, nl)
        # ---------------- lanes whose point stopped: store it, take the next point
        for q in range(nl):
            if lit[q] >= 0:
                continue
            lit[q] = -lit[q] - 1
            p = lp[q]
            if p >= 0:
                store_lane(A, q, outA[p])
                store_lane(B, q, outB[p])
                store_lane(Sw, q, outSw[p])
                store_lane(Sz, q, outSz[p])
                for t in range(4):
                    outT[p, t] = St[t, q]
                status = outI[p, 1]
                if (status == CONVERGED or status == MAX_ITER) and St[1, q] <= collapse_tol:
                    outI[p, 1] = COLLAPSED
                outI[p, 0] = lit[q]
                outI[p, 3] = ninc[q]
            lit[q] = 0
            ninc[q] = 0
            if nxt < hi:
                lp[q] = nxt
                _load_point(nxt, q, A0, Sz0, Szinv0, terms0, gammas, lams, A, B, Sw, Sz, Szinv, St,
                            gam, lm)
                nxt += 1
            else:
                if p >= 0:
                    active -= 1
                lp[q] = -1
                _load_point(lo, q, A0, Sz0, Szinv0, terms0, gammas, lams, A, B, Sw, Sz, Szinv, St,
                            gam, lm)


@njit(parallel=True, **_JIT)
def solve_grid(Sy, scale_n, A0, Sz0, terms0, gammas, lams, bounds, code, learned, F, Finv, F_logdet,
               max_iter, tol, collapse_tol, singular_tol, outA, outB, outSw, outSz, outT, outI):
    """:func:`run_chunk` on the chunks ``bounds[c]..bounds[c+1]`` of a grid, in parallel."""
    empty = np.empty(0)
    for c in prange(bounds.shape[0] - 1):
        run_chunk(Sy, scale_n, A0, Sz0, terms0, gammas, lams, bounds[c], bounds[c + 1], code, learned,
                  F, Finv, F_logdet, max_iter, tol, collapse_tol, singular_tol, empty,
                  outA, outB, outSw, outSz, outT, outI, LANES)


@njit(**_JIT)
def solve_point(Sy, scale_n, A0, Sz0, terms0, gammas, lams, code, learned, F, Finv, F_logdet,
                max_iter, tol, collapse_tol, singular_tol, hist, outA, outB, outSw, outSz, outT, outI):
    """:func:`run_chunk` on point 0 alone, on one lane (no SIMD lanes to fill: a single point pays
    for itself only), recording its loss history into ``hist`` (length 0: none)."""
    run_chunk(Sy, scale_n, A0, Sz0, terms0, gammas, lams, 0, 1, code, learned, F, Finv, F_logdet,
              max_iter, tol, collapse_tol, singular_tol, hist, outA, outB, outSw, outSz, outT, outI, 1)
