r"""Compiled Σ_Z updates of the decoder-noise families, for the fused Blahut–Arimoto kernel.

Each family of :mod:`lingauss.noise_families` declares a ``kernel`` code; the compiled kernel
(:mod:`lingauss._ba_kernel`) passes it here. For that code, :func:`noise_update` computes, on all
lanes at once (:mod:`lingauss._small_linalg`), what the family's ``project`` computes — Σ_Z from the
residual covariance E — together with what the iteration needs from Σ_Z: its inverse (for
P = γΣ_Z⁻¹ + 2λI), log|Σ_Z| and tr(Σ_Z⁻¹E) (for the nll), and its relative smallest eigenvalue:
exact for the diagonal and isotropic families, a lower bound 1/(tr Σ_Z · tr Σ_Z⁻¹) for the full
family (the kernel then asks LAPACK only when the bound is inconclusive).
"""

from __future__ import annotations

import math

import numpy as np
from numba import literally, njit

from ._small_linalg import chol, chol_inverse, chol_logdet
from .noise_families import KERNEL_DIAGONAL, KERNEL_FIXED, KERNEL_FULL, KERNEL_ISOTROPIC

_TINY = np.finfo(np.float64).tiny
_JIT = dict(cache=True, error_model="numpy", nogil=True, fastmath={"contract", "nsz"})


@njit(**_JIT)
def noise_inverse(code, Sz, Finv, Szinv, L, Li, ok, n, nl):
    """``Szinv = Σ_Z⁻¹`` for the lanes of a valid Σ_Z of family ``code`` (the start of a run)."""
    literally(nl)
    if code == KERNEL_FIXED:
        for i in range(n):
            for j in range(n):
                for q in range(nl):
                    Szinv[i, j, q] = Finv[i, j]
    elif code == KERNEL_FULL:
        chol(Sz, L, ok, n, nl)
        chol_inverse(L, Li, Szinv, n, nl)
    else:                                   # diagonal and isotropic: a diagonal Σ_Z
        for i in range(n):
            for j in range(n):
                for q in range(nl):
                    Szinv[i, j, q] = 1.0 / Sz[i, i, q] if i == j else 0.0


@njit(**_JIT)
def noise_update(code, E, F, Finv, F_logdet, Sz, Szinv, L, Li, ok, logdet, tr, rel, work, n, nl):
    """The decoder half-step's Σ_Z for family ``code``, lane by lane, into ``Sz`` and ``Szinv``.

    Per lane q: ``ok[q]`` (Σ_Z positive definite), ``logdet[q]`` = log|Σ_Z|, ``tr[q]`` =
    tr(Σ_Z⁻¹E) and ``rel[q]``: λ_min/λ_max of Σ_Z (diagonal, isotropic: exact; full: a lower
    bound; fixed: 1, unused). ``work``: an (nl,) buffer; ``nl``: the lane count.
    """
    literally(nl)
    for q in range(nl):
        ok[q] = True
        tr[q] = 0.0
    if code == KERNEL_FIXED:
        for i in range(n):
            for j in range(n):
                for q in range(nl):
                    Sz[i, j, q] = F[i, j]
                    Szinv[i, j, q] = Finv[i, j]
                    tr[q] += Finv[i, j] * E[i, j, q]
        for q in range(nl):
            logdet[q] = F_logdet
            rel[q] = 1.0
        return
    if code == KERNEL_FULL:                 # Σ_Z = E
        for i in range(n):
            for j in range(n):
                for q in range(nl):
                    Sz[i, j, q] = E[i, j, q]
        chol(E, L, ok, n, nl)
        chol_inverse(L, Li, Szinv, n, nl)
        chol_logdet(L, logdet, n, nl)
        for q in range(nl):
            rel[q] = 0.0
            work[q] = 0.0
        for i in range(n):
            for q in range(nl):
                rel[q] += E[i, i, q]           # tr Σ_Z
                work[q] += Szinv[i, i, q]      # tr Σ_Z⁻¹
            for j in range(n):
                for q in range(nl):
                    tr[q] += Szinv[i, j, q] * E[i, j, q]
        for q in range(nl):
            rel[q] = 1.0 / (rel[q] * work[q]) if ok[q] else -1.0
        return
    for i in range(n):
        for j in range(n):
            for q in range(nl):
                Sz[i, j, q] = 0.0
                Szinv[i, j, q] = 0.0
    if code == KERNEL_DIAGONAL:             # Σ_Z = diag(E)
        for q in range(nl):
            lo = E[0, 0, q]
            hi = E[0, 0, q]
            p = 1.0
            for i in range(n):
                d = E[i, i, q]
                Sz[i, i, q] = d
                Szinv[i, i, q] = 1.0 / d
                p *= d
                tr[q] += d / d
                lo = min(lo, d)
                hi = max(hi, d)
            ok[q] = lo > 0.0
            rel[q] = lo / max(hi, _TINY)
            if p > 1e-290 and p < 1e290:
                logdet[q] = math.log(p) if ok[q] else 0.0
            else:
                s = 0.0
                for i in range(n):
                    s += math.log(E[i, i, q]) if ok[q] else 0.0
                logdet[q] = s
        return
    # KERNEL_ISOTROPIC: Σ_Z = tr(E)/n I
    for q in range(nl):
        t = 0.0
        for i in range(n):
            t += E[i, i, q]
        z = t / n
        for i in range(n):
            Sz[i, i, q] = z
            Szinv[i, i, q] = 1.0 / z
        ok[q] = z > 0.0
        rel[q] = z / max(z, _TINY)
        logdet[q] = n * math.log(z) if ok[q] else 0.0
        tr[q] = t / z
