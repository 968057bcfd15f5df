"""Small dense linear algebra for the compiled kernels (Numba), on *lanes*.

A lane array holds the same small matrix for ``nl`` independent points, the point index last:
``S[i, j, q]`` is entry (i, j) of lane q. Every routine loops over lanes innermost, so each
arithmetic step is one SIMD instruction over the lanes and the points' dependency chains
overlap (one point's 3×3 Cholesky alone is a chain of latencies, not of throughput). ``nl`` is
a compile-time constant of each routine (``numba.literally``): LANES = 8 for grids, 1 for a
single point; with a run-time count the lane loops neither unroll nor vectorise well (measured:
8 lanes 1.3× slower, 1 lane slower than 8). Buffers are preallocated by the caller: nothing
allocates.
"""

from __future__ import annotations

import math

import numpy as np
from numba import literally, njit

_TINY = np.finfo(np.float64).tiny
#: Points that advance together on a grid (the lane loops unroll into SIMD code).
LANES = 8
_JIT = dict(cache=True, error_model="numpy", nogil=True, fastmath={"contract", "nsz"})


@njit(**_JIT)
def chol(S, L, ok, n, nl):
    """Lower Cholesky factors of the lanes of S into L; ``ok[q]`` ← False where a pivot is not
    > 0 (as LAPACK potrf; that lane's L is then meaningless but finite). Lanes innermost."""
    literally(nl)
    for j in range(n):
        for q in range(nl):
            L[j, j, q] = S[j, j, q]
        for k in range(j):
            for q in range(nl):
                L[j, j, q] -= L[j, k, q] * L[j, k, q]
        for q in range(nl):
            d = L[j, j, q]
            good = d > 0.0
            ok[q] = ok[q] and good
            L[j, j, q] = math.sqrt(d if good else 1.0)
        for i in range(j + 1, n):
            for q in range(nl):
                L[i, j, q] = S[i, j, q]
            for k in range(j):
                for q in range(nl):
                    L[i, j, q] -= L[i, k, q] * L[j, k, q]
            for q in range(nl):
                L[i, j, q] /= L[j, j, q]


@njit(**_JIT)
def chol_inverse(L, Li, out, n, nl):
    """``out = S⁻¹`` lane by lane from the Cholesky factor L of S (Li: workspace); symmetric."""
    literally(nl)
    for j in range(n):
        for q in range(nl):
            Li[j, j, q] = 1.0 / L[j, j, q]
        for i in range(j + 1, n):
            for q in range(nl):
                Li[i, j, q] = 0.0
            for k in range(j, i):
                for q in range(nl):
                    Li[i, j, q] -= L[i, k, q] * Li[k, j, q]
            for q in range(nl):
                Li[i, j, q] /= L[i, i, q]
    for i in range(n):
        for j in range(i + 1):
            for q in range(nl):
                out[i, j, q] = 0.0
            for k in range(i, n):
                for q in range(nl):
                    out[i, j, q] += Li[k, i, q] * Li[k, j, q]
            for q in range(nl):
                out[j, i, q] = out[i, j, q]


@njit(**_JIT)
def chol_logdet(L, out, n, nl):
    """``out[q] = log|S_q| = 2 Σ log L_ii`` (as the log of a product unless it under/overflows)."""
    literally(nl)
    for q in range(nl):
        p = 1.0
        for i in range(n):
            p *= L[i, i, q] * L[i, i, q]
        out[q] = p
    for q in range(nl):
        p = out[q]
        if p > 1e-290 and p < 1e290:
            out[q] = math.log(p)
        else:
            s = 0.0
            for i in range(n):
                s += 2.0 * math.log(L[i, i, q])
            out[q] = s


@njit(**_JIT)
def trace(S, out, n, nl):
    literally(nl)
    for q in range(nl):
        out[q] = 0.0
    for i in range(n):
        for q in range(nl):
            out[q] += S[i, i, q]


@njit(**_JIT)
def add_nonfinite_marks(X, out, nl):
    """``out[q] += Σ X[..., q]·0``: stays 0 while every entry of lane q is finite and becomes NaN
    at the first ±inf or NaN (x·0 is NaN exactly then; no overflow, unlike a plain sum), lanes
    vectorised."""
    literally(nl)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            for q in range(nl):
                out[q] += X[i, j, q] * 0.0


@njit(**_JIT)
def lane_relative_min_eig(X, q, work):
    """``λ_min / max(λ_max, tiny)`` of lane q of X — the reference's singularity measure, with
    LAPACK's eigenvalues (``work``: an (n, n) buffer)."""
    n = X.shape[0]
    for i in range(n):
        for j in range(n):
            work[i, j] = X[i, j, q]
    vals = np.linalg.eigvalsh(work)
    return vals[0] / max(vals[-1], _TINY)


@njit(**_JIT)
def solve_rows(Sx, C, L, A, ok, n, m, nl):
    """``A = C Sx⁻¹`` per lane (Sx SPD m × m, C n × m) by Cholesky; ``ok[q]`` ← False where Sx
    is not numerically positive definite (the caller solves that lane by :func:`lane_lu_solve`)."""
    literally(nl)
    chol(Sx, L, ok, m, nl)
    for r in range(n):
        for i in range(m):                         # forward: L y = c
            for q in range(nl):
                A[r, i, q] = C[r, i, q]
            for k in range(i):
                for q in range(nl):
                    A[r, i, q] -= L[i, k, q] * A[r, k, q]
            for q in range(nl):
                A[r, i, q] /= L[i, i, q]
        for i in range(m - 1, -1, -1):             # backward: Lᵀ x = y
            for k in range(i + 1, m):
                for q in range(nl):
                    A[r, i, q] -= L[k, i, q] * A[r, k, q]
            for q in range(nl):
                A[r, i, q] /= L[i, i, q]


@njit(**_JIT)
def lane_lu_solve(Sx, C, A, q, n, m):
    """``A = solve(Sx, Cᵀ)ᵀ`` for lane q by LU with partial pivoting (as numpy.linalg.solve)."""
    W_ = np.empty((m, m + n))
    for i in range(m):
        for j in range(m):
            W_[i, j] = Sx[i, j, q]
        for r in range(n):
            W_[i, m + r] = C[r, i, q]
    for c in range(m):
        p = c
        for i in range(c + 1, m):
            if abs(W_[i, c]) > abs(W_[p, c]):
                p = i
        if p != c:
            for j in range(m + n):
                W_[c, j], W_[p, j] = W_[p, j], W_[c, j]
        for i in range(c + 1, m):
            f = W_[i, c] / W_[c, c]
            for j in range(c, m + n):
                W_[i, j] -= f * W_[c, j]
    for r in range(n):
        for i in range(m - 1, -1, -1):
            s = W_[i, m + r]
            for k in range(i + 1, m):
                s -= W_[i, k] * A[r, k, q]
            A[r, i, q] = s / W_[i, i]


@njit(**_JIT)
def select_into(src, dst, mask, nl):
    """``dst[..., q] = src[..., q]`` where ``mask[q]`` (a masked copy, vectorised over lanes)."""
    literally(nl)
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            for q in range(nl):
                if mask[q]:
                    dst[i, j, q] = src[i, j, q]


@njit(**_JIT)
def load_lane(src, dst, q):
    """``dst[..., q] = src`` (a point's matrix into lane q)."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j, q] = src[i, j]


@njit(**_JIT)
def store_lane(src, q, dst):
    """``dst = src[..., q]`` (lane q out to a point's matrix)."""
    for i in range(dst.shape[0]):
        for j in range(dst.shape[1]):
            dst[i, j] = src[i, j, q]
