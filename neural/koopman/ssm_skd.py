r"""SSM-SKD — Single Static Mode Structured Koopman Disentanglement (Hason's (2024) model).

Differences from :class:`neural.koopman.skd.SKD`, as the seed describes them:

* **instance-wise Koopman operators**: one least-squares solve per sequence (batched), C_i with
  Z_i[1:] ≈ Z_i[:-1] C_i — the remedy for the shortcut problem of a batch operator with s = 1;
* **a single static mode** with eigenvalue ≈ 1: the real eigenvalue of C_i nearest 1 is found with
  the backprop-friendly shifted inverse iteration of :mod:`neural.koopman.eigvec`, which also gives
  its right/left eigenvectors v_i, w_i. The spectral loss is Hason's (2024) L_eig with S = {that
  eigenvalue} (its differentiable two-sided Rayleigh quotient enters |λ − 1|²) and D = the other k−1
  eigenvalues of C_i (averaged over the batch);
* **coordinate-based swap**: static representation S_i = Z_i P_i with P_i = v_i w_iᵀ/(w_iᵀ v_i), dynamic
  D_i = Z_i − S_i; the k coordinates of each are channels (:func:`neural.koopman.swap.channel_swap`).

With T − 1 < k pairs an instance problem is underdetermined: the ridge solve gives the (near)
minimum-norm operator, whose predictions are (near) exact, so L_predZ/L_predX mostly check the
decoder there and the structure comes from L_eig; the spectrum is then taken from the small
(T−1)×(T−1) matrix (see :mod:`neural.koopman.operator`), padded with k − T + 1 exact zeros. Those
padded zeros (and any zero eigenvalue) are never the static mode (:meth:`SSMSKD.static_candidates`);
:meth:`SSMSKD.degenerate_static` flags spectra where they would have been chosen, or where no real
nonzero eigenvalue exists, and training counts them (``degenerate_count`` / ``static_mode_count``;
the loss dict's ``degenerate_static`` is the batch fraction). Hason's (2024) Sprites setting is k = 15.
"""

from __future__ import annotations

import torch

from .base import KoopmanAutoencoder
from .eigvec import StaticEigenpair, static_eigenpair, static_projector
from .operator import KoopmanFit, koopman_eigvals
from .spectral import spectral_loss
from .swap import channel_swap

__all__ = ["SSMSKD"]


class SSMSKD(KoopmanAutoencoder):
    """Single-static-mode Koopman autoencoder (module doc); parameters beyond those of
    :class:`neural.koopman.base.KoopmanAutoencoder`:

    Parameters
    ----------
    k : int
        Latent width and operator size (seed on Sprites: 15).
    n_iter, offset : int, float
        Inverse-iteration steps and shift offset for the static eigenvector.
    """

    per_instance = True

    def __init__(self, *, k: int = 15, n_iter: int = 4, offset: float = 1e-3, **kw):
        super().__init__(k=k, **kw)
        self.n_iter, self.offset = int(n_iter), float(offset)
        #: sequences whose spectrum had a degenerate static mode (:meth:`degenerate_static`) /
        #: sequences seen, counted by :meth:`eigen_loss` in training mode
        self.degenerate_count, self.static_mode_count = 0, 0

    def static_candidates(self, fit: KoopmanFit, eigvals: torch.Tensor) -> torch.Tensor:
        """Boolean mask (b, k) of the eigenvalues that may be the static mode: not one of the
        k − n exact zeros padded to a low-rank spectrum (n = T − 1 < k, see
        :func:`neural.koopman.operator.koopman_eigvals`) and not zero (|λ| ≤ 1e-12·max(1, max|λ|)).

        Without the exclusion a spectrum whose only real nonzero eigenvalue is negative (say −0.3)
        would make the padded 0 the real eigenvalue nearest 1: the "static mode" would be a null
        direction of C and the static loss |0 − 1|² ≈ 1 would have a vanishing gradient."""
        lam = eigvals.detach()
        ok = lam.abs() > 1e-12 * lam.abs().amax(-1, keepdim=True).clamp_min(1.0)
        if fit.factors is not None:
            n = fit.factors[1].shape[-2]
            ok = ok & (torch.arange(lam.shape[-1], device=lam.device) < n)
        return ok

    def degenerate_static(self, fit: KoopmanFit, eigvals: torch.Tensor) -> torch.Tensor:
        """Boolean (b,): the spectrum has no real nonzero, unpadded eigenvalue, or the real
        eigenvalue nearest 1 over the *whole* padded spectrum is a padded/zero one (the case the
        exclusion in :meth:`static_candidates` repairs)."""
        lam = eigvals.detach().to(torch.complex128)
        ok = self.static_candidates(fit, lam)
        real = lam.imag.abs() <= 1e-8 * lam.abs().clamp_min(1.0)
        dist = torch.where(real, (lam - 1.0).abs(), torch.full(lam.shape, float("inf"), dtype=torch.float64,
                                                                 device=lam.device))
        nearest_ok = torch.gather(ok, -1, dist.argmin(-1, keepdim=True)).squeeze(-1)
        return ~(real & ok).any(-1) | ~nearest_ok

    def static_mode(self, fit: KoopmanFit, eigvals: torch.Tensor | None = None) -> StaticEigenpair:
        lam = koopman_eigvals(fit) if eigvals is None else eigvals
        return static_eigenpair(fit.C, n_iter=self.n_iter, offset=self.offset, eigvals=lam.detach(),
                                candidates=self.static_candidates(fit, lam))

    def eigen_loss(self, fit: KoopmanFit) -> dict:
        lam = koopman_eigvals(fit)
        pair = self.static_mode(fit, lam)
        # the static entry is the eigenvalue the iteration converged to (nearest its shift)
        target = (pair.shift - self.offset).to(torch.complex128)[..., None]
        idx = (lam.detach() - target).abs().argmin(-1, keepdim=True)
        mask = torch.zeros(lam.shape, dtype=torch.bool, device=lam.device).scatter_(-1, idx, True)
        total, st, dy, _ = spectral_loss(lam, 1, alpha=self.alpha, dynamic_penalty=self.dynamic_penalty,
                                         static_eigvals=pair.value[..., None], static_mask=mask)
        degenerate = self.degenerate_static(fit, lam)
        if self.training:
            self.degenerate_count += int(degenerate.sum())
            self.static_mode_count += int(degenerate.numel())
        return {"eig": total, "eig_static": st, "eig_dynamic": dy,
                "static_residual": pair.residual.mean(),
                "degenerate_static": degenerate.to(torch.float64).mean()}

    def degenerate_static_fraction(self) -> float | None:
        """degenerate_count / static_mode_count (``None`` before any training step)."""
        return self.degenerate_count / self.static_mode_count if self.static_mode_count else None

    # ------------------------------------------------------------------ representations
    @property
    def n_static_channels(self) -> int:
        return self.k

    def decompose_latents(self, Z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(S, D), each (b, T, k) float64: static Z P and dynamic Z (I − P) per sequence."""
        fit = self.koopman(Z)
        pair = self.static_mode(fit)
        P = static_projector(pair.right, pair.left)
        Z64 = Z.to(torch.float64)
        S = Z64 @ P
        return S, Z64 - S

    def decompose(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(S, D) of sequences x."""
        return self.decompose_latents(self.encode(x))

    def recombine_latents(self, Z_x, Z_y, static_from_y=None, dynamic_from_y: bool = False) -> torch.Tensor:
        """Coordinate swap: S_x with channels ``static_from_y`` from S_y, plus D_x or (if
        ``dynamic_from_y``) D_y."""
        Sx, Dx = self.decompose_latents(Z_x)
        Sy, Dy = self.decompose_latents(Z_y)
        return channel_swap(Sx, Dx, Sy, Dy, static_from_y, "all" if dynamic_from_y else None).to(Z_x.dtype)

    def static_codes(self, x: torch.Tensor) -> torch.Tensor:
        """Time-mean of the static representation S (b, k), float64."""
        return self.decompose(x)[0].mean(1)
