r"""Score one encoder of a scenario: reconstruction errors, I_m, SAP, and the success reading.

A sweep row holds the *raw* outcome of a point (BA status, both error readings, each metric's
grouping and outcome); :func:`apply_reading` turns it into eligibility and successes under a
:class:`~analysis.protocol.Protocol`. Keeping the two apart lets a stored sweep be re-read with
another tolerance, error reading or set of accepted statuses without solving anything again.

Error readings (dimensionless, 0.05 = 5 %):

.. math:: e_\text{sampled} = \frac{\operatorname{tr}E}{\operatorname{tr}\Sigma_Y},\quad
          E = (I-AB)\Sigma_Y(I-AB)^\top + A\Sigma_WA^\top; \qquad
          e_\text{mean} = \frac{\operatorname{tr}[(I-AB)\Sigma_Y(I-AB)^\top]}{\operatorname{tr}\Sigma_Y}.
"""

from __future__ import annotations

import numpy as np

import lingauss as lg
from lingauss.grouping import grouping_text  # re-exported: reports print groupings this way

__all__ = ["relative_errors", "score_encoder", "failed_scores", "apply_reading", "grouping_text"]


def relative_errors(sigma_y, A, B, sigma_w) -> tuple[float, float]:
    """``(e_sampled, e_mean)``: E‖Y − AX‖² and E‖Y − ABY‖², both over tr Σ_Y (see module doc)."""
    R = np.eye(sigma_y.shape[0]) - A @ B
    mean_part = float(np.trace(R @ sigma_y @ R.T))
    noise_part = float(np.trace(A @ sigma_w @ A.T))
    scale = float(np.trace(sigma_y))
    return (mean_part + noise_part) / scale, mean_part / scale


def score_encoder(scenario, B, sigma_w) -> dict:
    """I_m and SAP of the encoder ``(B, Σ_W)`` on ``scenario``, against its true grouping.

    Returns plain JSON-ready fields: ``im_score`` (nats), ``im_grouping`` (list of lists),
    ``im_outcome`` (``"success" | "wrong_grouping" | "ambiguous" | "error"``), ``im_ties``, and the
    same for SAP (``sap_score`` in [0, 1], no ties field). A joint covariance the metrics reject
    (e.g. a singular Σ_W left by a diverged run) gives outcome ``"error"`` and a ``metric_error``
    message instead of an exception.
    """
    out = failed_scores("")
    try:
        cov = scenario.model.joint_covariance(B, sigma_w)
        im = lg.im_score(cov, scenario.n_latents)
        sap = lg.sap_score(cov, scenario.n_latents)
    except ValueError as exc:
        out["metric_error"] = str(exc)
        return out
    out.update(
        im_score=float(im.score), im_grouping=[list(g) for g in im.grouping],
        im_outcome=lg.im_success(im, scenario.true_grouping).outcome, im_ties=int(im.ties),
        sap_score=float(sap.score), sap_grouping=[list(g) for g in sap.grouping],
        sap_outcome=lg.sap_success(sap, scenario.true_grouping).outcome)
    return out


def failed_scores(reason: str) -> dict:
    """The metric fields of a point that could not be scored (outcome ``"error"``, ``reason``)."""
    return {"im_score": None, "im_grouping": None, "im_outcome": "error", "im_ties": None,
            "sap_score": None, "sap_grouping": None, "sap_outcome": "error", "metric_error": reason}


def apply_reading(row: dict, protocol) -> dict:
    """``row`` plus ``recon_ok``, ``eligible``, ``im_success``, ``sap_success`` under ``protocol``.

    eligible = status ∈ protocol.accept and (error reading ≤ tolerance, unless the reading is
    ``"none"``); a metric succeeds when the point is eligible and its outcome is ``"success"``.
    """
    if protocol.error_reading == "none":
        recon_ok = True
    else:
        err = row["relative_error"] if protocol.error_reading == "sampled" else row["relative_error_mean"]
        recon_ok = err is not None and np.isfinite(err) and err <= protocol.tolerance
    eligible = bool(recon_ok and row["status"] in protocol.accept)
    return {**row, "recon_ok": bool(recon_ok), "eligible": eligible,
            "im_success": eligible and row["im_outcome"] == "success",
            "sap_success": eligible and row["sap_outcome"] == "success"}
