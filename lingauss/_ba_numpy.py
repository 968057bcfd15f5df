r"""The numpy reference implementation of the Blahut–Arimoto loop (``method="numpy"``).

Every point of a stack iterates in lock-step on stacked matrices (``numpy.linalg`` on (G, n, n)
arrays); a point leaves the batch when it stops. This is the implementation the compiled kernel
(:mod:`lingauss._ba_kernel`) is tested against: same half-steps (:mod:`lingauss.updates`), same
loss (:mod:`lingauss.loss`), same status checks in the same order, the eigenvalues computed every
iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ._ba_kernel import (COLLAPSED, CONVERGED, DIVERGED, INVALID, MAX_ITER, R_ENCODER, R_GAIN, R_LOSS,
                         R_NONE, R_NONFINITE, R_SW, R_SZ)
from .loss import _loss_terms
from .updates import _decoder, _encoder_from_matrix, _encoder_matrix, project_noise


def _cholesky_ok(M: np.ndarray) -> np.ndarray:
    """Per-matrix positive-definiteness of a stack (batched Cholesky, per-item only on failure)."""
    try:
        np.linalg.cholesky(M)
        return np.ones(M.shape[:-2], dtype=bool)
    except np.linalg.LinAlgError:
        ok = np.ones(M.shape[0], dtype=bool)
        for k in range(M.shape[0]):
            try:
                np.linalg.cholesky(M[k])
            except np.linalg.LinAlgError:
                ok[k] = False
        return ok


def _min_relative_eig(S: np.ndarray) -> np.ndarray:
    vals = np.linalg.eigvalsh(S)
    return vals[:, 0] / np.maximum(vals[:, -1], np.finfo(float).tiny)


@dataclass
class _Stack:
    """Mutable per-point state of the lock-step iteration (leading axis = point)."""

    A: np.ndarray
    B: np.ndarray
    sigma_w: np.ndarray
    sigma_z: np.ndarray
    terms: np.ndarray          # (4, G): total, kl, nll, mse


def iterate(sigma_y, A0, sigma_z0, gamma, lam, family, fixed, *, max_iter, tol, collapse_tol,
             singular_tol, keep_history, progress):
    """Lock-step BA over a stack of G points. Returns (state, n_iter, code, reason, history, n_inc).

    ``code``/``reason``: the status and stop-reason codes of :mod:`lingauss._ba_kernel`.
    """
    G, n, m = A0.shape
    state = _Stack(A=A0.copy(), B=np.zeros((G, m, n)), sigma_w=np.broadcast_to(np.eye(m), (G, m, m)).copy(),
                   sigma_z=sigma_z0.copy(), terms=np.empty((4, G)))
    state.terms[:] = _loss_terms(sigma_y, state.A, state.B, state.sigma_w, state.sigma_z, gamma, lam)
    code = np.full(G, MAX_ITER)
    reason = np.full(G, R_NONE, dtype=np.int64)
    n_iter = np.zeros(G, dtype=np.int64)
    n_inc = np.zeros(G, dtype=np.int64)
    history = [state.terms[0].copy()] if keep_history else None
    scale_y = np.trace(sigma_y, axis1=-2, axis2=-1) / n
    active = np.arange(G)
    bar = tqdm(total=max_iter, desc="Blahut-Arimoto", disable=not progress, leave=False)
    for it in range(1, max_iter + 1):
        a = active
        Sy, g, lm = sigma_y[a], gamma[a], lam[a]
        stop = np.zeros(len(a), dtype=bool)
        new_code = np.full(len(a), -1)
        new_reason = np.full(len(a), R_NONE, dtype=np.int64)

        def fail(mask, c, why):
            fresh = mask & ~stop
            new_code[fresh] = c
            new_reason[fresh] = why
            stop[fresh] = True

        # encoder half-step
        M, P = _encoder_matrix(state.A[a], state.sigma_z[a], g, lm)
        fail(~_cholesky_ok(M), DIVERGED, R_ENCODER)
        M[stop] = np.eye(m)
        B, Sw = _encoder_from_matrix(state.A[a], M, P)
        # decoder half-step
        A, E = _decoder(Sy, B, Sw)
        Sz = project_noise(E, family, fixed)
        finite = np.all(np.isfinite(A), axis=(1, 2)) & np.all(np.isfinite(B), axis=(1, 2)) \
            & np.all(np.isfinite(Sz), axis=(1, 2))
        fail(~finite, INVALID, R_NONFINITE)
        bad = stop.copy()
        for X in (A, B, Sz, Sw, E):
            X[bad] = np.eye(X.shape[-2], X.shape[-1])
        if family != "fixed":
            fail(_min_relative_eig(Sz) < singular_tol, DIVERGED, R_SZ)
        fail(_min_relative_eig(Sw) < singular_tol, DIVERGED, R_SW)
        gain = np.sqrt(np.sum(A * A, axis=(1, 2)) / (scale_y[a] * n))
        fail(gain > 1.0 / singular_tol, DIVERGED, R_GAIN)
        bad = stop.copy()
        for X in (A, B, Sz, Sw, E):
            X[bad] = np.eye(X.shape[-2], X.shape[-1])
        terms = np.array(_loss_terms(Sy, A, B, Sw, Sz, g, lm, E=E))
        fail(~np.all(np.isfinite(terms), axis=0), INVALID, R_LOSS)

        ok = ~stop
        prev = state.terms[0, a]
        change = prev - terms[0]
        n_inc[a[ok]] += change[ok] < -1e-10 * np.maximum(1.0, np.abs(prev[ok]))
        keep = a[ok]
        state.A[keep], state.B[keep], state.sigma_w[keep], state.sigma_z[keep] = A[ok], B[ok], Sw[ok], Sz[ok]
        state.terms[:, keep] = terms[:, ok]
        n_iter[keep] = it
        done = ok & (np.abs(change) <= tol * np.maximum(1.0, np.abs(terms[0])))
        new_code[done] = CONVERGED
        stop |= done
        code[a[stop]] = new_code[stop]
        reason[a[stop]] = new_reason[stop]
        if keep_history and ok.any():
            history.append(state.terms[0].copy())
        active = a[~stop]
        bar.update(1)
        bar.set_postfix(active=len(active))
        if len(active) == 0:
            break
    bar.close()
    stopped_ok = (code == CONVERGED) | (code == MAX_ITER)
    code[stopped_ok & (state.terms[1] <= collapse_tol)] = COLLAPSED
    hist = np.array(history) if keep_history else None
    return state, n_iter, code, reason, hist, n_inc
