"""Koopman sequential disentanglement: SKD and SSM-SKD (Hason 2024), their swaps, metrics and exploration.

One concept per module:

* :mod:`~neural.koopman.operator` — the Koopman layer: batch / instance-wise least squares in float64.
* :mod:`~neural.koopman.spectral` — the eigenvalue loss with exactly s static eigenvalues.
* :mod:`~neural.koopman.eigvec` — backprop-friendly eigenvector of the real eigenvalue nearest 1.
* :mod:`~neural.koopman.networks` — per-frame conv + LSTM encoder/decoder (one latent width k).
* :mod:`~neural.koopman.base`, :mod:`~neural.koopman.skd`, :mod:`~neural.koopman.ssm_skd` — the models.
* :mod:`~neural.koopman.swap` — eigenbasis swap (SKD) and coordinate channel swap (SSM-SKD).
* :mod:`~neural.koopman.judges` — judge CNNs per factor.
* :mod:`~neural.koopman.metrics` — D_sd and D_mf and the sample swaps.
* :mod:`~neural.koopman.floors` — floors (trivial models) and ceilings (ground-truth swaps) of D_sd / D_mf.
* :mod:`~neural.koopman.exploration` — brute-force vs greedy latent exploration.
* :mod:`~neural.koopman.static_metrics` — I_m / SAP of the static channels via :mod:`neural.bridge`.
"""

from .base import KoopmanAutoencoder
from .eigvec import StaticEigenpair, nearest_real_eigenvalue, static_eigenpair, static_projector
from .exploration import (BRUTE_FORCE_LIMIT, CRITERIA, ExplorationChoice, ExplorationResult,
                          brute_force_exploration, explore_static_channels, factorial_scorer,
                          greedy_exploration)
from .floors import (BEHAVIOURS, NAMED_STRATEGIES, TRIVIAL_MODELS, TrivialFloors, behaviour_agreements, ground_truth_swaps, judge_consistency,
                     trivial_agreements, trivial_floors)
from .judges import Judge, JudgeCNN, JudgeResult, judge_accuracy, train_judges
from .metrics import (PairedRecombiner, SwapEvaluation, complement_channels, d_mf, d_mf_balanced, d_sd, derangement, eval_mode,
                      evaluate_swaps, swap_agreement)
from .networks import KOOPMAN_CHANNELS, FrameDecoder, FrameEncoder, SequenceDecoder, SequenceEncoder
from .operator import METHODS, KoopmanFit, fit_koopman, koopman_eigvals, ridge_lstsq
from .skd import SKD, KoopmanBasis
from .spectral import DYNAMIC_PENALTIES, select_static, spectral_loss
from .ssm_skd import SSMSKD
from .static_metrics import StaticChannelMetrics, static_channel_metrics, static_codes
from .swap import as_mask, channel_swap, eigenbasis_swap, mode_coefficients

__all__ = [
    "KoopmanAutoencoder", "SKD", "SSMSKD", "KoopmanBasis",
    "KoopmanFit", "fit_koopman", "koopman_eigvals", "ridge_lstsq", "METHODS",
    "select_static", "spectral_loss", "DYNAMIC_PENALTIES",
    "StaticEigenpair", "static_eigenpair", "static_projector", "nearest_real_eigenvalue",
    "FrameEncoder", "FrameDecoder", "SequenceEncoder", "SequenceDecoder", "KOOPMAN_CHANNELS",
    "as_mask", "mode_coefficients", "eigenbasis_swap", "channel_swap",
    "JudgeCNN", "Judge", "JudgeResult", "train_judges", "judge_accuracy",
    "d_sd", "d_mf", "eval_mode", "SwapEvaluation", "PairedRecombiner", "derangement", "swap_agreement", "evaluate_swaps", "complement_channels",
    "ExplorationResult", "ExplorationChoice", "explore_static_channels", "BRUTE_FORCE_LIMIT", "brute_force_exploration", "greedy_exploration", "factorial_scorer", "CRITERIA",
    "StaticChannelMetrics", "static_channel_metrics", "static_codes",
    "BEHAVIOURS", "NAMED_STRATEGIES", "behaviour_agreements", "d_mf_balanced",
    "TRIVIAL_MODELS", "TrivialFloors", "trivial_floors", "trivial_agreements", "judge_consistency",
    "ground_truth_swaps",
]
