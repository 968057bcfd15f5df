r"""Gumbel-Softmax with straight-through hard samples and the annealed temperature of Song et al. (2023).

Song et al. (2023, appendix, eq. 15): y_i = softmax((x_i + g_i)/τ), g_i ~ Gumbel(0, 1); the forward pass
uses the hard one-hot argmax, the backward pass the gradient of the soft y (straight-through);
"τ is initialised with 1 and gradually reduced to 0.05 with the annealing rate 3e-5". The public
code (``ConvEncoder3``) sets τ = max(τ_0 · exp(−rate · step), τ_min), refreshing it every 100
iterations; :func:`gumbel_temperature` is that formula, refreshed every ``update_every`` steps
(default 1: every step; pass 100 for the public code's staircase). With the defaults τ reaches
0.05 after ln(20)/3e-5 ≈ 99,858 steps — the paper's run length (~100k iterations).

A shorter run must anneal faster or weak supervision never sees a low temperature (after 500
steps the paper's rate leaves τ ≈ 0.985). :func:`temperature_rate` scales the rate to a run:
the τ schedule reaches its floor τ_min after the fraction ``floor_fraction`` of ``total_steps``,

.. math:: r = \frac{\ln(τ_0 / τ_{min})}{\mathrm{floor\_fraction} \cdot \mathrm{total\_steps}},

so τ(step) = max(τ_min, τ_0 e^{−r·step}) reaches τ_min (to rounding) at step floor_fraction ·
total_steps and stays there
(the paper's own rate is this formula with total_steps ≈ 100k and floor_fraction ≈ 1). The
benchmark uses :data:`TAU_FLOOR_FRACTION` = 0.5: half the run anneals, half trains at τ_min.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lingauss.params import InvalidParameter

__all__ = ["gumbel_temperature", "gumbel_softmax", "temperature_rate", "TAU_INITIAL", "TAU_RATE",
           "TAU_MIN", "TAU_FLOOR_FRACTION"]

TAU_INITIAL, TAU_RATE, TAU_MIN = 1.0, 3e-5, 0.05
#: Fraction of a run after which the scaled schedule (:func:`temperature_rate`) sits at τ_min.
TAU_FLOOR_FRACTION = 0.5


def temperature_rate(total_steps: int, *, floor_fraction: float = TAU_FLOOR_FRACTION,
                     initial: float = TAU_INITIAL, minimum: float = TAU_MIN) -> float:
    r"""The annealing rate r = ln(initial / minimum) / (floor_fraction · total_steps) with which
    τ = max(minimum, initial · e^{−r·step}) reaches ``minimum`` at step floor_fraction · total_steps
    (module doc)."""
    total_steps = int(total_steps)
    if total_steps < 1:
        raise InvalidParameter(f"total_steps must be >= 1, got {total_steps!r}")
    if not 0 < float(floor_fraction) <= 1:
        raise InvalidParameter(f"floor_fraction must be in (0, 1], got {floor_fraction!r}")
    if not 0 < float(minimum) < float(initial):
        raise InvalidParameter(f"need 0 < minimum < initial, got minimum={minimum!r}, initial={initial!r}")
    return math.log(float(initial) / float(minimum)) / (float(floor_fraction) * total_steps)


def gumbel_temperature(step: int, *, initial: float = TAU_INITIAL, rate: float = TAU_RATE,
                       minimum: float = TAU_MIN, update_every: int = 1) -> float:
    """τ(step) = max(minimum, initial · exp(−rate · s)), s = step rounded down to a multiple of
    ``update_every``."""
    if step < 0 or update_every < 1:
        raise InvalidParameter("step must be >= 0 and update_every >= 1")
    s = (int(step) // int(update_every)) * int(update_every)
    return max(float(minimum), float(initial) * math.exp(-float(rate) * s))


def gumbel_softmax(logits: torch.Tensor, tau: float, *, hard: bool = True,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """A Gumbel-Softmax sample (B, K); ``hard``: one-hot forward, soft gradient (straight-through)."""
    if not tau > 0:
        raise InvalidParameter(f"tau must be > 0, got {tau!r}")
    u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype,
                   device="cpu" if generator is not None else logits.device).to(logits.device)
    g = -torch.log((-torch.log(u.clamp_min(1e-20))).clamp_min(1e-20))
    y = F.softmax((logits + g) / tau, dim=-1)
    if not hard:
        return y
    index = y.argmax(dim=-1, keepdim=True)
    y_hard = torch.zeros_like(y).scatter_(-1, index, 1.0)
    return (y_hard - y).detach() + y
