r"""The protocol of a (γ, λ) sweep: every choice Vu et al. (2024) leave open, as one record.

Vu, Wei & Wan (2024, *Investigating Disentanglement in β-VAE within a Linear Gaussian
Setting*) say "for each (γ, λ) pair, seek the optimal solution ... adhering to a 5 % reconstruction
error tolerance; employ Blahut–Arimoto until convergence". It does not say how BA starts, when it
stops, what "reconstruction error" measures, which Σ_Z family is learned, or the scenario constants.
Each of those is a field here, with our documented default:

=======================  ==========================================================================
``decoder_noise``        ``"full"``: Vu et al.'s (2024) Σ_Z update (eq. 10); ``"diagonal"`` / ``"isotropic"``;
                         ``"true"``: Σ_Z fixed at the data's own noise σ²I (not learned: the
                         objective is then bounded for every γ > 0 with γ/σ² + 2λ > 0)
``init``                 ``"random"`` decoder (seeded per ``seed``) or ``"pca"``
``max_iter``, ``tol``    stop when |ΔL| ≤ tol·max(1, |L|) or after ``max_iter`` iterations
``accept``               BA statuses whose solution counts as "the optimum" (default: converged and
                         max_iter; a diverged run has no optimum, a collapsed one reconstructs nothing)
``tolerance``            bound on the relative reconstruction error (default 0.05, Vu et al.'s (2024) 5 %)
``error_reading``        ``"sampled"``: E‖Y − AX‖² / tr Σ_Y with X = BY + W (the loss's mse term);
                         ``"mean"``: E‖Y − ABY‖² / tr Σ_Y (encoder noise left out);
                         ``"none"``: no tolerance
scenario constants       ``noise_var`` σ², ``root_std`` σ_v, ``coupling`` α = β,
                         ``dependent_noise_std`` σ_z (see :mod:`lingauss.scenarios`)
=======================  ==========================================================================

A point *counts* (is eligible) when its status is in ``accept`` and its error meets the tolerance;
a metric succeeds at a point when the point counts and the metric recovers the true grouping
(:func:`lingauss.im_success`, :func:`lingauss.sap_success`). The success rate is the share of
(γ, λ, seed) points where it succeeds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace

import numpy as np

import lingauss as lg
from lingauss.params import InvalidParameter
from lingauss.noise_families import NAMED_FAMILIES, resolve_decoder_noise

__all__ = ["Protocol", "ERROR_READINGS", "NOISE_CHOICES", "TALK_GAMMAS", "TALK_LAMBDAS"]

#: Decoder-noise choices of a protocol: the learned families, or ``"true"`` (fixed at σ²I).
NOISE_CHOICES = NAMED_FAMILIES

ERROR_READINGS = ("sampled", "mean", "none")

#: The grid of Vu et al. (2024): γ from 0.98 to 1.02 and λ from −0.02 to 0.02, step 0.01 (25 pairs).
TALK_GAMMAS = (0.98, 0.99, 1.0, 1.01, 1.02)
TALK_LAMBDAS = (-0.02, -0.01, 0.0, 0.01, 0.02)


@dataclass(frozen=True)
class Protocol:
    """Every choice behind a success rate; see the module table. Immutable; :meth:`but` varies one."""

    decoder_noise: str = "full"
    init: str = "random"
    max_iter: int = 10_000
    tol: float = 1e-12
    accept: tuple[str, ...] = ("converged", "max_iter")
    tolerance: float = lg.metrics.RECONSTRUCTION_TOLERANCE
    error_reading: str = "sampled"
    noise_var: float = 0.1
    root_std: float = 1.0
    coupling: float = 1.0
    dependent_noise_std: float = 0.5
    label: str = field(default="default", compare=False)

    def __post_init__(self) -> None:
        if self.decoder_noise not in NOISE_CHOICES:
            raise InvalidParameter(f"decoder_noise must be one of {NOISE_CHOICES}, got {self.decoder_noise!r}")
        if self.init not in ("random", "pca"):
            raise InvalidParameter(f"init must be 'random' or 'pca', got {self.init!r}")
        if not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise InvalidParameter(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not self.tol >= 0:
            raise InvalidParameter(f"tol must be ≥ 0, got {self.tol!r}")
        object.__setattr__(self, "accept", tuple(self.accept))
        bad = [s for s in self.accept if s not in lg.STATUSES]
        if bad:
            raise InvalidParameter(f"accept must hold BA statuses {lg.STATUSES}, got {bad}")
        if not self.tolerance > 0:
            raise InvalidParameter(f"tolerance must be > 0, got {self.tolerance!r}")
        if self.error_reading not in ERROR_READINGS:
            raise InvalidParameter(f"error_reading must be one of {ERROR_READINGS}, got {self.error_reading!r}")
        for name in ("noise_var", "root_std", "dependent_noise_std"):
            if not getattr(self, name) > 0:
                raise InvalidParameter(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.coupling == 0:
            raise InvalidParameter("coupling must be non-zero")

    # ------------------------------------------------------------------ derived
    def but(self, label: str | None = None, **changes) -> "Protocol":
        """A copy with ``changes`` applied (and a new ``label``)."""
        return replace(self, label=label or ", ".join(f"{k}={v}" for k, v in changes.items()), **changes)

    @property
    def scenario_params(self) -> dict:
        """Keyword arguments of :func:`lingauss.talk_scenario`."""
        return {"noise_var": self.noise_var, "root_std": self.root_std, "coupling": self.coupling,
                "dependent_noise_std": self.dependent_noise_std}

    def decoder_noise_for(self, scenario):
        """What :func:`lingauss.blahut_arimoto_grid` gets as ``decoder_noise`` for ``scenario``."""
        return resolve_decoder_noise(self.decoder_noise, scenario.model)

    def scenarios(self) -> list:
        """The six scenarios of Vu et al. (2024) built with this protocol's constants."""
        return lg.talk_scenarios(**self.scenario_params)

    @property
    def solver_fingerprint(self) -> str:
        """Hash of the fields that change the BA solution (not the success reading)."""
        keys = ("decoder_noise", "init", "max_iter", "tol")
        return _digest({k: getattr(self, k) for k in keys})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["accept"] = list(self.accept)
        return d

    def describe(self) -> str:
        """The protocol as printed lines (what the reproduction output says it did)."""
        reading = {"sampled": "E||Y-AX||^2 / tr Sigma_Y, X = BY + W (the loss's mse term)",
                   "mean": "E||Y-ABY||^2 / tr Sigma_Y (encoder noise left out)",
                   "none": "no reconstruction tolerance"}[self.error_reading]
        tol_txt = "" if self.error_reading == "none" else f" <= {self.tolerance:.0%}"
        return "\n".join([
            f"  decoder noise family : {self.decoder_noise}"
            + {"full": "  (the Sigma_Z update of Vu et al. 2024, eq. 10)",
               "true": "  (Sigma_Z fixed at sigma^2 I, not learned)"}.get(self.decoder_noise, ""),
            f"  initialisation       : {self.init} decoder"
            + (" (A ~ N(0, tr Sigma_Y/(n m)), seeded; Sigma_Z = diag Sigma_Y)" if self.init == "random" else ""),
            f"  stopping rule        : |dL| <= {self.tol:g} * max(1, |L|) or {self.max_iter} iterations",
            f"  accepted BA statuses : {', '.join(self.accept)}",
            f"  reconstruction error : {reading}{tol_txt}",
            f"  scenario constants   : sigma^2 = {self.noise_var:g}, sigma_v = {self.root_std:g}, "
            f"alpha = beta = {self.coupling:g}, sigma_z = {self.dependent_noise_std:g}",
        ])


def _digest(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
