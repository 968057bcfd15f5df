"""Disentanglement metrics on a latents-first joint covariance (or on samples).

* I_m (Vu et al. 2024): :func:`im_score` (exact at scale), :func:`im_scores_all`, :func:`im_tables`.
* SAP (Kumar et al. 2018): :func:`sap_score`.
* Success under the documented reading (docs: *The success reading*): :func:`im_success`, :func:`sap_success`,
  :func:`reconstruction_ok`.
* From samples: :func:`joint_covariance_from_samples`, :func:`im_score_from_samples`,
  :func:`sap_score_from_samples`.
* The registry: :func:`registry` (name → :class:`MetricSpec`: input kind, function, units,
  direction), :func:`evaluate_metrics` (every metric an input allows, in one call),
  :func:`summary_lines`. Every result has a float ``score``.
* Counting: :func:`count_set_partitions`, :func:`count_assignments`, :func:`set_partitions`.
* The standard suite of Locatello et al. (disentanglement_lib) on samples: :func:`standard_mig`,
  :func:`standard_sap`, :func:`standard_dci` (:func:`dci_disentanglement`,
  :func:`dci_completeness`), :func:`standard_modularity` (:func:`modularity_score`), and with a
  factor sampler (:class:`FactorSampler`, :class:`IndependentDiscreteSampler`,
  :class:`LinearGaussianSampler`) :func:`beta_vae_score`, :func:`factor_vae_score`; closed-form
  Gaussian MIG :func:`gaussian_mig` (and its plug-in :func:`gaussian_mig_from_samples`);
  discretisation helpers :func:`histogram_discretize`, :func:`discrete_mutual_info`,
  :func:`discrete_entropy`. Classifier-based scores import scikit-learn lazily (``metrics`` extra).
"""

from .discrete import (discrete_entropy, discrete_mutual_info, histogram_discretize,
                       histogram_edges)
from .factor_samplers import FactorSampler, IndependentDiscreteSampler, LinearGaussianSampler
from .im import MAX_FACTORS, im_score, im_score_from_samples, im_scores_all, im_tables
from .partitions import count_assignments, count_set_partitions, set_partitions, stirling2
from .mig_gaussian import GaussianMIGResult, gaussian_mig, gaussian_mig_from_samples
from .metric_registry import (INPUTS, MetricSpec, evaluate_metrics, metric_names, registry, result_record,
                       summary_lines)
from .results import IMLandscape, IMResult
from .samples import joint_covariance_from_samples, ledoit_wolf_shrinkage, sap_score_from_samples
from .sap import SAPResult, sap_score
from .dci import DCIResult, dci_completeness, dci_disentanglement, standard_dci
from .mig import MIGResult, standard_mig
from .modularity import ModularityResult, modularity_score, standard_modularity
from .standard_sampling import BetaVAEResult, FactorVAEResult, beta_vae_score, factor_vae_score
from .sap_classifier import StandardSAPResult, standard_sap
from .success import (OUTCOMES, RECONSTRUCTION_TOLERANCE, Success, im_success, reconstruction_ok,
                      sap_success)

__all__ = [
    "IMLandscape", "IMResult", "MAX_FACTORS", "OUTCOMES", "RECONSTRUCTION_TOLERANCE", "SAPResult",
    "Success", "count_assignments", "count_set_partitions", "im_score", "im_score_from_samples",
    "im_scores_all", "im_success", "im_tables", "joint_covariance_from_samples",
    "ledoit_wolf_shrinkage", "reconstruction_ok", "sap_score", "sap_score_from_samples",
    "sap_success", "set_partitions", "stirling2",
    "BetaVAEResult", "DCIResult", "FactorSampler", "FactorVAEResult", "GaussianMIGResult",
    "IndependentDiscreteSampler", "LinearGaussianSampler", "MIGResult", "ModularityResult",
    "StandardSAPResult", "beta_vae_score", "dci_completeness", "dci_disentanglement",
    "discrete_entropy", "discrete_mutual_info", "factor_vae_score", "gaussian_mig",
    "gaussian_mig_from_samples", "histogram_discretize", "histogram_edges", "modularity_score",
    "standard_dci", "standard_mig", "standard_modularity", "standard_sap",
    "INPUTS", "MetricSpec", "evaluate_metrics", "metric_names", "registry", "result_record",
    "summary_lines",
]
