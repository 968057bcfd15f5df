"""D_sd / D_mf on a hand-built judge, the latent exploration (greedy vs brute force), static I_m/SAP."""

import itertools
from fractions import Fraction

import numpy as np
import pytest

from neural.data import SequenceDataset
from neural.koopman import (as_mask, brute_force_exploration, d_mf, d_sd, derangement, evaluate_swaps,
                            factorial_scorer, greedy_exploration, static_channel_metrics)


# A hand-built world: a "frame" is three pixels (a, b, d): static factors a (2 classes) and
# b (3 classes), dynamic factor d (2 classes, per frame). The model has two static channels
# (pixel 0 ↔ a, pixel 1 ↔ b) and swaps exactly what it is told; the judge reads the pixels.

A = [0, 0, 1, 1]
B = [0, 1, 2, 0]
D = [[0, 1], [1, 1], [0, 0], [1, 0]]
PARTNER = np.array([1, 2, 3, 0])


def _world():
    x = np.zeros((4, 2, 1, 1, 3), dtype=np.float32)
    for i in range(4):
        x[i, :, 0, 0, 0], x[i, :, 0, 0, 1], x[i, :, 0, 0, 2] = A[i], B[i], D[i]
    return x


class PixelModel:
    n_static_channels = 2

    def __init__(self, stuck=()):
        self.stuck = set(stuck)          # static channels that never swap (a leaky model)

    def recombine(self, x, y, static_from_y=None, dynamic_from_y=False):
        out = x.clone()
        mask = as_mask(static_from_y, 2)
        for c in range(2):
            if mask[c] and c not in self.stuck:
                out[..., c] = y[..., c]
        if dynamic_from_y:
            out[..., 2] = y[..., 2]
        return out


class PixelJudge:
    factor_names = ("a", "b", "d")
    static = {"a": True, "b": True, "d": False}
    cardinalities = {"a": 2, "b": 3, "d": 2}

    def predict(self, seqs):
        s = np.asarray(seqs)
        return {"a": s[:, 0, 0, 0, 0].astype(int), "b": s[:, 0, 0, 0, 1].astype(int),
                "d": s[:, :, 0, 0, 2].astype(int)}


def test_formulas_on_hand_values():
    cards = {"a": 2, "b": 3, "d": 2}
    ss = {"a": 0.5, "b": 0.25, "d": 1.0}
    ds = {"a": 1.0, "b": 1.0, "d": 0.25}
    # 1 − (|.5−.5| + |.25−1/3| + |1−1| + |1−1| + |1−1| + |.25−.5|) / (2·3) = 1 − (1/12 + 1/4)/6
    assert d_sd(ss, ds, ["a", "b"], ["d"], cards) == pytest.approx(17 / 18)
    perfect = d_sd({"a": 0.5, "b": 1 / 3, "d": 1}, {"a": 1, "b": 1, "d": 0.5}, ["a", "b"], ["d"], cards)
    assert perfect == pytest.approx(1.0)
    fact = {"a": {"a": 1.0, "b": 0.25, "d": 0.25}, "b": {"a": 0.5, "b": 1.0, "d": 0.25}}
    assert d_mf(fact, ["a", "b"], ["d"], cards) == pytest.approx(65 / 72)
    with pytest.raises(ValueError, match="cardinalities"):
        d_sd(ss, ds, ["a", "b"], ["d"], {"a": 2})
    with pytest.raises(ValueError, match="static"):
        d_mf(fact, [], ["d"], cards)


def test_evaluate_swaps_with_hand_built_judge_gives_hand_computed_values():
    ev = evaluate_swaps(PixelModel(), PixelJudge(), _world(), groups={"a": [0], "b": [1]}, partner=PARTNER)
    # agreements with the partner: a 2/4, b 1/4, d 2/8 (see the data)
    assert ev.static_swap == {"a": 0.5, "b": 0.25, "d": 1.0}
    assert ev.dynamic_swap == {"a": 1.0, "b": 1.0, "d": 0.25}
    assert ev.factorial == {"a": {"a": 1.0, "b": 0.25, "d": 0.25}, "b": {"a": 0.5, "b": 1.0, "d": 0.25}}
    assert ev.d_sd == pytest.approx(17 / 18) and ev.d_mf == pytest.approx(65 / 72)
    assert ev.static_factors == ("a", "b") and ev.dynamic_factors == ("d",)
    # wrong channel groups: FSS_a keeps b's channel and FSS_b keeps a's
    wrong = evaluate_swaps(PixelModel(), PixelJudge(), _world(), groups={"a": [1], "b": [0]}, partner=PARTNER)
    assert wrong.d_mf == pytest.approx(float(1 - Fraction(35, 72)))
    # a leaky model whose channel 1 never swaps: b survives the static swap (agreement 1)
    leaky = evaluate_swaps(PixelModel(stuck=[1]), PixelJudge(), _world(), partner=PARTNER)
    assert leaky.static_swap["b"] == 1.0 and leaky.d_mf is None
    # 1 − (0 + |1 − 1/3| + 0 + 0 + 0 + 0.25) / 6
    assert leaky.d_sd == pytest.approx(1 - (2 / 3 + 0.25) / 6)
    with pytest.raises(ValueError, match="partner"):
        evaluate_swaps(PixelModel(), PixelJudge(), _world(), partner=np.arange(4))


def test_derangement_has_no_fixed_points_and_is_seeded():
    p = derangement(50, 3)
    assert np.all(p != np.arange(50)) and sorted(p.tolist()) == list(range(50))
    assert np.array_equal(p, derangement(50, 3))


def _separable(alpha, base):
    def score(subset):
        return {f: base[j] + sum(alpha[c][j] for c in subset) for j, f in enumerate("fgh"[:len(base)])}
    return score


def _enumerate_best(score, K, factors):
    best = -np.inf
    for assign in itertools.product(range(len(factors)), repeat=K):
        tot = sum(score([c for c in range(K) if assign[c] == j])[f] for j, f in enumerate(factors))
        best = max(best, tot)
    return best


@pytest.mark.parametrize("seed", range(5))
def test_greedy_reaches_the_brute_force_optimum_on_separable_accuracies(seed):
    rng = np.random.default_rng(seed)
    K, factors = 5, ["f", "g", "h"]
    alpha = rng.uniform(0, 0.2, size=(K, 3))
    equal = _separable(alpha, [0.3, 0.3, 0.3])
    bf = brute_force_exploration(equal, K, factors)
    assert bf.total == pytest.approx(_enumerate_best(equal, K, factors))
    assert bf.evaluations == 2 ** K
    for criterion in ("accuracy", "gain"):
        gr = greedy_exploration(equal, K, factors, criterion=criterion)
        assert gr.total == pytest.approx(bf.total) and gr.evaluations <= K + 1
    unequal = _separable(alpha, [0.5, 0.1, 0.3])
    bf2 = brute_force_exploration(unequal, K, factors)
    assert greedy_exploration(unequal, K, factors, criterion="gain").total == pytest.approx(bf2.total)
    assert greedy_exploration(unequal, K, factors).total <= bf2.total + 1e-12


def test_seed_greedy_rule_can_miss_with_unequal_baselines_but_gain_does_not():
    score = _separable([[0.1, 0.2]], [0.5, 0.0])          # one channel, factors f (b=.5), g (b=0)
    assert greedy_exploration(score, 1, ["f", "g"]).assignment == ("f",)
    assert greedy_exploration(score, 1, ["f", "g"], criterion="gain").assignment == ("g",)
    assert brute_force_exploration(score, 1, ["f", "g"]).assignment == ("g",)


def test_exploration_on_the_hand_built_model_finds_the_true_channels():
    score = factorial_scorer(PixelModel(), PixelJudge(), _world(), ["a", "b"], partner=PARTNER)
    bf = brute_force_exploration(score, 2, ["a", "b"])
    gr = greedy_exploration(score, 2, ["a", "b"])
    assert bf.groups == gr.groups == {"a": (0,), "b": (1,)}
    assert bf.total == gr.total == pytest.approx(2.0)


class CodeModel:
    """static_codes = the static factors plus a little noise (channel 0 ↔ shape, 1 ↔ size)."""

    def static_codes(self, x):
        return x[:, 0, 0, 0, :2].double() + 0.01 * x[:, 0, 0, 0, 2:4].double()

    def eval(self):
        return self


def test_static_channel_metrics_route_the_codes_through_the_bridge():
    rng = np.random.default_rng(0)
    N = 200
    shape, size = rng.integers(0, 3, N), rng.integers(0, 4, N)
    seq = np.zeros((N, 2, 1, 1, 4), np.float32)
    seq[:, :, 0, 0, 0], seq[:, :, 0, 0, 1] = shape[:, None], size[:, None]
    seq[:, :, 0, 0, 2:] = rng.normal(size=(N, 1, 2))
    fac = np.zeros((N, 2, 3))
    fac[:, :, 0], fac[:, :, 1], fac[:, :, 2] = shape[:, None], size[:, None], rng.integers(0, 5, (N, 2))
    data = SequenceDataset(seq, fac, ("shape", "size", "pos"), ("discrete",) * 3, (3, 4, 5),
                           (True, True, False))
    res = static_channel_metrics(CodeModel(), data)
    assert res.bridge.factor_names == ("shape", "size")
    assert res.sap > 0.97          # sample correlations between the factors are not exactly 0
    assert res.bridge.im.assignment == (0, 1) and res.im > 1.0
