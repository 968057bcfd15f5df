"""The exploration rule of each Koopman model (neural.koopman.explore_static_channels), on a score
whose optimum is known by hand."""

import pytest

torch = pytest.importorskip("torch")

from neural.koopman import BRUTE_FORCE_LIMIT, SKD, SSMSKD, explore_static_channels  # noqa: E402

TINY = dict(channels=(4, 4, 8, 8), hidden=16, in_channels=1, image_size=64)
# separable accuracies a_f(S) = b_f + sum_{c in S} alpha_{c,f} with unequal baselines: Hason's (2024)
# greedy rule compares b_f + alpha_{c,f} and ties every channel to "a" (0.6 > 0.3), J = 0.5 + 0.1 k;
# the optimum ties every channel to "b", J = 0.5 + 0.3 k
BASE, ALPHA = {"a": 0.5, "b": 0.0}, {"a": 0.1, "b": 0.3}


def score(subset):
    return {f: BASE[f] + ALPHA[f] * len(subset) for f in BASE}


def test_skd_takes_the_brute_force_optimum():
    ex = explore_static_channels(SKD(k=4, n_static=3, **TINY), score, ["a", "b"])
    assert ex.how == "brute force" and ex.greedy is None and ex.brute is ex.chosen
    assert ex.chosen.groups == {"a": (), "b": (0, 1, 2)}
    assert ex.chosen.total == pytest.approx(0.5 + 0.3 * 3)


def test_skd_falls_back_to_greedy_past_the_limit():
    K = BRUTE_FORCE_LIMIT.bit_length()                  # 2^K > the limit
    ex = explore_static_channels(SKD(k=K + 1, n_static=K, **TINY), score, ["a", "b"])
    assert ex.how == f"greedy (2^s > {BRUTE_FORCE_LIMIT})" and ex.brute is None
    assert ex.chosen.groups["a"] == tuple(range(K)) and ex.chosen.total == pytest.approx(0.5 + 0.1 * K)


def test_ssm_skd_takes_the_greedy_rule_with_an_optional_check():
    model = SSMSKD(k=3, **TINY)
    ex = explore_static_channels(model, score, ["a", "b"])
    assert ex.how == "greedy" and ex.brute is None and ex.chosen is ex.greedy
    assert ex.chosen.groups == {"a": (0, 1, 2), "b": ()} and ex.chosen.total == pytest.approx(0.5 + 0.1 * 3)
    checked = explore_static_channels(model, score, ["a", "b"], check_max_channels=3)
    assert checked.chosen.groups == ex.chosen.groups
    assert checked.brute.total == pytest.approx(0.5 + 0.3 * 3)
