r"""Symbolic (sympy) derivations that check the closed-form core independently.

Small symbolic dimensions only (n, m ≤ 2 keeps sympy fast). Nothing here imports another
``lingauss`` module: these are an independent route to the same formulas.

1. :func:`closed_form_loss` writes the γλ-VAE loss exactly as the docs state it,

   .. math::

       E &= (I-AB)\Sigma_Y(I-AB)^\top + A\Sigma_WA^\top \\
       \mathrm{kl} &= \tfrac12[\operatorname{tr}(B\Sigma_YB^\top+\Sigma_W) - \log|\Sigma_W| - m] \\
       \mathrm{nll} &= \tfrac12[n\log 2\pi + \log|\Sigma_Z| + \operatorname{tr}(\Sigma_Z^{-1}E)] \\
       \mathrm{mse} &= \operatorname{tr}E, \qquad \mathrm{total} = \mathrm{kl} + \gamma\,\mathrm{nll}
                      + \lambda\,\mathrm{mse},

   and :func:`loss_by_expectation` re-derives it from the per-sample quantities by expanding
   polynomials in Gaussian variables and taking moments (Isserlis), never using
   :math:`\mathbb{E}[q^\top Mq] = \operatorname{tr}(M\Sigma)`. :func:`kl_by_integration` integrates
   the scalar densities outright.
2. :func:`encoder_stationarity` / :func:`decoder_stationarity` differentiate the closed form with
   respect to every free parameter, solve the linear equation for B (resp. A), and show that the
   Blahut–Arimoto updates (with :math:`P = \gamma\Sigma_Z^{-1} + 2\lambda I_n`)

   .. math::

       \Sigma_W = (I_m + A^\top PA)^{-1},\quad B = \Sigma_WA^\top P;\qquad
       A = \Sigma_{YX}\Sigma_X^{-1},\quad \Sigma_Z = E\ (\text{or } \operatorname{diag}E,\
       \tfrac{\operatorname{tr}E}{n}I)

   zero the gradient exactly. :func:`seed_decoder_identity` checks that the decoder printed by
   Vu et al. (2024), :math:`(\Sigma_Y^{-1} + B^\top\Sigma_W^{-1}B)^{-1}B^\top\Sigma_W^{-1}`, is
   the same matrix.

All losses are per sample, in nats.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import sympy as sp

from lingauss.params import InvalidParameter
from ._sympy_matrix import symbolic_matrix
from .noise_families import LEARNED_FAMILIES, decoder_noise_family

__all__ = [
    "SymbolicLoss",
    "StationarityResult",
    "symbolic_matrix",
    "closed_form_loss",
    "loss_by_expectation",
    "kl_by_integration",
    "encoder_stationarity",
    "decoder_stationarity",
    "seed_decoder_identity",
]

_HALF = sp.Rational(1, 2)


@dataclass(frozen=True)
class SymbolicLoss:
    """γλ-VAE loss terms as sympy expressions (nats per sample).

    ``total = kl + gamma * nll + lam * mse``.
    """

    kl: sp.Expr
    nll: sp.Expr
    mse: sp.Expr
    total: sp.Expr


@dataclass(frozen=True)
class StationarityResult:
    """Outcome of a symbolic stationarity check of one Blahut–Arimoto half-step.

    Attributes
    ----------
    symbols : tuple of sympy.Symbol
        The free symbols (matrix entries first, then covariance entries), in gradient order.
    gradient : sympy.Matrix
        Column matrix of ∂ total / ∂ symbol, symbolic in ``symbols``.
    solved : sympy.Matrix
        The matrix (B or A) that ``sympy.solve`` finds from ∂total/∂(B or A) = 0; entries may
        keep free symbols if the linear system is singular (e.g. the decoder at γ = λ = 0).
    update : sympy.Matrix
        The Blahut–Arimoto formula's value of that matrix.
    covariance_update : sympy.Matrix
        The formula's Σ_W (encoder) or Σ_Z (decoder, in the requested family).
    substitution : dict
        ``{symbol: value}`` placing every free symbol at the update.
    gradient_at_update : sympy.Matrix
        ``gradient`` at ``substitution``, simplified (zeros when stationary).
    """

    symbols: tuple[sp.Symbol, ...]
    gradient: sp.Matrix
    solved: sp.Matrix
    update: sp.Matrix
    covariance_update: sp.Matrix
    substitution: dict
    gradient_at_update: sp.Matrix

    @property
    def is_stationary(self) -> bool:
        """True when every gradient entry at the update is exactly zero."""
        return all(sp.simplify(g) == 0 for g in self.gradient_at_update)

    def gradient_at(self, substitution: dict) -> sp.Matrix:
        """The gradient at another point ``{symbol: value}`` (e.g. a perturbed update), simplified."""
        return self.gradient.subs(substitution).applyfunc(sp.simplify)


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------


def _as_matrix(x: Any, name: str, shape: tuple[int | None, int | None]) -> sp.Matrix:
    if isinstance(x, sp.MatrixBase):
        M = sp.Matrix(x)
    else:
        try:
            M = sp.Matrix(x)
        except Exception as exc:  # noqa: BLE001 - any conversion failure is a bad argument
            raise InvalidParameter(f"{name} must be a sympy Matrix (or convertible), got {x!r}") from exc
    if M.rows == 0 or M.cols == 0:
        raise InvalidParameter(f"{name} must be non-empty, got shape {M.shape}")
    for axis, want in enumerate(shape):
        if want is not None and M.shape[axis] != want:
            raise InvalidParameter(
                f"{name} has shape {M.shape}, expected "
                f"{tuple('*' if s is None else s for s in shape)}"
            )
    for entry in M:
        if entry.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise InvalidParameter(f"{name} has a non-finite entry: {entry}")
        if entry.is_real is False:
            raise InvalidParameter(f"{name} has a non-real entry: {entry}")
    return M


def _as_cov(x: Any, name: str, size: int | None = None) -> sp.Matrix:
    M = _as_matrix(x, name, (size, size))
    if M.rows != M.cols:
        raise InvalidParameter(f"{name} must be square, got shape {M.shape}")
    if not all(sp.expand(M[i, j] - M[j, i]) == 0 for i in range(M.rows) for j in range(i)):
        raise InvalidParameter(f"{name} must be symmetric")
    if not M.free_symbols and M.is_positive_definite is False:
        raise InvalidParameter(f"{name} must be positive definite")
    return M


def _as_scalar(x: Any, name: str) -> sp.Expr:
    if isinstance(x, sp.MatrixBase):
        raise InvalidParameter(f"{name} must be a scalar, got a matrix")
    try:
        s = sp.sympify(x)
    except (sp.SympifyError, TypeError) as exc:
        raise InvalidParameter(f"{name} must be a scalar, got {x!r}") from exc
    if not isinstance(s, sp.Expr) or s.has(sp.zoo, sp.oo, -sp.oo, sp.nan) or s.is_real is False:
        raise InvalidParameter(f"{name} must be a finite real scalar, got {x!r}")
    return s


def _require_exact(M: sp.Matrix | sp.Expr, name: str) -> None:
    items = list(M) if isinstance(M, sp.MatrixBase) else [M]
    for e in items:
        if e.free_symbols or e.atoms(sp.Float):
            raise InvalidParameter(f"{name} must be exact numbers (e.g. sympy Rationals), got entry {e}")


def _loss_args(sigma_y, A, B, sigma_w, sigma_z, gamma, lam):
    sigma_y = _as_cov(sigma_y, "sigma_y")
    n = sigma_y.rows
    A = _as_matrix(A, "A", (n, None))
    m = A.cols
    B = _as_matrix(B, "B", (m, n))
    sigma_w = _as_cov(sigma_w, "sigma_w", m)
    sigma_z = _as_cov(sigma_z, "sigma_z", n)
    return sigma_y, A, B, sigma_w, sigma_z, _as_scalar(gamma, "gamma"), _as_scalar(lam, "lam")


# --------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------


def _residual_cov(sigma_y, A, B, sigma_w) -> sp.Matrix:
    R = sp.eye(sigma_y.rows) - A * B
    return R * sigma_y * R.T + A * sigma_w * A.T


def closed_form_loss(sigma_y, A, B, sigma_w, sigma_z, gamma, lam) -> SymbolicLoss:
    r"""The γλ-VAE loss in closed form, exactly as the docs write it (sympy expressions).

    .. math::

        E &= (I-AB)\Sigma_Y(I-AB)^\top + A\Sigma_WA^\top \\
        \mathrm{kl} &= \tfrac12[\operatorname{tr}(B\Sigma_YB^\top+\Sigma_W) - \log|\Sigma_W| - m] \\
        \mathrm{nll} &= \tfrac12[n\log 2\pi + \log|\Sigma_Z| + \operatorname{tr}(\Sigma_Z^{-1}E)] \\
        \mathrm{mse} &= \operatorname{tr}E, \qquad
        \mathrm{total} = \mathrm{kl} + \gamma\,\mathrm{nll} + \lambda\,\mathrm{mse}

    Arguments are sympy Matrices (symbolic or exact): Σ_Y (n×n), A (n×m), B (m×n), Σ_W (m×m),
    Σ_Z (n×n); γ, λ scalars. Raises ``ValueError`` naming a mis-shaped or asymmetric argument.
    """
    sigma_y, A, B, sigma_w, sigma_z, gamma, lam = _loss_args(
        sigma_y, A, B, sigma_w, sigma_z, gamma, lam
    )
    n, m = A.shape
    E = _residual_cov(sigma_y, A, B, sigma_w)
    kl = _HALF * ((B * sigma_y * B.T + sigma_w).trace() - sp.log(sigma_w.det()) - m)
    nll = _HALF * (n * sp.log(2 * sp.pi) + sp.log(sigma_z.det()) + (sigma_z.inv() * E).trace())
    mse = E.trace()
    return SymbolicLoss(kl=kl, nll=nll, mse=mse, total=kl + gamma * nll + lam * mse)


# --------------------------------------------------------------------------------------------
# the loss by expectation (Isserlis)
# --------------------------------------------------------------------------------------------


def _gaussian_kl(mu1: sp.Matrix, S1: sp.Matrix, mu2: sp.Matrix, S2: sp.Matrix) -> sp.Expr:
    r"""KL(N(μ₁,S₁) ‖ N(μ₂,S₂)) = ½[tr(S₂⁻¹S₁) + (μ₂−μ₁)ᵀS₂⁻¹(μ₂−μ₁) − k + log|S₂| − log|S₁|]."""
    k = S1.rows
    S2inv = S2.inv()
    d = mu2 - mu1
    return _HALF * (
        (S2inv * S1).trace() + (d.T * S2inv * d)[0, 0] - k + sp.log(S2.det()) - sp.log(S1.det())
    )


def _isserlis(indices: tuple[int, ...], cov: sp.Matrix) -> sp.Expr:
    """E[g_{i1} ⋯ g_{ik}] for zero-mean jointly Gaussian g with covariance ``cov``.

    Sum over perfect pairings of the product of covariances; 0 for odd k; 1 for k = 0.
    """

    @lru_cache(maxsize=None)
    def moment(idx: tuple[int, ...]) -> sp.Expr:
        if not idx:
            return sp.S.One
        if len(idx) % 2:
            return sp.S.Zero
        first, rest = idx[0], idx[1:]
        total = sp.S.Zero
        for k, other in enumerate(rest):
            total += cov[first, other] * moment(rest[:k] + rest[k + 1:])
        return total

    return moment(tuple(sorted(indices)))


def _expectation(expr: sp.Expr, gens: Sequence[sp.Symbol], cov: sp.Matrix) -> sp.Expr:
    """E[expr] where ``expr`` is a polynomial in zero-mean Gaussian ``gens`` with covariance ``cov``.

    Expands the polynomial and replaces each monomial by its Gaussian moment (Isserlis).
    """
    poly = sp.Poly(sp.expand(expr), *gens)
    out = sp.S.Zero
    for monom, coeff in poly.terms():
        indices = tuple(i for i, power in enumerate(monom) for _ in range(power))
        out += coeff * _isserlis(indices, cov)
    return out


def loss_by_expectation(sigma_y, A, B, sigma_w, sigma_z, gamma, lam) -> SymbolicLoss:
    r"""The γλ-VAE loss re-derived as an expectation over the model's Gaussian variables.

    With y ~ N(0, Σ_Y) and w ~ N(0, Σ_W) independent and x = By + w, the per-sample quantities are

    * KL(N(By, Σ_W) ‖ N(0, I_m)) from the Gaussian KL formula
      ½[tr(S₂⁻¹S₁) + (μ₂−μ₁)ᵀS₂⁻¹(μ₂−μ₁) − k + log|S₂| − log|S₁|] (a polynomial in y);
    * −log N(y; Ax, Σ_Z) = ½[n log 2π + log|Σ_Z| + (y−Ax)ᵀΣ_Z⁻¹(y−Ax)];
    * ‖y − Ax‖².

    Each is expanded as a polynomial in the entries of (y, w) and every monomial is replaced by
    its Gaussian moment (Isserlis: degree 2 → the covariance entry, odd degree → 0). No trace
    identity is used, so agreement with :func:`closed_form_loss` is an independent check.
    Same arguments and ``ValueError`` behaviour as :func:`closed_form_loss`.
    """
    sigma_y, A, B, sigma_w, sigma_z, gamma, lam = _loss_args(
        sigma_y, A, B, sigma_w, sigma_z, gamma, lam
    )
    n, m = A.shape
    y = sp.Matrix([sp.Dummy(f"y{i + 1}", real=True) for i in range(n)])
    w = sp.Matrix([sp.Dummy(f"w{i + 1}", real=True) for i in range(m)])
    gens = list(y) + list(w)
    joint = sp.diag(sigma_y, sigma_w)  # y and w independent

    x = B * y + w
    r = y - A * x
    kl_y = _gaussian_kl(B * y, sigma_w, sp.zeros(m, 1), sp.eye(m))
    neg_log_p = _HALF * (
        n * sp.log(2 * sp.pi) + sp.log(sigma_z.det()) + (r.T * sigma_z.inv() * r)[0, 0]
    )
    sq_err = (r.T * r)[0, 0]

    # log terms are constants of the polynomial; keep them symbolic through Poly.
    kl = _expectation(kl_y, gens, joint)
    nll = _expectation(neg_log_p, gens, joint)
    mse = _expectation(sq_err, gens, joint)
    return SymbolicLoss(kl=kl, nll=nll, mse=mse, total=kl + gamma * nll + lam * mse)


def kl_by_integration() -> sp.Expr:
    r"""Scalar E_Y KL(q(x|y) ‖ N(0,1)) by integrating the densities (n = m = 1).

    Symbols ``b`` (real, the encoder), ``s_w`` > 0 (encoder noise variance Σ_W), ``s_y`` > 0
    (data variance Σ_Y); q(x|y) = N(x; by, s_w), p(y) = N(y; 0, s_y):

    .. math:: \int p(y) \int q(x|y)\,\log\frac{q(x|y)}{N(x;0,1)}\,dx\,dy
              = \tfrac12[b^2 s_y + s_w - \log s_w - 1].

    Returns the integrated expression (simplified), in those symbols.
    """
    b = sp.Symbol("b", real=True)
    s_w = sp.Symbol("s_w", positive=True)
    s_y = sp.Symbol("s_y", positive=True)
    x, y = sp.symbols("x y", real=True)

    def normal_pdf(v: sp.Expr, mean: sp.Expr, var: sp.Expr) -> sp.Expr:
        return sp.exp(-((v - mean) ** 2) / (2 * var)) / sp.sqrt(2 * sp.pi * var)

    q = normal_pdf(x, b * y, s_w)
    prior = normal_pdf(x, 0, 1)
    log_ratio = sp.expand(sp.expand_log(sp.log(q) - sp.log(prior), force=True))
    kl_y = sp.simplify(sp.integrate(q * log_ratio, (x, -sp.oo, sp.oo)))
    expected = sp.integrate(normal_pdf(y, 0, s_y) * sp.expand(kl_y), (y, -sp.oo, sp.oo))
    return sp.simplify(expected)


# --------------------------------------------------------------------------------------------
# Blahut–Arimoto stationarity
# --------------------------------------------------------------------------------------------


def _gradient(total: sp.Expr, symbols: Sequence[sp.Symbol]) -> sp.Matrix:
    return sp.Matrix([sp.diff(total, s) for s in symbols])


def _solve_linear(equations: Sequence[sp.Expr], unknowns: sp.Matrix) -> sp.Matrix:
    syms = list(unknowns)
    sols = sp.solve(list(equations), syms, dict=True)
    if not sols:
        raise InvalidParameter("the stationarity equation has no solution for the given inputs")
    sol = sols[0]
    return unknowns.subs(sol).applyfunc(sp.simplify)


def _cov_symbols(M: sp.Matrix) -> list[sp.Symbol]:
    """The distinct symbols of a symbolic covariance, upper triangle row-major, in order."""
    out: list[sp.Symbol] = []
    for i in range(M.rows):
        for j in range(i, M.cols):
            e = M[i, j]
            if isinstance(e, sp.Symbol) and e not in out:
                out.append(e)
    return out


def encoder_stationarity(sigma_y, A, sigma_z, gamma, lam) -> StationarityResult:
    r"""Check the BA encoder half-step: it zeroes ∂total/∂B and ∂total/∂Σ_W exactly.

    With (A, Σ_Z) fixed, B (m×n) and symmetric Σ_W (m×m) are made symbols; the gradient of
    :func:`closed_form_loss` ``total`` is taken w.r.t. every free symbol. The linear equation
    ∂total/∂B = 0 is solved for B with sympy (``solved``), and the formula

    .. math:: P = \gamma\Sigma_Z^{-1} + 2\lambda I_n,\quad \Sigma_W = (I_m + A^\top PA)^{-1},
              \quad B = \Sigma_WA^\top P

    is substituted into the gradient (``gradient_at_update``, zeros when stationary).

    Inputs must be exact numbers (sympy Rationals): Σ_Y (n×n, SPD), A (n×m), Σ_Z (n×n, SPD), γ, λ.
    Raises ``ValueError`` for bad shapes, inexact entries, or an update Σ_W that is not positive
    definite (λ too negative).
    """
    sigma_y = _as_cov(sigma_y, "sigma_y")
    n = sigma_y.rows
    A = _as_matrix(A, "A", (n, None))
    m = A.cols
    sigma_z = _as_cov(sigma_z, "sigma_z", n)
    gamma, lam = _as_scalar(gamma, "gamma"), _as_scalar(lam, "lam")
    for M, name in ((sigma_y, "sigma_y"), (A, "A"), (sigma_z, "sigma_z"), (gamma, "gamma"),
                    (lam, "lam")):
        _require_exact(M, name)

    B_sym = symbolic_matrix("B", m, n, positive=False)
    W_sym = symbolic_matrix("W", m, m, symmetric=True)
    symbols = tuple(B_sym) + tuple(_cov_symbols(W_sym))
    total = closed_form_loss(sigma_y, A, B_sym, W_sym, sigma_z, gamma, lam).total
    grad = _gradient(total, symbols)

    solved = _solve_linear(grad[: m * n], B_sym)

    P = gamma * sigma_z.inv() + 2 * lam * sp.eye(n)
    prec = sp.eye(m) + A.T * P * A
    if prec.det() == 0 or not prec.is_positive_definite:
        raise InvalidParameter("the encoder update needs I_m + AᵀPA positive definite; lam is too negative")
    sigma_w_upd = prec.inv()
    B_upd = sigma_w_upd * A.T * P

    subs = {s: v for s, v in zip(B_sym, B_upd)}
    subs.update({W_sym[i, j]: sigma_w_upd[i, j] for i in range(m) for j in range(i, m)})
    at = grad.subs(subs).applyfunc(sp.simplify)
    return StationarityResult(symbols, grad, solved, B_upd, sigma_w_upd, subs, at)


def decoder_stationarity(sigma_y, B, sigma_w, gamma, lam, family: str = "full") -> StationarityResult:
    r"""Check the BA decoder half-step: it zeroes ∂total/∂A and ∂total/∂Σ_Z exactly.

    With (B, Σ_W) fixed, A (n×m) and Σ_Z in the chosen family are made symbols — ``"full"``
    (symmetric), ``"diagonal"``, or ``"isotropic"`` (z·I_n) — and the gradient of
    :func:`closed_form_loss` ``total`` w.r.t. every free symbol is taken. ∂total/∂A = 0 is solved
    for A with Σ_Z still symbolic (``solved``), then the formulas

    .. math:: A = \Sigma_{YX}\Sigma_X^{-1},\ \Sigma_{YX} = \Sigma_YB^\top,\
              \Sigma_X = B\Sigma_YB^\top + \Sigma_W;\quad
              \Sigma_Z = E,\ \operatorname{diag}(E)\ \text{or}\ \tfrac{\operatorname{tr}E}{n}I_n

    (E the residual covariance at that A) are substituted (``gradient_at_update``).

    Inputs must be exact numbers: Σ_Y (n×n, SPD), B (m×n), Σ_W (m×m, SPD), γ, λ.
    Raises ``ValueError`` for bad shapes, inexact entries, an unknown family, or a Σ_Z update that
    is not positive definite.
    """
    if family not in LEARNED_FAMILIES:
        raise InvalidParameter(f"family must be one of {LEARNED_FAMILIES}, got {family!r}")
    decl = decoder_noise_family(family)
    sigma_y = _as_cov(sigma_y, "sigma_y")
    n = sigma_y.rows
    B = _as_matrix(B, "B", (None, n))
    m = B.rows
    sigma_w = _as_cov(sigma_w, "sigma_w", m)
    gamma, lam = _as_scalar(gamma, "gamma"), _as_scalar(lam, "lam")
    for M, name in ((sigma_y, "sigma_y"), (B, "B"), (sigma_w, "sigma_w"), (gamma, "gamma"),
                    (lam, "lam")):
        _require_exact(M, name)

    A_sym = symbolic_matrix("A", n, m, positive=False)
    Z_sym = decl.symbolic(n)
    z_syms = sorted(Z_sym.free_symbols, key=str) if decl.n_parameters(n) == 1 else _cov_symbols(Z_sym)
    symbols = tuple(A_sym) + tuple(z_syms)
    total = closed_form_loss(sigma_y, A_sym, B, sigma_w, Z_sym, gamma, lam).total
    grad = _gradient(total, symbols)

    solved = _solve_linear(grad[: n * m], A_sym)

    sigma_yx = sigma_y * B.T
    sigma_x = B * sigma_y * B.T + sigma_w
    A_upd = sigma_yx * sigma_x.inv()
    E = _residual_cov(sigma_y, A_upd, B, sigma_w)
    Z_upd = decl.symbolic_update(E)
    if not Z_upd.is_positive_definite:
        raise InvalidParameter("the decoder's Σ_Z update (residual covariance) is not positive definite")

    subs = {s: v for s, v in zip(A_sym, A_upd)}
    if decl.n_parameters(n) == 1:
        subs[z_syms[0]] = Z_upd[0, 0]
    else:
        subs.update({Z_sym[i, j]: Z_upd[i, j] for i in range(n) for j in range(i, n)
                     if isinstance(Z_sym[i, j], sp.Symbol)})
    at = grad.subs(subs).applyfunc(sp.simplify)
    return StationarityResult(symbols, grad, solved, A_upd, Z_upd, subs, at)


def seed_decoder_identity(sigma_y, B, sigma_w) -> sp.Matrix:
    r"""Σ_YXΣ_X⁻¹ − (Σ_Y⁻¹ + BᵀΣ_W⁻¹B)⁻¹BᵀΣ_W⁻¹, with rational functions cancelled.

    Σ_YX = Σ_YBᵀ, Σ_X = BΣ_YBᵀ + Σ_W. The difference is the zero matrix by the push-through
    (Woodbury) identity, so the printed decoder update of Vu et al. (2024) equals the docs'
    A = Σ_YXΣ_X⁻¹. Arguments: Σ_Y (n×n), B (m×n), Σ_W (m×m), symbolic or exact.
    Raises ``ValueError`` for bad shapes or asymmetric covariances.
    """
    sigma_y = _as_cov(sigma_y, "sigma_y")
    n = sigma_y.rows
    B = _as_matrix(B, "B", (None, n))
    sigma_w = _as_cov(sigma_w, "sigma_w", B.rows)
    design = sigma_y * B.T * (B * sigma_y * B.T + sigma_w).inv()
    w_inv = sigma_w.inv()
    seed = (sigma_y.inv() + B.T * w_inv * B).inv() * B.T * w_inv
    return (design - seed).applyfunc(lambda e: sp.cancel(sp.together(e)))
