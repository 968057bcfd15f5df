"""Numba kernels compiled ahead of use: the warm-up registry and the one-line compile notice.

The core's kernels are compiled by Numba on their first call and cached on disk (``cache=True``:
in the package's ``__pycache__`` folders, or under ``NUMBA_CACHE_DIR`` when it is set), so the
cost is paid once per installation and machine — tens of seconds for the whole set, during which
nothing else happens. Two things keep that from being a silent stall:

* **The notice.** Whenever a kernel of this package is compiled (not loaded from the cache), one
  line goes to stderr first, once per process, saying what is happening and that it happens once.
* **The warm-up.** :func:`warmup` (the ``lingauss warmup`` command) calls every function
  registered here with small inputs that take the production code paths, so every kernel is
  compiled and cached before real work; afterwards a fresh process loads the kernels from the
  cache. Numba's ahead-of-time compiler (``numba.pycc``) is not used: it is deprecated, does not
  support ``parallel=True`` kernels, and would move the same compilation into ``pip install``.

A module with kernels adds one warm-up callable with :func:`register` (or the decorator form);
``lingauss warmup`` runs whatever is registered once :mod:`lingauss` is imported, so new kernels
join the warm-up without a list to edit.

Examples
--------
>>> from lingauss import warmup
>>> "im" in warmup.names()
True
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

from lingauss.params import InvalidParameter

__all__ = ["register", "names", "warmup", "WarmupReport", "compile_count", "NOTICE"]

#: The line printed to stderr (once per process) when a kernel of this package starts compiling.
NOTICE = ("lingauss: compiling Numba kernels on first use (tens of seconds, once per install: "
          "they are cached; `lingauss warmup` compiles them all ahead)")

_REGISTRY: dict[str, tuple[Callable[[], object], str]] = {}
_lock = threading.Lock()
_state = {"noticed": False, "compiles": 0, "quiet": 0}


def register(name: str, func: Callable[[], object] | None = None, *, description: str = ""):
    """Register ``func`` (no arguments) as the warm-up of ``name``; usable as a decorator.

    ``func`` should call the module's public entry points on small inputs that reach every
    kernel with the argument types of real calls. Registering a name twice raises ``ValueError``.
    """
    if not isinstance(name, str) or not name:
        raise InvalidParameter(f"name must be a non-empty string, got {name!r}")

    def deco(f):
        if not callable(f):
            raise InvalidParameter(f"func must be callable, got {f!r}")
        if name in _REGISTRY and _REGISTRY[name][0] is not f:
            raise InvalidParameter(f"name: a warm-up named {name!r} is already registered")
        _REGISTRY[name] = (f, description or (f.__doc__ or "").strip().split("\n")[0])
        return f

    return deco if func is None else deco(func)


def names() -> tuple[str, ...]:
    """Registered warm-up names, in registration order."""
    return tuple(_REGISTRY)


@dataclass(frozen=True)
class WarmupReport:
    """One warm-up: ``name``, ``seconds`` (wall), ``compiled`` (kernels compiled, i.e. not found
    in the cache; 0 on a warm cache) and its ``description``."""

    name: str
    seconds: float
    compiled: int
    description: str


def compile_count() -> int:
    """Kernels of this package compiled (not loaded from the cache) so far in this process."""
    return _state["compiles"]


def warmup(which=None, *, report: Callable[[str], None] | None = None) -> list[WarmupReport]:
    """Run the registered warm-ups (all, or the names in ``which``), compiling and caching every
    kernel they reach; a list of :class:`WarmupReport`.

    ``report`` is called with a line of text before and after each warm-up (progress); the
    compile notice is not printed during a warm-up. Raises ``ValueError`` for an unknown name.
    """
    chosen = names() if which is None else tuple(which)
    unknown = [n for n in chosen if n not in _REGISTRY]
    if unknown:
        raise InvalidParameter(f"which: unknown warm-up(s) {unknown}; registered: {names()}")
    out = []
    for n in chosen:
        func, description = _REGISTRY[n]
        if report is not None:
            report(f"warm-up {n}: {description} ...")
        c0, t0 = _state["compiles"], time.perf_counter()
        with _lock:
            _state["quiet"] += 1
        try:
            func()
        finally:
            with _lock:
                _state["quiet"] -= 1
        rep = WarmupReport(n, time.perf_counter() - t0, _state["compiles"] - c0, description)
        out.append(rep)
        if report is not None:
            report(f"warm-up {n}: {rep.compiled} kernel(s) compiled, {rep.seconds:.1f} s"
                   + ("" if rep.compiled else " (all from the cache)"))
    return out


def _ours(dispatcher) -> bool:
    mod = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    return mod == "lingauss" or mod.startswith("lingauss.")


def _install_notice() -> None:
    """Listen to Numba's compile events (they fire on a cache miss only, before compiling)."""
    from numba.core import event

    class _Notice(event.Listener):
        def on_start(self, ev):
            if not _ours(ev.data.get("dispatcher")):
                return
            with _lock:
                _state["compiles"] += 1
                show = not _state["noticed"] and not _state["quiet"]
                if show:
                    _state["noticed"] = True
            if show:
                print(NOTICE, file=sys.stderr, flush=True)

        def on_end(self, ev):
            pass

    event.register("numba:compile", _Notice())


_install_notice()
