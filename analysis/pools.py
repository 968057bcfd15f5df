r"""The local process pool of :func:`analysis.sweep` and how it is stopped.

Workers are started by joblib's *loky* backend (the one scikit-learn uses): each worker is a
fresh interpreter started by ``fork`` + ``exec`` (never a bare ``fork`` of a process whose Numba or
BLAS thread pools may hold locks), and the user's main module is **not** re-imported in the
workers — so a plain script that calls ``sweep(..., executor="processes")`` with no
``if __name__ == "__main__":`` guard works, as it does with scikit-learn's ``n_jobs``.

Ctrl-C: the workers ignore SIGINT (the disposition is set before they start, so even a Ctrl-C
during their start-up prints nothing), and the parent — which alone sees the
``KeyboardInterrupt`` — ends them at once (:func:`abandon`); a terminal's Ctrl-C to the whole
process group therefore prints no worker traceback and leaves no semaphore behind.

The same holds for the local Dask cluster of ``executor="dask"`` (:func:`local_dask_client`):
its nanny and worker processes start with SIGINT ignored and their logs at ``error`` level, so a
Ctrl-C leaves one line from the parent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

__all__ = ["process_pool", "forked_pool", "can_fork", "local_dask_client", "abandon", "sigint_blocked_for_children"]


def _ignore_sigint() -> None:                    # worker initializer (picklable: top level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def sigint_blocked_for_children(start_trackers: bool = True):
    """Processes and threads started inside this block by this thread inherit SIGINT *blocked*
    (a signal mask survives ``fork`` and ``exec``), so a Ctrl-C to the process group never reaches
    them, even before their own code runs. This process stays interruptible: a Ctrl-C sent to the
    process is taken by another thread (Python raises it here at once), and one sent to this
    thread alone stays pending and is raised on leaving the block — delayed, never lost.

    ``start_trackers``: start the resource trackers first (see :func:`_start_resource_trackers`);
    a pool of forked workers (:func:`forked_pool`) needs none."""
    if (not hasattr(signal, "pthread_sigmask")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    if start_trackers:
        _start_resource_trackers()      # Python 3.11's would *unblock* SIGINT when it starts
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _start_resource_trackers() -> None:
    """Start the standard library's and loky's resource trackers now, outside the block: the
    standard library's (3.11) ends its own start-up with ``SIG_UNBLOCK`` of SIGINT."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    with contextlib.suppress(ImportError):
        from joblib.externals.loky.backend import resource_tracker as loky_tracker

        loky_tracker.ensure_running()


def _start_worker(prepare) -> None:             # worker initializer with a preparation step
    _ignore_sigint()
    prepare()


def _initializer(prepare):
    """A worker initializer: SIGINT ignored, then ``prepare()`` when given."""
    import functools

    return _ignore_sigint if prepare is None else functools.partial(_start_worker, prepare)


def process_pool(n_workers: int, prepare=None):
    """A loky process pool of ``n_workers`` workers that ignore SIGINT (see module doc).

    Workers are started when tasks are first submitted; submit the first tasks inside
    :func:`sigint_blocked_for_children` (as :func:`analysis.sweep` does) so that even their start-up
    is quiet under Ctrl-C. The initializer ignores SIGINT again for a worker started later, then
    calls ``prepare()`` (a picklable function, e.g. one that imports what the tasks need).
    """
    from joblib.externals.loky.backend.context import get_context
    from joblib.externals.loky.process_executor import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=int(n_workers), context=get_context("loky"),
                               initializer=_initializer(prepare))


def can_fork() -> bool:
    """Whether :func:`forked_pool` may fork this process now: on Linux, and only while this is the
    process's one Python thread (a fork copies no other thread, and a lock one of them held would
    stay locked in the child)."""
    import multiprocessing

    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


def forked_pool(n_workers: int, prepare=None):
    """A :class:`concurrent.futures.ProcessPoolExecutor` of ``n_workers`` workers *forked* from this
    process, started at once, SIGINT ignored, ``prepare()`` run in each.

    A forked worker starts in milliseconds and already holds every module this process imported
    (a loky worker is a new interpreter: ~1 s to import numpy, Numba and lingauss again), and it
    ends with ``os._exit`` (no interpreter teardown); its queues' semaphores are unlinked at once,
    so a killed worker leaves nothing for a resource tracker. The price is the rule of
    :func:`can_fork` (checked here: ``RuntimeError`` otherwise) and the one of every fork: the
    workers must not use thread pools this process started before (Numba's, BLAS's) — the
    reproduction's drawing workers run matplotlib only.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if not can_fork():
        raise RuntimeError("forked_pool: this process runs other threads (or is not on Linux); use process_pool")
    pool = ProcessPoolExecutor(max_workers=int(n_workers), mp_context=multiprocessing.get_context("fork"),
                               initializer=_initializer(prepare))
    with sigint_blocked_for_children(start_trackers=False):   # the workers inherit the block
        pool.submit(int)                   # forks every worker now, before the pool's own thread starts
    return pool


_DASK_LOGGERS = ("distributed", "distributed.nanny", "distributed.worker", "distributed.scheduler",
                 "distributed.core", "distributed.comm", "distributed.utils")


def _silence_dask() -> None:
    """Nothing more from distributed or asyncio (abandoned start-up tasks) once we abandon."""
    import logging

    for name in (*_DASK_LOGGERS, "asyncio", "tornado", "tornado.application"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def local_dask_client(n_workers: int):
    """A new local Dask cluster of ``n_workers`` single-threaded worker processes, quiet under
    Ctrl-C (nanny and workers start with SIGINT ignored; distributed's logs at ``error``)."""
    import logging

    from distributed import Client

    for name in _DASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    from distributed.deploy.spec import SpecCluster

    _quiet_tracker_about_killed_workers()
    _start_resource_trackers()
    before, clusters = _descendants(), set(SpecCluster._instances)
    try:
        client = _in_quiet_thread(lambda: Client(n_workers=n_workers, threads_per_worker=1,
                                                 processes=True, dashboard_address=None,
                                                 silence_logs=logging.ERROR))
    except BaseException:                                 # Ctrl-C while the cluster starts
        _silence_dask()
        _kill(_descendants() - before)
        for cluster in set(SpecCluster._instances) - clusters:
            SpecCluster._instances.discard(cluster)       # its atexit close would wait 10 s
        raise
    _CLUSTER_PIDS[id(client)] = _descendants() - before
    return client


_TRACKER_WARNING = "ignore:resource_tracker:UserWarning"   # -W takes a literal prefix


def _quiet_tracker_about_killed_workers() -> None:
    """A Dask worker killed on Ctrl-C leaves semaphores that the standard library's resource
    tracker unlinks at shutdown, with a warning per kind; the tracker we start (it reads its
    warning filters from ``sys.warnoptions``) does the same clean-up without the warning."""
    from multiprocessing import resource_tracker

    if getattr(resource_tracker._resource_tracker, "_fd", None) is None \
            and _TRACKER_WARNING not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_WARNING)


def _in_quiet_thread(make):
    """``make()`` run in a thread that has SIGINT blocked, so every thread and process it starts
    (Dask's event-loop thread, which spawns the workers) inherits the block, while this thread
    stays interruptible: a Ctrl-C here raises at once, not when ``make`` returns."""
    out: dict = {}

    def target():
        try:
            out["value"] = make()
        except BaseException as exc:                      # handed to the caller
            out["error"] = exc

    with sigint_blocked_for_children():
        thread = threading.Thread(target=target, name="lingauss-start-cluster", daemon=True)
        thread.start()
    while thread.is_alive():
        thread.join(0.05)
    if "error" in out:
        raise out["error"]
    return out["value"]


_CLUSTER_PIDS: dict[int, set[int]] = {}                # id(client) -> its cluster's processes


def _descendants() -> set[int]:
    try:
        import psutil
    except ImportError:                                   # pragma: no cover - loky needs psutil
        return set()
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _kill(pids) -> None:
    import psutil

    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            proc.kill()
            procs.append(proc)
    psutil.wait_procs(procs, timeout=1)


def abandon(pool, kind: str) -> None:
    """Stop an owned pool at once (Ctrl-C, an error): cancel queued tasks, end running workers."""
    if kind == "dask":
        pids = _CLUSTER_PIDS.pop(id(pool), None)
        if pids is None:                                  # a client we did not start: close it
            with contextlib.suppress(Exception):
                pool.close(timeout=2)
            return
        # our own local cluster: end its processes at once, then let the client go without the
        # graceful hand-shake (which would wait for the dead workers and log about them)
        cluster = getattr(pool, "cluster", None)
        _silence_dask()
        for nanny in (getattr(cluster, "workers", None) or {}).values():
            nanny.auto_restart = False                    # no respawn of a worker we kill
        _kill(pids)
        # a graceful close would wait for the workers we killed (forever, for one killed while
        # it started): mark client and cluster closed and stop the client's event loop instead
        with contextlib.suppress(Exception):
            from distributed.core import Status
            from distributed.deploy.spec import SpecCluster

            SpecCluster._instances.discard(cluster)      # its atexit close would wait 10 s
            cluster.status = Status.closed
        pool.status = "closed"
        with contextlib.suppress(Exception):
            pool._loop_runner.stop(timeout=1)
        return

    shutdown = pool.shutdown
    try:                                           # loky: kill the workers, do not wait
        shutdown(wait=False, kill_workers=True)
        return
    except TypeError:                              # a concurrent.futures pool
        pass
    terminate = getattr(pool, "terminate_workers", None)           # Python ≥ 3.14
    if terminate is not None:
        terminate()
        return
    workers = list((getattr(pool, "_processes", None) or {}).values())
    shutdown(wait=False, cancel_futures=True)
    for proc in workers:
        if proc.is_alive():
            proc.terminate()


def worker_count(pool) -> int | None:
    """The number of workers of a futures pool, where it says."""
    return getattr(pool, "_max_workers", None)


def default_workers(n_workers: int | None) -> int:
    return n_workers or os.cpu_count() or 1
