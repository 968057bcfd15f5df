r"""Latent swaps: SKD's eigenbasis swap and SSM-SKD's coordinate (channel) swap.

**Eigenbasis swap (SKD, seed "Attribute Swapping in SKD").** With C = V Λ V⁻¹ and the row
convention Z_{t+1} = Z_t C, the mode coefficients Φ = Z V evolve as Φ_{t+1} = Φ_t Λ and Z = Φ V⁻¹.
Swapping a set M of modes from sequence b into sequence a is

.. math:: \Phi' = \Phi_a \text{ with columns } M \text{ taken from } \Phi_b,\qquad Z' = \operatorname{Re}(\Phi' V^{-1}).

When M holds both members of every conjugate pair Z' is real; SKD takes exactly s static modes
regardless of pairing (Hason's (2024) fix), so a pair split by M gives a complex Z' whose real part is
kept (documented choice). A static/dynamic swap uses M = the static modes; a factorial swap any
chosen subset. Swapping a sequence with itself returns Z exactly (up to round-off).

**Coordinate swap (SSM-SKD, seed "Attribute Swapping in SSM-SKD").** Each sequence has its own
operator; with its static projector P_i (:func:`neural.koopman.eigvec.static_projector`) the static
representation is S_i = Z_i P_i and the dynamic one D_i = Z_i (I − P_i), so S_i + D_i = Z_i. The k
coordinates of S and of D are *channels*; a swap exchanges chosen channels between sequences and
the result S' + D' is decoded. (The seed notes this lacks the DMD justification of the
eigenbasis swap.)
"""

from __future__ import annotations

import torch

from lingauss.params import InvalidParameter

__all__ = ["mode_coefficients", "eigenbasis_swap", "channel_swap", "as_mask"]


def as_mask(selection, k: int, device=None) -> torch.Tensor:
    """Boolean mask (k,) from a mask, an index collection, ``"all"`` / ``True`` or ``None`` / ``False``."""
    if selection is None or selection is False:
        return torch.zeros(k, dtype=torch.bool, device=device)
    if selection is True or (isinstance(selection, str) and selection == "all"):
        return torch.ones(k, dtype=torch.bool, device=device)
    t = torch.as_tensor(selection, device=device)
    if t.dtype == torch.bool:
        if t.shape[-1] != k:
            raise InvalidParameter(f"a boolean selection must have {k} entries, got {tuple(t.shape)}")
        return t
    idx = t.reshape(-1).long()
    if idx.numel() and (idx.min() < 0 or idx.max() >= k):
        raise InvalidParameter(f"indices must be in 0..{k - 1}, got {idx.tolist()}")
    mask = torch.zeros(k, dtype=torch.bool, device=device)
    mask[idx] = True
    return mask


def mode_coefficients(Z: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Φ = Z V (complex128), Z (..., T, k), V (k, k) eigenvectors as columns."""
    return Z.to(torch.complex128) @ V.to(torch.complex128)


def eigenbasis_swap(Z_a: torch.Tensor, Z_b: torch.Tensor, V: torch.Tensor, V_inv: torch.Tensor,
                    modes) -> torch.Tensor:
    """Z_a with the modes ``modes`` (mask/indices over the columns of V) taken from Z_b (module doc).

    Z_a, Z_b : (b, T, k) real; V, V_inv : (k, k) complex. Returns real float64 (b, T, k).
    """
    k = V.shape[-1]
    mask = as_mask(modes, k, V.device)
    Phi_a, Phi_b = mode_coefficients(Z_a, V), mode_coefficients(Z_b, V)
    Phi = torch.where(mask, Phi_b, Phi_a)
    return (Phi @ V_inv.to(torch.complex128)).real


def channel_swap(static_a: torch.Tensor, dynamic_a: torch.Tensor, static_b: torch.Tensor,
                 dynamic_b: torch.Tensor, static_channels=None, dynamic_channels=None) -> torch.Tensor:
    """S' + D' where S' is S_a with ``static_channels`` from S_b and D' is D_a with
    ``dynamic_channels`` from D_b (channels = the last axis; masks, indices, ``"all"`` or ``None``)."""
    k = static_a.shape[-1]
    ms = as_mask(static_channels, k, static_a.device)
    md = as_mask(dynamic_channels, k, static_a.device)
    return torch.where(ms, static_b, static_a) + torch.where(md, dynamic_b, dynamic_a)
