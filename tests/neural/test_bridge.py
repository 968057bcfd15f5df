"""neural.bridge: hand-built representations whose covariance and I_m grouping are known."""

import numpy as np
import pytest

import lingauss as lg
from neural.bridge import encode_dataset, evaluate_latents
from neural.data import FactorDataset


def _linear_dataset(scenario, n, seed=0):
    """'Images' that are the observations y (N, 1, 1, n) of a lingauss model, factors v."""
    v, y = scenario.model.sample(n, seed)
    k = scenario.model.s
    return FactorDataset(images=y.reshape(n, 1, 1, -1).astype(np.float32), factors=v,
                         factor_names=tuple(f"v{j + 1}" for j in range(k)),
                         factor_kinds=("continuous",) * k, cardinalities=(0,) * k), y


@pytest.mark.parametrize("k", [1, 2, 3])
def test_bridge_recovers_the_closed_form_covariance_and_grouping(k):
    sc = lg.talk_scenario((3, 4, 3), k)
    ba = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    data, _ = _linear_dataset(sc, 40_000)

    def encode(x):                                        # deterministic encoder x = B y
        return x.reshape(len(x), -1).astype(np.float64) @ ba.B.T

    res = evaluate_latents(encode, data, n_samples=None, metrics=("im", "sap", "gaussian_mig"),
                           true_grouping=sc.true_grouping)
    # the population covariance of [By; v] is the model's joint covariance with Σ_W → 0
    exact = sc.model.joint_covariance(ba.B, 1e-12 * np.eye(3))
    np.testing.assert_allclose(res.joint_cov, exact, atol=0.03)
    closed = lg.im_score(exact, 3)
    assert res.im.grouping == closed.grouping
    assert res.im.score == pytest.approx(closed.score, rel=0.05)
    assert res.sap.grouping == lg.sap_score(exact, 3).grouping
    assert res.success["im"].outcome == lg.im_success(closed, sc.true_grouping).outcome
    assert "gaussian_mig" in res.metrics and res.factor_names == ("v1", "v2", "v3")


def test_a_torch_module_and_a_numpy_callable_give_the_same_latents():
    torch = pytest.importorskip("torch")
    sc = lg.talk_scenario((3, 4, 3), 2)
    data, y = _linear_dataset(sc, 500)
    lin = torch.nn.Linear(4, 3, bias=False)
    W = lin.weight.detach().numpy().astype(np.float64)
    z_torch = encode_dataset(torch.nn.Sequential(torch.nn.Flatten(), lin), data.images, batch_size=64)
    z_np = encode_dataset(lambda x: x.reshape(len(x), -1) @ W.T, data.images, batch_size=1000)
    np.testing.assert_allclose(z_torch, z_np, rtol=1e-5, atol=1e-5)


def test_an_object_with_encode_is_used_and_subsampling_is_seeded():
    sc = lg.talk_scenario((3, 4, 3), 1)
    data, _ = _linear_dataset(sc, 2000)

    class Model:
        calls = 0

        def encode(self, x):
            Model.calls += 1
            return x.reshape(len(x), -1)[:, :3] * 2.0

    a = evaluate_latents(Model(), data, n_samples=300, rng=5)
    b = evaluate_latents(Model(), data, n_samples=300, rng=5)
    assert Model.calls > 0 and np.array_equal(a.index, b.index) and len(a.index) == 300
    assert a.im.grouping == ((0,), (1,), (2,))             # identity code of independent factors


def test_constant_factors_are_dropped_and_dead_latents_are_reported():
    sc = lg.talk_scenario((3, 4, 3), 1)
    data, _ = _linear_dataset(sc, 1000)
    factors = data.factors.copy()
    factors[:, 1] = 3.0
    data = FactorDataset(data.images, factors, data.factor_names, data.factor_kinds, data.cardinalities)
    res = evaluate_latents(lambda x: x.reshape(len(x), -1)[:, :3], data, n_samples=None)
    assert res.dropped_factors == ("v2",) and res.factor_names == ("v1", "v3")
    assert res.joint_cov.shape == (5, 5)
    with pytest.raises(ValueError, match="constant"):
        evaluate_latents(lambda x: np.zeros((len(x), 2)), data, n_samples=None)


@pytest.mark.parametrize("kwargs, text", [
    ({"metrics": ("im", "nope")}, "metrics"), ({"metrics": ()}, "metrics"),
    ({"n_samples": 1}, "n_samples"), ({"factors": ["speed"]}, "factors"),
    ({"batch_size": 0}, "batch_size"),
])
def test_bad_arguments_name_themselves(kwargs, text):
    data, _ = _linear_dataset(lg.talk_scenario((3, 4, 3), 1), 100)
    with pytest.raises(ValueError, match=text):
        evaluate_latents(lambda x: x.reshape(len(x), -1)[:, :3], data, **kwargs)


def test_encoder_output_is_checked():
    data, _ = _linear_dataset(lg.talk_scenario((3, 4, 3), 1), 100)
    with pytest.raises(ValueError, match="NaN"):
        encode_dataset(lambda x: np.full((len(x), 2), np.nan), data.images)
    with pytest.raises(ValueError, match=r"\(N, m\)"):
        encode_dataset(lambda x: np.zeros((3, 2)), data.images)
