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

Both functions run one compiled kernel (``method="compiled"``, the default; Numba, cached on disk
after the first call): the whole iteration of a point — both half-steps, the family's Σ_Z update
declared in :mod:`lingauss.noise_families`, the status checks and the loss of the stopping rule —
is one fused loop, and :func:`blahut_arimoto_grid` runs the points of a grid in parallel on
``n_jobs`` threads. ``method="numpy"`` runs the reference implementation (every point of a grid in
lock-step on stacked ``numpy.linalg`` calls), which the tests compare with the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from lingauss.params import InvalidParameter
from . import _ba_kernel as _k
from ._ba_run import check_method, check_n_jobs, run_points
from ._validation import as_finite_scalar, as_matrix, as_rng, as_spd
from .loss import LossTerms
from .updates import parse_decoder_noise, project_noise
from .posedness import well_posedness

__all__ = ["BAResult", "BAGridResult", "STATUSES", "blahut_arimoto", "blahut_arimoto_grid",
           "initial_decoder"]

STATUSES = ("converged", "collapsed", "diverged", "max_iter", "invalid")
_STATUS_ARRAY = np.array(STATUSES)

#: Why a run stopped early, by the kernel's reason code.
_REASONS = {
    _k.R_NONE: "",
    _k.R_ENCODER: "I + AᵀPA lost positive definiteness (P = γΣ_Z⁻¹ + 2λI indefinite): the loss is "
                  "unbounded below along B",
    _k.R_NONFINITE: "an update produced non-finite numbers",
    _k.R_SZ: "Σ_Z became singular (the residual vanishes in some direction): log|Σ_Z| → −∞, "
             "the loss is unbounded below",
    _k.R_SW: "Σ_W became singular (encoder noise → 0): the loss is unbounded below",
    _k.R_GAIN: "‖A‖ exploded (decoder gain → ∞)",
    _k.R_LOSS: "the loss became non-finite",
}


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
    ``loss`` holds (G, L) arrays; ``status``/``message`` are (G, L) string arrays (``message`` is
    written on first access: a million points cost nothing until then); ``n_iter`` and
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
    relative_error: np.ndarray
    decoder_noise: str
    n_increases: np.ndarray
    status_code: np.ndarray = field(repr=False, default=None)
    reason_code: np.ndarray = field(repr=False, default=None)
    n_latents: int = field(repr=False, default=0)
    fixed_noise: np.ndarray | None = field(repr=False, default=None)

    @property
    def shape(self) -> tuple[int, int]:
        return self.status.shape

    def _point_message(self, i: int, j: int) -> str:
        return _message(int(self.status_code[i, j]), int(self.reason_code[i, j]), int(self.n_iter[i, j]),
                        float(self.loss.kl[i, j]),
                        _diagnosis(float(self.gammas[i]), float(self.lams[j]), self.decoder_noise,
                                   self.fixed_noise, self.n_latents, self.sigma_z.shape[-1]))

    @cached_property
    def message(self) -> np.ndarray:
        """(G, L) human-readable messages, as :attr:`BAResult.message`."""
        return np.array([[self._point_message(i, j) for j in range(self.lams.size)]
                         for i in range(self.gammas.size)], dtype=str).reshape(self.shape)

    def point(self, i: int, j: int) -> BAResult:
        """The result at ``(gammas[i], lams[j])``."""
        return BAResult(A=self.A[i, j], B=self.B[i, j], sigma_w=self.sigma_w[i, j],
                        sigma_z=self.sigma_z[i, j],
                        loss=LossTerms(*(float(getattr(self.loss, f)[i, j])
                                         for f in ("total", "kl", "nll", "mse"))),
                        history=np.empty(0), n_iter=int(self.n_iter[i, j]),
                        status=str(self.status[i, j]), message=self._point_message(i, j),
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
            raise InvalidParameter(f"init must be 'random', 'pca' or a pair (A, sigma_z), got {init!r}")
    else:
        try:
            A, sigma_z = init
        except (TypeError, ValueError):
            raise InvalidParameter("init must be 'random', 'pca' or a pair (A, sigma_z)") from None
        A = as_matrix(A, "init A", shape=(n, n_latents))
        sigma_z = as_spd(sigma_z, "init sigma_z", size=n)
    sigma_z = fixed.copy() if family == "fixed" else project_noise(sigma_z, family)
    return np.array(A, dtype=np.float64), sigma_z


# ---------------------------------------------------------------------------------------- kernel

def _message(code: int, reason: int, n_iter: int, kl: float, diagnosis) -> str:
    base = {
        _k.CONVERGED: f"converged after {n_iter} iterations",
        _k.COLLAPSED: f"posterior collapse after {n_iter} iterations (kl = {kl:.3g} nats: B ≈ 0, Σ_W ≈ I)",
        _k.MAX_ITER: f"stopped at max_iter = {n_iter} without meeting tol",
        _k.DIVERGED: f"diverged at iteration {n_iter + 1}: {_REASONS[reason]}",
        _k.INVALID: f"invalid at iteration {n_iter + 1}: {_REASONS[reason]}",
    }[code]
    if not diagnosis.ok:
        base += f". Objective: {diagnosis}"
    return base


def _diagnosis(gamma: float, lam: float, family: str, fixed, m: int, n: int):
    """:func:`well_posedness` of a point (memoised: a grid asks for each (γ, λ) once)."""
    if family == "fixed":
        return well_posedness(gamma, lam, fixed, n_latents=m, n_features=n)
    return _learned_diagnosis(gamma, lam, family, m, n)


@lru_cache(maxsize=4096)
def _learned_diagnosis(gamma, lam, family, m, n):
    return well_posedness(gamma, lam, family, n_latents=m, n_features=n)


def _check_common(sigma_y, n_latents, decoder_noise, max_iter, tol):
    model = sigma_y if hasattr(sigma_y, "sigma_y") else None
    if model is not None:
        sigma_y = model.sigma_y
    sigma_y = as_spd(sigma_y, "sigma_y")
    n = sigma_y.shape[0]
    if not isinstance(n_latents, (int, np.integer)) or isinstance(n_latents, bool) or not 1 <= n_latents:
        raise InvalidParameter(f"n_latents must be a positive integer, got {n_latents!r}")
    family, fixed = parse_decoder_noise(decoder_noise, n, model)
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise InvalidParameter(f"max_iter must be a positive integer, got {max_iter!r}")
    as_finite_scalar(tol, "tol", minimum=0.0)
    return sigma_y, int(n_latents), family, fixed


# ------------------------------------------------------------------------------------- public API

def blahut_arimoto(sigma_y, n_latents: int, gamma: float, lam: float, *, decoder_noise="full",
                   init="random", rng=None, max_iter: int = 10_000, tol: float = 1e-12,
                   collapse_tol: float = 1e-6, singular_tol: float = 1e-10,
                   method: str = "compiled") -> BAResult:
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
    method : ``"compiled"`` (the fused Numba kernel) or ``"numpy"`` (the reference implementation)

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
    check_method(method)
    A0, Sz0 = initial_decoder(sigma_y, m, fixed if family == "fixed" else family, init, rng)
    run = run_points(sigma_y, A0, Sz0, np.array([gamma]), np.array([lam]), family, fixed, method=method,
                     n_jobs=1, max_iter=int(max_iter), tol=tol, collapse_tol=collapse_tol,
                     singular_tol=singular_tol, keep_history=True)
    terms = LossTerms(*(float(t) for t in run.terms[:, 0]))
    code, n_iter = int(run.code[0]), int(run.n_iter[0])
    return BAResult(A=run.A[0], B=run.B[0], sigma_w=run.sigma_w[0], sigma_z=run.sigma_z[0],
                    loss=terms, history=run.history, n_iter=n_iter, status=STATUSES[code],
                    message=_message(code, int(run.reason[0]), n_iter, terms.kl,
                                     _diagnosis(gamma, lam, family, fixed, m, sigma_y.shape[0])),
                    gamma=gamma, lam=lam, decoder_noise=family,
                    relative_error=terms.mse / float(np.trace(sigma_y)), n_increases=int(run.n_increases[0]))


def blahut_arimoto_grid(sigma_y, n_latents: int, gammas, lams, *, decoder_noise="full",
                        init="random", rng=None, max_iter: int = 10_000, tol: float = 1e-12,
                        collapse_tol: float = 1e-6, singular_tol: float = 1e-10,
                        progress: bool = False, method: str = "compiled",
                        n_jobs: int | None = None) -> BAGridResult:
    """Blahut–Arimoto on every point of the grid ``gammas × lams``.

    Same arguments and per-point semantics as :func:`blahut_arimoto`; every point starts from the
    same initial decoder (one draw from ``rng``), so the grid is comparable point to point and
    equals a loop of :func:`blahut_arimoto` calls with the same seed. ``progress`` shows a tqdm
    bar over points. ``n_jobs``: threads over grid points (``None``: Numba's thread count; the
    compiled method only). ``method="numpy"``: every point in lock-step on stacked matrices (the
    reference implementation).

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
        raise InvalidParameter("gammas and lams must be non-empty")
    check_method(method)
    n_jobs = check_n_jobs(n_jobs)
    n = sigma_y.shape[0]
    gg, ll = (x.ravel() for x in np.meshgrid(gammas, lams, indexing="ij"))
    A0, Sz0 = initial_decoder(sigma_y, m, fixed if family == "fixed" else family, init, rng)
    run = run_points(sigma_y, A0, Sz0, gg, ll, family, fixed, method=method, n_jobs=n_jobs,
                     max_iter=int(max_iter), tol=tol, collapse_tol=collapse_tol,
                     singular_tol=singular_tol, progress=progress)
    shape = (gammas.size, lams.size)
    terms = LossTerms(*(t.reshape(shape) for t in run.terms))
    return BAGridResult(
        gammas=gammas, lams=lams, A=run.A.reshape(shape + (n, m)), B=run.B.reshape(shape + (m, n)),
        sigma_w=run.sigma_w.reshape(shape + (m, m)), sigma_z=run.sigma_z.reshape(shape + (n, n)),
        loss=terms, n_iter=run.n_iter.reshape(shape), status=_STATUS_ARRAY[run.code].reshape(shape),
        relative_error=(run.terms[3] / np.trace(sigma_y)).reshape(shape), decoder_noise=family,
        n_increases=run.n_increases.reshape(shape), status_code=run.code.reshape(shape),
        reason_code=run.reason.reshape(shape), n_latents=m, fixed_noise=fixed)
