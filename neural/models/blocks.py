r"""Convolutional encoder/decoder blocks shared by the β-VAE family.

The architecture of Locatello et al. (2019) / ``disentanglement_lib`` (``conv_encoder``,
``deconv_decoder``), for square images whose side is divisible by 16 (64 by default):

* encoder: four 4×4 stride-2 convolutions (32, 32, 64, 64 channels; 64→32→16→8→4), ReLU, a dense
  layer of 256 units, ReLU, and a dense layer to the ``2·latent_dim`` outputs (mean, log-variance);
* decoder: the mirror image: dense 256, dense 64·4·4, four 4×4 stride-2 transposed convolutions
  (64, 32, 32, C channels; 4→8→16→32→64); its output is per-pixel logits (or means).

``channels`` and ``hidden`` are configurable (tests use narrow blocks to stay fast).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lingauss.params import InvalidParameter
from ..torch_utils import conv_stack, deconv_stack

__all__ = ["ConvEncoder", "ConvDecoder", "DEFAULT_CHANNELS", "DEFAULT_HIDDEN"]

DEFAULT_CHANNELS = (32, 32, 64, 64)
DEFAULT_HIDDEN = 256


def _check(image_size: int, channels: Sequence[int]) -> int:
    depth = len(channels)
    if depth < 1:
        raise InvalidParameter("channels must list at least one conv layer")
    if image_size % (2 ** depth) != 0 or image_size < 2 ** depth:
        raise InvalidParameter(f"image_size must be a positive multiple of 2**{depth} = {2 ** depth}, "
                         f"got {image_size}")
    return image_size // 2 ** depth


class ConvEncoder(nn.Module):
    """Images (N, C, H, H) → (mean, log-variance), each (N, latent_dim)."""

    def __init__(self, in_channels: int = 1, latent_dim: int = 10, *, image_size: int = 64,
                 channels: Sequence[int] = DEFAULT_CHANNELS, hidden: int = DEFAULT_HIDDEN):
        super().__init__()
        self.image_size, self.in_channels, self.latent_dim = int(image_size), int(in_channels), int(latent_dim)
        final = _check(self.image_size, channels)
        self.conv = nn.Sequential(*conv_stack(self.in_channels, channels))
        prev = int(list(channels)[-1])
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(prev * final * final, hidden), nn.ReLU(),
                                nn.Linear(hidden, 2 * self.latent_dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 4 or x.shape[1:] != (self.in_channels, self.image_size, self.image_size):
            raise InvalidParameter(f"expected images (N, {self.in_channels}, {self.image_size}, "
                             f"{self.image_size}), got {tuple(x.shape)}")
        h = self.fc(self.conv(x))
        return h[:, :self.latent_dim], h[:, self.latent_dim:]


class ConvDecoder(nn.Module):
    """Latents (N, latent_dim) → per-pixel outputs (N, C, H, H) (logits or means)."""

    def __init__(self, out_channels: int = 1, latent_dim: int = 10, *, image_size: int = 64,
                 channels: Sequence[int] = DEFAULT_CHANNELS, hidden: int = DEFAULT_HIDDEN):
        super().__init__()
        self.final = _check(int(image_size), channels)
        rev = list(channels)[::-1]
        self.first = rev[0]
        self.fc = nn.Sequential(nn.Linear(int(latent_dim), hidden), nn.ReLU(),
                                nn.Linear(hidden, rev[0] * self.final * self.final), nn.ReLU())
        self.deconv = nn.Sequential(*deconv_stack(rev, int(out_channels)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(z.shape[0], self.first, self.final, self.final)
        return self.deconv(h)
