r"""Floors and ceilings of the swap metrics: the strongest trivial strategy, and a perfect swap.

D_sd and D_mf (:mod:`neural.koopman.metrics`) are far from 0 for a model that separates nothing:
with the factor cardinalities |C_f| and imperfect judges, trivial strategies already score well.
Every score is therefore reported next to the **strongest** trivial strategy (the floor) and the
ground-truth ceiling.

**Behaviours.** A swap is asked of a model (static swap, dynamic swap, factorial swap); a trivial
strategy answers every request of one kind with one fixed behaviour, blind to the factors:

* ``identity`` — returns x itself (the judge sees the same frames): agreement 1 for every factor;
* ``partner`` — the full swap: returns the partner y's whole sequence: agreement q_f;
* ``random`` — a coin per factor: each factor kept from x or taken from y with probability ½,
  rendered anew: agreement r_f = (κ_f + q_f)/2.

Assumptions: factor classes uniform and independent between x and its partner y; judge errors
spread uniformly over the c − 1 wrong classes and independent between two *different* renderings
(a returned x is the same rendering). Then the labels of two independent sequences agree with
probability exactly

.. math:: q_f = \frac{1}{|C_f|}

whatever the accuracy a_f (each label is uniform: (1/c)κ + (1 − 1/c)δ = 1/c with δ the agreement
of renderings of different classes), and two renderings sharing the true class agree with

.. math:: \kappa_f = a_f^2 + \frac{(1-a_f)^2}{|C_f|-1}

(both right, or both wrong the same way); so a_f enters only through ``random``.

**D_sd floors: every pair of behaviours.** The static and the dynamic sample swap are different
requests, so a strategy picks a behaviour for each independently: 3 × 3 = 9 strategies
``"<static-swap behaviour>/<dynamic-swap behaviour>"``. With n = |F_s| + |F_d| and the agreement
A^b_f of behaviour b, the deviation each swap contributes is

.. math::

   e_{ss}(b) = \sum_{f\in F_s}|A^b_f - q_f| + \sum_{f\in F_d}|A^b_f - 1|,\qquad
   e_{ds}(b) = \sum_{f\in F_s}|A^b_f - 1| + \sum_{f\in F_d}|A^b_f - q_f|,

   \mathcal D_{sd}(b_s, b_d) = 1 - \frac{e_{ss}(b_s) + e_{ds}(b_d)}{2n}.

Closed forms: e_ss(identity) = Σ_{F_s}(1 − q_f), e_ss(partner) = Σ_{F_d}(1 − q_f),
e_ds(identity) = Σ_{F_d}(1 − q_f), e_ds(partner) = Σ_{F_s}(1 − q_f), and for ``random``
e_ss = Σ_{F_s}|r_f − q_f| + Σ_{F_d}(1 − r_f), e_ds = Σ_{F_s}(1 − r_f) + Σ_{F_d}|r_f − q_f|. The
**everything-static code** — its static swap returns the partner, its dynamic swap changes
nothing — is ``partner/identity``: D_sd = 1 − Σ_{F_d}(1 − q_f)/n, whatever the judges; on the
Sprites-like table (4 static factors of 6 classes, 1 dynamic of 9) that is 1 − (8/9)/5 = 0.822.
The **everything-dynamic code** is ``identity/partner``: D_sd = 1 − Σ_{F_s}(1 − q_f)/n (0.333
there). ``identity/identity`` (swap nothing) and ``partner/partner`` (always the partner) give
1 − Σ_{all}(1 − q_f)/(2n).

**D_mf floors.** Every factorial swap FSS_f is the same kind of request, so a strategy is one
behaviour b: with the thesis' formula

.. math:: \mathcal D_{mf}(b) = 1 - \frac{1}{|F_s|\,n}\sum_{f\in F_s}\Big(|A^b_f - 1|
          + \sum_{g\ne f}|A^b_g - q_g|\Big),

so D_mf(partner) = 1 − Σ_{F_s}(1 − q_f)/(|F_s| n) (0.833 on the Sprites-like table: each row
weighs one "kept" term against n − 1 "changed" terms, which the partner gets all right) and
D_mf(identity) = 1 − Σ_f Σ_{g≠f}(1 − q_g)/(|F_s| n).

**Balanced D_mf** (:func:`neural.koopman.metrics.d_mf_balanced`): the same terms, with the mean of
the |F_s| diagonal ("kept", g = f) terms and the mean of the off-diagonal ("changed") terms
averaged with equal weight — 1 − ½(mean diagonal + mean off-diagonal) — so that keeping factor f
counts as much as changing the others. Its floors: partner 1 − ½·mean_f(1 − q_f), identity
1 − ½·mean_{f, g≠f}(1 − q_g), random 1 − ½(mean_f(1 − r_f) + mean_{f, g≠f}|r_g − q_g|).

**Ceiling** (measured): the ground-truth swaps — x's factor classes with the swapped ones taken from
y, rendered by the data generator — judged like a model's swaps (:func:`ground_truth_swaps`). It is
what a perfect model would score with these judges on these sequences; it is below 1 when the
judges err or the data are not uniform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lingauss.params import InvalidParameter
from .metrics import SwapEvaluation, d_mf, d_mf_balanced, d_sd, swap_agreement

__all__ = ["BEHAVIOURS", "TRIVIAL_MODELS", "NAMED_STRATEGIES", "judge_consistency", "behaviour_agreements",
           "trivial_agreements", "TrivialFloors", "trivial_floors", "ground_truth_swaps"]

#: What a trivial strategy does when asked for a swap (module doc).
BEHAVIOURS = ("identity", "partner", "random")
TRIVIAL_MODELS = BEHAVIOURS
#: Readable names of some D_sd strategies "<static-swap behaviour>/<dynamic-swap behaviour>".
NAMED_STRATEGIES = {"partner/identity": "everything static", "identity/partner": "everything dynamic",
                    "identity/identity": "swap nothing", "partner/partner": "always the partner",
                    "random/random": "coin per factor"}


def _check_accuracy(accuracy: Mapping, factors: Sequence) -> dict:
    out = {}
    for f in factors:
        if not isinstance(accuracy, Mapping) or f not in accuracy:
            raise InvalidParameter(f"judge_accuracy must give the accuracy of factor {f!r}")
        a = float(accuracy[f])
        if not 0.0 <= a <= 1.0:
            raise InvalidParameter(f"judge_accuracy[{f!r}] must lie in [0, 1], got {accuracy[f]!r}")
        out[f] = a
    return out


def judge_consistency(accuracy: float, n_classes: int) -> float:
    r"""κ = a² + (1 − a)²/(c − 1): agreement of a judge with accuracy a on two renderings with the
    same true class (c ≥ 2 classes; errors uniform over the c − 1 wrong ones, independent)."""
    a, c = float(accuracy), int(n_classes)
    if not 0.0 <= a <= 1.0:
        raise InvalidParameter(f"accuracy must lie in [0, 1], got {accuracy!r}")
    if c < 2:
        raise InvalidParameter(f"n_classes must be >= 2, got {n_classes!r}")
    return a * a + (1.0 - a) ** 2 / (c - 1)


def behaviour_agreements(behaviour: str, factors: Sequence, cardinalities: Mapping,
                         judge_accuracy: Mapping) -> dict:
    """Agreement A^b_f per factor of trivial behaviour ``behaviour`` (module doc)."""
    if behaviour not in BEHAVIOURS:
        raise InvalidParameter(f"behaviour must be one of {BEHAVIOURS}, got {behaviour!r}")
    acc = _check_accuracy(judge_accuracy, factors)
    out = {}
    for f in factors:
        c = int(cardinalities[f])
        q = 1.0 / c
        out[f] = 1.0 if behaviour == "identity" else q if behaviour == "partner" else \
            0.5 * (judge_consistency(acc[f], c) + q)
    return out


trivial_agreements = behaviour_agreements


@dataclass(frozen=True, eq=False)
class TrivialFloors:
    """The trivial strategies' scores (module doc).

    ``agreements[b]`` (factor → agreement) for b in :data:`BEHAVIOURS`; ``d_sd[strategy]`` for the
    nine strategies ``"<static>/<dynamic>"``; ``d_mf[b]`` and ``d_mf_balanced[b]`` (``None``
    without static factors); ``floor_d_sd`` / ``floor_d_mf`` / ``floor_d_mf_balanced``: the largest
    of them, reached by ``floor_d_sd_strategy`` / ``floor_d_mf_strategy`` /
    ``floor_d_mf_balanced_strategy``."""

    agreements: dict
    d_sd: dict
    d_mf: dict | None
    d_mf_balanced: dict | None
    floor_d_sd: float
    floor_d_sd_strategy: str
    floor_d_mf: float | None
    floor_d_mf_strategy: str | None
    floor_d_mf_balanced: float | None
    floor_d_mf_balanced_strategy: str | None

    def as_dict(self) -> dict:
        """JSON-ready ``{"D_sd": {strategy: value}, "D_mf": {...}, "D_mf_balanced": {...},
        "agreement": {...}, "strongest": {score: strategy}}``."""
        return {"D_sd": dict(self.d_sd), "D_mf": None if self.d_mf is None else dict(self.d_mf),
                "D_mf_balanced": None if self.d_mf_balanced is None else dict(self.d_mf_balanced),
                "agreement": {b: dict(a) for b, a in self.agreements.items()},
                "strongest": {"D_sd": self.floor_d_sd_strategy, "D_mf": self.floor_d_mf_strategy,
                              "D_mf_balanced": self.floor_d_mf_balanced_strategy}}


def _argmax(values: Mapping) -> tuple:
    best = max(values, key=lambda k: values[k])           # first of the tied, in insertion order
    return float(values[best]), best


def trivial_floors(static_factors: Sequence, dynamic_factors: Sequence, cardinalities: Mapping,
                   judge_accuracy: Mapping) -> TrivialFloors:
    """D_sd of the nine strategies, D_mf (thesis and balanced) of the three behaviours, and the
    floors: the strongest of each (module doc)."""
    fs, fd = list(static_factors), list(dynamic_factors)
    for f in fs + fd:
        if not isinstance(cardinalities, Mapping) or int(cardinalities.get(f, 0)) < 2:
            raise InvalidParameter(f"cardinalities must give at least 2 classes for factor {f!r}")
    agree = {b: behaviour_agreements(b, fs + fd, cardinalities, judge_accuracy) for b in BEHAVIOURS}
    dsd = {f"{bs}/{bd}": d_sd(agree[bs], agree[bd], fs, fd, cardinalities) for bs in BEHAVIOURS for bd in BEHAVIOURS}
    fsd, ssd = _argmax(dsd)
    if not fs:
        return TrivialFloors(agree, dsd, None, None, fsd, ssd, None, None, None, None)
    dmf = {b: d_mf({f: agree[b] for f in fs}, fs, fd, cardinalities) for b in BEHAVIOURS}
    bal = {b: d_mf_balanced({f: agree[b] for f in fs}, fs, fd, cardinalities) for b in BEHAVIOURS}
    fmf, smf = _argmax(dmf)
    fbal, sbal = _argmax(bal)
    return TrivialFloors(agree, dsd, dmf, bal, fsd, ssd, fmf, smf, fbal, sbal)


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
        raise InvalidParameter("partner must pair every sequence with a different one")
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
                          d_mf_balanced=d_mf_balanced(fact, fs, fd, cards) if fs else None,
                          groups=None, static_factors=fs, dynamic_factors=fd, cardinalities=cards, n=N,
                          partner=partner)
