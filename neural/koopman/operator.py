r"""The Koopman layer: a linear operator C fitted by least squares to consecutive latents.

Row convention (SKD's code): a sequence's latents are the rows of Z ∈ R^{T×k} and the operator acts
on the right, Z_{t+1} ≈ Z_t C. With the past X = Z[:, :-1] and the future Y = Z[:, 1:],

* **batch operator** (SKD): one C ∈ R^{k×k} for the whole batch, from the stacked rows of every
  sequence, C = argmin ‖X C − Y‖²_F over the b·(T−1) pairs;
* **instance-wise operators** (SSM-SKD): one C_i per sequence, C_i = argmin ‖X_i C_i − Y_i‖²_F over
  its T−1 pairs, solved for all sequences at once (batched).

The predictions are Ŷ = X C (``Z_pred_next``) and ``Z_pred`` = [Z_0, Ŷ] (the first frame has no
predecessor and is copied, as in the public code), so L_predZ = MSE(Ŷ, Y) and L_predX compares
decode(Z_pred) with the frames.

Solver (documented choice). Everything runs in **float64** (Hason's (2024) fix). The default
``method="ridge"`` solves the regularised normal equations

.. math:: C = (X^\top X + \varepsilon I_k)^{-1} X^\top Y
            = X^\top (X X^\top + \varepsilon I_n)^{-1} Y ,\qquad
          \varepsilon = \texttt{ridge}\cdot \operatorname{tr}(G)/\dim G \;(\text{detached}),

using whichever Gram matrix G is smaller (the two expressions are the same matrix — the push-through
identity). It is differentiable everywhere and well posed also when n = T−1 < k, where an
instance-wise problem is underdetermined (SSM-SKD on Sprites: k = 15, T = 8) and ε → 0 gives the
minimum-norm solution. ``ridge=0`` is the plain normal-equation solve. ``method="lstsq"`` calls
``torch.linalg.lstsq`` (QR/complete orthogonal decomposition; its backward needs full column rank).

Spectrum. When n < k the operator has rank ≤ n: C = A B with A = Xᵀ (k×n), B = G⁻¹Y (n×k), and
its nonzero eigenvalues are those of the small n×n matrix B A (eig(AB) = eig(BA) ∪ {0}^{k−n}), so
:func:`koopman_eigvals` decomposes the small matrix (the DMD trick) and pads with exact zeros. That
avoids differentiating an eigen-decomposition with a (k−n)-fold eigenvalue 0, whose eigenvector
matrix is ill-conditioned and gives inf/NaN gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lingauss.params import InvalidParameter

__all__ = ["KoopmanFit", "ridge_lstsq", "fit_koopman", "koopman_eigvals", "METHODS"]

METHODS = ("ridge", "lstsq")


def _check_ridge(ridge) -> float:
    ridge = float(ridge)
    if not ridge >= 0:
        raise InvalidParameter(f"ridge must be >= 0, got {ridge!r}")
    return ridge


def _eps(G: torch.Tensor, ridge: float) -> torch.Tensor:
    d = G.shape[-1]
    scale = torch.diagonal(G.detach(), dim1=-2, dim2=-1).sum(-1) / d
    return (ridge * scale.clamp_min(1e-300))[..., None, None]


def ridge_lstsq(X: torch.Tensor, Y: torch.Tensor, ridge: float = 1e-6, *, return_factors: bool = False):
    r"""C = argmin ‖X C − Y‖²_F + ε‖C‖²_F for X (..., n, k), Y (..., n, p), batched, float64.

    ε = ``ridge`` · tr(G)/dim G with G the smaller Gram matrix (XᵀX or XXᵀ), detached. With
    ``return_factors`` and n < k also returns (A, B) with C = A B, A = Xᵀ, B = (XXᵀ + εI)⁻¹Y
    (else ``None``).
    """
    ridge = _check_ridge(ridge)
    X, Y = X.to(torch.float64), Y.to(torch.float64)
    if X.shape[:-1] != Y.shape[:-1]:
        raise InvalidParameter(f"X and Y must have the same rows, got {tuple(X.shape)} and {tuple(Y.shape)}")
    n, k = X.shape[-2:]
    Xt = X.transpose(-1, -2)
    if n >= k:
        G = Xt @ X
        I = torch.eye(k, dtype=X.dtype, device=X.device)
        C = torch.linalg.solve(G + _eps(G, ridge) * I, Xt @ Y)
        factors = None
    else:
        G = X @ Xt
        I = torch.eye(n, dtype=X.dtype, device=X.device)
        B = torch.linalg.solve(G + _eps(G, ridge) * I, Y)
        C = Xt @ B
        factors = (Xt, B)
    return (C, factors) if return_factors else C


@dataclass(frozen=True, eq=False)
class KoopmanFit:
    """A fitted Koopman layer (all float64 tensors).

    ``C``: (k, k) batch operator or (b, k, k) instance-wise operators; ``X``/``Y``: past/future
    latents (b, T−1, k); ``Z_pred_next`` = X C (b, T−1, k); ``Z_pred`` = [Z_0, X C] (b, T, k);
    ``factors``: (A, B) with C = A B when the problem had fewer pairs than k (else ``None``);
    ``per_instance``.
    """

    C: torch.Tensor
    X: torch.Tensor
    Y: torch.Tensor
    Z_pred_next: torch.Tensor
    Z_pred: torch.Tensor
    factors: tuple | None
    per_instance: bool


def fit_koopman(Z: torch.Tensor, *, per_instance: bool = False, method: str = "ridge",
                ridge: float = 1e-6) -> KoopmanFit:
    r"""Fit Z[:, 1:] ≈ Z[:, :-1] C in float64 (module doc) for latents Z (b, T, k), T ≥ 2.

    ``per_instance=False``: one C from all b·(T−1) pairs (SKD); ``True``: one C_i per sequence
    (SSM-SKD), batched.
    """
    if method not in METHODS:
        raise InvalidParameter(f"method must be one of {METHODS}, got {method!r}")
    if Z.dim() != 3 or Z.shape[1] < 2:
        raise InvalidParameter(f"Z must be (batch, T >= 2, k), got {tuple(Z.shape)}")
    Z = Z.to(torch.float64)
    b, T, k = Z.shape
    X, Y = Z[:, :-1], Z[:, 1:]
    Xs, Ys = (X, Y) if per_instance else (X.reshape(1, b * (T - 1), k), Y.reshape(1, b * (T - 1), k))
    if method == "ridge":
        C, factors = ridge_lstsq(Xs, Ys, ridge, return_factors=True)
    else:
        C, factors = torch.linalg.lstsq(Xs, Ys).solution, None
        if Xs.shape[-2] < k:
            # minimum-norm interpretation for the spectrum: C = Xᵀ (XXᵀ)⁻¹ Y when X has full row rank
            Xt = Xs.transpose(-1, -2)
            factors = (Xt, torch.linalg.solve(Xs @ Xt, Ys))
    Y_hat = X @ C
    if not per_instance:
        C = C[0]
        if factors is not None:
            factors = (factors[0][0], factors[1][0])
    Z_pred = torch.cat([Z[:, :1], Y_hat], dim=1)
    return KoopmanFit(C=C, X=X, Y=Y, Z_pred_next=Y_hat, Z_pred=Z_pred, factors=factors,
                      per_instance=bool(per_instance))


def koopman_eigvals(fit_or_C, factors=None) -> torch.Tensor:
    """Complex128 eigenvalues (..., k) of the fitted operator(s), differentiable.

    Accepts a :class:`KoopmanFit` or an operator tensor (with optional low-rank ``factors`` (A, B),
    C = A B). With factors the nonzero eigenvalues come from the small matrix B A, padded with
    exact zeros to k (module doc).
    """
    if isinstance(fit_or_C, KoopmanFit):
        C, factors = fit_or_C.C, fit_or_C.factors
    else:
        C = fit_or_C.to(torch.float64)
    k = C.shape[-1]
    if factors is None:
        return torch.linalg.eigvals(C)
    A, B = factors
    small = torch.linalg.eigvals(B @ A)
    pad = torch.zeros(*small.shape[:-1], k - small.shape[-1], dtype=small.dtype, device=small.device)
    return torch.cat([small, pad], dim=-1)
