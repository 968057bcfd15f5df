r"""Blahut–Arimoto: alternating exact minimisation of the γλ-VAE loss, one point or a whole grid.

One iteration is the encoder half-step followed by the decoder half-step of
:mod:`lingauss.updates` (equations (9)–(10) of Vu et al. 2024). Each half-step is an exact minimiser
(when :math:`P = \gamma\Sigma_Z^{-1} + 2\lambda I \succ 0`), so the loss history is non-increasing.
The history starts at the initial decoder with the prior encoder (B = 0, Σ_W = I).

The objective is often degenerate (:mod:`lingauss.posedness`), so the iteration never raises
on it; every run ends with a ``status``:

=============  =====================================================================================
``converged``  relative loss change ≤ ``tol``
``collapsed``  stopped (converged or at ``max_iter``) with kl ≤ ``collapse_tol``: B ≈ 0, Σ_W ≈ I
``diverged``   the loss is being driven to −∞: Σ_W or Σ_Z became singular (min eigenvalue below
               ``singular_tol`` relative to its scale), ‖A‖ exploded, or I + AᵀPA lost definiteness
``max_iter``   ``max_iter`` iterations without meeting ``tol``
``invalid``    an update produced non-finite numbers
=============  =====================================================================================

On ``diverged``/``invalid`` the returned parameters are the last finite iterate (never NaN).
:func:`blahut_arimoto_grid` runs a whole (γ, λ) grid as one vectorised computation: every point
iterates in lock-step on stacked matrices, and a point leaves the batch when it stops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ._validation import as_finite_scalar, as_matrix, as_rng, as_spd
from .loss import LossTerms, _loss_terms
from .updates import (_decoder, _encoder_from_matrix, _encoder_matrix, parse_decoder_noise,
                      project_noise)
from .posedness import well_posedness

__all__ = ["BAResult", "BAGridResult", "STATUSES", "blahut_arimoto", "blahut_arimoto_grid",
           "initial_decoder"]

STATUSES = ("converged", "collapsed", "diverged", "max_iter", "invalid")
_CONVERGED, _COLLAPSED, _DIVERGED, _MAX_ITER, _INVALID = range(5)


@dataclass(frozen=True, eq=False)
class BAResult:
    """Outcome of :func:`blahut_arimoto` at one (γ, λ).

    ``A`` (n, m), ``B`` (m, n), ``sigma_w`` (m, m), ``sigma_z`` (n, n): the last finite iterate;
    ``loss``: its :class:`~lingauss.loss.LossTerms`; ``history``: total loss per iteration, starting
    at the initial decoder with B = 0, Σ_W = I (empty for grid points); ``n_iter``; ``status`` (one of
    :data:`STATUSES`) and a human-readable ``message``; ``relative_error`` = E‖Y − AX‖² / tr Σ_Y.
    """

    A: np.ndarray
    B: np.ndarray
    sigma_w: np.ndarray
    sigma_z: np.ndarray
    loss: LossTerms
    history: np.ndarray
    n_iter: int
    status: str
    message: str
    gamma: float
    lam: float
    decoder_noise: str
    relative_error: float
    n_increases: int = 0

    @property
    def converged(self) -> bool:
        return self.status == "converged"


@dataclass(frozen=True, eq=False)
class BAGridResult:
    """Outcome of :func:`blahut_arimoto_grid`: arrays over the (γ, λ) grid (``ij`` indexing).

    Shapes: ``A`` (G, L, n, m), ``B`` (G, L, m, n), ``sigma_w`` (G, L, m, m), ``sigma_z`` (G, L, n, n);
    ``loss`` holds (G, L) arrays; ``status``/``message`` are (G, L) string arrays; ``n_iter`` and
    ``relative_error`` (G, L). :meth:`point` gives one point as a :class:`BAResult`.
    """

    gammas: np.ndarray
    lams: np.ndarray
    A: np.ndarray
    B: np.ndarray
    sigma_w: np.ndarray
    sigma_z: np.ndarray
    loss: LossTerms
    n_iter: np.ndarray
    status: np.ndarray
    message: np.ndarray
    relative_error: np.ndarray
    decoder_noise: str
    n_increases: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.status.shape

    def point(self, i: int, j: int) -> BAResult:
        """The result at ``(gammas[i], lams[j])``."""
        return BAResult(A=self.A[i, j], B=self.B[i, j], sigma_w=self.sigma_w[i, j],
                        sigma_z=self.sigma_z[i, j],
                        loss=LossTerms(*(float(getattr(self.loss, f)[i, j])
                                         for f in ("total", "kl", "nll", "mse"))),
                        history=np.empty(0), n_iter=int(self.n_iter[i, j]),
                        status=str(self.status[i, j]), message=str(self.message[i, j]),
                        gamma=float(self.gammas[i]), lam=float(self.lams[j]),
                        decoder_noise=self.decoder_noise,
                        relative_error=float(self.relative_error[i, j]),
                        n_increases=int(self.n_increases[i, j]))

    def status_counts(self) -> dict[str, int]:
        """How many grid points ended with each status."""
        return {s: int(np.sum(self.status == s)) for s in STATUSES}


# --------------------------------------------------------------------------------------------- init

def initial_decoder(sigma_y, n_latents: int, decoder_noise="full", init="random", rng=None):
    """Starting decoder ``(A, Σ_Z)`` for Blahut–Arimoto.

    ``init``:

    * ``"random"`` (default): A with i.i.d. N(0, tr Σ_Y / (n m)) entries (seeded by ``rng``), so
      the columns have the data's scale in a random orientation; Σ_Z = diag(Σ_Y) projected on the
      family.
    * ``"pca"``: A = U_m diag(√(ℓ_i − σ̄²)) from the top-m eigenpairs of Σ_Y (σ̄² the mean of the
      other eigenvalues, or 1e-3·ℓ_m when m = n), Σ_Z = σ̄² I projected on the family.
    * a pair ``(A, sigma_z)`` of arrays.

    A fixed ``decoder_noise`` matrix always overrides Σ_Z.
    """
    n = sigma_y.shape[-1]
    family, fixed = parse_decoder_noise(decoder_noise, n)
    if isinstance(init, str):
        if init == "random":
            scale = np.sqrt(np.trace(sigma_y) / (n * n_latents))
            A = as_rng(rng).standard_normal((n, n_latents)) * scale
            sigma_z = np.diag(np.diag(sigma_y))
        elif init == "pca":
            vals, vecs = np.linalg.eigh(sigma_y)
            vals, vecs = vals[::-1], vecs[:, ::-1]
            rest = vals[n_latents:].mean() if n_latents < n else 1e-3 * vals[-1]
            A = vecs[:, :n_latents] * np.sqrt(np.maximum(vals[:n_latents] - rest, 1e-12 * vals[0]))
            sigma_z = rest * np.eye(n)
        else:
            raise ValueError(f"init must be 'random', 'pca' or a pair (A, sigma_z), got {init!r}")
    else:
        try:
            A, sigma_z = init
        except (TypeError, ValueError):
            raise ValueError("init must be 'random', 'pca' or a pair (A, sigma_z)") from None
        A = as_matrix(A, "init A", shape=(n, n_latents))
        sigma_z = as_spd(sigma_z, "init sigma_z", size=n)
    sigma_z = fixed.copy() if family == "fixed" else project_noise(sigma_z, family)
    return np.array(A, dtype=np.float64), sigma_z


# ---------------------------------------------------------------------------------------- kernel

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


def _iterate(sigma_y, A0, sigma_z0, gamma, lam, family, fixed, *, max_iter, tol, collapse_tol,
             singular_tol, keep_history, progress):
    """Lock-step BA over a stack of G points. Returns (state, n_iter, code, reason, history, n_inc)."""
    G, n, m = A0.shape
    state = _Stack(A=A0.copy(), B=np.zeros((G, m, n)), sigma_w=np.broadcast_to(np.eye(m), (G, m, m)).copy(),
                   sigma_z=sigma_z0.copy(), terms=np.empty((4, G)))
    state.terms[:] = _loss_terms(sigma_y, state.A, state.B, state.sigma_w, state.sigma_z, gamma, lam)
    code = np.full(G, _MAX_ITER)
    reason = np.full(G, "", dtype=object)
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
        new_reason = np.full(len(a), "", dtype=object)

        def fail(mask, c, text):
            fresh = mask & ~stop
            new_code[fresh] = c
            new_reason[fresh] = text
            stop[fresh] = True

        # encoder half-step
        M, P = _encoder_matrix(state.A[a], state.sigma_z[a], g, lm)
        fail(~_cholesky_ok(M), _DIVERGED,
             "I + AᵀPA lost positive definiteness (P = γΣ_Z⁻¹ + 2λI indefinite): the loss is "
             "unbounded below along B")
        M[stop] = np.eye(m)
        B, Sw = _encoder_from_matrix(state.A[a], M, P)
        # decoder half-step
        A, E = _decoder(Sy, B, Sw)
        Sz = project_noise(E, family, fixed)
        finite = np.all(np.isfinite(A), axis=(1, 2)) & np.all(np.isfinite(B), axis=(1, 2)) \
            & np.all(np.isfinite(Sz), axis=(1, 2))
        fail(~finite, _INVALID, "an update produced non-finite numbers")
        bad = stop.copy()
        for X in (A, B, Sz, Sw, E):
            X[bad] = np.eye(X.shape[-2], X.shape[-1])
        if family != "fixed":
            fail(_min_relative_eig(Sz) < singular_tol, _DIVERGED,
                 "Σ_Z became singular (the residual vanishes in some direction): log|Σ_Z| → −∞, "
                 "the loss is unbounded below")
        fail(_min_relative_eig(Sw) < singular_tol, _DIVERGED,
             "Σ_W became singular (encoder noise → 0): the loss is unbounded below")
        gain = np.sqrt(np.sum(A * A, axis=(1, 2)) / (scale_y[a] * n))
        fail(gain > 1.0 / singular_tol, _DIVERGED, "‖A‖ exploded (decoder gain → ∞)")
        bad = stop.copy()
        for X in (A, B, Sz, Sw, E):
            X[bad] = np.eye(X.shape[-2], X.shape[-1])
        terms = np.array(_loss_terms(Sy, A, B, Sw, Sz, g, lm, E=E))
        fail(~np.all(np.isfinite(terms), axis=0), _INVALID, "the loss became non-finite")

        ok = ~stop
        prev = state.terms[0, a]
        change = prev - terms[0]
        n_inc[a[ok]] += change[ok] < -1e-10 * np.maximum(1.0, np.abs(prev[ok]))
        keep = a[ok]
        state.A[keep], state.B[keep], state.sigma_w[keep], state.sigma_z[keep] = A[ok], B[ok], Sw[ok], Sz[ok]
        state.terms[:, keep] = terms[:, ok]
        n_iter[keep] = it
        done = ok & (np.abs(change) <= tol * np.maximum(1.0, np.abs(terms[0])))
        new_code[done] = _CONVERGED
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
    stopped_ok = (code == _CONVERGED) | (code == _MAX_ITER)
    code[stopped_ok & (state.terms[1] <= collapse_tol)] = _COLLAPSED
    hist = np.array(history) if keep_history else None
    return state, n_iter, code, reason, hist, n_inc


def _message(code: int, reason: str, n_iter: int, kl: float, diagnosis) -> str:
    base = {
        _CONVERGED: f"converged after {n_iter} iterations",
        _COLLAPSED: f"posterior collapse after {n_iter} iterations (kl = {kl:.3g} nats: B ≈ 0, Σ_W ≈ I)",
        _MAX_ITER: f"stopped at max_iter = {n_iter} without meeting tol",
        _DIVERGED: f"diverged at iteration {n_iter + 1}: {reason}",
        _INVALID: f"invalid at iteration {n_iter + 1}: {reason}",
    }[code]
    if not diagnosis.ok:
        base += f". Objective: {diagnosis}"
    return base


def _check_common(sigma_y, n_latents, decoder_noise, max_iter, tol):
    model = sigma_y if hasattr(sigma_y, "sigma_y") else None
    if model is not None:
        sigma_y = model.sigma_y
    sigma_y = as_spd(sigma_y, "sigma_y")
    n = sigma_y.shape[0]
    if not isinstance(n_latents, (int, np.integer)) or isinstance(n_latents, bool) or not 1 <= n_latents:
        raise ValueError(f"n_latents must be a positive integer, got {n_latents!r}")
    family, fixed = parse_decoder_noise(decoder_noise, n, model)
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    as_finite_scalar(tol, "tol", minimum=0.0)
    return sigma_y, int(n_latents), family, fixed


# ------------------------------------------------------------------------------------- public API

def blahut_arimoto(sigma_y, n_latents: int, gamma: float, lam: float, *, decoder_noise="full",
                   init="random", rng=None, max_iter: int = 10_000, tol: float = 1e-12,
                   collapse_tol: float = 1e-6, singular_tol: float = 1e-10) -> BAResult:
    r"""Minimise the γλ-VAE loss by alternating exact encoder and decoder updates.

    Parameters
    ----------
    sigma_y : (n, n) SPD array, or any object with a ``sigma_y`` attribute (a
        :class:`~lingauss.model.LinearGaussianModel`)
    n_latents : m ≥ 1
    gamma, lam : the weights of nll and mse; γ ≥ 0
    decoder_noise : ``"full"`` (Vu et al. 2024), ``"diagonal"``, ``"isotropic"``, ``"true"`` (Σ_Z fixed at the
        model's σ²I; needs a model as first argument) or a fixed SPD matrix
        (:mod:`lingauss.noise_families`)
    init, rng : starting decoder, see :func:`initial_decoder`; seeded by ``rng``
    max_iter, tol : stop when |ΔL| ≤ tol·max(1, |L|)
    collapse_tol : kl (nats) at or below which a stopped run is reported ``"collapsed"``
    singular_tol : relative eigenvalue at which Σ_W or Σ_Z counts as singular (``"diverged"``)

    Returns
    -------
    BAResult
        Never raises for a degenerate objective: see the module table of statuses, and
        :func:`lingauss.well_posedness` (its verdict is appended to the message when the objective
        has no isolated minimum). Bad inputs raise ``ValueError`` naming the argument.

    Examples
    --------
    >>> import numpy as np
    >>> import lingauss as lg
    >>> sc = lg.talk_scenario((3, 4, 3), 2)
    >>> res = lg.blahut_arimoto(sc.model, sc.n_latents, gamma=1.0, lam=0.0, decoder_noise="isotropic", rng=0)
    >>> res.status
    'converged'
    >>> bool(np.all(np.diff(res.history) <= 1e-9 * np.abs(res.history[:-1])))   # never increases
    True
    >>> lg.blahut_arimoto(sc.model, sc.n_latents, gamma=1.02, lam=0.0, decoder_noise="full", rng=0).status
    'diverged'
    >>> float(lg.blahut_arimoto(sc.model, sc.n_latents, 1.0, 0.0, decoder_noise="true", rng=0).sigma_z[0, 0])
    0.1
    """
    sigma_y, m, family, fixed = _check_common(sigma_y, n_latents, decoder_noise, max_iter, tol)
    gamma = as_finite_scalar(gamma, "gamma", minimum=0.0)
    lam = as_finite_scalar(lam, "lam")
    A0, Sz0 = initial_decoder(sigma_y, m, fixed if family == "fixed" else family, init, rng)
    state, n_iter, code, reason, hist, n_inc = _iterate(
        sigma_y[None], A0[None], Sz0[None], np.array([gamma]), np.array([lam]), family, fixed,
        max_iter=int(max_iter), tol=tol, collapse_tol=collapse_tol, singular_tol=singular_tol,
        keep_history=True, progress=False)
    terms = LossTerms(*(float(t) for t in state.terms[:, 0]))
    diagnosis = well_posedness(gamma, lam, fixed if family == "fixed" else family,
                               n_latents=m, n_features=sigma_y.shape[0])
    return BAResult(A=state.A[0], B=state.B[0], sigma_w=state.sigma_w[0], sigma_z=state.sigma_z[0],
                    loss=terms, history=hist[:, 0], n_iter=int(n_iter[0]), status=STATUSES[code[0]],
                    message=_message(code[0], reason[0], int(n_iter[0]), terms.kl, diagnosis),
                    gamma=gamma, lam=lam, decoder_noise=family,
                    relative_error=terms.mse / float(np.trace(sigma_y)), n_increases=int(n_inc[0]))


def blahut_arimoto_grid(sigma_y, n_latents: int, gammas, lams, *, decoder_noise="full",
                        init="random", rng=None, max_iter: int = 10_000, tol: float = 1e-12,
                        collapse_tol: float = 1e-6, singular_tol: float = 1e-10,
                        progress: bool = False) -> BAGridResult:
    """Blahut–Arimoto on every point of the grid ``gammas × lams`` in one vectorised computation.

    Same arguments and per-point semantics as :func:`blahut_arimoto`; every point starts from the
    same initial decoder (one draw from ``rng``), so the grid is comparable point to point and
    equals a loop of :func:`blahut_arimoto` calls with the same seed. ``progress`` shows a tqdm
    bar over iterations with the number of points still running.

    Examples
    --------
    >>> import lingauss as lg
    >>> sc = lg.talk_scenario((3, 4, 3), 2)
    >>> grid = lg.blahut_arimoto_grid(sc.model, 3, [0.99, 1.0], [0.0, 0.01], decoder_noise="isotropic", rng=0)
    >>> grid.status.shape
    (2, 2)
    >>> bool(grid.B[1, 0].shape == (3, 4))
    True
    """
    sigma_y, m, family, fixed = _check_common(sigma_y, n_latents, decoder_noise, max_iter, tol)
    gammas = np.atleast_1d(as_finite_scalar(gammas, "gammas", minimum=0.0, batch=True)).ravel()
    lams = np.atleast_1d(as_finite_scalar(lams, "lams", batch=True)).ravel()
    if gammas.size == 0 or lams.size == 0:
        raise ValueError("gammas and lams must be non-empty")
    n = sigma_y.shape[0]
    G = gammas.size * lams.size
    gg, ll = (x.ravel() for x in np.meshgrid(gammas, lams, indexing="ij"))
    A0, Sz0 = initial_decoder(sigma_y, m, fixed if family == "fixed" else family, init, rng)
    state, n_iter, code, reason, _, n_inc = _iterate(
        np.broadcast_to(sigma_y, (G, n, n)).copy(), np.broadcast_to(A0, (G, n, m)).copy(),
        np.broadcast_to(Sz0, (G, n, n)).copy(), gg, ll, family, fixed, max_iter=int(max_iter),
        tol=tol, collapse_tol=collapse_tol, singular_tol=singular_tol, keep_history=False,
        progress=progress)
    shape = (gammas.size, lams.size)
    messages = np.empty(G, dtype=object)
    for k in range(G):
        diag = well_posedness(gg[k], ll[k], fixed if family == "fixed" else family,
                              n_latents=m, n_features=n)
        messages[k] = _message(code[k], reason[k], int(n_iter[k]), state.terms[1, k], diag)
    terms = LossTerms(*(t.reshape(shape) for t in state.terms))
    return BAGridResult(
        gammas=gammas, lams=lams, A=state.A.reshape(shape + (n, m)), B=state.B.reshape(shape + (m, n)),
        sigma_w=state.sigma_w.reshape(shape + (m, m)), sigma_z=state.sigma_z.reshape(shape + (n, n)),
        loss=terms, n_iter=n_iter.reshape(shape),
        status=np.array([STATUSES[c] for c in code]).reshape(shape),
        message=messages.astype(str).reshape(shape),
        relative_error=(state.terms[3] / np.trace(sigma_y)).reshape(shape), decoder_noise=family,
        n_increases=n_inc.reshape(shape))
