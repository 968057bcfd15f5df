"""The figures of :func:`analysis.reproduce`: which ones, drawn once each, and only when their inputs
changed.

A reproduction writes 1 + 3·(number of sizes) figures: the success bars and, per size, a grid
sheet (BA status and successes over the (γ, λ) grid), a score sheet (loss, error, I_m and SAP
scores) and a landscape sheet, each with a row per scenario. Matplotlib draws one figure on one
core, and at 0.1–0.5 s a figure the drawing is most of a cold run; so on a machine with two or
more cores a few worker processes draw beside this process (:func:`start_drawers`). They start
*before* the sweep — forked where that is safe, so that they hold this process's modules at no
cost — import matplotlib and build the score sheet's figure while it solves, and begin drawing
as soon as the sweep's table exists (:func:`start_figures`), while this process still runs the
sensitivity table and the baselines; then this process draws too, everyone taking the most
expensive figure left. The files are the same as when drawn in this process.

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

__all__ = ["start_figures", "Figures", "start_drawers", "Drawers", "Drawing", "draw", "figure_jobs",
           "figures_key", "figures_unchanged", "FIGURES_KEY"]

#: The file in ``out/figures`` naming the inputs its figures were drawn from.
FIGURES_KEY = ".figures-key.json"

#: At most this many drawing processes (a reproduction has 7 figures by default).
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
        self.pool.shutdown()


def start_drawers(n_workers: int | None = None, sheet=None) -> Drawers | None:
    """Drawing processes (SIGINT ignored, matplotlib imported as they start) that draw beside this
    process, or ``None`` where fewer than two cores are usable (drawing stays here).

    ``n_workers`` caps the processes drawing in all, this one included (default: the usable cores,
    at most :data:`MAX_DRAWERS`). The workers start at once, so that their imports run while this
    process solves: forked from this process where :func:`analysis.pools.can_fork` allows it (they
    then hold every module already imported; they draw with matplotlib alone, never with this
    process's Numba or BLAS threads), new interpreters (loky) otherwise. ``sheet = (gammas, lams,
    n_scenarios)``: the grid the sweep will fill and the scenarios of a size; the workers build the
    score sheet for them meanwhile.
    """
    from .pools import can_fork, forked_pool, process_pool, sigint_blocked_for_children

    n = min(MAX_DRAWERS, _usable_cores(), n_workers or MAX_DRAWERS) - 1
    if n < 1:
        return None
    if can_fork():
        pool = forked_pool(n, prepare=plots.prepare_drawing)
    else:
        pool = process_pool(n, prepare=plots.prepare_drawing)
        with sigint_blocked_for_children():
            pool.submit(plots.prepare_drawing)              # starts every worker now
    if sheet is not None:
        gammas, lams, n_scenarios = sheet
        gammas, lams = (np.unique(np.asarray(v, dtype=float)) for v in (gammas, lams))
        for _ in range(n):
            pool.submit(plots.prepare_heatmap_sheet, gammas, lams, plots.SCORE_PANELS, n_scenarios)
    preparing = threading.Thread(target=plots.prepare_drawing, name="import matplotlib", daemon=True)
    preparing.start()
    return Drawers(pool, n, preparing)


def figures_key(table, comparison, scenarios, *, decoder_noise, landscape_point, formats) -> str:
    """SHA-256 of everything the figures are drawn from: the sweep's rows, the comparison, the
    scenarios, the landscape point, the formats, matplotlib's version and the plotting code."""
    import matplotlib

    h = hashlib.sha256()
    h.update(Path(plots.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    payload = {"rows": table.rows, "comparison": comparison, "formats": list(formats),
               "scenarios": [sc.name for sc in scenarios], "point": list(landscape_point),
               "noise": decoder_noise, "matplotlib": matplotlib.__version__}
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


def figure_jobs(table, comparison, scenarios, fig_dir: Path, *, decoder_noise, landscape_point,
                formats) -> list[tuple]:
    """Every figure of the reproduction as ``(function, args, kwargs)`` of :mod:`analysis.plots`, in
    the order their files are listed: the bars, each size's grid sheet (status and successes), the
    score sheets (loss, error, I_m and SAP scores) and each size's I_m landscapes. The score sheets
    of all sizes are one job: they refill one figure, which a drawing worker builds while the sweep
    solves (:func:`start_drawers`; a second process would build its own). The landscapes' scores
    are computed here (:func:`analysis.plots.im_landscape_data`), so that a drawing process runs
    matplotlib only."""
    seed = table.rows[0]["seed"]
    out = dict(formats=formats)
    grids, sheets, landscapes = [], [], []
    g0, l0 = landscape_point
    for size in sorted({sc.size for sc in scenarios}):
        of_size = [sc for sc in scenarios if sc.size == size]
        names, tag = [sc.name for sc in of_size], "".join(map(str, size))
        where = f"(s, n, m) = {size}: {decoder_noise} Σ_Z, seed {seed}"
        grids.append((plots.plot_reproduction_grids, (table, names, fig_dir / f"reproduction_grids_{tag}"),
                      dict(out, decoder_noise=decoder_noise, seed=seed, title=where)))
        sheets.append((plots.plot_grid_heatmaps, (table, names, fig_dir / f"scores_{tag}"),
                       dict(out, decoder_noise=decoder_noise, seed=seed, panels=plots.SCORE_PANELS,
                            title=f"Scores over the (γ, λ) grid — {where}")))
        items = []
        for sc in of_size:
            # the landscape at the grid point nearest landscape_point (default (1, 0): the VAE)
            rows = [r for r in table.rows if r["scenario"] == sc.name and r["B"] is not None]
            if rows:
                r = min(rows, key=lambda r: (abs(r["gamma"] - g0) + abs(r["lam"] - l0), r["seed"]))
                items.append((plots.im_landscape_data(sc, np.array(r["B"]), np.array(r["sigma_w"])),
                              f"{sc.name}, γ = {r['gamma']:g}, λ = {r['lam']:g} ({r['status']})"))
        if items:
            landscapes.append((plots.draw_im_landscapes, (items, fig_dir / f"landscapes_{tag}"),
                               dict(out, title=f"I_m landscapes, (s, n, m) = {size}")))
    bars = [(plots.plot_success_bars, (comparison, fig_dir / "success_rates"), out)]
    return bars + grids + ([(_draw_together, (sheets,), {})] if sheets else []) + landscapes


def _draw_together(jobs, show: bool = False) -> list[Path]:    # picklable: top level
    """Several figure jobs one after the other, in one process."""
    return [p for f, args, kwargs in jobs for p in f(*args, **kwargs, show=show)]


#: Drawing cost rank of each figure function (largest first, so that no process is left with a
#: long figure at the end).
_COST = {_draw_together: 0, plots.plot_reproduction_grids: 1, plots.draw_im_landscapes: 2,
         plots.plot_success_bars: 3}


def _run_job(job):                                          # in a worker (picklable: top level)
    f, args, kwargs = job
    return f(*args, **kwargs)


class Drawing:
    """Figure jobs being drawn: :meth:`start` hands them, most expensive first, to the workers of
    ``drawers`` (one at a time each: a thread per worker submits its next job when the last is
    done); :meth:`finish` has this process take the jobs left, then waits for the workers'.
    Without ``drawers`` (or with ``show``) everything is drawn here, in :meth:`finish`."""

    def __init__(self, jobs, *, show: bool = False, drawers: Drawers | None = None):
        self.jobs, self.show = list(jobs), show
        self.drawers = None if show else drawers
        self._left = deque(sorted(range(len(self.jobs)), key=lambda i: _COST.get(self.jobs[i][0], len(_COST))))
        self._lock = threading.Lock()
        self._done: dict[int, list[Path]] = {}
        self._errors: list[BaseException] = []
        self._feeders: list[threading.Thread] = []

    def _take(self) -> int | None:
        with self._lock:
            return self._left.popleft() if self._left else None

    def _feed(self) -> None:                                # a thread per worker
        try:
            while (i := self._take()) is not None:
                self._done[i] = self.drawers.pool.submit(_run_job, self.jobs[i]).result()
        except BaseException as exc:                        # raised by finish()
            self._errors.append(exc)

    def start(self) -> Drawing:
        if self.drawers is not None:                        # (the workers run already)
            self._feeders = [threading.Thread(target=self._feed, name=f"figures {k}", daemon=True)
                             for k in range(self.drawers.n_workers)]
            for t in self._feeders:
                t.start()
        return self

    def finish(self) -> list[Path]:
        """Draw the jobs left here, wait for the workers' and return every file in the jobs' order."""
        if self.drawers is None:
            return _draw_together(self.jobs, show=self.show)
        self.drawers.preparing.join()
        while (i := self._take()) is not None:
            self._done[i] = _run_job(self.jobs[i])
        for t in self._feeders:
            t.join()
        if self._errors:
            raise self._errors[0]
        return [p for i in range(len(self.jobs)) for p in self._done[i]]


def draw(jobs, *, show: bool = False, drawers: Drawers | None = None) -> list[Path]:
    """Draw ``jobs`` (from :func:`figure_jobs`) here and, when ``drawers`` is given (and ``show``
    is not set), in its workers too (:class:`Drawing`); returns the files in the jobs' order."""
    return Drawing(jobs, show=show, drawers=drawers).start().finish()


@dataclass
class Figures:
    """The reproduction's figures in ``fig_dir`` (:func:`start_figures`): :meth:`finish` returns
    ``(files, number kept)``."""

    fig_dir: Path
    key: str
    kept: list[Path] | None
    drawing: Drawing | None

    def finish(self) -> tuple[list[Path], int]:
        if self.kept is not None:
            return self.kept, len(self.kept)
        drawn = self.drawing.finish()
        write_text_atomic(self.fig_dir / FIGURES_KEY, json.dumps(
            {"key": self.key, "files": [str(Path(f).relative_to(self.fig_dir)) for f in drawn]}, indent=1))
        return drawn, 0


def start_figures(table, comparison, scenarios, fig_dir: Path, *, decoder_noise, show: bool,
                  landscape_point, formats, drawers: Drawers | None = None) -> Figures:
    """Start the reproduction's figures in ``fig_dir``: none when an earlier run with the same
    inputs left them there (its key, :func:`figures_key`), else the workers of ``drawers`` begin
    drawing now (while this process goes on) and :meth:`Figures.finish` draws the rest here."""
    key = figures_key(table, comparison, scenarios, decoder_noise=decoder_noise,
                      landscape_point=landscape_point, formats=formats)
    kept = figures_unchanged(fig_dir, key)
    if kept is not None and not show:
        return Figures(fig_dir, key, kept, None)
    jobs = figure_jobs(table, comparison, scenarios, fig_dir, decoder_noise=decoder_noise,
                       landscape_point=landscape_point, formats=formats)
    return Figures(fig_dir, key, None, Drawing(jobs, show=show, drawers=drawers).start())
