"""Checkpoint files of :class:`neural.train.Trainer`: names ``step_XXXXXXXXX.pt``, atomic writes,
pruning to the newest few, and the numpy / Python RNG states as tensors and plain numbers (so a
checkpoint loads with ``torch.load(weights_only=True)``)."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import numpy as np
import torch

__all__ = ["CHECKPOINT_NAME", "checkpoint_path", "latest_checkpoint", "prune_checkpoints",
           "atomic_torch_save", "numpy_state_out", "numpy_state_in", "python_state_out", "python_state_in"]

#: Checkpoint file names: the global step, zero-padded.
CHECKPOINT_NAME = re.compile(r"^step_(\d+)\.pt$")


def checkpoint_path(checkpoint_dir: Path, step: int) -> Path:
    """``checkpoint_dir/step_XXXXXXXXX.pt`` for ``step``."""
    return Path(checkpoint_dir) / f"step_{int(step):09d}.pt"


def _found(checkpoint_dir: Path) -> list[tuple[int, Path]]:
    return sorted((int(m.group(1)), p) for p in Path(checkpoint_dir).iterdir()
                  if (m := CHECKPOINT_NAME.match(p.name)))


def latest_checkpoint(checkpoint_dir) -> Path | None:
    """The checkpoint with the highest step in ``checkpoint_dir`` (``None`` if there is none)."""
    d = Path(checkpoint_dir)
    if not d.is_dir():
        return None
    found = _found(d)
    return found[-1][1] if found else None


def prune_checkpoints(checkpoint_dir: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints of ``checkpoint_dir``."""
    for _, old in _found(checkpoint_dir)[:-int(keep)]:
        old.unlink(missing_ok=True)


def atomic_torch_save(obj, path: Path) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def numpy_state_out() -> dict:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def numpy_state_in(st: dict) -> None:
    np.random.set_state((st["name"], st["keys"].numpy().astype(np.uint32), int(st["pos"]),
                         int(st["has_gauss"]), float(st["cached_gaussian"])))


def python_state_out() -> dict:
    version, internal, gauss_next = random.getstate()
    return {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64),
            "gauss_next": gauss_next}


def python_state_in(st: dict) -> None:
    random.setstate((int(st["version"]), tuple(int(x) for x in st["state"].tolist()), st["gauss_next"]))
