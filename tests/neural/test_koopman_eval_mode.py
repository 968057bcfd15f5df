"""Swap evaluation and the factorial scorer run the model in eval mode whatever the caller's mode."""

import numpy as np
import torch

from neural.koopman import SKD, SSMSKD, evaluate_swaps, factorial_scorer

TINY = dict(channels=(4, 4), hidden=8, in_channels=1, image_size=16)


class _BrightnessJudge:
    factor_names = ("s", "d")
    static = {"s": True, "d": False}
    cardinalities = {"s": 2, "d": 2}

    def predict(self, seqs):
        seqs = np.asarray(seqs)
        m = seqs.mean((2, 3, 4))                                       # (N, T)
        return {"s": (m.mean(1) > np.median(m)).astype(int), "d": (m > np.median(m)).astype(int)}


def _seqs():
    x = torch.zeros(6, 4, 1, 16, 16)
    for i in range(6):
        for t in range(4):
            x[i, t, 0, 2 + 2 * t:6 + 2 * t, 1 + 2 * i:5 + 2 * i] = 0.3 + 0.1 * i
    return x.numpy()


def test_swaps_and_scorer_use_eval_mode_and_restore_the_callers_mode():
    x = _seqs()
    for cls, kw in ((SKD, dict(k=4, n_static=2)), (SSMSKD, dict(k=4))):
        torch.manual_seed(0)
        m = cls(**kw, **TINY)
        m.train()
        with torch.no_grad():
            m.loss(torch.as_tensor(x))                      # non-trivial batch-norm running statistics
        bn = [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]
        stats = [b.running_mean.clone() for b in bn]
        partner = np.roll(np.arange(6), 1)
        m.train()
        ev_train = evaluate_swaps(m, _BrightnessJudge(), x, groups={"s": [0]}, partner=partner)
        assert m.training                                   # the caller's mode is restored
        for b, s in zip(bn, stats):                         # no batch-norm statistics were updated
            torch.testing.assert_close(b.running_mean, s)
        m.eval()
        ev_eval = evaluate_swaps(m, _BrightnessJudge(), x, groups={"s": [0]}, partner=partner)
        assert not m.training
        assert ev_train.static_swap == ev_eval.static_swap and ev_train.factorial == ev_eval.factorial
        m.train()
        score = factorial_scorer(m, _BrightnessJudge(), x, ["s"], partner=partner)
        m.train()
        a = score({0})
        assert m.training
        m.eval()
        assert a == score({0}) == factorial_scorer(m, _BrightnessJudge(), x, ["s"], partner=partner)({0})
