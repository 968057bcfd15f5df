"""The bridge says when a score rests on a collapsed code: a VAE whose posterior means do not vary
over the data (KL ≈ 0) is flagged by the declared active-unit rule (Var_x E[z|x] > 0.01, Burda et
al. 2016) and its successes are not claimed; an active code is not flagged; a plain encoder
function (no posterior) is not judged."""

import numpy as np
import torch

from neural.bridge import ACTIVE_UNIT_VARIANCE, evaluate_latents
from neural.data import make_dsprites
from neural.models import BetaVAE


class _Scaled(torch.nn.Module):
    """Posterior means of ``model`` multiplied by ``scale`` (variances unchanged)."""

    def __init__(self, model, scale):
        super().__init__()
        self.model, self.scale = model, scale

    def encode_distribution(self, x):
        mean, logvar = self.model.encode_distribution(x)
        return self.scale * mean, logvar

    def encode(self, x):
        return self.encode_distribution(x)[0]


def _setup():
    torch.manual_seed(0)
    return make_dsprites(300, rng=0), BetaVAE(beta=4.0, latent_dim=4)


def test_a_collapsed_code_is_flagged_and_no_success_is_claimed():
    data, model = _setup()
    collapsed = _Scaled(model, 1e-4)
    res = evaluate_latents(collapsed, data, n_samples=None, factors=["scale", "pos_x", "pos_y"],
                           shrinkage="ledoit_wolf", true_grouping=[[0], [1], [2]], rng=0)
    var = np.var(res.latents, axis=0)
    assert np.all(var <= ACTIVE_UNIT_VARIANCE)                # the independent reading of the rule
    assert res.active == (False,) * 4 and res.collapsed
    text = res.summary()
    assert "COLLAPSED CODE" in text and "success: not claimed" in text
    assert "success: success" not in text


def test_an_active_code_is_not_flagged_and_plain_functions_are_not_judged():
    data, model = _setup()
    loud = _Scaled(model, 1e3)
    res = evaluate_latents(loud, data, n_samples=None, factors=["scale", "pos_x", "pos_y"],
                           shrinkage="ledoit_wolf", rng=0)
    expected = tuple(bool(v) for v in np.var(res.latents, axis=0) > ACTIVE_UNIT_VARIANCE)
    assert res.active == expected and any(expected) and not res.collapsed
    assert "COLLAPSED" not in res.summary()
    plain = evaluate_latents(lambda x: x.reshape(len(x), -1)[:, :3] + 0.0, data, n_samples=None,
                             factors=["scale", "pos_x"], shrinkage="ledoit_wolf", rng=0)
    assert plain.active is None and not plain.collapsed
