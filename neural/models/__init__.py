"""Models trained by :class:`neural.train.Trainer`: the linear Gaussian VAE and the β-VAE family.

Every model implements ``loss(batch) -> dict`` with a ``"loss"`` entry (see :mod:`neural.train`)
and ``encode(x) -> posterior means`` (the representation the bridge scores).
"""

from .base import RECONSTRUCTIONS, ConvVAE, TrainableModel, batch_images, gaussian_kl
from .blocks import ConvDecoder, ConvEncoder
from .linear import DECODER_NOISE, LinearGaussianVAE, rotate_to_principal_axes
from .vae import (BetaTCVAE, BetaVAE, DIPVAE, Discriminator, FactorVAE, dip_covariance, dip_penalty,
                  gaussian_log_density, permute_dims, total_correlation)

__all__ = [
    "RECONSTRUCTIONS", "ConvVAE", "TrainableModel", "batch_images", "gaussian_kl",
    "ConvDecoder", "ConvEncoder", "DECODER_NOISE", "LinearGaussianVAE", "rotate_to_principal_axes",
    "BetaTCVAE", "BetaVAE", "DIPVAE", "Discriminator", "FactorVAE", "dip_covariance", "dip_penalty",
    "gaussian_log_density", "permute_dims", "total_correlation",
]
