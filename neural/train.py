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

import json
import math
import numbers
import random
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from lingauss.params import InvalidParameter
from ._batching import BatchStream, epoch_generator, to_device
from ._checkpoint_io import checkpoint_path, latest_checkpoint
from ._trainer_state import CheckpointMixin
from ._train_log import TrainLog

__all__ = ["Trainer", "FitResult", "TrainingDiverged", "latest_checkpoint", "epoch_generator"]



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
        raise InvalidParameter(f"config must hold JSON-able values (numbers, strings, lists): {exc}") from None


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


# ------------------------------------------------------------------------------------- trainer

def _make_optimizer(kind: str, params, lr, weight_decay, betas):
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=betas)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, betas=betas)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=betas[0])
    raise InvalidParameter(f"optimizer must be 'adamw', 'adam' or 'sgd', got {kind!r}")


class Trainer(CheckpointMixin):
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
            raise InvalidParameter(f"bad_step_policy must be 'consecutive' or 'total', got {bad_step_policy!r}")
        if on_divergence not in ("raise", "stop"):
            raise InvalidParameter(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")
        if int(max_bad_steps) < 1:
            raise InvalidParameter(f"max_bad_steps must be >= 1, got {max_bad_steps!r}")
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 <= lr < math.inf:
            raise InvalidParameter(f"lr must be a finite number >= 0, got {lr!r}")
        if grad_clip is not None and not grad_clip > 0:
            raise InvalidParameter(f"grad_clip must be > 0 or None, got {grad_clip!r}")
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
                    raise InvalidParameter(f"unknown plateau settings {sorted(unknown)}; known: {sorted(cfg)}")
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
            raise InvalidParameter(f"steps must be a non-negative integer, got {steps!r}")
        self._resume(resume)
        self._seed_once()
        self._set_batching({"batch_size": batch_size, "shuffle": bool(shuffle)})
        # a fresh trainer starts a fresh log; a resumed or continued one keeps rows up to its step
        logger = TrainLog(self.log_path, self.step if self.step > 0 else None) \
            if self.log_path is not None else None
        stream = BatchStream(data, batch_size=batch_size, shuffle=shuffle, seed=self.seed,
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
                batch = to_device(next(batches), self.device)
                self.epoch, self.batch_in_epoch = stream.epoch, stream.offset
                self._loader_gen_state = stream.loader_gen_state
                row, bad_names = self._train_step(batch)
                self.step += 1
                row = {"step": self.step, "epoch": self.epoch, **row}
                diverged = self._count_step(row, bad_names)
                if diverged is not None:
                    status, message = "diverged", diverged
                if logger is not None and (self.step % self.log_every == 0 or bad_names is not None
                                           or status != "completed"):
                    row["time"] = round(time.perf_counter() - t0, 6)
                    logger.write(row)
                self._show_progress(bar, row, steps)
                if status != "completed":
                    break
                if (self.checkpoint_dir is not None and self.checkpoint_every
                        and self.step % int(self.checkpoint_every) == 0):
                    ckpt = str(self.save_checkpoint())
            if status == "completed" and self.checkpoint_dir is not None and self.step > start_step:
                if ckpt is None or Path(ckpt) != checkpoint_path(self.checkpoint_dir, self.step):
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

    # ------------------------------------------------------------- the parts of one fit call
    def _resume(self, resume) -> None:
        """Load the checkpoint ``resume`` names (``"latest"``: the newest in ``checkpoint_dir``)."""
        if resume is None:
            return
        if resume == "latest":
            if self.checkpoint_dir is None:
                raise InvalidParameter("resume='latest' needs a checkpoint_dir")
            path = latest_checkpoint(self.checkpoint_dir)
            if path is not None:
                self.load_checkpoint(path)
        else:
            self.load_checkpoint(resume)

    def _seed_once(self) -> None:
        """Seed torch, numpy and ``random`` before a fresh trainer's first step (not on resume)."""
        if not self._started:
            torch.manual_seed(self.seed)
            np.random.seed(self.seed % 2 ** 32)
            random.seed(self.seed)
            self._started = True

    def _set_batching(self, batching: dict) -> None:
        if self._batching is not None and self._batching != batching and self.batch_in_epoch > 0:
            warnings.warn(f"resuming mid-epoch with batching {batching}, but the run so far used "
                          f"{self._batching}: the data order will not match the original run",
                          stacklevel=3)
        self._batching = batching

    def _count_step(self, row: dict, bad_names) -> str | None:
        """Book one step with the NaN/inf guard; the divergence message when it stops training."""
        if bad_names is None:
            self.consecutive_bad = 0
            self.last = {k: v for k, v in row.items() if k not in ("skipped",)}
            self._plateau_update(row["loss"])
            return None
        self.bad_steps += 1
        self.consecutive_bad += 1
        count = self.consecutive_bad if self.bad_step_policy == "consecutive" else self.bad_steps
        if count < self.max_bad_steps:
            return None
        what = ("consecutive " if self.bad_step_policy == "consecutive" else "")
        grads = (f"; non-finite gradients in: {', '.join(bad_names)}" if bad_names
                 else "; the loss itself was non-finite")
        return (f"training stopped at step {self.step}: {count} {what}steps had a "
                f"non-finite loss or gradient (max_bad_steps={self.max_bad_steps}, "
                f"policy {self.bad_step_policy!r}; {self.bad_steps} skipped in total)"
                f"{grads}. Parameters are those of the last good step.")

    def _show_progress(self, bar, row: dict, steps: int) -> None:
        if self.progress and (self.step % self.progress_every == 0 or self.step == steps):
            bar.set_postfix({k: f"{v:.4g}" for k, v in row.items()
                             if k not in ("step", "epoch", "time", "skipped")
                             and isinstance(v, float)}, refresh=False)
        bar.update(1)

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
