"""lingauss: the linear Gaussian β-VAE, solved exactly, and a metric engine for any model's latents.

Closed-form core (numpy, scipy, numba, sympy; never torch). The documentation in ``docs/`` (page
*Conventions*) states the conventions: joint covariances are ordered latents first, losses are in
nats per sample, seeds are ``numpy.random.Generator | int | None``.
"""

from .ba_solver import (STATUSES, BAGridResult, BAResult, blahut_arimoto,
                             blahut_arimoto_grid, initial_decoder)
from .information import gaussian_conditional_mi, gaussian_entropy, gaussian_mi
from .loss import LossTerms, gamma_lambda_loss, residual_covariance
from .metrics import (IMLandscape, IMResult, SAPResult, Success, im_score, im_score_from_samples,
                      im_scores_all, im_success, joint_covariance_from_samples, reconstruction_ok,
                      sap_score, sap_score_from_samples, sap_success)
from .metrics import (BetaVAEResult, DCIResult, FactorSampler, FactorVAEResult, GaussianMIGResult,
                      IndependentDiscreteSampler, LinearGaussianSampler, MIGResult,
                      ModularityResult, StandardSAPResult, beta_vae_score, dci_completeness,
                      dci_disentanglement, factor_vae_score, gaussian_mig,
                      gaussian_mig_from_samples, modularity_score, standard_dci, standard_mig,
                      standard_modularity, standard_sap)
from .metrics import evaluate_metrics
from .model import LinearGaussianModel
from .grouping import canonical_grouping, check_partition, grouping_text, parse_grouping
from .scenarios import (Scenario, dependent_factor_covariance, scenario_from_groups, talk_scenario,
                        talk_scenarios)
from .updates import DECODER_FAMILIES, decoder_update, encoder_update
from .posedness import WellPosedness, well_posedness

from . import _ba_warmup, warmup  # noqa: F401  (registers the Blahut-Arimoto warm-up)

__version__ = "0.1.0"

__all__ = [
    "IMLandscape", "IMResult", "SAPResult", "Success", "im_score", "im_score_from_samples",
    "im_scores_all", "im_success", "joint_covariance_from_samples", "reconstruction_ok",
    "sap_score", "sap_score_from_samples", "sap_success",
    "BetaVAEResult", "DCIResult", "FactorSampler", "FactorVAEResult", "GaussianMIGResult",
    "IndependentDiscreteSampler", "LinearGaussianSampler", "MIGResult", "ModularityResult",
    "StandardSAPResult", "beta_vae_score", "dci_completeness", "dci_disentanglement",
    "factor_vae_score", "gaussian_mig", "gaussian_mig_from_samples", "modularity_score",
    "standard_dci", "standard_mig", "standard_modularity", "standard_sap", "evaluate_metrics",
    "grouping_text", "check_partition", "parse_grouping",
    "BAGridResult", "BAResult", "DECODER_FAMILIES", "LinearGaussianModel", "LossTerms", "STATUSES",
    "Scenario", "WellPosedness", "blahut_arimoto", "blahut_arimoto_grid", "canonical_grouping",
    "decoder_update", "dependent_factor_covariance", "encoder_update", "gamma_lambda_loss",
    "gaussian_conditional_mi", "gaussian_entropy", "gaussian_mi", "initial_decoder",
    "residual_covariance", "scenario_from_groups", "talk_scenario", "talk_scenarios",
    "well_posedness",
]
