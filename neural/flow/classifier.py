"""q(k | x̄): the sequence classifier of the weakly supervised setting.

All T frames are stacked along the channel axis (T·C channels, as the public code concatenates
the transformed frames) and go through a small conv net (4×4 stride-2 convolutions, ReLU) and a
dense layer to K logits. Which transformation acts is visible only across frames, so a per-frame
classifier could not do this.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lingauss.params import InvalidParameter
from neural.torch_utils import conv_stack, stack_side

__all__ = ["SequenceClassifier"]


class SequenceClassifier(nn.Module):
    """Sequences (B, T, C, H, W) → logits (B, K)."""

    def __init__(self, n_frames: int, n_classes: int, *, in_channels: int = 3, image_size: int = 28,
                 channels: Sequence[int] = (32, 64), hidden: int = 128):
        super().__init__()
        final = stack_side(image_size, len(channels))
        self.n_frames, self.in_channels, self.image_size = int(n_frames), int(in_channels), int(image_size)
        prev = int(channels[-1])
        self.net = nn.Sequential(*conv_stack(self.n_frames * self.in_channels, channels), nn.Flatten(), nn.Linear(prev * final * final, hidden),
                                 nn.ReLU(), nn.Linear(hidden, int(n_classes)))

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        if seq.dim() != 5 or seq.shape[1] != self.n_frames:
            raise InvalidParameter(f"expected sequences (B, {self.n_frames}, C, H, W), got {tuple(seq.shape)}")
        return self.net(seq.flatten(1, 2))
