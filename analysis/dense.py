r"""Dense (γ, λ) phase diagrams: BA status, I_m success and SAP success on up to 10^6 points.

:func:`phase_diagram` solves a ``len(gammas) × len(lambdas)`` grid of one scenario with the compiled
Blahut–Arimoto kernel (blocks of γ rows, all threads) and judges every point exactly as a sweep
does (:func:`analysis.evaluate.apply_reading`), but computes per point only what the verdict needs:

* the BA status of every point (the kernel);
* the reconstruction errors (:func:`analysis.evaluate.relative_errors`) only where the status is
  accepted — elsewhere the point is not eligible whatever its error;
* I_m and SAP (:func:`analysis.evaluate.score_encoder`) only at eligible points — a metric succeeds
  only at an eligible point, so elsewhere both are failures without being computed.

No per-point rows are kept (no B, Σ_W, messages): the result is a few (G, L) arrays. On the
(3,4,3) scenarios of Vu et al. (2024) under the default protocol about 1 % of the points are
eligible, so the metrics cost a fraction of the solve.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

import lingauss as lg

from lingauss.params import InvalidParameter
from .evaluate import apply_reading, relative_errors, score_encoder
from .protocol import Protocol

__all__ = ["PhaseDiagram", "phase_diagram"]


@dataclass
class PhaseDiagram:
    """(G, L) arrays over ``gammas × lams`` (``ij`` indexing): ``status`` codes (index into
    :data:`lingauss.STATUSES`), ``eligible``, ``im_success``, ``sap_success``, ``n_iter``; the
    scenario, protocol and seed; ``seconds`` spent solving and scoring."""

    scenario: str
    protocol: Protocol
    seed: int
    gammas: np.ndarray
    lams: np.ndarray
    status: np.ndarray
    eligible: np.ndarray
    im_success: np.ndarray
    sap_success: np.ndarray
    n_iter: np.ndarray
    solve_seconds: float
    score_seconds: float

    @property
    def n_points(self) -> int:
        return int(self.status.size)

    def status_counts(self) -> dict[str, int]:
        return {s: int(np.sum(self.status == k)) for k, s in enumerate(lg.STATUSES)}

    def save(self, path) -> None:
        """The arrays as a compressed ``.npz`` (statuses as codes, see :data:`lingauss.STATUSES`)."""
        np.savez_compressed(path, gammas=self.gammas, lams=self.lams, status=self.status,
                            eligible=self.eligible, im_success=self.im_success,
                            sap_success=self.sap_success, n_iter=self.n_iter,
                            statuses=np.array(lg.STATUSES))


def phase_diagram(scenario, gammas, lams, *, protocol: Protocol | None = None, seed: int = 0,
                  n_jobs: int | None = None, rows_per_block: int | None = None,
                  progress: bool = True) -> PhaseDiagram:
    """Status, eligibility and I_m / SAP success at every point of ``gammas × lams`` (see module doc).

    ``protocol`` (default ``Protocol()``) gives the family, init, stopping rule, accepted statuses
    and the reconstruction tolerance; ``seed`` the random initial decoder; ``n_jobs`` the BA
    threads; ``rows_per_block``: γ rows per kernel call (default: ~16,000 points a call).
    """
    protocol = protocol or Protocol()
    if not isinstance(scenario, lg.Scenario):
        raise InvalidParameter(f"scenario must be a lingauss.Scenario, got {type(scenario).__name__}")
    gammas = np.asarray(gammas, dtype=np.float64).ravel()
    lams = np.asarray(lams, dtype=np.float64).ravel()
    if gammas.size == 0 or lams.size == 0:
        raise InvalidParameter("gammas and lams must be non-empty")
    G, L = gammas.size, lams.size
    rows = rows_per_block or max(1, 16_000 // L)
    status = np.empty((G, L), dtype=np.int8)
    n_iter = np.empty((G, L), dtype=np.int32)
    eligible = np.zeros((G, L), dtype=bool)
    im_ok = np.zeros((G, L), dtype=bool)
    sap_ok = np.zeros((G, L), dtype=bool)
    code = {s: k for k, s in enumerate(lg.STATUSES)}
    sigma_y = scenario.model.sigma_y
    solve_s = score_s = 0.0
    bar = tqdm(total=G * L, desc="phase diagram", unit="pt", disable=not progress)
    try:
        for lo in range(0, G, rows):
            hi = min(G, lo + rows)
            t0 = time.perf_counter()
            res = lg.blahut_arimoto_grid(scenario.model, scenario.n_latents, gammas[lo:hi], lams,
                                         decoder_noise=protocol.decoder_noise_for(scenario),
                                         init=protocol.init, rng=seed, max_iter=protocol.max_iter,
                                         tol=protocol.tol, n_jobs=n_jobs)
            t1 = time.perf_counter()
            status[lo:hi] = np.vectorize(code.__getitem__, otypes=[np.int8])(res.status)
            n_iter[lo:hi] = res.n_iter
            for i, j in zip(*np.nonzero(np.isin(res.status, protocol.accept))):
                e_s, e_m = relative_errors(sigma_y, res.A[i, j], res.B[i, j], res.sigma_w[i, j])
                row = {"status": str(res.status[i, j]), "relative_error": e_s, "relative_error_mean": e_m,
                       "im_outcome": "error", "sap_outcome": "error"}
                if not apply_reading(row, protocol)["eligible"]:
                    continue
                row.update(score_encoder(scenario, res.B[i, j], res.sigma_w[i, j]))
                judged = apply_reading(row, protocol)
                eligible[lo + i, j] = True
                im_ok[lo + i, j] = judged["im_success"]
                sap_ok[lo + i, j] = judged["sap_success"]
            solve_s += t1 - t0
            score_s += time.perf_counter() - t1
            bar.update((hi - lo) * L)
    finally:
        bar.close()
    return PhaseDiagram(scenario=scenario.name, protocol=protocol, seed=seed, gammas=gammas, lams=lams,
                        status=status, eligible=eligible, im_success=im_ok, sap_success=sap_ok,
                        n_iter=n_iter, solve_seconds=solve_s, score_seconds=score_s)
