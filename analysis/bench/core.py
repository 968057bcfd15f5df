"""``lingauss bench core``: the compiled Blahut–Arimoto kernel against a plain numpy batched
implementation of the same updates, in one run.

Three comparisons on a scenario of Vu et al. (2024) (default (3,4,3) scenario 2, full Σ_Z):

* ours (:func:`lingauss.blahut_arimoto_grid`, one thread) vs :func:`numpy_batched_ba` — every point
  in lock-step on stacked ``np.linalg.inv`` / ``slogdet`` calls on (P, m, m) arrays, the same
  half-steps and the same loss each iteration, no status checks — on the same grid, the same
  initial decoder and the same fixed number of iterations (``tol = 0``), per point-iteration, on
  10,201 points (101 × 101) and on the 25 points of Vu et al.'s grid; the answers are compared;
* ours on 2 threads vs one on the 10,201 points;
* a loop of :func:`lingauss.blahut_arimoto` over the 25 points vs the grid call, per point, at the
  default stopping rule (the real job) and at the fixed budget;
* the main job, ``lingauss reproduce`` with its defaults, as a user runs it (a new process each
  time, kernels cached): cold (a new output folder: every point solved, every figure drawn) and
  warm (the same folder again: points and figures reused), with a check that every run printed
  the same tables.

Timings are wall-clock and CPU seconds of the fastest of at least three runs (as ``timeit``; a
short call is repeated for a quarter of a second), BLAS held to one thread, with the machine's load average beside them (other processes share the cores: a
thread-scaling figure under load understates the scaling).
A benchmark: run by a command, never by the tests.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

import lingauss as lg
from lingauss.params import InvalidParameter
from analysis.protocol import TALK_GAMMAS, TALK_LAMBDAS

__all__ = ["CoreBenchmark", "CoreRow", "bench_core", "format_core", "numpy_batched_ba", "time_main_job"]

#: Targets: ours ≤ 1/8 of numpy batched per point-iteration; 2 threads ≥ 1.8× one; per-point ≤ 2× grid.
TARGET_RATIO, TARGET_THREADS, TARGET_PER_POINT = 8.0, 1.8, 2.0
#: Targets of the main job (seconds of wall time on 2 cores): a cold and a warm ``lingauss reproduce``.
TARGET_COLD_S, TARGET_WARM_S = 4.0, 2.0


def numpy_batched_ba(sigma_y, A, sigma_z, gammas, lams, iterations: int):
    """The plain batched baseline: ``iterations`` BA steps (full Σ_Z) of every point at once.

    ``A`` (P, n, m) and ``sigma_z`` (P, n, n) start the P points; returns the final ``(A, Σ_Z, loss)``.
    """
    P, n, m = A.shape
    I_n, I_m = np.eye(n), np.eye(m)
    g, l = gammas[:, None, None], lams[:, None, None]
    A, Sz, total = A.copy(), sigma_z.copy(), None
    for _ in range(iterations):
        Pm = g * np.linalg.inv(Sz) + 2.0 * l * I_n               # P = γΣ_Z⁻¹ + 2λI
        At = np.swapaxes(A, 1, 2)
        Sw = np.linalg.inv(I_m + At @ Pm @ A)                    # Σ_W = (I + AᵀPA)⁻¹
        B = Sw @ At @ Pm                                         # B = Σ_W AᵀP
        C = sigma_y @ np.swapaxes(B, 1, 2)                       # Σ_YX = Σ_Y Bᵀ
        A = C @ np.linalg.inv(B @ C + Sw)                        # A = Σ_YX Σ_X⁻¹
        E = sigma_y - A @ np.swapaxes(C, 1, 2)
        Sz = 0.5 * (E + np.swapaxes(E, 1, 2))                    # Σ_Z = E
        kl = 0.5 * (np.trace(B @ C, axis1=1, axis2=2) + np.trace(Sw, axis1=1, axis2=2)
                    - np.linalg.slogdet(Sw)[1] - m)
        nll = 0.5 * (n * np.log(2 * np.pi) + np.linalg.slogdet(Sz)[1]
                     + np.trace(np.linalg.solve(Sz, E), axis1=1, axis2=2))
        total = kl + gammas * nll + lams * np.trace(E, axis1=1, axis2=2)
    return A, Sz, total


@dataclass(frozen=True)
class CoreRow:
    label: str
    points: int
    point_iterations: int
    wall_s: float
    cpu_s: float
    load: float

    @property
    def us_per_point_iteration(self) -> float:
        return 1e6 * self.wall_s / max(1, self.point_iterations)


@dataclass
class CoreBenchmark:
    scenario: str
    iterations: int
    rows: dict = field(default_factory=dict)
    max_abs_diff: dict = field(default_factory=dict)
    threads: int = 1
    #: ``{"cold": [s, ...], "warm": [s, ...], "load": float, "same_tables": bool}`` of
    #: :func:`time_main_job` (empty when not run)
    main_job: dict = field(default_factory=dict)


def time_main_job(runs: int = 3, args=()) -> dict:
    """Wall seconds of ``lingauss reproduce`` (defaults plus ``args``), each in a new process as a
    user runs it: ``runs`` cold runs (each into a new folder) and one warm rerun of each folder;
    ``same_tables`` says whether every run printed the same report."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    out = {"cold": [], "warm": [], "load": _load()}
    reports = set()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(runs):
            folder = Path(tmp) / f"run{k}"
            for kind in ("cold", "warm"):
                t = time.perf_counter()
                subprocess.run([sys.executable, "-m", "analysis.cli", "reproduce", "--out", str(folder),
                                "--quiet", *args], check=True, stdout=subprocess.DEVNULL)
                out[kind].append(time.perf_counter() - t)
                reports.add((folder / "report.md").read_text())
    out["same_tables"] = len(reports) == 1
    return out


def _load() -> float:
    return float(os.getloadavg()[0])


def _timed(label, fn, points, repeat: int = 3, min_total: float = 0.25, max_repeat: int = 50):
    """The fastest of at least ``repeat`` runs of ``fn`` (as ``timeit``: the others lost time to
    the rest of the machine), more runs for a short call (until ``min_total`` seconds, at most
    ``max_repeat``: a 2 ms call timed once is mostly timer and cache noise), with BLAS held to one
    thread (the baseline is one thread, like ours)."""
    from threadpoolctl import threadpool_limits

    load = _load()
    best, runs, spent = None, 0, 0.0
    with threadpool_limits(limits=1, user_api="blas"):
        while runs < max(1, int(repeat)) or (spent < min_total and runs < max_repeat):
            w, c = time.perf_counter(), time.process_time()
            out, pit = fn()
            wall, cpu = time.perf_counter() - w, time.process_time() - c
            runs, spent = runs + 1, spent + wall
            if best is None or wall < best[0]:
                best = (wall, cpu)
    return CoreRow(label, points, int(pit), best[0], best[1], load), out


def bench_core(grid: int = 101, iterations: int = 100, size=(3, 4, 3), scenario: int = 2,
               decoder_noise: str = "full", seed: int = 0, threads: int = 2, per_point: bool = True,
               progress: bool = True, main_job: bool = True) -> CoreBenchmark:
    """Run the comparisons of the module doc (``grid × grid`` points; ``threads`` for the scaling;
    ``main_job``: also time ``lingauss reproduce``, :func:`time_main_job`)."""
    if grid < 1 or iterations < 1:
        raise InvalidParameter("grid and iterations must be positive")
    sc = lg.talk_scenario(tuple(size), scenario)
    model, m, n = sc.model, sc.n_latents, sc.model.n
    res = CoreBenchmark(scenario=sc.name, iterations=iterations, threads=threads)
    A0, Sz0 = lg.initial_decoder(model.sigma_y, m, decoder_noise, "random", seed)
    kw = dict(decoder_noise=decoder_noise, rng=seed, max_iter=iterations, tol=0.0)
    lg.blahut_arimoto_grid(model, m, [1.0, 1.01], [0.0], **kw)              # load the compiled kernel
    grids = {"dense": (np.linspace(0.98, 1.02, grid), np.linspace(-0.02, 0.02, grid)),
             "talk": (np.asarray(TALK_GAMMAS), np.asarray(TALK_LAMBDAS))}
    for name, (gs, ls) in grids.items():
        P = gs.size * ls.size
        gg, ll = (x.ravel() for x in np.meshgrid(gs, ls, indexing="ij"))

        def ours(nj=1):
            r = lg.blahut_arimoto_grid(model, m, gs, ls, n_jobs=nj, progress=progress, **kw)
            return r, r.n_iter.sum()

        def base():
            out = numpy_batched_ba(model.sigma_y, np.broadcast_to(A0, (P, n, m)),
                                   np.broadcast_to(Sz0, (P, n, n)), gg, ll, iterations)
            return out, P * iterations

        res.rows[f"ours {name}"], r = _timed("ours, 1 thread", ours, P)
        res.rows[f"numpy {name}"], (A_np, _, _) = _timed("numpy batched", base, P)
        res.max_abs_diff[name] = float(np.max(np.abs(r.A.reshape(P, n, m) - A_np)))
        if name == "dense" and threads > 1:
            res.rows["ours dense threads"], _ = _timed(f"ours, {threads} threads", lambda: ours(threads), P)
    if per_point:
        gs, ls = grids["talk"]
        for budget, extra in (("default stopping rule", {}), (f"{iterations} iterations", dict(max_iter=iterations, tol=0.0))):
            kw2 = dict(decoder_noise=decoder_noise, rng=seed, **extra)

            def grid_call():
                r = lg.blahut_arimoto_grid(model, m, gs, ls, n_jobs=1, **kw2)
                return r, r.n_iter.sum()

            def loop():
                its = sum(lg.blahut_arimoto(model, m, g, l, **kw2).n_iter for g in gs for l in ls)
                return None, its

            res.rows[f"grid {budget}"], _ = _timed("blahut_arimoto_grid", grid_call, gs.size * ls.size)
            res.rows[f"loop {budget}"], _ = _timed("loop of blahut_arimoto", loop, gs.size * ls.size)
    if main_job:
        res.main_job = time_main_job()
    return res


def format_core(b: CoreBenchmark) -> str:
    """The benchmark's tables (Markdown) with the targets met or missed."""
    R = b.rows
    out = [f"Blahut-Arimoto core benchmark: {b.scenario}, full Sigma_Z, {b.iterations} iterations per point "
           "(tol = 0) unless stated; wall and CPU seconds of the fastest of at least 3 runs, BLAS on one thread; "
           "load = 1-minute load average at the start",
           "", "| run | points | point-iterations | wall (s) | CPU (s) | µs per point-iteration | load |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for key, r in R.items():
        out.append(f"| {key}: {r.label} | {r.points} | {r.point_iterations} | {r.wall_s:.3f} | {r.cpu_s:.3f} "
                   f"| {r.us_per_point_iteration:.3f} | {r.load:.1f} |")
    out.append("")

    def verdict(ok):
        return "met" if ok else "MISSED"

    for name in ("dense", "talk"):
        if f"ours {name}" in R:
            ratio = R[f"numpy {name}"].us_per_point_iteration / R[f"ours {name}"].us_per_point_iteration
            out.append(f"{name} ({R[f'ours {name}'].points} points): numpy batched / ours = {ratio:.1f}x per "
                       f"point-iteration (target >= {TARGET_RATIO:g}x: {verdict(ratio >= TARGET_RATIO)}); "
                       f"max |A_ours - A_numpy| = {b.max_abs_diff[name]:.1e}")
    if "ours dense threads" in R:
        s = R["ours dense"].wall_s / R["ours dense threads"].wall_s
        out.append(f"{b.threads} threads vs 1 on {R['ours dense'].points} points: {s:.2f}x (target >= "
                   f"{TARGET_THREADS:g}x: {verdict(s >= TARGET_THREADS)}; load {R['ours dense threads'].load:.1f} "
                   f"on {os.cpu_count()} cores)")
    for budget in [k[5:] for k in R if k.startswith("grid ")]:
        g, lo = R[f"grid {budget}"], R[f"loop {budget}"]
        ratio = (lo.wall_s / lo.points) / (g.wall_s / g.points)
        out.append(f"per point, {budget}: loop of blahut_arimoto {1e3 * lo.wall_s / lo.points:.2f} ms vs grid "
                   f"{1e3 * g.wall_s / g.points:.2f} ms = {ratio:.1f}x (target <= {TARGET_PER_POINT:g}x: "
                   f"{verdict(ratio <= TARGET_PER_POINT)})")
    if b.main_job:
        cold, warm = min(b.main_job["cold"]), min(b.main_job["warm"])
        runs = ", ".join(f"{c:.2f}/{w:.2f}" for c, w in zip(b.main_job["cold"], b.main_job["warm"]))
        out.append(f"main job (lingauss reproduce, a new process each run; cold/warm: {runs} s; load "
                   f"{b.main_job['load']:.1f} on {os.cpu_count()} cores): cold {cold:.2f} s (target <= "
                   f"{TARGET_COLD_S:g} s: {verdict(cold <= TARGET_COLD_S)}), warm {warm:.2f} s (target <= "
                   f"{TARGET_WARM_S:g} s: {verdict(warm <= TARGET_WARM_S)}); the same tables in every run: "
                   f"{'yes' if b.main_job['same_tables'] else 'NO'}")
    return "\n".join(out)
