"""The decoder-noise declarations against the solver: at γ < 1, λ = 0 a family declared to
collapse reaches the collapsed loss γ·NLL*(Σ_Y) (closed form) with KL ≈ 0 on every scenario, and
a family declared not to collapse beats its own collapsed loss on a scenario with dependent
features (so collapse is not forced there); ``well_posedness`` says "collapse" exactly for the
declared families."""

import numpy as np
import pytest

import lingauss as lg
from lingauss.noise_families import decoder_noise_families

LEARNED = [f for f in decoder_noise_families().values() if f.learned]


def _collapsed_nll(name, S):
    """NLL of the collapsed encoder (X ⟂ Y): Y ~ N(0, Σ_Z) with the family's best Σ_Z."""
    n = S.shape[0]
    if name == "full":
        return 0.5 * (n * np.log(2 * np.pi) + np.linalg.slogdet(S)[1] + n)
    if name == "diagonal":
        return 0.5 * (np.sum(np.log(2 * np.pi * np.diag(S))) + n)
    return 0.5 * (n * np.log(2 * np.pi * np.trace(S) / n) + n)


@pytest.mark.parametrize("family", LEARNED, ids=lambda f: f.name)
@pytest.mark.parametrize("gamma", [0.9, 0.99])
def test_collapse_below_one_matches_the_solver(family, gamma):
    for index in (1, 2):
        sc = lg.talk_scenario((3, 4, 3), index)
        S = sc.model.sigma_y
        r = lg.blahut_arimoto(sc.model, sc.n_latents, gamma=gamma, lam=0.0,
                              decoder_noise=family.name, rng=0, max_iter=20000)
        collapsed = gamma * _collapsed_nll(family.name, S)
        assert r.loss.total <= collapsed + 1e-6             # never worse than collapsing
        if family.collapse_below_one:
            assert r.loss.total == pytest.approx(collapsed, abs=1e-6) and r.loss.kl < 1e-6
        elif index == 2:                                    # dependent features: no collapse
            assert r.loss.total < collapsed - 0.05 and r.loss.kl > 0.1
        verdict = lg.well_posedness(gamma, 0.0, family.name)
        assert (verdict.regime == "collapse") == family.collapse_below_one
