r"""Floors and ceilings of the swap metrics: what trivial models score, and what a perfect swap scores.

D_sd and D_mf (:mod:`neural.koopman.metrics`) are not 0 for a model that does nothing: with the
factor cardinalities |C_f| and imperfect judges, trivial "models" already score well. Every score is
therefore reported next to

**Floors** (closed form, from the cardinalities |C_f| and the judges' held-out accuracies a_f).
Assumptions: factor classes uniform and independent between a sequence x and its partner y; judge
errors spread uniformly over the c − 1 wrong classes and independent between two renderings. Then
the judge labels of two independent sequences agree with probability

.. math:: q_f = 1/|C_f|

(each label is uniform), and the labels of two *different* renderings that share the true class of
factor f (the factor kept, everything else changed) agree with probability

.. math:: \kappa_f = a_f^2 + \frac{(1-a_f)^2}{|C_f|-1}

(both right, or both wrong the same way). The trivial models, and their agreement after every swap
(static swap, dynamic swap, each factorial swap), for every factor:

* ``identity`` — swaps nothing, returns x: agreement 1 (the judge sees the same frames);
* ``partner`` — returns the partner y whatever is asked: agreement q_f;
* ``random`` — keeps or swaps each factor with probability ½, independently of what is asked:
  agreement r_f = (κ_f + q_f)/2.

Each set of agreements goes through the same :func:`~neural.koopman.metrics.d_sd` /
:func:`~neural.koopman.metrics.d_mf`; **the floor** of a score is the largest of the three.

**Ceiling** (measured): the ground-truth swaps — x's factor classes with the swapped ones taken from
y, rendered by the data generator — judged like a model's swaps (:func:`ground_truth_swaps`). It is
what a perfect model would score with these judges on these sequences; it is below 1 when the
judges err or the data are not uniform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import SwapEvaluation, d_mf, d_sd, swap_agreement

__all__ = ["TRIVIAL_MODELS", "judge_consistency", "trivial_agreements", "TrivialFloors", "trivial_floors",
           "ground_truth_swaps"]

TRIVIAL_MODELS = ("identity", "partner", "random")


def _check_accuracy(accuracy: Mapping, factors: Sequence) -> dict:
    out = {}
    for f in factors:
        if not isinstance(accuracy, Mapping) or f not in accuracy:
            raise ValueError(f"judge_accuracy must give the accuracy of factor {f!r}")
        a = float(accuracy[f])
        if not 0.0 <= a <= 1.0:
            raise ValueError(f"judge_accuracy[{f!r}] must lie in [0, 1], got {accuracy[f]!r}")
        out[f] = a
    return out


def judge_consistency(accuracy: float, n_classes: int) -> float:
    r"""κ = a² + (1 − a)²/(c − 1): agreement of a judge with accuracy a on two renderings with the
    same true class (c ≥ 2 classes; errors uniform over the c − 1 wrong ones, independent)."""
    a, c = float(accuracy), int(n_classes)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"accuracy must lie in [0, 1], got {accuracy!r}")
    if c < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes!r}")
    return a * a + (1.0 - a) ** 2 / (c - 1)


def trivial_agreements(model: str, factors: Sequence, cardinalities: Mapping, judge_accuracy: Mapping) -> dict:
    """Agreement per factor of trivial model ``model`` (module doc), the same after every swap."""
    if model not in TRIVIAL_MODELS:
        raise ValueError(f"model must be one of {TRIVIAL_MODELS}, got {model!r}")
    acc = _check_accuracy(judge_accuracy, factors)
    out = {}
    for f in factors:
        c = int(cardinalities[f])
        q = 1.0 / c
        out[f] = 1.0 if model == "identity" else q if model == "partner" else \
            0.5 * (judge_consistency(acc[f], c) + q)
    return out


@dataclass(frozen=True, eq=False)
class TrivialFloors:
    """``agreements[model]`` (factor → agreement, after every swap), ``d_sd[model]``,
    ``d_mf[model]`` (``None`` without static factors) for ``model`` in :data:`TRIVIAL_MODELS`;
    ``floor_d_sd`` / ``floor_d_mf``: the largest of them."""

    agreements: dict
    d_sd: dict
    d_mf: dict
    floor_d_sd: float
    floor_d_mf: float | None


def trivial_floors(static_factors: Sequence, dynamic_factors: Sequence, cardinalities: Mapping,
                   judge_accuracy: Mapping) -> TrivialFloors:
    """D_sd and D_mf of the three trivial models and the floors (module doc)."""
    fs, fd = list(static_factors), list(dynamic_factors)
    for f in fs + fd:
        if not isinstance(cardinalities, Mapping) or int(cardinalities.get(f, 0)) < 2:
            raise ValueError(f"cardinalities must give at least 2 classes for factor {f!r}")
    agree, dsd, dmf = {}, {}, {}
    for m in TRIVIAL_MODELS:
        a = trivial_agreements(m, fs + fd, cardinalities, judge_accuracy)
        agree[m] = a
        dsd[m] = d_sd(a, a, fs, fd, cardinalities)
        dmf[m] = d_mf({f: a for f in fs}, fs, fd, cardinalities) if fs else None
    return TrivialFloors(agreements=agree, d_sd=dsd, d_mf=dmf, floor_d_sd=max(dsd.values()),
                         floor_d_mf=max(dmf.values()) if fs else None)


def ground_truth_swaps(render: Callable, judge, data, *, factors: Sequence | None = None, partner=None,
                       rng=None, batch_size: int = 256) -> SwapEvaluation:
    """The ceiling: the judges on generator-rendered ground-truth swaps of ``data`` (module doc).

    Parameters
    ----------
    render : callable (M, s) factor classes → frames (M, C, H, W) in the layout of ``data``
        (e.g. :func:`neural.data.render_sprites_like`, :func:`neural.data.render_moving_dsprites`)
    judge : the judge interface of :mod:`neural.koopman.judges`
    data : SequenceDataset whose ``factors`` (N, T, s) ``render`` understands
    factors : judged factors (default all of the judge's)
    partner : pairing (no fixed points), else a seeded derangement from ``rng`` — pass the one
        used for the model's swaps to compare on the same pairs

    Static factors of the dataset (``data.factor_static``) move together in a static swap, all
    dynamic ones (judged or not, e.g. a pose or velocity) in a dynamic swap; a factorial swap for
    static factor f keeps column f of x and takes every other column from y.
    """
    from lingauss._validation import as_rng

    from .metrics import derangement

    X = data.factors
    N, T, s = X.shape
    partner = derangement(N, as_rng(rng)) if partner is None else np.asarray(partner, dtype=np.int64)
    if partner.shape != (N,) or np.any(partner == np.arange(N)):
        raise ValueError("partner must pair every sequence with a different one")
    factors = list(judge.factor_names if factors is None else factors)
    fs = tuple(f for f in factors if judge.static[f])
    fd = tuple(f for f in factors if not judge.static[f])
    cards = {f: int(judge.cardinalities[f]) for f in factors}
    static_cols = np.array(data.factor_static, dtype=bool)
    Y = X[partner]

    def judged(take_from_y: np.ndarray) -> dict:
        mixed = np.where(take_from_y[None, None, :], Y, X)
        seqs = np.concatenate([render(mixed[i:i + batch_size].reshape(-1, s)).reshape(
            len(mixed[i:i + batch_size]), T, *data.sequences.shape[2:]) for i in range(0, N, batch_size)])
        return judge.predict(seqs)

    orig = judge.predict(data.sequences)
    ss = swap_agreement(judged(static_cols), orig, factors)
    ds = swap_agreement(judged(~static_cols), orig, factors)
    fact = {}
    for f in fs:
        keep = np.zeros(s, dtype=bool)
        keep[data.factor_names.index(f)] = True
        fact[f] = swap_agreement(judged(~keep), orig, factors)
    return SwapEvaluation(static_swap=ss, dynamic_swap=ds, factorial=fact or None,
                          d_sd=d_sd(ss, ds, fs, fd, cards), d_mf=d_mf(fact, fs, fd, cards) if fs else None,
                          groups=None, static_factors=fs, dynamic_factors=fd, cardinalities=cards, n=N,
                          partner=partner)
