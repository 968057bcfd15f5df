"""Every trivial strategy's D_sd / D_mf by closed form and by Monte Carlo on a hand-built swap simulator.

The simulator is independent of :mod:`neural.koopman.floors`: "frames" carry the factor classes and
a rendering token; a noisy judge reads every class right with probability a_f, else a uniformly
drawn wrong class, deterministically per (token, frame, factor) — so returning x itself gives the
same labels, and any new rendering gets fresh judge errors. Trivial models answer the swap
requests of :func:`neural.koopman.evaluate_swaps` with a fixed behaviour, and the real metric
pipeline scores them.
"""

import itertools

import numpy as np
import pytest
import torch

from neural.koopman import (BEHAVIOURS, NAMED_STRATEGIES, d_mf, d_mf_balanced, d_sd, evaluate_swaps,
                            judge_consistency, trivial_floors)

FS, FD = ("a", "b", "c"), ("m",)
CARDS = {"a": 3, "b": 6, "c": 2, "m": 9}
ACC = {"a": 0.55, "b": 0.8, "c": 0.9, "m": 0.7}
FACTORS = FS + FD
N, T = 6_000, 2


def _uniform(key):
    """splitmix64 of uint64 keys → uniforms in [0, 1): the same key, the same number."""
    with np.errstate(over="ignore"):
        z = key + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / 2.0 ** 53


class NoisyJudge:
    """Reads channel j = class of factor j, channel 4 = rendering token (module doc)."""

    factor_names = FACTORS
    static = {f: f in FS for f in FACTORS}
    cardinalities = CARDS

    def predict(self, seqs):
        x = np.asarray(seqs)[..., 0, 0]                       # (N, T, 5)
        tok = np.rint(x[:, :, 4]).astype(np.int64)
        out = {}
        for j, f in enumerate(FACTORS):
            c = CARDS[f]
            key = (tok.astype(np.uint64) * np.uint64(1_000_003) + np.arange(T, dtype=np.uint64)[None, :]
                   * np.uint64(7_919) + np.uint64(j * 104_729))
            u, v = _uniform(key), _uniform(key ^ np.uint64(0x5DEECE66D))
            true = np.rint(x[:, :, j]).astype(np.int64)
            wrong = (true + 1 + np.floor(v * (c - 1)).astype(np.int64)) % c
            lab = np.where(u < ACC[f], true, wrong)
            out[f] = lab[:, 0] if f in FS else lab
        return out


class Trivial(torch.nn.Module):
    """Answers static swaps with behaviour ``bs``, dynamic and factorial swaps with ``bd``."""

    def __init__(self, bs, bd, seed=0):
        super().__init__()
        self.bs, self.bd, self.n_static_channels = bs, bd, len(FS)
        self.gen = np.random.default_rng(seed)
        self.token = 10 ** 7

    def recombine(self, x, y, static_from_y, dynamic_from_y):
        b = self.bd if dynamic_from_y else self.bs
        x, y = x.numpy(), y.numpy()
        if b == "identity":
            return torch.as_tensor(x)
        if b == "partner":
            out = y.copy()
        else:                                                  # a coin per factor and sequence
            coin = self.gen.random((len(x), 1, 4, 1, 1)) < 0.5
            out = x.copy()
            out[:, :, :4] = np.where(coin, y[:, :, :4], x[:, :, :4])
        fresh = self.token + np.arange(len(x))
        self.token += len(x)
        out[:, :, 4] = fresh[:, None, None, None]              # a new rendering
        return torch.as_tensor(out)


def _data(seed=0):
    g = np.random.default_rng(seed)
    cls = np.stack([g.integers(0, CARDS[f], N) for f in FACTORS], 1)
    seqs = np.zeros((N, T, 5, 1, 1), dtype=np.float32)
    seqs[:, :, :4, 0, 0] = cls[:, None, :]
    seqs[:, :, 4, 0, 0] = np.arange(N)[:, None]
    return seqs


@pytest.fixture(scope="module")
def simulated():
    seqs = _data()
    groups = {f: (i,) for i, f in enumerate(FS)}
    out = {}
    for bs, bd in itertools.product(BEHAVIOURS, BEHAVIOURS):
        out[f"{bs}/{bd}"] = evaluate_swaps(Trivial(bs, bd), NoisyJudge(), seqs, groups=groups, rng=1,
                                           batch_size=4096)
    return out


def _closed_agreement(b, f):
    q = 1 / CARDS[f]
    kappa = ACC[f] ** 2 + (1 - ACC[f]) ** 2 / (CARDS[f] - 1)   # written out, not judge_consistency
    return {"identity": 1.0, "partner": q, "random": (kappa + q) / 2}[b]


def test_agreements_match_the_closed_forms_by_monte_carlo(simulated):
    fl = trivial_floors(FS, FD, CARDS, ACC)
    for key, ev in simulated.items():
        bs, bd = key.split("/")
        for f in FACTORS:
            tol = 4.5 * np.sqrt(0.25 / N)
            assert abs(ev.static_swap[f] - _closed_agreement(bs, f)) < tol, (key, f)
            assert abs(ev.dynamic_swap[f] - _closed_agreement(bd, f)) < tol, (key, f)
            assert fl.agreements[bs][f] == pytest.approx(_closed_agreement(bs, f))


def test_every_d_sd_strategy_matches_its_closed_form_and_monte_carlo(simulated):
    fl = trivial_floors(FS, FD, CARDS, ACC)
    assert set(fl.d_sd) == {f"{a}/{b}" for a in BEHAVIOURS for b in BEHAVIOURS}
    n = len(FACTORS)
    one_minus_q = {f: 1 - 1 / CARDS[f] for f in FACTORS}
    r = {f: _closed_agreement("random", f) for f in FACTORS}
    e_ss = {"identity": sum(one_minus_q[f] for f in FS), "partner": sum(one_minus_q[f] for f in FD),
            "random": sum(abs(r[f] - 1 / CARDS[f]) for f in FS) + sum(1 - r[f] for f in FD)}
    e_ds = {"identity": sum(one_minus_q[f] for f in FD), "partner": sum(one_minus_q[f] for f in FS),
            "random": sum(1 - r[f] for f in FS) + sum(abs(r[f] - 1 / CARDS[f]) for f in FD)}
    for key, ev in simulated.items():
        bs, bd = key.split("/")
        closed = 1 - (e_ss[bs] + e_ds[bd]) / (2 * n)
        assert fl.d_sd[key] == pytest.approx(closed), key
        assert abs(ev.d_sd - closed) < 0.015, (key, ev.d_sd, closed)
    best = max(fl.d_sd, key=fl.d_sd.get)
    assert fl.floor_d_sd == pytest.approx(max(fl.d_sd.values())) and fl.floor_d_sd_strategy == best
    assert fl.floor_d_sd == pytest.approx(max(simulated[k].d_sd for k in simulated), abs=0.015)


def test_every_d_mf_behaviour_matches_its_closed_form_and_monte_carlo(simulated):
    fl = trivial_floors(FS, FD, CARDS, ACC)
    n = len(FACTORS)
    for b in BEHAVIOURS:
        A = {g: _closed_agreement(b, g) for g in FACTORS}
        rows = [(abs(A[f] - 1), [abs(A[g] - 1 / CARDS[g]) for g in FACTORS if g != f]) for f in FS]
        closed = 1 - sum(k + sum(o) for k, o in rows) / (len(FS) * n)
        closed_bal = 1 - 0.5 * (np.mean([k for k, _ in rows]) + np.mean([x for _, o in rows for x in o]))
        assert fl.d_mf[b] == pytest.approx(closed) and fl.d_mf_balanced[b] == pytest.approx(closed_bal)
        ev = simulated[f"identity/{b}"]                 # factorial swaps take the dynamic behaviour
        assert abs(ev.d_mf - closed) < 0.015 and abs(ev.d_mf_balanced - closed_bal) < 0.015, b
    assert fl.floor_d_mf == pytest.approx(max(fl.d_mf.values()))
    assert fl.floor_d_mf_balanced == pytest.approx(max(fl.d_mf_balanced.values()))


def test_degenerate_codes_on_the_sprites_like_table():
    from neural.data import make_sprites_like

    data = make_sprites_like(2, n_frames=2, image_size=16, rng=0)
    names = list(data.factor_names)
    fs = [f for f in ("skin", "hair", "top", "bottom")]
    fd = ["action"]
    cards = {f: int(data.cardinalities[names.index(f)]) for f in fs + fd}
    assert all(data.factor_static[names.index(f)] for f in fs) and not data.factor_static[names.index("action")]
    fl = trivial_floors(fs, fd, cards, dict.fromkeys(cards, 1.0))
    # everything static: static swap returns the partner, dynamic swap changes nothing
    assert fl.d_sd["partner/identity"] == pytest.approx(1 - 2 * (8 / 9) / (2 * 5))
    assert round(fl.d_sd["partner/identity"], 3) == 0.822
    assert NAMED_STRATEGIES["partner/identity"] == "everything static"
    # everything dynamic: the reverse, 1 - 2 * 4 * (5/6) / 10
    assert fl.d_sd["identity/partner"] == pytest.approx(1 - 2 * 4 * (5 / 6) / 10)
    assert fl.floor_d_sd_strategy == "partner/identity"
    # D_mf: the partner's 1 - 4 (5/6) / 20 = 0.833 against a balanced 1 - (5/6)/2
    assert fl.d_mf["partner"] == pytest.approx(1 - 4 * (5 / 6) / 20)
    assert fl.d_mf_balanced["partner"] == pytest.approx(1 - 0.5 * 5 / 6)
    # imperfect judges change neither degenerate code's score (they use no "random" behaviour)
    fl2 = trivial_floors(fs, fd, cards, dict.fromkeys(cards, 0.7))
    assert fl2.d_sd["partner/identity"] == pytest.approx(fl.d_sd["partner/identity"])
    assert fl2.d_sd["random/identity"] != pytest.approx(fl.d_sd["random/identity"])


def test_balanced_d_mf_of_hand_written_agreements():
    cards = {"a": 2, "b": 4, "m": 3}
    acc = {"a": {"a": 0.9, "b": 0.5, "m": 0.2}, "b": {"a": 0.6, "b": 0.7, "m": 1 / 3}}
    diag = (0.1 + 0.3) / 2
    off = (abs(0.5 - 0.25) + abs(0.2 - 1 / 3) + abs(0.6 - 0.5) + 0.0) / 4
    assert d_mf_balanced(acc, ["a", "b"], ["m"], cards) == pytest.approx(1 - 0.5 * (diag + off))
    assert d_mf(acc, ["a", "b"], ["m"], cards) == pytest.approx(1 - (0.1 + 0.3 + 0.25 + (1 / 3 - 0.2) + 0.1) / 6)
    assert d_mf_balanced({"a": {"a": 0.75}}, ["a"], [], {"a": 2}) == pytest.approx(0.75)
    assert judge_consistency(1.0, 5) == 1.0
    assert d_sd({"a": 0.5}, {"a": 1.0}, ["a"], [], {"a": 2}) == 1.0
