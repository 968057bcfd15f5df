r"""Judge classifiers: small CNNs that read the ground-truth factors off frames.

The swap metrics (D_sd, D_mf) and the latent exploration compare a judge's prediction on a swapped
sequence with its prediction on the original. A judge is any object with

* ``factor_names`` (tuple), ``static`` (dict name → bool: static content or dynamic factor),
  ``cardinalities`` (dict name → number of classes |C_f|);
* ``predict(sequences) -> dict`` name → numpy int array: **static** factors one label per sequence
  (N,) — the argmax of the frame logits averaged over time (sequence-level classifiers, as the seed
  suggests for frame inconsistencies) — and **dynamic** factors one label per frame (N, T).

:func:`train_judges` trains :class:`JudgeCNN` on the frames of a :class:`neural.data.SequenceDataset`
with :class:`neural.train.Trainer` (cross-entropy, summed over the factors' heads) and returns the
held-out accuracy of every factor (static: per sequence, dynamic: per frame). ``shared=True``
(default) trains one CNN with a head per factor; ``shared=False`` one CNN per factor.
Only discrete factors can be judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lingauss.params import InvalidParameter
from lingauss._validation import as_rng
from neural.torch_utils import conv_stack, stack_side

__all__ = ["JudgeCNN", "Judge", "JudgeResult", "train_judges", "judge_accuracy"]


class JudgeCNN(nn.Module):
    """Frames (N, C, H, H) → dict of logits, one head per factor (stride-2 convs, dense ``hidden``)."""

    def __init__(self, in_channels: int, heads: dict, *, image_size: int = 64,
                 channels: Sequence[int] = (16, 32, 32, 64), hidden: int = 128, columns: dict | None = None):
        super().__init__()
        side = stack_side(int(image_size), len(channels))
        prev = int(channels[-1])
        self.trunk = nn.Sequential(*conv_stack(in_channels, channels), nn.Flatten(), nn.Linear(prev * side * side, int(hidden)), nn.ReLU())
        self.names = tuple(heads)
        self.heads = nn.ModuleDict({n: nn.Linear(int(hidden), int(c)) for n, c in heads.items()})
        self.columns = dict(columns or {n: i for i, n in enumerate(self.names)})

    def forward(self, frames: torch.Tensor) -> dict:
        h = self.trunk(frames)
        return {n: self.heads[n](h) for n in self.names}

    def loss(self, batch) -> dict:
        frames, factors = batch
        logits = self(frames)
        terms = {f"ce_{n}": F.cross_entropy(logits[n], factors[:, self.columns[n]].long()) for n in self.names}
        return {"loss": sum(terms.values()), **terms}


class Judge:
    """Trained judge CNN(s) with the duck-typed judge interface of the module doc."""

    def __init__(self, nets: Sequence[JudgeCNN], static: dict, cardinalities: dict, batch_size: int = 256):
        self.nets = list(nets)
        self.factor_names = tuple(n for net in self.nets for n in net.names)
        self.static = dict(static)
        self.cardinalities = dict(cardinalities)
        self.batch_size = int(batch_size)

    @torch.no_grad()
    def logits(self, sequences) -> dict:
        x = torch.as_tensor(np.asarray(sequences) if not isinstance(sequences, torch.Tensor) else sequences,
                            dtype=torch.float32)
        N, T = x.shape[:2]
        flat = x.reshape(N * T, *x.shape[2:])
        out = {n: [] for n in self.factor_names}
        for net in self.nets:
            was = net.training
            net.eval()
            dev = next(net.parameters()).device
            for i in range(0, len(flat), self.batch_size):
                for n, v in net(flat[i:i + self.batch_size].to(dev)).items():
                    out[n].append(v.cpu())
            net.train(was)
        return {n: torch.cat(v).reshape(N, T, -1) for n, v in out.items()}

    def predict(self, sequences) -> dict:
        res = {}
        for n, lg in self.logits(sequences).items():
            res[n] = (lg.log_softmax(-1).mean(1).argmax(-1) if self.static[n] else lg.argmax(-1)).numpy()
        return res


def judge_accuracy(judge, sequences, factors: np.ndarray, columns: dict) -> dict:
    """Accuracy of ``judge`` against true factors (N, T, s): static per sequence, dynamic per frame."""
    pred = judge.predict(sequences)
    acc = {}
    for n in judge.factor_names:
        true = factors[:, :, columns[n]].astype(np.int64)
        acc[n] = float(np.mean(pred[n] == (true[:, 0] if judge.static[n] else true)))
    return acc


@dataclass(frozen=True, eq=False)
class JudgeResult:
    """``judge`` (:class:`Judge`), held-out ``accuracy`` and ``train_accuracy`` (dict name → float),
    ``n_train``/``n_test`` sequences, ``seconds``."""

    judge: Judge
    accuracy: dict
    train_accuracy: dict
    n_train: int
    n_test: int
    seconds: float


def train_judges(data, factors=None, *, test=None, test_fraction: float = 0.2, steps: int = 400,
                 batch_size: int = 64, lr: float = 2e-3, seed: int = 0, shared: bool = True,
                 channels: Sequence[int] = (16, 32, 32, 64), hidden: int = 128,
                 progress: bool = False, device=None) -> JudgeResult:
    """Train judges for ``factors`` (names; default every discrete factor) of a SequenceDataset.

    ``test``: a held-out SequenceDataset, else the last ``test_fraction`` of a seeded shuffle of
    ``data`` is held out. ``device``: where the judges train and predict (default CPU). Returns a
    :class:`JudgeResult` with the held-out accuracies.
    """
    import time

    from neural.train import Trainer

    names = data.factor_names
    if factors is None:
        factors = [n for n, k in zip(names, data.factor_kinds) if k == "discrete"]
    factors = list(factors)
    for f in factors:
        if f not in names:
            raise InvalidParameter(f"unknown factor {f!r}; the data has {names}")
        if data.factor_kinds[names.index(f)] != "discrete":
            raise InvalidParameter(f"factor {f!r} is continuous; judges classify discrete factors only")
    if test is None:
        perm = as_rng(seed).permutation(len(data))
        n_test = max(1, int(round(test_fraction * len(data))))
        test, data = data.subset(np.sort(perm[-n_test:])), data.subset(np.sort(perm[:-n_test]))
    t0 = time.perf_counter()
    cols = {f: names.index(f) for f in factors}
    cards = {f: int(data.cardinalities[cols[f]]) for f in factors}
    static = {f: bool(data.factor_static[cols[f]]) for f in factors}
    groups = [factors] if shared else [[f] for f in factors]
    frames = data.frames()
    nets = []
    for i, group in enumerate(groups):
        torch.manual_seed(seed + i)
        net = JudgeCNN(frames.images.shape[1], {f: cards[f] for f in group}, image_size=frames.images.shape[-1],
                       channels=channels, hidden=hidden, columns={f: cols[f] for f in group})
        Trainer(net, lr=lr, seed=seed + i, progress=progress, grad_clip=10.0, device=device).fit(
            frames, steps, batch_size=batch_size)
        nets.append(net)
    judge = Judge(nets, static, cards)
    acc = judge_accuracy(judge, test.sequences, test.factors, cols)
    train_acc = judge_accuracy(judge, data.sequences[:len(test)], data.factors[:len(test)], cols)
    return JudgeResult(judge=judge, accuracy=acc, train_accuracy=train_acc, n_train=len(data),
                       n_test=len(test), seconds=time.perf_counter() - t0)
