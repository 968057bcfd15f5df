"""Torch helpers shared by every neural module: where a model lives, running a block in eval mode,
and the stride-2 convolution stacks the encoders, decoders, judges and classifiers are built from.

* :func:`model_device`, :class:`DeviceMixin` (a ``device`` property for modules);
* :func:`eval_mode` — a context manager that restores the caller's train/eval mode;
* :func:`conv_stack` / :func:`deconv_stack` — ``len(channels)`` 4×4 stride-2 (transposed)
  convolutions, each halving (doubling) the side, with an optional batch norm and an activation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from lingauss.params import InvalidParameter

__all__ = ["model_device", "eval_mode", "DeviceMixin", "conv_stack", "deconv_stack", "stack_side"]


def model_device(model) -> torch.device:
    """The device of ``model``'s first parameter (CPU for parameter-less stand-ins)."""
    params = getattr(model, "parameters", None)
    if callable(params):
        for p in params():
            return p.device
    return torch.device("cpu")


@contextmanager
def eval_mode(model):
    """Run the block with ``model`` in eval mode (batch norm on running statistics, nothing
    updated), then restore the caller's mode; objects without ``train``/``eval`` pass through."""
    module = model if callable(getattr(model, "eval", None)) and hasattr(model, "training") else None
    was = module.training if module is not None else None
    if module is not None:
        module.eval()
    try:
        yield model
    finally:
        if module is not None:
            module.train(was)


class DeviceMixin:
    """``device``: the device of the module's first parameter (for ``nn.Module`` subclasses)."""

    @property
    def device(self) -> torch.device:
        return model_device(self)


def stack_side(image_size: int, depth: int) -> int:
    """The side after ``depth`` stride-2 halvings of ``image_size``; ``ValueError`` unless exact."""
    image_size, depth = int(image_size), int(depth)
    if depth < 1 or image_size % 2 ** depth:
        raise InvalidParameter(f"image_size must be a multiple of 2**{depth} = {2 ** depth}, got {image_size}")
    return image_size // 2 ** depth


def conv_stack(in_channels: int, channels: Sequence[int], *, batch_norm: bool = False,
               activation: Callable[[], nn.Module] = nn.ReLU) -> list[nn.Module]:
    """``[Conv2d(c_in, c, 4, 2, 1), (BatchNorm2d(c),) activation()]`` for each ``c`` in ``channels``."""
    layers, prev = [], int(in_channels)
    for ch in channels:
        layers.append(nn.Conv2d(prev, int(ch), 4, stride=2, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(ch)))
        layers.append(activation())
        prev = int(ch)
    return layers


def deconv_stack(channels: Sequence[int], out_channels: int, *, batch_norm: bool = False,
                 activation: Callable[[], nn.Module] = nn.ReLU) -> list[nn.Module]:
    """The mirror of :func:`conv_stack`: from ``channels[0]`` through ``channels[1:]`` to
    ``out_channels`` by 4×4 stride-2 transposed convolutions, with (batch norm and) an activation
    after every one but the last."""
    chans = [int(c) for c in channels]
    outs = chans[1:] + [int(out_channels)]
    layers: list[nn.Module] = []
    for i, (cin, cout) in enumerate(zip(chans, outs)):
        layers.append(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1))
        if i < len(outs) - 1:
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(activation())
    return layers
