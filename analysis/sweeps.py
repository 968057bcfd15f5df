r"""(γ, λ) sweeps: batched Blahut–Arimoto per task, metrics per point, resumable, parallel.

A sweep is split into *tasks*: one scenario × decoder family × seed × a block of γ rows (all λ),
solved by one :func:`lingauss.blahut_arimoto_grid` call (every point of a task iterates in
lock-step on stacked matrices). Tasks run in this process, in a local process pool, or on any
executor with ``submit`` — a :class:`concurrent.futures.Executor` or a ``dask.distributed``
``Client`` — so the same call scales from a laptop to a cluster.

Resuming: with ``store=path`` the rows of each finished task are appended to a JSON-lines file in
one atomic write (:class:`~analysis.store.JsonlStore`). Every row has a ``key`` built from the
scenario (its Σ_Y, Σ_V, Γ and sizes), the solver settings (family, init, max_iter, tol), the seed and
(γ, λ); rerunning the same call reads the store and solves only the missing points (a grown grid solves
only its new points). A task that raises is recorded as rows with status ``"error"`` and never
stops the sweep; the next run retries those points (the newer row supersedes the error row on
reading). A file that is not a store is refused and left untouched. Several processes may sweep
into one store at once: every point is claimed before it is solved (:class:`~analysis.store.JsonlStore`
record locks, released by the OS when a process dies), so no point is solved or stored twice.

``executor="processes"`` is a loky pool (:mod:`analysis.pools`, joblib's backend, as scikit-learn
uses): workers are fresh interpreters (``fork`` + ``exec``, never a bare ``fork``, which is unsafe
once Numba/BLAS threads run) that never re-import the caller's main module, so a plain script
needs no ``if __name__ == "__main__":`` guard; workers ignore Ctrl-C, which the caller turns into
stopping them at once.

Every point of a task starts from the same random decoder (one draw seeded by ``seed``), so splitting
the grid into tasks does not change any number.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import wait as _cf_wait

import numpy as np
from tqdm.auto import tqdm

import lingauss as lg

from lingauss.params import InvalidParameter, MissingDependency
from . import pools
from .evaluate import apply_reading, failed_scores, relative_errors, score_encoder
from .protocol import Protocol
from .store import JsonlStore, merge_rows
from .table import SweepTable

__all__ = ["sweep", "scenario_fingerprint", "point_key", "AUTO_POOL_POINTS"]

#: ``executor="auto"`` starts a local process pool only when at least this many points are to be
#: solved: below it, starting workers (each importing lingauss) costs more than the compiled kernel
#: takes to solve the points in this process (on its own threads).
AUTO_POOL_POINTS = 20_000


def scenario_fingerprint(scenario) -> str:
    """A short hash of everything about a scenario that changes a solution or a success."""
    h = hashlib.sha256()
    for arr in (scenario.model.sigma_v, scenario.model.mixing, np.asarray([scenario.model.noise_var])):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    h.update(repr((scenario.name, scenario.n_latents, scenario.true_grouping)).encode())
    return h.hexdigest()[:16]


def point_key(scenario_fp: str, protocol: Protocol, seed: int, gamma: float, lam: float) -> str:
    """The store key of one point (see module doc)."""
    return f"{scenario_fp}|{protocol.solver_fingerprint}|{seed}|{float(gamma)!r}|{float(lam)!r}"


def _solve_task(task: dict) -> list[dict]:
    """Solve one task (top-level so that process pools and dask can pickle it). Never raises."""
    sc, protocol, seed = task["scenario"], task["protocol"], task["seed"]
    gammas, lams = np.asarray(task["gammas"]), np.asarray(task["lams"])
    base = {"scenario": sc.name, "size": list(sc.size), "true_grouping": [list(g) for g in sc.true_grouping],
            "decoder_noise": protocol.decoder_noise, "init": protocol.init, "seed": seed}
    try:
        res = lg.blahut_arimoto_grid(sc.model, sc.n_latents, gammas, lams,
                                     decoder_noise=protocol.decoder_noise_for(sc), init=protocol.init,
                                     rng=seed, max_iter=protocol.max_iter, tol=protocol.tol)
    except Exception as exc:                               # a failed point never stops a sweep
        return [{**base, "key": point_key(task["fp"], protocol, seed, g, l), "gamma": float(g),
                 "lam": float(l), "status": "error", "message": f"{type(exc).__name__}: {exc}",
                 "n_iter": 0, "loss_total": None, "loss_kl": None, "loss_nll": None, "loss_mse": None,
                 "relative_error": None, "relative_error_mean": None, "B": None, "sigma_w": None,
                 **failed_scores(str(exc))}
                for g in gammas for l in lams]
    rows = []
    sigma_y = sc.model.sigma_y
    for i, g in enumerate(gammas):
        for j, l in enumerate(lams):
            p = res.point(i, j)
            e_sampled, e_mean = relative_errors(sigma_y, p.A, p.B, p.sigma_w)
            rows.append({**base, "key": point_key(task["fp"], protocol, seed, g, l),
                         "gamma": float(g), "lam": float(l), "status": p.status,
                         "message": p.message, "n_iter": p.n_iter, "loss_total": p.loss.total,
                         "loss_kl": p.loss.kl, "loss_nll": p.loss.nll, "loss_mse": p.loss.mse,
                         "relative_error": e_sampled, "relative_error_mean": e_mean,
                         "B": p.B.tolist(), "sigma_w": p.sigma_w.tolist(),
                         **score_encoder(sc, p.B, p.sigma_w)})
    return rows


def _as_list(value, name):
    """A single item (a string counts as one) becomes ``[value]``; a sequence or array a list."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        return [value]
    out = list(value)
    if not out:
        raise InvalidParameter(f"{name} must not be empty")
    return out


def _axis(values, name) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    if arr.size == 0:
        raise InvalidParameter(f"{name} must be non-empty")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameter(f"{name} contains NaN or inf")
    if np.unique(arr).size != arr.size:
        raise InvalidParameter(f"{name} has repeated values")
    return arr


def _resolve_executor(executor, n_workers):
    """``(executor, owned, kind)``: kind is ``"local"``, ``"futures"`` or ``"dask"``."""
    if n_workers is not None and (isinstance(n_workers, (bool, np.bool_))
                                  or not isinstance(n_workers, (int, np.integer)) or n_workers < 1):
        raise InvalidParameter(f"n_workers must be None or a positive integer, got {n_workers!r}")
    if executor is None:
        return None, False, "local"
    if executor == "processes":
        return pools.process_pool(pools.default_workers(n_workers)), True, "futures"
    if executor == "dask":
        try:
            from distributed import get_client
        except ImportError:
            raise MissingDependency('executor="dask" needs the dist extra: pip install -e ".[dist]"') from None
        try:
            return get_client(), False, "dask"
        except ValueError:
            return pools.local_dask_client(pools.default_workers(n_workers)), True, "dask"
    if not hasattr(executor, "submit"):
        raise InvalidParameter(f'executor must be None, "processes", "dask" or an object with submit(), got {executor!r}')
    kind = "dask" if type(executor).__module__.split(".")[0] == "distributed" else "futures"
    return executor, False, kind


def _abandon(pool, kind) -> None:
    """Stop an owned pool at once (Ctrl-C, an error): :func:`analysis.pools.abandon`."""
    pools.abandon(pool, kind)


def _wait_first(futures, kind):
    """The futures of ``futures`` that are done, waiting for at least one."""
    if kind == "dask":
        from distributed import wait
        return wait(list(futures), return_when="FIRST_COMPLETED").done
    return _cf_wait(list(futures), return_when=FIRST_COMPLETED).done


def _window(pool, kind, n_workers) -> int:
    """How many tasks to keep in flight (claimed) at once: twice the workers."""
    if kind == "dask":
        try:
            workers = sum(pool.nthreads().values())
        except Exception:                                   # not a distributed.Client after all
            workers = n_workers or os.cpu_count() or 1
    else:
        workers = getattr(pool, "_max_workers", None) or n_workers or os.cpu_count() or 1
    return max(1, 2 * workers)


def _plan(series: dict, gammas, lams, done: dict, points_per_task: int) -> list[dict]:
    """Tasks (rectangular γ-block × λ-subset) covering the points of ``series`` not in ``done``.

    Consecutive γ rows whose missing λ values are the same form one block of at most
    ``points_per_task`` points, so a grown grid solves only its new points.
    """
    tasks, block, block_lams = [], [], None

    def flush():
        if block:
            tasks.append({**series, "gammas": list(block), "lams": list(block_lams),
                          "keys": [point_key(series["fp"], series["protocol"], series["seed"], g, l)
                                   for g in block for l in block_lams]})

    for g in gammas:
        missing = tuple(l for l in lams
                        if point_key(series["fp"], series["protocol"], series["seed"], g, l) not in done)
        per_block = max(1, points_per_task // max(1, len(missing)))
        if missing != block_lams or len(block) >= per_block:
            flush()
            block, block_lams = [], missing
        if missing:
            block.append(float(g))
    flush()
    return tasks


def _check_seeds(seeds) -> list[int]:
    out = []
    for s in _as_list(seeds, "seeds"):
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 0:
            raise InvalidParameter(f"seeds must be non-negative integers, got {s!r}")
        out.append(int(s))
    if len(set(out)) != len(out):
        raise InvalidParameter(f"seeds has repeated values: {out}")
    return out


def sweep(scenario, gammas, lambdas, *, decoder_noise=None, seeds=(0,), tolerance: float | None = None,
          protocol: Protocol | None = None, executor=None, n_workers: int | None = None, store=None,
          progress: bool = True, points_per_task: int = 256) -> SweepTable:
    """Solve and score every (scenario, γ, λ, seed, family) point; one tidy row per point.

    Parameters
    ----------
    scenario : a :class:`lingauss.Scenario` or a sequence of them
    gammas, lambdas : the grid axes (all pairs are run)
    decoder_noise : a family name or a list of them (default: ``protocol.decoder_noise``)
    seeds : seeds of the random initial decoder (one row per seed)
    tolerance : reconstruction tolerance (default: ``protocol.tolerance``, 5 %)
    protocol : the remaining choices (:class:`~analysis.protocol.Protocol`; default ``Protocol()``).
        Its scenario constants are not used here: the scenarios are given.
    executor : ``None`` (this process), ``"auto"`` (a local process pool when at least
        :data:`AUTO_POOL_POINTS` points are to be solved, else this process),
        ``"processes"`` (a local process pool of ``n_workers``),
        ``"dask"`` (the current dask client, or a new local cluster), or any object with
        ``submit`` (a ``concurrent.futures.Executor`` or a ``distributed.Client``)
    store : a JSON-lines path; finished tasks are appended atomically and a rerun solves only the
        missing points
    progress : a tqdm bar over points
    points_per_task : how many grid points one batched BA call solves (whole γ rows)

    Returns
    -------
    SweepTable
        rows in (scenario, family, seed, γ, λ) order, judged under the protocol's reading
        (:func:`analysis.evaluate.apply_reading`); ``n_computed`` / ``n_reused`` count the points
        solved now and read from the store.
    """
    protocol = protocol or Protocol()
    if tolerance is not None:
        protocol = protocol.but(label=protocol.label, tolerance=float(tolerance))
    scenarios = _as_list(scenario, "scenario")
    for sc in scenarios:
        if not isinstance(sc, lg.Scenario):
            raise InvalidParameter(f"scenario must be a lingauss.Scenario or a list of them, got {type(sc).__name__}")
    families = _as_list(decoder_noise if decoder_noise is not None else protocol.decoder_noise, "decoder_noise")
    protocols = [protocol.but(label=protocol.label, decoder_noise=f) for f in families]
    seeds = _check_seeds(seeds)
    if len(set(families)) != len(families):
        raise InvalidParameter(f"decoder_noise has repeated values: {families}")
    gammas, lams = _axis(gammas, "gammas"), _axis(lambdas, "lambdas")
    if np.any(gammas < 0):
        raise InvalidParameter("gammas must be ≥ 0")
    if not isinstance(points_per_task, int) or isinstance(points_per_task, bool) or points_per_task < 1:
        raise InvalidParameter(f"points_per_task must be a positive integer, got {points_per_task!r}")
    fps = [scenario_fingerprint(sc) for sc in scenarios]
    if len(set(fps)) != len(fps):
        raise InvalidParameter("scenario lists the same scenario twice")

    db = JsonlStore(store) if store is not None else None
    done: dict[str, dict] = {}
    if db is not None:
        db.check()                                      # refuse a file that is not a store, untouched
        db.open_locks()
    try:
        if db is not None:
            with db.locked():
                db.repair()
                merge_rows(done, db.read_new())
        # points that ended in error before this run are retried
        done = {k: r for k, r in done.items() if r.get("status") != "error"}
        series_list, order = [], []
        for sc, fp in zip(scenarios, fps):
            for proto in protocols:
                for seed in seeds:
                    series_list.append({"scenario": sc, "protocol": proto, "seed": seed, "fp": fp})
                    order.extend(point_key(fp, proto, seed, g, l) for g in gammas for l in lams)
        tasks = [t for ser in series_list for t in _plan(ser, gammas, lams, done, points_per_task)]
        n_todo = sum(len(t["keys"]) for t in tasks)
        computed: set[str] = set()
        bar = tqdm(total=n_todo, desc="sweep", unit="pt", disable=not progress or n_todo == 0)
        if executor == "auto":
            executor = "processes" if n_todo >= AUTO_POOL_POINTS else None
        pool, owned, kind = _resolve_executor(executor, n_workers) if tasks else (None, False, "local")
        try:
            _run_tasks(tasks, db, done, computed, pool, kind, bar,
                       window=_window(pool, kind, n_workers) if db is not None and kind != "local"
                       else len(tasks) or 1,
                       points_per_task=points_per_task, gammas=gammas, lams=lams)
        except BaseException:
            bar.close()
            if owned:
                _abandon(pool, kind)
            owned = False
            raise
        finally:
            bar.close()
            if owned:
                (pool.close if kind == "dask" else pool.shutdown)()
    finally:
        if db is not None:
            db.close_locks()
    rows = [apply_reading(done[k], protocol) for k in order]
    n_computed = sum(k in computed for k in order)
    return SweepTable(rows, n_computed=n_computed, n_reused=len(order) - n_computed)


def _run_tasks(tasks, db, done, computed, pool, kind, bar, *, window, points_per_task, gammas, lams):
    """Solve ``tasks``, claiming their points in ``db`` first (see :mod:`analysis.store`).

    A task whose points another process holds is put aside and taken up (waiting for the claim)
    when nothing else is left; after a claim the store is re-read and only points still missing are
    solved. Every landed row goes into ``done``; keys solved here go into ``computed``.
    """
    from collections import deque

    pending, deferred, in_flight = deque(tasks), deque(), {}

    def refresh():
        if db is not None:
            with db.locked():
                merge_rows(done, db.read_new())

    def land(task, rows):
        if db is not None:
            with db.locked():
                merge_rows(done, db.read_new())         # rows another process landed meanwhile
                new = [r for r in rows if r["key"] not in done]
                db.repair()                             # a process killed mid-write meanwhile
                db.append(new)
                db.read_new()                           # our own rows: skip past them
            db.release(task["keys"])
        else:
            new = [r for r in rows if r["key"] not in done]
        for r in new:
            done[r["key"]] = r
            computed.add(r["key"])
        bar.update(len(rows))

    def start(task, block) -> bool:
        """Claim and launch ``task`` (or the part of it still missing); False: held elsewhere."""
        if db is not None:
            if not db.claim(task["keys"], block=block):
                return False
            refresh()
            missing = [k for k in task["keys"] if k not in done]
            if len(missing) < len(task["keys"]):        # another process solved some meanwhile
                bar.update(len(task["keys"]) - len(missing))
                db.release([k for k in task["keys"] if k in done])
                parts = _plan(task, task["gammas"], task["lams"], done, points_per_task)
            else:
                parts = [task]
        else:
            parts = [task]
        for part in parts:
            if kind == "local":
                land(part, _solve_task(part))
            else:
                with pools.sigint_blocked_for_children():   # workers it starts ignore Ctrl-C
                    in_flight[pool.submit(_solve_task, part)] = part
        return True

    while pending or deferred or in_flight:
        while len(in_flight) < window and (pending or deferred):
            if deferred and start(deferred[0], block=False):
                deferred.popleft()
                continue
            if not pending:
                break
            task = pending.popleft()
            if not start(task, block=False):
                deferred.append(task)
        if in_flight:
            for fut in _wait_first(in_flight, kind):
                land(in_flight.pop(fut), fut.result())
        elif deferred:                                  # only others' points left: wait for them
            task = deferred.popleft()
            while not start(task, block=True):          # False only on a lock error (EDEADLK)
                pass
