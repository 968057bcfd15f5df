"""What every benchmark shares: configuration resolution, seeds, torch threads, the device, a
timed training, mean ± std over seeds, JSON-ready values and the atomic ``results.json``.

The benchmarks (:mod:`analysis.bench.core`, :mod:`analysis.bench.im`, :mod:`analysis.bench.koopman`,
:mod:`analysis.bench.flow`) read these helpers instead of writing their own. Nothing here imports
torch at import time (the core and I_m benchmarks run without it).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from lingauss.params import InvalidParameter

__all__ = ["resolve_config", "as_seeds", "torch_threads", "resolve_device", "timed_fit", "n_params",
           "mean_std", "mean_std_text", "jsonable", "write_json_atomic", "write_results_json",
           "RESULTS_FILE"]

#: The file name every benchmark writes into its ``--out`` folder.
RESULTS_FILE = "results.json"


def as_seeds(seeds) -> tuple[int, ...]:
    """``seeds`` as a non-empty tuple of non-negative ints (``ValueError`` naming ``seeds`` otherwise)."""
    try:
        out = tuple(int(s) for s in seeds)
    except (TypeError, ValueError):
        raise InvalidParameter(f"seeds must be non-negative integers, got {seeds!r}") from None
    if not out or any(s < 0 for s in out):
        raise InvalidParameter(f"seeds must be a non-empty list of non-negative integers, got {seeds!r}")
    return out


def resolve_config(config, configs: Mapping[str, dict], *, seeds=None, steps=None, steps_key: str = "steps",
                   overrides: Mapping | None = None) -> tuple[str, dict]:
    """``(name, configuration)``: ``config`` is a name of ``configs`` (copied) or a dict (``"custom"``).

    ``overrides`` replace keys of the configuration (an unknown key is a ``ValueError``); ``seeds``
    replaces ``"seeds"`` (:func:`as_seeds`); ``steps`` replaces ``steps_key`` (a positive integer).
    """
    if isinstance(config, str):
        if config not in configs:
            raise InvalidParameter(f"config must be one of {tuple(configs)}, got {config!r}")
        name, cfg = config, dict(configs[config])
    elif isinstance(config, Mapping):
        name, cfg = "custom", dict(config)
    else:
        raise InvalidParameter(f"config must be one of {tuple(configs)} or a dict, got {config!r}")
    if overrides:
        unknown = set(overrides) - set(cfg)
        if unknown:
            raise InvalidParameter(f"unknown configuration keys {sorted(unknown)}")
        cfg.update(overrides)
    if seeds is not None:
        cfg["seeds"] = as_seeds(seeds)
    if steps is not None:
        if isinstance(steps, bool) or int(steps) != steps or int(steps) < 1:
            raise InvalidParameter(f"steps must be a positive integer, got {steps!r}")
        cfg[steps_key] = int(steps)
    return name, cfg


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Set torch's intra-op threads to ``threads`` inside the block and restore them afterwards
    (``None`` or 0: leave the setting alone)."""
    import torch

    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        if threads:
            torch.set_num_threads(old)


def resolve_device(device) -> str:
    """A torch device string: ``None`` → ``"cpu"``; ``"auto"`` → ``"cuda"`` when a GPU is
    available, else ``"cpu"``; anything else as torch reads it. ``ValueError`` (naming ``device``)
    for a string torch does not read, or CUDA asked for where there is none."""
    import torch

    if device is None:
        return "cpu"
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InvalidParameter(f"device: not a torch device: {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidParameter(f"device {device!r} requested but CUDA is not available")
    return str(dev)


def timed_fit(model, data, *, steps: int, batch_size: int, lr: float, seed: int, device=None,
              progress: bool = False, **trainer_options):
    """Train ``model`` with :class:`neural.train.Trainer` and return ``(fit result, wall seconds)``;
    a CUDA device is synchronised before the clock stops."""
    import torch

    from neural.train import Trainer

    tr = Trainer(model, lr=lr, seed=seed, device=device, progress=progress, **trainer_options)
    t0 = time.perf_counter()
    res = tr.fit(data, steps, batch_size=batch_size)
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    return res, time.perf_counter() - t0


def n_params(module) -> int:
    """Number of parameters of a torch module."""
    return int(sum(p.numel() for p in module.parameters()))


def mean_std(values: Iterable, *, finite_only: bool = False) -> tuple[float, float, int]:
    """``(mean, sample std (ddof 1; 0 for one value), count)`` of ``values``; ``None`` entries are
    skipped. ``finite_only`` also skips NaN and infinities; otherwise they propagate (NaN mean).
    No values: ``(nan, nan, 0)``."""
    v = [x for x in values if x is not None]
    if finite_only:
        v = [x for x in v if math.isfinite(x)]
    a = np.asarray(v, dtype=float)
    if a.size == 0:
        return float("nan"), float("nan"), 0
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0, int(a.size)


def mean_std_text(values: Iterable, fmt: str = "{:.3f}", *, finite_only: bool = False) -> str:
    """``"m ± s"`` (``"m"`` for one value, ``"—"`` for none) of :func:`mean_std`."""
    m, s, n = mean_std(values, finite_only=finite_only)
    if n == 0:
        return "—"
    return fmt.format(m) if n == 1 else f"{fmt.format(m)} ± {fmt.format(s)}"


def jsonable(obj):
    """``obj`` ready for :mod:`json`: dict keys as strings, tuples as lists, numpy scalars as Python
    numbers, NaN and infinities as ``None``."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json_atomic(path, payload) -> Path:
    """Write ``payload`` as indented JSON to ``path`` atomically (a temporary file in the same folder,
    then :func:`os.replace`): a reader never sees half a file. Creates the folder; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, indent=2)
            fh.write("\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)          # the mode a plain open() would give
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_results_json(doc: dict, out_dir) -> Path:
    """``out_dir/results.json`` (:data:`RESULTS_FILE`) holding :func:`jsonable` ``(doc)``, written
    atomically; returns its path."""
    return write_json_atomic(Path(out_dir) / RESULTS_FILE, jsonable(doc))
