r"""Decoder-noise families: each declared once, read by the solver, the diagnosis and the tools.

The decoder is :math:`\hat Y = AX + Z`, :math:`Z \sim N(0, \Sigma_Z)`. With the encoder fixed, the
decoder half-step of Blahut–Arimoto sets :math:`\Sigma_Z` to the minimiser of
:math:`\log|\Sigma_Z| + \operatorname{tr}(\Sigma_Z^{-1}E)` inside the family, E the residual
covariance (:func:`lingauss.residual_covariance`):

===============  ==========================================  ==========  ==========================
family           :math:`\Sigma_Z` after the half-step        parameters  learned?
===============  ==========================================  ==========  ==========================
``"full"``       :math:`E`                                   n(n+1)/2    yes (the source's update)
``"diagonal"``   :math:`\operatorname{diag}(E)`              n           yes
``"isotropic"``  :math:`(\operatorname{tr}E/n)\,I_n`         1           yes
``"true"``       :math:`\sigma^2 I_n`, the data's own noise  0           no: needs the model's σ²
``"fixed"``      a given SPD matrix                          0           no: pass the matrix itself
===============  ==========================================  ==========  ==========================

Each projection is the exact minimiser: for the full family the stationarity condition
:math:`\Sigma_Z^{-1} - \Sigma_Z^{-1}E\Sigma_Z^{-1} = 0` gives :math:`\Sigma_Z = E`; restricted to
diagonal matrices the objective separates into :math:`\log z_i + E_{ii}/z_i`, minimised at
:math:`z_i = E_{ii}`; for :math:`zI` it is :math:`n\log z + \operatorname{tr}E/z`, minimised at
:math:`z = \operatorname{tr}E/n`.

Each family also declares the facts :func:`lingauss.well_posedness` needs (the arguments are in
that module): what happens for γ > 1 (``gamma_above_one``), whether γ = 1, λ > 0 is a boundary
regime, whether γ < 1, λ = 0 collapses, and which classical model γ = 1, λ = 0 is.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np

from lingauss.params import InvalidParameter

__all__ = ["KERNEL_FULL", "KERNEL_DIAGONAL", "KERNEL_ISOTROPIC", "KERNEL_FIXED", "DecoderNoiseFamily", "decoder_noise_families", "decoder_noise_family", "LEARNED_FAMILIES",
           "FAMILY_NAMES", "NAMED_FAMILIES", "resolve_decoder_noise"]


#: Codes of the compiled Σ_Z updates (:mod:`lingauss._noise_kernels`): what a family's ``kernel`` says
#: the fused Blahut–Arimoto kernel computes in the decoder half-step — Σ_Z = E, diag(E),
#: tr(E)/n·I, or the fixed matrix.
KERNEL_FULL, KERNEL_DIAGONAL, KERNEL_ISOTROPIC, KERNEL_FIXED = range(4)


def _full(E, fixed=None):
    return 0.5 * (E + np.swapaxes(E, -1, -2))


def _diagonal(E, fixed=None):
    return np.diagonal(E, axis1=-2, axis2=-1)[..., :, None] * np.eye(E.shape[-1])


def _isotropic(E, fixed=None):
    n = E.shape[-1]
    return (np.trace(E, axis1=-2, axis2=-1) / n)[..., None, None] * np.eye(n)


def _given(E, fixed=None):
    if fixed is None:
        raise InvalidParameter("a fixed decoder-noise family needs its matrix")
    return np.broadcast_to(fixed, E.shape).copy()


def _symbolic_full(n):
    from ._sympy_matrix import symbolic_matrix
    return symbolic_matrix("Z", n, n, symmetric=True)


def _symbolic_diagonal(n):
    from ._sympy_matrix import symbolic_matrix
    return symbolic_matrix("Z", n, n, diagonal=True)


def _symbolic_isotropic(n):
    import sympy as sp
    return sp.Symbol("z", positive=True) * sp.eye(n)


def _sym_update_full(E):
    return E


def _sym_update_diagonal(E):
    import sympy as sp
    return sp.diag(*[E[i, i] for i in range(E.rows)])


def _sym_update_isotropic(E):
    import sympy as sp
    return E.trace() / E.rows * sp.eye(E.rows)


@dataclass(frozen=True)
class DecoderNoiseFamily:
    """One decoder-noise family.

    Attributes
    ----------
    name : str
        What ``decoder_noise=`` takes.
    learned : bool
        Whether Blahut–Arimoto updates Σ_Z (else it stays fixed).
    description : str
        One line for reports and ``--help``.
    project : callable
        ``project(E, fixed=None)``: the family's Σ_Z after the decoder half-step, batched over
        leading axes of E.
    n_parameters : callable
        ``n_parameters(n)``: free parameters of Σ_Z.
    symbolic : callable or None
        ``symbolic(n)``: Σ_Z as a sympy matrix of free symbols (learned families).
    symbolic_update : callable or None
        ``symbolic_update(E)``: ``project`` on a sympy matrix (learned families).
    gamma_above_one : {"unbounded", "bounded_if_fewer_latents", "fixed"}
        γ > 1: unbounded below (shrinking a copying latent's noise), bounded iff m < n (or γn ≤ m),
        or decided by P = γΣ_Z⁻¹ + 2λI alone (fixed Σ_Z).
    boundary_at_one : bool
        γ = 1, λ > 0 is a boundary regime (Σ_W drifts to 0).
    collapse_below_one : bool
        γ < 1, λ = 0 ends in posterior collapse.
    classical_model : str or None
        What γ = 1, λ = 0 is (e.g. probabilistic PCA); None when it is a continuum of optima.
    classical_caveat : str
        A known degeneracy of that classical model (printed with the verdict).
    kernel : int
        The compiled counterpart of ``project`` in the fused Blahut–Arimoto kernel: one of
        ``KERNEL_FULL``, ``KERNEL_DIAGONAL``, ``KERNEL_ISOTROPIC``, ``KERNEL_FIXED``.
    """

    name: str
    learned: bool
    description: str
    project: Callable
    n_parameters: Callable[[int], int]
    symbolic: Callable | None = None
    symbolic_update: Callable | None = None
    gamma_above_one: str = "fixed"
    boundary_at_one: bool = False
    collapse_below_one: bool = False
    classical_model: str | None = None
    classical_caveat: str = ""
    kernel: int = KERNEL_FIXED

    def fixed_matrix(self, model=None, n: int | None = None):
        """Σ_Z of a non-learned family: σ²I_n from ``model`` for ``"true"``; ``None`` if learned."""
        if self.learned:
            return None
        if self.name == "true":
            if model is None or not hasattr(model, "noise_var"):
                raise InvalidParameter("decoder_noise='true' fixes Sigma_Z at the data's noise sigma^2 I: "
                                 "pass a LinearGaussianModel (not a bare Sigma_Y)")
            return float(model.noise_var) * np.eye(model.n)
        raise InvalidParameter("decoder_noise='fixed' is given as the SPD matrix itself")


_FAMILIES = (
    DecoderNoiseFamily("full", True, "Sigma_Z = E, the residual covariance (the source's update)",
                       _full, lambda n: n * (n + 1) // 2, _symbolic_full, _sym_update_full,
                       gamma_above_one="unbounded", boundary_at_one=True, collapse_below_one=True,
                       kernel=KERNEL_FULL),
    DecoderNoiseFamily("diagonal", True, "Sigma_Z = diag(E)", _diagonal, lambda n: n,
                       _symbolic_diagonal, _sym_update_diagonal, gamma_above_one="unbounded",
                       boundary_at_one=True, classical_model="factor analysis",
                       classical_caveat="Heywood cases, Psi_ii -> 0, are possible",
                       kernel=KERNEL_DIAGONAL),
    DecoderNoiseFamily("isotropic", True, "Sigma_Z = tr(E)/n I", _isotropic, lambda n: 1,
                       _symbolic_isotropic, _sym_update_isotropic,
                       gamma_above_one="bounded_if_fewer_latents",
                       classical_model="probabilistic PCA", kernel=KERNEL_ISOTROPIC),
    DecoderNoiseFamily("true", False, "Sigma_Z fixed at the data's noise sigma^2 I, not learned",
                       _given, lambda n: 0, kernel=KERNEL_FIXED),
    DecoderNoiseFamily("fixed", False, "Sigma_Z fixed at a given SPD matrix (pass the matrix)",
                       _given, lambda n: 0, kernel=KERNEL_FIXED),
)
_BY_NAME = MappingProxyType({f.name: f for f in _FAMILIES})

#: Every family name, in declaration order.
FAMILY_NAMES = tuple(_BY_NAME)
#: The families Blahut–Arimoto learns.
LEARNED_FAMILIES = tuple(f.name for f in _FAMILIES if f.learned)
#: The families a string selects (``"fixed"`` is given as its matrix): command-line choices.
NAMED_FAMILIES = tuple(name for name in FAMILY_NAMES if name != "fixed")


def decoder_noise_families() -> Mapping[str, DecoderNoiseFamily]:
    """Read-only mapping name → :class:`DecoderNoiseFamily`.

    Examples
    --------
    >>> from lingauss.noise_families import decoder_noise_families
    >>> [(f.name, f.n_parameters(4)) for f in decoder_noise_families().values()]
    [('full', 10), ('diagonal', 4), ('isotropic', 1), ('true', 0), ('fixed', 0)]
    """
    return _BY_NAME


def decoder_noise_family(name: str) -> DecoderNoiseFamily:
    """The family called ``name``; ``ValueError`` naming ``decoder_noise`` otherwise."""
    if not isinstance(name, str) or name not in _BY_NAME:
        raise InvalidParameter(f"decoder_noise must be one of {NAMED_FAMILIES} or a fixed SPD matrix, "
                         f"got {name!r}")
    return _BY_NAME[name]


def resolve_decoder_noise(decoder_noise, model=None):
    """What the solver takes for ``decoder_noise``: a learned family's name as is, the matrix of a
    fixed one (``"true"`` → σ²I of ``model``), or a given SPD matrix unchanged."""
    if not isinstance(decoder_noise, str):
        return decoder_noise
    family = decoder_noise_family(decoder_noise)
    return decoder_noise if family.learned else family.fixed_matrix(model)
