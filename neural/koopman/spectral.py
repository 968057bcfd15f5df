r"""The spectral (eigenvalue) loss of SKD / SSM-SKD and the static/dynamic split of a spectrum.

The seed (000, "SKD") prints

.. math:: \mathcal L_{\text{eig}} = \frac1{|S|}\sum_{\lambda\in S}|\lambda-1|^2
          + \frac1{|D|}\sum_{\lambda\in D}\begin{cases}\operatorname{Re}\lambda, & \operatorname{Re}\lambda>\alpha\\
          0, & \text{otherwise}\end{cases}

with S the static and D the dynamic eigenvalues. **S is always exactly the s eigenvalues closest
to 1** (in |λ − 1|), regardless of conjugate pairing — Hason's (2024) fix of the public code's
``get_unique_num``, which let |S| vary from batch to batch. A conjugate pair straddling the
boundary contributes one member to S and the other to D; exact ties in |λ − 1| (a conjugate pair
has them) are broken by the position in the eigenvalue array (stable sort; LAPACK lists the
+Im member of a pair first).

Dynamic penalty (``dynamic_penalty``):

* ``"real"`` (default, Hason's (2024) formula): Re λ · 1[Re λ > α] — note the value jumps from 0 to α at
  the threshold (the gradient is that of relu(Re λ − α));
* ``"modulus"``: relu(|λ| − α), the SKD paper's penalty on the modulus of dynamic modes, continuous.

Both sums are divided by the full set sizes |S| and |D| (inactive dynamic eigenvalues count as 0),
as the formula reads. Everything is float64/complex128.
"""

from __future__ import annotations

import torch

from lingauss.params import InvalidParameter

__all__ = ["select_static", "spectral_loss", "DYNAMIC_PENALTIES"]

DYNAMIC_PENALTIES = ("real", "modulus")


def select_static(eigvals: torch.Tensor, n_static: int, target: float = 1.0) -> torch.Tensor:
    """Boolean mask (..., k): exactly ``n_static`` eigenvalues nearest ``target`` per spectrum.

    Ties (equal |λ − target|) go to the earlier entry (stable sort). ``n_static`` in 0..k.
    """
    k = eigvals.shape[-1]
    n_static = int(n_static)
    if not 0 <= n_static <= k:
        raise InvalidParameter(f"n_static must be in 0..{k}, got {n_static}")
    dist = (eigvals.detach().to(torch.complex128) - target).abs()
    order = torch.argsort(dist, dim=-1, stable=True)
    mask = torch.zeros(eigvals.shape, dtype=torch.bool, device=eigvals.device)
    mask.scatter_(-1, order[..., :n_static], True)
    return mask


def spectral_loss(eigvals: torch.Tensor, n_static: int, *, alpha: float = 0.5,
                  dynamic_penalty: str = "real", static_eigvals: torch.Tensor | None = None,
                  static_mask: torch.Tensor | None = None):
    r"""L_eig of the seed (module doc), averaged over any leading batch dimensions.

    Parameters
    ----------
    eigvals : complex tensor (..., k)
        The spectrum (spectra) of the Koopman operator(s).
    n_static : int
        s, the number of static eigenvalues (SSM-SKD: 1).
    alpha : float
        The dynamic threshold α.
    dynamic_penalty : "real" or "modulus"
    static_eigvals : optional tensor (..., n_static)
        Use these values for the static term instead of the selected entries of ``eigvals``
        (SSM-SKD passes the differentiable real eigenvalue from inverse iteration); the selection
        of which eigenvalues are static is unchanged.
    static_mask : optional boolean tensor (..., k) with exactly ``n_static`` entries per spectrum
        Which eigenvalues are static (default: :func:`select_static`, the s nearest 1).

    Returns
    -------
    (loss, static_term, dynamic_term, static_mask) — scalars (float64) and the (..., k) mask.
    """
    if dynamic_penalty not in DYNAMIC_PENALTIES:
        raise InvalidParameter(f"dynamic_penalty must be one of {DYNAMIC_PENALTIES}, got {dynamic_penalty!r}")
    eigvals = eigvals.to(torch.complex128)
    k = eigvals.shape[-1]
    if static_mask is None:
        mask = select_static(eigvals, n_static)
    else:
        mask = static_mask.to(torch.bool)
        if mask.shape != eigvals.shape or not bool((mask.sum(-1) == n_static).all()):
            raise InvalidParameter(f"static_mask must have shape {tuple(eigvals.shape)} with {n_static} "
                             "entries set per spectrum")
    zero = eigvals.real.new_zeros(())
    if n_static > 0:
        lam_s = static_eigvals if static_eigvals is not None else eigvals[mask].reshape(*eigvals.shape[:-1], n_static)
        static = ((lam_s.to(torch.complex128) - 1.0).abs() ** 2).mean(-1).mean()
    else:
        static = zero
    if n_static < k:
        lam_d = eigvals[~mask].reshape(*eigvals.shape[:-1], k - n_static)
        if dynamic_penalty == "real":
            re = lam_d.real
            pen = torch.where(re > alpha, re, torch.zeros_like(re))
        else:
            pen = torch.relu(lam_d.abs() - alpha)
        dynamic = pen.mean(-1).mean()
    else:
        dynamic = zero
    return static + dynamic, static, dynamic, mask
