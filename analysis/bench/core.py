"""``lingauss bench core``: the vectorised :func:`lingauss.blahut_arimoto_grid` against a per-point
Python loop of :func:`lingauss.blahut_arimoto` over the same (γ, λ) grid, same scenario, same
initial decoder and the same fixed number of iterations (``tol = 0``), so both do identical
arithmetic. The results are also compared point by point, so the speed-up is between equal answers.
A benchmark: run by a command, never by the tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

import lingauss as lg

__all__ = ["CoreBenchmark", "bench_core", "format_core"]


@dataclass(frozen=True)
class CoreBenchmark:
    grid: int
    points: int
    iterations: int
    batched_s: float
    loop_points: int
    loop_s: float
    max_abs_diff: float

    @property
    def loop_full_s(self) -> float:
        """Loop time over the whole grid (measured, or extrapolated from the timed subset)."""
        return self.loop_s * self.points / self.loop_points

    @property
    def speedup(self) -> float:
        return self.loop_full_s / self.batched_s


def bench_core(grid: int = 101, iterations: int = 100, loop_points: int | None = 1000,
               size=(5, 5, 4), scenario: int = 2, decoder_noise: str = "full", seed: int = 0,
               progress: bool = True) -> CoreBenchmark:
    """Time the batched grid BA and the per-point loop on a ``grid × grid`` (γ, λ) grid.

    ``loop_points``: how many evenly spaced grid points the loop times (``None``: all of them);
    its full-grid time is then extrapolated linearly and labelled as such.
    """
    if grid < 1 or iterations < 1:
        raise ValueError("grid and iterations must be positive")
    sc = lg.talk_scenario(tuple(size), scenario)
    gammas = np.linspace(0.98, 1.02, grid)
    lams = np.linspace(-0.02, 0.02, grid)
    kw = dict(decoder_noise=decoder_noise, rng=seed, max_iter=iterations, tol=0.0)
    t0 = time.perf_counter()
    res = lg.blahut_arimoto_grid(sc.model, sc.n_latents, gammas, lams, progress=progress, **kw)
    batched = time.perf_counter() - t0
    points = grid * grid
    chosen = np.arange(points) if loop_points is None or loop_points >= points else \
        np.unique(np.linspace(0, points - 1, loop_points).astype(int))
    diff = 0.0
    t0 = time.perf_counter()
    for k in tqdm(chosen, desc="per-point loop", disable=not progress, leave=False):
        i, j = divmod(int(k), grid)
        one = lg.blahut_arimoto(sc.model, sc.n_latents, gammas[i], lams[j], **kw)
        diff = max(diff, float(np.max(np.abs(one.A - res.A[i, j]))))
    loop = time.perf_counter() - t0
    return CoreBenchmark(grid=grid, points=points, iterations=iterations, batched_s=batched,
                         loop_points=len(chosen), loop_s=loop, max_abs_diff=diff)


def format_core(b: CoreBenchmark) -> str:
    """Markdown table of a :class:`CoreBenchmark`."""
    extrap = "" if b.loop_points == b.points else f" (extrapolated from {b.loop_points} points)"
    per = lambda s, p: 1e6 * s / (p * b.iterations)  # noqa: E731
    rows = [
        "| method | points | iterations | wall time (s) | µs per point-iteration |",
        "|---|---|---|---|---|",
        f"| per-point loop of `blahut_arimoto` | {b.points} | {b.iterations} | {b.loop_full_s:.2f}{extrap} "
        f"| {per(b.loop_s, b.loop_points):.1f} |",
        f"| `blahut_arimoto_grid` (vectorised) | {b.points} | {b.iterations} | {b.batched_s:.2f} "
        f"| {per(b.batched_s, b.points):.2f} |",
        "",
        f"speed-up: {b.speedup:.1f}x (target >= 20x); max |A_loop - A_grid| = {b.max_abs_diff:.2e}",
    ]
    return "\n".join(rows)
