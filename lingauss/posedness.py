r"""Does the γλ-VAE loss have a minimum, and where does an optimiser drift when it has none?

Write the loss as :math:`L = \mathrm{kl} + \gamma\,\mathrm{nll} + \lambda\,\mathrm{mse}` and
profile out a learned :math:`\Sigma_Z` (its optimum is the residual :math:`E` projected on the family).
The facts used below, each with its one-line reason:

* **λ < 0, learned Σ_Z — unbounded below (decoder gain).** With :math:`A = tA_0`,
  :math:`\operatorname{tr}E \sim t^2` while :math:`\tfrac\gamma2\log|\Sigma_Z|` grows like
  :math:`\log t`, so :math:`\lambda\operatorname{tr}E \to -\infty`. With a *fixed* Σ_Z the same
  happens iff :math:`P = \gamma\Sigma_Z^{-1} + 2\lambda I` has a negative eigenvalue.
* **γ > 1, full or diagonal Σ_Z — unbounded below (encoder noise).** Take one latent that copies
  one coordinate, :math:`\Sigma_W = \varepsilon`: kl grows like :math:`-\tfrac12\log\varepsilon`,
  :math:`\gamma\,\mathrm{nll}` falls like :math:`\tfrac\gamma2\log\varepsilon`; the sum is
  :math:`\tfrac{\gamma-1}2\log\varepsilon \to -\infty`. Isotropic Σ_Z: :math:`\operatorname{tr}E`
  is at least the sum of the :math:`n-m` smallest eigenvalues of Σ_Y, so it is bounded when m < n;
  when m ≥ n it is unbounded iff γ n > m.
* **γ < 1, λ = 0, full Σ_Z — posterior collapse.** :math:`L = \gamma(\mathrm{kl}+\mathrm{nll}) +
  (1-\gamma)\mathrm{kl} \ge \gamma\,\mathrm{NLL}^\ast`, with equality only at B = 0, Σ_W = I,
  Σ_Z = Σ_Y (kl = 0, mse = tr Σ_Y).
* **γ = 1, λ = 0, full Σ_Z — a continuum of optima.** Every exact factorisation
  :math:`AA^\top + \Sigma_Z = \Sigma_Y` with the exact posterior attains the maximum likelihood
  (A = 0, Σ_Z = Σ_Y among them); where BA stops depends on where it starts.
* **γ = 1, λ = 0, isotropic / diagonal Σ_Z** is probabilistic PCA / factor analysis; γ < 1 with
  these families is a linear β-VAE with β = 1/γ > 1: bounded, minimum attained.
* **Always:** the loss is invariant under rotations of the latent space
  (:math:`B \to RB`, :math:`\Sigma_W \to R\Sigma_WR^\top`, :math:`A \to AR^\top`), because the prior
  :math:`N(0, I_m)` is. A minimum is at best unique *up to this rotation*, so metrics that are not
  rotation invariant (I_m, SAP) depend on the optimiser's initialisation.

* **γ = 1, λ > 0, full or diagonal Σ_Z — boundary (suspected).** Along a latent that copies a
  coordinate the log|Σ_W| terms of kl and nll cancel, and λ·mse keeps falling as Σ_W → 0; BA's
  Σ_W shrinks like 1/iterations. Reported as regime ``"boundary"`` with
  ``minimum_attained=None`` (not proven).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_finite_scalar
from .noise_families import decoder_noise_family
from .updates import parse_decoder_noise

__all__ = ["WellPosedness", "well_posedness"]

_ROTATION_NOTE = ("the loss is invariant under rotations of the latent space, so any minimum is "
                  "unique only up to that rotation")


@dataclass(frozen=True)
class WellPosedness:
    """Diagnosis of the γλ-VAE objective for one (γ, λ, decoder family).

    ``regime`` is one of ``"well_posed"``, ``"collapse"``, ``"continuum"``, ``"boundary"``,
    ``"unbounded_encoder_noise"``, ``"unbounded_decoder_gain"``; ``drift`` says what an optimiser
    moves towards; ``reason`` gives the argument. ``minimum_attained`` is ``None`` when not proven.
    """

    gamma: float
    lam: float
    decoder_noise: str
    bounded_below: bool
    minimum_attained: bool | None
    regime: str
    drift: str
    reason: str

    @property
    def ok(self) -> bool:
        """True when a minimiser exists and is isolated up to the latent rotation."""
        return self.regime == "well_posed" and self.minimum_attained is True

    def __str__(self) -> str:
        return f"{self.regime}: {self.reason} Drift: {self.drift}."


def _boundary(verdict, family):
    return verdict(True, None, "boundary", "Σ_W → 0 slowly (BA: min eigenvalue ∝ 1/iterations)",
                   f"γ = 1, λ > 0, {family} Σ_Z: bounded below by the maximum likelihood, but along a "
                   "latent that copies a coordinate the log|Σ_W| terms of kl and nll cancel while "
                   "λ·mse keeps falling as Σ_W → 0, so the infimum appears to lie on the boundary "
                   "(not proven)")


def well_posedness(gamma: float, lam: float, decoder_noise="full", *,
                   n_latents: int | None = None, n_features: int | None = None,
                   atol: float = 1e-12) -> WellPosedness:
    """Tell whether the γλ-VAE loss has a minimum for (γ, λ, decoder family), and why.

    Parameters
    ----------
    gamma : float ≥ 0
    lam : float
    decoder_noise : ``"full"``, ``"diagonal"``, ``"isotropic"`` or a fixed SPD (n, n) matrix (for
        ``"true"``, pass the model's σ²I: :func:`lingauss.noise_families.resolve_decoder_noise`)
    n_latents, n_features : m and n; only needed for the isotropic family with γ > 1
    atol : tolerance for the comparisons γ = 1 and λ = 0

    See the module docstring for the argument behind each verdict.

    Examples
    --------
    >>> from lingauss import well_posedness
    >>> w = well_posedness(1.02, 0.0, "full")
    >>> w.regime, w.bounded_below, w.ok
    ('unbounded_encoder_noise', False, False)
    >>> well_posedness(0.98, 0.0, "full").regime
    'collapse'
    >>> well_posedness(1.02, 0.0, "isotropic", n_latents=3, n_features=4).ok
    True
    """
    gamma = as_finite_scalar(gamma, "gamma", minimum=0.0)
    lam = as_finite_scalar(lam, "lam")
    n_guess = np.shape(decoder_noise)[0] if not isinstance(decoder_noise, str) else 1
    family, fixed = parse_decoder_noise(decoder_noise, n_guess)
    decl = decoder_noise_family(family)
    at_one = abs(gamma - 1.0) <= atol
    lam_zero = abs(lam) <= atol

    def verdict(bounded, attained, regime, drift, reason):
        return WellPosedness(gamma, lam, family, bounded, attained, regime, drift,
                             f"{reason}; {_ROTATION_NOTE}.")

    if family == "fixed":
        p_min = float(np.min(gamma / np.linalg.eigvalsh(fixed)) + 2.0 * lam)
        if p_min < -atol:
            return verdict(False, False, "unbounded_decoder_gain", "‖A‖ → ∞",
                           f"P = γΣ_Z⁻¹ + 2λI has a negative eigenvalue ({p_min:.3g}), so "
                           "tr(PE) → −∞ as A grows")
        if gamma == 0.0 and lam_zero:
            return verdict(True, True, "collapse", "B → 0, Σ_W → I",
                           "with γ = λ = 0 the loss is the KL term alone, minimised at B = 0")
        return verdict(True, True, "well_posed", "the minimiser",
                       "fixed Σ_Z with P ⪰ 0: the loss is kl + ½tr(PE) + const, bounded below "
                       "and coercive (a linear VAE with fixed decoder noise)")
    if lam < -atol:
        return verdict(False, False, "unbounded_decoder_gain", "‖A‖ → ∞, Σ_Z → ∞",
                       "λ < 0 with learned Σ_Z: λ·tr E → −∞ quadratically in ‖A‖ while "
                       "γ/2·log|Σ_Z| grows only logarithmically; BA's decoder step is then a "
                       "stationary point, not a minimiser")
    if gamma == 0.0 and lam_zero:
        return verdict(True, True, "collapse", "B → 0, Σ_W → I",
                       "with γ = λ = 0 the loss is the KL term alone, minimised at B = 0")
    if gamma > 1.0 + atol:
        if decl.gamma_above_one == "unbounded":
            return verdict(False, False, "unbounded_encoder_noise", "Σ_W → singular, Σ_Z → singular",
                           f"γ > 1 with learned {family} Σ_Z: shrinking the encoder noise of a latent "
                           "that copies a coordinate changes the loss by (γ−1)/2·log ε → −∞")
        if n_latents is None or n_features is None:
            return verdict(True, None, "well_posed", "depends on m < n",
                           "γ > 1 with isotropic Σ_Z is bounded below when m < n and unbounded when "
                           "γ·n > m ≥ n; pass n_latents and n_features to decide")
        if n_latents < n_features or gamma * n_features <= n_latents:
            return verdict(True, True, "well_posed", "the minimiser",
                           "γ > 1 with isotropic Σ_Z and m < n: tr E is at least the sum of the "
                           "n−m smallest eigenvalues of Σ_Y, so log|Σ_Z| stays bounded below")
        return verdict(False, False, "unbounded_encoder_noise", "Σ_W → 0, Σ_Z → 0",
                       f"γ·n = {gamma * n_features:g} > m = {n_latents} with isotropic Σ_Z and m ≥ n: "
                       "the loss falls like (γn − m)/2·log ε as Σ_W = εI → 0")
    if decl.collapse_below_one and lam_zero and not at_one:
        return verdict(True, True, "collapse", "B → 0, Σ_W → I, Σ_Z → Σ_Y (kl → 0, mse → tr Σ_Y)",
                       f"γ < 1, λ = 0, {family} Σ_Z: L = γ(kl + nll) + (1−γ)kl ≥ γ·NLL*, with "
                       "equality only at the collapsed encoder")
    if decl.classical_model is None and lam_zero and at_one:
        return verdict(True, True, "continuum", "a point of the continuum set by the initialisation",
                       f"γ = 1, λ = 0, {family} Σ_Z: every factorisation AAᵀ + Σ_Z = Σ_Y with the "
                       "exact posterior attains the maximum likelihood")
    if decl.boundary_at_one and at_one and not lam_zero:
        return _boundary(verdict, family)
    if decl.classical_model is None:
        return verdict(True, True, "well_posed", "the minimiser",
                       "γ < 1, λ > 0: L ≥ γ·NLL* + (1−γ)kl, coercive in Σ_W; λ·mse keeps B away "
                       "from collapse")
    if lam_zero and at_one:
        caveat = f"; {decl.classical_caveat}" if decl.classical_caveat else ""
        return verdict(True, True, "well_posed", "the maximum-likelihood fit",
                       f"γ = 1, λ = 0 with {family} Σ_Z is {decl.classical_model} (the ELBO optimum "
                       f"is its maximum likelihood{caveat})")
    return verdict(True, True, "well_posed", "the minimiser",
                   f"γ ≤ 1 with {family} Σ_Z is a linear β-VAE (β = 1/γ ≥ 1) plus λ·mse ≥ 0: "
                   "bounded below, minimum attained")
