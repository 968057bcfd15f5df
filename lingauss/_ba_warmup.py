"""Warm-up of the Blahut–Arimoto kernels (:mod:`lingauss.warmup`): a small grid and a single
point for every decoder-noise family, the argument types of real calls."""

from __future__ import annotations

import numpy as np

from .warmup import register


@register("ba", description="Blahut-Arimoto kernels: grid and per-point solver, every decoder-noise family")
def _warm_ba() -> None:
    from .ba_solver import blahut_arimoto, blahut_arimoto_grid
    from .scenarios import talk_scenario
    from .updates import DECODER_FAMILIES

    sc = talk_scenario((3, 4, 3), 2)
    for family in DECODER_FAMILIES:
        blahut_arimoto(sc.model, sc.n_latents, 1.0, 0.01, decoder_noise=family, rng=0, max_iter=3)
        blahut_arimoto_grid(sc.model, sc.n_latents, np.array([0.99, 1.01]), np.array([0.0, 0.01]),
                            decoder_noise=family, rng=0, max_iter=3)
