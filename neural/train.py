r"""One trainer for every model: seeded, resumable bit-for-bit, logged, with a NaN/inf guard.

The model protocol
------------------
A model is a ``torch.nn.Module`` with

* ``loss(batch) -> dict[str, Tensor]``: the key ``"loss"`` is the scalar to minimise; every other
  scalar entry is a named term that is logged (e.g. ``"recon"``, ``"kl"``).
* optionally ``aux_parameters() -> iterable of Parameters`` and an ``"aux_loss"`` entry in the loss
  dict: a second objective minimised **only** w.r.t. the auxiliary parameters with their own
  optimizer (the FactorVAE discriminator). The main optimizer gets every other parameter, and the
  gradient of ``"loss"`` never reaches the auxiliary optimizer (its grads are cleared before
  ``aux_loss`` is back-propagated). The model must make ``aux_loss`` depend on the main parameters
  only through detached tensors. ``model.aux_optimizer_defaults`` (a dict with ``lr``, ``betas``)
  sets the auxiliary optimizer's defaults; ``Trainer(aux_lr=..., aux_betas=...)`` overrides them.

A batch is whatever the data yields, moved to the trainer's device: a tensor for a tensor/array
dataset, a tuple ``(images, factors)`` for a :class:`~neural.data.FactorDataset` or a
``TensorDataset``. :func:`neural.models.batch_images` takes the first element.

Steps, seeds and resuming
-------------------------
``fit(data, steps)`` trains **until the global step count equals** ``steps`` (so re-running the same
call with ``resume="latest"`` after a crash finishes the same run). A fresh trainer seeds torch,
numpy and Python's ``random`` with ``seed`` when it takes its first step. Map-style data (tensors,
arrays, datasets) is batched by the trainer: epoch ``e`` is shuffled by a ``torch.Generator`` seeded
from ``(seed, e)``, so a position in the data is just ``(epoch, batch)`` and a resumed run draws the
same batches without replaying the data. A checkpoint holds the model, the optimizers, the
scheduler and its running-loss window, the step and bad-step counters, the data position, and the
torch (CPU and CUDA), numpy and Python RNG states (as tensors and plain numbers, so checkpoints load
with ``torch.load(weights_only=True)`` and a crafted file cannot run code) and the run's settings
(the trainer's and the caller's ``config``; a resume with other settings is refused, naming
them): training N steps, saving, building a new
``Trainer`` on a new model instance, loading and training N more gives parameters ``torch.equal``
to 2N straight steps (``tests/neural/test_train.py``). For a user-built iterable (a ``DataLoader``)
the trainer re-creates the iterator and skips the batches already seen in the epoch; that is
bit-for-bit only when the loader's order is reproducible from its ``generator`` (whose state at
the epoch's start is checkpointed) — pass ``DataLoader(..., generator=torch.Generator())``.

NaN/inf guard
-------------
A step whose loss, auxiliary loss or any gradient is non-finite is **skipped**: no optimizer or
scheduler update, the parameters stay as they were, and the step is counted (logged with
``skipped=1``). With ``bad_step_policy="consecutive"`` (default) ``max_bad_steps`` bad steps in a
row stop training; with ``"total"`` the count never resets. Stopping raises
:class:`TrainingDiverged` (``on_divergence="raise"``, default) or returns a :class:`FitResult`
with ``status="diverged"`` (``on_divergence="stop"``); the message names the step, the counts and
the parameters whose gradients were non-finite.

Logs
----
``log_path`` ending in ``.csv`` gets CSV, anything else JSON lines; one row every ``log_every``
steps with ``step``, ``epoch``, every scalar loss term, ``grad_norm``, ``lr`` (and ``aux_lr``),
``skipped`` and ``time`` (seconds since this ``fit`` began). On resume the rows after the
checkpoint's step (written by the interrupted run) are dropped before appending. Checkpoints are
written atomically to ``checkpoint_dir/step_XXXXXXXXX.pt`` every ``checkpoint_every`` steps and at
the end of ``fit``; the newest ``keep_checkpoints`` are kept.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import os
import pickle
import random
import re
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

__all__ = ["Trainer", "FitResult", "TrainingDiverged", "latest_checkpoint", "epoch_generator"]

_CKPT_RE = re.compile(r"^step_(\d+)\.pt$")
_FORMAT = 2                        # 2: settings stored, RNG states as tensors (weights_only loads)


def _settings(config, **trainer) -> dict:
    """The settings a resume must match: the caller's ``config`` and the trainer's own."""
    out = {}
    for k, v in dict(config or {}).items():
        out[str(k)] = v
    for k, v in trainer.items():
        out.setdefault(k, v)
    # a JSON round trip: tuples become lists, so a reloaded checkpoint compares equal
    try:
        return json.loads(json.dumps(out, sort_keys=True))
    except TypeError as exc:
        raise ValueError(f"config must hold JSON-able values (numbers, strings, lists): {exc}") from None


def _numpy_state_out() -> dict:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def _numpy_state_in(st: dict) -> None:
    np.random.set_state((st["name"], st["keys"].numpy().astype(np.uint32), int(st["pos"]),
                         int(st["has_gauss"]), float(st["cached_gaussian"])))


def _python_state_out() -> dict:
    version, internal, gauss_next = random.getstate()
    return {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64),
            "gauss_next": gauss_next}


def _python_state_in(st: dict) -> None:
    random.setstate((int(st["version"]), tuple(int(x) for x in st["state"].tolist()), st["gauss_next"]))

_PLATEAU_DEFAULTS = {"factor": 0.5, "patience": 10, "window": 100, "threshold": 1e-4,
                     "min_lr": 0.0, "cooldown": 0}


class TrainingDiverged(RuntimeError):
    """Raised when the NaN/inf guard stops training; ``.result`` holds the :class:`FitResult`."""

    def __init__(self, message: str, result: "FitResult"):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class FitResult:
    """Outcome of :meth:`Trainer.fit`.

    ``status``: ``"completed"`` (reached ``steps``) or ``"diverged"`` (the NaN guard stopped it);
    ``message``; ``step``: the global step reached; ``steps_run`` in this call; ``bad_steps``:
    total skipped steps so far; ``last``: the last finite step's logged terms; ``checkpoint``: the
    path of the last checkpoint written (or ``None``); ``seconds``: wall time of this call;
    ``nan_guard``: the NaN/inf guard's stop rule in words (its threshold and policy).
    """

    status: str
    message: str
    step: int
    steps_run: int
    bad_steps: int
    last: dict = field(default_factory=dict)
    checkpoint: str | None = None
    seconds: float = 0.0
    nan_guard: str = ""


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The ``torch.Generator`` that shuffles epoch ``epoch`` of a run seeded with ``seed``."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(epoch)]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def latest_checkpoint(checkpoint_dir) -> Path | None:
    """The checkpoint with the highest step in ``checkpoint_dir`` (``None`` if there is none)."""
    d = Path(checkpoint_dir)
    if not d.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in d.iterdir() if (m := _CKPT_RE.match(p.name))]
    return max(found)[1] if found else None


def _to_device(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return type(batch)({k: _to_device(v, device) for k, v in batch.items()})
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_to_device(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def _atomic_torch_save(obj, path: Path) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------- data

class _TensorBatches:
    """Map-style data held as tensors: batches by direct indexing (no DataLoader overhead)."""

    def __init__(self, tensors: tuple[torch.Tensor, ...], single: bool):
        self.tensors, self.single = tensors, single

    def __len__(self):
        return self.tensors[0].shape[0]

    def take(self, idx):
        if self.single:
            return self.tensors[0][idx]
        return tuple(t[idx] for t in self.tensors)


class _BatchStream:
    """Endless batches from ``(epoch, batch)`` on; knows its position for checkpoints."""

    def __init__(self, data, *, batch_size, shuffle, seed, epoch, offset, gen_state):
        self.seed, self.shuffle, self.epoch, self.offset = seed, shuffle, epoch, offset
        self.loader_gen_state = gen_state
        self.source = None
        self.loader = None
        tensors = None
        if isinstance(data, np.ndarray):
            tensors, single = (torch.from_numpy(np.ascontiguousarray(data)),), True
        elif isinstance(data, torch.Tensor):
            tensors, single = (data,), True
        elif isinstance(data, torch.utils.data.TensorDataset):
            tensors, single = tuple(data.tensors), False
        elif hasattr(data, "torch_dataset") and hasattr(data, "factors"):
            tensors, single = tuple(data.torch_dataset().tensors), False
        if tensors is not None:
            self.source = _TensorBatches(tensors, single)
        elif hasattr(data, "__getitem__") and hasattr(data, "__len__") \
                and not isinstance(data, torch.utils.data.DataLoader):
            self.source = data
        else:
            if not isinstance(data, Iterable):
                raise TypeError(f"data must be a tensor, array, dataset or iterable of batches, "
                                f"got {type(data).__name__}")
            self.loader = data
        if self.source is not None:
            n = len(self.source)
            if n == 0:
                raise ValueError("data is empty")
            bs = n if batch_size is None else int(batch_size)
            if bs < 1:
                raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
            self.batch_size = min(bs, n)
            self.per_epoch = n // self.batch_size          # drop_last: equal-size batches
        self._it = None

    # map-style ----------------------------------------------------------------------------
    def _indices(self, epoch):
        n = len(self.source)
        if self.shuffle:
            return torch.randperm(n, generator=epoch_generator(self.seed, epoch))
        return torch.arange(n)

    def _map_iter(self):
        while True:
            perm = self._indices(self.epoch)
            for b in range(self.offset, self.per_epoch):
                idx = perm[b * self.batch_size:(b + 1) * self.batch_size]
                if isinstance(self.source, _TensorBatches):
                    batch = self.source.take(idx)
                else:
                    batch = torch.utils.data.default_collate([self.source[int(i)] for i in idx])
                self.offset = b + 1
                yield batch
            self.epoch, self.offset = self.epoch + 1, 0

    # iterable -----------------------------------------------------------------------------
    def _loader_iter(self):
        gen = getattr(self.loader, "generator", None)
        while True:
            if isinstance(gen, torch.Generator):
                if self.offset > 0 and self.loader_gen_state is not None:
                    gen.set_state(self.loader_gen_state)
                else:
                    self.loader_gen_state = gen.get_state()
            it = iter(self.loader)
            to_skip = self.offset
            got_any = False
            for i, batch in enumerate(it):
                got_any = True
                if i < to_skip:
                    continue
                self.offset = i + 1
                yield batch
            if not got_any:
                raise ValueError("data yielded no batches")
            self.epoch, self.offset = self.epoch + 1, 0
            self.loader_gen_state = None

    def __iter__(self):
        return self._map_iter() if self.source is not None else self._loader_iter()


# ------------------------------------------------------------------------------------- logging

class _Logger:
    def __init__(self, path: Path, keep_through_step: int | None):
        self.path = path
        self.csv = path.suffix.lower() == ".csv"
        self.fields: list[str] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        if keep_through_step is not None and path.exists():
            self._truncate(keep_through_step)
        elif keep_through_step is None and path.exists():
            path.unlink()                          # a fresh run starts a fresh log
        if self.csv and path.exists() and path.stat().st_size > 0:
            with open(path, newline="") as fh:
                self.fields = next(csv.reader(fh), None)
        self.fh = open(path, "a", newline="")
        self.writer = None
        if self.csv and self.fields:
            self.writer = csv.DictWriter(self.fh, self.fields, restval="", extrasaction="ignore")

    def _truncate(self, step: int) -> None:
        text = self.path.read_text()
        if self.csv:
            rows = list(csv.reader(io.StringIO(text)))
            if not rows:
                return
            head, body = rows[0], rows[1:]
            col = head.index("step") if "step" in head else 0
            keep = [r for r in body if r and int(float(r[col])) <= step]
            out = io.StringIO()
            w = csv.writer(out)
            w.writerow(head)
            w.writerows(keep)
            new = out.getvalue()
        else:
            lines = [ln for ln in text.splitlines() if ln.strip()]
            new = "".join(ln + "\n" for ln in lines if json.loads(ln).get("step", 0) <= step)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(new)
        os.replace(tmp, self.path)

    def write(self, row: dict) -> None:
        if self.csv:
            if self.writer is None:
                self.fields = list(row)
                self.writer = csv.DictWriter(self.fh, self.fields, restval="", extrasaction="ignore")
                self.writer.writeheader()
            self.writer.writerow(row)
        else:
            self.fh.write(json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                      for k, v in row.items()}) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


# ------------------------------------------------------------------------------------- trainer

def _make_optimizer(kind: str, params, lr, weight_decay, betas):
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=betas)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, betas=betas)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=betas[0])
    raise ValueError(f"optimizer must be 'adamw', 'adam' or 'sgd', got {kind!r}")


class Trainer:
    """Train any model that follows the protocol of :mod:`neural.train`.

    Parameters
    ----------
    model : ``torch.nn.Module`` with ``loss(batch) -> dict`` (key ``"loss"``)
    optimizer : ``"adamw"`` (default), ``"adam"`` or ``"sgd"`` (momentum = ``betas[0]``)
    lr, weight_decay, betas : optimizer settings (weight decay 0 by default)
    grad_clip : clip the total gradient 2-norm to this value (``None``: no clipping)
    plateau : ``None`` (constant lr), ``True`` (defaults) or a dict with ``factor`` (0.5),
        ``patience`` (10), ``window`` (100), ``threshold`` (1e-4), ``min_lr`` (0), ``cooldown`` (0):
        ``ReduceLROnPlateau`` stepped every ``window`` steps on the mean loss of those steps
        (skipped steps excluded), so ``patience`` counts windows
    max_bad_steps, bad_step_policy, on_divergence : the NaN/inf guard (module doc)
    seed : seeds torch/numpy/random at the first step and the per-epoch shuffling
    device : ``None`` → CPU; ``"auto"`` → CUDA when available; or any torch device
    deterministic : call ``torch.use_deterministic_algorithms(True, warn_only=True)`` (global)
    log_path, log_every : metrics file (``.csv`` → CSV, else JSON lines) and its period
    checkpoint_dir, checkpoint_every, keep_checkpoints : periodic atomic checkpoints
    progress, progress_every : tqdm bar with the loss terms in its postfix
    aux_optimizer, aux_lr, aux_betas : the auxiliary optimizer (module doc); ``None`` → the model's
        ``aux_optimizer_defaults`` or the main settings
    config : the run's own settings (JSON-able scalars/lists: model kind, β, latent size, data...);
        stored in every checkpoint with the trainer's settings (:attr:`settings`), and a resume whose
        settings differ is refused with a message naming them
    """

    def __init__(self, model: torch.nn.Module, *, optimizer: str = "adamw", lr: float = 1e-3,
                 weight_decay: float = 0.0, betas=(0.9, 0.999), grad_clip: float | None = None,
                 plateau: bool | dict | None = None, max_bad_steps: int = 10,
                 bad_step_policy: str = "consecutive", on_divergence: str = "raise", seed: int = 0,
                 device=None, deterministic: bool = False, log_path=None, log_every: int = 1,
                 checkpoint_dir=None, checkpoint_every: int | None = None, keep_checkpoints: int = 3,
                 progress: bool = True, progress_every: int = 10, aux_optimizer: str | None = None,
                 aux_lr: float | None = None, aux_betas=None, config: Mapping | None = None):
        if not callable(getattr(model, "loss", None)):
            raise TypeError("model must define loss(batch) -> dict with a 'loss' entry")
        if bad_step_policy not in ("consecutive", "total"):
            raise ValueError(f"bad_step_policy must be 'consecutive' or 'total', got {bad_step_policy!r}")
        if on_divergence not in ("raise", "stop"):
            raise ValueError(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")
        if int(max_bad_steps) < 1:
            raise ValueError(f"max_bad_steps must be >= 1, got {max_bad_steps!r}")
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 <= lr < math.inf:
            raise ValueError(f"lr must be a finite number >= 0, got {lr!r}")
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"grad_clip must be > 0 or None, got {grad_clip!r}")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device("cpu" if device is None else device)
        self.model = model.to(self.device)
        self.seed = int(seed)
        self.grad_clip = grad_clip
        self.max_bad_steps = int(max_bad_steps)
        self.bad_step_policy = bad_step_policy
        self.on_divergence = on_divergence
        self.log_path = None if log_path is None else Path(log_path)
        self.log_every = max(1, int(log_every))
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.checkpoint_every = checkpoint_every
        self.keep_checkpoints = max(1, int(keep_checkpoints))
        self.progress, self.progress_every = progress, max(1, int(progress_every))
        self.settings = _settings(config, model=type(model).__qualname__, optimizer=optimizer,
                                  lr=lr, weight_decay=weight_decay, betas=betas, grad_clip=grad_clip,
                                  plateau=plateau, max_bad_steps=max_bad_steps,
                                  bad_step_policy=bad_step_policy, seed=seed,
                                  aux_optimizer=aux_optimizer, aux_lr=aux_lr, aux_betas=aux_betas)
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)

        aux = list(model.aux_parameters()) if callable(getattr(model, "aux_parameters", None)) else []
        aux_ids = {id(p) for p in aux}
        self.main_params = [p for p in model.parameters() if p.requires_grad and id(p) not in aux_ids]
        self.aux_params = [p for p in aux if p.requires_grad]
        self._param_names = {id(p): name for name, p in model.named_parameters()}
        self.optimizer = _make_optimizer(optimizer, self.main_params, lr, weight_decay, tuple(betas))
        self.aux_optimizer = None
        if self.aux_params:
            defaults = dict(getattr(model, "aux_optimizer_defaults", {}) or {})
            self.aux_optimizer = _make_optimizer(
                aux_optimizer or defaults.get("optimizer", optimizer), self.aux_params,
                aux_lr if aux_lr is not None else defaults.get("lr", lr),
                defaults.get("weight_decay", weight_decay),
                tuple(aux_betas if aux_betas is not None else defaults.get("betas", betas)))
        self.plateau = None
        self.scheduler = None
        if plateau:
            cfg = dict(_PLATEAU_DEFAULTS)
            if isinstance(plateau, Mapping):
                unknown = set(plateau) - set(cfg)
                if unknown:
                    raise ValueError(f"unknown plateau settings {sorted(unknown)}; known: {sorted(cfg)}")
                cfg.update(plateau)
            self.plateau = cfg
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, mode="min", factor=cfg["factor"], patience=cfg["patience"],
                threshold=cfg["threshold"], min_lr=cfg["min_lr"], cooldown=cfg["cooldown"])

        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.bad_steps = 0                 # total skipped steps
        self.consecutive_bad = 0
        self._plateau_buffer: list[float] = []
        self._loader_gen_state = None
        self._batching = None
        self._started = False
        self.last: dict = {}

    @property
    def nan_guard(self) -> str:
        """The NaN/inf guard's stop rule, in words (reported in every :class:`FitResult`)."""
        what = "consecutive " if self.bad_step_policy == "consecutive" else ""
        return (f"steps with a non-finite loss or gradient are skipped; training stops after "
                f"{self.max_bad_steps} {what}such steps (max_bad_steps={self.max_bad_steps}, "
                f"policy {self.bad_step_policy!r})")

    # ---------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Everything a bit-for-bit resume needs (see the module doc)."""
        return {
            "format": _FORMAT,
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
                    "numpy": _numpy_state_out(), "python": _python_state_out()},
            "last": dict(self.last),
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("format") != _FORMAT:
            raise ValueError(f"checkpoint format {state.get('format')!r} is not this version's "
                             f"({_FORMAT}); it cannot be resumed")
        saved = json.loads(state["settings"])
        differ = sorted(k for k in set(saved) | set(self.settings) if saved.get(k) != self.settings.get(k))
        if differ:
            raise ValueError("checkpoint was written with other settings; resuming would mix two runs: "
                             + ", ".join(f"{k} {saved.get(k)!r} in the checkpoint vs {self.settings.get(k)!r} now"
                                         for k in differ)
                             + " (use another output folder, or the checkpoint's settings)")
        if state.get("model_class") != type(self.model).__qualname__:
            raise ValueError(f"checkpoint is for a {state.get('model_class')}, not a "
                             f"{type(self.model).__qualname__}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if (state["aux_optimizer"] is None) != (self.aux_optimizer is None):
            raise ValueError("checkpoint and trainer disagree on the auxiliary optimizer")
        if self.aux_optimizer is not None:
            self.aux_optimizer.load_state_dict(state["aux_optimizer"])
        if (state["scheduler"] is None) != (self.scheduler is None):
            raise ValueError("checkpoint and trainer disagree on the plateau scheduler")
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
        _numpy_state_in(rng["numpy"])
        _python_state_in(rng["python"])
        self.last = dict(state.get("last", {}))
        self._started = True

    def save_checkpoint(self, path=None) -> Path:
        """Write a checkpoint atomically (default ``checkpoint_dir/step_XXXXXXXXX.pt``)."""
        if path is None:
            if self.checkpoint_dir is None:
                raise ValueError("save_checkpoint needs a path or a checkpoint_dir")
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
            path = self.checkpoint_dir / f"step_{self.step:09d}.pt"
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_torch_save(self.state_dict(), path)
        if self.checkpoint_dir is not None and path.parent == self.checkpoint_dir:
            found = sorted((int(m.group(1)), p) for p in self.checkpoint_dir.iterdir()
                           if (m := _CKPT_RE.match(p.name)))
            for _, old in found[:-self.keep_checkpoints]:
                old.unlink(missing_ok=True)
        return path

    def load_checkpoint(self, path) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint`.

        Read with ``torch.load(weights_only=True)``: only tensors and plain containers/numbers are
        accepted, so a crafted file cannot run code; anything else is refused with a ValueError."""
        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"checkpoint {path} holds objects other than tensors and plain data "
                             f"(refused: loading it could run code): {first}") from None
        if not isinstance(state, dict):
            raise ValueError(f"checkpoint {path} is not a trainer checkpoint")
        try:
            self.load_state_dict(state)
        except KeyError as exc:
            raise ValueError(f"checkpoint {path} lacks the entry {exc}; not a trainer checkpoint") from None

    # -------------------------------------------------------------------------------- training
    def _lr(self, opt):
        return float(opt.param_groups[0]["lr"])

    def _nonfinite_names(self) -> list[str]:
        names = []
        for p in self.main_params + self.aux_params:
            if p.grad is not None and not bool(torch.isfinite(p.grad).all()):
                names.append(self._param_names.get(id(p), "?"))
        return names

    def _grad_norm(self, params) -> torch.Tensor:
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return torch.zeros((), device=self.device)
        return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach().float()) for g in grads]))

    def fit(self, data, steps: int, *, batch_size: int | None = 64, shuffle: bool = True,
            resume=None) -> FitResult:
        """Train until the global step equals ``steps``.

        ``data``: a tensor or array (N, ...), a ``TensorDataset``, a :class:`FactorDataset`, any
        map-style dataset (batched by the trainer: ``batch_size`` rows, ``None`` = the whole data,
        equal-size batches, last partial batch dropped, shuffled per epoch from ``seed``), or any
        iterable of batches such as a ``DataLoader`` (``batch_size``/``shuffle`` then unused).
        ``resume``: ``None``, ``"latest"`` (the newest checkpoint in ``checkpoint_dir``, if any) or
        a checkpoint path. Returns a :class:`FitResult`; raises :class:`TrainingDiverged` when the
        NaN guard stops training and ``on_divergence="raise"``.
        """
        if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        if resume is not None:
            if resume == "latest":
                if self.checkpoint_dir is None:
                    raise ValueError("resume='latest' needs a checkpoint_dir")
                path = latest_checkpoint(self.checkpoint_dir)
                if path is not None:
                    self.load_checkpoint(path)
            else:
                self.load_checkpoint(resume)
        if not self._started:
            torch.manual_seed(self.seed)
            np.random.seed(self.seed % 2 ** 32)
            random.seed(self.seed)
            self._started = True
        batching = {"batch_size": batch_size, "shuffle": bool(shuffle)}
        if self._batching is not None and self._batching != batching and self.batch_in_epoch > 0:
            warnings.warn(f"resuming mid-epoch with batching {batching}, but the run so far used "
                          f"{self._batching}: the data order will not match the original run",
                          stacklevel=2)
        self._batching = batching
        # a fresh trainer starts a fresh log; a resumed or continued one keeps rows up to its step
        logger = _Logger(self.log_path, self.step if self.step > 0 else None) \
            if self.log_path is not None else None
        stream = _BatchStream(data, batch_size=batch_size, shuffle=shuffle, seed=self.seed,
                              epoch=self.epoch, offset=self.batch_in_epoch,
                              gen_state=self._loader_gen_state)
        start_step, t0 = self.step, time.perf_counter()
        status, message, ckpt = "completed", f"reached step {steps}", None
        bar = tqdm(total=steps, initial=min(self.step, steps), disable=not self.progress,
                   desc=type(self.model).__name__, dynamic_ncols=True)
        self.model.train()
        try:
            batches = iter(stream)
            while self.step < steps:
                batch = _to_device(next(batches), self.device)
                self.epoch, self.batch_in_epoch = stream.epoch, stream.offset
                self._loader_gen_state = stream.loader_gen_state
                row, bad_names = self._train_step(batch)
                self.step += 1
                row = {"step": self.step, "epoch": self.epoch, **row}
                if bad_names is not None:
                    self.bad_steps += 1
                    self.consecutive_bad += 1
                    count = self.consecutive_bad if self.bad_step_policy == "consecutive" else self.bad_steps
                    if count >= self.max_bad_steps:
                        what = ("consecutive " if self.bad_step_policy == "consecutive" else "")
                        grads = (f"; non-finite gradients in: {', '.join(bad_names)}" if bad_names
                                 else "; the loss itself was non-finite")
                        status = "diverged"
                        message = (f"training stopped at step {self.step}: {count} {what}steps had a "
                                   f"non-finite loss or gradient (max_bad_steps={self.max_bad_steps}, "
                                   f"policy {self.bad_step_policy!r}; {self.bad_steps} skipped in total)"
                                   f"{grads}. Parameters are those of the last good step.")
                else:
                    self.consecutive_bad = 0
                    self.last = {k: v for k, v in row.items() if k not in ("skipped",)}
                    self._plateau_update(row["loss"])
                if logger is not None and (self.step % self.log_every == 0 or bad_names is not None
                                           or status != "completed"):
                    row["time"] = round(time.perf_counter() - t0, 6)
                    logger.write(row)
                if self.progress and (self.step % self.progress_every == 0 or self.step == steps):
                    bar.set_postfix({k: f"{v:.4g}" for k, v in row.items()
                                     if k not in ("step", "epoch", "time", "skipped")
                                     and isinstance(v, float)}, refresh=False)
                bar.update(1)
                if status != "completed":
                    break
                if (self.checkpoint_dir is not None and self.checkpoint_every
                        and self.step % int(self.checkpoint_every) == 0):
                    ckpt = str(self.save_checkpoint())
            if status == "completed" and self.checkpoint_dir is not None and self.step > start_step:
                if ckpt is None or not ckpt.endswith(f"step_{self.step:09d}.pt"):
                    ckpt = str(self.save_checkpoint())
        finally:
            bar.close()
            if logger is not None:
                logger.close()
        result = FitResult(status=status, message=message, step=self.step,
                           steps_run=self.step - start_step, bad_steps=self.bad_steps,
                           last=dict(self.last), checkpoint=ckpt,
                           seconds=time.perf_counter() - t0, nan_guard=self.nan_guard)
        self.result = result
        if status == "diverged" and self.on_divergence == "raise":
            raise TrainingDiverged(message, result)
        return result

    def _plateau_update(self, loss: float) -> None:
        if self.scheduler is None:
            return
        self._plateau_buffer.append(float(loss))
        if len(self._plateau_buffer) >= int(self.plateau["window"]):
            self.scheduler.step(float(np.mean(self._plateau_buffer)))
            self._plateau_buffer = []

    def _train_step(self, batch):
        """One guarded step → (log row, None) or (log row, names of non-finite grads) when skipped."""
        out = self.model.loss(batch)
        if not isinstance(out, Mapping) or "loss" not in out:
            raise TypeError("model.loss(batch) must return a dict with a 'loss' entry")
        loss = out["loss"]
        aux_loss = out.get("aux_loss")
        if aux_loss is not None and self.aux_optimizer is None:
            raise TypeError("model.loss returned 'aux_loss' but the model has no aux_parameters()")
        self.optimizer.zero_grad(set_to_none=True)
        if self.aux_optimizer is not None:
            self.aux_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.aux_optimizer is not None:
            for p in self.aux_params:
                p.grad = None
            if aux_loss is not None:
                aux_loss.backward()
        norm = self._grad_norm(self.main_params)
        checks = [loss.detach().reshape(()), norm]
        if self.aux_optimizer is not None:
            aux_norm = self._grad_norm(self.aux_params)
            checks.append(aux_norm)
            if aux_loss is not None:
                checks.append(aux_loss.detach().reshape(()))
        scalars = {k: v.detach().reshape(()) for k, v in out.items()
                   if isinstance(v, torch.Tensor) and v.numel() == 1}
        values = torch.stack([v.to(torch.float64) for v in list(scalars.values()) + checks]).tolist()
        row = dict(zip(scalars, values[:len(scalars)]))
        row["grad_norm"] = values[len(scalars) + 1]
        if self.aux_optimizer is not None:
            row["aux_grad_norm"] = values[len(scalars) + 2]
        ok = all(math.isfinite(v) for v in values)
        row["lr"] = self._lr(self.optimizer)
        if self.aux_optimizer is not None:
            row["aux_lr"] = self._lr(self.aux_optimizer)
        if not ok:
            names = self._nonfinite_names()
            self.optimizer.zero_grad(set_to_none=True)
            if self.aux_optimizer is not None:
                self.aux_optimizer.zero_grad(set_to_none=True)
            row["skipped"] = 1
            return row, names
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.main_params, self.grad_clip)
            if self.aux_params:
                torch.nn.utils.clip_grad_norm_(self.aux_params, self.grad_clip)
        self.optimizer.step()
        if self.aux_optimizer is not None:
            self.aux_optimizer.step()
        row["skipped"] = 0
        return row, None
