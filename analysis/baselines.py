r"""Null-baseline encoders: what I_m and SAP reward by themselves, with no training at all.

Each baseline is an encoder :math:`X = BY + W` of a scenario, scored exactly like a BA solution
(:func:`analysis.evaluate.score_encoder`; the decoder is the exact minimiser
:math:`A = \Sigma_{YX}\Sigma_X^{-1}` for the error columns). Σ_W = ``noise`` · I for all of them.

=================  =================================================================================
``collapsed``      B = 0, Σ_W = I: posterior collapse (latents independent of everything)
``random``         B with i.i.d. N(0, 1) entries, one draw per seed (``n_draws`` of them)
``pca``            B = the top-m eigenvectors of Σ_Y (rows), the encoder of PCA
``ideal_groups``   latent i reads the root factor of true group i (B[i, root_i] = 1, Γ = standard
                   basis); latents beyond the number of groups read nothing. One latent per
                   independent sub-group: the grouping I_m is built to find.
``ideal_factors``  latent i reads factor i, i < min(m, s): a factor-wise disentangled code
=================  =================================================================================

A baseline's success ignores the reconstruction tolerance (that is the point: the metric alone);
its rates are over the ``n_draws`` random draws, or 0 / 100 % for the deterministic ones.
"""

from __future__ import annotations

import numpy as np

import lingauss as lg

from lingauss.params import InvalidParameter
from .evaluate import relative_errors, score_encoder

__all__ = ["BASELINES", "baseline_encoder", "baseline_rows"]

BASELINES = ("collapsed", "random", "pca", "ideal_groups", "ideal_factors")


def baseline_encoder(name: str, scenario, *, rng=None, noise: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """``(B, Σ_W)`` of the baseline ``name`` (see module table) for ``scenario``."""
    if name not in BASELINES:
        raise InvalidParameter(f"name must be one of {BASELINES}, got {name!r}")
    if not noise > 0:
        raise InvalidParameter(f"noise must be > 0, got {noise!r}")
    model, m = scenario.model, scenario.n_latents
    n, s = model.n, model.s
    B = np.zeros((m, n))
    if name == "collapsed":
        return B, np.eye(m)
    if name == "random":
        B = np.random.default_rng(rng).standard_normal((m, n))
    elif name == "pca":
        vals, vecs = np.linalg.eigh(model.sigma_y)
        B = vecs[:, ::-1][:, :m].T.copy()
    elif name == "ideal_groups":
        for i, group in enumerate(scenario.true_grouping[:m]):
            B[i] = model.mixing[:, group[0]]
    else:                                       # ideal_factors
        for i in range(min(m, s)):
            B[i] = model.mixing[:, i]
    return B, noise * np.eye(m)


def baseline_rows(scenario, *, n_draws: int = 25, seed: int = 0, noise: float = 1e-2) -> list[dict]:
    """One row per (baseline, draw) for ``scenario``: errors, I_m/SAP outcomes and successes."""
    if not isinstance(n_draws, int) or n_draws < 1:
        raise InvalidParameter(f"n_draws must be a positive integer, got {n_draws!r}")
    rows = []
    for name in BASELINES:
        draws = range(n_draws) if name == "random" else range(1)
        for d in draws:
            B, Sw = baseline_encoder(name, scenario, rng=[seed, d], noise=noise)
            A, _ = lg.decoder_update(scenario.model.sigma_y, B, Sw, "isotropic")
            e_sampled, e_mean = relative_errors(scenario.model.sigma_y, A, B, Sw)
            scores = score_encoder(scenario, B, Sw)
            rows.append({"scenario": scenario.name, "baseline": name, "draw": d,
                         "relative_error": e_sampled, "relative_error_mean": e_mean, **scores,
                         "im_success": scores["im_outcome"] == "success",
                         "sap_success": scores["sap_outcome"] == "success"})
    return rows
