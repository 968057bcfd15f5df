r"""The linear Gaussian β-VAE as a torch model, trained by SGD; the bridge to :mod:`lingauss`.

Parameters are exactly lingauss's: encoder :math:`X = BY + W`, :math:`W \sim N(0, \Sigma_W)`,
decoder :math:`\hat Y = AX + Z`, :math:`Z \sim N(0, \Sigma_Z)`, prior :math:`N(0, I_m)`.
:math:`\Sigma_W = L_WL_W^\top` with :math:`L_W` lower triangular with a positive (exp of a
free parameter) diagonal, so it is SPD by construction; :math:`\Sigma_Z` follows its family:
``"isotropic"`` (one log-variance), ``"diagonal"`` (n log-variances), ``"full"`` (Cholesky like
Σ_W) or a fixed SPD matrix.

The loss on a batch :math:`y_1..y_N` (per-sample mean, nats), with the default
``objective="sample"`` (the reparameterisation trick, one draw per sample):
:math:`x = By + L_W\varepsilon`, :math:`\varepsilon \sim N(0, I_m)`,

.. math::

    \mathrm{kl} = \tfrac12[\|By\|^2 + \operatorname{tr}\Sigma_W - \log|\Sigma_W| - m]
    \;\text{(closed form per sample)},\quad
    \mathrm{nll} = -\log N(y; Ax, \Sigma_Z),\quad \mathrm{mse} = \|y - Ax\|^2,

``loss = kl + γ·nll + λ·mse``. Its expectation over y and ε is :func:`lingauss.gamma_lambda_loss`
(:meth:`LinearGaussianVAE.exact_loss`). ``objective="expected"`` instead evaluates that
expectation analytically at the batch's second-moment matrix :math:`\hat\Sigma_Y = \tfrac1N\sum y y^\top`
(the data model has zero mean): no sampling noise, same optimum as the batch grows.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from lingauss.params import InvalidParameter
from lingauss.noise_families import LEARNED_FAMILIES, decoder_noise_family

from .base import batch_images
from .noise_parameterisations import chol_params, noise_parameterisation

__all__ = ["LinearGaussianVAE", "DECODER_NOISE", "rotate_to_principal_axes"]

#: The learned families (declared in :mod:`lingauss.noise_families`). The default here is
#: ``"isotropic"``, not Blahut–Arimoto's ``"full"``: at γ = 1, λ = 0 it is probabilistic PCA, a
#: well-posed optimum this model is checked against, while the full family has a continuum.
DECODER_NOISE = LEARNED_FAMILIES
_LOG_2PI = math.log(2.0 * math.pi)


class LinearGaussianVAE(nn.Module):
    """Linear Gaussian VAE with parameters A (n×m), B (m×n), Σ_W, Σ_Z (see module doc).

    Parameters
    ----------
    n, m : data and latent dimensions
    gamma, lam : weights of nll and mse in the γλ-VAE loss
    decoder_noise : ``"isotropic"`` (default), ``"diagonal"``, ``"full"`` or a fixed (n, n) SPD array
    objective : ``"sample"`` (reparameterised estimate, default) or ``"expected"``
    init_scale : A and B start i.i.d. N(0, init_scale²); Σ_W = Σ_Z = I
    dtype : torch dtype of the parameters (float64 by default, like lingauss)
    generator : optional ``torch.Generator`` for the initial A, B (else torch's global RNG)
    """

    def __init__(self, n: int, m: int, *, gamma: float = 1.0, lam: float = 0.0,
                 decoder_noise="isotropic", objective: str = "sample", init_scale: float = 0.1,
                 dtype: torch.dtype = torch.float64, generator: torch.Generator | None = None):
        super().__init__()
        if int(n) < 1 or int(m) < 1:
            raise InvalidParameter(f"n and m must be positive integers, got n={n!r}, m={m!r}")
        if objective not in ("sample", "expected"):
            raise InvalidParameter(f"objective must be 'sample' or 'expected', got {objective!r}")
        for name, v in (("gamma", gamma), ("lam", lam)):
            if not math.isfinite(float(v)):
                raise InvalidParameter(f"{name} must be finite, got {v!r}")
        self.n, self.m = int(n), int(m)
        self.gamma, self.lam = float(gamma), float(lam)
        self.objective = objective
        kw = {"dtype": dtype}
        self.A = nn.Parameter(torch.randn(self.n, self.m, generator=generator, **kw) * init_scale)
        self.B = nn.Parameter(torch.randn(self.m, self.n, generator=generator, **kw) * init_scale)
        self.w_offdiag = nn.Parameter(torch.zeros(self.m, self.m, **kw))
        self.w_log_diag = nn.Parameter(torch.zeros(self.m, **kw))
        self.register_buffer("_tril_m", torch.tril(torch.ones(self.m, self.m, **kw), -1))
        fixed = None
        if isinstance(decoder_noise, str):
            if decoder_noise not in DECODER_NOISE:
                raise InvalidParameter(f"decoder_noise must be one of {DECODER_NOISE} or a fixed SPD matrix,"
                                 f" got {decoder_noise!r}")
        else:
            fixed = np.asarray(decoder_noise, dtype=np.float64)
            if fixed.shape != (self.n, self.n) or not np.allclose(fixed, fixed.T):
                raise InvalidParameter(f"decoder_noise matrix must be symmetric ({self.n}, {self.n})")
            try:
                np.linalg.cholesky(fixed)
            except np.linalg.LinAlgError:
                raise InvalidParameter("decoder_noise matrix must be positive definite") from None
            decoder_noise = "fixed"
        #: the family's declaration (lingauss.noise_families): its structure picks the torch
        #: parameterisation, its projection decides which matrices belong to it
        self.family = decoder_noise_family(decoder_noise)
        self.decoder_noise = self.family.name
        self.noise = noise_parameterisation(self.family, self.n, dtype, fixed)

    # ------------------------------------------------------------------------ parameterisation
    def chol_w(self) -> torch.Tensor:
        """L_W, lower triangular with positive diagonal."""
        return self.w_offdiag * self._tril_m + torch.diag(self.w_log_diag.exp())

    def sigma_w(self) -> torch.Tensor:
        L = self.chol_w()
        return L @ L.T

    def chol_z(self) -> torch.Tensor:
        """L_Z (a diagonal matrix for the isotropic and diagonal families)."""
        return self.noise.chol()

    def sigma_z(self) -> torch.Tensor:
        L = self.chol_z()
        return L @ L.T

    def _logdet_w(self) -> torch.Tensor:
        return 2.0 * self.w_log_diag.sum()

    def _logdet_z(self) -> torch.Tensor:
        return self.noise.logdet()

    def _whiten(self, r: torch.Tensor) -> torch.Tensor:
        """Rows r (N, n) → L_Z⁻¹ r, so ‖·‖² = rᵀΣ_Z⁻¹r."""
        return self.noise.whiten(r)

    # ---------------------------------------------------------------------------------- loss
    def loss(self, batch, objective: str | None = None) -> dict[str, torch.Tensor]:
        """γλ-VAE loss terms on a batch of y (N, n): per-sample means in nats (module doc)."""
        y = batch_images(batch).to(self.A.device, self.A.dtype)
        if y.dim() != 2 or y.shape[1] != self.n:
            raise InvalidParameter(f"expected a batch of y with shape (N, {self.n}), got {tuple(y.shape)}")
        objective = objective or self.objective
        if objective == "expected":
            return self._expected_loss(y.T @ y / y.shape[0])
        if objective != "sample":
            raise InvalidParameter(f"objective must be 'sample' or 'expected', got {objective!r}")
        Lw = self.chol_w()
        mu = y @ self.B.T
        x = mu + torch.randn_like(mu) @ Lw.T
        kl = 0.5 * (mu.pow(2).sum(1) + Lw.pow(2).sum() - self._logdet_w() - self.m)
        r = y - x @ self.A.T
        nll = 0.5 * (self.n * _LOG_2PI + self._logdet_z() + self._whiten(r).pow(2).sum(1))
        mse = r.pow(2).sum(1)
        kl, nll, mse = kl.mean(), nll.mean(), mse.mean()
        return {"loss": kl + self.gamma * nll + self.lam * mse, "kl": kl, "nll": nll, "mse": mse}

    def _expected_loss(self, S: torch.Tensor) -> dict[str, torch.Tensor]:
        Sw = self.sigma_w()
        R = torch.eye(self.n, dtype=S.dtype, device=S.device) - self.A @ self.B
        E = R @ S @ R.T + self.A @ Sw @ self.A.T
        kl = 0.5 * (torch.trace(self.B @ S @ self.B.T) + torch.trace(Sw) - self._logdet_w() - self.m)
        Lz = self.chol_z()
        half = torch.linalg.solve_triangular(Lz, E, upper=False)
        tr = torch.trace(torch.linalg.solve_triangular(Lz, half.T, upper=False))
        nll = 0.5 * (self.n * _LOG_2PI + self._logdet_z() + tr)
        mse = torch.trace(E)
        return {"loss": kl + self.gamma * nll + self.lam * mse, "kl": kl, "nll": nll, "mse": mse}

    # ----------------------------------------------------------------------------- lingauss
    @torch.no_grad()
    def encode(self, y) -> torch.Tensor:
        """The representation: posterior means By, (N, m)."""
        y = batch_images(y).to(self.A.device, self.A.dtype)
        return y @ self.B.T

    @torch.no_grad()
    def to_lingauss(self) -> dict[str, np.ndarray]:
        """``{"A", "B", "sigma_w", "sigma_z"}`` as float64 numpy arrays (lingauss's argument names)."""
        f = lambda t: t.detach().cpu().to(torch.float64).numpy().copy()  # noqa: E731
        Sw, Sz = f(self.sigma_w()), f(self.sigma_z())
        return {"A": f(self.A), "B": f(self.B), "sigma_w": 0.5 * (Sw + Sw.T),
                "sigma_z": 0.5 * (Sz + Sz.T)}

    def exact_loss(self, sigma_y):
        """:func:`lingauss.gamma_lambda_loss` at the current parameters (a ``LossTerms``).

        ``sigma_y``: an (n, n) SPD array or an object with ``sigma_y`` (a ``LinearGaussianModel``).
        """
        import lingauss

        sigma_y = getattr(sigma_y, "sigma_y", sigma_y)
        return lingauss.gamma_lambda_loss(sigma_y, gamma=self.gamma, lam=self.lam, **self.to_lingauss())

    @torch.no_grad()
    def set_parameters(self, *, A=None, B=None, sigma_w=None, sigma_z=None) -> "LinearGaussianVAE":
        """Set any of A, B, Σ_W, Σ_Z from arrays (Σ_Z must lie in the model's family)."""
        dt = {"dtype": self.A.dtype, "device": self.A.device}
        if A is not None:
            self.A.copy_(torch.as_tensor(np.asarray(A, dtype=np.float64), **dt).reshape(self.n, self.m))
        if B is not None:
            self.B.copy_(torch.as_tensor(np.asarray(B, dtype=np.float64), **dt).reshape(self.m, self.n))
        if sigma_w is not None:
            off, logd = chol_params(np.asarray(sigma_w, dtype=np.float64).reshape(self.m, self.m))
            self.w_offdiag.copy_(torch.as_tensor(off, **dt))
            self.w_log_diag.copy_(torch.as_tensor(logd, **dt))
        if sigma_z is not None:
            Sz = np.asarray(sigma_z, dtype=np.float64).reshape(self.n, self.n)
            if not self.family.learned:
                raise InvalidParameter("sigma_z is fixed for this model")
            if not np.allclose(self.family.project(Sz), Sz):     # the declaration decides membership
                raise InvalidParameter(f"sigma_z must lie in the decoder_noise={self.decoder_noise!r} family "
                                 f"({self.family.description})")
            self.noise.assign(Sz)
        return self

    def extra_repr(self) -> str:
        return (f"n={self.n}, m={self.m}, gamma={self.gamma:g}, lam={self.lam:g}, "
                f"decoder_noise={self.decoder_noise!r}, objective={self.objective!r}")


def rotate_to_principal_axes(params: dict, sigma_y) -> dict:
    r"""Fix the latent rotation gauge: rotate the latents onto the eigenvectors of :math:`B\Sigma_YB^\top`.

    The loss is invariant under :math:`B \to QB`, :math:`\Sigma_W \to Q\Sigma_WQ^\top`,
    :math:`A \to AQ^\top` for orthogonal Q whenever the prior is N(0, I) (so at γ = 1, λ = 0 with
    isotropic Σ_Z, the probabilistic-PCA optimum is a continuum), but I_m and SAP are not. This
    returns the representative whose posterior-mean covariance :math:`B\Sigma_YB^\top` is diagonal
    with decreasing entries (unique up to signs and, for equal eigenvalues, rotations within an
    eigenspace — signs change no Gaussian MI). ``params`` has ``B`` and ``sigma_w`` (and optionally
    ``A``, ``sigma_z``) as from :meth:`LinearGaussianVAE.to_lingauss` or a ``BAResult``'s fields;
    ``sigma_y`` is an array or a ``LinearGaussianModel``.
    """
    sigma_y = np.asarray(getattr(sigma_y, "sigma_y", sigma_y), dtype=np.float64)
    B = np.asarray(params["B"], dtype=np.float64)
    _, vecs = np.linalg.eigh(B @ sigma_y @ B.T)
    Q = vecs[:, ::-1].T
    out = dict(params)
    out["B"] = Q @ B
    Sw = Q @ np.asarray(params["sigma_w"], dtype=np.float64) @ Q.T
    out["sigma_w"] = 0.5 * (Sw + Sw.T)
    if params.get("A") is not None:
        out["A"] = np.asarray(params["A"], dtype=np.float64) @ Q.T
    return out
