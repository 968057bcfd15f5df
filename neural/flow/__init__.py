"""Flow Factorized Representation Learning (Song, Keller, Sebe & Welling, 2023; "Song et al. (2023)").

K learned scalar potentials u^k(z, t) move latents by their gradient fields,
z_t = z_{t−1} + ∇_z u^k(z_{t−1}, t); the posterior density follows by the continuity equation,
the prior diffuses, and a Hamilton–Jacobi penalty makes each flow an optimal-transport one.
One concept per module:

* :mod:`.potential` — ``ScalarPotential`` (MLP on [z, time embedding]), ``PotentialSet``,
  ``potential_derivatives`` (u, ∇u, ∂_t u, ∇²u by autograd), ``hessian_func`` (torch.func);
* :mod:`.density` — log|det(I + ∇²u)|: exact (d ≤ ``EXACT_MAX_DIM`` = 16 under ``"auto"``),
  Hutchinson series estimator, or the public code's Hessian row sums; ``density_step``;
* :mod:`.hj` — HJ residual and loss, ``NegativeForce`` (f ≤ 0);
* :mod:`.prior` — ``DiffusionPrior`` (N(0, I) diffusing, closed-form Gaussian marginals);
* :mod:`.gumbel` — straight-through Gumbel-Softmax and the τ schedule (scaled to a run's length);
* :mod:`.classifier` — ``SequenceClassifier`` q(k | x̄) (weak supervision);
* :mod:`.model` — ``FlowFactorizedVAE`` (``loss(batch)`` for :class:`neural.train.Trainer`);
* :mod:`.baseline` — ``ShiftVAE``, the plain-VAE baseline with latent shifts;
* :mod:`.data` — ``aligned_mnist_sequences`` (one digit under every transformation);
* :mod:`.metrics` — equivariance error, log-likelihood (Bernoulli or Normal σ = 1 pixels), VP score,
  index accuracy under the best relabelling, the lingauss bridge.
"""

from .baseline import ShiftVAE
from .classifier import SequenceClassifier
from .data import aligned_mnist_sequences, sequence_labels
from .density import (EXACT_MAX_DIM, LOGDET_METHODS, density_step, flow_logdet, logdet_exact,
                      logdet_hutchinson, logdet_rowsum, resolve_logdet_method)
from .gumbel import (TAU_FLOOR_FRACTION, TAU_INITIAL, TAU_MIN, TAU_RATE, gumbel_softmax,
                     gumbel_temperature, temperature_rate)
from .hj import NegativeForce, hj_initial_condition, hj_loss, hj_residual, hj_residual_from
from .metrics import (PIXEL_MODELS, EquivarianceResult, LikelihoodResult, PairClassifier, VPResult,
                      assignment_accuracy, bridge_scores, confusion_matrix, equivariance_error,
                      label_index_map, log_likelihood, pixel_log_likelihood, reconstruction_floor,
                      traversal_pairs, vp_score)
from .model import INDEX_TARGETS, SUPERVISION, FlowFactorizedVAE, FlowStep, unpack_sequence_batch
from .potential import (ScalarPotential, PotentialSet, SinusoidalTimeEmbedding, hessian_func,
                        potential_derivatives)
from .prior import DiffusionPrior

__all__ = [
    "ShiftVAE", "SequenceClassifier", "aligned_mnist_sequences", "sequence_labels",
    "EXACT_MAX_DIM", "LOGDET_METHODS", "density_step", "flow_logdet", "logdet_exact",
    "logdet_hutchinson", "logdet_rowsum", "resolve_logdet_method",
    "TAU_FLOOR_FRACTION", "TAU_INITIAL", "TAU_MIN", "TAU_RATE", "gumbel_softmax", "gumbel_temperature",
    "temperature_rate",
    "NegativeForce", "hj_initial_condition", "hj_loss", "hj_residual", "hj_residual_from",
    "PIXEL_MODELS", "EquivarianceResult", "LikelihoodResult", "PairClassifier", "VPResult",
    "assignment_accuracy", "bridge_scores", "confusion_matrix", "equivariance_error", "label_index_map",
    "log_likelihood", "pixel_log_likelihood", "reconstruction_floor", "traversal_pairs", "vp_score",
    "INDEX_TARGETS", "SUPERVISION", "FlowFactorizedVAE", "FlowStep", "unpack_sequence_batch",
    "ScalarPotential", "PotentialSet", "SinusoidalTimeEmbedding", "hessian_func",
    "potential_derivatives", "DiffusionPrior",
]
