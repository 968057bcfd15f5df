"""Batches for :class:`neural.train.Trainer`: map-style data shuffled per epoch from ``(seed, epoch)``
(so a position in the data is just ``(epoch, batch)``), user iterables replayed to a position, and
batches moved to a device."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import torch

from lingauss.params import InvalidParameter

__all__ = ["epoch_generator", "to_device", "BatchStream"]


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The ``torch.Generator`` that shuffles epoch ``epoch`` of a run seeded with ``seed``."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(epoch)]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def to_device(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return type(batch)({k: to_device(v, device) for k, v in batch.items()})
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(to_device(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch



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


class BatchStream:
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
                raise InvalidParameter("data is empty")
            bs = n if batch_size is None else int(batch_size)
            if bs < 1:
                raise InvalidParameter(f"batch_size must be a positive integer or None, got {batch_size!r}")
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
                raise InvalidParameter("data yielded no batches")
            self.epoch, self.offset = self.epoch + 1, 0
            self.loader_gen_state = None

    def __iter__(self):
        return self._map_iter() if self.source is not None else self._loader_iter()
