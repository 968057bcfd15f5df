"""The checkpoint half of :class:`neural.train.Trainer`: what a bit-for-bit resume stores
(:meth:`CheckpointMixin.state_dict`), the checks a resume makes before it mixes two runs, and the
atomic, pruned checkpoint files (:mod:`neural._checkpoint_io`)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import torch

from lingauss.params import InvalidParameter
from ._checkpoint_io import (atomic_torch_save, checkpoint_path, numpy_state_in, numpy_state_out,
                             prune_checkpoints, python_state_in, python_state_out)

__all__ = ["CheckpointMixin", "CHECKPOINT_FORMAT"]

#: 2: settings stored, RNG states as tensors (weights_only loads).
CHECKPOINT_FORMAT = 2


class CheckpointMixin:
    """Checkpoint methods of :class:`neural.train.Trainer` (they read and set its attributes)."""

    def state_dict(self) -> dict:
        """Everything a bit-for-bit resume needs (see the module doc)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "settings": json.dumps(self.settings, sort_keys=True),
            "model": self.model.state_dict(),
            "model_class": type(self.model).__qualname__,
            "optimizer": self.optimizer.state_dict(),
            "aux_optimizer": None if self.aux_optimizer is None else self.aux_optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "plateau_buffer": list(self._plateau_buffer),
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "bad_steps": self.bad_steps, "consecutive_bad": self.consecutive_bad,
            "seed": self.seed, "loader_generator": self._loader_gen_state, "batching": self._batching,
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                    "numpy": numpy_state_out(), "python": python_state_out()},
            "last": dict(self.last),
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("format") != CHECKPOINT_FORMAT:
            raise InvalidParameter(f"checkpoint format {state.get('format')!r} is not this version's "
                             f"({CHECKPOINT_FORMAT}); it cannot be resumed")
        saved = json.loads(state["settings"])
        differ = sorted(k for k in set(saved) | set(self.settings) if saved.get(k) != self.settings.get(k))
        if differ:
            raise InvalidParameter("checkpoint was written with other settings; resuming would mix two runs: "
                             + ", ".join(f"{k} {saved.get(k)!r} in the checkpoint vs {self.settings.get(k)!r} now"
                                         for k in differ)
                             + " (use another output folder, or the checkpoint's settings)")
        if state.get("model_class") != type(self.model).__qualname__:
            raise InvalidParameter(f"checkpoint is for a {state.get('model_class')}, not a "
                             f"{type(self.model).__qualname__}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if (state["aux_optimizer"] is None) != (self.aux_optimizer is None):
            raise InvalidParameter("checkpoint and trainer disagree on the auxiliary optimizer")
        if self.aux_optimizer is not None:
            self.aux_optimizer.load_state_dict(state["aux_optimizer"])
        if (state["scheduler"] is None) != (self.scheduler is None):
            raise InvalidParameter("checkpoint and trainer disagree on the plateau scheduler")
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self._plateau_buffer = list(state["plateau_buffer"])
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.bad_steps, self.consecutive_bad = int(state["bad_steps"]), int(state["consecutive_bad"])
        self.seed = int(state["seed"])
        self._loader_gen_state = state["loader_generator"]
        self._batching = state.get("batching")
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        numpy_state_in(rng["numpy"])
        python_state_in(rng["python"])
        self.last = dict(state.get("last", {}))
        self._started = True

    def save_checkpoint(self, path=None) -> Path:
        """Write a checkpoint atomically (default ``checkpoint_dir/step_XXXXXXXXX.pt``)."""
        if path is None:
            if self.checkpoint_dir is None:
                raise InvalidParameter("save_checkpoint needs a path or a checkpoint_dir")
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
            path = checkpoint_path(self.checkpoint_dir, self.step)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_torch_save(self.state_dict(), path)
        if self.checkpoint_dir is not None and path.parent == self.checkpoint_dir:
            prune_checkpoints(self.checkpoint_dir, self.keep_checkpoints)
        return path

    def load_checkpoint(self, path) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint`.

        Read with ``torch.load(weights_only=True)``: only tensors and plain containers/numbers are
        accepted, so a crafted file cannot run code; anything else is refused with a ValueError."""
        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidParameter(f"checkpoint {path} holds objects other than tensors and plain data "
                             f"(refused: loading it could run code): {first}") from None
        if not isinstance(state, dict):
            raise InvalidParameter(f"checkpoint {path} is not a trainer checkpoint")
        try:
            self.load_state_dict(state)
        except KeyError as exc:
            raise InvalidParameter(f"checkpoint {path} lacks the entry {exc}; not a trainer checkpoint") from None
