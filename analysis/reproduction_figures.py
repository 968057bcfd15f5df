"""The figures of :func:`analysis.reproduce`: which ones, drawn once each, and only when their inputs
changed.

A reproduction writes 3 + 2·(number of scenarios) figures (the success bars, one grid sheet per
size, and per scenario its (γ, λ) heatmaps and its I_m landscape). Matplotlib draws one figure on
one core, and at 0.1–0.6 s a figure the drawing is most of a cold run; so on a machine with two or
more cores the figures are drawn by a small pool of worker processes (:func:`start_drawers`),
started *before* the sweep so that their import of matplotlib overlaps the solve; they and this
process take the most expensive figure left. The files are the same as when drawn in this process.

A key file, ``figures/.figures-key.json``, holds a SHA-256 of everything the figures show (the
sweep's rows, the comparison, the options, matplotlib's version and the plotting code); a rerun
with the same key keeps the files instead of drawing them again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import plots
from .table import write_text_atomic

__all__ = ["write_figures", "start_drawers", "Drawers", "draw", "figure_jobs", "figures_unchanged", "FIGURES_KEY"]

#: The file in ``out/figures`` naming the inputs its figures were drawn from.
FIGURES_KEY = ".figures-key.json"

#: At most this many drawing processes (a reproduction has 15 figures by default).
MAX_DRAWERS = 4


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                                   # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class Drawers:
    """Worker processes that draw figures beside this process (:func:`start_drawers`)."""

    pool: object
    n_workers: int
    #: this process's own import of matplotlib, in a thread while it solves (the kernels release
    #: the GIL); joined before this process draws
    preparing: threading.Thread

    def shutdown(self) -> None:
        # (killing the finished workers would save their teardown, 0.3–0.4 s, but with the console
        # script's fast exit loky's resource tracker then reports a semaphore as leaked, 1 run in 2)
        self.pool.shutdown()


def start_drawers(n_workers: int | None = None) -> Drawers | None:
    """Drawing processes (loky, SIGINT ignored, matplotlib imported as they start) that draw beside
    this process, or ``None`` where fewer than two cores are usable (drawing stays here).

    ``n_workers`` caps the processes drawing in all, this one included (default: the usable cores,
    at most :data:`MAX_DRAWERS`). The workers start at once, so that their imports run while this
    process solves.
    """
    from .pools import process_pool, sigint_blocked_for_children

    n = min(MAX_DRAWERS, _usable_cores(), n_workers or MAX_DRAWERS) - 1
    if n < 1:
        return None
    pool = process_pool(n, prepare=plots.prepare_drawing)
    with sigint_blocked_for_children():
        pool.submit(plots.prepare_drawing)                  # starts every worker now
    preparing = threading.Thread(target=plots.prepare_drawing, name="import matplotlib", daemon=True)
    preparing.start()
    return Drawers(pool, n, preparing)


def figures_key(rep, scenarios, landscape_point, formats) -> str:
    """SHA-256 of everything the figures are drawn from: the sweep's rows, the comparison, the
    scenarios, the landscape point, the formats, matplotlib's version and the plotting code."""
    import matplotlib

    h = hashlib.sha256()
    h.update(Path(plots.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    payload = {"rows": rep.table.rows, "comparison": rep.comparison, "formats": list(formats),
               "scenarios": [sc.name for sc in scenarios], "point": list(landscape_point),
               "noise": rep.protocol.decoder_noise, "matplotlib": matplotlib.__version__}
    h.update(json.dumps(payload, sort_keys=True, default=str).encode())
    return h.hexdigest()


def figures_unchanged(fig_dir: Path, key: str | None = None) -> list[Path] | None:
    """The figure files of an earlier run (with the same ``key``, when given), if every one of them
    is still there; ``None`` otherwise."""
    try:
        old = json.loads((Path(fig_dir) / FIGURES_KEY).read_text())
    except (OSError, ValueError):
        return None
    files = [Path(fig_dir) / f for f in old.get("files", [])]
    if (key is not None and old.get("key") != key) or not files or not all(f.is_file() for f in files):
        return None
    return files


def _slug(name: str) -> str:
    return name.replace("(", "").replace(")", "").replace(",", "").replace(" ", "_")


def figure_jobs(rep, scenarios, fig_dir: Path, *, landscape_point, formats) -> list[tuple]:
    """Every figure of the reproduction as ``(function, args, kwargs)`` of :mod:`analysis.plots` (the
    heatmap sheets as one job that draws them one after the other), in the order their files are
    listed: bars, grid sheets, heatmap sheets, landscapes."""
    noise, seed = rep.protocol.decoder_noise, rep.table.rows[0]["seed"]
    out = dict(formats=formats)
    jobs = [(plots.plot_success_bars, (rep.comparison, fig_dir / "success_rates"), out)]
    for size in sorted({sc.size for sc in scenarios}):
        names = [sc.name for sc in scenarios if sc.size == size]
        jobs.append((plots.plot_reproduction_grids,
                     (rep.table, names, fig_dir / f"reproduction_grids_{''.join(map(str, size))}"),
                     dict(out, decoder_noise=noise, seed=seed, title=f"(s, n, m) = {size}: {noise} Σ_Z, seed {seed}")))
    # the scores; the grid sheets above show each point's status and successes
    sheets = [(plots.plot_grid_heatmaps, (rep.table, sc.name, fig_dir / f"grid_{_slug(sc.name)}"),
               dict(out, decoder_noise=noise, seed=seed, panels=plots.SCORE_PANELS)) for sc in scenarios]
    if sheets:       # one job: the sheets refill one figure per process (plots.grid_heatmaps_figure)
        jobs.append((_draw_together, (sheets,), {}))
    g0, l0 = landscape_point
    for sc in scenarios:
        # the landscape at the grid point nearest landscape_point (default (1, 0): the VAE)
        rows = [r for r in rep.table.rows if r["scenario"] == sc.name and r["B"] is not None]
        if rows:
            r = min(rows, key=lambda r: (abs(r["gamma"] - g0) + abs(r["lam"] - l0), r["seed"]))
            jobs.append((plots.plot_im_landscape,
                         (sc, np.array(r["B"]), np.array(r["sigma_w"]), fig_dir / f"landscape_{_slug(sc.name)}"),
                         dict(out, title=f"I_m landscape — {sc.name}, γ = {r['gamma']:g}, λ = {r['lam']:g} "
                                         f"({r['status']})")))
    return jobs


def _draw_together(jobs, show: bool = False) -> list[Path]:    # picklable: top level
    """Several figure jobs one after the other, in one process."""
    return [p for f, args, kwargs in jobs for p in f(*args, **kwargs, show=show)]


#: Drawing cost rank of each figure function (largest first to the pool, so that no worker is
#: left with a long figure at the end).
_COST = {_draw_together: 0, plots.plot_reproduction_grids: 1, plots.plot_success_bars: 2,
         plots.plot_im_landscape: 3}


def _run_job(job):                                          # in a worker (picklable: top level)
    f, args, kwargs = job
    return f(*args, **kwargs)


def draw(jobs, *, show: bool = False, drawers: Drawers | None = None) -> list[Path]:
    """Draw ``jobs`` (from :func:`figure_jobs`) here and, when ``drawers`` is given (and ``show``
    is not set), in its workers too: everyone takes the most expensive figure left, a worker one at a
    time (queued further, the last long figure may wait on a worker while this process is idle).
    Returns the files in the jobs' order."""
    if drawers is None or show:
        return _draw_together(jobs, show=show)
    from .pools import sigint_blocked_for_children

    left = deque(sorted(range(len(jobs)), key=lambda i: _COST.get(jobs[i][0], len(_COST))))
    futures, done = {}, {}

    def top_up():
        waiting = sum(not f.done() for f in futures.values())
        with sigint_blocked_for_children():
            while left and waiting < drawers.n_workers:
                i = left.popleft()
                futures[i] = drawers.pool.submit(_run_job, jobs[i])
                waiting += 1

    top_up()
    drawers.preparing.join()
    while left:
        i = left.popleft()
        done[i] = _run_job(jobs[i])
        top_up()
    done.update((i, f.result()) for i, f in futures.items())
    return [p for i in range(len(jobs)) for p in done[i]]


def write_figures(rep, scenarios, fig_dir: Path, *, show: bool, landscape_point, formats,
                  drawers=None) -> tuple[list[Path], int]:
    """The reproduction's figures in ``fig_dir``, drawn unless an earlier run with the same inputs
    left them there; returns ``(files, number kept)``."""
    key = figures_key(rep, scenarios, landscape_point, formats)
    kept = figures_unchanged(fig_dir, key)
    if kept is not None and not show:
        return kept, len(kept)
    drawn = draw(figure_jobs(rep, scenarios, fig_dir, landscape_point=landscape_point, formats=formats),
                 show=show, drawers=drawers)
    write_text_atomic(fig_dir / FIGURES_KEY, json.dumps(
        {"key": key, "files": [str(Path(f).relative_to(fig_dir)) for f in drawn]}, indent=1))
    return drawn, 0
