r"""Latent exploration: which static channels carry which static factor.

Objective (Hason (2024), "Latent Space Exploration"): partition the static channels (SKD: static modes,
SSM-SKD: coordinates of the static representation) into one set S_f per static factor f so as to
maximise the **sum of factor accuracies**

.. math:: J(\{S_f\}) = \sum_{f\in F_s} a_f(S_f),\qquad
          a_f(S) = \mathrm{Acc}\big(C_f(\text{x keeping channels } S,\ \text{everything else from } y),\ C_f(x)\big),

i.e. a_f(S_f) is the g = f term of D_mf's factorial swap (:mod:`neural.koopman.metrics`).

* :func:`brute_force_exploration` — SKD's search over the power set: every labelled partition
  (each channel to exactly one factor), evaluated exactly by dynamic programming over subsets
  (a_f is computed once for each of the 2^K subsets, then O(|F_s|·3^K) combination steps).
* :func:`explore_static_channels` — the rule each model follows (Hason 2024): SKD searches by
  brute force whenever 2^K ≤ :data:`BRUTE_FORCE_LIMIT` (else greedy); SSM-SKD uses the greedy rule,
  with the brute-force optimum computed beside it as a check when K is small enough.
* :func:`greedy_exploration` — Hason's (2024) greedy algorithm: for each channel c, swap every static
  channel except c (keep only c) and tie c to the factor whose accuracy a_f({c}) is maximal
  (``criterion="accuracy"``, Hason's (2024) rule); K evaluations instead of 2^K.

When the accuracies are separable, a_f(S) = b_f + Σ_{c∈S} α_{c,f}, J = Σ b_f + Σ_c α_{c,σ(c)} is
maximised by tying each channel to argmax_f α_{c,f}; Hason's (2024) rule compares b_f + α_{c,f}, which is
the same argmax when the baselines b_f = a_f(∅) are equal (e.g. every factor at chance with the same
number of classes). ``criterion="gain"`` compares a_f({c}) − a_f(∅) and is optimal for any
separable accuracies; both rules can miss the optimum when channels interact (the seed notes that
greedy also ignores leakage between factors).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lingauss.params import InvalidParameter
from lingauss._validation import as_rng

from .metrics import (PairedRecombiner, complement_channels, derangement, eval_mode, model_device,
                      swap_agreement)

__all__ = ["ExplorationResult", "ExplorationChoice", "brute_force_exploration", "greedy_exploration",
           "explore_static_channels", "factorial_scorer", "CRITERIA", "BRUTE_FORCE_LIMIT"]

CRITERIA = ("accuracy", "gain")
#: SKD explores by brute force whenever 2^K is at most this many subsets.
BRUTE_FORCE_LIMIT = 4096


@dataclass(frozen=True, eq=False)
class ExplorationResult:
    """``groups``: factor → sorted channel tuple; ``assignment[c]``: the factor of channel c;
    ``total``: J (sum of factor accuracies a_f(S_f)); ``accuracies``: factor → a_f(S_f);
    ``evaluations``: distinct channel subsets scored; ``channel_scores`` (greedy only): c → f → a_f({c})."""

    groups: dict
    assignment: tuple
    total: float
    accuracies: dict
    evaluations: int
    channel_scores: dict | None = None


class _Cached:
    def __init__(self, score: Callable):
        self.score, self.cache = score, {}

    def __call__(self, subset) -> dict:
        key = frozenset(int(c) for c in subset)
        if key not in self.cache:
            self.cache[key] = dict(self.score(key))
        return self.cache[key]


def _result(assign, factors, score, evaluations, channel_scores=None) -> ExplorationResult:
    groups = {f: tuple(c for c, a in enumerate(assign) if a == f) for f in factors}
    acc = {f: float(score(groups[f])[f]) for f in factors}
    return ExplorationResult(groups=groups, assignment=tuple(assign), total=float(sum(acc.values())),
                             accuracies=acc, evaluations=evaluations, channel_scores=channel_scores)


def brute_force_exploration(score: Callable, n_channels: int, factors: Sequence) -> ExplorationResult:
    """The optimum of J over all labelled partitions of ``n_channels`` channels (module doc).

    ``score(subset)`` → dict factor → a_f(subset) (subset: frozenset of channels kept from x).
    Ties go to the first partition found (factors in order, smaller subsets first).
    """
    K, factors = int(n_channels), list(factors)
    if K < 1 or not factors:
        raise InvalidParameter("need at least one channel and one factor")
    if K > 16:
        raise InvalidParameter(f"brute force over 2^{K} subsets is too large (K <= 16)")
    sc = _Cached(score)
    full = (1 << K) - 1
    subsets = [frozenset(c for c in range(K) if m >> c & 1) for m in range(full + 1)]
    table = np.array([[sc(subsets[m])[f] for m in range(full + 1)] for f in factors])
    F = len(factors)
    # best[i][m]: max sum for factors i.. covering exactly the channel set m
    best = np.full((F + 1, full + 1), -np.inf)
    choice = np.zeros((F + 1, full + 1), dtype=np.int64)
    best[F][0] = 0.0
    for i in range(F - 1, -1, -1):
        for m in range(full + 1):
            sub, bv, bs = m, -np.inf, 0
            while True:                     # every submask `sub` of m, largest first
                v = table[i][sub] + best[i + 1][m ^ sub]
                if v > bv or (v == bv and sub < bs):
                    bv, bs = v, sub
                if sub == 0:
                    break
                sub = (sub - 1) & m
            best[i][m], choice[i][m] = bv, bs
    assign, m = [None] * K, full
    for i, f in enumerate(factors):
        for c in subsets[choice[i][m]]:
            assign[c] = f
        m ^= choice[i][m]
    return _result(assign, factors, sc, len(sc.cache))


def greedy_exploration(score: Callable, n_channels: int, factors: Sequence, *,
                       criterion: str = "accuracy") -> ExplorationResult:
    """Hason's (2024) greedy exploration (module doc): tie channel c to argmax_f a_f({c})
    (``criterion="accuracy"``) or argmax_f a_f({c}) − a_f(∅) (``"gain"``); ties → first factor."""
    if criterion not in CRITERIA:
        raise InvalidParameter(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    K, factors = int(n_channels), list(factors)
    if K < 1 or not factors:
        raise InvalidParameter("need at least one channel and one factor")
    sc = _Cached(score)
    base = sc(()) if criterion == "gain" else {f: 0.0 for f in factors}
    assign, per = [], {}
    for c in range(K):
        s = sc((c,))
        per[c] = {f: float(s[f]) for f in factors}
        vals = [s[f] - base[f] for f in factors]
        assign.append(factors[int(np.argmax(vals))])
    return _result(assign, factors, sc, len(sc.cache), per)


def factorial_scorer(model, judge, sequences, static_factors: Sequence, *, n: int | None = None, rng=None,
                     partner=None, batch_size: int = 32) -> Callable:
    """score(subset) → {f: a_f(subset)} for a model with ``recombine`` (see
    :func:`neural.koopman.metrics.evaluate_swaps`): x keeps the static channels in ``subset``, every
    other static channel and all dynamics come from the partner y. The model runs in eval mode
    (:func:`neural.koopman.metrics.eval_mode`) at creation and in every call, whatever the caller's
    mode, which is restored."""
    seqs = np.asarray(getattr(sequences, "sequences", sequences), dtype=np.float32)
    gen = as_rng(rng)
    if n is not None and n < len(seqs):
        seqs = seqs[np.sort(gen.permutation(len(seqs))[:n])]
    partner = derangement(len(seqs), gen) if partner is None else np.asarray(partner, dtype=np.int64)
    with eval_mode(model):
        if callable(getattr(model, "prepare_evaluation", None)):
            model.prepare_evaluation(torch.as_tensor(seqs, dtype=torch.float32).to(model_device(model)))
        orig = judge.predict(seqs)
        K = int(model.n_static_channels)
        factors = list(static_factors)
        pairs = PairedRecombiner(model, seqs, partner, batch_size)

    def score(subset) -> dict:
        with eval_mode(model):
            return swap_agreement(judge.predict(pairs(complement_channels(sorted(subset), K), True)), orig,
                                  factors)

    return score


@dataclass(frozen=True, eq=False)
class ExplorationChoice:
    """What :func:`explore_static_channels` chose: ``chosen`` (the exploration used), ``how``
    (``"brute force"``, ``"greedy (2^s > 4096)"`` or ``"greedy"``), and the ``greedy`` and
    ``brute`` results when they were computed (``None`` otherwise)."""

    chosen: ExplorationResult
    how: str
    greedy: ExplorationResult | None
    brute: ExplorationResult | None


def explore_static_channels(model, score: Callable, factors: Sequence, *,
                            check_max_channels: int = 0) -> ExplorationChoice:
    """The exploration rule of ``model``'s kind (module doc) over its ``n_static_channels``.

    SKD (any model but SSM-SKD): brute force when 2^K ≤ :data:`BRUTE_FORCE_LIMIT`, else greedy.
    SSM-SKD: greedy (Hason's (2024) rule); the brute-force optimum is also computed, as a check,
    when K ≤ ``check_max_channels``.
    """
    from .ssm_skd import SSMSKD

    K = int(model.n_static_channels)
    if isinstance(model, SSMSKD):
        greedy = greedy_exploration(score, K, factors)
        brute = brute_force_exploration(score, K, factors) if K <= check_max_channels else None
        return ExplorationChoice(greedy, "greedy", greedy, brute)
    if 2 ** K <= BRUTE_FORCE_LIMIT:
        brute = brute_force_exploration(score, K, factors)
        return ExplorationChoice(brute, "brute force", None, brute)
    greedy = greedy_exploration(score, K, factors)
    return ExplorationChoice(greedy, f"greedy (2^s > {BRUTE_FORCE_LIMIT})", greedy, None)
