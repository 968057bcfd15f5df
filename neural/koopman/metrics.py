r"""Hason's (2024) swap metrics D_sd (static/dynamic) and D_mf (multifactor), and the swaps they use.

Notation (Hason (2024), "Evaluation — Metrics"): F_s / F_d are the static / dynamic factors, C_f the
judge of factor f, |C_f| its number of classes, and Acc(C_f(X'), C_f(X)) the fraction of
agreements between the judge's labels on the swapped sequences X' and on the originals X (static
factors per sequence, dynamic ones per frame). Each sequence x is paired with a partner y (another
sequence of the evaluation set):

* **StaticSampleSwap(X)**: x with all static channels from y (dynamics of x kept) — the static
  factors should change (agreement at chance 1/|C_f|), the dynamic ones stay (agreement 1);
* **DynamicSampleSwap(X)**: x with all dynamics from y — static agreement 1, dynamic at chance;
* **FactorialSampleSwap_f(X)**: x keeps only the channels tied to static factor f; every other
  static channel and all dynamics come from y — factor f agrees (1), every other factor g at chance.

.. math::

   \mathcal D_{sd} = 1 - \frac{1}{2(|F_s|+|F_d|)}\Big(
     \sum_{f\in F_s}\big|\mathrm{Acc}_{ss}(f) - \tfrac1{|C_f|}\big|
   + \sum_{f\in F_d}\big|\mathrm{Acc}_{ss}(f) - 1\big|
   + \sum_{f\in F_s}\big|\mathrm{Acc}_{ds}(f) - 1\big|
   + \sum_{f\in F_d}\big|\mathrm{Acc}_{ds}(f) - \tfrac1{|C_f|}\big|\Big)

   \mathcal D_{mf} = 1 - \frac{1}{|F_s|(|F_s|+|F_d|)}\sum_{f\in F_s}\sum_{g\in F_s\cup F_d}
     \begin{cases}|\mathrm{Acc}(C_g(\mathrm{FSS}_f(X)), C_g(X)) - 1|, & g = f\\
                  |\mathrm{Acc}(C_g(\mathrm{FSS}_f(X)), C_g(X)) - \tfrac1{|C_g|}|, & g \ne f\end{cases}

(ss = static sample swap, ds = dynamic sample swap, FSS = factorial sample swap). Both are 1 for a
perfect model whose judges are perfect and whose factors are uniform. Partners are a seeded random
derangement (x ≠ y) unless given.

**Balanced D_mf** (:func:`d_mf_balanced`, ours, not the thesis'): D_mf weighs, in each row f, one
"kept" term (g = f) against |F_s| + |F_d| − 1 "changed" terms (g ≠ f), so a model that returns
the partner for every factorial swap — all changed terms exact, every kept term wrong — scores
1 − mean_f(1 − 1/|C_f|)/(|F_s| + |F_d|) (0.833 with 4 static factors of 6 classes and 1 dynamic).
The balanced reading keeps each term as in the thesis and averages the diagonal and the
off-diagonal terms separately:

.. math:: \mathcal D_{mf}^{bal} = 1 - \tfrac12\Big(\frac{1}{|F_s|}\sum_{f\in F_s}|\mathrm{Acc}_f(f) - 1|
          + \frac{1}{|F_s|(|F_s|+|F_d|-1)}\sum_{f\in F_s}\sum_{g\ne f}|\mathrm{Acc}_f(g) - \tfrac1{|C_g|}|\Big)

(with a single factor in all, only the diagonal mean). It is 1 for a perfect model, and the
partner strategy drops to 1 − ½·mean_f(1 − 1/|C_f|) (0.583 there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lingauss.params import InvalidParameter
from lingauss._validation import as_rng

from ..torch_utils import eval_mode, model_device

__all__ = ["reconstruction_errors", "d_sd", "d_mf", "d_mf_balanced", "SwapEvaluation", "PairedRecombiner", "derangement", "swap_agreement", "evaluate_swaps",
           "complement_channels"]


def _check_factors(static_factors, dynamic_factors, cardinalities):
    fs, fd = list(static_factors), list(dynamic_factors)
    if not fs and not fd:
        raise InvalidParameter("at least one factor is needed")
    for f in fs + fd:
        c = cardinalities.get(f) if isinstance(cardinalities, Mapping) else None
        if c is None or int(c) < 1:
            raise InvalidParameter(f"cardinalities must give a positive class count for factor {f!r}")
    return fs, fd


def d_sd(static_swap_acc: Mapping, dynamic_swap_acc: Mapping, static_factors: Sequence,
         dynamic_factors: Sequence, cardinalities: Mapping) -> float:
    """D_sd of the seed (module doc) from the agreement accuracies after the two sample swaps."""
    fs, fd = _check_factors(static_factors, dynamic_factors, cardinalities)
    chance = {f: 1.0 / int(cardinalities[f]) for f in fs + fd}
    total = (sum(abs(static_swap_acc[f] - chance[f]) for f in fs)
             + sum(abs(static_swap_acc[f] - 1.0) for f in fd)
             + sum(abs(dynamic_swap_acc[f] - 1.0) for f in fs)
             + sum(abs(dynamic_swap_acc[f] - chance[f]) for f in fd))
    return 1.0 - total / (2 * (len(fs) + len(fd)))


def d_mf(factorial_acc: Mapping, static_factors: Sequence, dynamic_factors: Sequence,
         cardinalities: Mapping) -> float:
    """D_mf of the seed (module doc); ``factorial_acc[f][g]`` is Acc(C_g(FSS_f(X)), C_g(X))."""
    fs, fd = _check_factors(static_factors, dynamic_factors, cardinalities)
    if not fs:
        raise InvalidParameter("D_mf needs at least one static factor")
    total = 0.0
    for f in fs:
        for g in fs + fd:
            target = 1.0 if g == f else 1.0 / int(cardinalities[g])
            total += abs(factorial_acc[f][g] - target)
    return 1.0 - total / (len(fs) * (len(fs) + len(fd)))


def d_mf_balanced(factorial_acc: Mapping, static_factors: Sequence, dynamic_factors: Sequence,
                  cardinalities: Mapping) -> float:
    """The balanced reading of D_mf (module doc): diagonal and off-diagonal terms averaged apart."""
    fs, fd = _check_factors(static_factors, dynamic_factors, cardinalities)
    if not fs:
        raise InvalidParameter("D_mf needs at least one static factor")
    diag = [abs(factorial_acc[f][f] - 1.0) for f in fs]
    off = [abs(factorial_acc[f][g] - 1.0 / int(cardinalities[g])) for f in fs for g in fs + fd if g != f]
    err = float(np.mean(diag)) if not off else 0.5 * (float(np.mean(diag)) + float(np.mean(off)))
    return 1.0 - err


def derangement(n: int, rng=None) -> np.ndarray:
    """A seeded permutation without fixed points (n ≥ 2): a random cycle through all n items."""
    if n < 2:
        raise InvalidParameter("pairing needs at least two sequences")
    order = as_rng(rng).permutation(n)
    partner = np.empty(n, dtype=np.int64)
    partner[order] = np.roll(order, -1)
    return partner


def complement_channels(channels, n_channels: int) -> np.ndarray:
    """Boolean mask (n_channels,) of the channels *not* in ``channels``."""
    mask = np.ones(n_channels, dtype=bool)
    mask[np.asarray(list(channels), dtype=np.int64)] = False
    return mask


def swap_agreement(pred_swapped: Mapping, pred_original: Mapping, factors: Sequence) -> dict:
    """Acc(C_f(X'), C_f(X)) for each factor: the mean of label agreements (per sequence or frame)."""
    return {f: float(np.mean(np.asarray(pred_swapped[f]) == np.asarray(pred_original[f]))) for f in factors}


@dataclass(frozen=True, eq=False)
class SwapEvaluation:
    """Results of :func:`evaluate_swaps`: ``static_swap``/``dynamic_swap`` (factor → agreement),
    ``factorial`` (f → g → agreement, or ``None`` without groups), ``d_sd``, ``d_mf`` (``None``
    without groups), ``groups`` (f → channel indices), ``static_factors``, ``dynamic_factors``,
    ``cardinalities``, ``n`` sequences, ``partner`` indices, ``d_mf_balanced`` (:func:`d_mf_balanced`)."""

    static_swap: dict
    dynamic_swap: dict
    factorial: dict | None
    d_sd: float
    d_mf: float | None
    groups: dict | None
    static_factors: tuple
    dynamic_factors: tuple
    cardinalities: dict
    n: int
    partner: np.ndarray
    d_mf_balanced: float | None = None


class PairedRecombiner:
    """Decoded recombinations of every sequence x_i with its partner y_i = x_{partner[i]}.

    Uses ``model.encode``/``recombine_latents``/``decode`` when the model has them (the latents are
    computed once and reused for every swap), else ``model.recombine`` on pixel batches.
    """

    def __init__(self, model, seqs: np.ndarray, partner: np.ndarray, batch_size: int = 32):
        self.model, self.seqs, self.partner, self.batch_size = model, seqs, partner, int(batch_size)
        self.device = model_device(model)
        self.Z = None
        if all(callable(getattr(model, a, None)) for a in ("encode", "recombine_latents", "decode")):
            with torch.no_grad():
                self.Z = torch.cat([model.encode(self._tensor(seqs[i:i + batch_size]))
                                    for i in range(0, len(seqs), batch_size)])

    def _tensor(self, a) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32).to(self.device)

    @torch.no_grad()
    def __call__(self, static_from_y, dynamic_from_y: bool) -> np.ndarray:
        out = []
        for i in range(0, len(self.seqs), self.batch_size):
            idx = np.arange(i, min(i + self.batch_size, len(self.seqs)))
            if self.Z is not None:
                Z = self.model.recombine_latents(self.Z[idx], self.Z[self.partner[idx]], static_from_y,
                                                 dynamic_from_y)
                out.append(self.model.decode(Z).float().cpu().numpy())
            else:
                x, y = self._tensor(self.seqs[idx]), self._tensor(self.seqs[self.partner[idx]])
                out.append(self.model.recombine(x, y, static_from_y, dynamic_from_y).float().cpu().numpy())
        return np.concatenate(out)


def evaluate_swaps(model, judge, sequences, *, groups: Mapping | None = None, factors=None,
                   n: int | None = None, rng=None, partner=None, batch_size: int = 32) -> SwapEvaluation:
    """Run Hason's (2024) sample swaps with ``model`` and score them with ``judge`` (module doc).

    Parameters
    ----------
    model : an object with ``recombine(x, y, static_from_y, dynamic_from_y)`` (tensors (b, T, C, H, W)
        → decoded sequences) or ``encode``/``recombine_latents``/``decode``, ``n_static_channels``
        and optionally ``prepare_evaluation(x)``
        (:class:`neural.koopman.SKD`, :class:`neural.koopman.SSMSKD` or a hand-built stand-in)
    judge : the judge interface of :mod:`neural.koopman.judges`
    sequences : array (N, T, C, H, W) or a ``SequenceDataset``
    groups : static factor → the static channels tied to it (e.g. from the latent exploration);
        needed for the factorial swaps and D_mf
    factors : the judged factors to use (default all of the judge's)
    n : use the first ``n`` of a seeded shuffle (default all); ``partner``: explicit pairing
        (indices into the used sequences, no fixed points), else a seeded derangement

    The model runs in eval mode (:func:`eval_mode`) whatever the caller's mode, which is restored.
    """
    seqs = np.asarray(getattr(sequences, "sequences", sequences), dtype=np.float32)
    gen = as_rng(rng)
    if n is not None and n < len(seqs):
        seqs = seqs[np.sort(gen.permutation(len(seqs))[:n])]
    N = len(seqs)
    if partner is None:
        partner = derangement(N, gen)
    partner = np.asarray(partner, dtype=np.int64)
    if partner.shape != (N,) or np.any(partner == np.arange(N)) or np.any((partner < 0) | (partner >= N)):
        raise InvalidParameter("partner must pair every sequence with a different one")
    factors = list(judge.factor_names if factors is None else factors)
    fs = tuple(f for f in factors if judge.static[f])
    fd = tuple(f for f in factors if not judge.static[f])
    cards = {f: int(judge.cardinalities[f]) for f in factors}
    with eval_mode(model):
        return _evaluate_swaps(model, judge, seqs, groups, factors, fs, fd, cards, partner, batch_size)


def _evaluate_swaps(model, judge, seqs, groups, factors, fs, fd, cards, partner, batch_size) -> SwapEvaluation:
    N = len(seqs)
    if callable(getattr(model, "prepare_evaluation", None)):
        model.prepare_evaluation(torch.as_tensor(seqs, dtype=torch.float32).to(model_device(model)))
    orig = judge.predict(seqs)
    K = int(model.n_static_channels)
    pairs = PairedRecombiner(model, seqs, partner, batch_size)
    ss = swap_agreement(judge.predict(pairs("all", False)), orig, factors)
    ds = swap_agreement(judge.predict(pairs(None, True)), orig, factors)
    fact, dmf, bal = None, None, None
    if groups is not None:
        missing = [f for f in fs if f not in groups]
        if missing:
            raise InvalidParameter(f"groups must list the channels of every static factor; missing {missing}")
        fact = {}
        for f in fs:
            swap_from_y = complement_channels(groups[f], K)
            fact[f] = swap_agreement(judge.predict(pairs(swap_from_y, True)), orig, factors)
        dmf, bal = d_mf(fact, fs, fd, cards), d_mf_balanced(fact, fs, fd, cards)
    return SwapEvaluation(static_swap=ss, dynamic_swap=ds, factorial=fact, d_sd=d_sd(ss, ds, fs, fd, cards),
                          d_mf=dmf, groups=None if groups is None else {f: tuple(int(c) for c in groups[f]) for f in fs},
                          static_factors=fs, dynamic_factors=fd, cardinalities=cards, n=N, partner=partner,
                          d_mf_balanced=bal)


def reconstruction_errors(model, x, mean_frame, *, batch_size: int = 32, threshold: float = 0.05) -> dict:
    """Test-set reconstruction MSE of ``model`` (eval mode) next to the MSE of predicting
    ``mean_frame`` (the train set's mean frame, (C, H, W)) for every frame, over all pixels and over
    the foreground pixels (max over channels > ``threshold``)."""
    dev = model_device(model)
    with torch.no_grad(), eval_mode(model):
        rec = torch.cat([model.decode(model.encode(x[i:i + batch_size].to(dev))).to(x.dtype).cpu()
                         for i in range(0, len(x), batch_size)])
    err, base = (rec - x) ** 2, (mean_frame.to(x.dtype) - x) ** 2
    fg = (x.amax(2, keepdim=True) > threshold).expand_as(x)
    return {"recon_mse": float(err.mean()), "baseline_mse": float(base.mean()),
            "fg_recon_mse": float(err[fg].mean()), "fg_baseline_mse": float(base[fg].mean())}
