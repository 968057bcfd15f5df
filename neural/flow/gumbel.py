r"""Gumbel-Softmax with straight-through hard samples and the annealed temperature of seed 001.

Seed 001 (appendix, eq. 15): y_i = softmax((x_i + g_i)/τ), g_i ~ Gumbel(0, 1); the forward pass
uses the hard one-hot argmax, the backward pass the gradient of the soft y (straight-through);
"τ is initialised with 1 and gradually reduced to 0.05 with the annealing rate 3e-5". The public
code (``ConvEncoder3``) sets τ = max(τ_0 · exp(−rate · step), τ_min), refreshing it every 100
iterations; :func:`gumbel_temperature` is that formula, refreshed every ``update_every`` steps
(default 1: every step; pass 100 for the public code's staircase). With the defaults τ reaches
0.05 after ln(20)/3e-5 ≈ 99,858 steps.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["gumbel_temperature", "gumbel_softmax", "TAU_INITIAL", "TAU_RATE", "TAU_MIN"]

TAU_INITIAL, TAU_RATE, TAU_MIN = 1.0, 3e-5, 0.05


def gumbel_temperature(step: int, *, initial: float = TAU_INITIAL, rate: float = TAU_RATE,
                       minimum: float = TAU_MIN, update_every: int = 1) -> float:
    """τ(step) = max(minimum, initial · exp(−rate · s)), s = step rounded down to a multiple of
    ``update_every``."""
    if step < 0 or update_every < 1:
        raise ValueError("step must be >= 0 and update_every >= 1")
    s = (int(step) // int(update_every)) * int(update_every)
    return max(float(minimum), float(initial) * math.exp(-float(rate) * s))


def gumbel_softmax(logits: torch.Tensor, tau: float, *, hard: bool = True,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """A Gumbel-Softmax sample (B, K); ``hard``: one-hot forward, soft gradient (straight-through)."""
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau!r}")
    u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype,
                   device="cpu" if generator is not None else logits.device).to(logits.device)
    g = -torch.log((-torch.log(u.clamp_min(1e-20))).clamp_min(1e-20))
    y = F.softmax((logits + g) / tau, dim=-1)
    if not hard:
        return y
    index = y.argmax(dim=-1, keepdim=True)
    y_hard = torch.zeros_like(y).scatter_(-1, index, 1.0)
    return (y_hard - y).detach() + y
