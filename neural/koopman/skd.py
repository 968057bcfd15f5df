r"""SKD — Structured Koopman Disentanglement (batch Koopman operator, s static modes).

The model of Hason's (2024) "SKD" slides with Hason's (2024) fixes ("Reimplementing SKD"):

* one latent width k for the conv code, the LSTMs and the operator (no hidden-size ≠ Koopman-size
  mismatch);
* **one** k×k operator C per batch, fitted by (ridge) least squares in float64 over all
  consecutive pairs (:func:`neural.koopman.operator.fit_koopman`);
* the spectral loss with **exactly** s static eigenvalues, the s nearest 1, whatever the conjugate
  pairing (:func:`neural.koopman.spectral.spectral_loss`); eigenvalues in complex128;
* NaN guard/gradient clipping and plateau decay come from :class:`neural.train.Trainer`.

Swaps use the eigenbasis of C (:func:`neural.koopman.swap.eigenbasis_swap`): the static *channels*
are the s static modes, ordered by |λ − 1| (channel 0 is the mode nearest 1). Because C depends on
the batch, :meth:`SKD.prepare_evaluation` can fix the basis from a reference set so that mode j
means the same thing in every evaluation batch; without it each :meth:`recombine` call uses the
operator of the batch [x; y] (the public code's per-batch latent space).
"""

from __future__ import annotations

import torch

from lingauss.params import InvalidParameter
from .base import KoopmanAutoencoder
from .operator import KoopmanFit, fit_koopman, koopman_eigvals
from .spectral import spectral_loss
from .swap import as_mask, eigenbasis_swap, mode_coefficients

__all__ = ["SKD", "KoopmanBasis"]


class KoopmanBasis:
    """Eigen-decomposition of a batch operator: ``eigvals`` (k,), ``V`` (k, k) columns, ``V_inv``,
    ``order`` (indices sorted by |λ − 1|, stable), ``n_static``; ``static``/``dynamic`` mode indices."""

    def __init__(self, C: torch.Tensor, n_static: int):
        C = C.detach().to(torch.float64)
        self.eigvals, self.V = torch.linalg.eig(C)
        self.V_inv = torch.linalg.inv(self.V)
        self.order = torch.argsort((self.eigvals - 1.0).abs(), stable=True)
        self.n_static = int(n_static)

    @property
    def static(self) -> torch.Tensor:
        return self.order[:self.n_static]

    @property
    def dynamic(self) -> torch.Tensor:
        return self.order[self.n_static:]


class SKD(KoopmanAutoencoder):
    """Structured Koopman autoencoder (module doc); parameters beyond those of
    :class:`neural.koopman.base.KoopmanAutoencoder` (``in_channels``, ``k`` = 40,
    ``image_size``, ``channels``, ``hidden``, ``w_rec`` = 15, ``w_pred_x`` = ``w_pred_z`` = 1,
    ``w_eig`` = 1, ``alpha`` = 0.5, ``dynamic_penalty`` = "real", ``method``, ``ridge``):

    Parameters
    ----------
    n_static : int
        s, the number of static eigenvalues/modes (1 ≤ s < k). The seed does not list the public
        value; 4 is our default.
    """

    per_instance = False

    def __init__(self, *, n_static: int = 4, k: int = 40, **kw):
        super().__init__(k=k, **kw)
        if not 1 <= int(n_static) < int(k):
            raise InvalidParameter(f"n_static must be in 1..k-1 = 1..{int(k) - 1}, got {n_static!r}")
        self.n_static = int(n_static)
        self._basis: KoopmanBasis | None = None

    def eigen_loss(self, fit: KoopmanFit) -> dict:
        lam = koopman_eigvals(fit)
        total, st, dy, _ = spectral_loss(lam, self.n_static, alpha=self.alpha,
                                         dynamic_penalty=self.dynamic_penalty)
        return {"eig": total, "eig_static": st, "eig_dynamic": dy}

    # ------------------------------------------------------------------ swaps
    @property
    def n_static_channels(self) -> int:
        return self.n_static

    def training_swaps(self, Z: torch.Tensor, fit: KoopmanFit) -> torch.Tensor:
        """As the base class, in the eigenbasis of this batch's operator (never a prepared one)."""
        basis = KoopmanBasis(fit.C, self.n_static)
        Zp = torch.roll(Z, 1, dims=0)
        h = Z.shape[0] // 2
        return torch.cat([self.recombine_latents(Z[:h], Zp[:h], "all", False, basis=basis),
                          self.recombine_latents(Z[h:], Zp[h:], None, True, basis=basis)])

    def basis(self, Z: torch.Tensor) -> KoopmanBasis:
        """The eigenbasis of the batch operator of latents Z (b, T, k)."""
        return KoopmanBasis(fit_koopman(Z.detach(), method=self.method, ridge=self.ridge).C, self.n_static)

    @torch.no_grad()
    def prepare_evaluation(self, x: torch.Tensor, batch_size: int = 64) -> None:
        """Fix the swap basis to the operator of the reference sequences x (None clears it)."""
        if x is None:
            self._basis = None
            return
        Z = torch.cat([self.encode(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
        self._basis = self.basis(Z)

    def recombine_latents(self, Z_x, Z_y, static_from_y=None, dynamic_from_y: bool = False,
                          basis: KoopmanBasis | None = None) -> torch.Tensor:
        """Eigenbasis swap: x's mode coefficients with static modes ``static_from_y`` (channel
        indices 0..s−1 in |λ − 1| order) and, if ``dynamic_from_y``, all dynamic modes from y."""
        basis = basis or self._basis or self.basis(torch.cat([Z_x, Z_y]))
        chosen = basis.static[as_mask(static_from_y, self.n_static, basis.static.device)]
        if dynamic_from_y:
            chosen = torch.cat([chosen, basis.dynamic])
        return eigenbasis_swap(Z_x, Z_y, basis.V, basis.V_inv, chosen).to(Z_x.dtype)

    def static_codes(self, x: torch.Tensor, basis: KoopmanBasis | None = None) -> torch.Tensor:
        """Time-mean of the static mode coefficients Φ_S = Z V_S, as [Re, Im] (b, 2s) (float64);
        the basis is the prepared one, else that of this batch."""
        Z = self.encode(x)
        basis = basis or self._basis or self.basis(Z)
        phi = mode_coefficients(Z, basis.V[:, basis.static]).mean(1)
        return torch.cat([phi.real, phi.imag], dim=-1)
