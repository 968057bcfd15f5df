"""Floors of D_sd / D_mf on a hand-built case, κ by Monte Carlo, and the ground-truth-swap ceiling."""

import numpy as np
import pytest

from neural.koopman import judge_consistency, trivial_floors
from neural.koopman.floors import ground_truth_swaps


def test_floors_on_a_hand_built_case():
    # one static factor "a" (2 classes, judge accuracy 0.8), one dynamic "b" (4 classes, accuracy 1)
    fl = trivial_floors(["a"], ["b"], {"a": 2, "b": 4}, {"a": 0.8, "b": 1.0})
    # identity: every agreement 1 -> D_sd = 1 - (|1 - 1/2| + |1 - 1/4|)/4, D_mf = 1 - |1 - 1/4|/2
    assert fl.d_sd["identity/identity"] == pytest.approx(1 - 1.25 / 4)
    assert fl.d_mf["identity"] == pytest.approx(0.625)
    # partner: agreements 1/2, 1/4 -> D_sd = 1 - (|1/4 - 1| + |1/2 - 1|)/4, D_mf = 1 - |1/2 - 1|/2
    assert fl.d_sd["partner/partner"] == pytest.approx(0.6875)
    assert fl.d_mf["partner"] == pytest.approx(0.75)
    # random: kappa_a = 0.64 + 0.04 = 0.68, r_a = (0.68 + 0.5)/2 = 0.59; r_b = (1 + 0.25)/2 = 0.625
    assert fl.agreements["random"] == pytest.approx({"a": 0.59, "b": 0.625})
    assert fl.d_sd["random/random"] == pytest.approx(1 - (0.09 + 0.375 + 0.41 + 0.375) / 4)
    # the behaviours mix: "everything dynamic" (static swap changes nothing, dynamic swap returns
    # the partner) costs only the static factor's 1 - 1/2 twice: 1 - (0.5 + 0.5)/4 = 0.75
    assert fl.d_sd["identity/partner"] == pytest.approx(0.75)
    assert fl.d_sd["partner/identity"] == pytest.approx(1 - (0.75 + 0.75) / 4)
    assert fl.d_mf["random"] == pytest.approx(1 - (0.41 + 0.375) / 2)
    # strongest here: the coin for the static swap (|0.59 - 1/2| + |0.625 - 1|) with the partner for
    # the dynamic swap (|1/2 - 1|): 1 - (0.09 + 0.375 + 0.5)/4
    assert fl.d_sd["random/partner"] == pytest.approx(1 - (0.09 + 0.375 + 0.5) / 4)
    assert fl.floor_d_sd == pytest.approx(0.75875) and fl.floor_d_sd_strategy == "random/partner"
    assert fl.floor_d_mf == pytest.approx(0.75) and fl.floor_d_mf_strategy == "partner"


def test_the_issue_floors_of_moving_dsprites():
    # shape 3, colour 6, scale 6, positions 32: "swaps nothing" D_sd ~ 0.57, "partner" D_mf ~ 0.84
    cards = {"shape": 3, "colour": 6, "scale": 6, "pos_x": 32, "pos_y": 32}
    fl = trivial_floors(["shape", "colour", "scale"], ["pos_x", "pos_y"], cards, dict.fromkeys(cards, 1.0))
    assert fl.d_sd["identity/identity"] == pytest.approx(1 - (2 / 3 + 5 / 6 + 5 / 6 + 2 * 31 / 32) / 10)
    assert fl.d_mf["partner"] == pytest.approx(1 - (2 / 3 + 5 / 6 + 5 / 6) / 15)


def test_judge_consistency_by_monte_carlo():
    rng = np.random.default_rng(0)
    a, c, n = 0.7, 5, 400_000
    true = rng.integers(0, c, n)

    def judge(t):
        wrong = (t + rng.integers(1, c, n)) % c           # uniform over the c - 1 wrong classes
        return np.where(rng.random(n) < a, t, wrong)

    agree = np.mean(judge(true) == judge(true))
    assert abs(agree - judge_consistency(a, c)) < 4 * np.sqrt(0.5 / n)
    with pytest.raises(ValueError, match="n_classes"):
        judge_consistency(0.5, 1)
    with pytest.raises(ValueError, match="judge_accuracy"):
        trivial_floors(["a"], [], {"a": 2}, {"a": 1.5})


class _TrueJudge:
    """Reads the factors back exactly from the frames the stand-in renderer draws."""

    factor_names = ("a", "b")
    static = {"a": True, "b": False}
    cardinalities = {"a": 3, "b": 4}

    def predict(self, seqs):
        seqs = np.asarray(seqs)
        return {"a": np.rint(seqs[:, 0, 0, 0, 0]).astype(int), "b": np.rint(seqs[:, :, 0, 0, 1]).astype(int)}


def test_perfect_judges_on_ground_truth_swaps_score_the_closed_form():
    from neural.data import SequenceDataset

    def render(f):                                         # (M, 2) -> (M, 1, 1, 2): pixels = classes
        return np.asarray(f, dtype=np.float32)[:, None, None, :]

    rng = np.random.default_rng(1)
    N, T = 600, 3
    a = rng.integers(0, 3, N)
    b = rng.integers(0, 4, (N, T))
    fac = np.stack([np.repeat(a[:, None], T, 1), b], -1).astype(float)
    data = SequenceDataset(render(fac.reshape(-1, 2)).reshape(N, T, 1, 1, 2), fac, ("a", "b"),
                           ("discrete",) * 2, (3, 4), (True, False))
    ev = ground_truth_swaps(render, _TrueJudge(), data, rng=0)
    # the static swap changes a (agreement = P(a_x = a_y) ~ 1/3) and keeps b exactly; dynamic swap
    # the reverse; with uniform factors both terms of D_sd sit at their targets up to sampling noise
    assert ev.static_swap["b"] == 1.0 and ev.dynamic_swap["a"] == 1.0
    assert abs(ev.static_swap["a"] - 1 / 3) < 0.06 and abs(ev.dynamic_swap["b"] - 1 / 4) < 0.04
    assert ev.d_sd > 0.95 and ev.d_mf > 0.95
