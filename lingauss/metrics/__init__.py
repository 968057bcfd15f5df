"""Disentanglement metrics on a latents-first joint covariance (or on samples).

* I_m (seed 002): :func:`im_score` (exact at scale), :func:`im_scores_all`, :func:`im_tables`.
* SAP (Kumar et al. 2018): :func:`sap_score`.
* Success under the documented reading (DESIGN.md): :func:`im_success`, :func:`sap_success`,
  :func:`reconstruction_ok`.
* From samples: :func:`joint_covariance_from_samples`, :func:`im_score_from_samples`,
  :func:`sap_score_from_samples`.
* Counting: :func:`count_set_partitions`, :func:`count_assignments`, :func:`set_partitions`.
"""

from .im import MAX_FACTORS, im_score, im_score_from_samples, im_scores_all, im_tables
from .partitions import count_assignments, count_set_partitions, set_partitions, stirling2
from .results import IMLandscape, IMResult
from .samples import joint_covariance_from_samples, ledoit_wolf_shrinkage, sap_score_from_samples
from .sap import SAPResult, sap_score
from .success import (OUTCOMES, RECONSTRUCTION_TOLERANCE, Success, im_success, reconstruction_ok,
                      sap_success)

__all__ = [
    "IMLandscape", "IMResult", "MAX_FACTORS", "OUTCOMES", "RECONSTRUCTION_TOLERANCE", "SAPResult",
    "Success", "count_assignments", "count_set_partitions", "im_score", "im_score_from_samples",
    "im_scores_all", "im_success", "im_tables", "joint_covariance_from_samples",
    "ledoit_wolf_shrinkage", "reconstruction_ok", "sap_score", "sap_score_from_samples",
    "sap_success", "set_partitions", "stirling2",
]
