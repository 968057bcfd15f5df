r"""The documented reading of "the metric succeeded" (docs page *The success reading*).

Vu et al. (2024) call a metric successful at a (γ, λ) point when its best partition "characterises the
relationships among the factors". Our reading:

- A *grouping* is an unlabelled set partition of the factors 0..s−1 (empty groups dropped), in the
  canonical form of :func:`lingauss.grouping.canonical_grouping`.
- **I_m** succeeds when the *unique* best assignment's grouping equals the true grouping. A tie at
  the top between different groupings (``IMResult.tied_groupings > 1``, e.g. an all-zero encoder
  where every score is 0) is a failure reported as ``"ambiguous"``. Ties between assignments that
  only relabel the latents of the same grouping are not ambiguity.
- **SAP** succeeds when grouping the factors by their top latent
  (:math:`\arg\max_i \operatorname{corr}(x_i, v_j)^2`) reproduces the true grouping. If any factor's
  top latent is tied with its second (``SAPResult.tied_top``) the grouping is not determined: a
  failure reported as ``"ambiguous"``.
- A (γ, λ) point whose solution misses the reconstruction tolerance — relative error
  :math:`E\lVert Y - AX\rVert^2 / \operatorname{tr}\Sigma_Y` above 5 % by default — fails for both
  metrics and is counted separately: :func:`reconstruction_ok`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lingauss.params import InvalidParameter
from .._validation import as_finite_scalar
from ..grouping import Grouping, canonical_grouping, check_partition, grouping_text
from .results import IMResult
from .sap import SAPResult

__all__ = ["Success", "OUTCOMES", "im_success", "sap_success", "reconstruction_ok",
           "RECONSTRUCTION_TOLERANCE"]

#: The possible ``Success.outcome`` values.
OUTCOMES = ("success", "wrong_grouping", "ambiguous")

#: Default bound on the relative reconstruction error E‖Y − AX‖² / tr Σ_Y (Vu et al. 2024: 5 %).
RECONSTRUCTION_TOLERANCE = 0.05


@dataclass(frozen=True)
class Success:
    """Whether a metric recovered the true grouping.

    ``success``: True only for ``outcome == "success"``.
    ``outcome``: ``"success"``, ``"wrong_grouping"`` (a unique grouping, not the true one) or
    ``"ambiguous"`` (the best grouping is not unique: always a failure).
    ``found``: the metric's grouping (canonical; for an ambiguous result, the one it reported).
    ``expected``: the true grouping (canonical).
    ``message``: one human-readable line.
    """

    success: bool
    outcome: str
    found: Grouping
    expected: Grouping
    message: str


def _judge(metric: str, found: Grouping, expected: Grouping, ambiguous: bool, why: str) -> Success:
    if ambiguous:
        return Success(False, "ambiguous", found, expected,
                       f"{metric}: ambiguous — {why}; true grouping {grouping_text(expected)}")
    if found == expected:
        return Success(True, "success", found, expected,
                       f"{metric}: success — found the true grouping {grouping_text(expected)}")
    return Success(False, "wrong_grouping", found, expected,
                   f"{metric}: wrong grouping — found {grouping_text(found)}, true grouping {grouping_text(expected)}")


def im_success(result: IMResult, true_grouping) -> Success:
    """Success of an I_m result: its unique best grouping equals ``true_grouping``.

    ``result.tied_groupings > 1`` (several groupings reach the maximum) → ``"ambiguous"``, a failure.
    ``true_grouping`` is any partition of 0..s−1 (blocks and elements in any order), with s the
    number of factors of ``result``; otherwise ``ValueError`` naming ``true_grouping``.
    """
    if not isinstance(result, IMResult):
        raise InvalidParameter(f"result must be an IMResult, got {type(result).__name__}")
    s = len(result.assignment)
    expected = check_partition(true_grouping, s, name="true_grouping")
    found = canonical_grouping(result.grouping)
    return _judge("I_m", found, expected, result.tied_groupings > 1,
                  f"{result.tied_groupings} groupings tie at the maximum {result.score:.6g} nats")


def sap_success(result: SAPResult, true_grouping) -> Success:
    """Success of a SAP result: grouping factors by their top latent reproduces ``true_grouping``.

    A factor whose top latent is tied with the second (``result.tied_top``) makes the grouping
    undetermined → ``"ambiguous"``, a failure. ``true_grouping`` is any partition of 0..s−1 (blocks
    and elements in any order); otherwise ``ValueError`` naming ``true_grouping``.
    """
    if not isinstance(result, SAPResult):
        raise InvalidParameter(f"result must be a SAPResult, got {type(result).__name__}")
    expected = check_partition(true_grouping, result.n_factors, name="true_grouping")
    tied = [j for j, t in enumerate(result.tied_top) if t]
    return _judge("SAP", canonical_grouping(result.grouping), expected, bool(tied),
                  f"the top latent of factor(s) {tied} is tied with the second")


def reconstruction_ok(relative_error, tolerance: float = RECONSTRUCTION_TOLERANCE):
    r"""Whether a solution meets the reconstruction tolerance: ``relative_error <= tolerance``.

    ``relative_error`` is :math:`E\lVert Y - AX\rVert^2 / \operatorname{tr}\Sigma_Y` (dimensionless;
    0.05 = 5 %). A scalar gives a ``bool``, an array a boolean array. Both arguments must be finite
    and ≥ 0, otherwise ``ValueError`` naming the argument (a NaN never reads as a failure silently).
    """
    err = as_finite_scalar(relative_error, "relative_error", minimum=0.0, batch=True)
    tol = as_finite_scalar(tolerance, "tolerance", minimum=0.0)
    if isinstance(err, float):
        return bool(err <= tol)
    return np.asarray(err) <= tol
